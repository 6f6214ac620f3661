"""Saving a screen's export to a file: ask for the path (a visible field), write it in a
worker, ask before replacing, and say the full path written.

The checklist's Markdown report (`w`) and the calendar's iCalendar export (`x`) use it, with
the same core functions as `juston-tui checklist --markdown` and `calendar --ics`. The write
is `atomic_write_bytes` (never replaces a file unasked); `confirm.ask_to_replace` asks.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import Input, Label, Static

from juston_tui.screens.base import JustOnModal
from juston_tui.screens.confirm import ask_to_replace
from juston_tui.store import atomic_write_bytes
from juston_tui.text import clean


class PathPrompt(JustOnModal[Path | None]):
    """Ask where to save `what`: a path field, enter saves, esc cancels."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, what: str, default: Path) -> None:
        super().__init__()
        self.what = what
        self.default = default

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(f"Save the {self.what} to (enter saves, esc cancels)")
            yield Input(str(self.default), id="save-path")
            yield Static("", classes="field-error", id="save-error")

    def on_mount(self) -> None:
        self.query_one("#save-path", Input).focus()

    @on(Input.Submitted, "#save-path")
    def _submitted(self, event: Input.Submitted) -> None:
        raw = event.value.strip()
        error = self.query_one("#save-error", Static)
        if not raw:
            error.update("Give a file name.")
            return
        path = Path(raw).expanduser().absolute()
        if path.is_dir():
            error.update(Text(f"{clean(str(path))} is a folder; add a file name."))
        elif not path.parent.is_dir():
            error.update(Text(f"The folder {clean(str(path.parent))} does not exist."))
        else:
            self.dismiss(path)

    def action_cancel(self) -> None:
        self.dismiss(None)


class ExportFileSaved(Message):
    """`what` was written to `path` (or `error` says why not)."""

    def __init__(self, path: Path, what: str, error: str | None = None) -> None:
        super().__init__()
        self.path, self.what, self.error = path, what, error


class ExportFileExists(Message):
    """`path` exists: ask before replacing it with `payload`."""

    def __init__(self, path: Path, what: str, payload: bytes) -> None:
        super().__init__()
        self.path, self.what, self.payload = path, what, payload


class SavesExports:
    """Mixed into a screen: `save_export(what, default, render)` does the whole round."""

    app: Any
    post_message: Callable[[Message], bool]  # the screen's own (annotation only)

    def save_export(self, what: str, default: Path, render: Callable[[], bytes]) -> None:
        def chosen(path: Path | None) -> None:
            if path is not None:
                self._write_export(path, what, render)

        self.app.push_screen(PathPrompt(what, default), chosen)

    @work(thread=True, exit_on_error=False, group="file-export", name="saving export")
    def _write_export(self, path: Path, what: str, render: Callable[[], bytes]) -> None:
        try:
            payload = render()
        except Exception as exc:  # reported, not a crash: the screen stays usable
            self.post_message(ExportFileSaved(path, what, clean(f"{exc}", limit=300)))
            return
        self._write_bytes(path, what, payload, False)

    @work(thread=True, exit_on_error=False, group="file-export", name="saving export")
    def _replace_export(self, path: Path, what: str, payload: bytes) -> None:
        self._write_bytes(path, what, payload, True)

    def _write_bytes(self, path: Path, what: str, payload: bytes, replace: bool) -> None:
        try:
            atomic_write_bytes(path, payload, overwrite=replace)
        except FileExistsError:
            self.post_message(ExportFileExists(path, what, payload))
            return
        except OSError as exc:
            self.post_message(ExportFileSaved(path, what, f"{exc.strerror or exc}"))
            return
        self.post_message(ExportFileSaved(path, what))

    def on_export_file_exists(self, event: ExportFileExists) -> None:
        ask_to_replace(self.app, event.path,
                       lambda: self._replace_export(event.path, event.what, event.payload))

    def on_export_file_saved(self, event: ExportFileSaved) -> None:
        if event.error is not None:
            self.app.notify(Text(f"The {event.what} was not saved to "
                                 f"{clean(str(event.path))}: {clean(event.error)}"),
                            severity="error", timeout=8)
            return
        self.app.notify(Text(f"Saved the {event.what} to {clean(str(event.path))}"),
                        timeout=6)
