"""Vendor sync: read PackageSubscriber from the vendor's packaging org and show, before anything
changes, which orgs would be added or updated; apply only after a confirmation.

Uses the same plan as `juston-tui org import --from-vendor` (commands.org_import), so the CLI
preview and this screen always agree.
"""

from __future__ import annotations

from typing import Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widgets import Static

from juston_tui.model import Org, now_utc
from juston_tui.salesforce.settings import remember_vendor_versions
from juston_tui.screens.base import JustOnSubScreen
from juston_tui.screens.widgets.fast_table import Column, FastTable, Row
from juston_tui.screens.widgets.key_bar import KeyBar
from juston_tui.screens.widgets.title_bar import TitleBar
from juston_tui.text import clean
from juston_tui.vendor_import import apply_plan, plan_vendor_import

PLAN_COLUMNS = (
    Column("action", "Action", 7),
    Column("org_id", "Org ID", 18),
    Column("name", "Name", 24, grow=True),
    Column("kind", "Type", 10),
    Column("status", "Status", 8),
    Column("instance", "Inst.", 6),
    Column("versions", "Installed", 22),
    Column("changes", "Changes", 22),
)
ACTION_STYLES = {"add": "green", "update": "yellow", "same": "dim"}


class PlanLoaded(Message):
    def __init__(self, plan: list[dict[str, Any]], error: str | None = None,
                 latest: dict[str, Any] | None = None) -> None:
        super().__init__()
        self.plan = plan
        self.error = error
        self.latest = latest or {}  # product -> CurrentVersion read from the packaging org


class PlanApplied(Message):
    def __init__(self, added: int, updated: int, error: str | None = None) -> None:
        super().__init__()
        self.added = added
        self.updated = updated
        self.error = error


def plan_rows(plan: list[dict[str, Any]]) -> list[Row]:
    rows = []
    for item in plan:
        versions = ", ".join(f"{p} {v}" for p, v in sorted((item.get("versions") or {}).items())
                             if v)
        changes = ", ".join(sorted(item.get("changes") or {})) if item["action"] == "update" else ""
        rows.append(Row(item["org_id"], (
            Text(item["action"], style=ACTION_STYLES.get(item["action"], "")),
            Text(item["org_id"]),
            Text(clean(item.get("name"), limit=200)),
            Text(clean(item.get("kind"))),
            Text(clean(item.get("status") or "")),
            Text(clean(item.get("instance") or "")),
            Text(clean(versions)),
            Text(clean(changes)),
        ), ({"add": 0, "update": 1, "same": 2}.get(item["action"], 3),)))
    return rows


