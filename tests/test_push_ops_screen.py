"""The push operations screen (the calendar's `P`) against the simulator's packaging org (real
HTTPS on 127.0.0.1), keys only, at 80x24: plan, dry run (nothing sent), schedule with the
version typed (read-only refuses), announcements without overwriting unasked, status, abort."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from test_push_cli import NO_SANDBOX, World, announce_directly, audit, make_plan, run, saved
from test_push_cli import w as push_world
from ui_helpers import make_app, screen_text, settle, type_text

from juston_tui.push_ops.outcomes import failed_last_two, failed_twice, org_history
from juston_tui.push_ops.plans import list_plans, update_wave
from juston_tui.push_ops.session import packaging_connection
from juston_tui.salesforce.push_api import PushWriter
from juston_tui.store import Store

SIZE = (80, 24)


@pytest.fixture
def w(tmp_path: Path) -> Iterator[World]:
    """The world of the push CLI tests (simulator, registered orgs, contacts, checks)."""
    yield from push_world.__wrapped__(tmp_path)


def detail(app: Any) -> str:
    """The whole detail pane (it scrolls at 80x24), as plain text."""
    return str(app.screen.query_one("#pushops-detail").content)


def plan_count(w: World) -> int:
    store = w.store()
    try:
        return len(list_plans(store))
    finally:
        store.close()


async def open_push_ops(pilot: Any) -> None:
    await settle(pilot)
    await pilot.press("P")
    await settle(pilot)
    assert pilot.app.screen.__class__.__name__ == "PushOpsScreen"


def app_for(w: World, *, read_only: bool = False) -> Any:
    store = Store.open(w.db, read_only=read_only)
    return make_app(store, credentials=w.creds, read_only=read_only, start_mode="calendar")


async def test_calendar_P_plans_a_push_and_shows_its_waves(w: World, tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch
                                                           ) -> None:
    monkeypatch.chdir(tmp_path)
    app = app_for(w)
    async with app.run_test(size=SIZE) as pilot:
        await open_push_ops(pilot)
        text = screen_text(app)
        assert "No push plans yet" in text
        assert "New plan" in text and "Schedule" in text  # the key bar at 80 columns
        await pilot.press("n")
        await settle(pilot)
        assert plan_count(w) == 1
        text = screen_text(app)
        assert "1 push plan(s)" in text and "Planned." in text
        assert "wave 1 sandboxes and test orgs: 1 org(s), planned" in text
        assert "left out" in text and "wave 3 the rest" in text
        assert "Announcements folder (f)" in text  # the path field is visible at 80x24
        shown = detail(app)
        assert "Gates: announcement: wave 1 was never announced" in shown
        assert "x not registered in juston-tui" in shown
        assert "x sandbox without a push ticket" in shown


async def test_dry_run_shows_what_would_be_sent_and_sends_nothing(w: World) -> None:
    plan = make_plan(w, 10)
    app = app_for(w)
    async with app.run_test(size=SIZE) as pilot:
        await open_push_ops(pilot)
        await pilot.press("d")
        await settle(pilot)
        shown = detail(app)
        assert "Dry run: nothing is sent" in shown
        assert "POST sobjects/PackagePushRequest" in shown and plan["version_id"] in shown
        assert "batch 1 (" in shown and plan["waves"][0]["orgs"][0]["org_id"] in shown
        assert "--yes would be refused: wave 1 was never announced" in shown
        assert "Dry run of wave 1" in screen_text(app)
    assert audit(w) == []
    assert saved(w, plan["id"]).wave(1).state == "planned"


async def test_schedule_asks_for_the_version_then_status_and_abort(w: World) -> None:
    plan = make_plan(w, 10)
    announce_directly(w, plan["id"], datetime.now(UTC), 1, 2, 3)
    app = app_for(w)
    async with app.run_test(size=SIZE) as pilot:
        await open_push_ops(pilot)
        await pilot.press("s")
        await settle(pilot)
        assert "Type the version" in screen_text(app)
        await type_text(pilot, "9.9")
        await pilot.press("enter")
        await settle(pilot)
        assert "nothing was scheduled" in screen_text(app)
        assert audit(w) == []
        await pilot.press(*["backspace"] * 3)
        await type_text(pilot, plan["version"])
        await pilot.press("enter")
        await settle(pilot)
        await settle(pilot)
        wave = saved(w, plan["id"]).wave(1)
        assert wave.state == "scheduled" and wave.request_id
        assert [a["action"] for a in audit(w)] == ["create_request", "insert_jobs", "start"]
        assert "Scheduled: request" in detail(app)
        await pilot.press("t")
        await settle(pilot)
        shown = detail(app)
        assert f"Request {wave.request_id}: Pending" in shown and "Pending" in shown
        await pilot.press("x")
        await settle(pilot)
        assert "Abort push request" in screen_text(app)
        await pilot.press("y")
        await settle(pilot)
        await settle(pilot)
        assert "canceled (it was Pending" in detail(app)
        assert saved(w, plan["id"]).wave(1).state == "canceled"
        await pilot.press("x", "y")
        await settle(pilot)
        assert "Not aborted: can't abort" in detail(app)
        assert [a["action"] for a in audit(w)][-1] == "cancel"


async def test_the_gates_are_explained_and_the_announcement_gate_needs_a_reason(
        w: World) -> None:
    plan = make_plan(w, 10)
    app = app_for(w)
    async with app.run_test(size=SIZE) as pilot:
        await open_push_ops(pilot)
        await pilot.press("down")  # wave 2: waits for wave 1
        await settle(pilot)
        assert "wave 1 must have ended with a failure rate under 10%" in detail(app)
        await pilot.press("up", "s")
        await settle(pilot)
        assert "Announcement gate: wave 1 was never announced" in screen_text(app)
        await pilot.press("tab")  # past the reason: the version alone is not enough
        await type_text(pilot, plan["version"])
        await pilot.press("enter")
        await settle(pilot)
        assert "give a reason" in screen_text(app)
        await pilot.press("escape")
        await settle(pilot)
    assert audit(w) == []


async def test_read_only_refuses_to_schedule_plan_announce_or_abort(w: World) -> None:
    plan = make_plan(w, 10)
    announce_directly(w, plan["id"], datetime.now(UTC) - timedelta(days=1), 1)
    app = app_for(w, read_only=True)
    async with app.run_test(size=SIZE) as pilot:
        await open_push_ops(pilot)
        text = screen_text(app)
        assert "Schedule" not in text and "New plan" not in text and "Dry run" in text
        await pilot.press("s")
        await settle(pilot)
        assert "Type the version" not in screen_text(app)
        await pilot.press("n", "w", "x")
        await settle(pilot)
        await pilot.press("d")
        await settle(pilot)
        assert "Dry run: nothing is sent" in detail(app)
    assert audit(w) == [] and plan_count(w) == 1
    assert saved(w, plan["id"]).wave(1).state == "planned"


async def test_announcements_are_written_and_never_replaced_unasked(
        w: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    plan = make_plan(w, 10)
    monkeypatch.chdir(tmp_path)
    folder = tmp_path / "push-announcements"
    app = app_for(w)
    async with app.run_test(size=SIZE) as pilot:
        await open_push_ops(pilot)
        await pilot.press("w")
        await settle(pilot)
        files = sorted(folder.glob("*.eml"))
        assert files and "Wrote " in detail(app) and "recipient(s)" in detail(app)
        assert saved(w, plan["id"]).wave(1).announced_at is not None
        files[0].write_bytes(b"kept")
        await pilot.press("w")
        await settle(pilot)
        assert "Keep it (n)" in screen_text(app)  # ask_to_replace: never replaced unasked
        await pilot.press("n")
        await settle(pilot)
        assert files[0].read_bytes() == b"kept"
        await pilot.press("w")
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot)
        assert files[0].read_bytes() != b"kept"


async def test_a_request_stuck_in_created_is_flagged_with_its_one_key_abort(w: World) -> None:
    plan = make_plan(w, 10)
    store = w.store()
    try:  # a request left in Created (as `sf` leaves one when inserting the jobs fails)
        with packaging_connection(store, w.creds) as (_org, conn):
            orphan = PushWriter(conn).create_request(plan["version_id"])
        update_wave(store, plan["id"], 1, request_id=orphan, state="scheduled")
    finally:
        store.close()
    app = app_for(w)
    async with app.run_test(size=SIZE) as pilot:
        await open_push_ops(pilot)
        await pilot.press("t")
        await settle(pilot)
        shown = detail(app)
        assert f"Request {orphan}: Created" in shown and "! stuck in Created" in shown
        assert "x: abort it" in shown
        await pilot.press("x", "y")
        await settle(pilot)
        assert "canceled (it was Created" in detail(app)


async def test_the_org_detail_flags_an_org_that_failed_its_last_two_pushes(w: World) -> None:
    bad = w.ids["zuerich"]
    w.sim.set_push_outcome(bad, "ApexTestFailure")
    for days in (10, 20):
        plan = make_plan(w, days, "--pilot-share", "0", *NO_SANDBOX)
        announce_directly(w, plan["id"], datetime.now(UTC), 1)
        assert run(w, "push", "schedule", plan["id"], "--yes")[0] == 0
        w.sim.advance(timedelta(days=11))
    code, out, _err = run(w, "push", "history", "--json")
    doc = json.loads(out)
    assert code == 0 and doc[bad]["failed_last_two"]
    good = next(o for o, h in doc.items()  # upgraded by the first: not in the second
                if [p["outcome"] for p in h["pushes"]] == ["Succeeded"])
    app = make_app(Store.open(w.db), credentials=w.creds)
    async with app.run_test(size=(100, 40)) as pilot:
        await settle(pilot)
        for org_id, flagged, pushes in ((bad, True, 2), (good, False, 1)):
            app.screen.query_one("#registry-table").move_to_key(org_id)
            await pilot.press("enter")
            await settle(pilot)
            text = screen_text(app)
            assert type(app.screen).__name__ == "OrgDetailScreen"
            assert f"Pushes: {pushes} · last 2.80.2" in text
            assert ("! Failed its last two pushes" in text) is flagged
            await pilot.press("escape")
            await settle(pilot)


# -- the waves edited org by org -------------------------------------------------------------------
def orgs_list(app: Any) -> list[str]:
    """The ids of the orgs list's entries (left-out orgs as left:ID)."""
    widget = app.screen.query_one("#pushops-orgs")
    return [widget.get_option_at_index(n).id for n in range(widget.option_count)]


