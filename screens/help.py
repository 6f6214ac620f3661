"""`?`: every key that works on the current screen, including the global ones.

The screen's own keys come first, grouped by what they act on (what the screen does, what
changes data, the row or field under the cursor), then the app's keys, and generic
navigation (arrows, pages, tab, copy) last: at 80x24 the screen's own keys are above the
fold. `key_groups` is the one reading of a screen's bindings; the command palette uses it too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, ClassVar

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Static

from juston_tui.screens.base import JustOnModal

# Moving around and generic widget chores: the same on every screen, so listed last.
_NAVIGATION = re.compile(
    r"^(app\.|screen\.)?(cursor_\w+|scroll_\w+|page_\w+|focus_\w+|copy_text|"
    r"first|last|home|end)$")


@dataclass(frozen=True)
class KeyEntry:
    key: str  # as shown ("R", "ctrl+s", "?")
    description: str
    enabled: bool
    action: str
    binding_key: str  # as Textual names it ("R", "question_mark"): for simulate_key


def _key_label(app: Any, key: str, display: str | None) -> str:
    if display:
        return display
    try:
        return app.get_key_display(Binding(key, ""))
    except Exception:
        return key


def _group_of(target: Screen[Any], node: Any, binding: Binding) -> str:
    if _NAVIGATION.match(binding.action):
        return "Navigation"
    if node is target:
        edits = getattr(target, "EDIT_ACTIONS", frozenset())
        return "Changes" if binding.action in edits else "This screen"
    if node is target.app:
        return "App"
    return "Under the cursor"


GROUP_ORDER = ("This screen", "Changes", "Under the cursor", "App", "Navigation")


def key_groups(target: Screen[Any]) -> list[tuple[str, list[KeyEntry]]]:
    """The keys active on `target`, in GROUP_ORDER, each group in binding order."""
    groups: dict[str, list[KeyEntry]] = {name: [] for name in GROUP_ORDER}
    seen: set[tuple[str, str]] = set()
    for key, active in target.active_bindings.items():
        binding = active.binding
        if binding.action.startswith("switch_mode("):
            continue  # the screens' keys 1-5: one line under the table says so
        description = binding.description or binding.action.replace("_", " ")
        label = _key_label(target.app, key, binding.key_display)
        if (label, description) in seen:
            continue
        seen.add((label, description))
        groups[_group_of(target, active.node, binding)].append(
            KeyEntry(label, description, active.enabled, binding.action, key))
    return [(name, entries) for name, entries in groups.items() if entries]


class HelpScreen(JustOnModal[None]):
    """A modal table of the bindings active on the screen underneath."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,question_mark,f1", "dismiss", "Close"),
    ]

    def __init__(self, target: Screen[Any]) -> None:
        super().__init__()
        self.target = target

    def compose(self) -> ComposeResult:
        table = Table(box=None, expand=False, show_header=False, padding=(0, 1))
        table.add_column("Key", no_wrap=True, min_width=12)
        table.add_column("Action")
        self.entries: list[tuple[str, str, bool]] = []  # (key, description, enabled)
        self.groups = key_groups(self.target)
        for n, (name, entries) in enumerate(self.groups):
            if n:
                table.add_row("", "")
            table.add_row(Text(name, style="bold underline"), "")
            for entry in entries:
                self.entries.append((entry.key, entry.description, entry.enabled))
                table.add_row(Text(entry.key, style="bold"),
                              Text(entry.description, style="" if entry.enabled else "dim"))
        title = getattr(self.target, "TITLE", None) or type(self.target).__name__
        with VerticalScroll():
            yield Static(Text(f"Keys: {title}", style="bold"))
            yield Static(table)
            yield Static(Text("Screens: 1-5 · Command palette: ctrl+p · Close: esc",
                              style="dim"))

    async def action_dismiss(self, result: None = None) -> None:
        self.dismiss(result)
