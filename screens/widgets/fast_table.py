"""FastTable: a virtual, line-based table that stays fast with 10,000+ rows.

Textual's stock DataTable measures every cell of every row on the event loop (about 1.6 s
for 10,000 rows), which freezes a support engineer's screen. FastTable renders only the
lines in view (Line API: `ScrollView.render_line`, as Toolong's LogLines does), uses fixed
column widths and caches each rendered row, so loading, filtering and sorting cost little
more than handling a Python list.

API
---
```python
from juston_tui.screens.widgets.fast_table import Column, FastTable, Row, verdict_style

table = FastTable(
    [Column("name", "Name", 24), Column("state", "State", 10, justify="right")],
    empty_text="No orgs yet: press a to add one",   # shown when there are no rows
    multi_select=True,                               # space toggles the marker column
    id="orgs",
)
table.set_rows([Row("00D…", (Text("Acme"), Text("ok", style=verdict_style("ok"))))])
```
- `Column(key, label, width, justify="left"|"right", sortable=True, grow=False, frozen=False,
  min_width=None, hide_below=0, crop=False)`: widths are fixed (never measured from the cells);
  a `grow=True` column takes the spare width. Narrow tables (k9s-like):
  - `frozen=True` (leading columns only) stays in place while left/right scroll the rest;
  - when the columns do not fit, `min_width` columns shrink first: a `crop=True` one straight
    to its min_width (it cuts without an ellipsis, e.g. an 18-character org ID to its
    15-character form), the others only as far as needed, the one with most room first;
  - a column with `hide_below=N` is left out while the table is narrower than N cells (choose
    the order columns drop in by their thresholds); the rest scroll under the frozen ones.
- `Row(key, cells, sort_values=None)`: `cells` are `rich.text.Text` (style per cell, already
  cleaned of control characters by the caller; a `str` is shown literally, never parsed as
  markup). `sort_values` (one per column, any Sequence, may be lazy) are compared as given
  (case-fold strings yourself; None sorts last); without them the case-folded cell text is
  used.
- `set_widths(widths, min_widths=None)`: new base (and shrink-to) widths by column key, e.g.
  measured from the content by the screen (in its worker, not per frame).
- `set_rows(rows, only=None, presorted=None)`: replace the rows (a screen may filter its own
  list and hand the subset). The current sort is applied (skipped when `presorted=(column,
  reverse)` names it: the rows were sorted with `sorted_keys`, e.g. in a worker); the cursor
  stays on the same key when it is still there. A row handed again as the same object keeps
  its rendered line.
- `show_only(keys, ordered=False)`: for large tables, load every row once and filter here:
  only these keys are shown (None: all), in the sort order, without a re-sort and keeping the
  rendered lines; `ordered=True` when the keys are a subsequence of `all_keys` already (a
  filter over it), so not even a pass over every row is needed. `all_keys` (every key in sort
  order) and `sort_generation` (changes with it) let a screen cache such filter results.
- `keys_in_view()`, `refresh_rows(keys=None)`: what is on screen now, and draw rows again from
  their cells (periodic updates such as ages touch only the rows in view: see the registry's
  `RowClock`). `call_after_rows_drawn(callback)`: after the next frame that draws rows (start
  a CPU-bound worker there, not before that frame).
- `update_row(key, cells, sort_values=None)`: live per-row update; the row keeps its place
  (no re-sort, so rows do not jump under the cursor); unknown keys are ignored.
- `resort()`: apply the current sort again (after `update_row`s changed sort values, e.g. when
  a check has finished); the cursor stays on its key.
- `sort_by(column_key, reverse=False)`, `cycle_sort()` (key `s`): header shows ▲/▼.
  `sort_column` / `sort_reverse` tell the current sort.
- `toggle_selected(key=None)` (key `space`, cursor row by default), `select_keys(keys)`,
  `clear_selection()`, `selected_keys` (a frozenset, in no order), `selected_in_order()`.
- `cursor_row` (index into the displayed rows), `cursor_key`, `move_cursor(index)`,
  `move_to_key(key)`, `row_keys` (displayed order), `row_count`, `get_row(key)`.
- Messages: `FastTable.RowHighlighted(table, key)` when the cursor lands on another row,
  `FastTable.RowSelected(table, key)` on enter (or a click on the cursor row),
  `FastTable.SelectionChanged(table, keys)` after space / select_keys / clear_selection.
- Keys: up/down, pageup/pagedown, home/end, left/right (scroll by a column), enter, space, s. The
  screen's j/k reach `action_cursor_down` / `action_cursor_up`.
- Component classes for styling: `fast-table--header`, `fast-table--cursor`,
  `fast-table--selected`, `fast-table--empty`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from operator import itemgetter
from typing import Any, ClassVar, Literal

from rich.cells import cell_len
from rich.segment import Segment
from rich.text import Text
from textual import events
from textual.binding import Binding, BindingType
from textual.cache import LRUCache
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

__all__ = ["Column", "FastTable", "Row", "verdict_style"]

Cell = Text | str
MARKER_WIDTH = 2
_VERDICT_STYLES = {
    "ok": "green",
    "warn": "yellow",
    "fail": "bold red",
    "unknown": "bright_black",
}


def verdict_style(verdict: str) -> str:
    """A Rich style for a verdict that reads on 16-colour terminals too."""
    return _VERDICT_STYLES.get(verdict, "")


@dataclass(frozen=True, slots=True)
class Column:
    """One column: fixed width in cells; `grow` columns absorb spare width."""

    key: str
    label: str
    width: int
    justify: Literal["left", "right"] = "left"
    sortable: bool = True
    grow: bool = False
    frozen: bool = False
    min_width: int | None = None
    hide_below: int = 0
    crop: bool = False


@dataclass(slots=True)
class Row:
    """One row: its key, one cell per column, optional per-column sort values."""

    key: str
    cells: Sequence[Cell]
    sort_values: Sequence[Any] | None = None


def _sort_value(row: Row, index: int) -> Any:
    """The row's sort value for a column: its `sort_values` entry, else the case-folded text."""
    values = row.sort_values
    if values is not None:
        return values[index]
    cell = row.cells[index] if index < len(row.cells) else ""
    return (cell.plain if isinstance(cell, Text) else cell).casefold()


