"""KeyBar: the footer as one widget: the keys that work here, clickable, `?` always shown."""

from __future__ import annotations

from pathlib import Path

from ui_helpers import make_app as app_on
from ui_helpers import settle

from juston_tui.app import JustOnApp
from juston_tui.screens.help import HelpScreen
from juston_tui.screens.widgets.key_bar import KeyBar
from juston_tui.store import Store


def make_app(tmp_path: Path, read_only: bool = False) -> JustOnApp:
    Store.open(tmp_path / "s.json")  # the file exists before a read-only open
    return app_on(tmp_path / "s.json", read_only=read_only)


def bar_text(app: JustOnApp) -> str:
    bar = app.screen.query_one(KeyBar)
    return bar.render().plain


async def test_shows_the_screens_keys_and_follows_the_screen(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=(200, 30)) as pilot:
        await settle(pilot)
        text = bar_text(app)
        assert " a Add " in text and " / Filter " in text and " ? Keys " in text
        assert "^p palette" in text  # the command palette key, on the right
        assert text.rstrip().endswith("palette")
        await pilot.press("5")
        await settle(pilot)
        assert " l Link orgs " in bar_text(app)


async def test_read_only_hides_the_editing_keys(tmp_path: Path) -> None:
    app = make_app(tmp_path, read_only=True)
    async with app.run_test(size=(200, 30)) as pilot:
        await settle(pilot)
        text = bar_text(app)
        assert " a Add " not in text and " d Delete " not in text
        assert " r Check " in text


async def test_too_many_keys_still_end_with_help(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=(60, 20)) as pilot:
        await settle(pilot)
        text = bar_text(app)
        assert len(text) <= 60
        assert "…" in text and text.rstrip().endswith("? Keys")


async def test_a_click_runs_the_key_under_the_pointer(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=(200, 30)) as pilot:
        await settle(pilot)
        text = bar_text(app)
        x = text.index(" ? Keys ") + 2
        await pilot.click(KeyBar, offset=(x, 0))
        await settle(pilot)
        assert isinstance(app.screen, HelpScreen)
