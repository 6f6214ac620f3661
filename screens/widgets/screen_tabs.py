"""The strip of numbered screen names under the header: where you are, where 1-5 go."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static


class ScreenTabs(Static):
    """Shows `1 Orgs  2 Checklist …` with the current screen highlighted."""

    DEFAULT_CSS = """
    ScreenTabs { height: 1; padding: 0 1; background: $panel; }
    """

    def __init__(self, current: str) -> None:
        super().__init__()
        self.current = current

    def on_mount(self) -> None:
        text = Text()
        for spec in getattr(self.app, "specs", ()):
            style = "bold reverse" if spec.mode == self.current else ""
            text.append(f" {spec.key} ", style="bold " + style)
            text.append(f"{spec.title} ", style=style)
            text.append(" ")
        self.update(text)
