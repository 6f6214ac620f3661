"""The real client (simple-salesforce over HTTPS) against the simulator: scenarios, auth, faults."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterator

import certifi
import pytest
from store_files import FullDisk

from juston_tui.credentials import CredentialStore, open_credentials
from juston_tui.demo import register_simulator_orgs
from juston_tui.model import CHECK_IDS, Org
from juston_tui.salesforce.checks import diagnose
from juston_tui.salesforce.connection import connect
from juston_tui.salesforce.errors import AuthError
from juston_tui.salesforce.facts import Facts
from juston_tui.salesforce.metadata import read_browser_caching
from juston_tui.salesforce.probe import probe_org
from juston_tui.salesforce.settings import ProbeSettings
from juston_tui.salesforce.sweeper import sweep
from juston_tui.salesforce.vendor import fetch_push_requests, fetch_subscribers
from juston_tui.simulator import SCENARIOS, Simulator, make_org
from juston_tui.store import Store

METHODS = ("jwt", "client-credentials", "password", "token")
_index = itertools.count(100)


@pytest.fixture(scope="module")
def sim() -> Iterator[Simulator]:
    simulator = Simulator(scenario_set="all").start()
    yield simulator
    simulator.stop()


@pytest.fixture
def creds() -> CredentialStore:
    return open_credentials("memory")


def register(sim: Simulator, creds: CredentialStore, sim_org, method: str = "token",
             store: Store | None = None) -> Org:
    """The org as a user would register it: simulator URL, its CA, the method's secrets."""
    return register_simulator_orgs(store, creds, sim, [sim_org], method=method)[0]


def fresh(sim: Simulator, scenario: str = "healthy") -> object:
    """A new org only this test uses, so faults and counters are its own."""
    return sim.add_org(make_org(scenario, next(_index)))


def verdicts(snapshot) -> dict[str, str]:
    return {c.id: c.verdict for c in snapshot.checks}


# -- every scenario, expected verdicts, two round trips -------------------------------------------
@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_every_scenario_reaches_its_verdicts(sim: Simulator, creds: CredentialStore,
                                             scenario: str) -> None:
    so = fresh(sim, scenario)
    method = "jwt" if scenario == "session_expiring" else "token"
    org = register(sim, creds, so, method)
    before = sim.request_count(so.org_id)
    snap = probe_org(org, creds)
    got = verdicts(snap)
    for check_id, expected in so.spec.expected.items():
        assert got[check_id] == expected, (check_id, snap.check(check_id))
    assert [c.id for c in snap.checks] == list(CHECK_IDS)
    assert all(c.reason for c in snap.checks)
    if scenario == "api_disabled":
        assert snap.error and "API_DISABLED_FOR_ORG" in snap.error
        return
    assert snap.error is None
    api_trips = sim.request_count(so.org_id) - before
    extra = 1 if scenario == "session_expiring" else 0  # the expired request, then a re-login
    assert api_trips == 2 + extra
    assert snap.facts["round_trips"]["api"] == api_trips
    for c in snap.checks:
        if c.verdict in ("warn", "fail"):
            assert c.fix, c.id
    assert snap.checked_at.endswith("Z")


def test_facts_follow_the_contract(sim: Simulator, creds: CredentialStore) -> None:
    org = register(sim, creds, fresh(sim))
    doc = probe_org(org, creds).facts
    assert set(doc["organization"]) >= {"name", "edition", "is_sandbox", "instance", "org_type",
                                      "timezone"}
    assert doc["organization"]["timezone"] in ("Europe/Berlin", "Europe/Vienna", "Europe/Zurich")
    facts = Facts.from_doc(doc)
    assert Facts.from_doc(facts.to_doc()) == facts  # the stored document round-trips
    assert facts.version("billing") == "2.80.2"
    assert facts.packages is not None and facts.packages["billing"] is not None
    assert facts.packages["billing"].namespace == "ONB2"
    assert {p: c.label for p, c in facts.current.items()} == {
        "billing": "assumed current 2.80 (releases.toml of 2026-03-01)",
        "cash": "assumed current 1.14 (releases.toml of 2026-03-01)"}
    assert facts.licenses and facts.licenses[0].allowed == 25
    app = facts.connected_app
    assert app is not None and app.name == "JustOn Platform"
    assert app.admin_profile == "System Administrator" and app.admin_preauthorized
    assert facts.balance is not None and facts.balance.covering == ("JustOn Billing",)
    assert facts.task_type is not None and facts.task_type.permission_sets == ("JustOn Billing",)
    assert facts.api_usage is not None and facts.api_usage.max == 15000
    assert facts.api_user == org.username and not facts.errors


