"""Snapshot tests of the registry and access screens on a fixed store and a fixed clock.

Recorded with `pytest --snapshot-update` and checked by eye (tests/__snapshots__/...svg).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from contacts_fixtures import make_app as make_contacts_app
from registry_fixtures import NOW, make_app
from ui_helpers import settle

SIZES = [(80, 24), (120, 40)]


async def _ready(pilot) -> None:
    await settle(pilot)
    pilot.app.sub_title = "fixed store"  # the real title shows the (random) tmp path
    await pilot.pause()


@pytest.mark.parametrize("size", SIZES, ids=["80x24", "120x40"])
def test_registry_snapshot(snap_compare, tmp_path: Path, size: tuple[int, int]) -> None:
    app = make_app(tmp_path / "s.json")
    assert snap_compare(app, terminal_size=size, run_before=_ready)


@pytest.mark.parametrize("size", SIZES, ids=["80x24", "120x40"])
def test_access_snapshot(snap_compare, tmp_path: Path, size: tuple[int, int]) -> None:
    app = make_app(tmp_path / "s.json", start_mode="access")
    assert snap_compare(app, terminal_size=size, run_before=_ready)


# The other three screens on the same fixed store and clock (the calendar projects its pushes
# from app.clock; the checklist shows the verification of the stored snapshots; contacts the
# contacts fixture's three people).
@pytest.mark.parametrize("mode", ["checklist", "calendar"])
@pytest.mark.parametrize("size", SIZES, ids=["80x24", "120x40"])
def test_screen_snapshot(snap_compare, tmp_path: Path, size: tuple[int, int], mode: str) -> None:
    app = make_app(tmp_path / "s.json", start_mode=mode)
    assert snap_compare(app, terminal_size=size, run_before=_ready)


@pytest.mark.parametrize("size", SIZES, ids=["80x24", "120x40"])
def test_contacts_snapshot(snap_compare, tmp_path: Path, size: tuple[int, int]) -> None:
    app = make_contacts_app(tmp_path)
    app.clock = lambda: NOW
    assert snap_compare(app, terminal_size=size, run_before=_ready)
