"""The registry with many orgs (issue 16 item 5): periodic work touches only the rows in view,
and the incremental filter shows exactly the rows the one matcher gives.

How fast this is lives in bench/registry_bench.py; these tests count work and compare rows.
"""

from __future__ import annotations

import threading
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from registry_fixtures import NOW, iso, org_id
from ui_helpers import make_app, screen_text, settle, type_text

from juston_tui.model import Check, Org, PushRegistration, Snapshot
from juston_tui.screens import registry as registry_screen
from juston_tui.screens import registry_data
from juston_tui.screens.registry_data import filter_entries
from juston_tui.screens.widgets.fast_table import FastTable
from juston_tui.store import Store

WORDS = ("Acme", "Globex", "Initech", "Umbrella", "Hooli", "Stark", "Wayne", "Tyrell")
N_ORGS = 240


def build_many(path: Path, n: int = N_ORGS) -> Store:
    """n orgs (every fifth a sandbox), nine in ten checked at different times, some failing."""
    store = Store.open(path)
    orgs = []
    for i in range(n):
        sandbox = i % 5 == 4
        orgs.append(Org(org_id=org_id(i + 1), name=f"{WORDS[i % 8]} {('AG', 'GmbH')[i % 2]} "
                        f"{i:04d}" + (" (UAT)" if sandbox else ""),
                        kind="sandbox" if sandbox else "production",
                        parent_org_id=org_id(i) if sandbox else None,
                        tags=("dach",) if i % 3 == 0 else ("us",),
                        push=PushRegistration("registered" if i % 4 == 0 else "not_registered")))
    store.put_orgs(orgs)
    with store.transaction():
        for i, org in enumerate(orgs):
            if i % 10 == 9:
                continue
            verdict = "fail" if i % 7 == 0 else "ok"
            store.save_snapshot(Snapshot(org.org_id, iso(NOW - timedelta(minutes=7 * i)),
                                         (Check("organization", verdict, "x", ""),), None, {}))
    return store


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


def count_on_ui_thread(monkeypatch: pytest.MonkeyPatch, owner: Any, name: str) -> list[int]:
    """Count calls of owner.name made on the UI (main) thread; workers' calls are not counted."""
    calls = [0]
    original = getattr(owner, name)

    def counted(*args: Any, **kwargs: Any) -> Any:
        if threading.current_thread() is threading.main_thread():
            calls[0] += 1
        return original(*args, **kwargs)

    monkeypatch.setattr(owner, name, counted)
    return calls


def age_of(app: Any, name: str) -> str:
    """The Age cell of the org named `name` as read on screen."""
    line = next(line for line in screen_text(app).splitlines() if f"{name} " in line)
    return line.split()[line.split().index("ok" if " ok " in line else "fail") + 1]


async def test_the_ages_tick_redraws_only_the_rows_in_view(tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch
                                                           ) -> None:
    clock = Clock()
    app = make_app(build_many(tmp_path / "s.json"), clock=clock)
    async with app.run_test(size=(130, 30)) as pilot:
        await settle(pilot)
        screen = app.screen
        table = screen.query_one("#registry-table", FastTable)
        assert table.row_count == N_ORGS
        in_view = table.keys_in_view()
        assert 10 < len(in_view) < 40
        first = screen.entries[in_view[0]].name
        before = age_of(app, first)

        cells = count_on_ui_thread(monkeypatch, registry_data.OrgEntry, "cells")
        rows = count_on_ui_thread(monkeypatch, registry_screen, "entry_row")
        stale = count_on_ui_thread(monkeypatch, registry_data.OrgEntry, "is_stale")
        clock.now = NOW + timedelta(hours=30)
        screen._tick_ages()
        await settle(pilot)

        assert rows[0] == 0  # no row is rebuilt
        assert 0 < cells[0] <= len(in_view)  # only the rows drawn build their cells again
        assert stale[0] <= len(in_view)  # the stale count ran in a worker
        assert age_of(app, first) != before and age_of(app, first).endswith("!")
        assert "stale (!" in screen_text(app)

        # A row that was out of view shows the new age once it scrolls in.
        await pilot.press("end")
        await pilot.pause()
        shown = [screen.entries[k] for k in table.keys_in_view()]
        entry = next(e for e in shown if e.info.checked_at is not None and e.key not in in_view)
        assert age_of(app, entry.name) == registry_data.format_age(
            entry.info.checked_at, clock.now) + "!"


