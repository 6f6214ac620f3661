"""Screen 5: the people JustOn notifies about push upgrades (seed 000), keyboard only.

Fast with 10,000 contacts: the store is read and the rows are built in a worker, the table
(FastTable) renders only what is in view, and a filter keystroke is one substring test per
contact over a folded search string (`contacts_io.ContactIndex`, built in the background).
Every write runs in a worker; each change can be undone with `u`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, ClassVar

from rich.cells import cell_len
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widgets import Static

from juston_tui.contacts_io import (
    ContactIndex,
    ImportPreview,
    UndoEntry,
    change_contact,
    doc_sort_key,
)
from juston_tui.contacts_io import undo as take_back
from juston_tui.gc_pause import paused_gc
from juston_tui.model import Contact, Org
from juston_tui.screens.base import JustOnScreen
from juston_tui.screens.messages import StoreChanged
from juston_tui.screens.widgets.fast_table import Column, FastTable, Row
from juston_tui.screens.widgets.filter_box import FilterBox
from juston_tui.text import clean

COLUMNS = (
    Column("name", "Full name", 24, frozen=True),
    Column("email", "E-mail", 32),
    Column("title", "Title", 26),
    Column("role", "Role", 14),
    Column("orgs", "Linked orgs", 11, grow=True),
    Column("eligible", "Notify", 6),
)
# Widths follow the content (measured in the load worker): (most, shrink-to when the columns
# do not fit). The e-mail is never cut; Linked orgs takes what is left and is cut with "…".
MEASURED = {"name": (30, 24), "email": (None, None), "title": (26, 10), "role": (14, 6),
            "orgs": (11, None)}
_CELL = {key: n for n, key in enumerate(c.key for c in COLUMNS)}
YES = Text("yes", style="green")
NO = Text("no", style="dim")


def safe(value: str) -> str:
    """`clean` with a fast path: most values are printable already (10k rows, 5 cells each)."""
    return value if value.isprintable() else clean(value)


FIRST_PAGE = 120


def measure(rows: Iterable[Row], widths: dict[str, int] | None = None) -> dict[str, int]:
    """The widest cell per measured column (start from `widths` to add rows to a measure)."""
    found = dict(widths or {c.key: cell_len(c.label) for c in COLUMNS if c.key in MEASURED})
    rows = list(rows)
    for key in MEASURED:
        index = _CELL[key]
        texts = [c if isinstance(c, str) else c.plain for c in (r.cells[index] for r in rows)]
        best = max(found[key], max(map(len, texts), default=0))
        # Below U+1100 no character takes two cells (combining marks take none: a cell spare
        # at most), so cell_len only for the few others (10,000 calls would cost ~100 ms).
        wide = (cell_len(t) for t in texts if not t.isascii() and max(t) >= "\u1100")
        found[key] = max(best, max(wide, default=0))
    return found


def column_widths(measured: Mapping[str, int]) -> tuple[dict[str, int], dict[str, int | None]]:
    """Base and shrink-to widths for FastTable.set_widths from the measured content."""
    widths: dict[str, int] = {}
    least: dict[str, int | None] = {}
    for key, (most, shrink) in MEASURED.items():
        width = measured.get(key, 1)
        widths[key] = width if most is None else min(width, most)
        least[key] = None if shrink is None else min(widths[key], shrink)
    return widths, least


class ContactCells(Sequence[str | Text]):
    """A contact's cells, made when read (drawn, measured): plain strings (FastTable shows
    them literally, never as markup). A view, not a tuple of six: ~4 MB less at 100,000."""

    __slots__ = ("_contact", "_org_label")

    def __init__(self, contact: Contact, org_label: str) -> None:
        self._contact = contact
        self._org_label = org_label

    def __len__(self) -> int:
        return len(COLUMNS)

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            return [self[i] for i in range(len(COLUMNS))[index]]
        contact = self._contact
        if index < 0:
            index += len(COLUMNS)
        if index == 0:
            return safe(contact.full_name)
        if index == 1:
            return safe(contact.email)
        if index == 2:
            return safe(contact.title)
        if index == 3:
            return safe(contact.role)
        if index == 4:
            return safe(self._org_label)
        if index == 5:
            return YES if contact.eligible else NO
        raise IndexError(index)


def contact_row(contact: Contact, org_label: str) -> Row:
    return Row(contact.id, ContactCells(contact, org_label))


class ContactsLoaded(Message):
    def __init__(self, index: ContactIndex, rows: dict[str, Row],
                 error: str | None = None, widths: dict[str, int] | None = None) -> None:
        super().__init__()
        self.index = index
        self.rows = rows
        self.error = error
        self.widths = widths or measure(())


class ContactsPreview(Message):
    """The first screenful of rows, sent before the whole list is ready."""

    def __init__(self, rows: list[Row], total: int) -> None:
        super().__init__()
        self.rows = rows
        self.total = total


class ContactsChanged(Message):
    """Contacts were written (or removed) by a worker here."""

    def __init__(self, contacts: list[Contact] = (), removed: list[str] = (),  # type: ignore[assignment]
                 undo: UndoEntry | None = None, note: str = "", focus: str | None = None
                 ) -> None:
        super().__init__()
        self.contacts = list(contacts)
        self.removed = list(removed)
        self.undo = undo
        self.note = note
        self.focus = focus


class ExportReady(Message):
    """The export dialog's contacts and, read by a worker, the orgs it needs."""

    def __init__(self, shown: list[Contact], contacts: list[Contact], orgs: list[Org],
                 default_orgs: list[str]) -> None:
        super().__init__()
        self.shown = shown
        self.contacts = contacts
        self.orgs = orgs
        self.default_orgs = default_orgs
        self.error = ""


