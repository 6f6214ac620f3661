"""The checklist writes its Markdown report (`w`) and the calendar its iCalendar file (`x`),
with the CLI's core functions, through a visible path field, asking before replacing."""

from __future__ import annotations

from pathlib import Path

import pytest
from registry_fixtures import make_app
from textual.widgets import Input
from ui_helpers import screen_text, settle

from juston_tui.screens.confirm import ConfirmScreen
from juston_tui.screens.file_export import PathPrompt


def toasts(app) -> list[str]:
    return [str(n.message) for n in app._notifications]


async def save_as(pilot, app, name: str) -> PathPrompt:
    prompt = app.screen
    assert isinstance(prompt, PathPrompt)
    box = prompt.query_one("#save-path", Input)
    assert app.focused is box and box.region.height > 0
    await pilot.press("ctrl+a", "ctrl+k", *name, "enter")
    await settle(pilot)
    return prompt


@pytest.mark.parametrize("size", [(120, 40), (80, 24)])
async def test_checklist_w_writes_the_markdown_report(tmp_path: Path, size,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    app = make_app(tmp_path / "s.json", start_mode="checklist")
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        assert app.screen.org is not None
        await pilot.press("w")
        await settle(pilot)
        assert isinstance(app.screen, PathPrompt)
        assert "juston-checklist-" in screen_text(app)
        await save_as(pilot, app, "report.md")
        written = tmp_path / "report.md"
        text = written.read_text(encoding="utf-8")
        assert text.startswith("# JustOn installation checklist") and app.screen.org.org_id in text
        assert any(f"to {written}" in t for t in toasts(app))
        # again: asks before replacing, and keeps the file on "no"
        written.write_text("mine", encoding="utf-8")
        await pilot.press("w")
        await settle(pilot)
        await save_as(pilot, app, "report.md")
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("escape")
        await settle(pilot)
        assert written.read_text(encoding="utf-8") == "mine"


async def test_calendar_x_exports_ics(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    app = make_app(tmp_path / "s.json", start_mode="calendar")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("x")
        await settle(pilot)
        assert isinstance(app.screen, PathPrompt)
        await save_as(pilot, app, "cal.ics")
        written = tmp_path / "cal.ics"
        assert written.read_bytes().startswith(b"BEGIN:VCALENDAR")
        assert any(f"to {written}" in t for t in toasts(app))


async def test_a_missing_folder_is_said_at_the_field(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    app = make_app(tmp_path / "s.json", start_mode="calendar")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("x")
        await settle(pilot)
        prompt = await save_as(pilot, app, "nowhere/cal.ics")
        assert app.screen is prompt
        assert "does not exist" in str(prompt.query_one("#save-error").render())
        await pilot.press("escape")
        await settle(pilot)
        assert not list(tmp_path.glob("**/*.ics"))
