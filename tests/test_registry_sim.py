"""Refresh, cancel and vendor sync against the local org simulator (loopback HTTPS only)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from ui_helpers import screen_text, settle, until

from juston_tui.credentials import open_credentials
from juston_tui.demo import register_simulator_orgs
from juston_tui.screens.widgets.fast_table import FastTable
from juston_tui.simulator import Simulator
from juston_tui.store import Store


@pytest.fixture(scope="module")
def simulator() -> Iterator[Simulator]:
    sim = Simulator(scenario_set="all", port=0).start()
    yield sim
    sim.stop()


def sim_app(tmp_path: Path, sim: Simulator, scenarios: tuple[str, ...] | None = None):
    from juston_tui.app import JustOnApp

    store = Store.open(tmp_path / "s.json")
    credentials = open_credentials("memory")
    chosen = [o for o in sim.orgs if scenarios is None or o.scenario in scenarios]
    orgs = register_simulator_orgs(store, credentials, sim, chosen, method="token")
    return JustOnApp(store=store, credentials=credentials), orgs


def table(app, selector: str = "#registry-table") -> FastTable:
    return app.screen.query_one(selector, FastTable)


async def test_refresh_all_updates_rows_and_store(tmp_path: Path, simulator: Simulator) -> None:
    app, orgs = sim_app(tmp_path, simulator, ("healthy", "self_authorize", "outdated",
                                             "api_disabled"))
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        assert all(table(app).get_row(o.org_id).cells[2].plain == "—" for o in orgs)
        await pilot.press("R")
        await settle(pilot)
        for org in orgs:
            assert app.store.latest_snapshot(org.org_id) is not None
            assert table(app).get_row(org.org_id).cells[2].plain != "—"
        healthy = next(o for o in orgs if "healthy" in o.tags)
        assert table(app).get_row(healthy.org_id).cells[2].plain == "ok"
        assert not app.screen.query_one("#registry-progress").display
        # the access screen sees the new snapshots
        await pilot.press("3")
        await settle(pilot)
        assert "misconfigured" in screen_text(app)


async def test_refresh_marked_org_only(tmp_path: Path, simulator: Simulator) -> None:
    app, orgs = sim_app(tmp_path, simulator, ("healthy", "outdated", "no_sysadmin"))
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        target = orgs[1]
        table(app).move_to_key(target.org_id)
        await pilot.press("r")
        await settle(pilot)
        checked = [o.org_id for o in orgs if app.store.latest_snapshot(o.org_id)]
        assert checked == [target.org_id]


async def test_refresh_can_be_cancelled_and_ui_stays_responsive(
        tmp_path: Path, simulator: Simulator) -> None:
    app, orgs = sim_app(tmp_path, simulator)
    simulator.set_latency(0.4)
    try:
        async with app.run_test(size=(120, 30)) as pilot:
            await settle(pilot)
            await pilot.press("R")
            await until(pilot, lambda: app.screen.query_one("#registry-progress").display,
                        "the progress bar")
            assert app.screen.refreshing  # still checking (0.4 s per request)
            await pilot.press("j", "j")  # keys still work while checking
            assert table(app).cursor_row == 2
            await pilot.press("escape")
            await settle(pilot)
            assert not app.screen.refreshing
            saved = [o for o in orgs if app.store.latest_snapshot(o.org_id)]
            assert len(saved) < len(orgs)
    finally:
        simulator.set_latency(0.0)


async def test_access_refresh_of_cursor_org(tmp_path: Path, simulator: Simulator) -> None:
    app, orgs = sim_app(tmp_path, simulator, ("self_authorize", "healthy"))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("3")
        await settle(pilot)
        bad = next(o for o in orgs if "self-authorize" in o.tags)
        table(app, "#access-table").move_to_key(bad.org_id)
        await pilot.press("r")
        await settle(pilot)
        row = table(app, "#access-table").get_row(bad.org_id)
        assert row.cells[1].plain == "misconfigured"
        assert row.cells[3].plain == "self-authorize"
        assert "Platform not available" in str(app.screen.query_one("#access-detail").render())


async def test_detail_refresh(tmp_path: Path, simulator: Simulator) -> None:
    app, orgs = sim_app(tmp_path, simulator, ("outdated",))
    async with app.run_test(size=(120, 50)) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("r")
        await settle(pilot)
        text = screen_text(app)
        assert "Last check: never" not in text
        assert "JustOn Billing & Invoice Management" in text
        assert app.store.latest_snapshot(orgs[0].org_id) is not None


async def test_vendor_sync_previews_then_applies(tmp_path: Path, simulator: Simulator) -> None:
    from juston_tui.app import JustOnApp

    store = Store.open(tmp_path / "s.json")
    credentials = open_credentials("memory")
    vendor = [o for o in simulator.orgs if o.scenario == "vendor"]
    register_simulator_orgs(store, credentials, simulator, vendor)
    app = JustOnApp(store=store, credentials=credentials)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("v")
        await settle(pilot)
        screen = app.screen
        assert type(screen).__name__ == "VendorSyncScreen"
        adds = [i for i in screen.plan if i["action"] == "add"]
        assert adds, screen.plan
        assert len(store.list_orgs()) == 1  # nothing changed before confirming
        assert store.get_setting("vendor_current_versions") is None
        assert "Nothing has changed yet" in screen_text(app)
        await pilot.press("y")
        await pilot.pause()
        await pilot.press("y")
        await settle(pilot)
        assert len(store.list_orgs()) == 1 + len(adds)
        # Applied: the packaging org's latest released versions are now "current".
        cached = store.get_setting("vendor_current_versions")
        assert cached["versions"]["billing"]["version"] == "2.80.2"
        assert cached["org_id"] == vendor[0].org_id
        await pilot.press("escape")
        await settle(pilot)
        assert table(app).row_count == 1 + len(adds)


async def test_check_all_skips_the_packaging_org_as_status_does(
        tmp_path: Path, simulator: Simulator) -> None:
    """`R` checks what `juston-tui status` checks: every org but the vendor's packaging org."""
    app, orgs = sim_app(tmp_path, simulator, ("healthy", "vendor"))
    vendor = next(o for o in orgs if o.vendor)
    customer = next(o for o in orgs if not o.vendor)
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        await pilot.press("R")
        await settle(pilot)
        assert app.store.latest_snapshot(customer.org_id) is not None
        assert app.store.latest_snapshot(vendor.org_id) is None
        assert table(app).get_row(vendor.org_id).cells[2].plain == "—"
        # named (the cursor's org), the packaging org is checked, as `status ORG` does
        table(app).move_to_key(vendor.org_id)
        await pilot.press("r")
        await settle(pilot)
        assert app.store.latest_snapshot(vendor.org_id) is not None


