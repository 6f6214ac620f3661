"""Screen 3: who may use the "JustOn Platform" connected app in every org (seed 001).

Per org, from the last snapshot: the connected_app.* checks (their verdicts decide the row's
verdict, the SysAdmin column and what is marked red) and, as plain information, what was read
(the Permitted Users setting, the profiles and permission sets with access, in the org's own
language). The highlighted org shows the checks' reasons, the seed's remediation steps word for
word and what users see when it is wrong.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.message import Message
from textual.widgets import Static

from juston_tui.model import Org
from juston_tui.screens.base import JustOnScreen
from juston_tui.screens.messages import RefreshFinished, SnapshotArrived, StoreChanged
from juston_tui.screens.registry_data import (
    STALE_AFTER,
    app_now,
    format_age,
    parse_time,
)
from juston_tui.screens.registry_refresh import run_sweep
from juston_tui.screens.widgets.fast_table import Column, FastTable, Row, verdict_style
from juston_tui.screens.widgets.filter_box import FilterBox
from juston_tui.text import clean, fold, matches, search_terms

USER_ERROR = "Platform not available, please contact customer support if the problem persists!"
SETUP_PATH = "Setup > Apps > Connected Apps > Manage Connected Apps"
# Seed 001, "Enabling App Access for JustOn Platform", word for word.
REMEDIATION = """\
To enable access to the connected app JustOn Platform for all relevant profiles:

  1. Click to enter Setup, then navigate to Apps > Connected Apps > Manage Connected Apps.
  2. Click Edit in the row of JustOn Platform.
  3. In the Permitted Users field, select Admin approved users are pre-authorized.

     Confirm the selection when prompted.

  4. Click Save.

     This will prevent all users from accessing JustOn Platform, including org admins.

  5. On the Connected Apps list, click JustOn Platform.

     This displays the app detail page.

  6. Add the intended profile.

     1. In the Profiles section, click Manage Profiles.
     2. Select the relevant profile, at least, System Administrator.
     3. Click Save.

JustOn Billing & Invoice Management allows only users with the associated profile to access \
the app, which relies on the option Admin approved users are pre-authorized in the Permitted \
Users field. Leaving the default value All users may self-authorize will prevent users from \
accessing the app and produce the following error when they try to execute relevant business \
logic:"""

# The org stays put while -> scrolls the rest; Age (of the last check) comes early so it shows
# at 80 columns too.
ACCESS_COLUMNS = (
    Column("name", "Org", 22, grow=True, frozen=True),
    Column("verdict", "Verdict", 13),
    Column("age", "Age", 5, justify="right"),
    Column("permitted", "Permitted users", 15),
    Column("sysadmin", "SysAdmin", 8),
    Column("profiles", "Profiles", 22),
    Column("permsets", "Permission sets", 20),
)
# Salesforce's words for the Permitted Users setting (Connected App policies).
PRE_AUTHORIZED = "pre-authorized"
SELF_AUTHORIZE = "self-authorize"
PERMITTED_SETTING = {
    PRE_AUTHORIZED: "Admin approved users are pre-authorized",
    SELF_AUTHORIZE: "All users may self-authorize",
    "app not found": "the JustOn Platform connected app was not found",
}
ORDER = {"fail": 0, "warn": 1, "unknown": 2, "ok": 3}


@dataclass(slots=True)
class AccessEntry:
    """What the access screen knows about one org's JustOn Platform connected app."""

    org: Org
    name: str
    checked_at: datetime | None = None
    found: bool | None = None
    admin_approved: bool | None = None
    profiles: tuple[str, ...] = ()
    permission_sets: tuple[str, ...] = ()
    sysadmin: bool | None = None  # the connected_app.sysadmin verdict: ok True, fail False
    permitted_verdict: str = "unknown"  # the connected_app.permitted_users verdict
    verdict: str = "unknown"  # ok | warn | fail | unknown
    reasons: tuple[tuple[str, str, str], ...] = ()  # (check id, verdict, reason)
    error: str = ""
    haystack: str = ""

    @property
    def category(self) -> str:
        """ok / misconfigured / unknown, for the summary line."""
        if self.verdict == "ok":
            return "ok"
        if self.verdict in ("warn", "fail"):
            return "misconfigured"
        return "unknown"

    def permitted_text(self) -> str:
        if self.found is False:
            return "app not found"
        if self.admin_approved is True:
            return PRE_AUTHORIZED
        if self.admin_approved is False:
            return SELF_AUTHORIZE
        return "?"

    def cells(self, now: datetime) -> tuple[Text, ...]:
        stale = self.checked_at is not None and now - self.checked_at > STALE_AFTER
        label = {"ok": "ok", "warn": "misconfigured", "fail": "misconfigured"}.get(
            self.verdict, "unknown")
        sysadmin = {True: "yes", False: "no", None: "?"}[self.sysadmin]
        return (
            Text(self.name),
            Text(label, style=verdict_style(self.verdict)),
            Text(format_age(self.checked_at, now) + ("!" if stale else ""),
                 style="bold yellow" if stale else ""),
            Text(self.permitted_text(),
                 style="bold red" if self.permitted_verdict == "fail" else ""),
            Text(sysadmin, style="bold red" if self.sysadmin is False else ""),
            Text(clean(", ".join(self.profiles), limit=200) or "—"),
            Text(clean(", ".join(self.permission_sets), limit=200) or "—"),
        )

    def row(self, now: datetime) -> Row:
        age = (now - self.checked_at).total_seconds() if self.checked_at else None
        return Row(self.org.org_id, self.cells(now), (
            self.name.casefold(), ORDER.get(self.verdict, 2), age, self.permitted_text(),
            {True: 1, False: 0, None: 2}[self.sysadmin], ", ".join(self.profiles).casefold(),
            ", ".join(self.permission_sets).casefold()))