async def test_brackets_move_the_highlighted_org_and_e_leaves_it_out_and_back(
        w: World) -> None:
    plan = make_plan(w, 10, "--pilot-share", "0.5", *NO_SANDBOX)
    first = [o["org_id"] for o in plan["waves"][0]["orgs"]]
    app = app_for(w)
    async with app.run_test(size=SIZE) as pilot:
        await open_push_ops(pilot)
        # wave 1's orgs, then the org the plan left out by the user's word (the sandbox)
        assert orgs_list(app) == [*first, "left:head", f"left:{w.ids['ticket']}"]
        assert first[0] in screen_text(app)
        await pilot.press("tab")  # to the orgs list
        await pilot.press("down")  # the second org of wave 1
        await settle(pilot)
        moved = first[1]
        await pilot.press("right_square_bracket")
        await settle(pilot)
        stored = saved(w, plan["id"])
        assert moved in stored.wave(2).org_ids and moved not in stored.wave(1).org_ids
        assert f"moved {moved}" in detail(app) and "from wave 1 to wave 2" in detail(app)
        assert moved not in orgs_list(app)
        await pilot.press("left_square_bracket")  # wave 1 is the first: nothing to do
        await settle(pilot)
        assert saved(w, plan["id"]).wave(1).org_ids == [o for o in first if o != moved]
        # e asks for the reason, then leaves the highlighted org out
        target = orgs_list(app)[app.screen.query_one("#pushops-orgs").highlighted]
        await pilot.press("e")
        await settle(pilot)
        assert "Reason (kept in the plan" in screen_text(app)
        await pilot.press("enter")  # no reason: refused
        await settle(pilot)
        assert "Give a reason" in screen_text(app)
        await type_text(pilot, "year-end close")
        await pilot.press("enter")
        await settle(pilot)
        stored = saved(w, plan["id"])
        assert target not in stored.wave(1).org_ids
        assert any(e.org_id == target and e.reason == "excluded by the user: year-end close"
                   for e in stored.excluded)
        assert f"left:{target}" in orgs_list(app)
        # e on a left-out org includes it again, in the highlighted wave
        orgs = app.screen.query_one("#pushops-orgs")
        orgs.highlighted = orgs_list(app).index(f"left:{target}")
        await settle(pilot)
        await pilot.press("e")
        await settle(pilot)
        assert target in saved(w, plan["id"]).wave(1).org_ids
        assert f"left:{target}" not in orgs_list(app) and target in orgs_list(app)


