"""Modals of the checklist screen: pick an org, type a reason or note, read a whole step."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from juston_tui.checklist import Step, StepState, step_status
from juston_tui.model import Org, ValidationError
from juston_tui.text import clean

PICKER_LIMIT = 200  # rows shown at once; typing narrows the rest


class OrgPickerScreen(ModalScreen[str | None]):
    """Choose an org by typing part of its name or ID; answers the org ID or None (esc)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel"),
        Binding("down", "move(1)", "Down", show=False),
        Binding("up", "move(-1)", "Up", show=False),
    ]
    DEFAULT_CSS = """
    OrgPickerScreen { align: center middle; }
    OrgPickerScreen #picker {
        width: 76; max-width: 98%; height: auto; max-height: 90%;
        border: round $accent; background: $surface; padding: 0 1;
    }
    OrgPickerScreen #picker-list { height: auto; max-height: 14; border: none; }
    """

    def __init__(self, orgs: Sequence[Org], current: str | None = None) -> None:
        super().__init__()
        self.orgs = sorted(orgs, key=lambda o: (o.name.casefold(), o.org_id))
        self.current = current

    def compose(self) -> ComposeResult:
        with Vertical(id="picker"):
            yield Static(Text("Choose an org (type to filter, enter to open, esc to cancel)",
                              style="bold"))
            yield Input(placeholder="name or org ID", id="picker-filter")
            yield OptionList(id="picker-list")
            yield Static("", id="picker-count", classes="muted")

    def on_mount(self) -> None:
        self._fill("")
        self.query_one("#picker-filter", Input).focus()

    def _matches(self, query: str) -> list[Org]:
        q = query.strip().casefold()
        if not q:
            return self.orgs
        return [o for o in self.orgs if q in o.name.casefold() or q in o.org_id.casefold()]

    def _fill(self, query: str) -> None:
        matches = self._matches(query)
        options = self.query_one("#picker-list", OptionList)
        rows = []
        for org in matches[:PICKER_LIMIT]:
            label = Text(clean(org.name, limit=60))
            label.append(f"  {org.org_id} · {org.kind}", style="dim")
            rows.append(Option(label, id=org.org_id))
        options.set_options(rows)
        if rows:
            index = 0
            if self.current and not query:
                try:
                    index = options.get_option_index(self.current)
                except Exception:
                    index = 0
            options.highlighted = index
        more = len(matches) - len(rows)
        count = f"{len(matches)} org(s)" + (f", {more} more: type to narrow" if more > 0 else "")
        self.query_one("#picker-count", Static).update(count)

    @on(Input.Changed, "#picker-filter")
    def _filter(self, event: Input.Changed) -> None:
        self._fill(event.value)

    @on(Input.Submitted, "#picker-filter")
    def _submit(self) -> None:
        option = self.query_one("#picker-list", OptionList).highlighted_option
        if option is not None:
            self.dismiss(option.id)

    @on(OptionList.OptionSelected, "#picker-list")
    def _selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def action_move(self, delta: int) -> None:
        options = self.query_one("#picker-list", OptionList)
        if delta > 0:
            options.action_cursor_down()
        else:
            options.action_cursor_up()

    def action_cancel(self) -> None:
        self.dismiss(None)