def shown_keys(app: Any) -> list[str]:
    return app.screen.query_one("#registry-table", FastTable).row_keys


# Typed key by key: longer queries (filtered from the previous result), backspace (an earlier
# result), a changed word (not an extension), a second term, and clearing.
QUERIES = ["w", "wa", "way", "wayn", "wayne", "wayne ", "wayne a", "wayne ag", "wayne a",
           "wayne", "wayno", "wayn", "fail", "fail sb", "fail sbx", "fail sbx uat", "dach",
           "dach gmbh", "dach gmbx", ""]


async def test_the_incremental_filter_shows_the_rows_of_the_one_matcher(
        tmp_path: Path) -> None:
    app = make_app(build_many(tmp_path / "s.json"), clock=lambda: NOW)
    async with app.run_test(size=(130, 30)) as pilot:
        await settle(pilot)
        screen = app.screen
        every = shown_keys(app)  # sorted by name
        await pilot.press("slash")
        typed = ""
        for query in QUERIES:
            while not query.startswith(typed):
                await pilot.press("backspace")
                typed = typed[:-1]
            await type_text(pilot, query[len(typed):])
            typed = query
            await pilot.pause()
            assert screen.query_text == query
            wanted = {e.key for e in filter_entries(screen.entries.values(), query)}
            assert shown_keys(app) == [k for k in every if k in wanted], query
        assert shown_keys(app) == every


async def test_a_filter_survives_a_sort_and_a_check_result(tmp_path: Path) -> None:
    """The table holds every row and shows the matching ones: sorting keeps the filter, and a
    check result that changes an org's verdict is seen by the next keystroke."""
    from juston_tui.screens.registry_refresh import SnapshotArrived

    app = make_app(build_many(tmp_path / "s.json"), clock=lambda: NOW)
    async with app.run_test(size=(130, 30)) as pilot:
        await settle(pilot)
        screen = app.screen
        table = screen.query_one("#registry-table", FastTable)
        await pilot.press("slash")
        await type_text(pilot, "fail")
        await pilot.pause()
        failing = set(shown_keys(app))
        assert failing and all(screen.entries[k].info.verdict == "fail" for k in failing)
        table.sort_by("org_id", reverse=True)
        assert shown_keys(app) == sorted(failing, reverse=True)

        healed = sorted(failing)[0]
        screen.post_message(SnapshotArrived(
            Snapshot(healed, iso(NOW), (Check("organization", "ok", "x", ""),), None, {}), 1, 1))
        await pilot.pause()
        await pilot.press("backspace")
        await type_text(pilot, "l")
        await pilot.pause()
        assert set(shown_keys(app)) == failing - {healed}


async def test_show_only_keeps_the_sort_the_cursor_and_the_rendered_lines() -> None:
    from rich.text import Text
    from textual.app import App, ComposeResult

    from juston_tui.screens.widgets.fast_table import Column, Row

    class Host(App[None]):
        def compose(self) -> ComposeResult:
            yield FastTable([Column("name", "Name", 10)])

    rows = [Row(f"k{i}", (Text(f"n{99 - i:02d}"),)) for i in range(100)]
    async with Host().run_test(size=(40, 20)) as pilot:
        table = pilot.app.query_one(FastTable)
        table.sort_by("name")
        table.set_rows(rows)
        await pilot.pause()
        table.move_to_key("k90")
        drawn = set(table._cache.keys())
        table.show_only(["k95", "k90", "k3"])
        assert table.row_keys == ["k95", "k90", "k3"]  # n04, n09, n96: name order
        assert table.cursor_key == "k90"
        assert drawn <= set(table._cache.keys())  # nothing rendered again
        table.show_only(f"k{i}" for i in range(0, 100, 2))  # a large subset: a pass
        assert table.row_keys == [f"k{i}" for i in range(98, -1, -2)]
        table.sort_by("name", reverse=True)
        assert table.row_keys == [f"k{i}" for i in range(0, 100, 2)]
        table.show_only(None)
        assert table.row_count == 100
        table.set_rows(rows[:10], only=["k1", "k2"])
        assert table.row_keys == ["k1", "k2"]