def sorted_keys(rows: dict[str, Row], order: list[str], index: int, reverse: bool,
                value_of: Callable[[str], Any] | None = None) -> list[str]:
    """Keys sorted by one column; None values always last; one pass, no per-row tuples.

    `value_of(key)`: the sort value straight from the caller's data (it must equal the
    row's), e.g. in a worker that sorts before the rows reach the table."""
    present: list[tuple[Any, str]] = []
    missing: list[str] = []
    for key in order:
        value = value_of(key) if value_of is not None else _sort_value(rows[key], index)
        if value is None:
            missing.append(key)
        else:
            present.append((value, key))
    try:
        present.sort(key=itemgetter(0), reverse=reverse)
    except TypeError:  # mixed types in one column: compare as text
        present.sort(key=lambda pair: str(pair[0]), reverse=reverse)
    return [key for _, key in present] + missing


class FastTable(ScrollView, can_focus=True):
    """A virtual table: renders only the visible lines; see the module docstring for the API."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "fast-table--header",
        "fast-table--cursor",
        "fast-table--selected",
        "fast-table--empty",
    }
    DEFAULT_CSS = """
    FastTable { height: 1fr; background: $surface; }
    FastTable > .fast-table--header { background: $panel; text-style: bold; }
    FastTable > .fast-table--cursor { background: $block-cursor-blurred-background; }
    FastTable:focus > .fast-table--cursor {
        background: $block-cursor-background; color: $block-cursor-foreground;
        text-style: bold;
    }
    FastTable > .fast-table--selected { text-style: bold; color: $accent; }
    FastTable > .fast-table--empty { color: $text-muted; text-style: italic; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up", "cursor_up", "Up", show=False),
        Binding("down", "cursor_down", "Down", show=False),
        Binding("pageup", "page_up", "Page up", show=False),
        Binding("pagedown", "page_down", "Page down", show=False),
        Binding("home", "cursor_home", "First", show=False),
        Binding("end", "cursor_end", "Last", show=False),
        Binding("left", "scroll_left", "Scroll left", show=False),
        Binding("right", "scroll_right", "Scroll right", show=False),
        Binding("enter", "select_cursor", "Open"),
        Binding("space", "toggle_selected", "Mark"),
        Binding("s", "cycle_sort", "Sort"),
    ]

    class RowHighlighted(Message):
        """The cursor moved to another row (key None: the table is empty)."""

        def __init__(self, table: FastTable, key: str | None) -> None:
            super().__init__()
            self.table = table
            self.key = key

        @property
        def control(self) -> FastTable:
            return self.table

    class RowSelected(Message):
        """Enter was pressed on a row."""

        def __init__(self, table: FastTable, key: str) -> None:
            super().__init__()
            self.table = table
            self.key = key

        @property
        def control(self) -> FastTable:
            return self.table

    class SelectionChanged(Message):
        """The set of marked rows changed."""

        def __init__(self, table: FastTable, keys: frozenset[str]) -> None:
            super().__init__()
            self.table = table
            self.keys = keys

        @property
        def control(self) -> FastTable:
            return self.table

    def __init__(
        self,
        columns: Sequence[Column],
        *,
        empty_text: str = "Nothing to show.",
        multi_select: bool = False,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
        disabled: bool = False,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes, disabled=disabled)
        self._columns: tuple[Column, ...] = tuple(columns)
        self.empty_text = empty_text
        self.multi_select = multi_select
        self._rows: dict[str, Row] = {}
        self._all: list[str] = []  # every row's key, in sort order
        self._only: set[str] | None = None  # the keys shown (`show_only`); None: all
        self._rank: dict[str, int] | None = None  # key -> position in _all (lazy)
        self._generation = 0  # bumps when _all changes
        self._order: list[str] = []  # the keys shown, in sort order (never mutated in place)
        self._positions: dict[str, int] | None = None
        self._selected: set[str] = set()
        self._cursor = 0
        self._last_highlighted: str | None = None
        self._sort_column: str | None = None
        self._sort_reverse = False
        # (index, column, width) of the columns shown, left to right; frozen ones first.
        self._layout: tuple[tuple[int, Column, int], ...] = ()
        self._frozen_width = 0
        self._set_layout(tuple((i, c, c.width) for i, c in enumerate(self._columns)))
        self._cache: LRUCache[str, Strip] = LRUCache(1024)
        self._after_rows_drawn: list[Callable[[], Any]] = []

    # -- read-only views -------------------------------------------------------------------
    @property
    def columns(self) -> tuple[Column, ...]:
        return self._columns

    @property
    def shown_columns(self) -> tuple[Column, ...]:
        """The columns drawn at the current width (hidden `hide_below` ones left out)."""
        return tuple(column for _, column, _ in self._layout)

    def column_width(self, key: str) -> int:
        """The drawn width of a column (0 while it is hidden)."""
        return next((w for _, c, w in self._layout if c.key == key), 0)

    @property
    def row_keys(self) -> list[str]:
        """Keys in displayed order (a copy)."""
        return list(self._order)

    @property
    def row_count(self) -> int:
        return len(self._order)

    @property
    def cursor_row(self) -> int:
        return self._cursor

    @property
    def cursor_key(self) -> str | None:
        return self._order[self._cursor] if self._order else None

    @property
    def selected_keys(self) -> frozenset[str]:
        return frozenset(self._selected)

    @property
    def sort_column(self) -> str | None:
        return self._sort_column

    @property
    def sort_reverse(self) -> bool:
        return self._sort_reverse

    def get_row(self, key: str) -> Row | None:
        return self._rows.get(key)

    def selected_in_order(self) -> list[str]:
        """Marked keys in displayed order (marked rows filtered out are left out)."""
        return [k for k in self._order if k in self._selected]

    def row_index(self, key: str) -> int | None:
        if self._positions is None:
            self._positions = {k: i for i, k in enumerate(self._order)}
        return self._positions.get(key)

    # -- data --------------------------------------------------------------------------------
    def set_rows(self, rows: Iterable[Row], *, only: Iterable[str] | None = None,
                 presorted: tuple[str | None, bool] | None = None) -> None:
        """Replace every row; keep the sort, and the cursor on the same key when possible.

        `only`: show just these keys (as `show_only`). `presorted=(column_key, reverse)`: the
        rows come in that order already (sorted with `sorted_keys`, e.g. in a worker); when it
        is the table's current sort, the sort is skipped."""
        current = self.cursor_key
        old = self._rows
        self._rows = {row.key: row for row in rows}
        self._all = list(self._rows)
        self._generation += 1
        self._only = None if only is None else set(only)
        if presorted is not None and presorted == (self._sort_column, self._sort_reverse):
            self._rank = None
            self._apply_only()
        else:
            self._apply_sort()
        # A row handed again as the same object keeps its rendered line.
        for key in list(self._cache.keys()):
            if self._rows.get(key) is not old.get(key):
                self._cache.discard(key)
        self._after_order_change(current)

    def show_only(self, keys: Iterable[str] | None, *, ordered: bool = False) -> None:
        """Show only these keys (the rest stay loaded, hidden), in the current sort order;
        None shows every row. A filter for large tables: no re-sort, rendered lines are
        kept, and the cursor stays on its key when it is still shown.

        `ordered=True`: the keys are already in display order (a subsequence of `all_keys`
        since the last `sort_generation` change, e.g. a filter over it); they are shown as
        given, without a pass over every row."""
        current = self.cursor_key
        if keys is not None and ordered:
            self._order = keys if isinstance(keys, list) else list(keys)
            self._only = set(self._order)
            self._positions = None
        else:
            self._only = None if keys is None else set(keys)
            self._apply_only()
        self._after_order_change(current)

    @property
    def all_keys(self) -> list[str]:
        """Every row's key in the current sort order, shown or not (do not modify it)."""
        return self._all

    @property
    def sort_generation(self) -> int:
        """Changes whenever `all_keys` changes (rows set, sorted, re-sorted)."""
        return self._generation

    def _after_order_change(self, current: str | None) -> None:
        # The cursor's new index without building the key -> index map (100,000 keys per
        # keystroke otherwise): a C-level scan that compares by identity first.
        index: int | None = None
        if current is not None:
            if self._positions is not None:
                index = self._positions.get(current)
            else:
                try:
                    index = self._order.index(current)
                except ValueError:
                    index = None
        self._cursor = index if index is not None else min(self._cursor, max(0, self.row_count - 1))
        self._update_virtual_size()
        self._scroll_cursor_into_view()
        self.refresh()
        self._announce_cursor()

    def call_after_rows_drawn(self, callback: Callable[[], Any]) -> None:
        """Call `callback` after the next frame that draws rows (at once, via
        call_after_refresh, when there are none): e.g. start a worker that would otherwise
        compete with that frame for the GIL. `call_after_refresh` alone can run before
        the frame when the table's repaint is not yet known to the screen."""
        if not self._order:
            self.call_after_refresh(callback)
        else:
            self._after_rows_drawn.append(callback)

    def keys_in_view(self) -> list[str]:
        """The keys of the rows on screen now (what a periodic update needs to touch)."""
        top = max(0, round(self.scroll_y))
        return self._order[top:top + max(0, self.scrollable_content_region.height - 1)]

    def refresh_rows(self, keys: Iterable[str] | None = None) -> None:
        """Draw these rows again (None: every row) from their cells, e.g. after cells that
        depend on the clock moved on. Only rows in view are drawn now, the rest when they
        scroll into view."""
        if keys is None:
            self._cache.clear()
            self.refresh()
            return
        for key in keys:
            self._cache.discard(key)
            self._refresh_key(key)

    def set_widths(self, widths: Mapping[str, int],
                   min_widths: Mapping[str, int | None] | None = None) -> None:
        """New base widths (and shrink-to widths) for the columns named; lays out again."""
        least = min_widths or {}
        self._columns = tuple(
            replace(c, width=max(1, widths.get(c.key, c.width)),
                    min_width=least.get(c.key, c.min_width))
            for c in self._columns)
        self._relayout()

    def update_row(self, key: str, cells: Sequence[Cell], sort_values: Sequence[Any] | None = None
                   ) -> None:
        """Replace one row's cells in place (no re-sort); repaint it if it is in view."""
        row = self._rows.get(key)
        if row is None:
            return
        row.cells = cells
        if sort_values is not None:
            row.sort_values = sort_values
        self._cache.discard(key)
        self._refresh_key(key)

    def resort(self) -> None:
        """Sort again under the current order (sort values changed in place); the cursor
        follows its key."""
        if self._sort_column is None:
            return
        current = self.cursor_key
        self._apply_sort()
        index = self.row_index(current) if current is not None else None
        self._cursor = index if index is not None else min(self._cursor, max(0, self.row_count - 1))
        self._scroll_cursor_into_view()
        self.refresh()

    def sort_by(self, column_key: str | None, reverse: bool = False) -> None:
        """Sort by a column (None: back to the order given to set_rows)."""
        if column_key is not None and column_key not in {c.key for c in self._columns}:
            raise KeyError(f"no column {column_key!r}")
        current = self.cursor_key
        self._sort_column = column_key
        self._sort_reverse = reverse
        if column_key is None:
            self._all = list(self._rows)
            self._generation += 1
            self._rank = None
            self._apply_only()
        else:
            self._apply_sort()
        index = self.row_index(current) if current is not None else None
        self._cursor = index if index is not None else 0
        self._scroll_cursor_into_view()
        self.refresh()

    def cycle_sort(self) -> None:
        """`s`: first column ascending, descending, next column ascending, ... then none."""
        sortable = [c.key for c in self.shown_columns if c.sortable]
        if not sortable:
            return
        if self._sort_column is None:
            self.sort_by(sortable[0])
        elif not self._sort_reverse:
            self.sort_by(self._sort_column, reverse=True)
        else:
            position = sortable.index(self._sort_column) if self._sort_column in sortable else -1
            following = sortable[position + 1] if position + 1 < len(sortable) else None
            self.sort_by(following)

    def _apply_sort(self) -> None:
        if self._sort_column is not None:
            index = next(i for i, c in enumerate(self._columns) if c.key == self._sort_column)
            self._all = sorted_keys(self._rows, self._all, index, self._sort_reverse)
            self._generation += 1
        self._rank = None
        self._apply_only()

    def _apply_only(self) -> None:
        """The shown keys from all keys: a pass over them, or for a few keys a sort by rank."""
        self._positions = None
        only = self._only
        if only is None:
            self._order = self._all
        elif len(only) * 8 < len(self._all):
            rank = self._rank
            if rank is None:
                rank = self._rank = {k: i for i, k in enumerate(self._all)}
            self._order = sorted((k for k in only if k in rank), key=rank.__getitem__)
        else:
            self._order = [k for k in self._all if k in only]

    # -- selection ---------------------------------------------------------------------------
    def toggle_selected(self, key: str | None = None) -> None:
        key = key if key is not None else self.cursor_key
        if key is None or key not in self._rows:
            return
        if key in self._selected:
            self._selected.discard(key)
        else:
            self._selected.add(key)
        self._cache.discard(key)
        self._refresh_key(key)
        self.post_message(self.SelectionChanged(self, self.selected_keys))

    def select_keys(self, keys: Iterable[str]) -> None:
        self._selected = {k for k in keys if k in self._rows}
        self._cache.clear()
        self.refresh()
        self.post_message(self.SelectionChanged(self, self.selected_keys))

    def clear_selection(self) -> None:
        self.select_keys(())

    # -- cursor ------------------------------------------------------------------------------
    def move_cursor(self, index: int) -> None:
        if not self._order:
            return
        index = max(0, min(index, self.row_count - 1))
        if index == self._cursor:
            self._scroll_cursor_into_view()
            return
        old = self._cursor
        self._cursor = index
        self._refresh_index(old)
        self._refresh_index(index)
        self._scroll_cursor_into_view()
        self._announce_cursor()

    def move_to_key(self, key: str) -> bool:
        index = self.row_index(key)
        if index is None:
            return False
        self.move_cursor(index)
        return True

    def _announce_cursor(self) -> None:
        key = self.cursor_key
        if key != self._last_highlighted:
            self._last_highlighted = key
            self.post_message(self.RowHighlighted(self, key))

    @property
    def _page(self) -> int:
        return max(1, self.scrollable_content_region.height - 1)

    def _scroll_cursor_into_view(self) -> None:
        page = self._page
        top = round(self.scroll_y)
        if self._cursor < top:
            self.scroll_to(y=self._cursor, animate=False, force=True)
        elif self._cursor >= top + page:
            self.scroll_to(y=self._cursor - page + 1, animate=False, force=True)

    def action_cursor_down(self) -> None:
        self.move_cursor(self._cursor + 1)

    def action_cursor_up(self) -> None:
        self.move_cursor(self._cursor - 1)

    def action_page_down(self) -> None:
        self.move_cursor(self._cursor + self._page)

    def action_page_up(self) -> None:
        self.move_cursor(self._cursor - self._page)

    def action_cursor_home(self) -> None:
        self.move_cursor(0)

    def action_cursor_end(self) -> None:
        self.move_cursor(self.row_count - 1)

    def _scroll_stops(self) -> list[int]:
        """The scroll_x values that put a column's left edge next to the frozen columns."""
        stops: list[int] = []
        position = MARKER_WIDTH if self.multi_select else 0
        for _, column, width in self._layout:
            if not column.frozen:
                stops.append(max(0, position - self._frozen_width) if stops else 0)
            position += width + 1
        return stops

    def action_scroll_right(self) -> None:
        """`->`: one column further (k9s-like), not one cell."""
        x = round(self.scroll_x)
        limit = round(self.max_scroll_x)
        target = next((stop for stop in self._scroll_stops() if stop > x), limit)
        self.scroll_to(x=min(target, limit), animate=False)

    def action_scroll_left(self) -> None:
        x = round(self.scroll_x)
        target = max((stop for stop in self._scroll_stops() if stop < x), default=0)
        self.scroll_to(x=target, animate=False)

    def action_select_cursor(self) -> None:
        key = self.cursor_key
        if key is not None:
            self.post_message(self.RowSelected(self, key))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Hide `space` from the footer when rows cannot be marked."""
        if action == "toggle_selected":
            return self.multi_select
        return True

    def action_toggle_selected(self) -> None:
        if self.multi_select:
            self.toggle_selected()

    def action_cycle_sort(self) -> None:
        self.cycle_sort()

    async def _on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None:
            return
        if offset.y == 0:
            x = offset.x if offset.x < self._frozen_width else offset.x + round(self.scroll_x)
            column = self._column_at(x)
            if column is not None and column.sortable:
                same = column.key == self._sort_column
                self.sort_by(column.key, reverse=same and not self._sort_reverse)
            return
        index = round(self.scroll_y) + offset.y - 1
        if 0 <= index < self.row_count:
            if index == self._cursor:
                self.action_select_cursor()
            else:
                self.move_cursor(index)

    def _column_at(self, x: int) -> Column | None:
        position = MARKER_WIDTH if self.multi_select else 0
        for _, column, width in self._layout:
            if position <= x < position + width:
                return column
            position += width + 1
        return None

    # -- layout ------------------------------------------------------------------------------
    def _content_width(self) -> int:
        marker = MARKER_WIDTH if self.multi_select else 0
        widths = [w for _, _, w in self._layout]
        return marker + sum(widths) + max(0, len(widths) - 1)

    def _update_widths(self) -> None:
        """Lay the columns out for the current width: hide, shrink, then grow (see Column)."""
        available = self.scrollable_content_region.width
        marker = MARKER_WIDTH if self.multi_select else 0
        shown = [i for i, c in enumerate(self._columns) if available >= c.hide_below]
        base = {i: self._columns[i].width for i in shown}

        def natural() -> int:
            return marker + sum(base.values()) + max(0, len(base) - 1)

        # Too wide: `crop` columns jump to their min_width (a partly cut ID would mislead),
        # then the others give up a cell at a time, the one with the most room first.
        for i in shown:
            column = self._columns[i]
            if column.crop and column.min_width is not None and natural() > available:
                base[i] = min(base[i], column.min_width)
        room = {i: base[i] - (self._columns[i].min_width or base[i]) for i in shown
                if not self._columns[i].crop}
        overflow = natural() - available
        while overflow > 0:
            i = max(room, key=room.__getitem__, default=None)
            if i is None or room[i] <= 0:
                break
            base[i] -= 1
            room[i] -= 1
            overflow -= 1
        growers = [i for i in shown if self._columns[i].grow]
        spare = available - natural()
        if growers and spare > 0:
            share, extra = divmod(spare, len(growers))
            for n, i in enumerate(growers):
                base[i] += share + (1 if n < extra else 0)
        layout = tuple((i, self._columns[i], base[i]) for i in shown)
        if layout != self._layout:
            self._set_layout(layout)
            self._cache.clear()

    def _set_layout(self, layout: tuple[tuple[int, Column, int], ...]) -> None:
        self._layout = layout
        frozen = [w for _, c, w in layout if c.frozen]
        marker = MARKER_WIDTH if self.multi_select else 0
        self._frozen_width = marker + sum(frozen) + len(frozen) if frozen else 0

    def _update_virtual_size(self) -> None:
        """A new virtual size without a layout of the whole screen when the scrollbars stay
        as they are (the reactive would lay out every widget: ~30 ms of each filter
        keystroke on the registry). A scrollbar that appears or goes still lays out."""
        size = Size(self._content_width(), self.row_count + 1)
        if size == self.virtual_size:
            return
        if not self.is_mounted or not self.container_size:
            self.virtual_size = size
            return
        self.set_reactive(FastTable.virtual_size, size)
        self._scroll_update(size)  # scrollbars (a change there lays out) and scroll limits
        self.refresh()

    def on_resize(self, event: events.Resize) -> None:
        self._update_widths()
        self._update_virtual_size()
        self._scroll_cursor_into_view()

    def watch_show_vertical_scrollbar(self, shown: bool) -> None:
        """The bar takes columns from the view without a Resize: lay the columns out again,
        or a grown column keeps its width and the last column is cut off (the access
        screen's right-aligned Age once showed nothing at all)."""
        self.call_after_refresh(self._relayout)

    def _relayout(self) -> None:
        self._update_widths()
        self._update_virtual_size()
        self.refresh()

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._cache.clear()

    def _refresh_index(self, index: int) -> None:
        self.refresh_line(index + 1)

    def _refresh_key(self, key: str) -> None:
        index = self.row_index(key)
        if index is not None:
            self._refresh_index(index)

    # -- rendering ---------------------------------------------------------------------------
    def _render_cells(self, cells: Sequence[Cell], header: bool = False) -> list[Segment]:
        console = self.app.console
        segments: list[Segment] = []
        right_aligned = not header
        for position, (n, column, width) in enumerate(self._layout):
            if position:
                segments.append(Segment(" "))
            cell = cells[n] if n < len(cells) else ""
            if isinstance(cell, Text) and not cell.spans and "\n" not in cell.plain:
                # The common cell (one style, fits): the segment Text.render and the base
                # style would give, without the generators (a third of a frame's time).
                plain = cell.plain
                pad = width - cell_len(plain)
                if pad >= 0:
                    style = cell.style
                    segment = Segment(plain, console.get_style(style)) if style else Segment(plain)
                    if column.justify == "right" and right_aligned:
                        segments.append(Segment(" " * pad))
                        segments.append(segment)
                    else:
                        segments.append(segment)
                        if pad > 0:
                            segments.append(Segment(" " * pad))
                    continue
            text = cell if isinstance(cell, Text) else Text(cell)
            if text.cell_len > width or "\n" in text.plain:
                text = text.copy()
                text.truncate(width, overflow="crop" if column.crop and not header
                              else "ellipsis")
                if "\n" in text.plain:
                    text = Text(" ").join(text.split("\n"))
                    text.truncate(width, overflow="ellipsis")
            pad = width - text.cell_len
            rendered: Iterable[Segment] = text.render(console)
            if text.style:  # Text.render leaves the Text's own (base) style to the caller
                rendered = Segment.apply_style(rendered, console.get_style(text.style))
            if column.justify == "right" and not header:
                segments.append(Segment(" " * pad))
                segments.extend(rendered)
            else:
                segments.extend(rendered)
                if pad > 0:
                    segments.append(Segment(" " * pad))
        return segments

    def _header_strip(self) -> Strip:
        labels: list[Cell] = []
        for column in self._columns:  # one per column: _render_cells picks the shown ones
            label = column.label
            if column.key == self._sort_column:
                label = f"{label}{'▼' if self._sort_reverse else '▲'}"
            labels.append(label)
        segments = self._render_cells(labels, header=True)
        if self.multi_select:
            segments.insert(0, Segment(" " * MARKER_WIDTH))
        return Strip(segments)

    def _row_strip(self, key: str) -> Strip:
        strip = self._cache.get(key)
        if strip is None:
            row = self._rows[key]
            segments = self._render_cells(row.cells)
            if self.multi_select:
                segments.insert(0, Segment("● " if key in self._selected else "  "))
            strip = Strip(segments)
            if key in self._selected:
                strip = strip.apply_style(self.get_component_rich_style("fast-table--selected"))
            self._cache[key] = strip
        return strip

    def _view(self, strip: Strip, width: int, style: Any) -> Strip:
        """The part of a full-width line in view: frozen columns, then the scrolled rest."""
        scroll_x = round(self.scroll_x)
        frozen = min(self._frozen_width, width)
        if not frozen or not scroll_x:
            return strip.crop_extend(scroll_x, scroll_x + width, style)
        return Strip.join([strip.crop_extend(0, frozen, style),
                           strip.crop_extend(frozen + scroll_x, scroll_x + width, style)])

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        base = self.rich_style
        if y == 0:
            header = self.get_component_rich_style("fast-table--header")
            return self._view(self._header_strip(), width, header).apply_style(header)
        if not self._order:
            if y == 2:
                empty = Strip([Segment(f"  {self.empty_text}",
                                       self.get_component_rich_style("fast-table--empty"))])
                return empty.crop_extend(0, width, base).apply_style(base)
            return Strip.blank(width, base)
        index = round(self.scroll_y) + y - 1
        if index >= self.row_count:
            return Strip.blank(width, base)
        if self._after_rows_drawn:  # after this frame (its lines are being drawn now)
            for callback in self._after_rows_drawn:
                self.call_after_refresh(callback)
            self._after_rows_drawn = []
        strip = self._view(self._row_strip(self._order[index]), width, None)
        strip = strip.apply_style(base)
        if index == self._cursor:
            cursor = self.get_component_rich_style("fast-table--cursor")
            strip = Strip(list(Segment.apply_style(strip, post_style=cursor)), width)
        return strip