class TextPromptScreen(ModalScreen[str | None]):
    """One line of text (a skip reason, a note). Mistakes are shown under the field and what
    was typed stays; answers the text, or None on esc."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]
    DEFAULT_CSS = """
    TextPromptScreen { align: center middle; }
    TextPromptScreen #prompt {
        width: 72; max-width: 98%; height: auto; border: round $accent;
        background: $surface; padding: 0 1;
    }
    """

    def __init__(self, title: str, context: str, *, value: str = "", placeholder: str = "",
                 field: str = "value", validate: Callable[[str], str] | None = None) -> None:
        super().__init__()
        self.title_text = title
        self.context = context
        self.value = value
        self.placeholder = placeholder
        self.field_name = field
        self.validate = validate

    def compose(self) -> ComposeResult:
        with Vertical(id="prompt"):
            yield Static(Text(self.title_text, style="bold"))
            yield Static(Text(clean(self.context)), classes="muted")
            # A stored note is shown without control characters; left as shown, it stays.
            yield Input(value=clean(self.value), placeholder=self.placeholder,
                        id="prompt-input")
            yield Static("", id="prompt-error", classes="field-error")
            yield Static(Text("enter: save · esc: cancel", style="dim"))

    def on_mount(self) -> None:
        self.query_one("#prompt-input", Input).focus()

    @on(Input.Submitted, "#prompt-input")
    def _submit(self, event: Input.Submitted) -> None:
        value = self.value if event.value == clean(self.value) else event.value
        if self.validate is not None:
            try:
                value = self.validate(value)
            except ValidationError as exc:
                message = exc.errors.get(self.field_name) or "; ".join(exc.errors.values())
                self.query_one("#prompt-error", Static).update(Text(message))
                self.query_one("#prompt-input", Input).add_class("-invalid")
                return
        self.dismiss(value)

    def action_cancel(self) -> None:
        self.dismiss(None)


STATUS_WORDS = {
    "verified": "verified by the API",
    "done": "marked done",
    "skipped": "skipped",
    "failing": "verification FAILED",
    "open": "open",
}


def step_details(step: Step, group_title: str, state: StepState | None,
                 verify_label: str) -> Text:
    """Everything about one step, built as Text (stored values are untrusted)."""
    out = Text()

    def section(title: str, body: str, style: str = "") -> None:
        out.append(f"{title}\n", style="bold")
        out.append(clean(body, single_line=False) + "\n\n", style=style)

    out.append(f"{step.title}\n", style="bold underline")
    out.append(f"{group_title} · {STATUS_WORDS[step_status(state)]}\n\n", style="dim")
    section("What to do", step.what)
    section("Where", "\n".join(step.where))
    section("Why", step.why)
    section("Verification", verify_label)
    if state is not None and state.state != "open" and state.by:
        section("Marked", f"{state.state} by {state.by} at {state.at}")
    elif state is not None and state.by:
        section("Marked", f"reopened by {state.by} at {state.at}")
    if state is not None and state.skip_reason:
        section("Skipped because", state.skip_reason)
    if state is not None and state.note:
        section(f"Note ({state.note_by}, {state.note_at})", state.note)
    verification = state.verification if state is not None else None
    if verification is not None:
        style = {"ok": "green", "fail": "bold red"}.get(verification.verdict, "yellow")
        out.append("Last verification\n", style="bold")
        out.append(f"{verification.verdict}: ", style=style)
        out.append(clean(verification.reason) + "\n")
        out.append(f"read at {clean(verification.verified_at)}\n", style="dim")
        for key, value in verification.evidence.items():
            if isinstance(value, list | tuple):
                value = ", ".join(str(v) for v in value) or "none"
            out.append(f"  {clean(key)}: ", style="dim")
            out.append(clean(value if value is not None else "unknown") + "\n")
        if verification.verdict != "ok" and verification.fix:
            out.append("\nFix\n", style="bold")
            out.append(clean(verification.fix, single_line=False) + "\n")
    return out


class StepDetailScreen(ModalScreen[None]):
    """The full text of one step: what, where, why, marks, evidence. Closes on esc/enter/q."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,enter,q", "close", "Close"),
        Binding("j", "scroll(1)", "Down", show=False),
        Binding("k", "scroll(-1)", "Up", show=False),
    ]
    DEFAULT_CSS = """
    StepDetailScreen { align: center middle; }
    StepDetailScreen #detail {
        width: 90; max-width: 98%; height: auto; max-height: 95%;
        border: round $accent; background: $surface; padding: 0 1;
    }
    """

    def __init__(self, details: Text) -> None:
        super().__init__()
        self.details = details

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="detail"):
            yield Static(self.details)

    def on_mount(self) -> None:
        self.query_one("#detail", VerticalScroll).focus()

    def action_scroll(self, delta: int) -> None:
        scroller = self.query_one("#detail", VerticalScroll)
        scroller.scroll_relative(y=delta, animate=False)

    def action_close(self) -> None:
        self.dismiss(None)
