"""ctrl+p offers every action of the current screen, with its key, found by the words a user
would type; "Keys" and "Show keys (?)" are not both there (issue 17, item 1)."""

from __future__ import annotations

from pathlib import Path

import pytest
from registry_fixtures import make_app
from textual.command import CommandPalette
from ui_helpers import screen_text, settle

from juston_tui.screens.file_export import PathPrompt
from juston_tui.screens.palette import screen_commands


async def palette_lines(pilot, app, query: str, awaited: str) -> list[str]:
    """Open the palette, type `query`, wait until `awaited` is listed: the lines, stripped."""
    await pilot.press("ctrl+p")
    await settle(pilot)
    assert isinstance(app.screen, CommandPalette)
    await pilot.press(*query)
    lines: list[str] = []
    for _ in range(250):  # the palette searches in a task; wait for the result, not a time
        await pilot.pause(0.02)
        lines = [line.strip() for line in screen_text(app).splitlines()]
        if awaited in lines:
            break
    return lines


def first_result(lines: list[str], query: str) -> str:
    at = next(i for i, line in enumerate(lines) if line.endswith(query))
    return next(line for line in lines[at + 1:] if line)


CASES = [
    ("1", "check", "Check all (R)"),
    ("1", "check", "Check (r)"),
    ("1", "vendor", "Vendor sync (v)"),
    ("1", "upgrade", "Push request (p)"),
    ("2", "report", "Write report (w)"),
    ("2", "mark", "Done/undo (space)"),
    ("2", "verify", "Verify (v)"),
    ("2", "skip", "Skip (s)"),
    ("3", "check", "Check (r)"),
    ("4", "export", "Export ICS (x)"),
    ("4", "ics", "Export ICS (x)"),
    ("5", "export", "Export (x)"),
    ("5", "import", "Import (i)"),
    ("5", "link", "Link orgs (l)"),
    ("5", "mark", "Eligible (space)"),
]


@pytest.mark.parametrize(("screen_key", "query", "title"), CASES)
async def test_the_palette_finds_the_screen_action_by_words(
        tmp_path: Path, screen_key: str, query: str, title: str) -> None:
    app = make_app(tmp_path / "s.json")
    async with app.run_test(size=(100, 40)) as pilot:
        await settle(pilot)
        await pilot.press(screen_key)
        await settle(pilot)
        assert title in await palette_lines(pilot, app, query, title)


async def test_every_bound_key_is_a_command_with_its_key(tmp_path: Path) -> None:
    app = make_app(tmp_path / "s.json")
    async with app.run_test(size=(100, 40)) as pilot:
        await settle(pilot)
        titles = {c.title for c in screen_commands(app.screen)}
        for expected in ("Filter (/)", "Add (a)", "Edit (e)", "Delete (d)", "Undo (u)",
                         "Check (r)", "Check all (R)", "Push request (p)", "Vendor sync (v)",
                         "Open (⏎)", "Mark (space)", "Sort (s)"):
            assert expected in titles
        assert not [t for t in titles if "Scroll" in t or "Page" in t or "Quit" in t]


async def test_keys_only_once(tmp_path: Path) -> None:
    app = make_app(tmp_path / "s.json")
    async with app.run_test(size=(100, 40)) as pilot:
        await settle(pilot)
        lines = await palette_lines(pilot, app, "keys", "Show keys (?)")
        assert "Show keys (?)" in lines
        assert "Keys" not in lines


async def test_choosing_a_command_runs_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                          ) -> None:
    monkeypatch.chdir(tmp_path)
    app = make_app(tmp_path / "s.json")
    async with app.run_test(size=(100, 40)) as pilot:
        await settle(pilot)
        await pilot.press("2")
        await settle(pilot)
        lines = await palette_lines(pilot, app, "report", "Write report (w)")
        assert first_result(lines, "report") == "Write report (w)"
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, PathPrompt)
        await pilot.press("ctrl+a", "ctrl+k", *"r.md", "enter")
        await settle(pilot)
        assert (tmp_path / "r.md").read_text(encoding="utf-8").startswith("# JustOn")