async def test_check_all_with_only_the_packaging_org_says_how(
        tmp_path: Path, simulator: Simulator) -> None:
    app, orgs = sim_app(tmp_path, simulator, ("vendor",))
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        await pilot.press("R")
        await settle(pilot)
        assert app.store.latest_snapshot(orgs[0].org_id) is None
        assert "press r" in " ".join(str(n.message) for n in app._notifications)


SEVERITY = ["fail", "warn", "unknown", "ok"]


async def _sort_by_check(pilot, app) -> None:
    """`s` cycles name ▲, name ▼, org ID ▲, org ID ▼, then Check ▲."""
    await pilot.press("s", "s", "s", "s")
    assert table(app).sort_column == "verdict" and not table(app).sort_reverse


def _verdicts(app) -> list[str]:
    t = table(app)
    return [t.get_row(k).cells[2].plain for k in t.row_keys]


async def test_check_all_re_sorts_under_the_check_order(
        tmp_path: Path, simulator: Simulator) -> None:
    """After `R` the rows sort by severity again: fail, warn, unknown, ok (issue 17 item 11)."""
    app, _orgs = sim_app(tmp_path, simulator, ("healthy", "api_disabled", "outdated",
                                             "self_authorize"))
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        await _sort_by_check(pilot, app)
        assert set(_verdicts(app)) == {"—"}
        await pilot.press("R")
        await settle(pilot)
        verdicts = _verdicts(app)
        assert set(verdicts) == set(SEVERITY), verdicts
        assert verdicts == sorted(verdicts, key=SEVERITY.index), verdicts
        assert "Check▲" in screen_text(app)


async def test_checking_one_org_re_sorts_and_the_cursor_follows_it(
        tmp_path: Path, simulator: Simulator) -> None:
    app, orgs = sim_app(tmp_path, simulator, ("healthy", "outdated", "self_authorize"))
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        await _sort_by_check(pilot, app)
        await pilot.press("end")  # the last row, unchecked like the others
        target = table(app).cursor_key
        assert table(app).cursor_row == len(orgs) - 1
        await pilot.press("r")
        await settle(pilot)
        verdict = table(app).get_row(target).cells[2].plain
        assert verdict != "—"
        assert table(app).row_keys[0] == target  # a checked row sorts before unchecked ones
        assert table(app).cursor_key == target
        assert _verdicts(app)[1:] == ["—"] * (len(orgs) - 1)
