"""Push-upgrade registration (seed 000) for the marked orgs.

Drafts the "JustOn Upgrade request" for the JustOn Support Portal (org IDs, names, current
version, contacts to notify), copies it (OSC 52) or saves it, and records the registration
state: requested (date, ticket), registered, withdrawn. Only production orgs are pushed;
a sandbox is included only when a sandbox push was requested by ticket. The seed asks for a
recent upgrade before registering, so orgs whose `package.billing` check is not ok are flagged
with that check's own reason (never judged again here).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static, TextArea

from juston_tui.model import Contact, Org, ValidationError
from juston_tui.screens.base import JustOnSubScreen
from juston_tui.screens.form_base import ERROR_CLASS
from juston_tui.screens.messages import OrgsChanged
from juston_tui.screens.registry_data import PUSH_LABELS, SnapInfo, app_now
from juston_tui.screens.widgets.key_bar import KeyBar
from juston_tui.screens.widgets.title_bar import TitleBar
from juston_tui.text import clean

SANDBOX_RULE = ("Push upgrades reach production orgs only. A sandbox is included only when a "
                "sandbox push was requested by support ticket (set the org's sandbox push "
                "ticket).")


@dataclass(frozen=True)
class Candidate:
    org: Org
    info: SnapInfo
    included: bool
    notes: tuple[str, ...]
    # The package.billing verdict the release note is based on ("" = never checked).
    release_verdict: str = ""


def assess(org: Org, info: SnapInfo) -> Candidate:
    """Is the org part of the request, and what should the person know about it?"""
    notes: list[str] = []
    included = True
    if org.kind == "sandbox":
        if org.sandbox_push_ticket:
            notes.append(f"sandbox: included, push requested by ticket "
                         f"{clean(org.sandbox_push_ticket, limit=40)}")
        else:
            included = False
            notes.append("sandbox: not included (no sandbox push requested by ticket)")
    checked = info.checked_at is not None
    verdict = (info.billing_verdict or "unknown") if checked else ""
    reason = info.billing_reason or "no package.billing check in the last snapshot"
    if not checked:
        notes.append("never checked: cannot confirm it runs a current release (press r first)")
    elif verdict == "fail":
        notes.append(f"not installed: {reason}")
    elif verdict == "warn":
        notes.append(f"not on a current release: {reason}; upgrade before registering "
                     "(seed 000)")
    elif verdict != "ok":
        notes.append(f"current release unknown: {reason}")
    if org.push.state == "registered":
        notes.append("already registered")
    return Candidate(org, info, included, tuple(notes), verdict)


def draft_request(candidates: list[Candidate], contacts: list[Contact]) -> str:
    """The plain-text request for the JustOn Support Portal (all values cleaned)."""
    included = [c for c in candidates if c.included]
    lines = [
        "Subject: JustOn Upgrade request",
        "",
        "Dear JustOn Support,",
        "",
        "please register the following org(s) for automatic push upgrades of",
        "JustOn Billing & Invoice Management:",
        "",
    ]
    for cand in included:
        org = cand.org
        lines.append(f"- Org name: {clean(org.name, limit=200)}")
        lines.append(f"  Org ID: {org.id15} ({org.org_id})")
        kind = org.kind
        if org.kind == "sandbox":
            kind += (f", sandbox push requested by ticket "
                     f"{clean(org.sandbox_push_ticket, limit=40)}")
            if org.parent_org_id:
                kind += f", production org {org.parent_org_id[:15]}"
        lines.append(f"  Type: {kind}")
        lines.append("  Current version: JustOn Billing & Invoice Management "
                     f"{cand.info.billing or 'unknown'}")
        if cand.info.cash:
            lines.append(f"  JustOn Cash Management {cand.info.cash}")
    if not included:
        lines.append("- (no org qualifies: sandboxes need a sandbox push ticket)")
    lines += ["", "Contacts to notify about push upgrades (full name, e-mail address, title):"]
    if contacts:
        for person in contacts:
            lines.append(f"- {clean(person.full_name, limit=200)}, "
                         f"{clean(person.email, limit=254)}, {clean(person.title, limit=200)}")
    else:
        lines.append("- (no eligible contacts linked to these orgs yet)")
    lines += ["", "Kind regards", ""]
    return "\n".join(lines)


class PushDataLoaded(Message):
    def __init__(self, candidates: list[Candidate], contacts: list[Contact]) -> None:
        super().__init__()
        self.candidates = candidates
        self.contacts = contacts


class RequestedPrompt(ModalScreen[tuple[str, str] | None]):
    """Ask for the date and ticket number of the support request."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel"),
        Binding("ctrl+s", "save", "Save"),
    ]
    DEFAULT_CSS = """
    RequestedPrompt { align: center middle; }
    RequestedPrompt > Vertical { width: 64; max-width: 100%; height: auto; padding: 0 1;
                                 border: round $accent; background: $surface; }
    RequestedPrompt .field-error { color: $error; height: auto; }
    """

    def __init__(self, today: date) -> None:
        super().__init__()
        self.today = today

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Text("Mark as requested", style="bold"))
            yield Label("Date of the support request (YYYY-MM-DD)")
            # validate_on=(): the prompt owns ERROR_CLASS (Input would clear it on each key)
            yield Input(self.today.isoformat(), id="req-date", validate_on=())
            yield Static("", classes="field-error", id="error-date")
            yield Label("Support ticket number")
            yield Input(id="req-ticket", validate_on=())
            yield Static("", classes="field-error", id="error-ticket")
            yield Static(Text("enter: next field / save · esc: cancel", style="dim"))

    def on_mount(self) -> None:
        self.query_one("#req-ticket", Input).focus()

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "req-date":
            self.query_one("#req-ticket", Input).focus()
        else:
            self.action_save()

    def action_cancel(self) -> None:
        self.dismiss(None)

    def action_save(self) -> None:
        raw_date = self.query_one("#req-date", Input).value.strip()
        ticket = self.query_one("#req-ticket", Input).value.strip()
        errors: dict[str, str] = {}
        try:
            date.fromisoformat(raw_date)
        except ValueError:
            errors["date"] = f"{clean(raw_date, limit=20)!r} is not a date like 2026-05-04"
        if not ticket:
            errors["ticket"] = "the support ticket number is required"
        for name in ("date", "ticket"):
            self.query_one(f"#error-{name}", Static).update(Text(errors.get(name, "")))
            self.query_one(f"#req-{name}", Input).set_class(name in errors, ERROR_CLASS)
        if not errors:
            self.dismiss((raw_date, ticket))


