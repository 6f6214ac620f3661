"""The app shell: screens on 1-5, help on ?, read-only, one handler for worker errors."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

import pytest
from textual import work
from textual.worker import WorkerFailed
from ui_helpers import make_app as app_on
from ui_helpers import settle

from juston_tui.app import SCREEN_SPECS, JustOnApp
from juston_tui.credentials import open_credentials
from juston_tui.screens.help import HelpScreen
from juston_tui.store import Store


def make_app(tmp_path: Path, **kwargs: Any) -> JustOnApp:
    return app_on(tmp_path / "s.json", **kwargs)


def test_all_five_screens_are_installed() -> None:
    import importlib

    assert [s.key for s in SCREEN_SPECS] == ["1", "2", "3", "4", "5"]
    for spec in SCREEN_SPECS:  # each is imported when first shown: it must be there
        screen_class = getattr(importlib.import_module(spec.module), spec.cls)
        assert spec.mode == screen_class.MODE


async def test_number_keys_switch_screens(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        for spec in reversed(SCREEN_SPECS):
            await pilot.press(spec.key)
            await pilot.pause()
            assert app.current_mode == spec.mode
            assert type(app.screen).__name__ == spec.cls


async def test_question_mark_lists_every_binding(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        descriptions = {description for _, description, _ in app.screen.entries}
        assert {"Quit", "Keys", "Filter"} <= descriptions  # global and screen bindings
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, HelpScreen)


async def test_read_only_is_shown_and_store_refuses(tmp_path: Path) -> None:
    Store.open(tmp_path / "s.json")
    app = JustOnApp(store=Store.open(tmp_path / "s.json", read_only=True),
                    credentials=open_credentials("memory"))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        assert app.read_only
        assert "READ-ONLY" in app.sub_title


async def test_worker_failure_becomes_a_visible_notification(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()

        @work(thread=True, exit_on_error=False, name="probe")
        def failing(self: JustOnApp) -> None:
            raise RuntimeError("[bold]boom[/bold] \x1b[31m")

        worker = failing(app)
        with contextlib.suppress(WorkerFailed):
            await worker.wait()
        await pilot.pause()
        messages = [n.message for n in app._notifications]
        assert any("probe failed" in m and "boom" in m for m in messages)
        assert app.is_running


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
async def test_every_screen_renders_at_common_sizes(tmp_path: Path,
                                                    size: tuple[int, int]) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=size) as pilot:
        for spec in SCREEN_SPECS:
            await pilot.press(spec.key)
            await pilot.pause()
            assert app.screen.is_mounted


async def test_notifications_show_untrusted_text_literally(tmp_path: Path) -> None:
    """A Text (org names, API errors) is sent as plain text; escapes never reach the terminal."""
    from rich.text import Text

    app = make_app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        app.notify(Text("Saved [bold red]Evil[/] AG\x1b]0;pwned\x07"))
        app.screen.notify("API said [b]x[/b]\x1b[31m", markup=False)
        await pilot.pause()
        shown = [(n.message, n.markup) for n in app._notifications]
        assert ("Saved [bold red]Evil[/] AG", False) in shown
        assert ("API said [b]x[/b]", False) in shown
        # and a toast really renders them (Textual's toast needs a str)
        await settle(pilot)
        assert app.is_running


async def test_a_crash_prints_no_local_variables(tmp_path: Path) -> None:
    """An unhandled exception must not dump locals (a form's typed secrets) to the terminal."""
    from rich.console import Console

    app = make_app(tmp_path)

    def explode() -> None:
        typed_secret = "CANARY-" + "local-5e1d"  # noqa: F841 - a local we must not print
        raise RuntimeError("boom")

    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        try:
            explode()
        except RuntimeError:
            app._fatal_error()  # what Textual calls for an unhandled exception
        renderables = list(app._exit_renderables)
        app._exit_renderables.clear()
    console = Console(record=True, width=120)
    for renderable in renderables:
        console.print(renderable)
    text = console.export_text()
    assert "RuntimeError" in text and "boom" in text
    assert "CANARY-local-5e1d" not in text
