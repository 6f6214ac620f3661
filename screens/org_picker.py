"""Pick registered orgs: type to search; one org (the checklist) or several (a contact's links).

`OrgPickerScreen(selected, title=..., multiple=True)` dismisses with the chosen org IDs (in
the registry's name order), or None when cancelled:

- several (`multiple=True`): space marks, enter takes the marked orgs (with none marked and
  none given, the one under the cursor). Org IDs in `selected` that are not registered stay
  listed (marked "not registered") so a link is never dropped by accident.
- one (`multiple=False`): the search box has the focus, up/down move, enter takes the org
  under the cursor (a list of one); the cursor starts on the first of `selected`.

Works with 10,000 orgs: the rows and their search strings are built in the worker that reads
the store, and a keystroke is one substring test per org (FastTable shows only what fits).
One matcher (`OrgMatcher`): every whitespace-separated term must be in the org's name, org ID,
type or tags, accents folded as in every filter (`text.fold` / `search_terms` / `matches`, the
one matcher of the registry, access, contacts and this picker: "zurch" finds "Zürcher").
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import Input, Static

from juston_tui.model import Org
from juston_tui.screens.base import JustOnModal
from juston_tui.screens.widgets.fast_table import Column, FastTable, Row
from juston_tui.text import clean, fold, matches, search_terms

COLUMNS = (
    Column("name", "Org", 30, grow=True),
    Column("org_id", "Org ID", 18),
    Column("kind", "Type", 10),
)
HELP_SEVERAL = "space mark · enter take the marked orgs · / search · esc cancel"
HELP_ONE = "type to search · up/down move · enter open · esc cancel"


@dataclass(frozen=True)
class OrgMatcher:
    """Rows and their folded search strings, filtered by what was typed."""

    rows: tuple[Row, ...] = ()
    haystacks: tuple[str, ...] = ()

    @classmethod
    def build(cls, orgs: Iterable[Org], unregistered: Sequence[str] = ()) -> OrgMatcher:
        """Rows for `orgs` (name order), after the IDs in `unregistered` (no org of theirs)."""
        rows: list[Row] = []
        haystacks: list[str] = []
        for org_id in unregistered:
            rows.append(Row(org_id, (Text("(not registered)", style="italic"), org_id, "")))
            haystacks.append(fold(org_id))
        for org in sorted(orgs, key=lambda o: (o.name.casefold(), o.org_id)):
            rows.append(Row(org.org_id, (Text(clean(org.name)), org.org_id, org.kind)))
            haystacks.append(fold(" ".join((org.name, org.org_id, org.kind, *org.tags))))
        return cls(tuple(rows), tuple(haystacks))

    def matching(self, query: str) -> list[Row]:
        terms = search_terms(query)
        if not terms:
            return list(self.rows)
        return [row for row, hay in zip(self.rows, self.haystacks, strict=True)
                if matches(terms, hay)]


class OrgsLoaded(Message):
    """The picker's worker read the orgs (or says why it could not)."""

    def __init__(self, matcher: OrgMatcher, error: str | None = None) -> None:
        super().__init__()
        self.matcher = matcher
        self.error = error


class OrgPickerScreen(JustOnModal[list[str] | None]):
    """A searchable list of registered orgs: choose one, or mark several."""

    CSS_PATH = "../styles/org_picker.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("slash", "filter", "Search", key_display="/"),
        Binding("ctrl+s", "done", "Take marked"),
        Binding("escape", "cancel", "Cancel"),
        Binding("down", "cursor_down", "Down", show=False),
        Binding("up", "cursor_up", "Up", show=False),
        Binding("j", "cursor_down", "Down", show=False),
        Binding("k", "cursor_up", "Up", show=False),
    ]

    def __init__(self, selected: Iterable[str] = (), *, title: str = "Choose orgs",
                 multiple: bool = True) -> None:
        super().__init__()
        self.initial = list(dict.fromkeys(selected))
        self.title_text = title
        self.multiple = multiple
        self.matcher = OrgMatcher()
        self.loaded = False

    def compose(self) -> ComposeResult:
        with Vertical(id="org-picker"):
            yield Static(Text(self.title_text, style="bold"), id="picker-title")
            yield Input(placeholder="/ search: name, org ID, tag", id="picker-filter")
            yield FastTable(COLUMNS, empty_text="Loading orgs…", multi_select=self.multiple,
                            id="picker-table")
            yield Static(Text(HELP_SEVERAL if self.multiple else HELP_ONE), id="picker-help")

    @property
    def table(self) -> FastTable:
        return self.query_one("#picker-table", FastTable)

    @property
    def search(self) -> Input:
        return self.query_one("#picker-filter", Input)

    def on_mount(self) -> None:
        if self.multiple:
            self.table.focus()
        else:
            self.search.focus()
        self.load()

    @work(thread=True, exit_on_error=False, group="org-picker", name="loading orgs")
    def load(self) -> None:
        try:
            orgs = self.store.list_orgs()
        except Exception as exc:
            self.post_message(OrgsLoaded(OrgMatcher(), clean(str(exc), limit=200)))
            return
        known = {o.org_id for o in orgs}
        unregistered = [i for i in self.initial if i not in known] if self.multiple else []
        self.post_message(OrgsLoaded(OrgMatcher.build(orgs, unregistered)))

    @on(OrgsLoaded)
    def _loaded(self, event: OrgsLoaded) -> None:
        if event.error:
            self.notify(event.error, markup=False, severity="error")
        self.matcher = event.matcher
        self.loaded = True
        self.table.empty_text = "No orgs registered yet (add them on screen 1)."
        if self.multiple:
            self.table.set_rows(self.matcher.rows)
            self.table.select_keys(self.initial)
        self._apply_filter(self.search.value)

    def _apply_filter(self, query: str) -> None:
        self.table.set_rows(self.matcher.matching(query))
        if self.multiple:
            return
        if query.strip():
            self.table.move_cursor(0)  # one to choose: the best match is the first
        elif self.initial:
            self.table.move_to_key(self.initial[0])

    @on(Input.Changed, "#picker-filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        if self.loaded:
            self._apply_filter(event.value)

    @on(Input.Submitted, "#picker-filter")
    def _filter_submitted(self) -> None:
        if self.multiple:
            self.table.focus()
        else:
            self.action_done()

    def action_filter(self) -> None:
        self.search.focus()

    def action_cursor_down(self) -> None:
        self.table.action_cursor_down()

    def action_cursor_up(self) -> None:
        self.table.action_cursor_up()

    @on(FastTable.RowSelected, "#picker-table")
    def _enter(self) -> None:
        self.action_done()

    def result(self) -> list[str]:
        """One: the org under the cursor. Several: the marked orgs in list order; with none
        marked and none given, the one under the cursor."""
        cursor = self.table.cursor_key
        if not self.multiple:
            return [cursor] if cursor else []
        marked = self.table.selected_keys
        if not marked and not self.initial and cursor:
            return [cursor]
        return [row.key for row in self.matcher.rows if row.key in marked]

    def action_done(self) -> None:
        if not self.loaded:
            return
        chosen = self.result()
        if self.multiple or chosen:
            self.dismiss(chosen)

    def action_cancel(self) -> None:
        box = self.search
        if box.has_focus and box.value:
            box.value = ""
            if self.multiple:
                self.table.focus()
            return
        self.dismiss(None)