async def test_a_scheduled_waves_orgs_are_fixed_on_the_screen_and_read_only_refuses(
        w: World) -> None:
    plan = make_plan(w, 10, "--pilot-share", "0.5", *NO_SANDBOX)
    announce_directly(w, plan["id"], datetime.now(UTC), 1)
    assert run(w, "push", "schedule", plan["id"], "--yes")[0] == 0
    before = saved(w, plan["id"])
    app = app_for(w)
    async with app.run_test(size=SIZE) as pilot:
        await open_push_ops(pilot)
        await pilot.press("tab", "right_square_bracket")
        await settle(pilot)
        assert "Not changed: wave 1 of" in detail(app) and "its orgs are fixed" in detail(app)
        await pilot.press("e")
        await settle(pilot)
        await type_text(pilot, "nope")
        await pilot.press("enter")
        await settle(pilot)
        assert "its orgs are fixed" in detail(app)
    assert saved(w, plan["id"]) == before
    app = app_for(w, read_only=True)
    async with app.run_test(size=SIZE) as pilot:
        await open_push_ops(pilot)
        await pilot.press("shift+tab")  # to the orgs list (whatever has focus): keys refused
        await pilot.press("down", "right_square_bracket", "e", "F")
        await settle(pilot)
        assert "Reason (kept" not in screen_text(app) and "Plan a re-push" not in \
            screen_text(app)
    assert saved(w, plan["id"]) == before


