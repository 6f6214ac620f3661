"""juston_tui.salesforce.push_api against the simulator's packaging org (real HTTPS, loopback):
batching with dropped orgs, the all-or-nothing batch, the request-level stop, the passing
failure, start/cancel and their refusals, and reading requests while they run."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest

from juston_tui.credentials import CredentialStore, open_credentials
from juston_tui.demo import register_simulator_orgs
from juston_tui.model import Org
from juston_tui.salesforce.connection import OrgConnection
from juston_tui.salesforce.errors import AccessError
from juston_tui.salesforce.push_api import (
    BatchProgress,
    JobInsertError,
    PushApiError,
    PushReader,
    PushStateError,
    PushWriter,
    normalize_status,
)
from juston_tui.simulator import CURRENT_VERSIONS, Simulator
from juston_tui.simulator.data import version_id
from juston_tui.simulator.ids import make_org_id
from juston_tui.simulator.scenarios import Version

TARGET = version_id("ONB2", CURRENT_VERSIONS["ONB2"])
BETA = version_id("ONB2", Version(2, 81, 1, 3))  # the vendor org's beta (simulator data)


@pytest.fixture
def sim() -> Iterator[Simulator]:
    with Simulator(scenario_set="demo") as s:
        yield s


@pytest.fixture
def creds() -> CredentialStore:
    return open_credentials("memory")


def vendor(sim: Simulator, creds: CredentialStore, method: str = "token") -> Org:
    assert sim.vendor_org is not None
    return register_simulator_orgs(None, creds, sim, [sim.vendor_org], method=method)[0]


@pytest.fixture
def conn(sim: Simulator, creds: CredentialStore) -> Iterator[OrgConnection]:
    with OrgConnection(vendor(sim, creds), creds, timeout=20) as c:
        yield c


def jobs_in_simulator(sim: Simulator, request_id: str) -> set[str]:
    return {str(j["SubscriberOrganizationKey"]) for j in sim.push.jobs(request_id)}


def test_create_request_and_its_refusals(conn: OrgConnection, sim: Simulator) -> None:
    writer = PushWriter(conn)
    request_id = writer.create_request(TARGET, sim.now + timedelta(days=3))
    assert request_id.startswith("0DV")
    info = PushReader(conn).request(request_id)
    assert info.status == "Created" and info.version_id == TARGET and info.jobs == ()
    assert info.scheduled_start is not None
    assert info.scheduled_start.replace(microsecond=0) == (
        sim.now + timedelta(days=3)).replace(microsecond=0)
    with pytest.raises(PushApiError) as refused:
        writer.create_request(BETA)
    assert refused.value.code == "INVALID_OPERATION"
    assert refused.value.fields == ("PackageVersionId",) and "beta" in str(refused.value)
    with pytest.raises(ValueError, match="time zone"):
        writer.create_request(TARGET, sim.now.replace(tzinfo=None))


def test_batches_of_200_drop_refused_orgs_with_their_reason(conn: OrgConnection,
                                                            sim: Simulator) -> None:
    good = [sim.add_subscriber() for _ in range(430)]
    inactive = [sim.add_subscriber(status="Inactive") for _ in range(3)]
    current = [sim.add_subscriber(version=CURRENT_VERSIONS["ONB2"]) for _ in range(2)]
    blocked = next(o.org_id for o in sim.orgs if o.name == "Schneider Energie AG")
    stranger = make_org_id("not a subscriber")
    bad = [*inactive, *current, blocked, stranger]
    orgs = good[:150] + bad[:3] + good[150:300] + bad[3:] + good[300:]
    writer = PushWriter(conn)
    request_id = writer.create_request(TARGET)
    progress: list[BatchProgress] = []
    before = sim.request_count(sim.vendor_org.org_id)  # type: ignore[union-attr]
    result = writer.insert_jobs(request_id, [o[:15] for o in orgs] + good[:5],  # 15 chars,
                                on_batch=progress.append)                       # duplicates
    assert result.org_ids == tuple(good)  # every good org, in order, once
    assert {d.org_id for d in result.dropped} == set(bad)
    reasons = {d.org_id: (d.code, d.message) for d in result.dropped}
    assert all(code == "INVALID_OPERATION" for code, _m in reasons.values())
    assert "inactive" in reasons[inactive[0]][1] and "not lower" in reasons[current[0]][1]
    assert "blocks push upgrades" in reasons[blocked][1]
    assert "not a subscriber" in reasons[stranger][1]
    # 3 batches (200, 200, 37); the first two had refused orgs and went again without them.
    assert [p.batch for p in progress] == [1, 2, 3] and progress[-1].batches == 3
    assert result.round_trips == 5 == sim.request_count(
        sim.vendor_org.org_id) - before  # type: ignore[union-attr]
    # All or nothing: no failed batch left a job behind (a good org would then be a duplicate).
    assert jobs_in_simulator(sim, request_id) == set(good)
    assert result.not_sent == ()


def test_one_refused_org_a_time_still_gets_every_other_org_in(conn: OrgConnection,
                                                              sim: Simulator) -> None:
    sim.tree_errors = "first"  # Salesforce may name only the first record that failed
    good = [sim.add_subscriber() for _ in range(20)]
    bad = [sim.add_subscriber(status="Inactive") for _ in range(3)]
    writer = PushWriter(conn)
    request_id = writer.create_request(TARGET)
    result = writer.insert_jobs(request_id, good + bad)
    assert result.org_ids == tuple(good) and {d.org_id for d in result.dropped} == set(bad)
    assert result.round_trips == 4  # one more per refused org
    assert jobs_in_simulator(sim, request_id) == set(good)


def test_a_duplicate_job_is_dropped_as_duplicate_value(conn: OrgConnection,
                                                       sim: Simulator) -> None:
    orgs = [sim.add_subscriber() for _ in range(3)]
    writer = PushWriter(conn)
    request_id = writer.create_request(TARGET)
    writer.insert_jobs(request_id, orgs[:1])
    result = writer.insert_jobs(request_id, orgs)
    assert result.org_ids == tuple(orgs[1:])
    assert [(d.org_id, d.code) for d in result.dropped] == [(orgs[0], "DUPLICATE_VALUE")]


def test_a_refusal_of_the_request_stops_with_nothing_dropped(conn: OrgConnection,
                                                             sim: Simulator) -> None:
    orgs = [sim.add_subscriber() for _ in range(5)]
    writer = PushWriter(conn)
    request_id = writer.create_request(TARGET, sim.now + timedelta(days=2))
    writer.insert_jobs(request_id, orgs[:2])
    writer.start(request_id)  # Pending: no more jobs
    with pytest.raises(JobInsertError) as stopped:
        writer.insert_jobs(request_id, orgs[2:])
    error = stopped.value
    assert error.code == "INVALID_OPERATION" and error.fields == ("PackagePushRequestId",)
    assert error.partial.jobs == () and error.partial.dropped == ()
    assert error.partial.not_sent == tuple(orgs[2:])
    assert isinstance(error, AccessError)  # callers that only catch AccessError still do
    with pytest.raises(ValueError, match="not org ids"):
        writer.insert_jobs(request_id, ["acme"])


def test_the_passing_failure_retries_the_whole_batch(conn: OrgConnection,
                                                     sim: Simulator) -> None:
    orgs = [sim.add_subscriber() for _ in range(4)]
    writer = PushWriter(conn)
    request_id = writer.create_request(TARGET)
    sim.glitch_tree_inserts(2)
    result = writer.insert_jobs(request_id, orgs)
    assert result.org_ids == tuple(orgs) and result.dropped == () and result.round_trips == 3
    sim.glitch_tree_inserts(10)
    with pytest.raises(JobInsertError) as stopped:
        writer.insert_jobs(writer.create_request(TARGET), [sim.add_subscriber()])
    assert stopped.value.code == "UNKNOWN_EXCEPTION"
    assert stopped.value.partial.round_trips == 4  # the try and three retries


def test_no_answer_stops_with_what_was_done(conn: OrgConnection, sim: Simulator) -> None:
    orgs = [sim.add_subscriber() for _ in range(5)]
    writer = PushWriter(conn)
    request_id = writer.create_request(TARGET)
    vendor_id = sim.vendor_org.org_id  # type: ignore[union-attr]
    sim.set_fault(vendor_id, "server_error", count=1)
    try:
        with pytest.raises(JobInsertError) as stopped:
            writer.insert_jobs(request_id, orgs, batch_size=2)
    finally:
        sim.clear_faults(vendor_id)
    assert stopped.value.code == ""  # no answer from the tree: Salesforce's 500 in the text
    assert str(stopped.value).startswith("UNKNOWN_EXCEPTION: An unexpected error occurred")
    assert stopped.value.partial.not_sent == tuple(orgs)


def test_an_expired_session_logs_in_again_mid_insert(sim: Simulator,
                                                     creds: CredentialStore) -> None:
    orgs = [sim.add_subscriber() for _ in range(3)]
    org = vendor(sim, creds, "jwt")
    with OrgConnection(org, creds, timeout=20) as conn:
        writer = PushWriter(conn)
        request_id = writer.create_request(TARGET)
        sim.set_fault(org.org_id, "expire_session", count=1)
        result = writer.insert_jobs(request_id, orgs)
        assert result.org_ids == tuple(orgs) and conn.logins == 2


def test_start_cancel_and_the_abort_states(conn: OrgConnection, sim: Simulator) -> None:
    orgs = [sim.add_subscriber() for _ in range(3)]
    writer, reader = PushWriter(conn), PushReader(conn)
    created = writer.create_request(TARGET)
    writer.cancel(created)
    assert reader.request(created).status == "Canceled"
    with pytest.raises(PushStateError) as again:
        writer.cancel(created)
    assert again.value.status == "Canceled" and "only Created or Pending" in str(again.value)
    pending = writer.create_request(TARGET, sim.now + timedelta(days=1))
    writer.insert_jobs(pending, orgs)
    writer.start(pending)
    assert reader.request(pending).counts == {"Pending": 3}
    writer.cancel(pending)
    assert reader.request(pending).counts == {"Canceled": 3}
    running = writer.create_request(TARGET)
    writer.insert_jobs(running, orgs)
    writer.start(running)  # no start time: at once
    with pytest.raises(PushStateError) as refused:
        writer.cancel(running)
    assert refused.value.status == "In Progress"
    assert str(refused.value).startswith(f"can't cancel push request {running}: it is In "
                                         "Progress")
    with pytest.raises(PushStateError) as twice:
        writer.start(running)
    assert twice.value.status == "In Progress"


def test_reading_requests_while_they_run(conn: OrgConnection, sim: Simulator) -> None:
    ok = [sim.add_subscriber() for _ in range(3)]
    failing = [sim.add_subscriber() for _ in range(2)]
    sim.set_push_outcome(failing[0], "DeployError")
    sim.set_push_outcome(failing[1], "LimitExceeded")
    writer, reader = PushWriter(conn), PushReader(conn)
    first = writer.create_request(TARGET)
    second = writer.create_request(TARGET, sim.now + timedelta(days=7))
    writer.insert_jobs(first, ok + failing)
    writer.insert_jobs(second, [sim.add_subscriber()])
    writer.start(first)
    vendor_id = sim.vendor_org.org_id  # type: ignore[union-attr]
    before = sim.request_count(vendor_id)
    found = reader.requests([first, second, "0DV5g0000000000AAA"])
    assert sim.request_count(vendor_id) - before == 1  # one composite for all of it
    assert set(found) == {first, second}  # an unknown id is absent
    assert found[first].status == "In Progress" and not found[first].ended
    assert found[second].status == "Created" and found[second].counts == {"Created": 1}
    sim.advance(timedelta(hours=1))
    done = reader.request(first)
    assert done.ended and done.status == "Succeeded"
    assert done.counts == {"Succeeded": 3, "Failed": 2}
    assert done.start_time is not None and done.end_time is not None
    assert done.duration_seconds == int((done.end_time - done.start_time).total_seconds())
    assert sorted(done.errors_by_type) == ["DeployError", "LimitExceeded"]
    deploy = done.errors_by_type["DeployError"][0]
    assert (deploy.org_id, deploy.title, deploy.details) == (
        failing[0], "Deployment Failure", "0,,,20,AuraDefinitionBundle")
    assert done.job(failing[1][:15]).status == "Failed"  # type: ignore[union-attr]
    assert done.job(ok[0]).errors == ()  # type: ignore[union-attr]
    with pytest.raises(KeyError):
        reader.request("0DV5g0000000000AAA")


def test_reads_page_through_many_jobs(conn: OrgConnection, sim: Simulator) -> None:
    orgs = [sim.add_subscriber() for _ in range(25)]
    writer = PushWriter(conn)
    request_id = writer.create_request(TARGET)
    writer.insert_jobs(request_id, orgs)
    sim.batch_size = 10  # every query now needs pages
    vendor_id = sim.vendor_org.org_id  # type: ignore[union-attr]
    before = sim.request_count(vendor_id)
    info = PushReader(conn).request(request_id)
    assert len(info.jobs) == 25 and {j.org_id for j in info.jobs} == set(orgs)
    assert sim.request_count(vendor_id) - before == 3  # the composite, then two job pages


def test_reads_of_a_subscriber_org_say_what_is_wrong(sim: Simulator,
                                                     creds: CredentialStore) -> None:
    healthy = next(o for o in sim.orgs if o.scenario == "healthy")
    org = register_simulator_orgs(None, creds, sim, [healthy], method="token")[0]
    with OrgConnection(org, creds, timeout=20) as conn, pytest.raises(AccessError) as failed:
        PushReader(conn).requests(["0DV5g0000000000AAA"])
    assert "INVALID_TYPE" in str(failed.value) and "packaging org" in str(failed.value)


def test_status_spellings() -> None:
    assert normalize_status("Cancelled") == "Canceled"
    assert normalize_status("In Progress") == "In Progress"
