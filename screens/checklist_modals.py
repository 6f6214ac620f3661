"""Modals of the checklist screen: type a reason or note, read a whole step.

The org picker is the shared one (screens/org_picker.py); the styles are in checklist.tcss.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.widgets import Input, Static

from juston_tui.checklist import Step, StepState, step_status
from juston_tui.model import ValidationError
from juston_tui.screens.base import JustOnModal
from juston_tui.text import clean


class TextPromptScreen(JustOnModal[str | None]):
    """One line of text (a skip reason, a note). Mistakes are shown under the field and what
    was typed stays; answers the text, or None on esc."""

    CSS_PATH = "../styles/checklist.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

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


class StepDetailScreen(JustOnModal[None]):
    """The full text of one step: what, where, why, marks, evidence. Closes on esc/enter/q."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,enter,q", "close", "Close"),
        Binding("j", "scroll(1)", "Down", show=False),
        Binding("k", "scroll(-1)", "Up", show=False),
    ]
    CSS_PATH = "../styles/checklist.tcss"

    def __init__(self, details: Text) -> None:
        super().__init__()
        self.details = details

    def compose(self) -> ComposeResult:
        with Vertical(id="detail"):
            with VerticalScroll(id="detail-body"):
                yield Static(self.details)
            # The keys, always in view below the text (the text scrolls, this line does not).
            yield Static(Text("j/k, arrows: scroll · esc, enter, q: close", style="dim"),
                         id="detail-keys")

    def on_mount(self) -> None:
        self.query_one("#detail-body", VerticalScroll).focus()

    def action_scroll(self, delta: int) -> None:
        scroller = self.query_one("#detail-body", VerticalScroll)
        scroller.scroll_relative(y=delta, animate=False)

    def action_close(self) -> None:
        self.dismiss(None)
