"""Push plans after `push plan`: announcements in each org's own time zone (the
Organization's TimeZoneSidKey its latest check read), and waves edited org by org
(`push wave PLAN --move ORG --to N`, `--exclude ORG --reason R`, `--include ORG`), only while
the plan is not scheduled."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from test_push_cli import (
    NO_SANDBOX,
    World,
    announce_directly,
    make_plan,
    messages_in,
    run,
    saved,
)
from test_push_cli import w as push_world

from juston_tui.model import Snapshot
from juston_tui.push_ops.announce import org_zone
from juston_tui.push_ops.outcomes import failed_last_two, failed_twice, org_history
from juston_tui.push_ops.plans import Plan, PlanOrg, Wave, list_plans, save_plan
from juston_tui.salesforce.probe import probe_org
from juston_tui.store import Store


@pytest.fixture
def w(tmp_path: Path) -> Iterator[World]:
    """The world of the push CLI tests (simulator, registered orgs, contacts, checks)."""
    yield from push_world.__wrapped__(tmp_path)


def _save(w: World, snapshot: Snapshot) -> None:
    store = w.store()
    try:
        store.save_snapshot(snapshot)
    finally:
        store.close()


# -- 1. the org's own time zone ------------------------------------------------------------------
def test_announcements_give_the_start_in_each_orgs_own_time_zone(w: World,
                                                                 tmp_path: Path) -> None:
    alpen, zuerich = w.ids["alpen"], w.ids["zuerich"]
    w.sim.org(alpen).extra["timezone"] = "America/New_York"  # its Organization.TimeZoneSidKey
    store = w.store()
    try:
        org = store.find_org(alpen)
        assert org is not None
        probed = probe_org(org, w.creds)  # the check reads it from the Organization record
        assert probed.facts["organization"]["timezone"] == "America/New_York"
        store.save_snapshot(probed)
        assert org_zone(store, alpen) is not None
        assert org_zone(store, zuerich) is None  # its check read no time zone
    finally:
        store.close()
    plan = make_plan(w, 10, "--pilot-share", "0", *NO_SANDBOX,
                     "--at", "2026-12-06T00:00:00Z")
    assert plan["waves"][0]["start_utc"] == "2026-12-06T00:00:00Z"
    out = tmp_path / "mail"
    code, _text, err = run(w, "push", "announce", plan["id"], "--out", str(out))
    assert code == 0, err
    messages = messages_in(out)  # parsed back by the email package
    anna = next(m for m in messages if "anna" in str(m["To"])).get_content()
    bert = next(m for m in messages if "bert" in str(m["To"])).get_content()
    line = ("Your org (Alpenblick Versicherung AG, time zone America/New_York): "
            "Sat 5 Dec 2026 19:00")
    assert line in anna and line in bert
    assert "Zürcher Treuhand AG, time zone" not in anna  # unknown: nothing said, no guess
    assert "2026-12-06 00:00 UTC" in anna and "Europe/Berlin" in anna  # still there


@pytest.mark.parametrize("zone", ["Mars/Olympus_Mons", "../../etc/passwd", "", "x" * 300,
                                  "Europe/Nowhere City"])
def test_an_unknown_or_invalid_zone_id_is_ignored(w: World, tmp_path: Path, zone: str) -> None:
    alpen = w.ids["alpen"]
    _save(w, Snapshot(alpen, "2026-11-30T10:00:00Z", (),
                      facts={"organization": {"org_id": alpen, "timezone": zone}}))
    store = w.store()
    try:
        assert org_zone(store, alpen) is None
    finally:
        store.close()
    plan = make_plan(w, 10, "--pilot-share", "0", *NO_SANDBOX)
    code, _text, err = run(w, "push", "announce", plan["id"], "--out", str(tmp_path / "m"))
    assert code == 0, err
    for message in messages_in(tmp_path / "m"):
        assert "Your org (" not in message.get_content()


def test_the_zone_of_a_valid_id_is_used_whatever_the_calendar_zone(w: World,
                                                                  tmp_path: Path) -> None:
    alpen = w.ids["alpen"]
    _save(w, Snapshot(alpen, "2026-11-30T10:00:00Z", (),
                      facts={"organization": {"org_id": alpen, "timezone": "Asia/Tokyo"}}))
    plan = make_plan(w, 10, "--pilot-share", "0", *NO_SANDBOX)
    start = datetime.fromisoformat(plan["waves"][0]["start_utc"].replace("Z", "+00:00"))
    assert run(w, "push", "announce", plan["id"], "--out", str(tmp_path / "m"))[0] == 0
    tokyo = start.astimezone(ZoneInfo("Asia/Tokyo"))
    bert = next(m for m in messages_in(tmp_path / "m") if "bert" in str(m["To"]))
    assert (f"Your org (Alpenblick Versicherung AG, time zone Asia/Tokyo): {tokyo:%a} "
            f"{tokyo.day} {tokyo:%b %Y %H:%M}") in bert.get_content()
    assert saved(w, plan["id"]).wave(1).announced_at is not None


# -- 2. waves editable org by org ---------------------------------------------------------------
def wave_cmd(w: World, plan_id: str, *argv: str) -> tuple[int, dict | None, str]:
    code, out, err = run(w, "push", "wave", plan_id, "--json", *argv)
    return code, (json.loads(out) if code == 0 else None), err


def where(plan: dict, org_id: str) -> int | None:
    return next((wave["number"] for wave in plan["waves"]
                 if org_id in [o["org_id"] for o in wave["orgs"]]), None)


def test_an_org_moves_between_planned_waves_and_it_is_kept(w: World) -> None:
    plan = make_plan(w, 10, "--pilot-share", "0.5")
    zuerich = w.ids["zuerich"]
    start = where(plan, zuerich)
    assert start in (2, 3)
    to = 5 - start  # the other production wave
    code, moved, err = wave_cmd(w, plan["id"], "--move", zuerich, "--to", str(to))
    assert code == 0, err
    assert moved is not None and where(moved, zuerich) == to
    assert f"moved {zuerich} (Zürcher Treuhand AG) from wave {start} to wave {to}" in err
    stored = saved(w, plan["id"])
    assert zuerich in stored.wave(to).org_ids and zuerich not in stored.wave(start).org_ids
    names = [o.name.lower() for o in stored.wave(to).orgs]
    assert names == sorted(names)  # in the plan's order (by name)
    org = next(o for o in stored.wave(to).orgs if o.org_id == zuerich)
    assert org.failing_checks == ("licenses",)  # what the plan knew of it travels with it
    assert stored.edits and stored.edits[-1]["what"].startswith(f"moved {zuerich}")
    assert stored.org_count == sum(len(x["orgs"]) for x in plan["waves"])
    code, _doc, err = wave_cmd(w, plan["id"], "--move", zuerich, "--to", "9")
    assert code == 2 and "has no wave 9" in err and err.count("\n") == 1
    code, _doc, err = wave_cmd(w, plan["id"], "--move", zuerich, "--to", str(to))
    assert code == 2 and "already" in err
    code, _doc, err = wave_cmd(w, plan["id"], "--move", w.ids["noticket"], "--to", "1")
    assert code == 2 and "left out of plan" in err and "sandbox without a push ticket" in err
    code, _doc, err = wave_cmd(w, plan["id"], "--move", zuerich)
    assert code == 2 and "--to" in err


def test_exclude_with_a_reason_and_include_again(w: World) -> None:
    plan = make_plan(w, 10, "--pilot-share", "0.5")
    brandt = w.ids["brandt"]
    before = where(plan, brandt)
    assert before is not None
    code, _doc, err = wave_cmd(w, plan["id"], "--exclude", brandt)
    assert code == 2 and "--reason" in err
    code, doc, err = wave_cmd(w, plan["id"], "--exclude", brandt, "--reason", "year-end close")
    assert code == 0, err
    assert doc is not None and where(doc, brandt) is None
    reasons = {e["org_id"]: e["reason"] for e in doc["excluded"]}
    assert reasons[brandt] == "excluded by the user: year-end close"
    assert {"org_id": brandt, "reason": "year-end close"} in doc["exclusions"]
    code, doc, err = wave_cmd(w, plan["id"], "--include", brandt, "--to", "1")
    assert code == 0, err
    assert doc is not None and where(doc, brandt) == 1 and brandt not in {
        e["org_id"] for e in doc["excluded"]}
    # an org left out by a rule can't be included: only the user's exclusion is undone
    code, _doc, err = wave_cmd(w, plan["id"], "--include", w.ids["current"])
    assert code == 2 and "already on 2.80.2" in err
    assert len(saved(w, plan["id"]).edits) == 2


def test_an_org_excluded_at_planning_can_be_included(w: World) -> None:
    plan = make_plan(w, 10, "--exclude", w.ids["brandt"], "--reason", "asked to wait",
                     "--exclude", w.ids["current"], "--reason", "also")
    code, doc, err = wave_cmd(w, plan["id"], "--include", w.ids["brandt"])
    assert code == 0, err
    assert doc is not None and where(doc, w.ids["brandt"]) == len(doc["waves"])  # the last
    code, _doc, err = wave_cmd(w, plan["id"], "--include", w.ids["current"])  # on the target
    assert code == 2 and "nothing but the user's exclusion" in err


def test_a_scheduled_waves_orgs_are_fixed(w: World) -> None:
    plan = make_plan(w, 10, "--pilot-share", "0.5")
    announce_directly(w, plan["id"], datetime.now(UTC), 1, 2)
    assert run(w, "push", "schedule", plan["id"], "--yes")[0] == 0  # wave 1
    first = plan["waves"][0]["orgs"][0]["org_id"]
    second = plan["waves"][1]["orgs"][0]["org_id"]
    before = saved(w, plan["id"])
    code, _doc, err = wave_cmd(w, plan["id"], "--move", first, "--to", "2")
    assert code == 2 and "wave 1 of" in err and "is scheduled" in err and "fixed" in err
    code, _doc, err = wave_cmd(w, plan["id"], "--move", second, "--to", "1")
    assert code == 2 and "is scheduled" in err
    code, _doc, err = wave_cmd(w, plan["id"], "--exclude", first, "--reason", "x")
    assert code == 2 and "fixed" in err
    assert saved(w, plan["id"]) == before  # nothing changed
    # moving into an announced wave withdraws its announcement (the org was not in it)
    code, _doc, err = wave_cmd(w, plan["id"], "--move", second, "--to", "3")
    assert code == 0, err
    assert "wave 3 was" not in err  # wave 3 was never announced
    assert "contacts were told about wave 2" in err
    code, _doc, err = wave_cmd(w, plan["id"], "--move", second, "--to", "2")
    assert code == 0 and "announcement is withdrawn" in err
    assert saved(w, plan["id"]).wave(2).announced_at is None


def test_a_wave_left_empty_is_dropped_and_read_only_refuses(w: World) -> None:
    plan = make_plan(w, 10)
    assert plan["waves"][0]["name"] == "sandboxes and test orgs"
    ticket = w.ids["ticket"]
    code, doc, err = wave_cmd(w, plan["id"], "--move", ticket, "--to", "2")
    assert code == 0, err
    assert doc is not None and "has no orgs now: dropped" in err
    assert [x["number"] for x in doc["waves"]] == [1, 2]
    assert where(doc, ticket) == 1 and doc["waves"][0]["name"] == "pilot"
    before = saved(w, plan["id"])
    code, _out, err = run(w, "--read-only", "push", "wave", plan["id"], "--move", ticket,
                          "--to", "2")
    assert code == 2 and "--read-only" in err
    assert saved(w, plan["id"]) == before


# -- 4. failed twice, from the results the plans kept ------------------------------------------
def test_failed_twice_applies_the_history_rule_to_the_kept_results(tmp_path: Path) -> None:
    """Canceled jobs did not run; a success in between clears the flag; the order is the
    pushes' start, whatever order the plans were made in."""
    store = Store.open(tmp_path / "s.json")
    orgs = [PlanOrg(f"00D5g00000000{n:02d}AAA", f"Org {n}", "production") for n in range(4)]
    runs = {  # org -> its outcomes in push order
        orgs[0].org_id: ["Failed", "Failed"],
        orgs[1].org_id: ["Failed", "Succeeded"],
        orgs[2].org_id: ["Failed", "Canceled", "Failed"],
        orgs[3].org_id: ["Succeeded", "Failed", "Failed"],
    }
    start = datetime(2026, 3, 7, tzinfo=UTC)
    for k in reversed(range(3)):  # made newest first
        results = {o: (r[k], ()) for o, r in runs.items() if k < len(r)}
        store_plan = Plan(f"plan-{k}", "billing", "ONB2", "2.80.2", "04t", "Europe/Berlin",
                          f"2026-0{3 - k}-01T00:00:00Z", "me", "00D",
                          (Wave(1, "all", start + timedelta(days=90 * k),
                                tuple(o for o in orgs if o.org_id in results),
                                state="scheduled", request_id=f"0DV5g00000000{k}", jobs=4,
                                results=results),))
        save_plan(store, store_plan)
    try:
        flagged = failed_twice(store)
        history = org_history(list_plans(store), {})
    finally:
        store.close()
    assert flagged == {orgs[0].org_id, orgs[2].org_id, orgs[3].org_id}
    assert flagged == {o for o, entries in history.items() if failed_last_two(entries)}
