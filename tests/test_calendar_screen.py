"""Calendar screen flows, keys only: agenda, month grid, opening a push, ticking an action,
adding a confirmed push (fixing a mistake in place), delete + undo, read-only, 80x24."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest
from ui_helpers import make_app as app_on
from ui_helpers import screen_text, settle

from juston_tui import push_jobs, schedule
from juston_tui.app import JustOnApp
from juston_tui.demo import pushes as demo_pushes
from juston_tui.model import Contact, Org, PushRegistration
from juston_tui.store import Store

PROD = "00D5g000004Xyz1EAC"
SANDBOX = "00D5g000006Sbx1EAC"
DEMO_PUSH = "push-demo-announced"


def make_app(tmp_path: Path, *, read_only: bool = False) -> JustOnApp:
    path = tmp_path / "s.json"
    store = Store.open(path)
    reg = PushRegistration("registered", registered_on="2026-01-01")
    orgs = [
        Org.create(org_id=PROD, name="Acme [b]GmbH[/b]", push=reg, products=["billing"]),
        Org.create(org_id=SANDBOX, name="Acme UAT", kind="sandbox", parent_org_id=PROD,
                   push=reg, sandbox_push_ticket="T-42"),
    ]
    for org in orgs:
        store.add_org(org)
    store.add_contact(Contact.create(full_name="Ann Admin", email="ann@acme.example",
                                     title="Salesforce Admin", org_ids=[PROD]))
    demo_pushes.seed(store, orgs)
    if read_only:
        store.close()
        store = Store.open(path, read_only=True)
    return app_on(store, read_only=read_only, start_mode="calendar")


async def press(pilot, *keys: str) -> None:
    for key in keys:
        await pilot.press(key)
    await settle(pilot)


async def type_text(pilot, text: str) -> None:
    await pilot.press(*[{" ": "space", "/": "slash", ":": "colon", "-": "minus",
                         ".": "full_stop"}.get(c, c) for c in text])


def demo_doc(app) -> dict:
    doc = app.store.get_doc("pushes", DEMO_PUSH)
    assert doc is not None
    return doc


async def test_agenda_next_push_and_grid(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        text = screen_text(app)
        push = schedule.Push.from_doc(demo_doc(app))
        days = (push.local_day - date.today()).days
        assert "Next push" in text and "Push Billing 2.81 (confirmed)" in text
        assert f"in {days} days" in text
        assert f"due {push.announcement_due:%a %d %b}" in text
        assert "2 org(s), 1 contact(s)" in text  # production + sandbox with a ticket
        # agenda: the confirmed push (P), its announcement (A), projected ones (p), releases
        assert " P 01:00 Push Billing 2.81 (confirmed)" in text
        assert " A 09:00 Announce Billing 2.81 (confirmed)" in text
        assert " p 01:00 Push" in text and "Salesforce" in text
        # the month grid beside it, with the legend of letters
        shown = date(*app.screen.grid_month, 1)
        assert f"{shown:%B %Y}" in text and re.search(r"Mo +Tu +We +Th", text)
        assert "Push scheduled in the packaging org" in text
        assert "lower case = projected" in text


async def test_open_push_shows_orgs_contacts_and_ticks(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await press(pilot, "slash")
        await type_text(pilot, "2.81")
        await press(pilot, "enter", "enter")  # the announcement opens its push
        text = screen_text(app)
        assert type(app.screen).__name__ == "PushDetailScreen"
        assert "Acme [b]GmbH[/b]" in text and PROD in text  # literal, not markup
        assert "Acme UAT" in text and SANDBOX in text
        assert "Ann Admin" in text and "ann@acme.example" in text
        assert "Salesforce Admin" in text
        assert "[ ] before Deactivate the scheduled invoice runs" in text
        assert "confirmed (entered from the announcement e-mail)" in text
        await press(pilot, "space")
        assert demo_doc(app)["actions"][0]["done"] is True
        assert "[x] before Deactivate" in screen_text(app)
        await press(pilot, "j", "space")
        assert demo_doc(app)["actions"][1]["done"] is True
        await press(pilot, "space")
        assert demo_doc(app)["actions"][1]["done"] is False
        await press(pilot, "escape")
        assert type(app.screen).__name__ == "CalendarScreen"
        assert "1/4 done" in screen_text(app)


async def test_projected_push_ticks_are_stored(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await press(pilot, "slash")
        await type_text(pilot, "g (p")  # "Announce Billing (projected)"
        await press(pilot, "enter", "enter")
        assert "projected by the rules" in screen_text(app)
        await press(pilot, "j", "space", "escape")
        ticks = [d for d in app.store.all_docs("pushes") if d.get("status") == "ticks"]
        assert len(ticks) == 1 and ticks[0]["done"] == ["announce"]


async def test_add_confirmed_push_fixing_a_mistake_in_place(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    day = date.today() + timedelta(days=40)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await press(pilot, "a")
        assert type(app.screen).__name__ == "PushFormScreen"
        await type_text(pilot, "2027-02-30")
        await press(pilot, "tab")
        form = app.screen
        error = form.query_one("#error-date")
        assert "is not a date" in str(error.render())
        assert form.query_one("#field-date").has_class("-invalid")
        assert form.query_one("#field-date").value == "2027-02-30"  # what was typed stays
        await press(pilot, "shift+tab", "ctrl+u")
        await type_text(pilot, day.isoformat())
        await press(pilot, "ctrl+s")  # the version is still missing
        assert type(app.screen).__name__ == "PushFormScreen"
        assert str(form.query_one("#error-date").render()) == ""
        assert "version" in str(form.query_one("#error-version").render())
        assert app.screen.focused is form.query_one("#field-version")
        await type_text(pilot, "2.82")
        await press(pilot, "ctrl+s")
        assert type(app.screen).__name__ == "CalendarScreen"
        saved = [d for d in app.store.all_docs("pushes")
                 if d.get("status") == "confirmed" and d.get("version") == "2.82"]
        assert len(saved) == 1
        push = schedule.Push.from_doc(saved[0])
        assert push.local_day == day and push.local_start.hour == 1
        assert "Push Billing 2.82 (confirmed)" in screen_text(app)


async def test_edit_keeps_ticks_and_moves_the_push(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await press(pilot, "slash")
        await type_text(pilot, "2.81")
        await press(pilot, "enter", "enter", "space", "e")
        assert type(app.screen).__name__ == "PushFormScreen"
        await press(pilot, "tab", "ctrl+u")
        await type_text(pilot, "03:30")
        await press(pilot, "ctrl+s")
        push = schedule.Push.from_doc(demo_doc(app))
        assert push.local_start.strftime("%H:%M") == "03:30"
        assert push.actions[0].done is True


async def test_delete_then_undo(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await press(pilot, "slash")
        await type_text(pilot, "2.81")
        await press(pilot, "enter", "d")
        assert type(app.screen).__name__ == "ConfirmScreen"
        await press(pilot, "y")
        assert app.store.get_doc("pushes", DEMO_PUSH) is None
        await press(pilot, "escape")  # clear the filter
        assert "2.81 (confirmed)" not in screen_text(app)
        await press(pilot, "u")
        assert app.store.get_doc("pushes", DEMO_PUSH) is not None
        assert "Push Billing 2.81 (confirmed)" in screen_text(app)


async def test_projected_push_cannot_be_deleted(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        before = len(app.store.all_docs("pushes"))
        await press(pilot, "slash")
        await type_text(pilot, "Cash")
        await press(pilot, "enter", "d")
        assert type(app.screen).__name__ == "CalendarScreen"
        assert len(app.store.all_docs("pushes")) == before


async def test_read_only_hides_and_refuses_editing(tmp_path: Path) -> None:
    app = make_app(tmp_path, read_only=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        footer = screen_text(app).splitlines()[-1]
        assert "Add push" not in footer and "Delete" not in footer and "Refresh" in footer
        await press(pilot, "a")
        assert type(app.screen).__name__ == "CalendarScreen"
        await press(pilot, "slash")
        await type_text(pilot, "2.81")
        await press(pilot, "enter", "d", "e")
        assert type(app.screen).__name__ == "CalendarScreen"
        await press(pilot, "enter")
        assert "read-only" in screen_text(app)
        await press(pilot, "space")
        assert demo_doc(app)["actions"][0]["done"] is False


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
async def test_fits_small_and_large_terminals(tmp_path: Path, size: tuple[int, int]) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        grid = app.screen.query_one("#cal-grid")
        agenda = app.screen.query_one("#cal-agenda")
        assert agenda.display and agenda.region.width > 40
        assert grid.display == (size[0] >= 110)
        assert "Next push" in screen_text(app)
        await press(pilot, "g")
        if size[0] < 110:  # narrow: the grid replaces the agenda
            assert grid.display and not agenda.display
            month = date(*app.screen.grid_month, 1)
            text = screen_text(app)
            assert f"{month:%B %Y}" in text and re.search(r"Mo +Tu +We", text)
            await press(pilot, "right_square_bracket")
            nxt = (month + timedelta(days=32)).replace(day=1)
            assert f"{nxt:%B %Y}" in screen_text(app)
        else:  # wide: g hides the grid, the agenda takes the width
            assert not grid.display and agenda.region.width > 100
        await press(pilot, "g")
        assert agenda.display


async def test_untrusted_text_in_toasts_is_shown_literally(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """rich's escape does not cover Textual's [$variable] markup: toasts go out as plain text."""
    app = make_app(tmp_path)
    app.store.add_org(Org.create(org_id="00D5g000009Ven1", name="Vendor", vendor=True))
    error = "login refused for Acme [$EU] GmbH [b]x[/b] \x1b[31mred"

    def failing(store, credentials, **kwargs):
        return {"org_id": "00D5g000009Ven1AAA", "org_name": "Vendor", "requests": [],
                "error": error}

    monkeypatch.setattr(push_jobs, "refresh_push_jobs", failing)
    shown: list[tuple[str, str, bool]] = []
    notify = app.notify

    def recording(message: Any, *, title: str = "", markup: bool = True, **kwargs: Any) -> None:
        shown.append((str(message), title, markup))
        notify(message, title=title, markup=markup, **kwargs)

    monkeypatch.setattr(app, "notify", recording)
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await settle(pilot)
        await press(pilot, "r")
        toasts = [(m, markup) for m, title, markup in shown if title == "Packaging org"]
        assert toasts == [("login refused for Acme [$EU] GmbH [b]x[/b] red", False)]
        # the toast really renders it, text intact
        rendered = [str(t.render()) for t in app.screen.query("Toast")]
        assert any("Acme [$EU] GmbH [b]x[/b] red" in t for t in rendered), rendered


async def test_agenda_and_detail_count_down_alike_from_the_app_clock(tmp_path: Path) -> None:
    """One clock (app.clock) and one wording: the day before the push says "tomorrow" in the
    next-push line and in the push's detail, the day after the due announcement "yesterday"."""
    app = make_app(tmp_path)
    push = schedule.Push.from_doc(demo_doc(app))
    eve = datetime.combine(push.local_day - timedelta(days=1), time(12),
                           tzinfo=push.local_start.tzinfo)
    app.clock = lambda: eve
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert app.screen.today() == push.local_day - timedelta(days=1)
        next_line = screen_text(app).split("Announcement", 1)[0]
        assert "Push Billing 2.81 (confirmed) · tomorrow" in next_line
        await press(pilot, "slash")
        await type_text(pilot, "2.81")
        await press(pilot, "enter", "enter")
        assert type(app.screen).__name__ == "PushDetailScreen"
        text = screen_text(app)
        start = next(line for line in text.splitlines() if "Start:" in line)
        assert start.rstrip(" │").endswith("· tomorrow")
        assert "in 1 days" not in text


