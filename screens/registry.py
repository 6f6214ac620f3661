"""Screen 1: every registered org at a glance, fast with 10,000 orgs and usable over SSH.

The rows come from the store in a worker (the UI never waits for the file lock); the screen
keeps one `OrgEntry` and one `Row` per org and filters its own list on every keystroke, handing
`FastTable` only the matching rows. Checks run in a thread worker (`sweep`) and update each row
as its snapshot arrives; `esc` cancels.

The forms and sub-screens are imported when first opened, not with this module (they
cost ~80 ms of start-up: the registry is the first screen).
"""

from __future__ import annotations

import threading
from datetime import datetime
from itertools import compress
from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.message import Message
from textual.widgets import Label, ProgressBar, Static

from juston_tui.gc_pause import paused_gc
from juston_tui.model import Org, checked_by_default, now_utc
from juston_tui.screens.base import JustOnScreen
from juston_tui.screens.confirm import ConfirmScreen
from juston_tui.screens.messages import OrgsChanged, RefreshFinished, SnapshotArrived, StoreChanged
from juston_tui.screens.registry_data import (
    COLUMNS,
    OrgEntry,
    RowClock,
    SnapInfo,
    app_now,
    build_entries_from_lines,
    count_verdicts,
    entries_from_page,
    entry_row,
    page_from_store,
    page_of,
)
from juston_tui.screens.widgets.fast_table import FastTable, Row, sorted_keys
from juston_tui.screens.widgets.filter_box import FilterBox
from juston_tui.store.first_page import Stamp
from juston_tui.text import clean, search_terms

if TYPE_CHECKING:
    from textual.widgets import Label, ProgressBar  # imported when a check starts


class EntriesLoaded(Message):
    """The worker has read the store."""

    def __init__(
        self, entries: dict[str, OrgEntry], rows: dict[str, Row], error: str | None = None,
        presorted: tuple[str | None, bool] | None = None, writes: int | None = None,
    ) -> None:
        super().__init__()
        self.entries = entries
        self.rows = rows  # built with the entries, in the worker
        self.error = error
        self.presorted = presorted  # the (column, reverse) the rows are sorted by, if any
        self.writes = writes  # the store's own-write count after the read (None: it failed)


class CountsReady(Message):
    """A worker counted verdicts and stale checks over every entry."""

    def __init__(self, counts: dict[str, int], stale: int, generation: int) -> None:
        super().__init__()
        self.counts = counts
        self.stale = stale
        self.generation = generation


class IndexReady(Message):
    """Every entry is parsed and indexed for filtering (done after the first frame).

    `hays`: every entry's filter words, in the table's order as of `stamp` (see
    `RegistryScreen._hay_stamp`); used if nothing changed meanwhile."""

    def __init__(self, stamp: tuple[int, int] | None = None,
                 hays: list[str] | None = None) -> None:
        super().__init__()
        self.stamp = stamp
        self.hays = hays


class OrgsRemoved(Message):
    """The delete worker removed these orgs (kept for `u`)."""

    def __init__(self, orgs: list[Org]) -> None:
        super().__init__()
        self.orgs = orgs


class OrgsRestored(Message):
    """The undo worker put `restored` back (of `wanted`), or failed with `error`."""

    def __init__(self, wanted: list[Org], restored: list[Org], error: str = "") -> None:
        super().__init__()
        self.wanted = wanted
        self.restored = restored
        self.error = error


PAGE_QUIET_S = 3.0  # this process's writes stopped this long: keep a fresh first page


def _newer(shown: datetime | None, loaded: datetime | None) -> bool:
    return shown is not None and (loaded is None or shown > loaded)


