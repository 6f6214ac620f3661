"""Screen 4: the upcoming push upgrades, their announcements and the releases around them.

Everything shown comes from `juston_tui.schedule.load_view` (rules + store) computed in a
thread worker; the screen only renders it and turns keys into core calls. Each kind of event
has its own letter as well as its own colour (lower case = projected), so the calendar reads
on 16-colour terminals and with NO_COLOR. Wide terminals show the agenda and the month grid
side by side; narrow ones show one of them (`g` switches).
"""

from __future__ import annotations

import calendar as pycal
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any, ClassVar

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.message import Message
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from juston_tui import push_jobs, schedule
from juston_tui.schedule import (
    EVENT_KINDS,
    CalendarView,
    Event,
    Push,
    PushPlan,
    add_months,
    countdown,
)
from juston_tui.screens.base import JustOnScreen
from juston_tui.screens.calendar_detail import PushDetailScreen
from juston_tui.screens.calendar_form import PushFormScreen
from juston_tui.screens.confirm import ConfirmScreen
from juston_tui.screens.file_export import SavesExports
from juston_tui.screens.messages import StoreChanged
from juston_tui.screens.widgets.filter_box import FilterBox
from juston_tui.text import clean

# Rich styles per event kind: six different basic colours, each also with its own letter.
KIND_STYLES = {
    "sf_release": "bold blue",
    "sf_preview": "cyan",
    "juston_release": "bold magenta",
    "announcement": "bold yellow",
    "push": "bold green",
    "vendor_push": "bold reverse green",
}
PROJECTED_STYLE = "dim italic"
SHORT_PRODUCT = {"billing": "Billing", "cash": "Cash Management"}
WIDE = 110  # from this width the month grid sits beside the agenda
MONTH_CHOICES = (3, 6, 12)
MAX_MONTHS = 36  # how far `]` reads ahead


def event_style(event: Event) -> str:
    style = KIND_STYLES[event.kind]
    return f"{style} {PROJECTED_STYLE}" if event.projected else style


def push_title(plan: PushPlan) -> str:
    push = plan.push
    version = f" {push.version}" if push.version else ""
    return f"Push {SHORT_PRODUCT[push.product]}{version} ({push.status})"


@dataclass(frozen=True)
class AgendaLine:
    """One agenda entry in four parts: when, the kind's letter, what (cut with an ellipsis
    when the agenda is narrow) and the counts (never cut, never wrapped)."""

    when: Text
    letter: Text
    what: Text
    tail: Text

    @property
    def plain(self) -> str:
        """The whole line as one string (what the filter searches)."""
        tail = f"  {self.tail.plain}" if self.tail.plain else ""
        return f"{self.when.plain}{self.letter.plain}{self.what.plain}{tail}"

    def prompt(self) -> Table:
        """The agenda row: one line at any width."""
        row = Table.grid(expand=True)
        row.add_column(no_wrap=True, width=13)
        row.add_column(no_wrap=True, width=3)
        row.add_column(ratio=1, no_wrap=True, overflow="ellipsis")
        row.add_column(justify="right", no_wrap=True)
        row.add_row(self.when, self.letter, self.what,
                    Text("  ") + self.tail if self.tail.plain else Text(""))
        return row


def agenda_line(event: Event, view: CalendarView) -> AgendaLine:
    """One agenda line: date, letter, time, what, and for a push who and how far along."""
    when = event.day.strftime("%a %d %b")
    if event.last_day != event.day:
        when = f"{event.day:%d %b}-{event.last_day:%d %b}"
    what = Text()
    tail = Text(style="dim")
    if event.start_utc is not None:
        what.append(event.start_utc.astimezone(view.settings.zone_info).strftime("%H:%M "))
    plan = view.plan(event.push_id) if event.push_id else None
    if plan is not None and event.kind in ("push", "vendor_push"):
        what.append(push_title(plan), style="" if event.projected else "bold")
        if plan.warnings:
            what.append(" ! ", style="bold red")
            what.append(clean(plan.warnings[0]), style="red")
        tail.append(f"{len(plan.orgs)} org(s)")
        if plan.push.actions:
            tail.append(f" · {plan.done_count}/{len(plan.push.actions)} done")
    elif plan is not None and event.kind == "announcement":
        what.append(f"Announce {push_title(plan).removeprefix('Push ')}",
                    style="" if event.projected else "bold")
        tail.append(f"{len(plan.contacts)} contact(s)")
    else:
        what.append(clean(event.title), style=PROJECTED_STYLE if event.projected else "")
    return AgendaLine(Text(f"{when:<13}"), Text(f" {event.letter} ", style=event_style(event)),
                      what, tail)


