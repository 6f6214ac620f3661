"""`?`: every key that works on the current screen, including the global ones."""

from __future__ import annotations

from typing import Any, ClassVar

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Static

from juston_tui.screens.base import JustOnModal


def _key_label(app: Any, key: str, display: str | None) -> str:
    if display:
        return display
    try:
        return app.get_key_display(Binding(key, ""))
    except Exception:
        return key


class HelpScreen(JustOnModal[None]):
    """A modal table of the bindings active on the screen underneath."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,question_mark", "dismiss", "Close"),
    ]


    def __init__(self, target: Screen[Any]) -> None:
        super().__init__()
        self.target = target

    def compose(self) -> ComposeResult:
        table = Table(box=None, expand=True, show_header=True, header_style="bold")
        table.add_column("Key", no_wrap=True)
        table.add_column("Action")
        seen: set[tuple[str, str]] = set()
        self.entries: list[tuple[str, str, bool]] = []  # (key, description, enabled)
        for key, active in self.target.active_bindings.items():
            binding = active.binding
            description = binding.description or binding.action.replace("_", " ")
            label = _key_label(self.app, key, binding.key_display)
            if (label, description) in seen:
                continue
            seen.add((label, description))
            enabled = active.enabled
            self.entries.append((label, description, enabled))
            table.add_row(Text(label), Text(description, style="" if enabled else "dim"))
        title = getattr(self.target, "TITLE", None) or type(self.target).__name__
        with VerticalScroll():
            yield Static(Text(f"Keys: {title}", style="bold"))
            yield Static(table)
            yield Static(Text("Screens: 1-5 · Command palette: ctrl+p · Close: esc",
                              style="dim"))

    async def action_dismiss(self, result: None = None) -> None:
        self.dismiss(result)