class VendorSyncScreen(JustOnSubScreen[bool]):
    """Preview, then apply, the subscriber list of the vendor org."""

    CSS_PATH = "../styles/registry.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back"),
        Binding("y", "apply", "Apply"),
        Binding("r", "reload", "Read again"),
    ]
    EDIT_ACTIONS: ClassVar[frozenset[str]] = frozenset({"apply"})

    def __init__(self, vendor: Org) -> None:
        super().__init__()
        self.vendor = vendor
        self.applied = False  # dismissed with it: the registry reloads when True
        self.plan: list[dict[str, Any]] = []
        self.latest: dict[str, Any] = {}
        self.busy = False

    def compose(self) -> ComposeResult:
        yield TitleBar()
        yield Static(id="vendor-summary")
        yield FastTable(PLAN_COLUMNS, empty_text="Reading PackageSubscriber…", id="vendor-table")
        yield KeyBar()

    def on_mount(self) -> None:
        self.sub_title = f"Vendor sync from {clean(self.vendor.name, limit=60)}"
        self.query_one(FastTable).focus()
        self.action_reload()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "apply":
            if self.read_only:
                return False
            return any(i["action"] in ("add", "update") for i in self.plan) and not self.busy
        return True

    def action_reload(self) -> None:
        if self.busy:
            return
        self.busy = True
        self.query_one("#vendor-summary", Static).update(
            Text(f"Reading the subscriber list of {clean(self.vendor.name, limit=60)}…"))
        self.fetch()

    @work(thread=True, exit_on_error=False, group="vendor-fetch", exclusive=True,
          name="reading the vendor org")
    def fetch(self) -> None:

        try:
            # the Salesforce client (requests): only when an org is contacted
            from juston_tui.salesforce.vendor import fetch_subscribers

            latest: dict[str, Any] = {}
            subscribers = fetch_subscribers(self.vendor, self.juston.get_credentials(),
                                            versions=latest)
            plan = plan_vendor_import(self.store, subscribers, self.vendor.org_id)
        except Exception as exc:  # AccessError / CredentialsUnavailable carry clean messages
            self.post_message(PlanLoaded([], clean(str(exc), limit=300)))
            return
        self.post_message(PlanLoaded(plan, latest=latest))

    @on(PlanLoaded)
    def _loaded(self, event: PlanLoaded) -> None:
        self.busy = False
        self.plan = event.plan
        self.latest = event.latest
        table = self.query_one(FastTable)
        table.empty_text = "The vendor org lists no installed subscribers."
        table.set_rows(plan_rows(self.plan))
        table.sort_by("action")
        summary = Text()
        if event.error:
            summary.append("Cannot read the vendor org: ", style="bold red")
            summary.append(event.error)
            table.empty_text = "Nothing read (r tries again)."
            table.set_rows([])
        else:
            counts = {a: sum(1 for i in self.plan if i["action"] == a)
                      for a in ("add", "update", "same")}
            summary.append(f"{counts['add']} to add", style="green")
            summary.append(" · ")
            summary.append(f"{counts['update']} to update", style="yellow")
            summary.append(f" · {counts['same']} unchanged. ")
            summary.append("Nothing has changed yet: y applies after a confirmation.",
                           style="bold")
        self.query_one("#vendor-summary", Static).update(summary)
        self.refresh_bindings()

    def action_apply(self) -> None:
        changes = [i for i in self.plan if i["action"] in ("add", "update")]
        if not changes or self.busy:
            return
        # a modal, loaded when first opened (start-up: each screen module ~10-80 ms)
        from juston_tui.screens.confirm import ConfirmScreen

        added = sum(1 for i in changes if i["action"] == "add")
        question = (f"Add {added} and update {len(changes) - added} org(s) from the vendor "
                    "org's subscriber list?")

        def answered(yes: bool | None) -> None:
            if yes:
                self.busy = True
                self.apply(changes)

        self.app.push_screen(ConfirmScreen(question, yes="Apply"), answered)

    @work(thread=True, exit_on_error=False, group="vendor-apply", name="applying vendor sync")
    def apply(self, changes: list[dict[str, Any]]) -> None:

        store = self.store
        try:
            added, updated = apply_plan(store, changes)
            # The packaging org's latest released versions become what "current" means.
            remember_vendor_versions(store, self.latest, self.vendor.org_id,
                                     now_utc().strftime("%Y-%m-%dT%H:%M:%SZ"))
        except Exception as exc:
            self.post_message(PlanApplied(0, 0, clean(str(exc), limit=300)))
            return
        self.post_message(PlanApplied(added, updated))

    @on(PlanApplied)
    def _applied(self, event: PlanApplied) -> None:
        self.busy = False
        if event.error:
            self.notify(event.error, markup=False, title="Vendor sync", severity="error",
                        timeout=10)
            return
        self.notify(f"Added {event.added}, updated {event.updated} org(s).", timeout=5)
        for item in self.plan:
            if item["action"] in ("add", "update"):
                item["action"] = "same"
        self.query_one(FastTable).set_rows(plan_rows(self.plan))
        self.refresh_bindings()
        self.applied = True

    def action_back(self) -> None:
        self.dismiss(self.applied)
