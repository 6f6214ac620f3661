"""`i` on the contacts screen: file path → preview → apply.

Nothing is written until the preview (added / updated / skipped and why, per line) has been
shown and ctrl+s pressed; applying is one atomic store write in a worker. A rejected file
(binary, wrong columns) is explained in place and the path stays as typed.
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import Button, Input, Label, Select, Static

from juston_tui.contacts_io import ImportPreview, apply_import, preview_import
from juston_tui.screens.base import JustOnModal
from juston_tui.screens.widgets.fast_table import Column, FastTable, Row
from juston_tui.text import clean

COLUMNS = (
    Column("line", "Line", 6, justify="right"),
    Column("action", "Action", 9),
    Column("name", "Full name", 22),
    Column("email", "E-mail", 28),
    Column("reason", "Why", 30, grow=True),
)
ACTION_STYLES = {"add": ("add", "green"), "update": ("update", "yellow"),
                 "unchanged": ("skip", "dim"), "error": ("ERROR", "bold red")}


class PreviewMade(Message):
    """The preview worker read the file."""

    def __init__(self, preview: ImportPreview) -> None:
        super().__init__()
        self.preview = preview


class PreviewFailed(Message):
    """The file could not be read (`message` says why)."""

    def __init__(self, message: str) -> None:
        super().__init__()
        self.message = message


class ImportFailed(Message):
    """The import wrote nothing (`message` says why)."""

    def __init__(self, message: str) -> None:
        super().__init__()
        self.message = message


class Imported(Message):
    """The import is stored: the screen dismisses with it."""

    def __init__(self, result: ImportPreview) -> None:
        super().__init__()
        self.result = result


class ImportScreen(JustOnModal[ImportPreview | None]):
    """Dismisses with the applied ImportPreview, or None."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "apply", "Apply"),
        Binding("escape", "cancel", "Cancel"),
    ]
    CSS_PATH = "../styles/contacts.tcss"

    def __init__(self, path: str = "") -> None:
        super().__init__()
        self.initial_path = path
        self.preview: ImportPreview | None = None
        self.busy = False

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Text("Import contacts (CSV from Outlook / Google / juston-tui, "
                              "or vCard)", style="bold"))
            yield Label("File (enter shows the preview; nothing is written yet)")
            with Horizontal(id="import-row"):
                yield Input(self.initial_path, placeholder="~/Downloads/contacts.csv",
                            id="import-path")
                yield Select([("CSV", "csv"), ("vCard", "vcard")], prompt="auto format",
                             id="import-format")
            yield Static("", classes="field-error", id="import-error")
            yield Static(id="import-summary")
            yield Static(id="import-warnings")
            yield FastTable(COLUMNS, empty_text="Type a file path and press enter.",
                            id="import-table")
            with Horizontal(id="import-buttons"):
                yield Button("Preview (enter)", id="preview")
                yield Button("Apply (ctrl+s)", variant="primary", id="apply", disabled=True)
                yield Button("Cancel (esc)", id="cancel")

    def on_mount(self) -> None:
        self.query_one("#import-path", Input).focus()

    @on(Input.Submitted, "#import-path")
    @on(Button.Pressed, "#preview")
    def _preview_requested(self) -> None:
        raw = self.query_one("#import-path", Input).value.strip()
        if not raw:
            self.query_one("#import-error", Static).update("Give the path of a file.")
            return
        fmt = self.query_one("#import-format", Select).value
        self.busy = True
        self.preview = None
        self.query_one("#apply", Button).disabled = True
        self.query_one("#import-error", Static).update("")
        self.query_one("#import-summary", Static).update("Reading…")
        self.make_preview(Path(raw).expanduser(), fmt if isinstance(fmt, str) else None)

    @on(Select.Changed, "#import-format")
    def _format_changed(self) -> None:
        if self.query_one("#import-path", Input).value.strip():
            self._preview_requested()

    @work(thread=True, exclusive=True, exit_on_error=False, group="contacts-import",
          name="reading import file")
    def make_preview(self, path: Path, fmt: str | None) -> None:
        try:
            preview = preview_import(self.store, path, fmt=fmt)
        except Exception as exc:  # busy must drop, or the screen refuses everything after
            self.post_message(PreviewFailed(clean(str(exc), limit=300)))
            return
        self.post_message(PreviewMade(preview))

    @on(PreviewFailed)
    def _preview_failed(self, event: PreviewFailed) -> None:
        message = event.message
        self.busy = False
        self.preview = None
        self.query_one("#import-summary", Static).update("")
        self.query_one("#import-error", Static).update(
            Text(clean(f"Cannot read the file: {message}", limit=300)))

    @on(PreviewMade)
    def _preview_made(self, event: PreviewMade) -> None:
        self.show_preview(event.preview)

    def show_preview(self, preview: ImportPreview) -> None:
        self.busy = False
        self.preview = preview
        summary = self.query_one("#import-summary", Static)
        if preview.fatal:
            self.query_one("#import-error", Static).update(
                Text(clean(f"Not imported: {preview.fatal}")))
            summary.update("")
            self.query_one("#import-warnings", Static).update("")
            self.query_one("#import-table", FastTable).set_rows([])
            return
        summary.update(Text(clean(preview.summary())))
        self.query_one("#import-warnings", Static).update(
            Text("\n".join(clean(f"warning: {w}") for w in preview.warnings)))
        rows = []
        for n, outcome in enumerate(preview.rows):
            label, style = ACTION_STYLES[outcome.action]
            name, email = outcome.who
            reason = outcome.reason
            if outcome.warnings:
                reason += " (" + "; ".join(outcome.warnings) + ")"
            rows.append(Row(
                str(n),
                (str(outcome.line), Text(label, style=style),
                 clean(name), clean(email), clean(reason)),
                sort_values=(outcome.line, outcome.action, None, None, None),
            ))
        table = self.query_one("#import-table", FastTable)
        table.set_rows(rows)
        can_apply = bool(preview.writes) and not getattr(self.app, "read_only", False)
        self.query_one("#apply", Button).disabled = not can_apply
        if preview.rows:
            table.focus()

    @on(Button.Pressed, "#apply")
    def _apply_pressed(self) -> None:
        self.action_apply()

    @on(Button.Pressed, "#cancel")
    def _cancel_pressed(self) -> None:
        self.action_cancel()

    def action_apply(self) -> None:
        if getattr(self.app, "read_only", False):
            self.notify("Read-only mode: nothing can be changed.", severity="warning")
            return
        preview = self.preview
        if self.busy or preview is None or preview.fatal or not preview.writes:
            self.notify("Nothing to apply: show a preview with contacts to add or update.",
                        severity="warning")
            return
        self.busy = True
        self.query_one("#import-summary", Static).update("Writing…")
        self.apply(preview)

    @work(thread=True, exit_on_error=False, group="contacts-import", name="importing contacts")
    def apply(self, preview: ImportPreview) -> None:
        try:
            result = apply_import(self.store, preview)
        except Exception as exc:
            self.post_message(ImportFailed(str(exc)))
            return
        self.post_message(Imported(result))

    @on(Imported)
    def _imported(self, event: Imported) -> None:
        self.dismiss(event.result)

    @on(ImportFailed)
    def _apply_failed(self, event: ImportFailed) -> None:
        message = event.message
        self.busy = False
        self.query_one("#import-error", Static).update(
            Text(clean(f"Nothing was imported: {message}", limit=300)))

    def action_cancel(self) -> None:
        self.dismiss(None)
