"""The keys that work here, on one line at the bottom: Textual's Footer as a single widget.

Textual's Footer mounts one widget per key and restyles every one of them whenever the
bindings change (focus moves, a screen opens): on the registry about 45 widgets and, right
after the first frame, ~50 ms of the UI thread that the rows' worker had to share. This
draws the same `screen.active_bindings` as one line of text; a click runs the key under
the pointer, as Footer's keys do.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

from rich.text import Text
from textual import events
from textual.widget import Widget

if TYPE_CHECKING:
    from textual.screen import Screen


class _Key(NamedTuple):
    start: int
    end: int
    key: str
    enabled: bool


class KeyBar(Widget, can_focus=False):
    """A one-line footer: ` a Add  e Edit … ` and the command palette key on the right."""

    ALLOW_SELECT = False
    COMPONENT_CLASSES = {"key-bar--key", "key-bar--description"}
    DEFAULT_CSS = """
    KeyBar {
        dock: bottom;
        height: 1;
        color: $footer-foreground;
        background: $footer-background;
        .key-bar--key {
            color: $footer-key-foreground;
            background: $footer-key-background;
            text-style: bold;
        }
        .key-bar--description {
            color: $footer-description-foreground;
            background: $footer-description-background;
        }
    }
    """

    def __init__(self) -> None:
        super().__init__()
        self._keys: list[_Key] = []

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self._bindings_changed)

    def on_unmount(self) -> None:
        self.screen.bindings_updated_signal.unsubscribe(self)

    def _bindings_changed(self, screen: Screen[object]) -> None:
        if screen is self.screen:
            self.refresh()

    def render(self) -> Text:
        key_style = self.get_component_rich_style("key-bar--key")
        description_style = self.get_component_rich_style("key-bar--description")
        entries: list[tuple[Text, str, bool, str]] = []
        palette: Text | None = None
        palette_key = ("", False)
        shown_actions: set[str] = set()
        for _node, binding, enabled, _tooltip in self.screen.active_bindings.values():
            label = Text.assemble(
                (f" {self.app.get_key_display(binding)} ", key_style),
                (f"{binding.description} ", description_style),
            )
            if not enabled:
                label.stylize("dim")
            if binding.action == "command_palette" and self.app.ENABLE_COMMAND_PALETTE:
                palette, palette_key = Text.assemble(("▏", "dim"), label), (binding.key, enabled)
                continue
            if not binding.show or binding.action in shown_actions:
                continue
            shown_actions.add(binding.action)  # one entry per action, as Footer does
            entries.append((label, binding.key, enabled, binding.action))
        entries = self._fit(entries, self.size.width)
        line = Text(no_wrap=True, overflow="crop", end="")
        keys: list[_Key] = []
        for label, key, enabled, _action in entries:
            start = len(line)
            line.append_text(label)
            if key:
                keys.append(_Key(start, len(line), key, enabled))
        if palette is not None and self.size.width - len(line) - len(palette) >= 1:
            line.append(" " * (self.size.width - len(line) - len(palette)))
            start = len(line)
            line.append_text(palette)
            keys.append(_Key(start, len(line), *palette_key))
        self._keys = keys
        return line

    @staticmethod
    def _fit(
        entries: list[tuple[Text, str, bool, str]], width: int
    ) -> list[tuple[Text, str, bool, str]]:
        """When the keys do not fit, drop from the end but keep `?` (help lists them all)."""
        if width <= 0 or sum(len(e[0]) for e in entries) <= width:
            return entries
        help_entry = next((e for e in entries if e[3] == "help"), None)
        rest = [e for e in entries if e is not help_entry]
        more = (Text(" … ", "dim"), "", False, "")
        kept: list[tuple[Text, str, bool, str]] = []
        room = width - len(more[0]) - (len(help_entry[0]) if help_entry else 0)
        for entry in rest:
            if len(entry[0]) > room:
                break
            kept.append(entry)
            room -= len(entry[0])
        return kept + [more] + ([help_entry] if help_entry else [])

    def on_mouse_down(self, event: events.MouseDown) -> None:
        for key in self._keys:
            if key.start <= event.x < key.end:
                if key.enabled:
                    self.app.simulate_key(key.key)
                else:
                    self.app.bell()
                return
