"""The push_plans and push_audit tables: round trips, one-wave updates, audit records."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from store_files import stored_tables

from juston_tui.model import ValidationError
from juston_tui.push_ops.audit import audit_records, record_write
from juston_tui.push_ops.plans import (
    Excluded,
    Plan,
    PlanOrg,
    Wave,
    find_plan,
    get_plan,
    list_plans,
    save_plan,
    update_wave,
)
from juston_tui.store import ReadOnlyError, Store

START = datetime(2027, 1, 9, 0, 0, tzinfo=UTC)


def a_plan(plan_id: str = "plan-1") -> Plan:
    orgs = (PlanOrg("00D5g0000xIeTssEAF", "Müller", "production", "2.79.1", ("licenses",),
                    "2026-12-01T10:00:00Z"),)
    return Plan(plan_id, "billing", "ONB2", "2.80.2", "04t5g000000AAAA", "Europe/Berlin",
                "2026-12-01T12:00:00Z", "ops", "00D5g0000fzkgGdEAI",
                (Wave(1, "sandboxes and test orgs", START, orgs),
                 Wave(2, "pilot", START.replace(day=16), ())),
                (Excluded("00D5g0000yPMjv4EAD", "Schneider", "blocked by the subscriber"),),
                ({"org_id": "00D5g0000w4DphtEAC", "reason": "customer asked"},), 0.2)


def test_a_plan_round_trips_and_one_wave_changes_alone(store: Store) -> None:
    plan = save_plan(store, a_plan())
    assert get_plan(store, "plan-1") == plan
    changed = update_wave(store, "plan-1", 2, request_id="0DV5g000000ABCD",
                          state="scheduled", plan_state="scheduling")
    assert changed.wave(2).request_id == "0DV5g000000ABCD" and changed.wave(1) == plan.wave(1)
    again = get_plan(store, "plan-1")
    assert again is not None and again.state == "scheduling"
    assert again.wave(2).state == "scheduled"
    found = find_plan(store, "0DV5g000000ABCD")
    assert found is not None and found[0].id == "plan-1" and found[1].number == 2
    assert [p.id for p in list_plans(store)] == ["plan-1"]
    with pytest.raises(ValidationError, match="no wave 7"):
        update_wave(store, "plan-1", 7, state="failed")
    with pytest.raises(ValidationError, match="no push plan"):
        update_wave(store, "plan-x", 1, state="failed")


def test_audit_records_who_when_what_and_never_more(store: Store,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOGNAME", "release-manager")
    record_write(store, "create_request", request_id="0DV5g000000ABCD", ok=True,
                 summary={"version_id": "04t5g000000AAAA"}, plan_id="plan-1", wave=1)
    record_write(store, "insert_jobs", request_id="0DV5g000000ABCD", ok=False,
                 error="INVALID_OPERATION: \x1b[31mno\x1b[0m", plan_id="plan-1", wave=1)
    records = audit_records(store, plan_id="plan-1")
    assert [r["action"] for r in records] == ["create_request", "insert_jobs"]
    assert all(r["user"] == "release-manager" for r in records)
    assert records[0]["at"].endswith("Z") and records[0]["ok"] is True
    assert "\x1b" not in records[1]["error"]
    assert audit_records(store, request_id="0DV5g000000ABCD")[0]["request_id"]
    assert audit_records(store, plan_id="other") == []
    with pytest.raises(ValueError):
        record_write(store, "delete_everything", request_id=None, ok=True)


def test_a_read_only_store_refuses_plans_and_audit(tmp_path: Path) -> None:
    Store.open(tmp_path / "s.json").close()
    ro = Store.open(tmp_path / "s.json", read_only=True)
    try:
        with pytest.raises(ReadOnlyError):
            save_plan(ro, a_plan())
        with pytest.raises(ReadOnlyError):
            record_write(ro, "start", request_id="0DV", ok=True)
    finally:
        ro.close()


def test_a_pilot_always_leaves_orgs_for_the_wave_after_it(store: Store) -> None:
    from datetime import date, timedelta

    from juston_tui.model import Org, PushRegistration
    from juston_tui.push_ops.packaging import PackageVersion, PackagingState, Subscriber
    from juston_tui.push_ops.planning import make_plan

    registered = PushRegistration().transition("requested", on=date(2026, 10, 1),
                                               ticket="JO-1").transition(
        "registered", on=date(2026, 10, 2))
    old = PackageVersion("04t000000000001AAA", "2.79.0", True, False)
    new = PackageVersion("04t000000000002AAA", "2.80.0", True, False)
    ids = ["00D5g0000xIeTssEAF", "00D5g0000yt2GD9EAM"]
    store.put_orgs([Org.create(org_id=i, name=f"Org {n}", push=registered)
                    for n, i in enumerate(ids)])

    def plan_for(org_ids: list[str]) -> list[str]:
        subs = {i: Subscriber(i, i, "production", "Active", old, False) for i in org_ids}
        draft = make_plan(store, PackagingState("ONB2", (new, old), subs), product="billing",
                          packaging_org="00D5g0000fzkgGdEAI", pilot_share=0.2,
                          at=datetime.now(UTC) + timedelta(days=10))
        return [f"{w.name}:{len(w.orgs)}" for w in draft.plan.waves]

    assert plan_for(ids[:1]) == ["production:1"]
    assert plan_for(ids) == ["pilot:1", "the rest:1"]


def test_a_hand_edited_plan_is_one_clear_line(tmp_path: Path) -> None:
    import orjson

    from juston_tui.store import StoreCorruptError

    path = tmp_path / "s.json"
    s = Store.open(path)
    save_plan(s, a_plan())
    s.close()
    raw = stored_tables(path)
    doc = next(iter(raw["push_plans"].values()))
    doc["waves"] = "wave one"
    path.write_bytes(orjson.dumps(raw))
    with pytest.raises(StoreCorruptError) as bad:
        Store.open(path).load()
    assert "push_plans plan-1: waves" in bad.value.describe()