class UndoFailed(Message):
    """An undo wrote nothing (`error` says why): its entry goes back on the stack."""

    def __init__(self, entry: UndoEntry, error: str) -> None:
        super().__init__()
        self.entry = entry
        self.error = error


class ContactsScreen(JustOnScreen):
    """Contacts: full name, e-mail, title, role, linked orgs, eligible for notifications."""

    MODE = "contacts"
    TITLE = "Contacts"
    CSS_PATH = "../styles/contacts.tcss"
    EDIT_ACTIONS: ClassVar[frozenset[str]] = frozenset(
        {"add", "edit", "delete", "undo", "toggle_eligible", "link", "import_file"}
    )
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("slash", "filter", "Filter", key_display="/", priority=True),
        Binding("a", "add", "Add"),
        Binding("e", "edit", "Edit"),
        Binding("d", "delete", "Delete"),
        Binding("u", "undo", "Undo"),
        Binding("space", "toggle_eligible", "Eligible"),
        Binding("l", "link", "Link orgs"),
        Binding("y", "copy_email", "Copy e-mail"),
        Binding("x", "export", "Export"),
        Binding("i", "import_file", "Import"),
        Binding("r", "reload", "Reload", show=False),
        Binding("escape", "escape", "Clear filter", show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.index = ContactIndex([], {})
        self.rows: dict[str, Row] = {}
        self.query_text = ""
        self.org_filter: str | None = None
        self.loaded = False
        self.undo_stack: list[UndoEntry] = []
        self._pending_focus: str | None = None
        self._measured: dict[str, int] = measure(())

    # -- layout ------------------------------------------------------------------------------
    def compose_body(self) -> ComposeResult:
        yield Static(id="contacts-status")
        yield FilterBox(placeholder="filter: any field, e.g. müller finance acme (esc clears)",
                        id="contacts-filter")
        yield FastTable(COLUMNS, empty_text="Loading contacts…", id="contacts-table")

    @property
    def table(self) -> FastTable:
        return self.query_one("#contacts-table", FastTable)

    def on_mount(self) -> None:
        self.table.focus()
        self.load()

    # -- loading -----------------------------------------------------------------------------
    @work(thread=True, exclusive=True, exit_on_error=False, group="contacts-load",
          name="loading contacts")
    def load(self) -> None:
        store = self.juston.store
        # ~60k objects: full collections would add a third to the first paint.
        with paused_gc():
            try:
                # The stored documents, not list_contacts(): the first screenful is then
                # 120 Contacts away, not 10,000 (bench/contacts_bench.py: first render).
                docs = store.contact_docs()
                # The names only, not 100,000 Org objects (30 MB) for the org labels.
                names = store.org_names()
            except Exception as exc:  # a vanished or damaged file is shown, not raised
                self.post_message(ContactsLoaded(ContactIndex([], {}), {},
                                                 clean(str(exc), limit=300)))
                return
            docs.sort(key=doc_sort_key)
            if not self.loaded and not self.org_filter and not self.query_text:
                # The first screenful now, the other 10,000 rows a few milliseconds later.
                first = [Contact.from_doc(d) for d in docs[:FIRST_PAGE]]
                self.post_message(ContactsPreview(
                    [contact_row(c, ", ".join(names.get(o, o) for o in c.org_ids))
                     for c in first], len(docs)))
            # In order already: ContactIndex's sort is one pass.
            index = ContactIndex((Contact.from_doc(d) for d in docs), names)
            label = index.org_label
            rows = {c.id: contact_row(c, label(c)) for c in index.contacts}
            widths = measure(rows.values())
        self.post_message(ContactsLoaded(index, rows, widths=widths))

    @on(ContactsPreview)
    def _preview(self, event: ContactsPreview) -> None:
        if self.loaded:
            return
        self.table.set_rows(event.rows)
        self.query_one("#contacts-status", Static).update(
            Text(f"{event.total} contacts · loading…", style="bold"))

    @on(ContactsLoaded)
    def _loaded(self, event: ContactsLoaded) -> None:
        self.index, self.rows = event.index, event.rows
        self.loaded = True
        if event.error:
            self.notify(event.error, markup=False, title="Store", severity="error")
        self._measured = event.widths
        self.table.set_widths(*column_widths(self._measured))
        self.apply_filter()
        if self._pending_focus:
            self.table.move_to_key(self._pending_focus)
            self._pending_focus = None
        # Build the search strings once the rows are on screen (a CPU-bound thread would
        # compete with the first paint for the GIL).
        self.set_timer(0.05, lambda index=event.index: self.warm_index(index))

    @work(thread=True, exclusive=True, exit_on_error=False, group="contacts-index",
          name="indexing contacts")
    def warm_index(self, index: ContactIndex) -> None:
        index.warm()

    @on(StoreChanged)
    def _store_changed(self) -> None:
        self.load()

    def on_screen_resume(self) -> None:
        """Back from another screen: org names or links may have changed there."""
        if self.loaded:
            self.load()

    def action_reload(self) -> None:
        self.load()

    # -- filtering ---------------------------------------------------------------------------
    def visible(self) -> list[Contact]:
        return self.index.search(self.query_text, org_id=self.org_filter)

    def apply_filter(self) -> None:
        rows = self.rows
        self.table.empty_text = self.empty_text()
        self.table.set_rows([rows[c.id] for c in self.visible() if c.id in rows])
        self.update_status()

    def empty_text(self) -> str:
        """What an empty list means: no contacts at all, or a filter that hides them all."""
        if not len(self.index):
            return "No contacts yet: press a to add one or i to import a file."
        query = clean(self.query_text, limit=40).strip()
        if query:
            return f"No contact matches '{query}'; esc clears the filter."
        if self.org_filter:
            name = clean(self.index.org_names.get(self.org_filter, self.org_filter), limit=40)
            return f"No contact is linked to {name}; esc clears the filter."
        return "No contacts to show."

    @on(FilterBox.FilterChanged, "#contacts-filter")
    def _filter_changed(self, event: FilterBox.FilterChanged) -> None:
        self.query_text = event.value
        if self.loaded:
            self.apply_filter()

    @on(FilterBox.FilterSubmitted, "#contacts-filter")
    def _filter_submitted(self) -> None:
        self.table.focus()

    def action_filter(self) -> None:
        self.query_one("#contacts-filter", FilterBox).open()

    def action_escape(self) -> None:
        if (self.query_one("#contacts-filter", FilterBox).clear() or self.query_text
                or self.org_filter):
            self.query_text = ""
            self.org_filter = None
            self.apply_filter()
            self.table.focus()

    def focus_request(self, org_id: str | None = None, contact_id: str | None = None,
                      **kwargs: Any) -> None:
        """`app.open_screen("contacts", org_id=...)`: show the contacts linked to that org."""
        if org_id is not None:
            self.org_filter = org_id
        if contact_id is not None:
            self._pending_focus = contact_id
        if self.loaded:
            self.apply_filter()
            if self._pending_focus and self.table.move_to_key(self._pending_focus):
                self._pending_focus = None

    def update_status(self) -> None:
        total = len(self.index)
        eligible = sum(1 for c in self.index.contacts if c.eligible)
        text = Text()
        text.append(f"{total} contacts", style="bold")
        text.append(f" · {self.table.row_count} shown · {eligible} eligible for notifications")
        if self.org_filter:
            name = self.index.org_names.get(self.org_filter, self.org_filter)
            text.append("  org: ")
            text.append(clean(name, limit=40), style="bold")
        if self.query_text:
            text.append("  filter: ")
            text.append(clean(self.query_text, limit=40), style="italic")
        if self.org_filter or self.query_text:
            text.append("  (esc clears)", style="dim")
        if self.read_only:
            text.append("  READ-ONLY", style="bold yellow")
        self.query_one("#contacts-status", Static).update(text)

    # -- helpers -----------------------------------------------------------------------------
    def cursor_contact(self) -> Contact | None:
        key = self.table.cursor_key
        return self.index.get(key) if key else None

    def _need_contact(self) -> Contact | None:
        contact = self.cursor_contact()
        if contact is None:
            shown = self.table.row_count
            self.notify(Text("No contact under the cursor." if shown else self.empty_text()),
                        severity="warning")
        return contact

    @on(ContactsChanged)
    def _changed(self, event: ContactsChanged) -> None:
        for contact_id in event.removed:
            self.index.remove(contact_id)
            self.rows.pop(contact_id, None)
        for contact in event.contacts:
            self.index.upsert(contact)
            self.rows[contact.id] = contact_row(contact, self.index.org_label(contact))
        if event.contacts:
            self._measured = measure((self.rows[c.id] for c in event.contacts), self._measured)
            self.table.set_widths(*column_widths(self._measured))
        if event.undo is not None:
            self.undo_stack.append(event.undo)
        self.apply_filter()
        if event.focus:
            self.table.move_to_key(event.focus)
        if event.note:
            self.notify(Text(event.note), timeout=5)

    # -- add / edit --------------------------------------------------------------------------
    def _form(self, contact: Contact | None) -> None:
        # a modal, loaded when first opened (start-up: each screen module ~10-80 ms)
        from juston_tui.screens.contact_form import ContactFormScreen, GoToContact

        before = contact

        def done(result: Contact | GoToContact | None) -> None:
            if isinstance(result, GoToContact):
                self.query_text = ""
                self.org_filter = None
                self.query_one("#contacts-filter", FilterBox).value = ""
                self.apply_filter()
                self.table.move_to_key(result.contact_id)
                return
            if isinstance(result, Contact):
                undo = (UndoEntry.added(result) if before is None
                        else UndoEntry.changed(before, "edit"))
                verb = "Added" if before is None else "Saved"
                self.post_message(ContactsChanged(
                    [result], undo=undo, focus=result.id,
                    note=f"{verb} {clean(result.full_name, limit=60)}. u undoes this."))

        self.app.push_screen(
            ContactFormScreen(contact, org_names=self.index.org_names,
                              find_email=self.index.find_email),
            done,
        )

    def action_add(self) -> None:
        self._form(None)

    def action_edit(self) -> None:
        contact = self._need_contact()
        if contact is not None:
            self._form(contact)

    @on(FastTable.RowSelected, "#contacts-table")
    def _open(self, event: FastTable.RowSelected) -> None:
        contact = self.index.get(event.key)
        if contact is not None:
            self._form(contact)  # read-only when the app is

    # -- delete / undo -------------------------------------------------------------------------
    def action_delete(self) -> None:
        contact = self._need_contact()
        if contact is None:
            return
        # a modal, loaded when first opened (start-up: each screen module ~10-80 ms)
        from juston_tui.screens.confirm import ConfirmScreen

        question = (f"Delete {clean(contact.full_name, limit=60)} <{clean(contact.email)}>? "
                    "u undoes this.")

        def answered(yes: bool | None) -> None:
            if yes:
                self.delete_contact(contact)

        self.app.push_screen(ConfirmScreen(question, yes="Delete"), answered)

    @work(thread=True, exit_on_error=False, group="contacts-write", name="deleting contact")
    def delete_contact(self, contact: Contact) -> None:
        removed = self.store.remove_contact(contact.id)
        self.post_message(ContactsChanged(
            removed=[removed.id], undo=UndoEntry.deleted(removed),
            note=f"Deleted {clean(removed.full_name, limit=60)}. Press u to undo."))

    def action_undo(self) -> None:
        if not self.undo_stack:
            self.notify("Nothing to undo.", timeout=3)
            return
        self.undo(self.undo_stack.pop())

    @work(thread=True, exit_on_error=False, group="contacts-write", name="undoing")
    def undo(self, entry: UndoEntry) -> None:
        try:
            outcome = take_back(self.store, entry)
        except Exception as exc:  # the transaction wrote nothing: keep the entry
            self.post_message(UndoFailed(entry, clean(str(exc), limit=300)))
            return
        note = f"Undid the {clean(entry.label, limit=80)}."
        if outcome.blocked:
            note += " Not restored: " + "; ".join(clean(b) for b in outcome.blocked)
        self.post_message(ContactsChanged(
            outcome.restored, outcome.removed, note=note,
            focus=outcome.restored[0].id if outcome.restored else None))

    @on(UndoFailed)
    def _undo_failed(self, event: UndoFailed) -> None:
        """Nothing was written: put the entry back so `u` can try again."""
        self.undo_stack.append(event.entry)
        self.notify(Text(f"Not undone: {event.error}"), title="Undo", severity="error",
                    timeout=8)

    # -- toggle / link / copy ------------------------------------------------------------------
    def action_toggle_eligible(self) -> None:
        contact = self._need_contact()
        if contact is not None:
            self.write_changes(contact, lambda stored: {"eligible": not stored.eligible},
                               "notification flag")

    def action_link(self) -> None:
        contact = self._need_contact()
        if contact is None:
            return
        # a modal, loaded when first opened (start-up: each screen module ~10-80 ms)
        from juston_tui.screens.org_picker import OrgPickerScreen

        def picked(result: list[str] | None) -> None:
            if result is not None and list(result) != list(contact.org_ids):
                self.write_changes(contact, {"org_ids": result}, "org links")

        title = f"Orgs linked to {clean(contact.full_name, limit=50)}"
        self.app.push_screen(OrgPickerScreen(contact.org_ids, title=title), picked)

    @work(thread=True, exit_on_error=False, group="contacts-write", name="saving contact")
    def write_changes(self, contact: Contact,
                      changes: Mapping[str, Any] | Callable[[Contact], Mapping[str, Any]],
                      what: str) -> None:
        """Change the stored contact (a toggle flips what is stored now); undo restores it."""
        before, updated = change_contact(self.store, contact.id, changes)
        note = f"Changed the {what} of {clean(updated.full_name, limit=60)}."
        if before.eligible != updated.eligible:
            state = "eligible" if updated.eligible else "not eligible"
            note = f"{clean(updated.full_name, limit=60)} is now {state} for notifications."
        self.post_message(ContactsChanged([updated], undo=UndoEntry.changed(before),
                                          note=note))

    def action_copy_email(self) -> None:
        contact = self._need_contact()
        if contact is not None:
            self.app.copy_to_clipboard(contact.email)
            self.notify(Text(f"Copied {clean(contact.email)}"), timeout=3)

    # -- import / export ---------------------------------------------------------------------
    def action_export(self) -> None:
        self.read_export_orgs(ExportReady(self.visible(), list(self.index.contacts), [],
                                          [self.org_filter] if self.org_filter else []))

    # The orgs when an export needs them (their push states, names), not kept with the list:
    # ~40 ms at 10,000 orgs (0.4 s at 100,000), read in a worker once per export dialog.
    @work(thread=True, exclusive=True, exit_on_error=False, group="contacts-export",
          name="reading orgs for the export", description="reading orgs for the export")
    def read_export_orgs(self, ready: ExportReady) -> None:
        try:
            ready.orgs = self.store.list_orgs()
        except Exception as exc:  # a vanished or damaged file is shown, not raised
            ready.error = clean(str(exc), limit=300)
        self.post_message(ready)

    @on(ExportReady)
    def _export_ready(self, event: ExportReady) -> None:
        if event.error:
            self.notify(event.error, markup=False, title="Store", severity="error")
            return
        # a modal, loaded when first opened (start-up: each screen module ~10-80 ms)
        from juston_tui.screens.contacts_export import ExportScreen

        self.app.push_screen(ExportScreen(event.shown, event.contacts, event.orgs,
                                          event.default_orgs))

    def action_import_file(self) -> None:
        # a modal, loaded when first opened (start-up: each screen module ~10-80 ms)
        from juston_tui.screens.contacts_import import ImportScreen

        def done(result: ImportPreview | None) -> None:
            if result is None or not result.applied:
                return
            self.post_message(ContactsChanged(
                result.writes, undo=UndoEntry.imported(result),
                note=f"Imported: {result.added} added, {result.updated} updated, "
                     f"{result.skipped} skipped. u undoes this."))

        self.app.push_screen(ImportScreen(), done)
