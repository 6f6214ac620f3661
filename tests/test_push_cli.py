"""`juston-tui push ...` against the simulator's packaging org (real HTTPS on 127.0.0.1):
the plan and its reasons, dry-run changing nothing, the announcement gate, batching with
dropped orgs, the orphan rule, read-only refusal, waves gated on the failure rate, the audit,
the announcement e-mails, status and abort."""

from __future__ import annotations

import io
import json
import socket
import ssl
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default as email_policy
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from juston_tui.cli import _known_error, build_parser
from juston_tui.commands import Context, UserError
from juston_tui.credentials import CredentialStore, open_credentials
from juston_tui.demo import register_simulator_orgs
from juston_tui.model import Check, Contact, Org, PushRegistration, Snapshot
from juston_tui.push_ops.audit import audit_records
from juston_tui.push_ops.plans import Plan, get_plan, update_wave
from juston_tui.push_ops.scheduling import ScheduleError, schedule_wave
from juston_tui.push_ops.session import packaging_connection
from juston_tui.push_ops.watch import watch
from juston_tui.salesforce.push_api import BatchProgress, PushWriter
from juston_tui.schedule import parse_push, save_push
from juston_tui.simulator import Simulator
from juston_tui.simulator.ca import generate_ca
from juston_tui.store import Store

REGISTERED = PushRegistration().transition("requested", on=date(2026, 10, 1),
                                           ticket="JO-1").transition("registered",
                                                                     on=date(2026, 10, 2))
NAMES = {
    "ticket": "Alpenblick Versicherung AG (Full)",  # sandbox with a ticket: wave 1
    "noticket": "Müller Logistik GmbH (UAT)",  # sandbox without a ticket
    "blocked": "Schneider Energie AG",
    "current": "Müller Logistik GmbH",  # already on the target
    "zuerich": "Zürcher Treuhand AG",  # failing checks
    "alpen": "Alpenblick Versicherung AG",
    "evil": "[bold red]Evil[/] AG",
    "brandt": "Brandt & Söhne KG",
}


@dataclass
class World:
    sim: Simulator
    db: Path
    creds: CredentialStore
    ids: dict[str, str]
    extra: list[str]  # registered subscribers without an org of their own
    inactive: str
    requested: str  # a subscriber whose registration was only requested

    def store(self) -> Store:
        return Store.open(self.db)


@pytest.fixture
def w(tmp_path: Path) -> Iterator[World]:
    with Simulator(scenario_set="demo") as sim:
        db = tmp_path / "s.json"
        store = Store.open(db)
        creds = open_credentials("memory")
        orgs = register_simulator_orgs(store, creds, sim, method="token")
        ids = {key: next(o.org_id for o in orgs if o.name == name)
               for key, name in NAMES.items()}
        extra = [sim.add_subscriber() for _ in range(10)]
        inactive = sim.add_subscriber(status="Inactive")
        requested = sim.add_subscriber()
        store.put_orgs([Org.create(org_id=i, name=f"Subscriber {n:02d}", push=REGISTERED)
                        for n, i in enumerate([*extra, inactive])]
                       + [Org.create(org_id=requested, name="Requested only",
                                     push=PushRegistration().transition(
                                         "requested", on=date(2026, 11, 1), ticket="JO-2"))])
        with store.transaction():
            for org in orgs:
                store.update_org(org.org_id, push=REGISTERED)
            store.update_org(ids["ticket"], sandbox_push_ticket="JO-4711")
        store.save_snapshot(Snapshot(ids["zuerich"], "2026-11-30T10:00:00Z", (
            Check("package.billing", "ok", "2.80.1"),
            Check("licenses", "fail", "no free licences"))))
        store.add_contact(Contact.create(full_name="Anna Admin", email="anna@zh.example",
                                         title="Admin", org_ids=[ids["zuerich"], ids["alpen"]]))
        store.add_contact(Contact.create(full_name="Bert Berg", email="bert@alpen.example",
                                         title="CFO", org_ids=[ids["alpen"]]))
        store.add_contact(Contact.create(full_name="Nope", email="nope@x.example",
                                         title="-", org_ids=[ids["zuerich"]],
                                         eligible=False))
        store.close()
        yield World(sim, db, creds, ids, extra, inactive, requested)