def test_translated_admin_profile_is_found_by_its_facts(sim: Simulator,
                                                        creds: CredentialStore) -> None:
    """A German API user sees "Systemadministrator": still the standard admin profile."""
    snap = probe_org(register(sim, creds, fresh(sim, "sysadmin_de")), creds)
    check = snap.check("connected_app.sysadmin")
    assert check is not None and check.verdict == "ok"
    assert "Systemadministrator (the standard System Administrator profile)" in check.reason
    french = probe_org(register(sim, creds, fresh(sim, "no_sysadmin_fr")), creds)
    check = french.check("connected_app.sysadmin")
    assert check is not None and check.verdict == "fail" and check.fix
    assert "Administrateur système (the standard System Administrator profile) is not" \
        in check.reason


def test_missing_view_setup_names_the_permission_the_user_and_the_fix(
        sim: Simulator, creds: CredentialStore) -> None:
    so = fresh(sim, "no_view_setup")
    org = register(sim, creds, so)
    snap = probe_org(org, creds)
    facts = Facts.from_doc(snap.facts)
    [problem] = diagnose(facts)
    assert so.username in problem.summary and "View Setup and Configuration" in problem.summary
    assert "PermissionSet" in problem.summary and "INVALID_TYPE" in problem.summary
    assert set(problem.checks) == {"connected_app.permitted_users", "connected_app.sysadmin",
                                   "permissions.balance", "permissions.task_type"}
    for check_id in problem.checks:
        check = snap.check(check_id)
        assert check is not None and check.verdict == "unknown"
        assert "View Setup and Configuration" in check.reason
        assert so.username in check.fix and "Manage Assignments" in check.fix
    assert verdicts(snap)["package.billing"] == "ok"  # the rest is still judged


def test_store_setting_overrides_current_version(sim: Simulator, creds: CredentialStore,
                                                 store: Store) -> None:
    org = register(sim, creds, fresh(sim))
    store.set_setting("current_versions", {"billing": "2.81"})
    snap = probe_org(org, creds, settings=ProbeSettings.for_store(store))
    assert verdicts(snap)["package.billing"] == "warn"
    assert "current 2.81" in snap.check("package.billing").reason


def test_pagination_is_followed(creds: CredentialStore) -> None:
    with Simulator([make_org("healthy", 3)], batch_size=2) as small:
        org = register(small, creds, small.orgs[0])
        snap = probe_org(org, creds)
        assert snap.error is None
        assert set(verdicts(snap).values()) == {"ok"}
        assert snap.facts["round_trips"]["api"] > 2  # extra pages were fetched
        assert snap.facts["round_trips"]["api"] == small.request_count()


# -- auth methods -----------------------------------------------------------------------------
@pytest.mark.parametrize("method", METHODS)
def test_every_auth_method_logs_in(sim: Simulator, creds: CredentialStore, method: str) -> None:
    so = fresh(sim)
    org = register(sim, creds, so, method)
    snap = probe_org(org, creds)
    assert snap.error is None and snap.verdict == "ok"
    assert sim.login_count(so.org_id) == (0 if method == "token" else 1)
    assert snap.facts["round_trips"]["login"] == (0 if method == "token" else 1)
    warned = any("Summer '27" in w for w in snap.facts["warnings"])
    assert warned == (method == "password")