def fit_phrases(phrases: list[Text], width: int, *, sep: str = " · ",
                indent: str = "  ") -> Text:
    """Phrases joined by `sep`, a line broken only between two phrases (never inside one):
    the words the app chose stay together at any width. A phrase wider than a whole line is
    left to the widget's ellipsis."""
    out = Text()
    used = 0
    for index, phrase in enumerate(phrases):
        if index and used + len(sep) + phrase.cell_len > width:
            out.append("\n" + indent)
            used = len(indent)
        elif index:
            out.append(sep)
            used += len(sep)
        out.append_text(phrase)
        used += phrase.cell_len
    return out


def legend() -> Text:
    text = Text()
    for kind, (letter, label) in EVENT_KINDS.items():
        text.append(f" {letter} ", style=KIND_STYLES[kind])
        text.append(f" {label}\n")
    text.append("lower case = projected, today = reversed", style="dim")
    return text


def month_grid(view: CalendarView, year: int, month: int, today: date,
               focus_day: date | None) -> Group:
    """A Monday-first month with each day's event letters."""
    table = Table(box=None, pad_edge=False, padding=(0, 1, 0, 0), show_edge=False,
                  header_style="bold", expand=False)
    for name in ("Mo", "Tu", "We", "Th", "Fr", "Sa", "Su"):
        table.add_column(name, no_wrap=True, width=5)
    for week in pycal.Calendar(0).monthdatescalendar(year, month):
        cells = []
        for day in week:
            cell = Text()
            if day.month != month:
                cell.append(f"{day.day:>2}", style="dim")
                cells.append(cell)
                continue
            style = "reverse" if day == today else ("underline bold" if day == focus_day
                                                     else "")
            cell.append(f"{day.day:>2}", style=style)
            letters = []
            for event in view.events_on(day):
                if event.kind == "juston_release" and day not in (event.day, event.last_day):
                    continue  # the window's first and last day are enough
                letters.append(event)
            if letters:
                cell.append(" ")
                for event in letters[:2]:
                    cell.append(event.letter, style=event_style(event))
            cells.append(cell)
        table.add_row(*cells)
    title = Text(date(year, month, 1).strftime("%B %Y"), style="bold")
    return Group(title, table, Text(""), legend())