class SavePrompt(ModalScreen[str | None]):
    """Ask for a file name to save the request text to."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]
    DEFAULT_CSS = """
    SavePrompt { align: center middle; }
    SavePrompt > Vertical { width: 70; max-width: 100%; height: auto; padding: 0 1;
                            border: round $accent; background: $surface; }
    """

    def __init__(self, default: str) -> None:
        super().__init__()
        self.default = default

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label("Save the request to (enter saves, esc cancels)")
            yield Input(self.default, id="save-path")

    def on_mount(self) -> None:
        self.query_one("#save-path", Input).focus()

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        if event.value.strip():
            self.dismiss(event.value.strip())

    def action_cancel(self) -> None:
        self.dismiss(None)


class PushRequestScreen(JustOnSubScreen[None]):
    """Draft, copy/save, and record the push-upgrade registration of the marked orgs."""

    CSS_PATH = "../styles/registry.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back"),
        Binding("c", "copy", "Copy"),
        Binding("w", "save", "Save to file"),
        Binding("m", "requested", "Mark requested"),
        Binding("g", "registered", "Mark registered"),
        Binding("x", "withdrawn", "Mark withdrawn"),
    ]
    EDIT_ACTIONS: ClassVar[frozenset[str]] = frozenset({"requested", "registered", "withdrawn"})

    def __init__(self, org_ids: list[str]) -> None:
        super().__init__()
        self.org_ids = list(org_ids)
        self.candidates: list[Candidate] = []
        self.contacts: list[Contact] = []
        self.text = ""

    def compose(self) -> ComposeResult:
        yield TitleBar()
        with Vertical(id="push-body"):
            yield Static(Text("Loading…"), id="push-summary")
            yield TextArea("", read_only=True, id="push-draft", soft_wrap=True)
            with Horizontal(id="push-buttons"):
                yield Button("Copy (c)", id="push-copy")
                yield Button("Save (w)", id="push-save")
        yield KeyBar()

    def on_mount(self) -> None:
        self.sub_title = "JustOn Upgrade request"
        self.load()

    @work(thread=True, exit_on_error=False, group="push-load", exclusive=True,
          name="preparing the upgrade request")
    def load(self) -> None:
        store = self.app.store  # type: ignore[attr-defined]
        candidates = []
        for org_id in self.org_ids:
            org = store.find_org(org_id)
            if org is None:
                continue
            doc = store.snapshot_doc(org_id)
            candidates.append(assess(org, SnapInfo.from_doc(doc)))
        included = {c.org.org_id for c in candidates if c.included}
        contacts = [p for p in store.list_contacts()
                    if p.eligible and included.intersection(p.org_ids)]
        contacts.sort(key=lambda p: (p.full_name.casefold(), p.email))
        self.post_message(PushDataLoaded(candidates, contacts))

    @on(PushDataLoaded)
    def _loaded(self, event: PushDataLoaded) -> None:
        self.candidates, self.contacts = event.candidates, event.contacts
        self.text = draft_request(self.candidates, self.contacts)
        self.query_one("#push-draft", TextArea).load_text(self.text)
        self.render_summary()

    def render_summary(self) -> None:
        text = Text()
        included = [c for c in self.candidates if c.included]
        text.append(f"{len(included)} of {len(self.candidates)} org(s) in the request",
                    style="bold")
        text.append(f" · {len(self.contacts)} contact(s) to notify\n")
        text.append(SANDBOX_RULE + "\n", style="italic")
        for cand in self.candidates:
            org = cand.org
            mark = "✓" if cand.included else "✗"
            text.append(f" {mark} ", style="green" if cand.included else "red")
            text.append(clean(org.name, limit=50), style="bold")
            state = PUSH_LABELS.get(org.push.state, org.push.state)
            text.append(f"  {org.org_id}  push: {state}")
            if org.push.ticket:
                text.append(f" ({clean(org.push.ticket, limit=30)})")
            text.append("\n")
            for note in cand.notes:
                warn = note.startswith(("not on", "never", "JustOn Billing", "current release"))
                text.append(f"     {note}\n", style="yellow" if warn else "dim")
        self.query_one("#push-summary", Static).update(text)

    # -- copy / save -------------------------------------------------------------------------
    @on(Button.Pressed, "#push-copy")
    def action_copy(self) -> None:
        if not self.text:
            return
        self.app.copy_to_clipboard(self.text)
        self.notify("Copied the request (OSC 52: your terminal must allow clipboard access).",
                    timeout=4)

    @on(Button.Pressed, "#push-save")
    def action_save(self) -> None:
        if not self.text:
            return
        default = str(Path.cwd() / f"juston-upgrade-request-{app_now(self.app).date()}.txt")

        def chosen(path: str | None) -> None:
            if path:
                self.write_file(path)

        self.app.push_screen(SavePrompt(default), chosen)

    @work(thread=True, exit_on_error=False, group="push-save", name="saving the request",
          description="saving the request")
    def write_file(self, path: str, replace: bool = False) -> None:
        from juston_tui.screens.confirm import ask_to_replace
        from juston_tui.store import atomic_write_bytes

        target = Path(path).expanduser()
        try:
            # Old file or new one, never half a request; 0600 (mkstemp) like the other exports.
            atomic_write_bytes(target, self.text.encode("utf-8"), overwrite=replace)
        except FileExistsError:  # never replaced unasked
            self.app.call_from_thread(ask_to_replace, self.app, target,
                                      lambda: self.write_file(path, replace=True))
            return
        except OSError as exc:
            self.app.call_from_thread(
                self.notify, Text(clean(f"Cannot write {target}: {exc.strerror or exc}")),
                severity="error")
            return
        self.app.call_from_thread(self.notify, Text(f"Saved to {clean(str(target))}"),
                                  timeout=4)

    # -- registration state ------------------------------------------------------------------
    def _included_orgs(self) -> list[Org]:
        return [c.org for c in self.candidates if c.included]

    def action_requested(self) -> None:
        if not self._included_orgs():
            self.notify("No org in the request.", severity="warning")
            return

        def answered(result: tuple[str, str] | None) -> None:
            if result:
                day, ticket = result
                self.transition("requested", date.fromisoformat(day), ticket)

        self.app.push_screen(RequestedPrompt(app_now(self.app).date()), answered)

    def action_registered(self) -> None:
        self.transition("registered", app_now(self.app).date(), None)

    def action_withdrawn(self) -> None:
        self.transition("withdrawn", app_now(self.app).date(), None)

    def transition(self, state: str, day: date, ticket: str | None) -> None:
        if getattr(self.app, "read_only", False):
            self.notify("Read-only mode: nothing can be changed.", severity="warning")
            return
        orgs = self._included_orgs()
        if not orgs:
            self.notify("No org in the request.", severity="warning")
            return
        self.save_transitions([o.org_id for o in orgs], state, day, ticket)

    @work(thread=True, exit_on_error=False, group="push-write", name="saving push state")
    def save_transitions(self, org_ids: list[str], state: str, day: date,
                         ticket: str | None) -> None:
        """Each new state comes from the org as stored now (another instance may have moved it
        since this screen loaded), all in one transaction."""
        from juston_tui.store import NotFoundError

        store = self.app.store  # type: ignore[attr-defined]
        saved: list[Org] = []
        seen: list[Org] = []  # as stored now, changed or not: the summary shows the truth
        problems: list[str] = []
        try:
            with store.transaction():
                for org_id in org_ids:
                    try:
                        org = store.get_org(org_id)
                    except NotFoundError:
                        problems.append(f"{org_id}: no longer registered")
                        continue
                    try:
                        push = org.push.transition(state, on=day, ticket=ticket)
                    except ValidationError as exc:
                        problems.append(f"{clean(org.name, limit=40)}: "
                                        f"{next(iter(exc.errors.values()))}")
                        seen.append(org)
                        continue
                    saved.append(store.update_org(org_id, push=push))
                    seen.append(saved[-1])
        except Exception as exc:
            self.app.call_from_thread(
                self.notify, Text(clean(f"Not saved: {exc}", limit=300)), title="Push state",
                severity="error", timeout=10)
            return
        self.app.call_from_thread(self._saved, saved, seen, problems)

    def _saved(self, saved: list[Org], seen: list[Org], problems: list[str]) -> None:
        if problems:
            self.notify(Text("\n".join(problems)), title="Not changed", severity="warning",
                        timeout=10)
        by_id = {o.org_id: o for o in seen}
        self.candidates = [Candidate(by_id.get(c.org.org_id, c.org), c.info, c.included, c.notes)
                           for c in self.candidates]
        self.render_summary()
        self.announce(OrgsChanged(seen))
        if not saved:
            return
        state = saved[0].push.state
        self.notify(f"{len(saved)} org(s) now {PUSH_LABELS.get(state, state)}.", timeout=4)

    def action_back(self) -> None:
        self.dismiss()