# -- learn: an org's history, the change record, the re-push of the failed orgs ---------------
def pushed(w: World, days: int) -> dict:
    """A plan of one production wave, announced, scheduled and run to its end."""
    plan = make_plan(w, days, "--pilot-share", "0", *NO_SANDBOX)
    announce_directly(w, plan["id"], datetime.now(UTC), 1)
    assert run(w, "push", "schedule", plan["id"], "--yes")[0] == 0
    w.sim.advance(timedelta(days=days + 1))
    return plan


async def highlight_org(pilot: Any, org_id: str) -> None:
    orgs = pilot.app.screen.query_one("#pushops-orgs")
    orgs.focus()
    orgs.highlighted = orgs_list(pilot.app).index(org_id)
    await settle(pilot)


async def test_h_shows_the_highlighted_orgs_pushes_and_flags_two_failures(w: World) -> None:
    bad = w.ids["zuerich"]
    w.sim.set_push_outcome(bad, "ApexTestFailure")
    first = pushed(w, 10)
    pushed(w, 20)
    request = saved(w, first["id"]).wave(1).request_id
    good = next(j["SubscriberOrganizationKey"] for j in w.sim.push.jobs(request)
                if j["Status"] == "Succeeded")
    app = app_for(w)
    async with app.run_test(size=SIZE) as pilot:
        await open_push_ops(pilot)
        await highlight_org(pilot, bad)
        await pilot.press("h")
        await settle(pilot)
        assert type(app.screen).__name__ == "OrgHistoryScreen"
        text = screen_text(app)
        assert "Pushes of" in text and "Zürcher Treuhand AG" in text
        assert "! Failed its last two pushes" in text
        assert text.count("Failed   ") >= 2 and "ApexTestFailure" in text
        await pilot.press("escape")
        await settle(pilot)
        waves = app.screen.query_one("#pushops-waves")
        waves.focus()  # the first plan's wave (both plans were made in the same second)
        waves.highlighted = next(n for n in range(waves.option_count)
                                 if waves.get_option_at_index(n).id == f"{first['id']}:1")
        await settle(pilot)
        assert app.screen.selected == f"{first['id']}:1"
        await highlight_org(pilot, good)
        await pilot.press("h")
        await settle(pilot)
        text = screen_text(app)
        assert "Succeeded" in text and "Failed its last two" not in text


