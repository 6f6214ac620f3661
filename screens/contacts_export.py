"""`x` on the contacts screen: export CSV, vCard 3.0/4.0 or the notification list.

The notification list is the text block JustOn support asks for (seed 000: full name, e-mail
and title of each person to notify, per org); it can be copied (OSC 52) or saved. Files are
written atomically and private (0600) in a worker; a bad path is reported under the field.
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.widgets import Button, Checkbox, Input, Label, RadioButton, RadioSet, Static, TextArea

from juston_tui.contacts_io import export_csv, export_vcard, notification_list
from juston_tui.model import Contact, Org
from juston_tui.screens.base import JustOnModal
from juston_tui.screens.confirm import ask_to_replace
from juston_tui.store import atomic_write_bytes
from juston_tui.text import clean

FORMATS = (("csv", "CSV (spreadsheets; re-importable)", "csv"),
           ("vcard4", "vCard 4.0 (address books)", "vcf"),
           ("vcard3", "vCard 3.0 (older address books, Outlook)", "vcf"),
           ("notify", "Notification list for JustOn support (text)", "txt"))
PREVIEW_LINES = 200


class ExportRendered(Message):
    """The export in `fmt` is ready to preview, save or copy."""

    def __init__(self, fmt: str, payload: str, count: int) -> None:
        super().__init__()
        self.fmt, self.payload, self.count = fmt, payload, count


class ExportWritten(Message):
    """`count` contacts were saved to `path` (or `error` says why not)."""

    def __init__(self, path: Path, count: int, error: str | None = None) -> None:
        super().__init__()
        self.path, self.count, self.error = path, count, error


class ExportExists(Message):
    """The file is there already: ask before replacing it."""

    def __init__(self, path: Path, payload: str, count: int) -> None:
        super().__init__()
        self.path, self.payload, self.count = path, payload, count


class ExportScreen(JustOnModal[None]):
    """Choose format and scope, look at the result, then save it or copy it."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "save", "Save"),
        Binding("ctrl+y", "copy", "Copy"),
        Binding("ctrl+o", "choose_orgs", "Choose orgs"),
        Binding("escape", "close", "Close"),
    ]
    CSS_PATH = "../styles/contacts.tcss"

    def __init__(self, shown: list[Contact], all_contacts: list[Contact], orgs: list[Org],
                 org_ids: list[str] | None = None) -> None:
        super().__init__()
        self.shown = shown
        self.all_contacts = all_contacts
        self.orgs = orgs
        self.org_ids = list(org_ids or [])
        self.payload = ""
        self.count = 0
        self.format = "csv"
        self.scope = "orgs" if self.org_ids else "shown"

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Text("Export contacts", style="bold"))
            with VerticalScroll(id="export-options"):
                yield Label("Format")
                with RadioSet(id="export-format", compact=True):
                    for n, (key, label, _) in enumerate(FORMATS):
                        yield RadioButton(label, value=n == 0, id=f"fmt-{key}")
                yield Label("Contacts")
                with RadioSet(id="export-scope", compact=True):
                    yield RadioButton(f"shown on screen ({len(self.shown)})",
                                      value=self.scope == "shown", id="scope-shown")
                    yield RadioButton(f"all ({len(self.all_contacts)})", id="scope-all")
                    yield RadioButton("linked to chosen orgs (ctrl+o to choose)",
                                      value=self.scope == "orgs", id="scope-orgs")
                yield Static(id="export-orgs")
                yield Checkbox("Only contacts eligible for notifications", id="export-eligible",
                               compact=True)
            # Outside the scrolling options: the file field is always in view (80x24 too).
            with Horizontal(id="export-file"):
                yield Label("File ", id="export-file-label")
                yield Input(str(Path.home() / "juston-contacts.csv"), id="export-path",
                            compact=True)
            yield Static("", classes="field-error", id="export-error")
            yield Label("Preview", id="export-preview-label")
            yield TextArea("", read_only=True, id="export-preview", soft_wrap=False)
            with Horizontal(id="export-buttons"):
                yield Button("Save (ctrl+s)", variant="primary", id="save", compact=True)
                yield Button("Copy (ctrl+y)", id="copy", compact=True)
                yield Button("Close (esc)", id="close", compact=True)

    def on_mount(self) -> None:
        self.query_one("#export-format", RadioSet).focus()
        self._show_orgs()
        self.rebuild()

    def _show_orgs(self) -> None:
        names = {o.org_id: o.name for o in self.orgs}
        chosen = ", ".join(clean(names.get(o, o)) for o in self.org_ids) or "none chosen"
        self.query_one("#export-orgs", Static).update(Text(f"Orgs: {chosen}"))

    # -- what to export ------------------------------------------------------------------------
    def selected_contacts(self) -> list[Contact]:
        if self.scope == "all":
            contacts = self.all_contacts
        elif self.scope == "orgs":
            wanted = set(self.org_ids)
            contacts = [c for c in self.all_contacts if wanted & set(c.org_ids)]
        else:
            contacts = self.shown
        if self.query_one("#export-eligible", Checkbox).value:
            contacts = [c for c in contacts if c.eligible]
        return contacts

    def rebuild(self) -> None:
        contacts = self.selected_contacts()
        org_ids = self.org_ids if self.scope == "orgs" else None
        self.render_payload(self.format, contacts, org_ids)

    @work(thread=True, exclusive=True, exit_on_error=False, group="contacts-export-preview",
          name="preparing export")
    def render_payload(self, fmt: str, contacts: list[Contact], org_ids: list[str] | None
                       ) -> None:
        if fmt == "csv":
            payload = export_csv(contacts, {o.org_id: o.name for o in self.orgs})
        elif fmt in ("vcard4", "vcard3"):
            payload = export_vcard(contacts, "4.0" if fmt == "vcard4" else "3.0")
        else:
            payload = notification_list(contacts, self.orgs, org_ids)
        count = sum(1 for c in contacts if c.eligible) if fmt == "notify" else len(contacts)
        self.post_message(ExportRendered(fmt, payload, count))

    @on(ExportRendered)
    def _rendered(self, event: ExportRendered) -> None:
        fmt, payload, count = event.fmt, event.payload, event.count
        if fmt != self.format:
            return
        self.payload, self.count = payload, count
        lines = payload.splitlines()
        shown = "\n".join(clean(line) for line in lines[:PREVIEW_LINES])
        if len(lines) > PREVIEW_LINES:
            shown += f"\n… {len(lines) - PREVIEW_LINES} more lines"
        self.query_one("#export-preview", TextArea).load_text(shown)
        self.query_one("#export-preview-label", Label).update(
            f"Preview: {count} contact(s), {len(payload.encode()):,} bytes")

    @on(RadioSet.Changed, "#export-format")
    def _format_changed(self, event: RadioSet.Changed) -> None:
        key = (event.pressed.id or "fmt-csv").removeprefix("fmt-")
        self.format = key
        ext = next(e for k, _, e in FORMATS if k == key)
        box = self.query_one("#export-path", Input)
        path = Path(box.value)
        if path.suffix.lower() in (".csv", ".vcf", ".txt"):
            box.value = str(path.with_suffix(f".{ext}"))
        self.rebuild()

    @on(RadioSet.Changed, "#export-scope")
    def _scope_changed(self, event: RadioSet.Changed) -> None:
        self.scope = (event.pressed.id or "scope-shown").removeprefix("scope-")
        if self.scope == "orgs" and not self.org_ids:
            self.action_choose_orgs()
        self.rebuild()

    @on(Checkbox.Changed, "#export-eligible")
    def _eligible_changed(self) -> None:
        self.rebuild()

    def action_choose_orgs(self) -> None:
        # a modal, loaded when first opened (start-up: each screen module ~10-80 ms)
        from juston_tui.screens.org_picker import OrgPickerScreen

        def picked(result: list[str] | None) -> None:
            if result is not None:
                self.org_ids = result
                self._show_orgs()
                self.rebuild()

        self.app.push_screen(OrgPickerScreen(self.org_ids, title="Export contacts of these orgs"),
                             picked)

    # -- save / copy ---------------------------------------------------------------------------
    @on(Button.Pressed, "#save")
    def _save_pressed(self) -> None:
        self.action_save()

    @on(Button.Pressed, "#copy")
    def _copy_pressed(self) -> None:
        self.action_copy()

    @on(Button.Pressed, "#close")
    def _close_pressed(self) -> None:
        self.action_close()

    def action_copy(self) -> None:
        self.app.copy_to_clipboard(self.payload)
        self.notify(f"Copied {self.count} contact(s) to the clipboard.", timeout=3)

    def action_save(self) -> None:
        raw = self.query_one("#export-path", Input).value.strip()
        error = self.query_one("#export-error", Static)
        if not raw:
            error.update("Give a file name.")
            return
        path = Path(raw).expanduser().absolute()  # the toast names the full path written
        if not path.parent.is_dir():
            error.update(Text(f"The folder {clean(str(path.parent))} does not exist."))
            return
        if path.is_dir():
            error.update(Text(f"{clean(str(path))} is a folder; add a file name."))
            return
        error.update("")
        self.write(path, self.payload, self.count)

    @work(thread=True, exit_on_error=False, group="contacts-export", name="saving export",
          description="saving export")  # not the payload (contacts) in TEXTUAL_LOG
    def write(self, path: Path, payload: str, count: int, replace: bool = False) -> None:
        try:
            atomic_write_bytes(path, payload.encode("utf-8"), overwrite=replace)
        except FileExistsError:
            self.post_message(ExportExists(path, payload, count))
            return
        except OSError as exc:
            self.post_message(ExportWritten(path, count, f"Not saved: {exc.strerror or exc}"))
            return
        self.post_message(ExportWritten(path, count))

    @on(ExportExists)
    def _exists(self, event: ExportExists) -> None:
        ask_to_replace(self.app, event.path,
                       lambda: self.write(event.path, event.payload, event.count, replace=True))

    @on(ExportWritten)
    def _written(self, event: ExportWritten) -> None:
        if event.error is not None:
            self.query_one("#export-error", Static).update(Text(clean(event.error)))
            return
        self.notify(Text(f"Saved {event.count} contact(s) to {clean(str(event.path))}"),
                    timeout=5)

    def action_close(self) -> None:
        self.dismiss(None)
