"""Connected-app access screen (mode access), keys only, on the fixed store."""

from __future__ import annotations

from pathlib import Path

from registry_fixtures import make_app, org_id
from ui_helpers import screen_text, settle

from juston_tui.screens.access import REMEDIATION, USER_ERROR
from juston_tui.screens.widgets.fast_table import FastTable

GUIDE = Path(__file__).resolve().parent / "data" / "installation_guide.txt"


def access_table(app) -> FastTable:
    return app.screen.query_one("#access-table", FastTable)


def detail(app) -> str:
    return str(app.screen.query_one("#access-detail").render())


async def test_access_summary_columns_and_detail(tmp_path: Path) -> None:
    app = make_app(tmp_path / "s.json", start_mode="access")
    async with app.run_test(size=(120, 60)) as pilot:
        await settle(pilot)
        text = screen_text(app)
        assert "1 ok · 2 misconfigured · 2 unknown" in text
        assert "JustOn Packaging" not in text  # the vendor org has no JustOn Platform app
        lines = text.splitlines()
        uat = next(line for line in lines if "Acme GmbH (UAT)" in line)
        assert "misconfigured" in uat and "self-authorize" in uat
        globex = next(line for line in lines if "Globex" in line)
        assert "pre-authorized" in globex and " no " in globex
        acme = next(line for line in lines if line.startswith("Acme GmbH  "))
        assert " ok " in acme and "System Administrator" in acme
        access_table(app).move_to_key(org_id(2))
        await pilot.pause()
        shown = detail(app)
        assert "All users may self-authorize" in shown
        assert USER_ERROR in shown
        assert "Apps > Connected Apps > Manage Connected Apps" in shown
        assert "Select the relevant profile, at least, System Administrator." in shown
        await pilot.press("j", "k")  # the detail follows the cursor
        assert access_table(app).cursor_key == org_id(2)


def test_remediation_is_the_seed_word_for_word() -> None:
    seed = GUIDE.read_text(encoding="utf-8")
    flat_seed = " ".join(seed.split())
    for paragraph in REMEDIATION.split("\n\n"):
        assert " ".join(paragraph.split()) in flat_seed, paragraph
    assert USER_ERROR in seed


async def test_access_filter_and_escape(tmp_path: Path) -> None:
    app = make_app(tmp_path / "s.json")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("3")
        await settle(pilot)
        await pilot.press("slash", *"misc")
        assert set(access_table(app).row_keys) == {org_id(2), org_id(3)}
        await pilot.press("escape")
        assert access_table(app).row_count == 5
        await pilot.press("slash", *"[bold")
        assert access_table(app).row_keys == [org_id(5)]
        await pilot.pause()
        assert "[bold red]x[/] evil" in screen_text(app)


async def test_access_never_checked_org_says_so(tmp_path: Path) -> None:
    app = make_app(tmp_path / "s.json", start_mode="access")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        access_table(app).move_to_key(org_id(5))
        await pilot.pause()
        assert "Never checked: press r" in detail(app)
        assert "pwned" not in detail(app)


# -- issue 17 item 8 ---------------------------------------------------------------------------
AGES = {org_id(1): "2h", org_id(2): "30h!", org_id(3): "20m", org_id(4): "3d!", org_id(5): "—"}


async def test_every_row_shows_its_check_age_when_the_table_scrolls(tmp_path: Path) -> None:
    """With more rows than fit, the table gets a vertical scroll bar; the columns are laid
    out again for it, so the last column is not cut off (the right-aligned Age, once last,
    showed nothing on every row of the demo)."""
    app = make_app(tmp_path / "s.json", start_mode="access")
    async with app.run_test(size=(120, 14)) as pilot:
        await settle(pilot)
        table = access_table(app)
        assert table.show_vertical_scrollbar
        assert not table.show_horizontal_scrollbar  # the columns fit the narrower view
        lines = screen_text(app).splitlines()
        header = next(line for line in lines if line.startswith("Org "))
        assert "Age" in header and "Permission sets" in header
        for key in table.row_keys[:3]:  # the rows in view
            name = table.get_row(key).cells[0].plain
            line = next(line for line in lines if line.startswith(name + " "))
            assert f" {AGES[key]} " in line, (key, line)
            permsets = table.get_row(key).cells[-1].plain
            assert permsets[:15] in line, line


async def test_age_shows_at_80_columns(tmp_path: Path) -> None:
    app = make_app(tmp_path / "s.json", start_mode="access")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        lines = screen_text(app).splitlines()
        globex = next(line for line in lines if line.startswith("Globex Corp"))
        assert " 20m " in globex


async def test_enter_opens_the_org_and_j_keeps_moving_the_table_cursor(tmp_path: Path) -> None:
    app = make_app(tmp_path / "s.json", start_mode="access")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        table = access_table(app)
        key = table.cursor_key
        await pilot.press("enter")
        await settle(pilot)
        assert type(app.screen).__name__ == "OrgDetailScreen"
        assert table.get_row(key).cells[0].plain in screen_text(app)
        await pilot.press("escape")
        await settle(pilot)
        assert app.focused is access_table(app)
        await pilot.press("j", "down")
        assert access_table(app).cursor_row == 2


async def test_tab_focuses_the_detail_pane_on_purpose_and_back(tmp_path: Path) -> None:
    app = make_app(tmp_path / "s.json", start_mode="access")
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        table = access_table(app)
        assert "tab Detail pane" in screen_text(app).splitlines()[-1]
        pane = app.screen.query_one("#access-detail-scroll")
        await pilot.press("tab")
        assert app.focused is pane
        await pilot.press("down", "down")
        await pilot.pause()
        assert table.cursor_row == 0 and pane.scroll_y > 0  # down scrolls the pane now
        await pilot.press("tab")
        assert app.focused is table
        await pilot.press("j")
        assert table.cursor_row == 1
        await pilot.press("tab", "escape")  # esc leaves the pane too
        assert app.focused is table


async def test_salesforce_spelling_everywhere(tmp_path: Path) -> None:
    app = make_app(tmp_path / "s.json", start_mode="access")
    async with app.run_test(size=(120, 60)) as pilot:
        await settle(pilot)
        seen = [screen_text(app)]
        for key in list(access_table(app).row_keys):
            access_table(app).move_to_key(key)
            await pilot.pause()
            seen.append(detail(app))
        text = "\n".join(seen)
        assert "pre-authorized" in text and "self-authorize" in text
        assert "Admin approved users are pre-authorized" in text
        assert "authoris" not in text