async def test_c_shows_the_change_record_and_saves_it_never_replacing_unasked(
        w: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    bad = w.ids["zuerich"]
    w.sim.set_push_outcome(bad, "ApexTestFailure")
    plan = pushed(w, 10)
    request_id = saved(w, plan["id"]).wave(1).request_id
    assert request_id
    app = app_for(w)
    async with app.run_test(size=SIZE) as pilot:
        await open_push_ops(pilot)
        await pilot.press("c")
        await settle(pilot)
        assert type(app.screen).__name__ == "PushReportScreen"
        record = str(app.screen.query_one("#pushlearn-text").content)
        assert record.startswith(f"# Push upgrade ONB2 2.80.2: request {request_id}")
        assert f"| {bad} | Zürcher Treuhand AG | production | 2.80.1 | Failed | " in record
        assert "\\[bold red\\]Evil\\[/\\] AG" in record  # shown as text, never markup
        assert f"request {request_id}" in screen_text(app)
        await pilot.press("end")  # it scrolls
        await settle(pilot)
        assert app.screen.query_one("#pushlearn-scroll").scroll_y > 0
        await pilot.press("w")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        target = tmp_path / f"push-report-{request_id}.md"
        assert target.read_text(encoding="utf-8") == record
        target.write_text("kept", encoding="utf-8")
        await pilot.press("w")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert "Keep it (n)" in screen_text(app)
        await pilot.press("n")
        await settle(pilot)
        assert target.read_text(encoding="utf-8") == "kept"


async def test_F_plans_a_re_push_of_the_failed_orgs_and_shows_its_dry_run(w: World) -> None:
    bad = w.ids["zuerich"]
    w.sim.set_push_outcome(bad, "ApexTestFailure")
    plan = pushed(w, 10)
    request_id = saved(w, plan["id"]).wave(1).request_id
    failed = {j["SubscriberOrganizationKey"] for j in w.sim.push.jobs(request_id)
              if j["Status"] == "Failed"}
    writes = len(audit(w))
    app = app_for(w)
    async with app.run_test(size=SIZE) as pilot:
        await open_push_ops(pilot)
        await pilot.press("F")
        await settle(pilot)
        assert "Plan a re-push" in screen_text(app) and request_id in screen_text(app)
        await pilot.press("n")  # not now: nothing planned
        await settle(pilot)
        assert plan_count(w) == 1
        await pilot.press("F", "y")
        await settle(pilot)
        await settle(pilot)
        assert plan_count(w) == 2
        store = w.store()
        try:
            repush = next(p for p in list_plans(store) if p.id != plan["id"])
        finally:
            store.close()
        assert {o for wave in repush.waves for o in wave.org_ids} == failed
        shown = detail(app)
        assert f"Re-push of the failed orgs of {request_id}: planned" in shown
        assert "Dry run: nothing is sent" in shown and "POST sobjects/PackagePushRequest" in shown
        shown_orgs = set(orgs_list(app))  # the new plan's first wave is highlighted
        assert shown_orgs and shown_orgs <= failed and set(repush.waves[0].org_ids) == shown_orgs
    assert len(audit(w)) == writes  # nothing was sent


# -- the registry marks the orgs that failed their last two pushes -------------
async def test_the_registry_marks_orgs_that_failed_their_last_two_pushes(w: World) -> None:
    bad = w.ids["zuerich"]
    w.sim.set_push_outcome(bad, "ApexTestFailure")
    first = pushed(w, 10)
    second = pushed(w, 20)
    store = w.store()
    try:
        assert failed_twice(store) == frozenset()  # no request read since they ended
    finally:
        store.close()
    code, _out, err = run(w, "--read-only", "push", "history")  # read-only: nothing kept
    assert code == 0, err
    assert all(not wv.results for p in (first, second) for wv in saved(w, p["id"]).waves)
    code, _out, err = run(w, "push", "status")  # reading the requests keeps how they ended
    assert code == 0, err
    kept = saved(w, second["id"]).wave(1).results
    assert kept[bad][0] == "Failed" and "ApexTestFailure" in kept[bad][1]
    store = w.store()
    try:
        flagged = failed_twice(store)
        entries = org_history(list_plans(store), {})  # the same rule as push history
    finally:
        store.close()
    assert bad in flagged
    assert flagged == {o for o, e in entries.items() if failed_last_two(e)}
    doc = json.loads(run(w, "push", "history", "--json")[1])
    assert flagged == {o for o, h in doc.items() if h["failed_last_two"]}
    app = make_app(Store.open(w.db), credentials=w.creds)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        lines = screen_text(app).splitlines()
        row = next(line for line in lines if bad[:15] in line)
        assert "!! Zürcher Treuhand AG" in row  # before the name: a cut name keeps it
        assert sum("!! " in line for line in lines) == len(flagged)
        await pilot.press("slash")
        await type_text(pilot, "failed-twice")
        await pilot.press("enter")
        await settle(pilot)
        table = app.screen.query_one("#registry-table")
        assert sorted(table.row_keys) == sorted(flagged)