def test_connect_returns_a_working_client(sim: Simulator, creds: CredentialStore) -> None:
    so = fresh(sim)
    sf = connect(register(sim, creds, so, "client-credentials"), creds)
    assert sf.query("SELECT Id FROM Organization")["records"][0]["Id"] == so.org_id
    assert sf.sf_version == "62.0"


def test_missing_and_wrong_secrets_are_clean_errors(sim: Simulator,
                                                    creds: CredentialStore) -> None:
    so = fresh(sim)
    org = register(sim, creds, so, "password")
    creds.delete(so.org_id, "password")
    snap = probe_org(org, creds)
    assert "no password stored" in snap.error and "juston-tui login" in snap.error
    creds.set(so.org_id, "password", "wrong-password-123")
    snap = probe_org(org, creds)
    assert snap.error.startswith("login failed: INVALID_LOGIN")
    assert "wrong-password-123" not in snap.error and so.security_token not in snap.error
    with pytest.raises(AuthError):
        connect(org, creds)


def test_unapproved_consumer_explains_the_setup_fix(sim: Simulator,
                                                    creds: CredentialStore) -> None:
    so = fresh(sim)
    org = register(sim, creds, so, "jwt").with_changes(username="nobody@example.com")
    snap = probe_org(org, creds)
    assert "user hasn't approved this consumer" in snap.error
    assert "Admin approved users are pre-authorized" in snap.error
    assert "Manage Profiles" in snap.error


