"""The `/` filter box of the list screens: hidden until asked for, filters as you type.

`open()` shows and focuses it; each keystroke posts `FilterBox.FilterChanged`; enter posts
`FilterBox.FilterSubmitted` (the screen puts the focus back on its list, the filter stays);
`clear()` empties and hides it (esc). The screen owns what a match is.
"""

from __future__ import annotations

from textual import on
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
