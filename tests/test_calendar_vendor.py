"""Push requests and jobs read from the simulator's packaging org (loopback HTTPS only)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from ui_helpers import screen_text, settle

from juston_tui import schedule
from juston_tui.app import JustOnApp
from juston_tui.credentials import open_credentials
from juston_tui.demo import register_simulator_orgs
from juston_tui.model import PushRegistration
from juston_tui.push_jobs import NoVendorOrg, cached_push_jobs, refresh_push_jobs
from juston_tui.salesforce.settings import ProbeSettings
from juston_tui.simulator import Simulator
from juston_tui.store import Store


@pytest.fixture(scope="module")
def simulator() -> Iterator[Simulator]:
    sim = Simulator(scenario_set="demo", port=0).start()
    yield sim
    sim.stop()


def _store(tmp_path: Path, sim: Simulator) -> tuple[Store, object]:
    store = Store.open(tmp_path / "s.json")
    credentials = open_credentials("memory")
    orgs = register_simulator_orgs(store, credentials, sim, method="token")
    reg = PushRegistration("registered", registered_on="2026-01-01")
    with store.transaction():
        for org in orgs:
            if org.kind == "production" and not org.vendor:
                store.update_org(org.org_id, push=reg)
    return store, credentials


def test_refresh_reads_requests_jobs_and_errors(tmp_path: Path, simulator: Simulator) -> None:
    store, credentials = _store(tmp_path, simulator)
    record = refresh_push_jobs(store, credentials, timeout=10)
    assert record["error"] is None and record["org_id"] == simulator.vendor_org.org_id
    requests = record["requests"]
    assert {r["status"] for r in requests} == {"Succeeded", "Canceled", "Pending", "Created"}
    failed = [j for r in requests for j in r["jobs"] if j["status"] == "Failed"]
    assert failed and failed[0]["errors"][0]["type"] == "ApexTestFailure"
    assert cached_push_jobs(store) == record  # cached: shown offline
    # The same read refreshed what "current" means (the packaging org's latest releases).
    current = ProbeSettings.for_store(store).current
    assert (current["billing"].version, current["billing"].source) == ("2.80.2", "vendor")

    now = datetime.now(UTC)
    view = schedule.load_view(store, today=now.date(), months=3)
    pending = next(r for r in requests if r["status"] == "Pending")
    plan = next(p for p in view.plans if p.push.id == f"vendor:{pending['id']}")
    assert plan.push.status == "scheduled" and plan.push.product == "cash"
    jobs = plan.jobs_by_org()
    assert jobs and all(job["status"] == "Pending" for job in jobs.values())
    assert {o.org_id for o in plan.orgs} <= set(jobs)
    assert any(e.kind == "vendor_push" for e in view.events)

    # A failing refresh keeps the last good answer and says why, without a secret.
    vendor_id = simulator.vendor_org.org_id
    simulator.set_fault(vendor_id, "server_error", count=4)
    try:
        again = refresh_push_jobs(store, credentials, timeout=10)
    finally:
        simulator.clear_faults(vendor_id)
    assert again["error"] and again["requests"] == requests
    assert simulator.vendor_org.access_token not in again["error"]


def test_no_vendor_org(tmp_path: Path) -> None:
    with pytest.raises(NoVendorOrg, match="--vendor"):
        refresh_push_jobs(Store.open(tmp_path / "s.json"), open_credentials("memory"))


async def test_refresh_key_shows_packaging_org_pushes(tmp_path: Path,
                                                      simulator: Simulator) -> None:
    store, credentials = _store(tmp_path, simulator)
    app = JustOnApp(store=store, credentials=credentials, start_mode="calendar")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert "Packaging org" not in screen_text(app)
        await pilot.press("r")
        await settle(pilot)
        text = screen_text(app)
        assert "Packaging org" in text and "5 push request(s)" in text
        assert " V " in text and "(scheduled)" in text
        await pilot.press("slash", "s", "c", "h", "e", "d", "enter", "enter")
        await settle(pilot)
        text = screen_text(app)
        assert "scheduled in the packaging org" in text
        assert "Pending" in text


async def test_refresh_key_reads_the_store_off_the_event_loop(
        tmp_path: Path, simulator: Simulator, monkeypatch: pytest.MonkeyPatch) -> None:
    """Finding the packaging org reads every org: after another process wrote, that reparses
    the whole file, so it must happen in the worker, not in the key handler."""
    store, credentials = _store(tmp_path, simulator)
    app = JustOnApp(store=store, credentials=credentials, start_mode="calendar")
    ui_reads: list[str] = []
    main = threading.main_thread()
    for name in ("list_orgs", "all_docs", "get_doc"):
        original = getattr(store, name)

        def spy(*args: object, _name: str = name, _original: Any = original) -> Any:
            if threading.current_thread() is main:
                ui_reads.append(_name)
            return _original(*args)

        monkeypatch.setattr(store, name, spy)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("r")
        await settle(pilot)
        assert "5 push request(s)" in screen_text(app)
    assert ui_reads == []
