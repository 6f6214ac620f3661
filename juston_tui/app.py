"""The Textual app: screen registry, global bindings, command palette, worker errors.

Kept thin on purpose: each screen lives in `juston_tui.screens` and talks to the core through
the attributes set here (`store`, `read_only`, `get_credentials()`, `demo`).
"""

from __future__ import annotations

import gc
import importlib
import importlib.util
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import rich
from rich.segment import Segments
from rich.text import Text
from textual import on
from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.command import Provider
from textual.notifications import SeverityLevel
from textual.screen import Screen
from textual.worker import Worker, WorkerState

from juston_tui.credentials import CredentialsUnavailable, open_credentials
from juston_tui.gc_pause import enable_gc, paused_gc
from juston_tui.model import now_utc
from juston_tui.screens.messages import Relayed, StoreChanged
from juston_tui.screens.stylesheet import CachedStylesheet
from juston_tui.store import StoreError
from juston_tui.store.first_page import FirstPage, Stamp, save_page
from juston_tui.text import clean

if TYPE_CHECKING:
    from juston_tui.credentials import CredentialStore
    from juston_tui.store import Store

# The styles package is ./styles in a checkout and juston_tui/styles in a wheel; find_spec
# locates both without importing importlib.resources (zipfile and friends: ~4 ms of start-up).
_styles_spec = importlib.util.find_spec("juston_tui.styles")
assert _styles_spec is not None and _styles_spec.submodule_search_locations
STYLES = Path(next(iter(_styles_spec.submodule_search_locations)))


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


def _loader(spec: ScreenSpec) -> Callable[[], Screen[Any]]:
    """A screen's module is imported when it is first shown, not at start-up (importing the
    other four before the first frame would cost ~170 ms here)."""

    def load() -> Screen[Any]:
        module = importlib.import_module(spec.module)
        return getattr(module, spec.cls)()

    return load


def _screen_actions() -> type[Provider]:
    """The palette's provider, imported when the palette first opens (not at start-up:
    help.py's tables are not needed before the first frame)."""
    # app -> screens seam: the first frame paints before this loads
    from juston_tui.screens.palette import ScreenActions

    return ScreenActions