def access_entry(org: Org, doc: Mapping[str, Any] | None) -> AccessEntry:
    """Build from a stored snapshot document (or None when the org was never checked)."""
    entry = AccessEntry(org=org, name=clean(org.name, limit=200))
    if doc:
        facts = doc.get("facts") or {}
        app = facts.get("connected_app") or {}
        entry.checked_at = parse_time(doc.get("checked_at"))
        entry.error = clean(doc.get("error") or "", limit=300)
        if app:
            entry.found = app.get("found")
            entry.admin_approved = app.get("admin_approved")
            entry.profiles = tuple(clean(p, limit=80) for p in app.get("profiles") or ())
            entry.permission_sets = tuple(clean(p, limit=80)
                                          for p in app.get("permission_sets") or ())
        reasons = []
        for check in doc.get("checks") or ():
            if isinstance(check, Mapping) and str(check.get("id", "")).startswith(
                    "connected_app."):
                reasons.append((str(check["id"]), str(check.get("verdict", "unknown")),
                                clean(check.get("reason", ""), limit=300)))
        entry.reasons = tuple(reasons)
        by_id = {cid: verdict for cid, verdict, _ in reasons}
        # The SysAdmin column is the connected_app.sysadmin verdict, nothing else.
        entry.sysadmin = {"ok": True, "fail": False}.get(by_id.get("connected_app.sysadmin", ""))
        entry.permitted_verdict = by_id.get("connected_app.permitted_users", "unknown")
        verdicts = [v for _, v, _ in reasons]
        if entry.error or not verdicts:
            entry.verdict = "unknown"
        else:
            entry.verdict = min(verdicts, key=lambda v: ORDER.get(v, 2))
    entry.haystack = fold(" ".join((
        entry.name, org.org_id, " ".join(org.tags), entry.category, entry.permitted_text(),
        " ".join(entry.profiles), " ".join(entry.permission_sets),
        "sysadmin-missing" if entry.sysadmin is False else "")))
    return entry


class AccessLoaded(Message):
    def __init__(self, entries: dict[str, AccessEntry], error: str | None = None) -> None:
        super().__init__()
        self.entries = entries
        self.error = error


