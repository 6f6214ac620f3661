"""A yes/no question that answers with the keyboard alone (y / n / esc)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import ClassVar

from rich.text import Text
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Static

from juston_tui.screens.base import JustOnModal
from juston_tui.text import clean


class ConfirmScreen(JustOnModal[bool]):
    """Dismisses with True on `y`/Yes, False on `n`/`esc`/No. The question is plain text."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "answer(True)", "Yes"),
        Binding("n,escape", "answer(False)", "No"),
    ]

    def __init__(self, question: str, *, yes: str = "Yes", no: str = "No") -> None:
        super().__init__()
        self.question = question
        self.yes = yes
        self.no = no

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Text(self.question))  # Text, not markup: names are untrusted
            with Horizontal():
                yield Button(f"{self.yes} (y)", variant="error", id="yes")
                yield Button(f"{self.no} (n)", id="no")

    def on_mount(self) -> None:
        self.query_one("#no", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")

    def action_answer(self, value: bool) -> None:
        self.dismiss(value)


def ask_to_replace(app: App[object], path: Path, replace: Callable[[], object]) -> None:
    """`path` exists: ask before replacing it (an export never overwrites a file unasked)."""

    def answered(yes: bool | None) -> None:
        if yes:
            replace()

    app.push_screen(ConfirmScreen(f"{clean(str(path))} already exists. Replace it?",
                                  yes="Replace", no="Keep it"), answered)
