"""The simulator as the packaging org for push upgrades, driven over HTTPS by simple-salesforce
(loopback only): every rule of simulator/vendor.py, composite/tree, the progression on the
simulator's clock, the subscriber upgrade, and the state the demo's daemon keeps."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import SalesforceGeneralError, SalesforceMalformedRequest

from juston_tui.simulator import CURRENT_VERSIONS, Simulator
from juston_tui.simulator import daemon as sim_daemon
from juston_tui.simulator.clock import SimClock
from juston_tui.simulator.ids import make_org_id
from juston_tui.simulator.push import FAILURES

V = "62.0"
ONB2 = CURRENT_VERSIONS["ONB2"]


@pytest.fixture
def sim() -> Iterator[Simulator]:
    with Simulator(scenario_set="demo") as s:
        yield s


def client(sim: Simulator, token: str | None = None) -> Salesforce:
    s = requests.Session()
    s.verify = sim.ca_path
    s.trust_env = False
    vendor = sim.vendor_org
    assert vendor is not None
    return Salesforce(instance_url=sim.url, session_id=token or vendor.access_token, version=V,
                      session=s)


def q(sf: Salesforce, soql: str) -> list[dict[str, Any]]:
    return sf.query_all(soql)["records"]


def version_id(sf: Salesforce, *, state: str = "Released", deprecated: bool = False,
               ns: str = "ONB2", patch: int | None = None) -> str:
    rows = q(sf, "SELECT Id, PatchVersion FROM MetadataPackageVersion WHERE "
                 f"MetadataPackage.NamespacePrefix = '{ns}' AND ReleaseState = '{state}' AND "
                 f"IsDeprecated = {'true' if deprecated else 'false'} "
                 "ORDER BY MajorVersion DESC, MinorVersion DESC, PatchVersion DESC")
    if patch is not None:
        rows = [r for r in rows if r["PatchVersion"] == patch]
    return str(rows[0]["Id"])


def org_id(sim: Simulator, name: str) -> str:
    return next(o.org_id for o in sim.orgs if o.name == name)


def create(sf: Salesforce, **fields: Any) -> str:
    return str(sf.restful("sobjects/PackagePushRequest/", method="POST", json=fields)["id"])


def tree(sf: Salesforce, request_id: str, orgs: list[str]) -> dict[str, Any]:
    return sf.restful("composite/tree/PackagePushJob/", method="POST", json={"records": [
        {"attributes": {"type": "PackagePushJob", "referenceId": o},
         "PackagePushRequestId": request_id, "SubscriberOrganizationKey": o} for o in orgs]})


def refused(call: Any) -> Any:
    with pytest.raises(SalesforceMalformedRequest) as info:
        call()
    return info.value.content


def patch(sf: Salesforce, request_id: str, **fields: Any) -> Any:
    return sf.restful(f"sobjects/PackagePushRequest/{request_id}", method="PATCH", json=fields)


def status(sf: Salesforce, request_id: str) -> dict[str, Any]:
    return q(sf, "SELECT Status, ScheduledStartTime, StartTime, EndTime, DurationSeconds FROM "
                 f"PackagePushRequest WHERE Id = '{request_id}'")[0]


def jobs(sf: Salesforce, request_id: str) -> dict[str, dict[str, Any]]:
    return {r["SubscriberOrganizationKey"]: r for r in q(
        sf, "SELECT Id, SubscriberOrganizationKey, Status, StartTime, EndTime, DurationSeconds, "
            "(SELECT ErrorSeverity, ErrorType, ErrorTitle, ErrorMessage, ErrorDetails FROM "
            f"PackagePushErrors) FROM PackagePushJob WHERE PackagePushRequestId = '{request_id}'")}


# ------------------------------------------------------------------------ PackagePushRequest


def test_create_request_answers_like_salesforce_and_starts_created(sim: Simulator) -> None:
    sf = client(sim)
    answer = sf.restful("sobjects/PackagePushRequest/", method="POST", json={
        "PackageVersionId": version_id(sf), "ScheduledStartTime": "2031-05-10T01:00:00Z"})
    assert answer["id"].startswith("0DV") and len(answer["id"]) == 18
    assert answer["success"] is True and answer["errors"] == []
    row = status(sf, answer["id"])
    assert row["Status"] == "Created"
    assert row["ScheduledStartTime"] == "2031-05-10T01:00:00.000+0000"
    assert row["StartTime"] is None and row["EndTime"] is None
    unscheduled = create(sf, PackageVersionId=version_id(sf))
    assert status(sf, unscheduled)["ScheduledStartTime"] is None


@pytest.mark.parametrize(("fields", "code", "field"), [
    ({"PackageVersionId": None}, "REQUIRED_FIELD_MISSING", "PackageVersionId"),
    ({"PackageVersionId": "not-an-id"}, "MALFORMED_ID", "PackageVersionId"),
    ({"PackageVersionId": "04t5g0000000000AAA"}, "INVALID_CROSS_REFERENCE_KEY",
     "PackageVersionId"),
    ({"Status": "Pending"}, "INVALID_OPERATION", "Status"),
    ({"ScheduledStartTime": "next Saturday"}, "JSON_PARSER_ERROR", "ScheduledStartTime"),
    ({"DurationSeconds": 5}, "INVALID_FIELD_FOR_INSERT_UPDATE", "DurationSeconds"),
])
def test_create_request_refusals(sim: Simulator, fields: dict[str, Any], code: str,
                                 field: str) -> None:
    sf = client(sim)
    body = {"PackageVersionId": version_id(sf), **fields}  # a valid request but for `fields`
    content = refused(lambda: sf.restful("sobjects/PackagePushRequest/", method="POST",
                                         json=body))
    assert content[0]["errorCode"] == code and content[0]["fields"] == [field]
    assert content[0]["message"]
    assert q(sf, "SELECT Id FROM PackagePushRequest WHERE CreatedDate = TODAY") == []


def test_only_a_released_non_deprecated_version_can_be_pushed(sim: Simulator) -> None:
    sf = client(sim)
    for vid in (version_id(sf, state="Beta"), version_id(sf, deprecated=True)):
        content = refused(lambda vid=vid: create(sf, PackageVersionId=vid))
        assert content[0]["errorCode"] == "INVALID_OPERATION"
        assert content[0]["fields"] == ["PackageVersionId"]
    content = refused(lambda: sf.restful("sobjects/PackagePushRequest/", method="POST",
                                         json={"PackageVersionId": version_id(sf), "Foo": 1}))
    assert content[0]["errorCode"] == "INVALID_FIELD"


def test_status_rules_for_start_and_abort(sim: Simulator) -> None:
    sf = client(sim)
    target = version_id(sf)
    later = (sim.now + timedelta(days=7)).strftime("%Y-%m-%dT%H:%M:%SZ")
    # Canceled from Created, and the old spelling "Cancelled" means the same.
    created = create(sf, PackageVersionId=target)
    assert patch(sf, created, Status="Cancelled") is None
    assert status(sf, created)["Status"] == "Canceled"
    # Canceled from Pending cancels the jobs too.
    pending = create(sf, PackageVersionId=target, ScheduledStartTime=later)
    alpen = org_id(sim, "Alpenblick Versicherung AG")
    tree(sf, pending, [alpen])
    patch(sf, pending, Status="Pending")
    assert status(sf, pending)["Status"] == "Pending"
    assert jobs(sf, pending)[alpen]["Status"] == "Pending"
    patch(sf, pending, Status="Canceled")
    assert status(sf, pending)["Status"] == "Canceled"
    assert jobs(sf, pending)[alpen]["Status"] == "Canceled"
    # Nothing starts a canceled request again, and a client can't set Salesforce's states.
    for wanted in ("Pending", "Canceled", "Succeeded", "In Progress"):
        content = refused(lambda wanted=wanted: patch(sf, created, Status=wanted))
        assert content[0]["errorCode"] == "INVALID_OPERATION", wanted
    content = refused(lambda: patch(sf, create(sf, PackageVersionId=target), Status="Done"))
    assert content[0] == {"errorCode": "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
                          "message": "Status: bad value for restricted picklist field: Done",
                          "fields": ["Status"]}
    content = refused(lambda: patch(sf, create(sf, PackageVersionId=target),
                                    Status="Succeeded"))
    assert content[0]["errorCode"] == "INVALID_OPERATION"


def test_a_started_request_can_not_be_canceled_or_changed(sim: Simulator) -> None:
    sf = client(sim)
    request = create(sf, PackageVersionId=version_id(sf))
    tree(sf, request, [org_id(sim, "Zürcher Treuhand AG")])
    patch(sf, request, Status="Pending")  # no start time: it starts at once
    assert status(sf, request)["Status"] == "In Progress"
    content = refused(lambda: patch(sf, request, Status="Canceled"))
    assert content[0]["errorCode"] == "INVALID_OPERATION"
    assert "In Progress" in content[0]["message"]
    content = refused(lambda: patch(sf, request,
                                    ScheduledStartTime="2031-01-01T00:00:00Z"))
    assert content[0]["errorCode"] == "INVALID_OPERATION"
    sim.advance(timedelta(hours=1))
    assert status(sf, request)["Status"] == "Succeeded"
    content = refused(lambda: patch(sf, request, Status="Canceled"))
    assert "Succeeded" in content[0]["message"]


def test_push_objects_can_not_be_deleted_and_job_status_is_read_only(sim: Simulator) -> None:
    sf = client(sim)
    request = create(sf, PackageVersionId=version_id(sf))
    job = tree(sf, request, [org_id(sim, "Zürcher Treuhand AG")])["results"][0]["id"]
    with pytest.raises(SalesforceGeneralError) as info:
        sf.restful(f"sobjects/PackagePushRequest/{request}", method="DELETE")
    assert info.value.status == 405
    assert info.value.content[0]["errorCode"] == "METHOD_NOT_ALLOWED"
    content = refused(lambda: sf.restful(f"sobjects/PackagePushJob/{job}", method="PATCH",
                                         json={"Status": "Succeeded"}))
    assert content[0]["errorCode"] == "INVALID_FIELD_FOR_INSERT_UPDATE"
    assert content[0]["fields"] == ["Status"]
    content = refused(lambda: sf.restful("sobjects/PackagePushError/", method="POST",
                                         json={"PackagePushJobId": job}))
    assert content[0]["errorCode"] == "INVALID_OPERATION"


# ------------------------------------------------------------------------ PackagePushJob


def test_tree_inserts_all_records_and_answers_with_their_ids(sim: Simulator) -> None:
    sf = client(sim)
    request = create(sf, PackageVersionId=version_id(sf))
    orgs = [org_id(sim, "Alpenblick Versicherung AG"), org_id(sim, "Zürcher Treuhand AG")]
    answer = tree(sf, request, orgs)
    assert answer["hasErrors"] is False
    assert [r["referenceId"] for r in answer["results"]] == orgs
    assert all(r["id"].startswith("0DX") for r in answer["results"])
    assert {k: r["Status"] for k, r in jobs(sf, request).items()} == dict.fromkeys(orgs,
                                                                                  "Created")
    # A plain sObject create works too, with the sObject answer.
    single = sf.restful("sobjects/PackagePushJob/", method="POST", json={
        "PackagePushRequestId": request,
        "SubscriberOrganizationKey": org_id(sim, "Brandt & Söhne KG")})
    assert single["success"] is True and single["id"].startswith("0DX")


def test_tree_is_all_or_nothing_with_each_rejection_as_salesforce_reports_it(
        sim: Simulator) -> None:
    sf = client(sim)
    request = create(sf, PackageVersionId=version_id(sf))
    good = org_id(sim, "Alpenblick Versicherung AG")
    inactive = sim.add_subscriber(status="Inactive")
    uninstalled = sim.add_subscriber(installed=False)
    current = org_id(sim, "Müller Logistik GmbH")  # on the target version already
    blocked = org_id(sim, "Schneider Energie AG")  # blocks push upgrades (demo facts)
    stranger = make_org_id("not a subscriber")
    duplicate = org_id(sim, "Zürcher Treuhand AG")
    orgs = [good, inactive, uninstalled, current, blocked, stranger, duplicate]
    content = refused(lambda: sf.restful(
        "composite/tree/PackagePushJob/", method="POST", json={"records": [
            {"attributes": {"type": "PackagePushJob", "referenceId": f"r{n}"},
             "PackagePushRequestId": request, "SubscriberOrganizationKey": o}
            for n, o in enumerate([*orgs, duplicate])]}))
    assert content["hasErrors"] is True
    by_ref = {r["referenceId"]: r["errors"] for r in content["results"]}
    assert "r0" not in by_ref and "r6" not in by_ref  # only the records that failed
    for ref in ("r1", "r2", "r3", "r4", "r5"):
        (error,) = by_ref[ref]
        assert error["statusCode"] == "INVALID_OPERATION"
        assert error["fields"] == ["SubscriberOrganizationKey"] and error["message"]
    assert "inactive" in by_ref["r1"][0]["message"]
    assert "not lower" in by_ref["r3"][0]["message"]
    assert "blocks push upgrades" in by_ref["r4"][0]["message"]
    assert by_ref["r7"][0]["statusCode"] == "DUPLICATE_VALUE"
    assert jobs(sf, request) == {}  # nothing went in
    # The same batch without the refused orgs goes in; a second job for an org is a duplicate.
    assert len(tree(sf, request, [good, duplicate])["results"]) == 2
    content = refused(lambda: tree(sf, request, [duplicate]))
    assert content["results"][0]["errors"][0]["statusCode"] == "DUPLICATE_VALUE"
    assert content["results"][0]["errors"][0]["message"].startswith(
        "duplicate value found: SubscriberOrganizationKey duplicates value on record with id: "
        "0DX")


def test_tree_reports_only_the_first_failing_record_when_told(sim: Simulator) -> None:
    sf = client(sim)
    request = create(sf, PackageVersionId=version_id(sf))
    current = [org_id(sim, "Müller Logistik GmbH"), org_id(sim, "Hofmann Medizintechnik GmbH")]
    sim.tree_errors = "first"
    content = refused(lambda: tree(sf, request, current))
    assert [r["referenceId"] for r in content["results"]] == current[:1]


def test_tree_limits_and_references(sim: Simulator) -> None:
    sf = client(sim)
    request = create(sf, PackageVersionId=version_id(sf))
    keys = [sim.add_subscriber() for _ in range(201)]
    content = refused(lambda: tree(sf, request, keys))
    assert content[0]["errorCode"] == "LIMIT_EXCEEDED"
    assert len(tree(sf, request, keys[:200])["results"]) == 200
    content = refused(lambda: sf.restful("composite/tree/PackagePushJob/", method="POST", json={
        "records": [{"attributes": {"type": "PackagePushJob", "referenceId": "same"},
                     "PackagePushRequestId": request, "SubscriberOrganizationKey": k}
                    for k in keys[200:]] * 2}))
    assert {e["statusCode"] for r in content["results"] for e in r["errors"]} == {
        "INVALID_INPUT"}
    content = refused(lambda: sf.restful("composite/tree/PackagePushJob/", method="POST", json={
        "records": [{"attributes": {"type": "Account", "referenceId": "a1"}}]}))
    assert content["results"][0]["errors"][0]["statusCode"] == "INVALID_INPUT"


def test_jobs_only_join_a_created_request(sim: Simulator) -> None:
    sf = client(sim)
    request = create(sf, PackageVersionId=version_id(sf),
                     ScheduledStartTime="2031-05-10T01:00:00Z")
    tree(sf, request, [org_id(sim, "Alpenblick Versicherung AG")])
    patch(sf, request, Status="Pending")
    content = refused(lambda: tree(sf, request, [org_id(sim, "Zürcher Treuhand AG")]))
    (error,) = content["results"][0]["errors"]
    assert error["statusCode"] == "INVALID_OPERATION"
    assert error["fields"] == ["PackagePushRequestId"]  # the request's problem, not the org's
    content = refused(lambda: tree(sf, "0DV5g0000000000AAA", [org_id(sim, "Zürcher Treuhand AG")]))
    assert content["results"][0]["errors"][0]["statusCode"] == "INVALID_CROSS_REFERENCE_KEY"
    content = refused(lambda: sf.restful("sobjects/PackagePushJob/", method="POST", json={
        "PackagePushRequestId": create(sf, PackageVersionId=version_id(sf))}))
    assert content[0]["errorCode"] == "REQUIRED_FIELD_MISSING"
    assert content[0]["fields"] == ["SubscriberOrganizationKey"]


# ------------------------------------------------------------------------ progression


def test_a_push_runs_on_the_clock_and_upgrades_its_subscribers(sim: Simulator) -> None:
    sf = client(sim)
    alpen, zurich = org_id(sim, "Alpenblick Versicherung AG"), org_id(sim, "Zürcher Treuhand AG")
    start = (sim.now + timedelta(hours=2)).replace(microsecond=0)
    request = create(sf, PackageVersionId=version_id(sf),
                     ScheduledStartTime=start.strftime("%Y-%m-%dT%H:%M:%SZ"))
    tree(sf, request, [alpen, zurich])
    patch(sf, request, Status="Pending")
    sim.advance(timedelta(hours=1))
    assert status(sf, request)["Status"] == "Pending"  # not before its ScheduledStartTime
    sim.advance(timedelta(hours=1))
    row = status(sf, request)
    assert row["Status"] == "In Progress"
    assert row["StartTime"] == start.strftime("%Y-%m-%dT%H:%M:%S.000+0000")
    assert {j["Status"] for j in jobs(sf, request).values()} == {"In Progress"}
    sim.advance(timedelta(minutes=10))
    row = status(sf, request)
    done = jobs(sf, request)
    # Alpenblick's job failed last time and fails again (demo facts); Zürcher's succeeds.
    assert done[alpen]["Status"] == "Failed" and done[zurich]["Status"] == "Succeeded"
    assert row["Status"] == "Succeeded"  # ran to its end with one job succeeded
    assert row["EndTime"] and row["DurationSeconds"] == max(
        j["DurationSeconds"] for j in done.values())
    for job in done.values():
        assert job["StartTime"] and job["EndTime"] and 90 <= job["DurationSeconds"] <= 300
    errors = done[alpen]["PackagePushErrors"]["records"]
    assert [(e["ErrorSeverity"], e["ErrorType"]) for e in errors] == [
        ("Error", "ApexTestFailure"), ("Warning", "FeatureMissing")]
    assert done[zurich]["PackagePushErrors"] is None
    # The upgraded org runs the target version: the packaging org and the org itself say so.
    sub = q(sf, "SELECT MetadataPackageVersion.PatchVersion, MetadataPackageVersion.Name FROM "
                f"PackageSubscriber WHERE OrgKey = '{zurich}' AND "
                "MetadataPackage.NamespacePrefix = 'ONB2'")[0]["MetadataPackageVersion"]
    assert (sub["Name"], sub["PatchVersion"]) == (ONB2.name, ONB2.patch)
    own = client(sim, sim.org(zurich).access_token).toolingexecute(
        "query/?q=SELECT+SubscriberPackageVersion.PatchVersion,+SubscriberPackage.NamespacePrefix"
        "+FROM+InstalledSubscriberPackage")["records"]
    billing = next(r for r in own if r["SubscriberPackage"]["NamespacePrefix"] == "ONB2")
    assert billing["SubscriberPackageVersion"]["PatchVersion"] == ONB2.patch
    assert sim.org(zurich).version("ONB2") == ONB2
    failed = q(sf, f"SELECT MetadataPackageVersion.PatchVersion FROM PackageSubscriber WHERE "
                   f"OrgKey = '{alpen}' AND MetadataPackage.NamespacePrefix = 'ONB2'")[0]
    assert failed["MetadataPackageVersion"]["PatchVersion"] == 1  # still on 2.80.1


def test_every_error_type_and_a_request_where_every_job_failed(sim: Simulator) -> None:
    sf = client(sim)
    keys = [sim.add_subscriber() for _ in FAILURES]
    for key, error_type in zip(keys, FAILURES, strict=True):
        sim.set_push_outcome(key, error_type)
    request = create(sf, PackageVersionId=version_id(sf))
    tree(sf, request, keys)
    patch(sf, request, Status="Pending")
    sim.advance(timedelta(minutes=30))
    assert status(sf, request)["Status"] == "Failed"
    done = jobs(sf, request)
    for key, failure in zip(keys, FAILURES.values(), strict=True):
        error = done[key]["PackagePushErrors"]["records"][0]
        assert (error["ErrorType"], error["ErrorTitle"], error["ErrorMessage"],
                error["ErrorDetails"], error["ErrorSeverity"]) == (
            failure.type, failure.title, failure.message, failure.details, failure.severity)
    failed = sf.query("SELECT COUNT() FROM PackagePushJob WHERE PackagePushRequestId = "
                      f"'{request}' AND Status = 'Failed'")  # as Salesforce CLI counts
    assert failed["totalSize"] == len(FAILURES)


def test_a_beta_install_gets_its_job_and_fails_as_ineligible(sim: Simulator) -> None:
    sf = client(sim)
    beta = sim.add_subscriber(version=ONB2, beta=True)  # the beta of the target's own number
    request = create(sf, PackageVersionId=version_id(sf))
    tree(sf, request, [beta])
    patch(sf, request, Status="Pending")
    sim.advance(timedelta(minutes=10))
    error = jobs(sf, request)[beta]["PackagePushErrors"]["records"][0]
    assert (error["ErrorType"], error["ErrorTitle"]) == ("IneligibleUpgrade",
                                                         "Cannot upgrade beta package")


def test_a_request_without_jobs_and_the_seeded_pending_push(sim: Simulator) -> None:
    sf = client(sim)
    empty = create(sf, PackageVersionId=version_id(sf))
    patch(sf, empty, Status="Pending")
    assert status(sf, empty)["Status"] == "Succeeded"
    seeded = q(sf, "SELECT Id, ScheduledStartTime FROM PackagePushRequest WHERE "
                   "Status = 'Pending'")
    assert len(seeded) == 1  # the demo's next cash push, weeks ahead
    sim.advance(timedelta(days=40))
    row = status(sf, seeded[0]["Id"])
    assert row["StartTime"] == seeded[0]["ScheduledStartTime"]
    # Its only job is Alpenblick's, whose pushes fail (demo facts): no job succeeded.
    assert [j["Status"] for j in jobs(sf, seeded[0]["Id"]).values()] == ["Failed"]
    assert row["Status"] == "Failed"


def test_demo_subscriber_blocks_push_upgrades(sim: Simulator) -> None:
    sf = client(sim)
    blocked = q(sf, "SELECT OrgName, CustomUpgradeType FROM PackageSubscriber WHERE "
                    "HasRestrictionEnabled = true")
    assert blocked == [{"attributes": blocked[0]["attributes"], "OrgName": "Schneider Energie AG",
                        "CustomUpgradeType": "BlockedBySubscriber"}]
    customization = q(sf, "SELECT CustomUpgradeType, HasRestrictionEnabled, "
                          "IsCustomUpgradeAllowed, IsRestrictionOverridden, ExpirationDays FROM "
                          "PushUpgradeCustomization")
    assert [(c["CustomUpgradeType"], c["HasRestrictionEnabled"], c["IsCustomUpgradeAllowed"])
            for c in customization] == [("BlockedBySubscriber", True, True)]
    schneider = org_id(sim, "Schneider Energie AG")
    sim.block_pushes(schneider, blocked=False)
    request = create(sf, PackageVersionId=version_id(sf))
    assert tree(sf, request, [schneider])["hasErrors"] is False
    with pytest.raises(SalesforceMalformedRequest):  # subscribers have no push objects
        client(sim, sim.org(schneider).access_token).query("SELECT Id FROM PackagePushRequest")


# ------------------------------------------------------------------------ the clock, state


def test_clock_manual_and_wall(monkeypatch: pytest.MonkeyPatch) -> None:
    start = datetime(2030, 1, 5, 1, 0, tzinfo=UTC)
    manual = SimClock(start)
    assert manual.now() == start and manual.manual
    assert manual.advance(timedelta(minutes=5)) == start + timedelta(minutes=5)
    with pytest.raises(ValueError, match="backwards"):
        manual.advance(timedelta(seconds=-1))
    with pytest.raises(ValueError, match="backwards"):
        manual.set(start)
    ticks = iter([100.0, 100.0, 102.5])
    monkeypatch.setattr("juston_tui.simulator.clock.time.monotonic", lambda: next(ticks))
    wall = SimClock(start, speed=60)  # reads 100.0
    assert wall.now() == start  # 100.0
    assert wall.now() == start + timedelta(seconds=150)  # 2.5 s at 60x
    with pytest.raises(ValueError):
        SimClock(start, speed=0)


def test_push_state_round_trip_into_a_new_simulator(sim: Simulator) -> None:
    sf = client(sim)
    zurich = org_id(sim, "Zürcher Treuhand AG")
    request = create(sf, PackageVersionId=version_id(sf))
    tree(sf, request, [zurich, org_id(sim, "Alpenblick Versicherung AG")])
    patch(sf, request, Status="Pending")
    sim.advance(timedelta(seconds=100))  # under way: some jobs may be running
    doc = json.loads(json.dumps(sim.push_state()))
    with Simulator(scenario_set="demo", clock=SimClock(sim.now)) as again:
        assert again.org(zurich).version("ONB2") != ONB2  # the fresh one knows nothing yet
        again.restore_push_state(doc)
        sf2 = client(again)
        assert status(sf2, request)["Status"] == "In Progress"
        again.advance(timedelta(hours=1))
        assert status(sf2, request)["Status"] == "Succeeded"
        assert again.org(zurich).version("ONB2") == ONB2
        with pytest.raises(ValueError):
            again.restore_push_state({**doc, "vendor": make_org_id("another vendor")})
        with pytest.raises(ValueError):
            again.restore_push_state({**doc, "tables": {"PackagePushRequest": [{"Nope": 1}]}})
        assert status(sf2, request)["Status"] == "Succeeded"  # a refused state changes nothing


def test_daemon_keeps_push_state_across_restarts(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "sim"
    monkeypatch.setenv(sim_daemon.SPEED_ENV, "1")

    def run() -> tuple[threading.Thread, threading.Event]:
        stop = threading.Event()
        thread = threading.Thread(target=sim_daemon.serve, args=(folder,),
                                  kwargs={"idle": 600, "stop": stop}, daemon=True)
        (folder / sim_daemon.STATE).unlink(missing_ok=True)
        thread.start()
        deadline = time.monotonic() + 30
        while not (folder / sim_daemon.STATE).exists():
            assert time.monotonic() < deadline, "the daemon did not start"
            time.sleep(0.02)
        return thread, stop

    def vendor_client() -> Salesforce:
        state = json.loads((folder / sim_daemon.STATE).read_text())
        orgs = json.loads((folder / "orgs.json").read_text())["orgs"]
        token = next(o["access_token"] for o in orgs if o["scenario"] == "vendor")
        s = requests.Session()
        s.verify = state["ca_path"]
        s.trust_env = False
        return Salesforce(instance_url=state["url"], session_id=token, version=V, session=s)

    thread, stop = run()
    sf = vendor_client()
    request = create(sf, PackageVersionId=version_id(sf),
                     ScheduledStartTime="2031-05-10T01:00:00Z")
    orgs = json.loads((folder / "orgs.json").read_text())["orgs"]
    zurich = next(o["org_id"] for o in orgs if o["name"] == "Zürcher Treuhand AG")
    tree(sf, request, [zurich])
    saved = json.loads((folder / sim_daemon.PUSH_STATE).read_text())  # written before answering
    assert any(r["Id"] == request for r in saved["tables"]["PackagePushRequest"])
    assert (folder / sim_daemon.PUSH_STATE).stat().st_mode & 0o777 == 0o600
    stop.set()
    thread.join(10)

    thread, stop = run()
    sf = vendor_client()
    assert status(sf, request)["Status"] == "Created"
    assert list(jobs(sf, request)) == [zurich]
    stop.set()
    thread.join(10)

    (folder / sim_daemon.PUSH_STATE).write_text('{"format": 1, "vendor": "x"')  # damaged
    thread, stop = run()
    try:
        sf = vendor_client()
        assert q(sf, f"SELECT Id FROM PackagePushRequest WHERE Id = '{request}'") == []
        aside = list(folder.glob(f"{sim_daemon.PUSH_STATE}.damaged-*"))
        assert len(aside) == 1 and aside[0].read_text().startswith('{"format": 1')
    finally:
        stop.set()
        thread.join(10)
