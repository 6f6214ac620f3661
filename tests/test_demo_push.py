"""The demo shows a push mid-flight: one plan whose first wave ended with a failure and whose
second wave is running in the simulator's daemon (Simulator.seed_demo_push, demo/pushes.py)."""

from __future__ import annotations

from ui_helpers import make_app, settle

from juston_tui.demo import open_demo
from juston_tui.demo.pushes import PLAN_ID
from juston_tui.push_ops.plans import get_plan
from juston_tui.push_ops.session import packaging_connection
from juston_tui.push_ops.watch import watch
from juston_tui.store import Store


def test_the_demo_has_a_plan_with_wave_one_done_with_failures_and_wave_two_running() -> None:
    env = open_demo()
    try:
        store = Store.open(env.store_path, read_only=True)
        try:
            plan = get_plan(store, PLAN_ID)
            assert plan is not None and [w.state for w in plan.waves] == ["scheduled"] * 2
            assert all(w.request_id for w in plan.waves) and plan.excluded
            with packaging_connection(store, env.credentials) as (_org, conn):
                found = {s.wave: s.info for s in watch(store, conn, plan.id)}
        finally:
            store.close()
        first, second = found[1], found[2]
        assert first.ended and first.counts.get("Failed", 0) >= 1
        assert first.counts.get("Succeeded", 0) >= 1 and "ApexTestFailure" in first.errors_by_type
        assert second.status == "In Progress"
        # every job is for an org of its wave
        assert {j.org_id for j in second.jobs} == set(plan.wave(2).org_ids)
    finally:
        env.stop()


async def test_the_push_screen_shows_the_demo_push_mid_flight() -> None:
    env = open_demo()
    try:
        app = make_app(Store.open(env.store_path), credentials=env.credentials,
                       start_mode="calendar")
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            await pilot.press("P")
            await settle(pilot)
            await pilot.press("t")
            await settle(pilot)
            shown = str(app.screen.query_one("#pushops-detail").content)
            assert "1 Failed" in shown and "ApexTestFailure" in shown
            await pilot.press("down", "t")
            await settle(pilot)
            shown = str(app.screen.query_one("#pushops-detail").content)
            assert ": In Progress" in shown and "1 In Progress" in shown
    finally:
        env.stop()
