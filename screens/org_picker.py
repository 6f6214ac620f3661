"""Pick orgs from the registry: type to search, space to mark, enter to take them.

Reusable: `OrgPickerScreen(selected, title=...)` dismisses with the marked org IDs (in the
registry's name order), or None when cancelled. Works with 10,000 orgs (FastTable, filter on
every keystroke over name, org ID and tags). Org IDs in `selected` that are not registered
stay listed (marked "not registered") so a link is never dropped by accident.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from juston_tui.model import Org
from juston_tui.screens.widgets.fast_table import Column, FastTable, Row
from juston_tui.text import clean

COLUMNS = (
    Column("name", "Org", 30, grow=True),
    Column("org_id", "Org ID", 18),
    Column("kind", "Type", 10),
)


class _OrgsLoaded(Message):
    def __init__(self, orgs: list[Org], error: str | None = None) -> None:
        super().__init__()
        self.orgs = orgs
        self.error = error


class OrgPickerScreen(ModalScreen[list[str] | None]):
    """A searchable multi-select list of registered orgs."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("slash", "filter", "Search", key_display="/"),
        Binding("ctrl+s", "done", "Take marked"),
        Binding("escape", "cancel", "Cancel"),
        Binding("j", "cursor_down", "Down", show=False),
        Binding("k", "cursor_up", "Up", show=False),
    ]
    DEFAULT_CSS = """
    OrgPickerScreen { align: center middle; }
    OrgPickerScreen > Vertical {
        width: 90; max-width: 100%; height: 80%; border: round $accent;
        background: $surface; padding: 0 1;
    }
    OrgPickerScreen #picker-title { height: auto; }
    OrgPickerScreen #picker-help { height: 1; color: $text-muted; }
    OrgPickerScreen #picker-filter { height: 3; }
    OrgPickerScreen FastTable { height: 1fr; }
    """

    def __init__(self, selected: Iterable[str] = (), *, title: str = "Choose orgs") -> None:
        super().__init__()
        self.initial = list(dict.fromkeys(selected))
        self.title_text = title
        self.rows: list[Row] = []
        self.haystacks: list[str] = []
        self.loaded = False

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Text(self.title_text, style="bold"), id="picker-title")
            yield Input(placeholder="/ search: name, org ID, tag", id="picker-filter")
            yield FastTable(COLUMNS, empty_text="Loading orgs…", multi_select=True,
                            id="picker-table")
            yield Static(Text("space mark · enter take the marked orgs · / search · "
                              "esc cancel"), id="picker-help")

    @property
    def table(self) -> FastTable:
        return self.query_one("#picker-table", FastTable)

    def on_mount(self) -> None:
        self.table.focus()
        self.load()

    @work(thread=True, exit_on_error=False, group="org-picker", name="loading orgs")
    def load(self) -> None:
        try:
            orgs = self.app.store.list_orgs()  # type: ignore[attr-defined]
        except Exception as exc:
            self.post_message(_OrgsLoaded([], clean(str(exc), limit=200)))
            return
        orgs.sort(key=lambda o: (o.name.casefold(), o.org_id))
        self.post_message(_OrgsLoaded(orgs))

    @on(_OrgsLoaded)
    def _loaded(self, event: _OrgsLoaded) -> None:
        if event.error:
            self.notify(event.error, markup=False, severity="error")
        known = {o.org_id for o in event.orgs}
        rows: list[Row] = []
        haystacks: list[str] = []
        for org_id in self.initial:
            if org_id not in known:
                rows.append(Row(org_id, (Text("(not registered)", style="italic"), org_id, "")))
                haystacks.append(org_id.casefold())
        for org in event.orgs:
            rows.append(Row(org.org_id, (Text(clean(org.name)), org.org_id, org.kind)))
            haystacks.append(" ".join((org.name, org.org_id, org.kind, *org.tags)).casefold())
        self.rows, self.haystacks = rows, haystacks
        self.loaded = True
        self.table.empty_text = "No orgs registered yet (add them on screen 1)."
        self.table.set_rows(rows)
        self.table.select_keys(self.initial)
        self._apply_filter(self.query_one("#picker-filter", Input).value)

    def _apply_filter(self, query: str) -> None:
        terms = query.casefold().split()
        if not terms:
            self.table.set_rows(self.rows)
            return
        self.table.set_rows(
            [row for row, hay in zip(self.rows, self.haystacks, strict=True)
             if all(t in hay for t in terms)]
        )

    @on(Input.Changed, "#picker-filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        if self.loaded:
            self._apply_filter(event.value)

    @on(Input.Submitted, "#picker-filter")
    def _filter_submitted(self) -> None:
        self.table.focus()

    def action_filter(self) -> None:
        self.query_one("#picker-filter", Input).focus()

    def action_cursor_down(self) -> None:
        self.table.action_cursor_down()

    def action_cursor_up(self) -> None:
        self.table.action_cursor_up()

    @on(FastTable.RowSelected, "#picker-table")
    def _enter(self) -> None:
        self.action_done()

    def result(self) -> list[str]:
        """Marked orgs in list order; with none marked, the one under the cursor."""
        marked = self.table.selected_keys
        if not marked and not self.initial and self.table.cursor_key:
            return [self.table.cursor_key]
        return [row.key for row in self.rows if row.key in marked]

    def action_done(self) -> None:
        if not self.loaded:
            return
        self.dismiss(self.result())

    def action_cancel(self) -> None:
        box = self.query_one("#picker-filter", Input)
        if box.has_focus and box.value:
            box.value = ""
            self.table.focus()
            return
        self.dismiss(None)