class RegistryScreen(JustOnScreen):
    """The org registry: name, ID, type, versions, licences, push state, last check."""

    MODE = "registry"
    TITLE = "Orgs"
    CSS_PATH = "../styles/registry.tcss"
    EDIT_ACTIONS: ClassVar[frozenset[str]] = frozenset(
        {"add", "edit", "delete", "undo", "push", "vendor_sync"}
    )
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("slash", "filter", "Filter", key_display="/", priority=True),
        Binding("a", "add", "Add"),
        Binding("e", "edit", "Edit"),
        Binding("d", "delete", "Delete"),
        Binding("u", "undo", "Undo"),
        Binding("r", "refresh", "Check"),
        Binding("R", "refresh_all", "Check all", key_display="R"),
        Binding("p", "push", "Push request"),
        Binding("v", "vendor_sync", "Vendor sync"),
        Binding("escape", "escape", "Cancel", show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.entries: dict[str, OrgEntry] = {}
        self.rows: dict[str, Row] = {}
        self.query_text = ""
        self.loaded = False
        self.undo_stack: list[list[Org]] = []
        self.refresh_cancel: threading.Event | None = None
        self.refreshing = False
        self._pending_focus: str | None = None
        self.indexed = False
        self.indexed_once = False
        self._counts: tuple[dict[str, int], int] | None = None
        self._resort_due = False  # checks changed rows in place; sort again when they end
        # The time the cells are drawn for; a tick advances it and redraws the rows in view.
        self.row_clock = RowClock(now_utc())
        self._rows_changed = True  # self.rows differ from what the table holds
        self._presorted: tuple[str | None, bool] | None = None  # the order self.rows come in
        # Filter results by terms (keys and their filter words, in the table's order), for
        # the entries and the order as they are now (`_hay_stamp`): a longer query filters
        # the result of a shorter one, backspace finds its earlier result.
        self._matches: dict[tuple[str, ...], tuple[list[str], list[str]]] = {}
        self._matches_stamp: tuple[int, int] = (-1, -1)
        self._hay_version = 0  # bumps whenever an entry's filter words may have changed
        self._hays: tuple[tuple[int, int], list[str]] | None = None  # aligned with all_keys
        self._counts_generation = 0  # bumps when entries change; older counts are dropped
        self._table: FastTable | None = None
        self.preview_total: int | None = None  # a first page is shown (of this many orgs)
        # The store's own-write count when the first page was last kept, and at the last
        # look (a page is kept again once this process's writes have stopped for a while).
        self._page_writes: tuple[int, int] | None = None

    # -- layout ------------------------------------------------------------------------------
    def compose_body(self) -> ComposeResult:
        yield Static(id="registry-status")
        yield FilterBox(placeholder="filter: name, org ID, tag, state (esc clears)",
                        id="registry-filter")
        yield FastTable(COLUMNS, empty_text="Loading orgs…", multi_select=True,
                        id="registry-table")
        yield Horizontal(id="registry-progress")  # filled when a check starts

    @property
    def table(self) -> FastTable:
        if self._table is None:
            self._table = self.query_one("#registry-table", FastTable)
        return self._table

    def on_mount(self) -> None:
        self.row_clock.advance(app_now(self.app))
        self.table.sort_by("name")
        self.table.focus()
        self._show_first_page()
        self.update_status()
        # The store is read (and, at start-up, parsed) in a worker after the first frame,
        # which shows the screen with "Reading the store…" (bench/startup_bench.py).
        self.call_after_refresh(self.load_entries)
        self.set_interval(60, self._tick_ages)
        if self.juston.first_page_dir is not None:
            self.set_interval(PAGE_QUIET_S, self._page_after_writes)

    # -- loading -----------------------------------------------------------------------------
    def _show_first_page(self) -> None:
        """The rows the last start wrote (store/first_page.py), if the store is unchanged
        since: the first frame shows them while the worker reads everything. Until then
        they are for looking at: keys that act on orgs wait for the whole store."""
        page = self.juston.take_first_page()
        if page is None or not page.rows or page.sort != (self.table.sort_column,
                                                          self.table.sort_reverse):
            return
        self.entries = entries_from_page(page, self.juston.parse_snapshot_line)
        self.rows = {key: entry_row(entry, self.row_clock) for key, entry in self.entries.items()}
        self.preview_total = page.total
        self._presorted = page.sort
        self.apply_filter()

    def _page_after_writes(self) -> None:
        """This process wrote to the store (an edit, a check, a contact): the kept page no
        longer matches the files, so the next start would wait for the whole store. Once the
        writes have stopped for a tick, keep a fresh page (a worker; a plain count here)."""
        if self._page_writes is None:  # not read yet, or the read failed
            return
        count = self.store.write_count
        kept, seen = self._page_writes
        self._page_writes = (kept, count)
        if count != kept and count == seen:
            self._page_writes = (count, count)
            self.keep_page()

    @work(thread=True, exit_on_error=False, group="registry-page", exclusive=True,
          name="keeping the first page", description="keeping the first page")
    def keep_page(self) -> None:
        # screen -> push judgement seam: see _read_entries
        from juston_tui.push_ops.outcomes import failed_twice

        store = self.juston.store
        try:
            kept = page_from_store(store, lambda: failed_twice(store))
        except Exception:  # a damaged file is the load's to report; a page is only a head start
            return
        if kept is not None:
            self.juston.save_first_page(kept[1], kept[0])

    def _still_reading(self) -> bool:
        """True (and says so) while only the first page is shown."""
        if self.loaded:
            return False
        self.notify("Still reading the store: try again in a moment.", timeout=3)
        return True

    @work(thread=True, exit_on_error=False, group="registry-load", exclusive=True,
          name="loading orgs")
    def load_entries(self) -> None:
        # The table's sort as it is now (plain attribute reads); if it changes before the
        # rows land, the table sorts them itself.
        table = self.table
        presorted = (table.sort_column, table.sort_reverse)
        with paused_gc():
            entries, error, stamp = self._read_entries()
            clock = self.row_clock
            rows = {key: entry_row(entry, clock) for key, entry in entries.items()}
            column = presorted[0]
            if column is not None:  # sorted here, not on the UI thread
                index = next(i for i, c in enumerate(COLUMNS) if c.key == column)
                value_of = ((lambda key: entries[key].name_key) if index == 0 else
                            (lambda key: entries[key].sort_value(index)))
                rows = {key: rows[key] for key in sorted_keys(rows, list(rows), index,
                                                              presorted[1], value_of)}
            # The next start's first page: the first rows in the start-up order (name), as
            # read at one stamp of the files.
            page = (page_of(entries, rows, (column, presorted[1]))
                    if stamp is not None and column == "name" and not presorted[1] else None)
            if not self.loaded:  # the start-up load only: see JustOnApp.freeze_long_lived
                self.juston.freeze_long_lived()
        writes = None if error else self.juston.store.write_count
        self.post_message(EntriesLoaded(entries, rows, error, presorted, writes))
        if page is not None and stamp is not None:
            self.juston.save_first_page(stamp, page)

    def _read_entries(self) -> tuple[dict[str, OrgEntry], str | None, Stamp | None]:
        """The entries, and the files' stamp if nothing was written while they were read."""
        # screen -> push judgement seam: after the first frame, in this worker (push_ops.plans
        # is ~6 ms of start-up the first page does not need)
        from juston_tui.push_ops.outcomes import failed_twice

        try:
            store = self.juston.store
            stamp = store.disk_stamp()
            orgs = store.org_docs()  # catches up with the file first
            failed = failed_twice(store)  # the core's judgement, from the kept push results
            # The snapshots' lines, each parsed where its row needs it (registry_data).
            entries = build_entries_from_lines(orgs, store.iter_snapshot_lines(),
                                               store.parse_snapshot_line, failed)
            return entries, None, stamp if store.disk_stamp() == stamp else None
        except Exception as exc:  # a vanished or damaged file is shown, not raised
            return {}, clean(str(exc), limit=300), None

    @on(EntriesLoaded)
    def _entries_loaded(self, event: EntriesLoaded) -> None:
        # A reload read the store in a worker; a check that ended meanwhile may have shown a
        # newer result than that read saw. Keep the newer one (found by the torture storm).
        presorted = event.presorted
        if self.entries:  # a reload (at start-up nothing is shown yet: skip the pass)
            for key, entry in event.entries.items():
                shown = self.entries.get(key)
                if shown is not None and _newer(shown.info.checked_at, entry.info.checked_at):
                    entry.info = shown.info
                    event.rows[key] = entry_row(entry, self.row_clock)
                    presorted = None  # its sort values changed
        self.entries = event.entries
        self.loaded = True
        self.preview_total = None
        # The store's own writes as the load saw them (it kept a page for what it read).
        self._page_writes = None if event.writes is None else (event.writes, event.writes)
        if event.error:
            self.notify(event.error, markup=False, title="Store", severity="error")
        self.rows = event.rows
        self.indexed = False
        self._entries_changed()
        self.row_clock.advance(app_now(self.app))
        self._presorted = presorted
        self.apply_filter()
        if self._pending_focus:
            self.table.move_to_key(self._pending_focus)
            self._pending_focus = None
        # After the frame with the rows: the worker competes with it for the GIL otherwise.
        entries = self.entries
        self.table.call_after_rows_drawn(lambda: self.prepare_index(entries))

    # A description of its own: Textual's default repr()s the arguments (100,000 entries:
    # ~90 ms on the UI thread).
    @work(thread=True, exit_on_error=False, group="registry-index", exclusive=True,
          name="indexing orgs", description="indexing orgs")
    def prepare_index(self, entries: dict[str, OrgEntry]) -> None:
        """Parse every snapshot and build the filter words off the UI thread, and list them
        in the table's order (plain reads of lists the UI thread replaces, never mutates)."""
        table = self.table
        stamp = self._hay_stamp()
        keys = table.all_keys
        hays: list[str] | None = []
        with paused_gc():
            for entry in list(entries.values()):
                entry.prepare()
            for key in keys:
                entry = entries.get(key)
                if entry is None:  # changed meanwhile: the UI builds them when needed
                    hays = None
                    break
                hays.append(entry.haystack)  # type: ignore[union-attr]
            if not self.indexed_once:  # start-up: see JustOnApp.freeze_long_lived
                self.indexed_once = True
                # 100,000 parsed snapshots are long-lived: the GC would rescan them in
                # 100-170 ms pauses under the keystrokes otherwise (bench/registry_bench.py).
                self.juston.freeze_long_lived()
        self.post_message(IndexReady(stamp, hays))

    @on(IndexReady)
    def _index_ready(self, event: IndexReady) -> None:
        self.indexed = True
        if event.hays is not None and event.stamp == self._hay_stamp():
            self._hays = (event.stamp, event.hays)
        self._count_later()

    def _hay_stamp(self) -> tuple[int, int]:
        """What filter results depend on: the table's order and the entries' filter words."""
        return (self.table.sort_generation, self._hay_version)

    def _entries_changed(self) -> None:
        """Entries or their snapshot info changed: filter results and counts are out of date."""
        self._rows_changed = True
        self._hay_version += 1
        self._counts_generation += 1
        self._count_later()

    def _count_later(self) -> None:
        """Count verdicts and stale checks in a worker (per-org work stays off the UI
        thread); the status shows the last counts until then."""
        if self.indexed:
            self.count_entries(list(self.entries.values()), app_now(self.app),
                               self._counts_generation)

    @work(thread=True, exit_on_error=False, group="registry-count", exclusive=True,
          name="counting orgs", description="counting orgs")  # not repr(entries): see above
    def count_entries(self, entries: list[OrgEntry], now: datetime, generation: int) -> None:
        counts, stale = count_verdicts(entries, now)
        self.post_message(CountsReady(counts, stale, generation))

    @on(CountsReady)
    def _counts_ready(self, event: CountsReady) -> None:
        if event.generation == self._counts_generation:
            self._counts = (event.counts, event.stale)
            self.update_status()

    @on(StoreChanged)
    def _store_changed(self) -> None:
        self.load_entries()

    def _tick_ages(self) -> None:
        """Ages and staleness marks move with the clock: the rows on screen are drawn again
        (the others when they scroll into view: `RowClock`), the stale count is redone in a
        worker. Nothing here walks every org."""
        if self.loaded:
            self.row_clock.advance(app_now(self.app))
            self.table.refresh_rows()
            # The count worker after the repaint: it would take half the GIL from it.
            self.table.call_after_rows_drawn(self._count_later)

    # -- filtering ---------------------------------------------------------------------------
    def visible_keys(self) -> list[str]:
        """The keys matching the filter, in the table's order."""
        keys = self.matching_keys()
        return list(self.table.all_keys) if keys is None else list(keys)

    def _all_hays(self) -> list[str]:
        """Every entry's filter words, aligned with the table's `all_keys`."""
        stamp = self._hay_stamp()
        if self._hays is None or self._hays[0] != stamp:
            entries = self.entries
            self._hays = (stamp, [entries[key].haystack for key in self.table.all_keys])
        return self._hays[1]

    def matching_keys(self) -> list[str] | None:
        """The keys matching the filter (None: no terms, everything matches).

        A query whose terms each contain some term of an earlier query can only match a
        subset of that query's result, so typing on filters the smallest such result rather
        than every entry; backspace finds its earlier result. Same rows as `filter_entries`."""
        terms = tuple(search_terms(self.query_text))
        if not terms:
            return None
        stamp = self._hay_stamp()
        if stamp != self._matches_stamp:
            self._matches = {}
            self._matches_stamp = stamp
        cache = self._matches
        hit = cache.get(terms)
        if hit is not None:
            return hit[0]
        base: tuple[list[str], list[str]] | None = None
        for earlier, result in cache.items():
            if (base is None or len(result[0]) < len(base[0])) and all(
                    any(old in new for new in terms) for old in earlier):
                base = result
        keys, hays = base if base is not None else (self.table.all_keys, self._all_hays())
        # `text.matches` inlined over plain lists (100,000 entries at the first key).
        if len(terms) == 1:
            term = terms[0]
            mask = [term in hay for hay in hays]
        else:
            mask = [all(term in hay for term in terms) for hay in hays]
        found = (list(compress(keys, mask)), list(compress(hays, mask)))
        if len(cache) >= 64:
            cache.pop(next(iter(cache)))
        cache[terms] = found
        return found[0]

    def apply_filter(self) -> None:
        table = self.table
        presorted, self._presorted = self._presorted, None  # set by a load, for its rows
        table.empty_text = (
            "No org matches the filter: esc clears it."
            if self.entries
            else "No orgs registered yet: press a to add one."
        )
        if self._rows_changed:
            self._rows_changed = False
            table.set_rows(self.rows.values(), presorted=presorted)
            keys = self.matching_keys()
            if keys is not None:
                table.show_only(keys, ordered=True)
        else:
            table.show_only(self.matching_keys(), ordered=True)
        self.update_status()

    def action_filter(self) -> None:
        self.query_one("#registry-filter", FilterBox).open()

    @on(FilterBox.FilterChanged, "#registry-filter")
    def _filter_changed(self, event: FilterBox.FilterChanged) -> None:
        self.query_text = event.value
        if not self.loaded:  # a first page is not every org: filtered once all are read
            self.update_status()
            return
        self.apply_filter()

    @on(FilterBox.FilterSubmitted, "#registry-filter")
    def _filter_submitted(self) -> None:
        self.table.focus()

    def action_escape(self) -> None:
        if self.refreshing and self.refresh_cancel is not None:
            self.refresh_cancel.set()
            self._progress()[1].update("cancelling…")
            return
        if self.query_one("#registry-filter", FilterBox).clear() or self.query_text:
            self.query_text = ""
            self.apply_filter()
            self.table.focus()

    def update_status(self) -> None:
        status = self.query_one("#registry-status", Static)
        if not self.loaded:
            status.update(self._loading_text())
            return
        counts, stale = self._counts or ({}, 0)
        text = Text()
        text.append(f"{len(self.entries)} orgs", style="bold")
        text.append(f" · {self.table.row_count} shown")
        marked = len(self.table.selected_keys)
        if marked:
            text.append(f" · {marked} marked", style="bold")
        text.append("  ")
        for verdict, label, style in (("fail", "fail", "bold red"), ("warn", "warn", "yellow"),
                                      ("ok", "ok", "green"), ("unknown", "unknown", "dim"),
                                      ("", "unchecked", "dim")):
            if counts.get(verdict):
                text.append(f"{label} {counts[verdict]}  ", style=style)
        if self._counts is None and self.entries:
            text.append("counting…", style="dim")
        if stale:
            text.append(f"{stale} stale (!: >24 h)", style="bold yellow")
        if self.query_text:
            text.append("  filter: ")
            text.append(clean(self.query_text, limit=40), style="italic")
        # One line high (styles/registry.tcss): no layout of the whole screen per keystroke.
        status.update(text, layout=False)

    def _loading_text(self) -> Text:
        try:
            size = f" ({self.juston.store_path.stat().st_size / 1e6:.1f} MB)"
        except OSError:
            size = ""
        text = Text(f"Reading the store{size}…", style="dim")
        if self.preview_total is not None:
            text.append(f" showing the first {len(self.rows)} of {self.preview_total} orgs",
                        style="dim")
        if self.query_text:
            text.append("  filter (once all are read): ")
            text.append(clean(self.query_text, limit=40), style="italic")
        return text

    @on(FastTable.SelectionChanged, "#registry-table")
    def _selection_changed(self) -> None:
        self.update_status()

    # -- helpers -----------------------------------------------------------------------------
    def cursor_org(self) -> Org | None:
        if not self.loaded:  # a first page only
            return None
        key = self.table.cursor_key
        entry = self.entries.get(key) if key else None
        return entry.org if entry else None

    def target_orgs(self) -> list[Org]:
        """The marked orgs (in displayed order), else the org under the cursor."""
        if not self.loaded:  # a first page only
            return []
        keys = self.table.selected_in_order() or (
            [self.table.cursor_key] if self.table.cursor_key else []
        )
        return [self.entries[k].org for k in keys if k in self.entries]

    def focus_request(self, org_id: str | None = None, **kwargs: Any) -> None:
        if org_id is None:
            return
        if not self.loaded or not self.table.move_to_key(org_id):
            self._pending_focus = org_id

    def put_org(self, org: Org) -> None:
        """Show a new or changed org (its snapshot info is kept)."""
        old = self.entries.get(org.org_id)
        info = old.info if old else SnapInfo()
        parent = self.entries.get(org.parent_org_id or "")
        self.entries[org.org_id] = OrgEntry.build(org, info, parent.name if parent else "",
                                                  bool(old and old.failed_twice))
        self.rows[org.org_id] = entry_row(self.entries[org.org_id], self.row_clock)

    @on(OrgsChanged)
    def _orgs_changed(self, event: OrgsChanged) -> None:
        for org_id in event.removed:
            self.entries.pop(org_id, None)
            self.rows.pop(org_id, None)
        for org in event.orgs:
            self.put_org(org)
        self._entries_changed()
        self.apply_filter()
        if event.orgs and len(event.orgs) == 1:
            self.table.move_to_key(event.orgs[0].org_id)

    # -- add / edit / delete / undo ------------------------------------------------------------
    def action_add(self) -> None:
        # a modal, loaded when first opened (start-up: each screen module ~10-80 ms)
        from juston_tui.screens.org_form import OrgFormScreen

        self.app.push_screen(OrgFormScreen(None), self._form_done)

    def action_edit(self) -> None:
        if self._still_reading():
            return
        org = self.cursor_org()
        if org is None:
            self.notify("No org under the cursor.", severity="warning")
            return
        # a modal, loaded when first opened (start-up: each screen module ~10-80 ms)
        from juston_tui.screens.org_form import OrgFormScreen

        self.app.push_screen(OrgFormScreen(org), self._form_done)

    def _form_done(self, org: Org | None) -> None:
        if org is not None:
            self.announce(OrgsChanged([org]))
            self.notify(Text(f"Saved {clean(org.name, limit=60)}."), timeout=3)

    def action_delete(self) -> None:
        if self._still_reading():
            return
        orgs = self.target_orgs()
        if not orgs:
            self.notify("No org under the cursor.", severity="warning")
            return

        if len(orgs) == 1:
            question = (f"Remove {clean(orgs[0].name, limit=60)} ({orgs[0].org_id}) from the "
                        "registry? Its secrets stay in the keyring; u undoes this.")
        else:
            question = f"Remove {len(orgs)} marked orgs from the registry? u undoes this."

        def answered(yes: bool | None) -> None:
            if yes:
                self.delete_orgs(orgs)

        self.app.push_screen(ConfirmScreen(question, yes="Remove"), answered)

    @work(thread=True, exit_on_error=False, group="registry-write", name="removing orgs",
          description="removing orgs")
    def delete_orgs(self, orgs: list[Org]) -> None:
        self.post_message(OrgsRemoved(self.store.remove_orgs([o.org_id for o in orgs])))

    @on(OrgsRemoved)
    def _deleted(self, event: OrgsRemoved) -> None:
        removed = event.orgs
        self.undo_stack.append(removed)
        self.table.clear_selection()
        self.announce(OrgsChanged(removed=[o.org_id for o in removed]))
        what = clean(removed[0].name, limit=60) if len(removed) == 1 else f"{len(removed)} orgs"
        self.notify(Text(f"Removed {what}. Press u to undo."), timeout=6)

    def action_undo(self) -> None:
        if self._still_reading():
            return
        if not self.undo_stack:
            self.notify("Nothing to undo.", severity="information", timeout=3)
            return
        self.restore_orgs(self.undo_stack.pop())

    @work(thread=True, exit_on_error=False, group="registry-write", name="undoing removal",
          description="undoing removal")
    def restore_orgs(self, orgs: list[Org]) -> None:
        try:
            self.post_message(OrgsRestored(orgs, self.store.restore_orgs(orgs)))
        except Exception as exc:  # nothing was written: keep the entry so u can try again
            self.post_message(OrgsRestored(orgs, [], clean(str(exc), limit=300)))

    @on(OrgsRestored)
    def _restored(self, event: OrgsRestored) -> None:
        if event.error:
            self.undo_stack.append(event.wanted)
            self.notify(Text(f"Not restored: {event.error}"), title="Undo", severity="error",
                        timeout=8)
            return
        self.announce(OrgsChanged(event.restored))
        self.notify(f"Restored {len(event.restored)} org(s).", timeout=3)

    # -- open ----------------------------------------------------------------------------------
    @on(FastTable.RowSelected, "#registry-table")
    def _open(self, event: FastTable.RowSelected) -> None:
        entry = self.entries.get(event.key)
        if entry is None or self._still_reading():
            return
        # a modal, loaded when first opened (start-up: each screen module ~10-80 ms)
        from juston_tui.screens.org_detail import OrgDetailScreen

        self.app.push_screen(OrgDetailScreen(entry.org.org_id))

    # -- refresh -------------------------------------------------------------------------------
    def action_refresh(self) -> None:
        if self._still_reading():
            return
        self.start_refresh(self.target_orgs())

    def action_refresh_all(self) -> None:
        """Check every org but the vendor's packaging org, as `juston-tui status` does."""
        if self._still_reading():
            return
        every = [e.org for e in self.entries.values()]
        orgs = checked_by_default(every)
        if every and not orgs:
            self.notify("Only the vendor's packaging org is registered: select it and press r "
                        "to check it.", severity="warning")
            return
        self.start_refresh(orgs)

    def start_refresh(self, orgs: list[Org]) -> None:
        if not orgs:
            self.notify("No org to check.", severity="warning")
            return
        if self.refreshing:
            self.notify("A check is already running (esc cancels it).", severity="warning")
            return
        self.refreshing = True
        self.refresh_cancel = threading.Event()
        bar, label = self._progress()
        self.query_one("#registry-progress").display = True
        bar.update(total=len(orgs), progress=0)
        label.update(f"checking 0/{len(orgs)} · esc cancels")
        self.sweep_orgs(orgs, self.refresh_cancel)

    def _progress(self) -> tuple[ProgressBar, Label]:
        """The check's progress bar and label, built when the first check starts.

        Not at start-up: a progress bar is four widgets and ~10 ms of the first frame.
        """

        row = self.query_one("#registry-progress", Horizontal)
        if not row.children:
            row.mount(ProgressBar(id="registry-bar", show_eta=False),
                      Label(id="registry-progress-label"))
        return (row.query_one("#registry-bar", ProgressBar),
                row.query_one("#registry-progress-label", Label))

    @work(thread=True, exit_on_error=False, group="registry-refresh", name="checking orgs",
          description="checking orgs")  # not repr() of every org checked
    def sweep_orgs(self, orgs: list[Org], cancel: threading.Event) -> None:
        # screen -> sweep seam: loaded with the first check (the probe settings read TOML:
        # ~7 ms of start-up)
        from juston_tui.screens.registry_refresh import run_sweep

        run_sweep(self.app, orgs, cancel=cancel, post=self.announce)

    @on(SnapshotArrived)
    def _snapshot_arrived(self, event: SnapshotArrived) -> None:
        self.apply_snapshot_info(event.snapshot.org_id, SnapInfo.from_snapshot(event.snapshot))
        if self.refreshing:
            bar, label = self._progress()
            bar.update(total=event.total, progress=event.done)
            text = f"checking {event.done}/{event.total} · esc cancels"
            if self.refresh_cancel is not None and self.refresh_cancel.is_set():
                text = f"cancelling… {event.done}/{event.total}"
            label.update(text)

    def apply_snapshot_info(self, org_id: str, info: SnapInfo) -> None:
        """Live per-row update: the row changes in place, without re-sorting under the cursor
        while a check runs; the rows sort again when it ends (`resort_now`)."""
        entry = self.entries.get(org_id)
        if entry is None:
            return
        entry.info = info
        row = entry_row(entry, self.row_clock)
        self.rows[org_id] = row
        self.table.update_row(org_id, row.cells, row.sort_values)
        self._resort_due = True
        # The filter words changed (the verdict); the table holds this row already.
        self._hay_version += 1
        self._counts_generation += 1
        self._count_later()
        self.update_status()

    def resort_now(self) -> None:
        """Sort the rows again under the current order if checks changed them."""
        if self._resort_due:
            self._resort_due = False
            self.table.resort()

    def on_screen_resume(self) -> None:
        # A check run from the detail or access screen changed rows while this one was hidden.
        if not self.refreshing:
            self.resort_now()

    def _vendor_synced(self, applied: bool | None) -> None:
        if applied:
            self.load_entries()

    @on(RefreshFinished)
    def _refresh_finished(self, event: RefreshFinished) -> None:
        self.refreshing = False
        self.refresh_cancel = None
        self.query_one("#registry-progress").display = False
        self.resort_now()
        if event.error:
            self.notify(event.error, markup=False, title="Check", severity="error", timeout=8)
        elif event.cancelled:
            self.notify(f"Cancelled: {event.count} of {event.total} orgs checked.", timeout=5)
        else:
            self.notify(f"Checked {event.count} org(s).", timeout=3)

    # -- push registration and vendor sync ---------------------------------------------------
    def action_push(self) -> None:
        if self._still_reading():
            return
        orgs = self.target_orgs()
        if not orgs:
            self.notify("Mark orgs with space (or put the cursor on one) first.",
                        severity="warning")
            return
        # a modal, loaded when first opened (start-up: each screen module ~10-80 ms)
        from juston_tui.screens.push_request import PushRequestScreen

        self.app.push_screen(PushRequestScreen([o.org_id for o in orgs]))

    def action_vendor_sync(self) -> None:
        if self._still_reading():
            return
        org = self.cursor_org()
        vendors = [e.org for e in self.entries.values() if e.vendor]
        if org is None or not org.vendor:
            if len(vendors) != 1:
                self.notify(
                    "Put the cursor on the vendor (packaging) org: edit an org and tick "
                    "'vendor org' to mark it." if not vendors else
                    "Put the cursor on the vendor org to sync from.", severity="warning")
                return
            org = vendors[0]
        # a modal, loaded when first opened (start-up: each screen module ~10-80 ms)
        from juston_tui.screens.vendor_sync import VendorSyncScreen

        self.app.push_screen(VendorSyncScreen(org), self._vendor_synced)
