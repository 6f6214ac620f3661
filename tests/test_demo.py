"""`--demo`: a seeded store from the simulator, fast, self-contained, cleaned up."""

from __future__ import annotations

from pathlib import Path

import pytest

from juston_tui.commands import UserError
from juston_tui.demo import SEED_MODULES, start_demo
from juston_tui.store import Store


def test_demo_store_is_seeded_and_cleaned_up() -> None:
    env = start_demo()  # its time is reported by env.timings, not asserted (benches time)
    try:
        assert set(env.timings) >= {"simulator", "sweep", "push_jobs", "total"}
        store = Store.open(env.store_path, read_only=True)
        orgs = store.list_orgs()
        sim_ids = {o.org_id for o in env.simulator.orgs}
        assert {o.org_id for o in orgs} == sim_ids
        assert {o.auth_method for o in orgs} == {"jwt", "client-credentials", "password",
                                                 "token"}
        assert all(o.instance_url == env.simulator.url and o.ca_bundle for o in orgs)
        (vendor,) = [o for o in orgs if o.vendor]
        assert vendor.org_id == env.simulator.vendor_org.org_id
        states = [o.push.state for o in orgs]
        assert states.count("registered") >= 2 and "requested" in states
        assert any(o.sandbox_push_ticket for o in orgs if o.kind == "sandbox")
        # One real sweep: every customer org has a snapshot matching its scenario.
        snapshots = store.all_snapshots()
        for sim_org in env.simulator.orgs:
            if sim_org.spec.vendor:
                assert sim_org.org_id not in snapshots
                continue
            snap = snapshots[sim_org.org_id]
            got = {c.id: c.verdict for c in snap.checks}
            for check_id, verdict in sim_org.spec.expected.items():
                assert got[check_id] == verdict, (sim_org.scenario, check_id)
        # Secrets live in the memory keyring, never in the store.
        raw = env.store_path.read_text()
        for org, sim_org in zip(sorted(orgs, key=lambda o: o.org_id),
                                sorted(env.simulator.orgs, key=lambda o: o.org_id),
                                strict=True):
            present = [k for k, v in env.credentials.status(org.org_id).items() if v]
            assert present, org.org_id
            for secret in (sim_org.access_token, sim_org.password, sim_org.consumer_secret):
                assert secret not in raw
        assert env.seeded == list(SEED_MODULES)
        temp_dir = env.temp_dir
        assert temp_dir is not None and env.store_path.is_relative_to(temp_dir)
    finally:
        env.stop()
    assert not temp_dir.exists()


def test_demo_at_a_new_db_path_and_refuses_an_existing_one(tmp_path: Path) -> None:
    db = tmp_path / "demo.json"
    env = start_demo(db=db, sweep_orgs=False)
    try:
        assert env.store_path == db and env.temp_dir is None
        assert Store.open(db, read_only=True).counts()["orgs"] == len(env.simulator.orgs)
    finally:
        env.stop()
    assert db.exists()  # the user's file stays
    with pytest.raises(UserError, match="exists"):
        start_demo(db=db)


def test_a_failing_seed_module_stops_the_demo_cleanly(monkeypatch: pytest.MonkeyPatch) -> None:
    """A broken seed is a bug to see, not to hide: the error surfaces, nothing is left running."""
    import juston_tui.contacts_io as contacts_io
    from juston_tui.simulator import Simulator

    started: list[Simulator] = []
    original_start = Simulator.start

    def tracking_start(self: Simulator) -> Simulator:
        started.append(self)
        return original_start(self)

    def broken(store, orgs) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(Simulator, "start", tracking_start)
    monkeypatch.setattr(contacts_io, "seed_demo", broken)
    with pytest.raises(RuntimeError, match="boom"):
        start_demo(sweep_orgs=False)
    assert started and started[0]._server is None  # stopped
