"""The Textual app: screen registry, global bindings, command palette, worker errors.

Kept thin on purpose: each screen lives in `juston_tui.screens` and talks to the core through
the attributes set here (`store`, `read_only`, `get_credentials()`, `demo`).
"""

from __future__ import annotations

import importlib
import importlib.util
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from importlib.resources import files
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual import on
from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.notifications import SeverityLevel
from textual.screen import Screen
from textual.worker import Worker, WorkerState

from juston_tui.model import now_utc
from juston_tui.text import clean

if TYPE_CHECKING:
    from juston_tui.credentials import CredentialStore
    from juston_tui.store import Store

STYLES = Path(str(files("juston_tui.styles")))


@dataclass(frozen=True)
class ScreenSpec:
    key: str
    mode: str
    title: str
    module: str
    cls: str
    help: str


SCREEN_SPECS = (
    ScreenSpec("1", "registry", "Orgs", "juston_tui.screens.registry", "RegistryScreen",
               "Every registered org: versions, licences, push registration, last check"),
    ScreenSpec("2", "checklist", "Checklist", "juston_tui.screens.checklist", "ChecklistScreen",
               "Walk through the JustOn installation steps for one org"),
    ScreenSpec("3", "access", "Access", "juston_tui.screens.access", "AccessScreen",
               "JustOn Platform connected-app access per org"),
    ScreenSpec("4", "calendar", "Calendar", "juston_tui.screens.calendar", "CalendarScreen",
               "Upcoming push upgrades, announcements and releases"),
    ScreenSpec("5", "contacts", "Contacts", "juston_tui.screens.contacts", "ContactsScreen",
               "People to notify about push upgrades"),
)


def available_specs() -> list[ScreenSpec]:
    """Screens whose module is installed; a missing screen is simply not offered."""
    return [s for s in SCREEN_SPECS if importlib.util.find_spec(s.module) is not None]


def _loader(spec: ScreenSpec) -> Callable[[], Screen[Any]]:
    def load() -> Screen[Any]:
        module = importlib.import_module(spec.module)
        return getattr(module, spec.cls)()

    return load


class JustOnApp(App[None]):
    """juston-tui's application object."""

    TITLE = "juston-tui"
    CSS_PATH = STYLES / "app.tcss"
    ENABLE_COMMAND_PALETTE = True
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("question_mark", "help", "Keys", key_display="?"),
        Binding("ctrl+q", "quit", "Quit", priority=True),
    ]

    def __init__(
        self,
        *,
        store: Store,
        credentials: CredentialStore | None = None,
        keyring_mode: str = "auto",
        read_only: bool = False,
        demo: Any = None,
        start_mode: str | None = None,
    ) -> None:
        self.specs = available_specs()
        self.MODES = {s.mode: _loader(s) for s in self.specs}
        super().__init__()
        self.store = store
        self.read_only = read_only or store.read_only
        self.demo = demo
        self._credentials = credentials
        self._keyring_mode = keyring_mode
        self._credentials_lock = threading.Lock()
        self._start_mode = start_mode
        # "Now" for ages and countdowns; tests pin it to get stable screens.
        self.clock: Callable[[], datetime] = now_utc
        for spec in self.specs:
            self.bind(spec.key, f"switch_mode('{spec.mode}')", description=spec.title,
                      show=False)
        self.sub_title = self._describe_store()

    def _describe_store(self) -> str:
        parts = [clean(str(self.store.path))]
        if self.demo is not None:
            parts = ["demo (simulated orgs)"]
        if self.read_only:
            parts.append("READ-ONLY")
        return " · ".join(parts)

    # -- credentials are resolved lazily: keyring costs ~0.2 s to import ----------------------
    def get_credentials(self) -> CredentialStore:
        """The credential store; call from a worker thread (first use imports keyring)."""
        with self._credentials_lock:
            if self._credentials is None:
                from juston_tui.credentials import CredentialsUnavailable, open_credentials

                try:
                    self._credentials = open_credentials(self._keyring_mode)
                except CredentialsUnavailable:
                    self._credentials = open_credentials("auto")
            return self._credentials

    # -- lifecycle --------------------------------------------------------------------------
    def on_mount(self) -> None:
        if not self.specs:
            self.notify("No screens are installed.", severity="error")
            return
        mode = self._start_mode or self.specs[0].mode
        self.switch_mode(mode)
        for warning in self.store.warnings:
            self.notify(warning, severity="warning", markup=False)
        self.watch_store()

    def watch_store(self) -> None:
        """Poll the store file so screens learn about another instance's (or a script's) edits."""
        self.set_interval(1.5, self._poll_store, name="store-watch")

    def _poll_store(self) -> None:
        # A short-lived worker per tick (a stat), so `workers.wait_for_complete()` can finish.
        self.run_worker(self._check_store, thread=True, group="store-watch", exclusive=True,
                        exit_on_error=False, name="store-watch")

    def _check_store(self) -> None:
        from juston_tui.screens.messages import StoreChanged

        try:
            changed = self.store.changed_on_disk()
        except OSError:
            return
        if changed:
            self.call_from_thread(self._broadcast_store_changed, StoreChanged)

    def _broadcast_store_changed(self, message_cls: type) -> None:
        self.screen.post_message(message_cls())

    def notify(
        self,
        message: str | Text,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = True,
    ) -> None:
        """Toasts show untrusted text literally.

        A `rich.text.Text` (what screens build from org names and API errors) goes out as
        plain text without markup; control characters never reach the terminal.
        """
        if isinstance(message, Text):
            message, markup = message.plain, False
        super().notify(
            clean(message, single_line=False),
            title=clean(title),
            severity=severity,
            timeout=timeout,
            markup=markup,
        )

    def _fatal_error(self) -> None:
        """Exit after an unhandled exception, printing a traceback without local variables.

        Textual's default shows locals, which could put a typed secret (a form's values) into
        the terminal's scrollback.
        """
        import rich
        from rich.segment import Segments
        from rich.traceback import Traceback

        self.bell()
        traceback = Traceback(show_locals=False, width=None, suppress=[rich])
        self._exit_renderables.append(
            Segments(self.console.render(traceback, self.console.options))
        )
        self._close_messages_no_wait()

    # -- one handler for every worker's failure ----------------------------------------------
    @on(Worker.StateChanged)
    def _worker_failed(self, event: Worker.StateChanged) -> None:
        if event.state != WorkerState.ERROR:
            return
        error = event.worker.error
        self.notify(
            clean(f"{event.worker.name or 'background task'} failed: {error}", limit=300),
            title="Error",
            severity="error",
            timeout=10,
            markup=False,
        )

    # -- global actions --------------------------------------------------------------------
    def action_help(self) -> None:
        from juston_tui.screens.help import HelpScreen

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(self.screen))

    def open_screen(self, mode: str, **kwargs: Any) -> Screen[Any] | None:
        """Switch to a top-level screen and hand it a focus request (e.g. org_id=...)."""
        if mode not in self.MODES:
            self.notify(f"The {mode} screen is not available.", severity="warning")
            return None
        self.switch_mode(mode)
        screen = self.screen
        focus = getattr(screen, "focus_request", None)
        if kwargs and callable(focus):
            focus(**kwargs)
        return screen

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        for spec in self.specs:
            yield SystemCommand(
                f"Go to {spec.title} ({spec.key})", spec.help,
                lambda mode=spec.mode: self.switch_mode(mode),
            )
        yield SystemCommand("Show keys (?)", "Every key that works on this screen",
                            self.action_help)
