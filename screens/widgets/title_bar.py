"""The top line: `≡` (opens the command palette) and the screen's title — the store.

Textual's Header is four widgets (icon, title, clock space, and itself) with their own CSS;
every screen mounts one. This draws the same line as one widget (~7 ms of the first frame),
laid out like Header: the icon in the first 8 cells, the title centred between them and the
10 cells Header keeps for its clock.
"""

from __future__ import annotations

from rich.text import Text
from textual import events
from textual.widget import Widget

ICON_CELLS = 8  # Header's icon: width 8 with padding 0 1
CLOCK_CELLS = 10  # Header's clock space, kept so the title sits where it always did


class TitleBar(Widget, can_focus=False):
    """Title and sub-title of the screen (else the app's); a click on `≡` opens the palette."""

    ALLOW_SELECT = False
    DEFAULT_CSS = """
    TitleBar {
        dock: top;
        width: 100%;
        height: 1;
        background: $panel;
        color: $foreground;
    }
    """

    def __init__(self, icon: str = "≡") -> None:
        super().__init__()
        self.icon = icon

    def on_mount(self) -> None:
        for node in (self.app, self.screen):
            for attribute in ("title", "sub_title"):
                self.watch(node, attribute, self._title_changed, init=False)

    def _title_changed(self) -> None:
        self.refresh()

    def title_text(self) -> Text:
        title = self.screen.title if self.screen.title is not None else self.app.title
        sub_title = (
            self.screen.sub_title if self.screen.sub_title is not None else self.app.sub_title
        )
        text = Text(title or "", no_wrap=True, end="")
        if sub_title:
            text.append(" — ", "dim")
            text.append(sub_title, "dim")
        return text

    def render(self) -> Text:
        width = self.size.width
        middle = max(0, width - ICON_CELLS - CLOCK_CELLS)
        title = self.title_text()
        if title.cell_len > middle:
            title.truncate(max(0, middle - 1))
            title.append("…")
        left = (middle - title.cell_len) // 2
        line = Text(no_wrap=True, end="")
        line.append(f" {self.icon}".ljust(ICON_CELLS))
        line.append(" " * left)
        line.append_text(title)
        line.append(" " * (width - line.cell_len))
        return line

    async def on_click(self, event: events.Click) -> None:
        if event.x < ICON_CELLS and self.app.ENABLE_COMMAND_PALETTE:
            event.stop()
            await self.run_action("app.command_palette")
