"""The `/` filter box of the list screens: hidden until asked for, filters as you type.

`open()` shows and focuses it; each keystroke posts `FilterBox.FilterChanged`; enter posts
`FilterBox.FilterSubmitted` (the screen puts the focus back on its list, the filter stays);
`clear()` empties and hides it (esc). The screen owns what a match is.
"""

from __future__ import annotations

from typing import Self

from textual import on
from textual.geometry import Region
from textual.message import Message
from textual.widgets import Input


class FilterBox(Input):
    """An Input that starts hidden and reports as filter messages, not Input messages."""

    DEFAULT_CSS = """
    FilterBox { display: none; height: 3; margin: 0 1; }
    """

    class FilterChanged(Message):
        """The filter text changed (every keystroke, and on clear)."""

        def __init__(self, box: FilterBox, value: str) -> None:
            super().__init__()
            self.box = box
            self.value = value

        @property
        def control(self) -> FilterBox:
            return self.box

    class FilterSubmitted(Message):
        """Enter in the box: back to the list, filter kept."""

        def __init__(self, box: FilterBox, value: str) -> None:
            super().__init__()
            self.box = box
            self.value = value

        @property
        def control(self) -> FilterBox:
            return self.box

    _typing = False  # inside Input's value watcher

    def _watch_value(self, value: str) -> None:
        # Input sets its virtual width (the text's width) on every change, and that reactive
        # lays out the whole screen: 10-30 ms of each keystroke on the registry with 10,000
        # orgs (bench/registry_bench.py). The box's own size never depends on its text
        # (height 3, the screen's width; auto dimensions still lay out), and it scrolls its
        # text from `virtual_size` itself, so a repaint of the box is enough.
        self._typing = True
        try:
            super()._watch_value(value)
        finally:
            self._typing = False

    def refresh(self, *regions: Region, repaint: bool = True, layout: bool = False,
                recompose: bool = False) -> Self:
        if layout and self._typing and not self.styles.auto_dimensions:
            layout = False
        return super().refresh(*regions, repaint=repaint, layout=layout, recompose=recompose)

    def open(self) -> None:
        self.display = True
        # Focus now, not after the next refresh (Widget.focus defers): keys typed right
        # after `/` are already queued and would otherwise reach the table behind the box.
        self.screen.set_focus(self)

    def clear(self) -> bool:
        """Empty and hide the box; False when there was nothing to clear."""
        had = bool(self.display or self.value)
        self.value = ""
        self.display = False
        return had

    @on(Input.Changed)
    def _changed(self, event: Input.Changed) -> None:
        if event.input is self:
            event.stop()
            self.post_message(self.FilterChanged(self, event.value))

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        if event.input is self:
            event.stop()
            self.post_message(self.FilterSubmitted(self, event.value))
