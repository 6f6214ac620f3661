"""The shapes every screen shares: the app's store and read-only rule, and the chrome.

- `JustOnScreen`: the five top-level screens (title, screen tabs, body, key bar).
- `JustOnModal[T]`: every modal (forms, prompts, pickers, dialogs) that returns a `T`.
- `JustOnSubScreen[T]`: full screens pushed over a top-level one (org detail, push request).

All three know the app (`juston`, `store`) and hide and refuse the actions listed in
`EDIT_ACTIONS` in read-only mode, so no screen re-implements that gate.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar

from textual import events
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import ModalScreen, Screen

from juston_tui.screens.messages import Relayed
from juston_tui.screens.widgets.key_bar import KeyBar
from juston_tui.screens.widgets.screen_tabs import ScreenTabs
from juston_tui.screens.widgets.title_bar import TitleBar

if TYPE_CHECKING:
    from juston_tui.app import JustOnApp
    from juston_tui.store import Store

ResultType = TypeVar("ResultType")


class JustOnMixin:
    """The app, its store and the read-only gate (mixed into every screen class here)."""

    EDIT_ACTIONS: ClassVar[frozenset[str]] = frozenset()
    app: Any

    @property
    def juston(self) -> JustOnApp:
        return self.app  # type: ignore[no-any-return]

    @property
    def store(self) -> Store:
        """The app's store (its first use waits for the start-up parse: call from workers)."""
        return self.juston.store

    @property
    def read_only(self) -> bool:
        return bool(getattr(self.app, "read_only", False))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return not (action in self.EDIT_ACTIONS and self.read_only)

    def announce(self, message: Relayed) -> bool:
        """Post a message that the app hands on to the other screens (thread-safe, so workers
        pass `self.announce` to code that reports results)."""
        message.origin = self
        return bool(self.post_message(message))  # type: ignore[attr-defined]

    # Textual dispatches these along the MRO, next to a subclass's own on_mount/on_unmount.
    def _on_mount(self, event: events.Mount) -> None:
        register = getattr(self.app, "screen_mounted", None)
        if register is not None:
            register(self)

    def _on_unmount(self, event: events.Unmount) -> None:
        unregister = getattr(self.app, "screen_unmounted", None)
        if unregister is not None:
            unregister(self)

    def refuse_read_only(self) -> bool:
        """For edits reached other ways (a form's save): say so and return True when refused."""
        if self.read_only:
            self.notify("Read-only mode: nothing can be changed.",  # type: ignore[attr-defined]
                        severity="warning")
            return True
        return False


class JustOnScreen(JustOnMixin, Screen[None]):
    """Base for the five top-level screens.

    Subclasses implement `compose_body` and list the actions that change data in
    `EDIT_ACTIONS`; in read-only mode those are hidden from the key bar and refused.
    """

    MODE: ClassVar[str] = ""
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("j", "cursor_down", "Down", show=False),
        Binding("k", "cursor_up", "Up", show=False),
    ]

    def compose(self) -> ComposeResult:
        yield TitleBar()
        yield ScreenTabs(self.MODE)
        yield from self.compose_body()
        yield KeyBar()

    def compose_body(self) -> ComposeResult:
        raise NotImplementedError

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


class JustOnModal(JustOnMixin, ModalScreen[ResultType], Generic[ResultType]):
    """Base for every modal: dismisses with a `ResultType`; read-only gate included.

    Every modal gets the key bar at the bottom and `?` (a modal screen hides the app's own
    bindings, so `?` is bound here again). In a text field `?` is typed, so `f1` opens the
    keys there (the key bar shows whichever works). A subclass's own KeyBar is kept.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("question_mark", "help", "Keys", key_display="?"),
        Binding("f1", "help", "Keys"),
    ]

    def _on_mount(self, event: events.Mount) -> None:
        if not self.query(KeyBar):
            self.mount(KeyBar())

    def action_help(self) -> None:
        self.juston.action_help()


class JustOnSubScreen(JustOnMixin, Screen[ResultType], Generic[ResultType]):
    """Base for full screens pushed over a top-level one (esc goes back)."""