class AccessScreen(JustOnScreen):
    """JustOn Platform connected-app access across every org."""

    MODE = "access"
    TITLE = "Access"
    CSS_PATH = "../styles/access.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("slash", "filter", "Filter", key_display="/", priority=True),
        Binding("r", "refresh", "Check"),
        # Into the detail pane and back only on purpose: there j/down scroll the pane.
        Binding("tab", "toggle_detail", "Detail pane", key_display="tab"),
        Binding("escape", "escape", "Cancel", show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.entries: dict[str, AccessEntry] = {}
        self.query_text = ""
        self.refreshing = False
        self.cancel: threading.Event | None = None
        self._pending_focus: str | None = None
        self.loaded = False

    def compose_body(self) -> ComposeResult:
        yield Static(id="access-summary")
        yield FilterBox(
            placeholder="filter: org, ID, tag, ok / misconfigured / unknown, profile",
            id="access-filter")
        yield FastTable(ACCESS_COLUMNS, empty_text="Loading…", id="access-table")
        with VerticalScroll(id="access-detail-scroll"):
            yield Static(id="access-detail")

    @property
    def table(self) -> FastTable:
        return self.query_one("#access-table", FastTable)

    def on_mount(self) -> None:
        self.table.sort_by("verdict")
        self.table.focus()
        self.load()

    @work(thread=True, exit_on_error=False, group="access-load", exclusive=True,
          name="loading access")
    def load(self) -> None:
        store = self.juston.store
        try:
            orgs = store.list_orgs()
            docs = {d.get("org_id"): d for d in store.snapshot_docs()}
        except Exception as exc:
            self.post_message(AccessLoaded({}, clean(str(exc), limit=300)))
            return
        self.post_message(AccessLoaded({o.org_id: access_entry(o, docs.get(o.org_id))
                                        for o in orgs if not o.vendor}))

    @on(AccessLoaded)
    def _loaded(self, event: AccessLoaded) -> None:
        if event.error:
            self.notify(event.error, markup=False, title="Store", severity="error")
        self.entries = event.entries
        self.loaded = True
        self.table.empty_text = "No orgs registered yet (add them on screen 1)."
        self.apply_filter()
        if self._pending_focus:
            self.table.move_to_key(self._pending_focus)
            self._pending_focus = None
        self.show_detail(self.table.cursor_key)

    @on(StoreChanged)
    def _store_changed(self) -> None:
        self.load()

    def focus_request(self, org_id: str | None = None, **kwargs: Any) -> None:
        if org_id is not None and (not self.loaded or not self.table.move_to_key(org_id)):
            self._pending_focus = org_id

    # -- filter ------------------------------------------------------------------------------
    def apply_filter(self) -> None:
        terms = search_terms(self.query_text)  # the one matcher of every filter
        now = app_now(self.app)
        rows = [e.row(now) for e in self.entries.values() if matches(terms, e.haystack)]
        self.table.set_rows(rows)
        self.update_summary()

    def action_filter(self) -> None:
        self.query_one("#access-filter", FilterBox).open()

    @on(FilterBox.FilterChanged, "#access-filter")
    def _filter_changed(self, event: FilterBox.FilterChanged) -> None:
        self.query_text = event.value
        self.apply_filter()

    @on(FilterBox.FilterSubmitted, "#access-filter")
    def _filter_submitted(self) -> None:
        self.table.focus()

    def action_escape(self) -> None:
        if self.refreshing and self.cancel is not None:
            self.cancel.set()
            return
        if self.focused is self.query_one("#access-detail-scroll"):
            self.table.focus()
            return
        if self.query_one("#access-filter", FilterBox).clear() or self.query_text:
            self.query_text = ""
            self.apply_filter()
            self.table.focus()

    def update_summary(self) -> None:
        counts = {"ok": 0, "misconfigured": 0, "unknown": 0}
        for entry in self.entries.values():
            counts[entry.category] += 1
        text = Text()
        text.append(f"{counts['ok']} ok", style="green")
        text.append(" · ")
        text.append(f"{counts['misconfigured']} misconfigured",
                    style="bold red" if counts["misconfigured"] else "")
        text.append(" · ")
        text.append(f"{counts['unknown']} unknown", style="dim")
        text.append(f"   ({self.table.row_count} of {len(self.entries)} shown)")
        if self.query_text:
            text.append("  filter: ")
            text.append(clean(self.query_text, limit=40), style="italic")
        if self.refreshing:
            text.append("  checking… (esc cancels)", style="bold")
        self.query_one("#access-summary", Static).update(text)

    # -- detail ------------------------------------------------------------------------------
    @on(FastTable.RowHighlighted, "#access-table")
    def _highlighted(self, event: FastTable.RowHighlighted) -> None:
        self.show_detail(event.key)

    @on(FastTable.RowSelected, "#access-table")
    def _selected(self, event: FastTable.RowSelected) -> None:
        """enter opens the org (as on the registry); the focus stays in the table."""
        entry = self.entries.get(event.key)
        if entry is None:
            return
        # Imported when first opened, as the registry does (the detail and its forms cost
        # start-up time no one needs until an org is opened).
        from juston_tui.screens.org_detail import OrgDetailScreen

        self.app.push_screen(OrgDetailScreen(entry.org.org_id))

    def action_toggle_detail(self) -> None:
        """tab: focus the detail pane (j/k and the arrows then scroll it), tab/esc: back."""
        pane = self.query_one("#access-detail-scroll")
        if self.focused is self.table:
            pane.focus()
        elif self.focused is pane:
            self.table.focus()
        else:
            self.focus_next()

    def show_detail(self, key: str | None) -> None:
        entry = self.entries.get(key) if key else None
        self.query_one("#access-detail", Static).update(self.detail_text(entry))

    def detail_text(self, entry: AccessEntry | None) -> Text:
        if entry is None:
            return Text("")
        now = app_now(self.app)
        text = Text()
        text.append(entry.name, style="bold")
        text.append(f"  {entry.org.org_id}  ")
        text.append(entry.category, style=verdict_style(entry.verdict))
        if entry.checked_at is None:
            text.append("\nNever checked: press r to check this org now.\n", style="yellow")
        else:
            stale = now - entry.checked_at > STALE_AFTER
            text.append(f"\nLast check {format_age(entry.checked_at, now)} ago",
                        style="bold yellow" if stale else "dim")
            if stale:
                text.append(" (older than 24 h: press r)", style="bold yellow")
            text.append("\n")
        if entry.error:
            text.append("Error: ", style="bold red")
            text.append(entry.error + "\n")
        for check_id, verdict, reason in entry.reasons:
            text.append(f"  {verdict:<8}", style=verdict_style(verdict))
            text.append(f"{check_id}: ", style="dim")
            text.append(reason + "\n")
        text.append("Permitted users: ")
        text.append(PERMITTED_SETTING.get(entry.permitted_text(), "unknown"))
        text.append("\nProfiles: " + (", ".join(entry.profiles) or "—"))
        text.append("\nPermission sets: " + (", ".join(entry.permission_sets) or "—"))
        text.append("\nSystem Administrator has access: "
                    + {True: "yes", False: "no", None: "unknown"}[entry.sysadmin] + "\n")
        if entry.verdict != "ok":
            text.append("\nWhat users see while this is wrong:\n", style="bold")
            text.append(f"  {USER_ERROR}\n", style="bold red")
        text.append(f"\nRemediation ({SETUP_PATH}), from the JustOn installation guide:\n",
                    style="bold")
        text.append(REMEDIATION + "\n\n")
        text.append(USER_ERROR + "\n", style="italic")
        return text

    # -- refresh -----------------------------------------------------------------------------
    def action_refresh(self) -> None:
        key = self.table.cursor_key
        entry = self.entries.get(key) if key else None
        if entry is None:
            self.notify("No org under the cursor.", severity="warning")
            return
        if self.refreshing:
            self.notify("A check is already running (esc cancels it).", severity="warning")
            return
        self.refreshing = True
        self.cancel = threading.Event()
        self.update_summary()
        self.sweep_one(entry.org, self.cancel)

    @work(thread=True, exit_on_error=False, group="access-refresh", name="checking org access")
    def sweep_one(self, org: Org, cancel: threading.Event) -> None:
        run_sweep(self.app, [org], cancel=cancel, post=self.post_message, concurrency=1)

    @on(SnapshotArrived)
    def _snapshot(self, event: SnapshotArrived) -> None:
        old = self.entries.get(event.snapshot.org_id)
        if old is None:
            return
        entry = access_entry(old.org, event.snapshot.to_doc())
        self.entries[entry.org.org_id] = entry
        row = entry.row(app_now(self.app))
        self.table.update_row(row.key, row.cells, row.sort_values)
        if self.table.cursor_key == entry.org.org_id:
            self.show_detail(entry.org.org_id)

    @on(RefreshFinished)
    def _finished(self, event: RefreshFinished) -> None:
        self.refreshing = False
        self.cancel = None
        self.update_summary()
        if event.error:
            self.notify(event.error, markup=False, title="Check", severity="error", timeout=8)
        elif event.cancelled and not event.count:
            self.notify("Check cancelled.", timeout=3)
