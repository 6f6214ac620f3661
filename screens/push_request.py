"""The registry's `p`: the JustOn Upgrade request for the marked orgs, and their states.

Drafts the request for the JustOn Support Portal (org IDs, names, versions, contacts to notify),
copies it (OSC 52) or saves it, and records the registration state: requested (date, ticket),
registered, withdrawn. Every rule is in juston_tui/push_registration.py (also behind
`juston-tui org push-request` and `org push`); this screen shows it and runs it in workers.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import Button, Input, Label, Static, TextArea

from juston_tui.model import Contact, Org
from juston_tui.push_registration import (
    SANDBOX_RULE,
    Candidate,
    StateResult,
    draft_request,
    load_request,
    record_state,
)
from juston_tui.screens.base import JustOnModal, JustOnSubScreen
from juston_tui.screens.confirm import ask_to_replace
from juston_tui.screens.form_base import ERROR_CLASS
from juston_tui.screens.messages import OrgsChanged
from juston_tui.screens.registry_data import PUSH_LABELS, app_now
from juston_tui.screens.widgets.key_bar import KeyBar
from juston_tui.screens.widgets.title_bar import TitleBar
from juston_tui.store import atomic_write_bytes
from juston_tui.text import clean

CSS = "../styles/registry.tcss"


class PushDataLoaded(Message):
    def __init__(self, candidates: list[Candidate], contacts: list[Contact]) -> None:
        super().__init__()
        self.candidates = candidates
        self.contacts = contacts


class StatesSaved(Message):
    """`record_state` ran (`result`), or failed as a whole (`error`)."""

    def __init__(self, result: StateResult | None, error: str = "") -> None:
        super().__init__()
        self.result = result
        self.error = error


class FileWritten(Message):
    """The request was saved (`error` empty), or the file exists (`exists`), or it failed."""

    def __init__(self, path: Path, *, exists: bool = False, error: str = "") -> None:
        super().__init__()
        self.path = path
        self.exists = exists
        self.error = error


class RequestedPrompt(JustOnModal[tuple[str, str] | None]):
    """Ask for the date and ticket number of the support request."""

    CSS_PATH = CSS
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel"),
        Binding("ctrl+s", "save", "Save"),
    ]

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


class SavePrompt(JustOnModal[str | None]):
    """Ask for a file name to save the request text to."""

    CSS_PATH = CSS
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

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

    CSS_PATH = CSS
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
        self.post_message(PushDataLoaded(*load_request(self.store, self.org_ids)))

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
                self.write_file(Path(path).expanduser())

        self.app.push_screen(SavePrompt(default), chosen)

    @work(thread=True, exit_on_error=False, group="push-save", name="saving the request",
          description="saving the request")
    def write_file(self, target: Path, replace: bool = False) -> None:
        try:
            # Old file or new one, never half a request; 0600 (mkstemp) like the other exports.
            atomic_write_bytes(target, self.text.encode("utf-8"), overwrite=replace)
        except FileExistsError:  # never replaced unasked
            self.post_message(FileWritten(target, exists=True))
        except OSError as exc:
            self.post_message(FileWritten(target, error=str(exc.strerror or exc)))
        else:
            self.post_message(FileWritten(target))

    @on(FileWritten)
    def _written(self, event: FileWritten) -> None:
        if event.exists:
            ask_to_replace(self.app, event.path, lambda: self.write_file(event.path, True))
        elif event.error:
            self.notify(Text(clean(f"Cannot write {event.path}: {event.error}")),
                        severity="error")
        else:
            self.notify(Text(f"Saved to {clean(str(event.path))}"), timeout=4)

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
        if self.refuse_read_only():
            return
        orgs = self._included_orgs()
        if not orgs:
            self.notify("No org in the request.", severity="warning")
            return
        self.save_transitions([o.org_id for o in orgs], state, day, ticket)

    @work(thread=True, exit_on_error=False, group="push-write", name="saving push state")
    def save_transitions(self, org_ids: list[str], state: str, day: date,
                         ticket: str | None) -> None:
        try:
            self.post_message(StatesSaved(record_state(self.store, org_ids, state, day, ticket)))
        except Exception as exc:  # the store refused the whole transaction: say why
            self.post_message(StatesSaved(None, clean(str(exc), limit=300)))

    @on(StatesSaved)
    def _saved(self, event: StatesSaved) -> None:
        if event.result is None:
            self.notify(Text(f"Not saved: {event.error}"), title="Push state",
                        severity="error", timeout=10)
            return
        saved, seen, problems = event.result.saved, event.result.seen, event.result.problems
        if problems:
            self.notify(Text("\n".join(problems)), title="Not changed", severity="warning",
                        timeout=10)
        by_id = {o.org_id: o for o in seen}
        self.candidates = [c.with_org(by_id.get(c.org.org_id, c.org)) for c in self.candidates]
        self.render_summary()
        self.announce(OrgsChanged(seen))
        if not saved:
            return
        state = saved[0].push.state
        self.notify(f"{len(saved)} org(s) now {PUSH_LABELS.get(state, state)}.", timeout=4)

    def action_back(self) -> None:
        self.dismiss()