class AgendaList(OptionList):
    """The agenda: an OptionList whose `enter` says what it does in the key bar (the plain
    list's hidden "select" binding would hide the screen's "Open")."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("enter", "select", "Open")]


@dataclass
class _Row:
    event: Event
    plan: PushPlan | None


class CalendarLoaded(Message):
    """The load worker computed the view."""

    def __init__(self, view: CalendarView) -> None:
        super().__init__()
        self.view = view


class PushDeleted(Message):
    """The delete worker ended: the deleted document (for undo), or None when it was gone."""

    def __init__(self, doc: dict[str, Any] | None) -> None:
        super().__init__()
        self.doc = doc


class PushRestored(Message):
    """The undo worker put the push back."""

    def __init__(self, push: Push) -> None:
        super().__init__()
        self.push = push


class VendorReading(Message):
    """The refresh worker found the packaging org and is asking it now."""

    def __init__(self, name: str) -> None:
        super().__init__()
        self.name = name


class VendorRefreshed(Message):
    """The refresh worker ended: the cache record read, or None when nothing was asked
    (`has_vendor`: a packaging org is registered, but the store is read-only)."""

    def __init__(self, record: dict[str, Any] | None, has_vendor: bool) -> None:
        super().__init__()
        self.record = record
        self.has_vendor = has_vendor


class CalendarScreen(SavesExports, JustOnScreen):
    """Agenda + month grid of pushes, announcements and releases."""

    MODE = "calendar"
    TITLE = "Push calendar"
    CSS_PATH = "../styles/calendar.tcss"
    EDIT_ACTIONS: ClassVar[frozenset[str]] = frozenset({"add", "edit", "delete", "undo"})
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "open", "Open", show=True),
        Binding("a", "add", "Add push"),
        Binding("e", "edit", "Edit"),
        Binding("d", "delete", "Delete"),
        Binding("u", "undo", "Undo", show=False),
        Binding("r", "refresh", "Refresh"),
        Binding("g", "toggle_grid", "Grid/agenda"),
        Binding("left_square_bracket", "month(-1)", "Prev month", key_display="["),
        Binding("right_square_bracket", "month(1)", "Next month", key_display="]"),
        Binding("m", "months", "Months"),
        Binding("P", "push_ops", "Push operations"),
        Binding("x", "export_ics", "Export ICS"),
        Binding("slash", "filter", "Filter", key_display="/", priority=True),
        Binding("escape", "clear_filter", "Clear filter", show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.view: CalendarView | None = None
        self.months = 6
        self.rows: list[_Row] = []
        self.lines: list[tuple[Event, PushPlan | None, AgendaLine]] = []
        # The one month cursor: the grid shows it, the agenda's cursor is in it (`]`/`[` move
        # both; moving in the agenda takes it along).
        self.grid_month: tuple[int, int] | None = None
        self._want_month: tuple[int, int] | None = None  # `]` past the loaded months
        self.filter_text = ""
        self.undo_doc: dict[str, Any] | None = None
        self.focus_push: str | None = None

    def compose_body(self) -> ComposeResult:
        yield Static(Text("Loading the push calendar…"), id="cal-next")
        yield Static("", id="cal-vendor")
        yield FilterBox(placeholder="filter: type to narrow the agenda, enter to go back to it",
                        id="cal-filter")
        with Horizontal(id="cal-body"):
            yield AgendaList(id="cal-agenda")
            yield Static("", id="cal-grid")

    def on_mount(self) -> None:
        self._apply_width(self.size.width or self.app.size.width)
        self.query_one("#cal-agenda", OptionList).focus()
        self.load()

    def on_resize(self, event: events.Resize) -> None:
        self._apply_width(event.size.width)

    def _apply_width(self, width: int) -> None:
        self.set_class(width < WIDE, "-narrow")
        if self.view is not None:  # the header's lines break between phrases at this width
            self._render_next()
            self._render_vendor()

    # -- loading -----------------------------------------------------------------------------
    @work(thread=True, exit_on_error=False, group="calendar-load", exclusive=True,
          name="loading the calendar")
    def load(self) -> None:
        store = self.store
        today = self.now().astimezone(schedule.settings_from_store(store).zone_info).date()
        self.post_message(CalendarLoaded(schedule.load_view(store, today=today,
                                                            months=self.months)))

    def now(self) -> datetime:
        """The app's clock (tests pin it): the one "now" of every screen."""
        return self.juston.clock()

    @on(StoreChanged)
    def _store_changed(self, event: StoreChanged) -> None:
        self.load()

    def today(self) -> date:
        """The day the view was computed for (local to the calendar's time zone)."""
        view = self.view
        return view.start if view is not None else self.now().date()

    @on(CalendarLoaded)
    def _loaded(self, event: CalendarLoaded) -> None:
        self.show_view(event.view)

    def show_view(self, view: CalendarView) -> None:
        """Render a freshly computed view, keeping the cursor on the same event."""
        agenda = self.query_one("#cal-agenda", OptionList)
        keep = self._current_uid()
        self.view = view
        self.lines = [(event, view.plan(event.push_id) if event.push_id else None,
                       agenda_line(event, view)) for event in view.events]
        self._render_next()
        self._render_vendor()
        self._render_agenda(keep)
        if not agenda.option_count and self.grid_month is None:
            self.grid_month = (view.start.year, view.start.month)
        self._render_grid()

    def _current_uid(self) -> str | None:
        row = self.current_row()
        return row.event.uid if row else None

    def _text_width(self) -> int:
        """The width the header lines have (the screen's, less their padding)."""
        return max(20, (self.size.width or self.app.size.width) - 2)

    def _render_next(self) -> None:
        view = self.view
        assert view is not None
        target = self.query_one("#cal-next", Static)
        plan = view.next_plan(self.now())
        if plan is None:
            target.update(Text(f"No push upgrade in the next {self.months} months.",
                               style="bold"))
            return
        push = plan.push
        width = self._text_width()
        first = Text()
        first.append("Next push ", style="bold")
        kind = "vendor_push" if push.status == "scheduled" else "push"
        letter = EVENT_KINDS[kind][0]
        first.append(f" {letter.lower() if push.projected else letter} ",
                     style=KIND_STYLES[kind] + (" dim" if push.projected else ""))
        first.append(push.local_start.strftime("%a %d %b %Y %H:%M %Z"))
        line = fit_phrases([
            first,
            Text(push_title(plan), style="bold"),
            Text(countdown((push.local_day - view.start).days), style="bold"),
            Text(f"{len(plan.orgs)} org(s), {len(plan.contacts)} contact(s)"),
        ], width)
        second = Text()
        second.append("Announcement ", style="bold")
        second.append(" A " if not push.projected else " a ", style=KIND_STYLES["announcement"])
        due_days = (push.announcement_due - view.start).days
        second.append(f"due {push.announcement_due.strftime('%a %d %b')}")
        phrases = [second, Text(countdown(due_days),
                                style="bold red" if due_days < 0 else "bold")]
        if push.announced_on:
            phrases.append(Text(f"sent {push.announced_on.isoformat()}"))
        line.append("\n")
        line.append_text(fit_phrases(phrases, width))
        target.update(line)

    def _render_vendor(self) -> None:
        view = self.view
        assert view is not None
        widget = self.query_one("#cal-vendor", Static)
        vendor = view.vendor
        if not vendor:
            widget.display = False
            return
        widget.display = True
        head = Text("Packaging org ", style="bold")
        head.append(clean(vendor.get("org_name", ""), limit=40))
        phrases = [head, Text(push_jobs.describe_requests(vendor))]
        if vendor.get("fetched_at"):
            stamp = str(vendor["fetched_at"]).replace("T", " ")[:16]
            phrases.append(Text(f"read {stamp} UTC", style="dim"))
        if vendor.get("error"):
            failed = Text("last refresh failed: ", style="bold red")
            failed.append(clean(vendor["error"], limit=120), style="red")
            phrases.append(failed)
        widget.update(fit_phrases(phrases, self._text_width()))

    def _render_agenda(self, keep_uid: str | None) -> None:
        view = self.view
        assert view is not None
        agenda = self.query_one("#cal-agenda", OptionList)
        needle = self.filter_text.casefold()
        self.rows = []
        options: list[Option] = []
        month = None
        for event, plan, line in self.lines:
            if needle and needle not in line.plain.casefold():
                continue
            if (event.day.year, event.day.month) != month:
                month = (event.day.year, event.day.month)
                options.append(Option(Text(event.day.strftime("── %B %Y ──"), style="bold"),
                                      disabled=True))
            options.append(Option(line.prompt(), id=f"row-{len(self.rows)}"))
            self.rows.append(_Row(event, plan))
        agenda.set_options(options)
        if not self.rows:
            message = ("Nothing matches the filter." if needle else
                       f"Nothing in the next {self.months} months.")
            agenda.set_options([Option(Text(message, style="dim"), disabled=True)])
            return
        target = 0
        want, self._want_month = self._want_month, None
        if want is not None:
            first = self._first_row_from(want)
            target = len(self.rows) - 1 if first is None else first
        for index, row in enumerate(self.rows):
            if want is not None:
                break
            if self.focus_push and row.plan and row.plan.push.id == self.focus_push and \
                    row.event.kind != "announcement":
                target = index
                break
            if keep_uid and row.event.uid == keep_uid:
                target = index
                break
        self.focus_push = None
        agenda.highlighted = agenda.get_option_index(f"row-{target}")

    def _render_grid(self) -> None:
        view = self.view
        if view is None:
            return
        row = self.current_row()
        if self.grid_month is None:
            day = row.event.day if row else view.start
            self.grid_month = (day.year, day.month)
        year, month = self.grid_month
        self.query_one("#cal-grid", Static).update(
            month_grid(view, year, month, view.start, row.event.day if row else None))

    # -- the cursor --------------------------------------------------------------------------
    def current_row(self) -> _Row | None:
        agenda = self.query_one("#cal-agenda", OptionList)
        option = agenda.highlighted_option
        if option is None or not option.id or not option.id.startswith("row-"):
            return None
        index = int(option.id.removeprefix("row-"))
        return self.rows[index] if index < len(self.rows) else None

    def _first_row_from(self, month: tuple[int, int]) -> int | None:
        """The first agenda row in `month` or after it (None when no row is)."""
        for index, row in enumerate(self.rows):
            if (row.event.day.year, row.event.day.month) >= month:
                return index
        return None

    @on(OptionList.OptionHighlighted, "#cal-agenda")
    def _highlighted(self, event: OptionList.OptionHighlighted) -> None:
        """The month cursor follows the agenda's cursor, except onto the row `]` chose for a
        month with nothing in it (the next entry, or the last): the grid stays on that month."""
        row = self.current_row()
        if row is not None:
            month = (row.event.day.year, row.event.day.month)
            cursor = self.grid_month
            first = self._first_row_from(cursor) if cursor is not None else None
            stay = cursor is not None and (
                (month > cursor and first is not None and self.rows[first] is row)
                or (month < cursor and first is None and row is self.rows[-1]))
            if not stay:
                self.grid_month = month
            self._render_grid()
        self.refresh_bindings()

    @on(OptionList.OptionSelected, "#cal-agenda")
    def _selected(self, event: OptionList.OptionSelected) -> None:
        self.action_open()

    def current_plan(self) -> PushPlan | None:
        row = self.current_row()
        return row.plan if row else None

    def focus_request(self, **kwargs: Any) -> None:
        push_id = kwargs.get("push_id")
        if push_id:
            self.focus_push = str(push_id)
            if self.view is not None:
                self._render_agenda(None)

    # -- actions -----------------------------------------------------------------------------
    def action_open(self) -> None:
        row = self.current_row()
        if row is None:
            return
        if row.plan is None:
            # Plain text: Rich's escape does not cover Textual's [$variable] markup.
            self.notify(clean(row.event.description or row.event.title, single_line=False,
                              limit=400),
                        title=clean(row.event.title, limit=80), timeout=8, markup=False)
            return

        def closed(result: str | None) -> None:
            self.load()
            if result == "edit":
                self.action_edit()

        self.focus_push = row.plan.push.id if row.event.kind != "announcement" else None
        self.app.push_screen(PushDetailScreen(row.plan, today=self.today()), closed)

    def action_add(self) -> None:
        self._open_form(None, {})

    def action_edit(self) -> None:
        plan = self.current_plan()
        if plan is None:
            self.notify("Put the cursor on a push to edit it.", severity="warning")
            return
        push = plan.push
        if push.editable:
            self._open_form(push, {})
            return
        # A projected or packaging-org push: enter the confirmed one, starting from its slot.
        values = schedule.push_form_values(push)
        values.update(before="", after="", notes="", announced_on="")
        self.notify("Enter the confirmed push from the announcement e-mail.", timeout=4)
        self._open_form(None, values)

    def _open_form(self, push: Push | None, values: dict[str, str]) -> None:
        defaults = {"timezone": self.view.settings.timezone if self.view else "Europe/Berlin",
                    "time": "01:00", "product": "billing"}
        defaults.update(values)

        def saved(result: Push | None) -> None:
            if result is not None:
                self.focus_push = result.id
                self.notify(clean(f"Saved the push of {result.label}.", limit=200), timeout=3,
                            markup=False)
                self.load()

        self.app.push_screen(PushFormScreen(push, defaults), saved)

    def action_delete(self) -> None:
        plan = self.current_plan()
        if plan is None or not plan.push.editable:
            self.notify("Only a confirmed push (entered from an announcement) can be deleted; "
                        "projected pushes follow the rules.", severity="warning")
            return
        push = plan.push
        question = clean(f"Delete the confirmed push of {push.label} on "
                         f"{push.local_start.strftime('%Y-%m-%d %H:%M %Z')}?", limit=300)

        def answered(yes: bool | None) -> None:
            if yes:
                self._delete(push.id)

        self.app.push_screen(ConfirmScreen(question, yes="Delete"), answered)

    @work(thread=True, exit_on_error=False, group="calendar-write", name="deleting a push")
    def _delete(self, push_id: str) -> None:
        self.post_message(PushDeleted(schedule.delete_push(self.store, push_id)))

    @on(PushDeleted)
    def _deleted(self, event: PushDeleted) -> None:
        if event.doc is None:
            self.notify("That push was already gone.", severity="warning")
        else:
            self.undo_doc = event.doc
            self.notify("Deleted the push. Press u to undo.", timeout=6)
        self.load()

    def action_undo(self) -> None:
        if self.undo_doc is None:
            self.notify("Nothing to undo.", timeout=3)
            return
        doc, self.undo_doc = self.undo_doc, None
        self._restore(doc)

    @work(thread=True, exit_on_error=False, group="calendar-write", name="undoing a delete")
    def _restore(self, doc: dict[str, Any]) -> None:
        self.post_message(PushRestored(schedule.restore_push(self.store, doc)))

    @on(PushRestored)
    def _restored(self, event: PushRestored) -> None:
        self.focus_push = event.push.id
        self.notify("Restored the push.", timeout=3)
        self.load()

    def action_refresh(self) -> None:
        """Reload; with a packaging org, read its push requests and jobs first."""
        self._refresh_vendor(self.read_only)

    @work(thread=True, exit_on_error=False, group="calendar-refresh", exclusive=True,
          name="reading packaging-org push jobs")
    def _refresh_vendor(self, read_only: bool) -> None:
        """Find the packaging org (a whole-store read) and ask it, all off the event loop."""
        store = self.store
        vendor = push_jobs.find_vendor_org(store)
        if vendor is None or read_only:
            self.post_message(VendorRefreshed(None, vendor is not None))
            return
        self.post_message(VendorReading(vendor.name))
        self.post_message(VendorRefreshed(
            push_jobs.refresh_push_jobs(store, self.juston.get_credentials()), True))

    @on(VendorReading)
    def _reading_vendor(self, event: VendorReading) -> None:
        widget = self.query_one("#cal-vendor", Static)
        widget.display = True
        text = Text("Reading push requests from ", style="bold")
        text.append(clean(event.name, limit=40))
        text.append("…")
        widget.update(text)

    @on(VendorRefreshed)
    def _refreshed(self, event: VendorRefreshed) -> None:
        record = event.record
        if record is None:
            self.load()
            self.notify("Read-only: showing the cached packaging-org push jobs."
                        if event.has_vendor else "Calendar reloaded.", timeout=3)
            return
        if record.get("error"):
            self.notify(clean(record["error"], limit=300), title="Packaging org",
                        severity="error", timeout=8, markup=False)
        else:
            count = len(record.get("requests") or [])
            self.notify(f"Read {count} push request(s) from the packaging org.", timeout=3)
        self.load()

    def action_push_ops(self) -> None:
        """`P`: plan, announce, schedule and watch a push upgrade (screens/push_ops.py)."""
        # Start-up seam: the push screen imports push_ops (requests, simple-salesforce), which
        # the calendar does not pay for until it is opened.
        from juston_tui.screens.push_ops import PushOpsScreen

        self.app.push_screen(PushOpsScreen())

    def action_toggle_grid(self) -> None:
        self.toggle_class("-alt")
        if not self.has_class("-alt") or not self.has_class("-narrow"):
            self.query_one("#cal-agenda", OptionList).focus()

    def action_month(self, step: int) -> None:
        """`]`/`[`: the month cursor, one month on or back: the grid shows that month and the
        agenda's cursor moves to its first entry (the agenda reads further ahead if needed)."""
        view = self.view
        if view is None:
            return
        year, month = self.grid_month or (view.start.year, view.start.month)
        first = view.start.year * 12 + view.start.month - 1
        index = year * 12 + month - 1 + step
        if index < first:
            self.notify("The calendar starts today.", timeout=2)
            return
        if index - first >= MAX_MONTHS:
            self.notify(f"The calendar reaches {MAX_MONTHS} months ahead.", timeout=2)
            return
        self.grid_month = (index // 12, index % 12 + 1)
        if add_months(date(*self.grid_month, 1), 1) > view.end:  # not loaded yet
            self.months = index - first + 1
            self._want_month = self.grid_month
            self.notify(f"Showing the next {self.months} months.", timeout=2)
            self.load()
        elif self.rows:
            self._move_agenda_to(self.grid_month)
        self._render_grid()

    def _move_agenda_to(self, month: tuple[int, int]) -> None:
        """The agenda's cursor on the month's first entry, its heading at the top."""
        agenda = self.query_one("#cal-agenda", OptionList)
        first = self._first_row_from(month)
        index = agenda.get_option_index(f"row-{len(self.rows) - 1 if first is None else first}")
        agenda.highlighted = index
        agenda.scroll_to(y=max(0, index - 1), animate=False, force=True)

    def action_export_ics(self) -> None:
        """The iCalendar file of `juston-tui calendar --ics FILE`, for the months shown."""
        view = self.view
        if view is None:
            self.notify("The calendar is still loading.", severity="warning")
            return

        def render() -> bytes:
            # icalendar is imported only for an export, as `calendar --ics` does (start-up).
            from juston_tui.calendar_ics import export_ics

            return export_ics(view)

        self.save_export("push calendar (iCalendar)", Path.home() / "juston-push-calendar.ics",
                         render)

    def action_months(self) -> None:
        """`m`: the next longer period (after `]` read further ahead, the next choice above
        it), then back to the shortest; a month cursor beyond it follows the agenda again."""
        longer = [m for m in MONTH_CHOICES if m > self.months]
        self.months = longer[0] if longer else MONTH_CHOICES[0]
        view = self.view
        if view is not None and self.grid_month is not None:
            first = view.start.year * 12 + view.start.month - 1
            if self.grid_month[0] * 12 + self.grid_month[1] - 1 - first >= self.months:
                self.grid_month = None
        self.notify(f"Showing the next {self.months} months.", timeout=2)
        self.load()

    def action_filter(self) -> None:
        self.query_one("#cal-filter", FilterBox).open()

    @on(FilterBox.FilterChanged, "#cal-filter")
    def _filter_changed(self, event: FilterBox.FilterChanged) -> None:
        self.filter_text = event.value.strip()
        if self.view is not None:
            self._render_agenda(None)
            self._render_grid()

    @on(FilterBox.FilterSubmitted, "#cal-filter")
    def _filter_submitted(self, event: FilterBox.FilterSubmitted) -> None:
        self.query_one("#cal-agenda", OptionList).focus()

    def action_clear_filter(self) -> None:
        if not self.query_one("#cal-filter", FilterBox).clear() and not self.filter_text:
            return
        self.filter_text = ""
        self.query_one("#cal-agenda", OptionList).focus()
        if self.view is not None:
            self._render_agenda(None)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        allowed = super().check_action(action, parameters)
        if not allowed:
            return allowed
        if action in ("edit", "delete", "open") and self.view is not None:
            plan = self.current_plan()
            if action == "delete" and (plan is None or not plan.push.editable):
                return None  # shown dimmed: nothing deletable under the cursor
        return True