AGENDA_LINE = re.compile(r"^(── \w+ \d{4} ──|\w{3} \d\d \w{3} {4}.|\d\d \w{3}-\d\d \w{3} .)")


def region_lines(app: JustOnApp, widget_id: str) -> list[str]:
    """The screen lines inside one widget's region (what a person reads there)."""
    region = app.screen.query_one(widget_id).region
    lines = screen_text(app).splitlines()[region.y:region.y + region.height]
    return [line[region.x:region.x + region.width].rstrip() for line in lines]


def assert_agenda_lines_whole(app: JustOnApp) -> None:
    """Every agenda line on screen is a month heading or one whole entry: no continuation
    line (a phrase wrapped into the next line), each entry's counts unbroken on its line."""
    screen = app.screen
    shown = [line for line in region_lines(app, "#cal-agenda") if line.strip()]
    assert shown
    for line in shown:
        assert AGENDA_LINE.match(line.lstrip(" ")), f"a wrapped agenda line: {line!r}"
        assert not line.rstrip("▁▂▃▄▅▆▇█ ").endswith(("(", "·", "/")), line
    for row in screen.rows:
        line = next((x for x in screen.lines if x[0] is row.event), None)
        assert line is not None
        tail = line[2].tail.plain
        when = line[2].when.plain.strip()
        mine = [x for x in shown if x.lstrip().startswith(when) and
                line[2].what.plain[:8] in x]
        for x in mine:
            assert not tail or x.rstrip("▁▂▃▄▅▆▇█ ").endswith(tail), (x, tail)


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
async def test_agenda_lines_never_wrap_and_one_month_cursor(
        tmp_path: Path, size: tuple[int, int]) -> None:
    """Issue 17 item 6: with the grid beside it (120) or not (80), no agenda entry wraps
    ("21 / contact(s)", "0/2 / done"); `]`/`[` move one month cursor for grid and agenda."""
    app = make_app(tmp_path)
    for number in range(20):  # two-digit counts, as in a real customer base
        app.store.add_contact(Contact.create(full_name=f"Contact {number:02d}",
                                             email=f"c{number}@acme.example", title="Admin",
                                             org_ids=[PROD]))
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        screen = app.screen
        assert screen.query_one("#cal-grid").display == (size[0] >= 110)
        assert "21 contact(s)" in screen_text(app)
        # the next-push lines break only between phrases
        header = " ".join(region_lines(app, "#cal-next"))
        push = schedule.Push.from_doc(demo_doc(app))
        assert f"in {(push.local_day - screen.today()).days} days" in header
        assert "2 org(s), 21 contact(s)" in header
        assert_agenda_lines_whole(app)
        start = screen.today()
        assert screen.grid_month == (start.year, start.month)
        for step in range(1, 8):  # past the six months loaded: the agenda reads further
            await press(pilot, "right_square_bracket")
            month = schedule.add_months(start.replace(day=1), step)
            assert screen.grid_month == (month.year, month.month)
            row = screen.current_row()
            assert row is not None
            assert (row.event.day.year, row.event.day.month) >= (month.year, month.month) or \
                row is screen.rows[-1]
            in_month = [r for r in screen.rows
                        if (r.event.day.year, r.event.day.month) == (month.year, month.month)]
            agenda = "\n".join(region_lines(app, "#cal-agenda"))
            if in_month:  # the agenda shows this month: its heading and its first entries
                assert row is in_month[0]
                assert f"── {month:%B %Y} ──" in agenda
                first = next(x for x in screen.lines if x[0] is in_month[0].event)[2]
                assert first.what.plain[:20] in agenda
            assert_agenda_lines_whole(app)
            if size[0] >= 110:
                assert f"{month:%B %Y}" in "\n".join(region_lines(app, "#cal-grid"))
        pushes = [r for r in screen.rows if r.plan is not None and r.event.kind == "push"]
        assert pushes[-1].event.day >= schedule.add_months(start.replace(day=1), 6)
        assert screen.months == 8
        await press(pilot, "m")  # the next longer period, not back to 3 months
        assert screen.months == 12 and screen.grid_month == (month.year, month.month)
        await press(pilot, "left_square_bracket")
        month = schedule.add_months(start.replace(day=1), 6)
        assert screen.grid_month == (month.year, month.month)
        row = screen.current_row()
        assert row is not None and (row.event.day.year, row.event.day.month) >= \
            (month.year, month.month)
        await press(pilot, "k")  # the agenda's cursor takes the month cursor along
        row = screen.current_row()
        assert row is not None
        assert screen.grid_month == (row.event.day.year, row.event.day.month)
        for _ in range(12):  # back to today's month, and no further
            await press(pilot, "left_square_bracket")
        assert screen.grid_month == (start.year, start.month)
        assert screen.current_row() is screen.rows[0]