def test_org_ca_wins_over_requests_ca_bundle(sim: Simulator, creds: CredentialStore,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", certifi.where())  # does not know the simulator
    monkeypatch.setenv("CURL_CA_BUNDLE", certifi.where())
    org = register(sim, creds, fresh(sim), "jwt")
    assert probe_org(org, creds).error is None
    no_ca = org.with_changes(ca_bundle="")
    snap = probe_org(no_ca, creds)
    assert "TLS certificate" in snap.error and "--ca-bundle" in snap.error


# -- faults -----------------------------------------------------------------------------------
def test_latency_within_and_beyond_the_timeout(sim: Simulator, creds: CredentialStore) -> None:
    so = fresh(sim)
    org = register(sim, creds, so)
    sim.set_latency(0.15, so.org_id)
    try:
        snap = probe_org(org, creds, timeout=20)
        assert snap.error is None and snap.facts["round_trips"]["api"] == 2
        # Each request (0.15 s) fits in 0.25 s, the two together do not: only a deadline for
        # the whole probe can fire, and the error names it.
        before = sim.request_count(so.org_id)
        snap = probe_org(org, creds, timeout=0.25)
        assert snap.error.startswith("timed out after 0.25 s")
        assert snap.verdict == "unknown"
        assert 1 <= sim.request_count(so.org_id) - before <= 2
    finally:
        sim.set_latency(0, so.org_id)


def test_hang_becomes_a_timeout(sim: Simulator, creds: CredentialStore) -> None:
    so = fresh(sim)
    sim.set_fault(so.org_id, "hang", seconds=5)  # the server would end it with a 503
    try:
        snap = probe_org(register(sim, creds, so), creds, timeout=0.5)
        assert "timed out" in snap.error and snap.verdict == "unknown"
        assert "503" not in snap.error  # the client gave up first, not the hang
    finally:
        sim.clear_faults(so.org_id)


def test_expired_session_relogs_in_exactly_once(sim: Simulator, creds: CredentialStore) -> None:
    so = fresh(sim)
    org = register(sim, creds, so, "jwt")
    sim.set_fault(so.org_id, "expire_session", count=1)
    snap = probe_org(org, creds)
    assert snap.error is None and snap.verdict == "ok"
    assert sim.login_count(so.org_id) == 2 and snap.facts["logins"] == 2
    sim.set_fault(so.org_id, "expire_session")  # permanent: the new session dies too
    snap = probe_org(org, creds)
    assert "session expired again" in snap.error
    assert sim.login_count(so.org_id) == 4  # one login + exactly one re-login
    sim.clear_faults(so.org_id)


def test_expired_token_asks_for_login(sim: Simulator, creds: CredentialStore) -> None:
    so = fresh(sim)
    sim.set_fault(so.org_id, "expire_session", count=1)
    snap = probe_org(register(sim, creds, so, "token"), creds)
    assert snap.error == f"session expired: run juston-tui login {so.org_id}"
    assert sim.login_count(so.org_id) == 0


@pytest.mark.parametrize(
    ("fault", "words"),
    [("limit_exceeded", "REQUEST_LIMIT_EXCEEDED"),
     ("server_error", "UNKNOWN_EXCEPTION"),
     ("malformed", "malformed response")],
)
def test_error_faults_become_one_line(sim: Simulator, creds: CredentialStore, fault: str,
                                      words: str) -> None:
    so = fresh(sim)
    sim.set_fault(so.org_id, fault, count=1)
    snap = probe_org(register(sim, creds, so), creds)
    assert words in snap.error and "\n" not in snap.error
    assert all(c.verdict == "unknown" for c in snap.checks)
    assert so.access_token not in snap.error


def test_html_503_is_described(sim: Simulator, creds: CredentialStore) -> None:
    so = fresh(sim)
    sim.set_fault(so.org_id, "server_error", count=2)
    org = register(sim, creds, so)
    probe_org(org, creds)  # the 500 JSON variant
    snap = probe_org(org, creds)  # the 503 HTML variant
    assert snap.error.startswith("Salesforce server error (HTTP 503)")


def test_tooling_failure_only_affects_package_checks(sim: Simulator,
                                                     creds: CredentialStore) -> None:
    so = fresh(sim)
    org = register(sim, creds, so)
    original = probe_org.__globals__["TOOLING_PACKAGES"]
    probe_org.__globals__["TOOLING_PACKAGES"] = original.replace(
        "InstalledSubscriberPackage", "InstalledSubscriberPackagez")
    try:
        snap = probe_org(org, creds)
    finally:
        probe_org.__globals__["TOOLING_PACKAGES"] = original
    got = verdicts(snap)
    assert snap.error is None
    assert got["package.billing"] == got["package.cash"] == "unknown"
    assert "INVALID_TYPE" in snap.check("package.billing").reason
    assert got["connected_app.permitted_users"] == "ok"


# -- sweep ------------------------------------------------------------------------------------
def test_sweep_is_concurrent_isolated_and_saves_as_it_goes(sim: Simulator,
                                                           creds: CredentialStore,
                                                           store: Store) -> None:
    sims = [fresh(sim) for _ in range(8)]
    orgs = [register(sim, creds, so, METHODS[i % 4], store=store) for i, so in enumerate(sims)]
    for so in sims:
        sim.set_latency(0.3, so.org_id)
    sim.set_fault(sims[3].org_id, "hang", seconds=20)
    seen: list[tuple[str, int, int]] = []
    lock = threading.Lock()

    def progress(snapshot, done, total) -> None:
        with lock:
            seen.append((snapshot.org_id, done, total))

    sim.reset_counters()
    try:
        snaps = sweep(orgs, creds, concurrency=8, timeout=3.0, on_result=progress, store=store)
    finally:
        for so in sims:
            sim.set_latency(0, so.org_id)
        sim.clear_faults(sims[3].org_id)
    assert [s.org_id for s in snaps] == [o.org_id for o in orgs]
    assert sorted(d for _o, d, _t in seen) == list(range(1, 9))
    assert {t for _o, _d, t in seen} == {8}
    failed = [s for s in snaps if s.error]
    assert [s.org_id for s in failed] == [sims[3].org_id] and "timed out" in failed[0].error
    assert all(s.verdict == "ok" for s in snaps if not s.error)
    # In parallel: every org's first (slow) request was in the server at the same time; one
    # at a time the peak would be 1. The hanging org held only its own worker.
    assert sim.peak_in_flight() == 8
    for org in orgs:
        assert store.latest_snapshot(org.org_id) is not None
    raw = store.path.read_text()
    for so in sims:
        for secret in (so.access_token, so.password, so.consumer_secret):
            assert secret not in raw


def test_sweep_cancel_stops_between_orgs(sim: Simulator, creds: CredentialStore) -> None:
    sims = [fresh(sim) for _ in range(6)]
    orgs = [register(sim, creds, so) for so in sims]
    cancel = threading.Event()

    def progress(snapshot, done, total) -> None:
        cancel.set()

    snaps = sweep(orgs, creds, concurrency=1, on_result=progress, cancel=cancel)
    assert len(snaps) == 1
    assert sum(sim.request_count(so.org_id) for so in sims) == 2


def test_sweep_survives_a_broken_callback_and_empty_input(sim: Simulator,
                                                          creds: CredentialStore) -> None:
    org = register(sim, creds, fresh(sim))

    def broken(snapshot, done, total) -> None:
        raise RuntimeError("display crashed")

    assert len(sweep([org], creds, on_result=broken)) == 1
    assert sweep([], creds) == []


def test_sweep_reports_failed_saves_and_keeps_the_results(
        sim: Simulator, creds: CredentialStore, store: Store,
        full_disk: FullDisk) -> None:
    orgs = [register(sim, creds, fresh(sim), store=store) for _ in range(2)]
    full_disk.on()
    snaps = sweep(orgs, creds, concurrency=2, store=store)
    assert [s.org_id for s in snaps] == [o.org_id for o in orgs]  # still a list of snapshots
    assert all(s.verdict == "ok" for s in snaps)
    assert snaps.saved == 0
    assert snaps.save_errors and all("No space left on device" in e for e in snaps.save_errors)
    assert len(set(snaps.save_errors)) == len(snaps.save_errors)  # one line per distinct error
    assert "snapshots not saved" in (snaps.save_error or "")
    full_disk.off()
    ok = sweep(orgs, creds, concurrency=2, store=store)
    assert ok.save_errors == [] and ok.save_error is None and ok.saved == 2


def test_sweep_uses_a_read_only_stores_settings(sim: Simulator, creds: CredentialStore,
                                                store: Store) -> None:
    org = register(sim, creds, fresh(sim), store=store)
    store.set_setting("current_versions", {"billing": "9.9.9"})
    read_only = Store.open(store.path, read_only=True)
    snaps = sweep([org], creds, store=read_only)
    assert snaps[0].facts["current_versions"]["billing"]["version"] == "9.9.9"
    assert snaps.saved == 0 and read_only.latest_snapshot(org.org_id) is None


# -- vendor org, metadata ---------------------------------------------------------------------
def test_vendor_subscribers_and_push_requests(sim: Simulator, creds: CredentialStore) -> None:
    vendor = register(sim, creds, sim.vendor_org, "jwt")
    subs = fetch_subscribers(vendor, creds)
    by_id = {s["org_id"]: s for s in subs}
    healthy = next(o for o in sim.orgs if o.scenario == "healthy")
    assert by_id[healthy.org_id]["products"] == {"billing": "2.80.2", "cash": "1.14.1"}
    sandbox = next(o for o in sim.orgs if o.scenario == "sandbox")
    assert by_id[sandbox.org_id]["kind"] == "sandbox"
    assert by_id[sandbox.org_id]["parent_org_id"] == sandbox.parent_org_id
    assert vendor.org_id not in by_id
    pushes = fetch_push_requests(vendor, creds)
    assert [p["status"] for p in pushes][-2:] == ["Created", "Pending"]  # by start time
    assert any(job["errors"] for p in pushes for job in p["jobs"])
    assert all(p["product"] in ("billing", "cash") for p in pushes)


def test_push_history_is_read_for_a_window_and_only_its_jobs(creds: CredentialStore) -> None:
    """PackagePushJob/PackagePushError are read for the requests in the window only, paged."""
    from datetime import UTC, datetime, timedelta

    with Simulator(scenario_set="demo") as demo:
        vendor = register(demo, creds, demo.vendor_org, "token")
        demo.reset_counters()
        recent = fetch_push_requests(vendor, creds)
        assert demo.request_count(vendor.org_id) == 2  # requests, then their jobs and errors
        everything = fetch_push_requests(vendor, creds,
                                         since=datetime.now(UTC) - timedelta(days=1000))
        demo.batch_size = 2  # every query now needs several pages
        paged = fetch_push_requests(vendor, creds)
    assert paged == recent
    assert len(everything) == len(recent) + 1  # the request of 400 days ago is left out
    old = next(p for p in everything if p["id"] not in {r["id"] for r in recent})
    assert old["jobs"] and old["status"] == "Succeeded"
    jobs = [j for p in recent for j in p["jobs"]]
    assert len(jobs) > 2 and any(j["errors"] for j in jobs)


def test_vendor_read_caches_the_latest_released_version_and_status_uses_it(
        sim: Simulator, creds: CredentialStore, store: Store) -> None:
    vendor = register(sim, creds, sim.vendor_org, "jwt", store=store)
    fetch_subscribers(vendor, creds, store=store)
    settings = ProbeSettings.for_store(store)
    current = settings.current["billing"]
    # 2.81.0 is released but deprecated, 2.81.1 is a beta: neither is current.
    assert (current.version, current.source) == ("2.80.2", "vendor")
    assert current.as_of and vendor.org_id[:15] in current.origin
    assert settings.current["cash"].version == "1.14.1"
    outdated = register(sim, creds, fresh(sim, "outdated"), store=store)
    snap = probe_org(outdated, creds, settings=settings)
    check = snap.check("package.billing")
    assert check is not None and check.verdict == "warn"
    assert f"(current 2.80.2 (vendor org {vendor.org_id[:15]} of {current.as_of}))" \
        in check.reason
    read_only = Store.open(store.path, read_only=True)
    fetch_push_requests(vendor, creds, store=read_only)  # a read-only store is left alone


def test_vendor_malformed_reply_is_one_clear_error(sim: Simulator,
                                                   creds: CredentialStore) -> None:
    from juston_tui.salesforce.errors import AccessError

    vendor = register(sim, creds, sim.vendor_org, "jwt")
    sim.set_fault(sim.vendor_org.org_id, "malformed", count=1)
    try:
        with pytest.raises(AccessError, match="malformed response"):
            fetch_subscribers(vendor, creds)
    finally:
        sim.clear_faults(sim.vendor_org.org_id)


def test_vendor_rows_without_id_are_skipped(monkeypatch: pytest.MonkeyPatch) -> None:
    """A record without an Id (or not an object at all) must not become a KeyError traceback."""
    import juston_tui.salesforce.vendor as vendor_mod
    from juston_tui.salesforce.errors import AccessError

    settings = ProbeSettings.defaults()
    ns = settings.namespace("billing")
    records = {
        "packages": [{"NamespacePrefix": "x"}, {"Id": "033000000000001AAA",
                                                "NamespacePrefix": ns}, "junk"],
        "versions": [{"MajorVersion": 1}, {"Id": "04t000000000002AAA", "MajorVersion": "x"},
                     {"Id": "04t000000000001AAA", "MetadataPackageId": "033000000000001AAA",
                      "MajorVersion": 2, "MinorVersion": 80, "PatchVersion": 3}],
        "subscribers": [{"OrgKey": "00D5g000004Xyz1", "OrgName": "Acme",
                         "MetadataPackageVersionId": "04t000000000001AAA"}, None],
        "requests": [{"ScheduledStartTime": "2026-01-01"},
                     {"Id": "0DV000000000001AAA", "PackageVersionId": "04t000000000001AAA",
                      "Status": "Pending"}],
        "jobs": [{"PackagePushRequestId": "0DV000000000001AAA"}, 7],
        "push_errors": [{}],
    }
    monkeypatch.setattr(vendor_mod, "_run", lambda *a, **k: records)
    org = Org.create(org_id="00D5g000009Ven1", name="Vendor", vendor=True)
    subs = fetch_subscribers(org, object(), settings=settings)  # type: ignore[arg-type]
    assert [(s["name"], s["products"]) for s in subs] == [("Acme", {"billing": "2.80.3"})]
    pushes = fetch_push_requests(org, object(), settings=settings)  # type: ignore[arg-type]
    assert [(p["id"], p["version"], len(p["jobs"])) for p in pushes] == [
        ("0DV000000000001AAA", "2.80.3", 1)]
    monkeypatch.setattr(vendor_mod, "_run", lambda *a, **k: {**records, "versions": "oops"})
    with pytest.raises(AccessError, match="malformed response from the vendor org"):
        fetch_subscribers(org, object())  # type: ignore[arg-type]


def test_vendor_objects_missing_in_a_customer_org(sim: Simulator,
                                                  creds: CredentialStore) -> None:
    from juston_tui.salesforce.errors import AccessError

    with pytest.raises(AccessError, match="packaging org"):
        fetch_subscribers(register(sim, creds, fresh(sim)), creds)


def test_browser_caching(sim: Simulator, creds: CredentialStore) -> None:
    assert read_browser_caching(register(sim, creds, fresh(sim), "jwt"), creds) is False
    on = register(sim, creds, fresh(sim, "self_authorize"), "token")
    assert read_browser_caching(on, creds) is True
    unreadable = register(sim, creds, fresh(sim, "api_disabled"), "token")
    assert read_browser_caching(unreadable, creds) is None


# -- hostile servers: a trickle and a redirect (issue 15) -----------------------------------------
def _bounded(fn, limit: float):
    """Run fn in a thread; (result, seconds) or a failure if it is still running at `limit`."""
    import time

    out: list[object] = []
    started = time.monotonic()
    thread = threading.Thread(target=lambda: out.append(fn()), daemon=True)
    thread.start()
    thread.join(limit)
    assert not thread.is_alive(), f"still running after {limit} s"
    return out[0], time.monotonic() - started


@pytest.mark.parametrize(("method", "per_byte"), [("token", 0.5), ("jwt", 0.5), ("token", 0.14)])
def test_a_trickling_server_cannot_outlast_the_per_org_budget(
        sim: Simulator, creds: CredentialStore, method: str, per_byte: float) -> None:
    """One byte every 0.5 s: each read gets a byte in time, so only a hard budget stops it
    (the whole answer would take minutes). The jwt login trickles too. At 0.14 s a byte the
    cut lands in the status line ("HTTP/1.1 200 O"), which http.client still accepts: the
    half answer must be the time-out, not "malformed response"."""
    so = fresh(sim)
    org = register(sim, creds, so, method)
    sim.set_fault(so.org_id, "trickle", seconds=per_byte)
    try:
        snap, seconds = _bounded(lambda: probe_org(org, creds, timeout=2), limit=30)
    finally:
        sim.clear_faults(so.org_id)
    assert snap.error is not None and "timed out after 2 s" in snap.error, snap.error
    assert snap.verdict == "unknown"
    assert seconds < 2 + 3, seconds  # the budget, and slack for a loaded machine (not minutes)


def test_a_trickle_also_stops_a_sweep_within_its_budget(sim: Simulator,
                                                        creds: CredentialStore) -> None:
    slow = [register(sim, creds, fresh(sim)) for _ in range(2)]
    ok = register(sim, creds, fresh(sim))
    for org in slow:
        sim.set_fault(org.org_id, "trickle", seconds=0.4)
    try:
        snaps, seconds = _bounded(lambda: sweep([*slow, ok], creds, concurrency=3, timeout=2),
                                  limit=30)
    finally:
        for org in slow:
            sim.clear_faults(org.org_id)
    by_id = {s.org_id: s for s in snaps}
    assert all("timed out" in (by_id[o.org_id].error or "") for o in slow)
    assert by_id[ok.org_id].error is None
    assert seconds < 2 + 3, seconds


class _Witness:
    """A TCP listener on another port that records whatever reaches it."""

    def __init__(self) -> None:
        import socket

        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.received: list[bytes] = []
        self.connections = 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.connections += 1
            conn.settimeout(1)
            try:
                self.received.append(conn.recv(65536))
            except OSError:
                pass
            conn.close()

    def close(self) -> None:
        self.stop.set()
        self.thread.join(5)
        self.sock.close()


@pytest.mark.parametrize("method", ["token", "client-credentials"])
def test_a_redirect_to_another_origin_is_refused_and_nothing_is_sent_there(
        sim: Simulator, creds: CredentialStore, method: str) -> None:
    """A 307 would re-post the body (a login's consumer secret) to the other host: refused,
    and said as the org's error. client-credentials is redirected at login, token at the API."""
    witness = _Witness()
    so = fresh(sim)
    org = register(sim, creds, so, method)
    sim.set_fault(so.org_id, "redirect", target=f"https://127.0.0.1:{witness.port}")
    try:
        snap = probe_org(org, creds, timeout=5)
    finally:
        sim.clear_faults(so.org_id)
        witness.close()
    assert witness.connections == 0 and witness.received == []
    assert snap.error is not None
    assert snap.error.startswith("redirect refused: ")
    assert "redirect (HTTP 307) to https://127.0.0.1:" in snap.error, snap.error
    assert "never follow a redirect to another host" in snap.error
    assert so.consumer_secret not in snap.error


def test_a_redirect_within_the_same_origin_is_still_followed() -> None:
    import requests

    from juston_tui.salesforce.connection import OrgSession, RedirectRefused

    session = OrgSession(verify=certifi.where())
    same = requests.Response()
    same.status_code, same.url = 307, "https://acme.my.salesforce.com/services/data/v62.0/x"
    same.headers["Location"] = "/services/data/v62.0/y"
    assert session.get_redirect_target(same) == "/services/data/v62.0/y"
    same.headers["Location"] = "https://acme.my.salesforce.com:443/z"
    assert session.get_redirect_target(same) == "https://acme.my.salesforce.com:443/z"
    for elsewhere in ("https://evil.example/z", "https://acme.my.salesforce.com:8443/z",
                      "http://acme.my.salesforce.com/z", "//evil.example/z"):
        same.headers["Location"] = elsewhere
        with pytest.raises(RedirectRefused):
            session.get_redirect_target(same)


def test_the_watchdog_also_cuts_a_connection_that_got_its_socket_after_the_time() -> None:
    """Under load a TLS handshake can end after the request's time is up: the first firing
    finds no socket, so the watchdog fires again until the request ends."""
    import socket
    import time

    from juston_tui.salesforce.connection import WATCHDOG, _Guard

    class Connecting:  # what urllib3's connection looks like before its handshake ends
        sock: socket.socket | None = None

    ours, server = socket.socketpair()
    connection = Connecting()
    guard = _Guard()
    guard.watch(connection)
    generation = guard.start()
    WATCHDOG.arm(guard, generation, time.monotonic())  # already due
    try:
        deadline = time.monotonic() + 10
        while not guard.fired(generation):
            assert time.monotonic() < deadline, "the watchdog never fired"
            time.sleep(0.01)
        connection.sock = ours  # the handshake is done: now a read would block for ever
        ours.settimeout(10)
        started = time.monotonic()
        assert ours.recv(1) == b""  # cut by a later firing, not by the 10 s timeout
        assert time.monotonic() - started < 5
    finally:
        WATCHDOG.disarm(guard)
        ours.close()
        server.close()