def run(w: World, *argv: str) -> tuple[int, str, str]:
    """The CLI as `main` runs it (one-line errors), with the test's keyring."""
    args = build_parser().parse_args(["--db", str(w.db), *argv])
    out, err = io.StringIO(), io.StringIO()
    ctx = Context(args, out=out, err=err, _credentials=w.creds)
    try:
        code = int(args.func(args, ctx) or 0)
    except UserError as exc:
        err.write(f"juston-tui: error: {exc}\n")
        code = exc.code
    except Exception as exc:
        message = _known_error(exc)
        if message is None:
            raise
        err.write(f"juston-tui: error: {message}\n")
        code = 2
    finally:
        ctx.close()
    return code, out.getvalue(), err.getvalue()


def plan_json(w: World, *argv: str) -> dict:
    code, out, err = run(w, "push", "plan", "--json", *argv)
    assert code == 0, err
    return json.loads(out)


def in_future(days: int) -> str:
    return (datetime.now(UTC) + timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%SZ")


def test_plan_includes_orgs_by_the_one_rule_and_says_why_others_are_out(w: World) -> None:
    plan = plan_json(w, "--exclude", w.ids["brandt"], "--reason", "customer asked to wait")
    assert plan["version"] == "2.80.2"  # latest released, non-deprecated (2.81.0 is deprecated)
    reasons = {e["org_id"]: e["reason"] for e in plan["excluded"]}
    assert reasons[w.ids["noticket"]] == "sandbox without a push ticket"
    assert reasons[w.ids["blocked"]].startswith("blocked by the subscriber")
    assert reasons[w.ids["current"]] == "already on 2.80.2 (target 2.80.2)"
    assert reasons[w.inactive].startswith("inactive")
    assert reasons[w.requested].startswith("not registered for push upgrades (requested)")
    assert reasons[w.ids["brandt"]] == "excluded by the user: customer asked to wait"
    waves = plan["waves"]
    assert [w_["name"] for w_ in waves] == ["sandboxes and test orgs", "pilot", "the rest"]
    assert [o["org_id"] for o in waves[0]["orgs"]] == [w.ids["ticket"]]
    included = {o["org_id"]: o for wave in waves for o in wave["orgs"]}
    production = len(included) - 1
    assert len(waves[1]["orgs"]) == -(-production * 2 // 10)  # ceil(0.2 * production)
    assert set(w.extra) <= set(included) and not set(reasons) & set(included)
    assert included[w.ids["zuerich"]]["failing_checks"] == ["licenses"]
    # wave 1 at the calendar's projected slot: a Saturday 01:00 in Berlin, a week ahead at least
    start = datetime.fromisoformat(waves[0]["start_utc"].replace("Z", "+00:00"))
    local = start.astimezone(ZoneInfo("Europe/Berlin"))
    assert (local.weekday(), local.hour) == (5, 1) and start > datetime.now(UTC) + timedelta(7)
    assert waves[1]["start_utc"] > waves[0]["start_utc"]
    store = w.store()  # saved
    saved = get_plan(store, plan["id"])
    store.close()
    assert saved is not None and saved.org_count == len(included)


def test_plan_version_and_start_can_be_chosen(w: World) -> None:
    plan = plan_json(w, "--version", "2.80.1", "--at", "2027-03-06T01:00", "--pilot-share", "0")
    assert plan["version"] == "2.80.1" and plan["waves"][0]["start_utc"] == "2027-03-06T00:00:00Z"
    assert [x["name"] for x in plan["waves"]] == ["production"]  # the sandbox is on 2.80.1
    code, _out, err = run(w, "push", "plan", "--version", "2.81.0")
    assert code == 2 and "deprecated" in err and err.count("\n") == 1
    code, _out, err = run(w, "push", "plan", "--version", "9.9")
    assert code == 2 and "no released version 9.9" in err
    code, _out, err = run(w, "push", "plan", "--exclude", w.ids["brandt"])
    assert code == 2 and "--reason" in err
    code, out, _err = run(w, "push", "plan")
    assert code == 0 and out.startswith("plan plan-") and "check first:" in out
    assert "left out:" in out


# -- schedule ----------------------------------------------------------------------------------
NO_SANDBOX = ("--exclude", "", "--reason", "later")


def make_plan(w: World, days: int = 10, *extra: str) -> dict:
    extra = tuple(w.ids["ticket"] if x == "" else x for x in extra)
    return plan_json(w, "--at", in_future(days), *extra)


def announce_directly(w: World, plan_id: str, when: datetime, *waves: int) -> None:
    """A recorded announcement (push announce records it the same way)."""
    store = w.store()
    try:
        for number in waves:
            update_wave(store, plan_id, number, announced_at=when.strftime("%Y-%m-%dT%H:%M:%SZ"))
    finally:
        store.close()


def saved(w: World, plan_id: str) -> Plan:
    store = w.store()
    try:
        plan = get_plan(store, plan_id)
        assert plan is not None
        return plan
    finally:
        store.close()


def audit(w: World) -> list[dict]:
    store = w.store()
    try:
        return audit_records(store)
    finally:
        store.close()


def test_a_dry_run_shows_what_would_be_sent_and_changes_nothing(w: World) -> None:
    plan = make_plan(w)
    wave = plan["waves"][1]
    state, stored = w.sim.push_state(), w.db.read_bytes()
    code, out, err = run(w, "--read-only", "push", "schedule", plan["id"], "--wave", "2")
    assert code == 0, err
    assert out.startswith("dry run: nothing is sent")
    assert f'"PackageVersionId":"{plan["version_id"]}"' in out
    assert f'"ScheduledStartTime":"{wave["start_utc"]}"' in out
    assert f"1 batch(es), {len(wave['orgs'])} org(s)" in out
    assert " ".join(o["org_id"] for o in wave["orgs"]) in out
    assert "--yes would be refused: wave 2 was never announced" in err
    assert "--yes would be refused: wave 1 comes first (it is planned)" in err
    assert w.sim.push_state() == state and w.db.read_bytes() == stored


def test_the_announcement_gate_and_its_recorded_override(w: World) -> None:
    plan = make_plan(w)
    state = w.sim.push_state()
    code, _out, err = run(w, "push", "schedule", plan["id"], "--yes")
    assert code == 2 and "refused: wave 1 was never announced" in err
    late = datetime.now(UTC) - timedelta(hours=1)  # start in 10 days: 9 days before, fine...
    announce_directly(w, plan["id"], datetime.now(UTC) + timedelta(days=4), 1)  # ...6: not
    code, _out, err = run(w, "push", "schedule", plan["id"], "--yes")
    assert code == 2 and "less than 7 days before its start" in err
    assert w.sim.push_state() == state and audit(w) == []
    code, _out, err = run(w, "push", "schedule", plan["id"], "--yes",
                         "--override-announcement", "customer agreed by phone")
    assert code == 0, err
    assert "announcement gate overridden: customer agreed by phone" in err
    assert saved(w, plan["id"]).wave(1).announcement_override == "customer agreed by phone"
    announce_directly(w, plan["id"], late, 2)
    code, _out, err = run(w, "push", "schedule", plan["id"], "--wave", "2", "--yes")
    assert code == 2 and "has not finished: it is Pending" in err  # the gate passed


def test_schedule_batches_drops_refused_orgs_with_their_reason_and_audits(
        w: World, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOGNAME", "release-manager")
    more = [w.sim.add_subscriber() for _ in range(230)]
    store = w.store()
    store.put_orgs([Org.create(org_id=i, name=f"More {n:03d}", push=REGISTERED)
                    for n, i in enumerate(more)])
    store.close()
    plan = make_plan(w, 10, "--pilot-share", "0", *NO_SANDBOX)
    wave = plan["waves"][0]
    assert len(wave["orgs"]) > 200
    w.sim.block_pushes(more[5])  # after planning: Salesforce refuses it
    announce_directly(w, plan["id"], datetime.now(UTC), 1)
    code, out, err = run(w, "push", "schedule", plan["id"], "--yes")
    assert code == 0, err
    assert f"dropped {more[5]}: INVALID_OPERATION: Organization {more[5]} blocks push" in out
    after = saved(w, plan["id"]).wave(1)
    assert after.state == "scheduled" and after.request_id and after.jobs == len(wave["orgs"]) - 1
    assert [d["org_id"] for d in after.dropped] == [more[5]]
    jobs = {j["SubscriberOrganizationKey"] for j in w.sim.push.jobs(after.request_id)}
    assert jobs == {o["org_id"] for o in wave["orgs"]} - {more[5]}
    assert "batch 2/2" in err
    records = audit(w)
    assert [r["action"] for r in records] == ["create_request", "insert_jobs", "start"]
    assert {r["user"] for r in records} == {"release-manager"}
    assert {r["request_id"] for r in records} == {after.request_id}
    assert records[1]["summary"]["dropped"][0]["org_id"] == more[5]
    assert records[1]["summary"]["round_trips"] == 3  # 200 (one dropped, sent again), rest
    status = w.sim.data(w.sim.vendor_org.org_id).get("PackagePushRequest", after.request_id)
    assert status is not None and status["Status"] == "Pending"
    secrets = [v for v in w.creds.__dict__.values() if isinstance(v, str) and len(v) > 12]
    text = json.dumps(records)
    assert not any(s in text for s in secrets)


def test_a_failure_after_the_request_exists_cancels_it(w: World) -> None:
    plan = make_plan(w, 10, *NO_SANDBOX)
    announce_directly(w, plan["id"], datetime.now(UTC), 1, 2)
    vendor_id = w.sim.vendor_org.org_id

    def break_next_request() -> None:  # once the jobs are in, setting Pending gets a 500
        w.sim.on_push_change = None
        w.sim.set_fault(vendor_id, "server_error", count=1)

    w.sim.on_push_change = break_next_request
    code, _out, err = run(w, "push", "schedule", plan["id"], "--yes")
    errors = [line for line in err.splitlines() if line.startswith("juston-tui: error")]
    assert code == 2 and len(errors) == 1
    assert "setting the request Pending failed" in errors[0] and "was canceled" in errors[0]
    wave = saved(w, plan["id"]).wave(1)
    assert wave.state == "failed" and wave.request_id
    request = w.sim.data(vendor_id).get("PackagePushRequest", wave.request_id)
    assert request is not None and request["Status"] == "Canceled"  # no orphan
    assert [(r["action"], r["ok"]) for r in audit(w)] == [
        ("create_request", True), ("insert_jobs", True), ("start", False), ("cancel", True)]
    code, _out, err = run(w, "push", "schedule", plan["id"], "--yes")
    assert code == 0, err  # a failed wave can be tried again
    assert saved(w, plan["id"]).wave(1).request_id != wave.request_id


def test_a_job_insert_failing_midway_cancels_the_request(w: World) -> None:
    more = [w.sim.add_subscriber() for _ in range(230)]
    store = w.store()
    store.put_orgs([Org.create(org_id=i, name=f"More {n:03d}", push=REGISTERED)
                    for n, i in enumerate(more)])
    store.close()
    plan = make_plan(w, 10, "--pilot-share", "0", *NO_SANDBOX)
    announce_directly(w, plan["id"], datetime.now(UTC), 1)
    vendor_id = w.sim.vendor_org.org_id

    def after_batch(progress: BatchProgress) -> None:  # the second batch gets no answer
        if progress.batch == 1:
            w.sim.set_fault(vendor_id, "server_error", count=1)

    store = w.store()
    try:
        with packaging_connection(store, w.creds) as (_org, conn), \
                pytest.raises(ScheduleError, match=r"inserting the jobs failed.*was canceled"):
            schedule_wave(store, conn, plan["id"], 1, on_batch=after_batch)
    finally:
        store.close()
    wave = saved(w, plan["id"]).wave(1)
    request = w.sim.data(vendor_id).get("PackagePushRequest", wave.request_id)
    assert request is not None and request["Status"] == "Canceled"
    assert len(w.sim.push.jobs(wave.request_id)) == 200  # the first batch, canceled with it
    assert all(j["Status"] == "Canceled" for j in w.sim.push.jobs(wave.request_id))
    records = audit(w)
    assert [(r["action"], r["ok"]) for r in records] == [
        ("create_request", True), ("insert_jobs", False), ("cancel", True)]
    assert records[1]["summary"]["created"] == 200


def test_read_only_refuses_to_schedule(w: World) -> None:
    plan = make_plan(w)
    announce_directly(w, plan["id"], datetime.now(UTC), 1)
    state = w.sim.push_state()
    code, _out, err = run(w, "--read-only", "push", "schedule", plan["id"], "--yes")
    assert code == 2 and "--read-only" in err
    assert audit(w) == [] and w.sim.push_state() == state  # nothing sent


def test_the_next_wave_waits_for_the_last_to_finish_under_the_failure_rate(w: World) -> None:
    plan = make_plan(w, 10, "--pilot-share", "0.5")
    assert len(plan["waves"]) == 3
    announce_directly(w, plan["id"], datetime.now(UTC), 1, 2, 3)
    assert run(w, "push", "schedule", plan["id"], "--yes")[0] == 0
    code, _out, err = run(w, "push", "schedule", plan["id"], "--yes")  # wave 2 next
    assert code == 2 and "wave 1" in err and "Pending" in err
    w.sim.advance(timedelta(days=11))
    for org in plan["waves"][1]["orgs"][:3]:
        w.sim.set_push_outcome(org["org_id"], "ApexTestFailure")
    code, _out, err = run(w, "push", "schedule", plan["id"], "--yes")
    assert code == 0, err
    w.sim.advance(timedelta(days=8))
    code, _out, err = run(w, "push", "schedule", plan["id"], "--yes")
    assert code == 2 and "refused: wave 2 failed in" in err and "(the limit is 10%" in err
    assert saved(w, plan["id"]).wave(3).state == "planned"
    code, out, err = run(w, "push", "schedule", plan["id"], "--yes", "--max-failure-rate",
                         "0.9")
    assert code == 0, err
    assert "wave 2 ended " in out and "(under 90%)" in out
    assert saved(w, plan["id"]).state == "scheduled"


# -- announce ----------------------------------------------------------------------------------
def messages_in(folder: Path) -> list[EmailMessage]:
    return [message_from_bytes(p.read_bytes(), policy=email_policy)
            for p in sorted(folder.glob("*.eml"))]


def test_announce_writes_one_message_per_recipient_group_and_records_it(
        w: World, tmp_path: Path) -> None:
    plan = make_plan(w, 10, "--pilot-share", "0", *NO_SANDBOX)
    out = tmp_path / "mail"
    code, text, err = run(w, "push", "announce", plan["id"], "--out", str(out))
    assert code == 0, err
    assert "wrote 2 message(s) to 2 recipient(s)" in text and "(ok)" in text
    messages = messages_in(out)
    to = sorted(str(m["To"]) for m in messages)
    assert to == ["Anna Admin <anna@zh.example>", "Bert Berg <bert@alpen.example>"]  # once
    anna = next(m for m in messages if "anna" in str(m["To"]))
    body = anna.get_content()
    assert "Zürcher Treuhand AG" in body and "Alpenblick Versicherung AG" in body
    assert "version 2.80.2" in body and "Nope" not in str(anna["To"])
    start = datetime.fromisoformat(plan["waves"][0]["start_utc"].replace("Z", "+00:00"))
    berlin = start.astimezone(ZoneInfo("Europe/Berlin"))
    assert f"{start:%Y-%m-%d %H:%M} UTC" in body and f"{berlin:%H:%M} Europe/Berlin" in body
    assert "Before the upgrade:\n- Deactivate the scheduled invoice runs" in body
    assert "After the upgrade:\n- Re-activate the scheduled invoice runs" in body
    assert "What your org must do" in body
    wave = saved(w, plan["id"]).wave(1)
    assert wave.announced_at is not None and wave.announcement_recipients == 2
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    code, _text, err = run(w, "push", "announce", plan["id"], "--out", str(out))
    assert code == 2 and "add --force" in err
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert run(w, "push", "announce", plan["id"], "--out", str(out), "--force")[0] == 0
    code, _text, err = run(w, "push", "schedule", plan["id"], "--yes")  # the gate passes
    assert code == 0, err


def test_announce_uses_the_calendars_actions_for_the_push(w: World, tmp_path: Path) -> None:
    plan = make_plan(w, 10, "--pilot-share", "0", *NO_SANDBOX)
    start = datetime.fromisoformat(plan["waves"][0]["start_utc"].replace("Z", "+00:00"))
    store = w.store()
    save_push(store, parse_push({
        "date": start.astimezone(ZoneInfo("Europe/Berlin")).date().isoformat(),
        "product": "billing", "version": "2.80.2",
        "before": "Pause the Dunning batch", "after": "Run the migration script"}))
    store.close()
    assert run(w, "push", "announce", plan["id"], "--out", str(tmp_path / "m"))[0] == 0
    body = messages_in(tmp_path / "m")[0].get_content()
    assert "Before the upgrade:\n- Pause the Dunning batch\n" in body
    assert "After the upgrade:\n- Run the migration script\n" in body


# -- status and abort --------------------------------------------------------------------------
def test_status_counts_per_request_and_wave_with_errors_by_type(w: World) -> None:
    plan = make_plan(w, 10, "--pilot-share", "0.5")
    announce_directly(w, plan["id"], datetime.now(UTC), 1, 2, 3)
    assert run(w, "push", "schedule", plan["id"], "--yes")[0] == 0
    w.sim.advance(timedelta(days=11))
    failing = [o["org_id"] for o in plan["waves"][1]["orgs"]][:2]
    for org_id in failing:
        w.sim.set_push_outcome(org_id, "DeployError")
    code, _out, err = run(w, "push", "schedule", plan["id"], "--yes")
    assert code == 0, err
    w.sim.advance(timedelta(days=8))
    code, out, err = run(w, "push", "status", plan["id"], "--json")
    assert code == 0, err
    doc = json.loads(out)
    waves = doc["plans"][0]["waves"]
    assert waves[0]["counts"] == {"Succeeded": len(plan["waves"][0]["orgs"])}
    assert waves[2]["state"] == "planned" and waves[2]["counts"] == {}
    second = next(r for r in doc["requests"] if r["wave"] == 2)
    assert second["status"] in ("Succeeded", "Failed")
    failed_orgs = {e["org_id"] for errors in second["errors_by_type"].values() for e in errors}
    assert second["counts"].get("Failed", 0) == len(failed_orgs) >= 1
    assert failed_orgs <= set(failing) and "DeployError" in second["errors_by_type"]
    code, out, _err = run(w, "push", "status")
    assert code == 0 and f"plan {plan['id']}" in out and "DeployError: " in out
    assert "wave 3 (the rest): planned" in out
    code, out, _err = run(w, "push", "status", second["request_id"])
    assert code == 0 and f"(plan {plan['id']} wave 2)" in out
    code, _out, err = run(w, "push", "status", "plan-nope")
    assert code == 2 and "no push plan plan-nope" in err


def test_requests_stuck_in_created_or_pending_are_flagged(w: World) -> None:
    plan = make_plan(w, 10, *NO_SANDBOX)
    announce_directly(w, plan["id"], datetime.now(UTC), 1)
    assert run(w, "push", "schedule", plan["id"], "--yes")[0] == 0
    request_id = saved(w, plan["id"]).wave(1).request_id
    store = w.store()
    try:
        with packaging_connection(store, w.creds) as (_org, conn):
            orphan = PushWriter(conn).create_request(plan["version_id"])  # e.g. by `sf`
            late = datetime.now(UTC) + timedelta(days=10, hours=3)
            pending = watch(store, conn, plan["id"], now=late)[0]
            created = watch(store, conn, orphan)[0]
    finally:
        store.close()
    assert pending.info.request_id == request_id
    assert pending.flags == ("still Pending 3 h after its start (push abort it?)",)
    assert created.plan_id is None and created.flags[0].startswith("stuck in Created")
    code, out, _err = run(w, "push", "status", orphan)
    assert code == 0 and "! stuck in Created" in out


def test_abort_only_from_created_or_pending_and_audited(w: World) -> None:
    plan = make_plan(w, 10, "--pilot-share", "0.5")
    announce_directly(w, plan["id"], datetime.now(UTC), 1, 2)
    assert run(w, "push", "schedule", plan["id"], "--yes")[0] == 0
    first = saved(w, plan["id"]).wave(1).request_id
    code, _out, err = run(w, "--read-only", "push", "abort", first)
    assert code == 2 and "--read-only" in err
    code, out, err = run(w, "push", "abort", first)
    assert code == 0 and f"push request {first} canceled (it was Pending" in out, err
    assert saved(w, plan["id"]).wave(1).state == "canceled"
    assert audit(w)[-1]["action"] == "cancel" and audit(w)[-1]["ok"] is True
    code, _out, err = run(w, "push", "abort", first)
    assert code == 2 and err == (f"juston-tui: error: can't abort push request {first}: it is "
                                 "Canceled (only Created or Pending requests can be)\n")
    store = w.store()  # a running one can't be aborted either
    with packaging_connection(store, w.creds) as (_org, conn):
        writer = PushWriter(conn)
        running = writer.create_request(plan["version_id"])
        writer.insert_jobs(running, [plan["waves"][1]["orgs"][0]["org_id"]])
        writer.start(running)
    store.close()
    code, _out, err = run(w, "push", "abort", running)
    assert code == 2 and "it is In Progress (only Created or Pending" in err


# -- history and report ------------------------------------------------------------------------
def test_history_flags_an_org_that_failed_its_last_two_pushes_and_report(w: World) -> None:
    bad = w.ids["zuerich"]
    w.sim.set_push_outcome(bad, "ApexTestFailure")
    first = make_plan(w, 10, "--pilot-share", "0", *NO_SANDBOX)
    announce_directly(w, first["id"], datetime.now(UTC), 1)
    assert run(w, "push", "schedule", first["id"], "--yes")[0] == 0
    w.sim.advance(timedelta(days=11))
    first_request = saved(w, first["id"]).wave(1).request_id
    repush = plan_json(w, "--only-failed", first_request, "--at", in_future(20))
    failed = {j["SubscriberOrganizationKey"] for j in w.sim.push.jobs(first_request)
              if j["Status"] == "Failed"}
    assert bad in failed and len(failed) < len(first["waves"][0]["orgs"])
    assert {o["org_id"] for x in repush["waves"] for o in x["orgs"]} == failed
    reasons = {e["org_id"]: e["reason"] for e in repush["excluded"]}
    assert reasons[w.ids["ticket"]] == f"did not fail in push request {first_request}"
    assert reasons[w.ids["blocked"]].startswith("blocked")  # the other reasons still first
    second = make_plan(w, 20, "--pilot-share", "0", *NO_SANDBOX)
    assert bad in {o["org_id"] for o in second["waves"][0]["orgs"]}  # still on the old one
    announce_directly(w, second["id"], datetime.now(UTC), 1)
    assert run(w, "push", "schedule", second["id"], "--yes")[0] == 0
    w.sim.advance(timedelta(days=11))
    code, out, err = run(w, "push", "history", bad, "--json")
    assert code == 0, err
    doc = json.loads(out)[bad]
    assert [p["outcome"] for p in doc["pushes"]] == ["Failed", "Failed"]
    assert "ApexTestFailure" in doc["pushes"][0]["error_types"] and doc["failed_last_two"]
    good = w.extra[0]
    assert json.loads(run(w, "push", "history", good, "--json")[1])[good][
        "failed_last_two"] is False
    code, out, _err = run(w, "push", "history")
    assert code == 0 and "failed the last two" in out
    line = next(x for x in out.splitlines() if x.startswith(bad))
    assert line.endswith("failed the last two")
    request_id = saved(w, second["id"]).wave(1).request_id
    code, out, err = run(w, "push", "report", request_id, "--markdown")
    assert code == 0, err
    assert out.startswith(f"# Push upgrade ONB2 2.80.2: request {request_id}")
    assert "- Announced at " in out and "## Left out of the plan" in out
    assert "sandbox without a push ticket" in out and "excluded by the user: later" in out
    row = next(x for x in out.splitlines() if x.startswith(f"| {bad} |"))
    assert row.startswith(f"| {bad} | Zürcher Treuhand AG | production | 2.80.1 | Failed | ")
    assert "ApexTestFailure: Apex test failure" in row
    assert "\\[bold red\\]Evil\\[/\\] AG" in out  # untrusted names can't be markup
    assert out.count("| create_request | yes |") == 1 and "| start | yes |" in out
    code, _out, err = run(w, "push", "report", "0DV5g000000XXXX", "--markdown")
    assert code == 2 and "not in any push plan" in err


# -- sending the announcement (local SMTP server, STARTTLS) ------------------------------------
class Inbox:
    def __init__(self) -> None:
        self.envelopes: list = []

    async def handle_DATA(self, server, session, envelope) -> str:
        self.envelopes.append(envelope)
        return "250 OK"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def smtp_server(tmp_path: Path) -> Iterator[tuple[Inbox, int, str, list[bool]]]:
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult

    (tmp_path / "tls").mkdir()
    files = generate_ca(tmp_path / "tls")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(files.cert_path, files.key_path)
    logins: list[bool] = []

    def check(server, session, envelope, mechanism, auth_data) -> AuthResult:
        ok = auth_data.login == b"ops" and auth_data.password == b"s3cret-pw"
        logins.append(ok)
        return AuthResult(success=ok)

    inbox, port = Inbox(), free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port, tls_context=context,
                            require_starttls=True, authenticator=check,
                            auth_require_tls=True)
    controller.start()
    try:
        yield inbox, port, files.ca_path, logins
    finally:
        controller.stop()


def set_smtp(w: World, port: int, ca: str) -> None:
    store = w.store()
    for key, value in (("smtp_host", "127.0.0.1"), ("smtp_port", port), ("smtp_user", "ops"),
                       ("smtp_ca_bundle", ca)):
        store.set_setting(key, value)
    store.close()


def test_announce_send_over_starttls_with_the_keyring_password(
        w: World, tmp_path: Path, smtp_server: tuple[Inbox, int, str, list[bool]]) -> None:
    inbox, port, ca, logins = smtp_server
    plan = make_plan(w, 10, "--pilot-share", "0", *NO_SANDBOX)
    set_smtp(w, port, ca)
    code, _out, err = run(w, "push", "announce", plan["id"], "--out", str(tmp_path / "a"),
                          "--send")
    assert code == 2 and "no password for smtp:ops@127.0.0.1 in the keyring" in err
    assert saved(w, plan["id"]).wave(1).announced_at is None and inbox.envelopes == []
    w.creds.set("smtp:ops@127.0.0.1", "password", "s3cret-pw")
    code, out, err = run(w, "push", "announce", plan["id"], "--out", str(tmp_path / "b"),
                         "--send")
    assert code == 0, err
    assert f"sent 2 message(s) via 127.0.0.1:{port}" in out and logins == [True]
    rcpts = sorted(r for e in inbox.envelopes for r in e.rcpt_tos)
    assert rcpts == ["anna@zh.example", "bert@alpen.example"]
    received = message_from_bytes(inbox.envelopes[0].content, policy=email_policy)
    assert "version 2.80.2" in received.get_content()
    assert saved(w, plan["id"]).wave(1).announced_at is not None
    stored = w.db.read_text(encoding="utf-8")
    assert "s3cret-pw" not in stored


def test_announce_send_refuses_a_server_without_starttls(w: World, tmp_path: Path) -> None:
    from aiosmtpd.controller import Controller

    inbox, port = Inbox(), free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        plan = make_plan(w, 10, "--pilot-share", "0", *NO_SANDBOX)
        set_smtp(w, port, "")
        w.creds.set("smtp:ops@127.0.0.1", "password", "s3cret-pw")
        code, _out, err = run(w, "push", "announce", plan["id"], "--out", str(tmp_path / "c"),
                              "--send")
    finally:
        controller.stop()
    assert code == 2 and "offers no STARTTLS; nothing was sent" in err
    assert inbox.envelopes == [] and saved(w, plan["id"]).wave(1).announced_at is None


def test_a_wave_another_process_is_sending_is_not_sent_twice(w: World) -> None:
    plan = make_plan(w, 10, *NO_SANDBOX)
    announce_directly(w, plan["id"], datetime.now(UTC), 1)
    store = w.store()
    update_wave(store, plan["id"], 1, state="sending",
                claimed_at=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"))
    store.close()
    state = w.sim.push_state()
    code, _out, err = run(w, "push", "schedule", plan["id"], "--yes")
    assert code == 2 and "is being scheduled by another process" in err
    assert w.sim.push_state() == state
    store = w.store()  # that process died an hour ago: its claim has expired
    update_wave(store, plan["id"], 1, claimed_at=(datetime.now(UTC) - timedelta(hours=1)
                                                  ).strftime("%Y-%m-%dT%H:%M:%SZ"))
    store.close()
    code, _out, err = run(w, "push", "schedule", plan["id"], "--yes")
    assert code == 0, err
    assert saved(w, plan["id"]).wave(1).state == "scheduled"


def test_mistakes_without_a_packaging_org_are_one_line(tmp_path: Path) -> None:
    lone = World(None, tmp_path / "lone.json", open_credentials("memory"), {}, [], "", "")  # type: ignore[arg-type]
    Store.open(lone.db).close()
    for argv, expected in (
        (("push", "plan"), "no vendor packaging org is registered"),
        (("push", "schedule", "plan-x"), "no push plan plan-x"),
        (("push", "announce", "plan-x", "--out", str(tmp_path)), "no push plan plan-x"),
        (("push", "plan", "--at", "tomorrow"), "is not a date and time"),
        (("push", "abort", "0DV5g000000XXXX"), "no vendor packaging org is registered"),
        (("push", "history", "nonsense"), "is not an org ID"),
    ):
        code, _out, err = run(lone, *argv)
        assert code == 2 and expected in err and err.count("\n") == 1, (argv, err)
    code, out, _err = run(lone, "push", "status")
    assert code == 0 and "no push plans yet" in out
