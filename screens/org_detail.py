"""One org in full: every check of the last snapshot with its reason and fix, the history, the
credentials state (never a secret) and the actions a support engineer needs next.
"""

from __future__ import annotations

import threading
from typing import Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.message import Message
from textual.widgets import Static

from juston_tui.credentials import CredentialsUnavailable
from juston_tui.model import CHECK_IDS, Org, Snapshot
from juston_tui.screens.base import JustOnSubScreen
from juston_tui.screens.messages import OrgsChanged, RefreshFinished, SnapshotArrived
from juston_tui.screens.registry_data import (
    PUSH_LABELS,
    STALE_AFTER,
    SnapInfo,
    app_now,
    format_age,
    parse_time,
)
from juston_tui.screens.registry_refresh import run_sweep
from juston_tui.screens.widgets.fast_table import verdict_style
from juston_tui.screens.widgets.key_bar import KeyBar
from juston_tui.screens.widgets.title_bar import TitleBar
from juston_tui.text import clean

REQUIRED_SECRETS: dict[str, tuple[str, ...]] = {
    "password": ("password",),
    "jwt": ("private_key",),
    "client-credentials": ("consumer_secret",),
    "token": ("access_token",),
}
CHECK_TITLES = {
    "organization": "Organization",
    "package.billing": "JustOn Billing & Invoice Management",
    "package.cash": "JustOn Cash Management",
    "licenses": "Package licences",
    "connected_app.permitted_users": "JustOn Platform: permitted users",
    "connected_app.sysadmin": "JustOn Platform: System Administrator profile",
    "permissions.balance": "Permission set: Balance object, fields and tab",
    "permissions.task_type": "Permission set: Task Type field",
    "api_usage": "API usage",
}
_AUTH_WORDS = ("login", "log in", "auth", "invalid_grant", "session", "token", "credential",
               "password", "secret", "consumer", "approved")


class DetailLoaded(Message):
    def __init__(self, org: Org | None, snapshot: Snapshot | None,
                 history: list[dict[str, Any]], error: str | None = None) -> None:
        super().__init__()
        self.org = org
        self.snapshot = snapshot
        self.history = history
        self.error = error


class CredentialsLoaded(Message):
    def __init__(self, status: dict[str, bool] | None, problem: str | None) -> None:
        super().__init__()
        self.status = status
        self.problem = problem


class PushesLoaded(Message):
    """The org's pushes (push_ops.history), or why they could not be read."""

    def __init__(self, entries: list[Any], failed_twice: bool, error: str | None = None
                 ) -> None:
        super().__init__()
        self.entries = entries
        self.failed_twice = failed_twice
        self.error = error


def describe_credentials(org: Org, status: dict[str, bool] | None, problem: str | None,
                         snapshot: Snapshot | None) -> tuple[str, str, Text]:
    """(state, style, detail): set / missing / failing / unavailable, never a secret value."""
    if problem is not None:
        return "unavailable", "yellow", Text(problem)
    status = status or {}
    present = [kind.replace("_", " ") for kind, ok in status.items() if ok]
    needed = [k for k in REQUIRED_SECRETS.get(org.auth_method, ()) if not status.get(k)]
    if needed:
        missing = ", ".join(k.replace("_", " ") for k in needed)
        return "missing", "bold red", Text(
            f"{missing} not set for the {org.auth_method} method: press c to set it")
    error = (snapshot.error or "") if snapshot else ""
    if error and any(word in error.lower() for word in _AUTH_WORDS):
        return "failing", "bold red", Text(f"the last check could not log in: {clean(error)}")
    return "set", "green", Text(", ".join(present) or "nothing needed")