class JustOnApp(App[None]):
    """juston-tui's application object."""

    TITLE = "juston-tui"
    CSS_PATH = STYLES / "app.tcss"
    ENABLE_COMMAND_PALETTE = True
    # The current screen's actions as commands (screens/palette.py), next to the system ones.
    COMMANDS = App.COMMANDS | {_screen_actions}
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
        own_process: bool = False,
        first_page: FirstPage | None = None,
        first_page_dir: Path | None = None,
    ) -> None:
        self.specs = list(SCREEN_SPECS)
        self.MODES = {s.mode: _loader(s) for s in self.specs}
        super().__init__()
        self.stylesheet = CachedStylesheet.replacing(self.stylesheet)
        self._store = store
        # Set when the store could not be read after start-up; launch.py reports it on the
        # plain terminal (the same one-line message a command gives) once the UI is gone.
        self.startup_error: Exception | None = None
        # Launched from the command line, the app owns the process and tunes its garbage
        # collector (see `freeze_long_lived`); tests build many apps in one process and don't.
        self.own_process = own_process
        self.read_only = read_only or store.read_only
        self.demo = demo
        self._credentials = credentials
        self._keyring_mode = keyring_mode
        self._credentials_lock = threading.Lock()
        self._start_mode = start_mode
        # The registry's first screenful from the last start (launch.py checked that the
        # store is unchanged since), and where to keep the next one; None: no pages (tests).
        self._first_page = first_page
        self.first_page_dir = first_page_dir
        # Every mounted JustOn screen (top-level or pushed), for `_relay`.
        self._live_screens: list[Screen[Any]] = []
        # "Now" for ages and countdowns; tests pin it to get stable screens.
        self.clock: Callable[[], datetime] = now_utc
        for spec in self.specs:
            self.bind(spec.key, f"switch_mode('{spec.mode}')", description=spec.title,
                      show=False)
        self.sub_title = self._describe_store()

    def _describe_store(self) -> str:
        parts = [clean(str(self._store.path))]
        if self.demo is not None:
            # The demo is a place to work in: the same data from another terminal.
            parts = ["demo · also on the command line: juston-tui --demo status"]
        if self.read_only:
            parts.append("READ-ONLY")
        return " · ".join(parts)

    # -- credentials are resolved lazily: keyring costs ~0.2 s to import ----------------------
    def get_credentials(self) -> CredentialStore:
        """The credential store; call from a worker thread (first use imports keyring)."""
        with self._credentials_lock:
            if self._credentials is None:

                try:
                    self._credentials = open_credentials(self._keyring_mode)
                except CredentialsUnavailable:
                    self._credentials = open_credentials("auto")
            return self._credentials

    @property
    def store(self) -> Store:
        """The store, parsed and migrated.

        launch.py opens it without parsing so the first frame comes first; the parse runs in
        a worker right after that frame. Code that needs the store sooner waits for it here.
        """
        if not self._store.loaded:
            self._store.load()
        return self._store

    @property
    def store_path(self) -> Path:
        """Where the store lives (known before it is parsed)."""
        return self._store.path

    def take_first_page(self) -> FirstPage | None:
        """The first page, once: only the first registry shown at start-up may use it."""
        page, self._first_page = self._first_page, None
        return page

    def parse_snapshot_line(self, line: bytes) -> dict[str, Any]:
        """A stored snapshot line as its document (a first page's rows: no store parse)."""
        return self._store.parse_snapshot_line(line)

    def save_first_page(self, stamp: Stamp, page: FirstPage) -> None:
        """Keep `page` (read at `stamp`) for the next start; from a worker (it writes)."""
        if self.first_page_dir is not None:
            save_page(self.first_page_dir, self._store.path, stamp, page,
                      self._store.snapshots_path)

    # -- lifecycle --------------------------------------------------------------------------
    def on_mount(self) -> None:
        if not self.specs:
            self.notify("No screens are installed.", severity="error")
            return
        # Every screen reads the store in its own worker (through `store`, which waits for
        # the parse), so any of them can be shown before the store is read.
        self.switch_mode(self._start_mode or self.specs[0].mode)
        # After the first frame: the parse holds the GIL and would delay that frame.
        self.call_after_refresh(self._after_first_frame)

    def _after_first_frame(self) -> None:
        if self.own_process:
            # launch.py holds the cyclic GC off until here (~20 ms of start-up); what exists
            # now (modules, classes, widgets) lives as long as the app.
            self.freeze_long_lived()
            enable_gc()
        self.run_worker(self._load_store, thread=True, name="reading the store",
                        group="store-load", exit_on_error=False)

    def _load_store(self) -> None:
        # The GC stays off until the parsed store is frozen: switched back on in between, its
        # first young collection would scan every freshly parsed object (~200 ms at 10,000
        # orgs with snapshots, measured in bench/registry_bench.py's rows on screen).
        with paused_gc():
            self._store.load()
            self.freeze_long_lived()
        self.call_from_thread(self._store_loaded)

    def freeze_long_lived(self) -> None:
        """Keep the cyclic GC from rescanning what exists now (the parsed store, 10,000 rows).

        Measured: 200-480 ms pauses while sorting 10,000 orgs without it, and a 40 ms scan of
        freshly built rows. Called at start-up only (first frame, store parsed, first rows):
        garbage that happens to exist when it runs is never collected, which is bounded once
        but would add up on every reload. And only when the app owns the process: in a test
        run it would keep every earlier test's garbage.
        """
        if self.own_process:
            gc.freeze()

    def _store_loaded(self) -> None:
        for warning in self._store.warnings:
            self.notify(warning, severity="warning", markup=False)
        self.watch_store()

    def _handle_exception(self, error: Exception) -> None:
        """A store that cannot be read at start-up ends the app with its one-line message.

        Only before the store is loaded: later a StoreError escaping a handler is a bug and
        stays one (Textual's traceback, and a failing test).
        """

        if isinstance(error, StoreError) and not self._store.loaded:
            self._end_with_store_error(error)
            return
        super()._handle_exception(error)

    def _end_with_store_error(self, error: Exception) -> None:
        self.startup_error = error
        self.exit(return_code=2)

    def watch_store(self) -> None:
        """Poll the store file so screens learn about another instance's (or a script's) edits."""
        self.set_interval(1.5, self._poll_store, name="store-watch")

    def _poll_store(self) -> None:
        # A short-lived worker per tick (a stat), so `workers.wait_for_complete()` can finish.
        self.run_worker(self._check_store, thread=True, group="store-watch", exclusive=True,
                        exit_on_error=False, name="store-watch")

    def _check_store(self) -> None:
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
        # rich.traceback pulls in pygments and rich.pretty: ~85 ms of start-up for a crash
        from rich.traceback import Traceback

        self.bell()
        traceback = Traceback(show_locals=False, width=None, suppress=[rich])
        self._exit_renderables.append(
            Segments(self.console.render(traceback, self.console.options))
        )
        self._close_messages_no_wait()

    # -- messages up: what one screen changed, every other screen shows -----------------------
    def screen_mounted(self, screen: Screen[Any]) -> None:
        self._live_screens.append(screen)

    def screen_unmounted(self, screen: Screen[Any]) -> None:
        if screen in self._live_screens:
            self._live_screens.remove(screen)

    @on(Relayed)
    def _relay(self, message: Relayed) -> None:
        """Hand a screen's OrgsChanged/SnapshotArrived to every other screen (not back to the
        one it came from, and never a copy again)."""
        if message.relayed:
            return
        for screen in list(self._live_screens):
            if screen is not message.origin and screen.is_attached:
                screen.post_message(message.copy())

    # -- one handler for every worker's failure ----------------------------------------------
    @on(Worker.StateChanged)
    def _worker_failed(self, event: Worker.StateChanged) -> None:
        if event.state != WorkerState.ERROR:
            return
        error = event.worker.error
        if event.worker.group == "store-load" and isinstance(error, Exception):
            self._end_with_store_error(error)
            return
        self.notify(
            clean(f"{event.worker.name or 'background task'} failed: {error}", limit=300),
            title="Error",
            severity="error",
            timeout=10,
            markup=False,
        )

    # -- global actions --------------------------------------------------------------------
    def action_help(self) -> None:
        # app -> screens seam: the first frame paints before this loads
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
        for command in super().get_system_commands(screen):
            if command.title != "Keys":  # Textual's help panel: "Show keys (?)" is ours
                yield command
        for spec in self.specs:
            yield SystemCommand(
                f"Go to {spec.title} ({spec.key})", spec.help,
                lambda mode=spec.mode: self.switch_mode(mode),
            )
        yield SystemCommand("Show keys (?)", "Every key that works on this screen",
                            self.action_help)
