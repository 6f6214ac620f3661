"""Shared shape of every top-level screen: header, screen tabs, footer, read-only rules."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen

from juston_tui.screens.widgets.key_bar import KeyBar
from juston_tui.screens.widgets.screen_tabs import ScreenTabs
from juston_tui.screens.widgets.title_bar import TitleBar

if TYPE_CHECKING:
    from juston_tui.app import JustOnApp


class JustOnScreen(Screen[None]):
    """Base for the five top-level screens.

    Subclasses implement `compose_body` and list the actions that change data in
    `EDIT_ACTIONS`; in read-only mode those are hidden from the footer and refused.
    """

    EDIT_ACTIONS: ClassVar[frozenset[str]] = frozenset()
    MODE: ClassVar[str] = ""
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("j", "cursor_down", "Down", show=False),
        Binding("k", "cursor_up", "Up", show=False),
    ]

    @property
    def juston(self) -> JustOnApp:
        return self.app  # type: ignore[return-value]

    @property
    def read_only(self) -> bool:
        return bool(getattr(self.app, "read_only", False))

    def compose(self) -> ComposeResult:
        yield TitleBar()
        yield ScreenTabs(self.MODE)
        yield from self.compose_body()
        yield KeyBar()

    def compose_body(self) -> ComposeResult:
        raise NotImplementedError

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return not (action in self.EDIT_ACTIONS and self.read_only)

    def refuse_read_only(self) -> bool:
        """For edits reached other ways (forms): tell the user and return True when refused."""
        if self.read_only:
            self.notify("Read-only mode: nothing can be changed.", severity="warning")
            return True
        return False

    def action_cursor_down(self) -> None:
        focused = self.focused
        if focused is not None and hasattr(focused, "action_cursor_down"):
            focused.action_cursor_down()

    def action_cursor_up(self) -> None:
        focused = self.focused
        if focused is not None and hasattr(focused, "action_cursor_up"):
            focused.action_cursor_up()

    def focus_request(self, **kwargs: Any) -> None:
        """Called by `app.open_screen(mode, org_id=...)`; screens override what they support."""
