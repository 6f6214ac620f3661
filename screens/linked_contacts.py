"""Who hears about pushes to these orgs? The contacts linked to one or more orgs, in a modal.

Used by the registry (org detail) and the calendar. View only, so it works the same in
read-only mode: `/` filters, `y` copies the e-mail under the cursor, `n` copies the
notification list for these orgs (the text block to send to JustOn support), `o` opens the
contacts screen filtered to the first org, `esc` closes.
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import Input, Static

from juston_tui.contacts_io import ContactIndex, notification_list
from juston_tui.model import Contact, Org
from juston_tui.screens.base import JustOnModal
from juston_tui.screens.widgets.fast_table import Column, FastTable, Row
from juston_tui.text import clean

COLUMNS = (
    Column("name", "Full name", 24, grow=True),
    Column("email", "E-mail", 30),
    Column("title", "Title", 24),
    Column("eligible", "Notify", 6),
)
YES = Text("yes", style="green")
NO = Text("no", style="dim")


class _Loaded(Message):
    def __init__(self, contacts: list[Contact], orgs: list[Org], error: str | None) -> None:
        super().__init__()
        self.contacts = contacts
        self.orgs = orgs
        self.error = error


class LinkedContactsScreen(JustOnModal[None]):
    """The contacts linked to any of `org_ids`."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("slash", "filter", "Filter", key_display="/"),
        Binding("y", "copy_email", "Copy e-mail"),
        Binding("n", "copy_notify", "Copy notification list"),
        Binding("o", "open_contacts", "Open in Contacts"),
        Binding("escape", "close", "Close"),
        Binding("j", "cursor_down", "Down", show=False),
        Binding("k", "cursor_up", "Up", show=False),
    ]
    CSS_PATH = "../styles/registry.tcss"

    def __init__(self, org_ids: list[str], title: str) -> None:
        super().__init__()
        self.org_ids = list(dict.fromkeys(org_ids))
        self.title_text = title
        self.index: ContactIndex | None = None
        self.orgs: list[Org] = []

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Text(clean(self.title_text), style="bold"), id="linked-title")
            yield Input(placeholder="filter (esc clears)", id="linked-filter")
            yield FastTable(COLUMNS, empty_text="Loading contacts…", id="linked-table")
            yield Static(id="linked-status")

    @property
    def table(self) -> FastTable:
        return self.query_one("#linked-table", FastTable)

    def on_mount(self) -> None:
        self.table.focus()
        self.load()

    @work(thread=True, exit_on_error=False, group="linked-contacts", name="loading contacts")
    def load(self) -> None:
        store = self.store
        wanted = set(self.org_ids)
        try:
            contacts = [c for c in store.list_contacts() if wanted & set(c.org_ids)]
            orgs = store.list_orgs()
        except Exception as exc:
            self.post_message(_Loaded([], [], clean(str(exc), limit=200)))
            return
        self.post_message(_Loaded(contacts, orgs, None))

    @on(_Loaded)
    def _loaded(self, event: _Loaded) -> None:
        if event.error:
            self.notify(event.error, markup=False, severity="error")
        self.orgs = event.orgs
        self.index = ContactIndex(event.contacts, {o.org_id: o.name for o in event.orgs})
        self.table.empty_text = "No contacts are linked to this org yet (link them on screen 5)."
        self._apply_filter("")

    def _apply_filter(self, query: str) -> None:
        if self.index is None:
            return
        found = self.index.search(query)
        self.table.set_rows(
            Row(c.id, (clean(c.full_name), clean(c.email), clean(c.title),
                       YES if c.eligible else NO))
            for c in found
        )
        eligible = sum(1 for c in self.index.contacts if c.eligible)
        status = f"{len(self.index)} linked · {eligible} eligible for notifications"
        if query:
            status += f" · {len(found)} shown"
        self.query_one("#linked-status", Static).update(Text(status))

    @on(Input.Changed, "#linked-filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self._apply_filter(event.value)

    @on(Input.Submitted, "#linked-filter")
    def _filter_submitted(self) -> None:
        self.table.focus()

    def action_filter(self) -> None:
        box = self.query_one("#linked-filter", Input)
        box.display = True
        box.focus()

    def action_cursor_down(self) -> None:
        self.table.action_cursor_down()

    def action_cursor_up(self) -> None:
        self.table.action_cursor_up()

    def _cursor_contact(self) -> Contact | None:
        key = self.table.cursor_key
        if key is None or self.index is None:
            return None
        return self.index.get(key)

    def action_copy_email(self) -> None:
        contact = self._cursor_contact()
        if contact is None:
            self.notify("No contact under the cursor.", severity="warning")
            return
        self.app.copy_to_clipboard(contact.email)
        self.notify(Text(f"Copied {clean(contact.email)}"), timeout=3)

    def action_copy_notify(self) -> None:
        if self.index is None:
            return
        text = notification_list(self.index.contacts, self.orgs, self.org_ids)
        self.app.copy_to_clipboard(text)
        count = sum(1 for c in self.index.contacts if c.eligible)
        self.notify(f"Copied the notification list ({count} eligible contact(s)).", timeout=4)

    def action_open_contacts(self) -> None:
        org_id = self.org_ids[0] if self.org_ids else None
        self.dismiss(None)
        if org_id is not None:
            self.juston.open_screen("contacts", org_id=org_id)

    def action_close(self) -> None:
        box = self.query_one("#linked-filter", Input)
        if box.display:
            box.value = ""
            box.display = False
            self._apply_filter("")
            self.table.focus()
            return
        self.dismiss(None)
