"""TitleBar: Header's line as one widget: title — sub-title, `≡` opens the command palette."""

from __future__ import annotations

from pathlib import Path

from textual.command import CommandPalette
from ui_helpers import make_app as app_on
from ui_helpers import settle

from juston_tui.app import JustOnApp
from juston_tui.screens.widgets.title_bar import TitleBar


def make_app(tmp_path: Path) -> JustOnApp:
    return app_on(tmp_path / "s.json")


def bar(app: JustOnApp) -> str:
    return app.screen.query_one(TitleBar).render().plain


async def test_shows_screen_title_and_store_and_follows_changes(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        line = bar(app)
        assert len(line) == 120 and line.startswith(" ≡")
        assert f"Orgs — {tmp_path / 's.json'}" in line
        app.sub_title = "[bold]not markup[/bold] \u2014 x"
        await pilot.pause()
        assert "Orgs — [bold]not markup[/bold]" in bar(app)
        await pilot.press("5")
        await settle(pilot)
        assert "Contacts — [bold]not markup[/bold]" in bar(app)


async def test_a_long_title_is_cut_with_an_ellipsis(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=(60, 20)) as pilot:
        await settle(pilot)
        app.sub_title = "x" * 200
        await pilot.pause()
        line = bar(app)
        assert len(line) == 60 and "…" in line and line.endswith(" " * 10)


async def test_the_icon_opens_the_command_palette(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        await pilot.click(TitleBar, offset=(1, 0))
        await pilot.pause()
        assert isinstance(app.screen, CommandPalette)
