"""`?` lists the screen's own keys first, grouped; generic navigation last (issue 17, item 4)."""

from __future__ import annotations

from pathlib import Path

import pytest
from registry_fixtures import make_app
from ui_helpers import screen_text, settle

from juston_tui.screens.help import HelpScreen

GENERIC = {"↑", "↓", "pgup", "pgdn", "^pgup", "^pgdn", "tab", "shift+tab", "super+c", "^c"}


@pytest.mark.parametrize("screen_key", list("12345"))
async def test_own_keys_above_the_fold_at_80x24(tmp_path: Path, screen_key: str) -> None:
    app = make_app(tmp_path / "s.json")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press(screen_key)
        await settle(pilot)
        target = app.screen
        await pilot.press("question_mark")
        await settle(pilot)
        help_screen = app.screen
        assert isinstance(help_screen, HelpScreen) and help_screen.target is target
        names = [name for name, _ in help_screen.groups]
        assert names[0] == "This screen" and names[-1] == "Navigation"
        own = [e for name, entries in help_screen.groups
               if name in ("This screen", "Changes") for e in entries]
        assert own
        # every own key comes before the first generic navigation key (a screen may give a
        # generic key its own meaning, as the access screen's tab: that one counts as its own)
        entries = help_screen.entries
        first_generic = min(i for i, (key, _, _) in enumerate(entries)
                            if key in GENERIC and key not in {e.key for e in own})
        own_at = [i for i, (key, _, _) in enumerate(entries) if key in {e.key for e in own}]
        assert own_at and max(own_at) < first_generic
        # the first of the screen's own keys are readable without scrolling
        lines = screen_text(app).splitlines()
        for entry in own[:5]:
            assert any(entry.key in line and entry.description in line for line in lines), \
                (entry, "\n".join(lines))
        assert not any("super+c" in line for line in lines)


async def test_registry_lists_check_all_and_vendor_sync_on_the_first_page(
        tmp_path: Path) -> None:
    app = make_app(tmp_path / "s.json")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("question_mark")
        await settle(pilot)
        text = screen_text(app)
        for description in ("Filter", "Check all", "Push request", "Vendor sync", "Add"):
            assert description in text
        assert "Scroll left" not in text
