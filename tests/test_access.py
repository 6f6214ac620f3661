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
        assert "misconfigured" in uat and "self-authorise" in uat
        globex = next(line for line in lines if "Globex" in line)
        assert "pre-authorised" in globex and " no " in globex
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