class OrgDetailScreen(JustOnSubScreen[None]):
    """Pushed over the registry by enter; esc goes back."""

    CSS_PATH = "../styles/registry.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back"),
        Binding("r", "refresh", "Check now"),
        Binding("c", "credentials", "Credentials"),
        Binding("i", "checklist", "Install checklist"),
        Binding("l", "contacts", "Linked contacts"),
        Binding("e", "edit", "Edit"),
        Binding("j", "scroll_down", "Down", show=False),
        Binding("k", "scroll_up", "Up", show=False),
    ]
    EDIT_ACTIONS: ClassVar[frozenset[str]] = frozenset({"credentials", "edit"})

    def __init__(self, org_id: str) -> None:
        super().__init__()
        self.org_id = org_id
        self.org: Org | None = None
        self.snapshot: Snapshot | None = None
        self.history: list[dict[str, Any]] = []
        self.credential_state: tuple[str, str, Text] | None = None
        self._cred_raw: tuple[dict[str, bool] | None, str | None] | None = None
        self.refreshing = False
        self.cancel: threading.Event | None = None

    def compose(self) -> ComposeResult:
        yield TitleBar()
        with VerticalScroll(id="detail-scroll"):
            yield Static(Text("Loading…"), id="detail-summary")
            yield Static(id="detail-pushes")
            yield Static(id="detail-credentials")
            yield Static(id="detail-checks")
            yield Static(id="detail-history")
        yield KeyBar()

    def on_mount(self) -> None:
        self.query_one("#detail-scroll").focus()
        self.load()

    # -- loading -----------------------------------------------------------------------------
    @work(thread=True, exit_on_error=False, group="detail-load", exclusive=True,
          name="loading org")
    def load(self) -> None:
        store = self.store
        try:
            org = store.find_org(self.org_id)
            snapshot = store.latest_snapshot(self.org_id)
            history = store.snapshot_history(self.org_id)
        except Exception as exc:
            self.post_message(DetailLoaded(None, None, [], clean(str(exc), limit=300)))
            return
        self.post_message(DetailLoaded(org, snapshot, history))
        if org is not None:
            self.load_credentials()
            self.load_pushes()

    @work(thread=True, exit_on_error=False, group="detail-pushes", exclusive=True,
          name="reading the org's pushes")
    def load_pushes(self) -> None:
        """Its pushes and the rule of push_ops.history: failed its last two pushes."""
        # push_ops reads the packaging org (requests, simple-salesforce): kept off the
        # registry's start, only when an org's detail is open
        from juston_tui.push_ops.history import failed_last_two, push_history

        try:
            entries = push_history(self.store, self.juston.get_credentials,
                                   self.org_id, timeout=30.0).get(self.org_id, [])
        except Exception as exc:  # no packaging org, offline, ...: a line, not a crash
            self.post_message(PushesLoaded([], False, clean(str(exc), limit=200)))
            return
        self.post_message(PushesLoaded(entries, failed_last_two(entries)))

    @work(thread=True, exit_on_error=False, group="detail-credentials", exclusive=True,
          name="reading credentials state")
    def load_credentials(self) -> None:

        try:
            credentials = self.juston.get_credentials()
            if not credentials.available:
                raise CredentialsUnavailable("no secure keyring in this session", "")
            status = credentials.status(self.org_id)
        except CredentialsUnavailable as exc:
            self.post_message(CredentialsLoaded(None, f"keyring unavailable: {exc.summary}"))
            return
        except Exception as exc:
            self.post_message(CredentialsLoaded(None, clean(f"keyring error: {exc}", limit=200)))
            return
        self.post_message(CredentialsLoaded(status, None))

    @on(DetailLoaded)
    def _loaded(self, event: DetailLoaded) -> None:
        if event.error or event.org is None:
            self.query_one("#detail-summary", Static).update(
                Text(event.error or f"The org {self.org_id} is no longer in the registry.",
                     style="bold red"))
            return
        self.org, self.snapshot, self.history = event.org, event.snapshot, event.history
        self.sub_title = clean(event.org.name, limit=60)
        self.render_all()

    @on(PushesLoaded)
    def _pushes_loaded(self, event: PushesLoaded) -> None:
        widget = self.query_one("#detail-pushes", Static)
        if event.error:
            widget.update(Text(f"Pushes: not read ({event.error})", style="dim"))
            return
        if not event.entries:
            widget.update(Text(""))
            return
        text = Text()
        if event.failed_twice:
            text.append("! Failed its last two pushes: look before the next one\n",
                        style="bold red")
        last = event.entries[-1]
        text.append(f"Pushes: {len(event.entries)} · last {last.version} "
                    f"({last.start_utc:%Y-%m-%d}): {clean(last.outcome, limit=60)}")
        if last.error_types:
            text.append(f" ({', '.join(last.error_types)})")
        widget.update(text)

    @on(CredentialsLoaded)
    def _credentials_loaded(self, event: CredentialsLoaded) -> None:
        self._cred_raw = (event.status, event.problem)
        self.render_credentials()

    # -- rendering ---------------------------------------------------------------------------
    def render_all(self) -> None:
        self.render_summary()
        self.render_credentials()
        self.render_checks()
        self.render_history()

    def render_summary(self) -> None:
        org = self.org
        if org is None:
            return
        now = app_now(self.app)
        text = Text()
        text.append(clean(org.name, limit=120), style="bold")
        text.append(f"   {org.org_id}\n")
        kind = org.kind + (" (vendor packaging org)" if org.vendor else "")
        text.append(f"Type: {kind}")
        if org.parent_org_id:
            text.append(f"   parent production org: {org.parent_org_id}")
        text.append("\n")
        text.append(f"Login: {org.auth_method}")
        text.append(f" · {clean(org.instance_url or org.domain, limit=80)}")
        if org.username:
            text.append(f" · {clean(org.username, limit=80)}")
        text.append("\n")
        push = org.push
        text.append(f"Push registration: {PUSH_LABELS.get(push.state, push.state)}")
        if push.ticket:
            text.append(f" · ticket {clean(push.ticket, limit=40)}")
        if push.requested_on:
            text.append(f" · requested {push.requested_on}")
        if push.registered_on:
            text.append(f" · registered {push.registered_on}")
        if org.kind == "sandbox":
            text.append(" · sandbox push: ")
            text.append(f"ticket {clean(org.sandbox_push_ticket, limit=40)}"
                        if org.sandbox_push_ticket else "not requested (never pushed)")
        text.append("\n")
        if org.tags:
            text.append("Tags: " + clean(", ".join(org.tags), limit=200) + "\n")
        if org.notes:
            text.append("Notes: " + clean(org.notes, limit=400) + "\n")
        snap = self.snapshot
        if snap is None:
            text.append("Last check: never (press r to check now)", style="bold yellow")
        else:
            checked = parse_time(snap.checked_at)
            stale = checked is not None and now - checked > STALE_AFTER
            verdict = snap.verdict
            text.append("Last check: ")
            text.append(verdict, style=verdict_style(verdict))
            text.append(f" at {clean(snap.checked_at, limit=40)} ({format_age(checked, now)} ago)",
                        style="bold yellow" if stale else "")
            if stale:
                text.append("  stale: older than 24 h", style="bold yellow")
            info = SnapInfo.from_snapshot(snap)
            text.append(f"\nVersions: Billing & Invoice Management {info.billing or '—'}")
            if info.billing_current:
                text.append(f" ({info.billing_current})")
            text.append(f" · Cash Management {info.cash or '—'}")
            if snap.error:
                text.append("\nError: ", style="bold red")
                text.append(clean(snap.error, limit=400))
        self.query_one("#detail-summary", Static).update(text)

    def render_credentials(self) -> None:
        if self.org is None:
            return
        text = Text("\nCredentials: ", style="bold")
        if self._cred_raw is None:
            text.append("reading the keyring…", style="dim")
        else:
            state, style, detail = describe_credentials(self.org, *self._cred_raw, self.snapshot)
            text.append(state, style=style)
            text.append(" · ")
            text.append_text(detail)
            if self.org.auth_method == "password":
                # a modal, loaded when first opened (start-up: each screen module ~10-80 ms)
                from juston_tui.screens.credentials_form import PASSWORD_WARNING

                text.append("\n" + PASSWORD_WARNING, style="yellow")
        self.query_one("#detail-credentials", Static).update(text)

    def render_checks(self) -> None:
        text = Text("\nChecks of the last snapshot\n", style="bold")
        snap = self.snapshot
        shown_fixes: set[str] = set()
        for problem in (snap.facts.get("diagnoses") or ()) if snap is not None else ():
            # What keeps the probe from reading (e.g. a permission the integration user lacks),
            # as the rules diagnosed it when the snapshot was taken.
            if not isinstance(problem, dict):
                continue
            text.append("  problem ", style="bold red")
            text.append(clean(problem.get("summary"), limit=500) + "\n")
            fix = clean(problem.get("fix"), limit=800)
            if fix:
                shown_fixes.add(str(problem.get("fix")))
                text.append("          fix: ", style="cyan")
                text.append(fix + "\n")
        if snap is None or not snap.checks:
            text.append("  none yet\n", style="dim")
        else:
            ordered = sorted(snap.checks, key=lambda c: CHECK_IDS.index(c.id)
                             if c.id in CHECK_IDS else len(CHECK_IDS))
            for check in ordered:
                text.append(f"  {check.verdict:<8}", style=verdict_style(check.verdict))
                text.append(CHECK_TITLES.get(check.id, clean(check.id)), style="bold")
                text.append(f"  ({clean(check.id)})\n", style="dim")
                text.append("          " + clean(check.reason, limit=500) + "\n")
                if check.fix in shown_fixes:
                    text.append("          fix: see the problem above\n", style="cyan")
                elif check.fix and check.verdict != "ok":
                    lines = [ln.strip() for ln in clean(check.fix, single_line=False
                                                        ).splitlines() if ln.strip()]
                    for n, line in enumerate(lines):
                        text.append("          fix: " if n == 0 else "               ",
                                    style="cyan")
                        text.append(line + "\n")
        self.query_one("#detail-checks", Static).update(text)

    def render_history(self) -> None:
        text = Text("\nHistory (newest first)\n", style="bold")
        if not self.history:
            text.append("  no checks recorded\n", style="dim")
        for item in self.history:
            verdict = str(item.get("verdict", "unknown"))
            text.append(f"  {clean(item.get('checked_at', ''), limit=30):<22}")
            text.append(f"{verdict:<8}", style=verdict_style(verdict))
            counts: dict[str, int] = {}
            for v in (item.get("verdicts") or {}).values():
                counts[v] = counts.get(v, 0) + 1
            text.append(" ".join(f"{k} {n}" for k, n in sorted(counts.items())), style="dim")
            if item.get("error"):
                text.append("  " + clean(item["error"], limit=120), style="red")
            text.append("\n")
        self.query_one("#detail-history", Static).update(text)

    # -- actions -----------------------------------------------------------------------------
    def action_back(self) -> None:
        if self.refreshing and self.cancel is not None:
            self.cancel.set()
            return
        self.dismiss()

    def action_scroll_down(self) -> None:
        self.query_one("#detail-scroll", VerticalScroll).scroll_down(animate=False)

    def action_scroll_up(self) -> None:
        self.query_one("#detail-scroll", VerticalScroll).scroll_up(animate=False)

    def action_refresh(self) -> None:
        if self.org is None or self.refreshing:
            return
        self.refreshing = True
        self.cancel = threading.Event()
        self.notify(Text(f"Checking {clean(self.org.name, limit=60)}… (esc cancels)"), timeout=3)
        self.sweep_one(self.org, self.cancel)

    @work(thread=True, exit_on_error=False, group="detail-refresh", name="checking org")
    def sweep_one(self, org: Org, cancel: threading.Event) -> None:
        run_sweep(self.app, [org], cancel=cancel, post=self.announce, concurrency=1)

    @on(SnapshotArrived)
    def _snapshot(self, event: SnapshotArrived) -> None:
        """This org checked, here or (relayed) from the registry or the access screen."""
        if event.snapshot.org_id != self.org_id:
            return
        self.snapshot = event.snapshot
        self.history.insert(0, {"checked_at": event.snapshot.checked_at,
                                "verdict": event.snapshot.verdict,
                                "error": event.snapshot.error,
                                "verdicts": {c.id: c.verdict for c in event.snapshot.checks}})
        self.render_all()

    @on(RefreshFinished)
    def _finished(self, event: RefreshFinished) -> None:
        self.refreshing = False
        self.cancel = None
        if event.error:
            self.notify(event.error, markup=False, title="Check", severity="error", timeout=8)
        elif event.cancelled and not event.count:
            self.notify("Check cancelled.", timeout=3)
        self.load()

    def action_credentials(self) -> None:
        if self.org is None:
            return
        # a modal, loaded when first opened (start-up: each screen module ~10-80 ms)
        from juston_tui.screens.credentials_form import CredentialsFormScreen

        def done(saved: bool | None) -> None:
            if saved:
                self.load_credentials()

        self.app.push_screen(CredentialsFormScreen(self.org), done)

    def action_checklist(self) -> None:
        self.juston.open_screen("checklist", org_id=self.org_id)

    def action_contacts(self) -> None:
        if self.org is None:
            return
        try:
            # a modal, loaded when first opened (start-up: each screen module ~10-80 ms)
            from juston_tui.screens.linked_contacts import LinkedContactsScreen
        except ImportError:
            self.notify("The linked contacts view is not installed.", severity="warning")
            return
        title = f"Contacts linked to {clean(self.org.name, limit=60)}"
        self.app.push_screen(LinkedContactsScreen([self.org_id], title))

    def action_edit(self) -> None:
        if self.org is None:
            return
        # a modal, loaded when first opened (start-up: each screen module ~10-80 ms)
        from juston_tui.screens.org_form import OrgFormScreen

        def done(org: Org | None) -> None:
            if org is not None:
                self.announce(OrgsChanged([org]))
                self.load()

        self.app.push_screen(OrgFormScreen(self.org), done)
