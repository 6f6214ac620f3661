"""The org simulator, driven by the real simple-salesforce client over HTTPS (loopback only)."""

from __future__ import annotations

import argparse
import io
import json
import os
import stat
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import pytest
import requests
from requests.adapters import HTTPAdapter
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import (
    SalesforceAuthenticationFailed,
    SalesforceExpiredSession,
    SalesforceGeneralError,
    SalesforceMalformedRequest,
    SalesforceRefusedRequest,
    SalesforceResourceNotFound,
)

from juston_tui.model import normalize_org_id
from juston_tui.simulator import CURRENT_VERSIONS, SCENARIOS, SimOrg, Simulator

V = "62.0"


class ToSimulator(HTTPAdapter):
    """Send every https://*.salesforce.com request to the simulator (reference §1.3)."""

    def __init__(self, sim_url: str) -> None:
        super().__init__()
        self.sim_url = sim_url

    def send(self, request: requests.PreparedRequest, **kwargs):  # type: ignore[override]
        url = request.url or ""
        host = url.split("/")[2] if url.startswith("https://") else ""
        if host.endswith(".salesforce.com"):
            request.url = self.sim_url + url[len("https://") + len(host):]
        return super().send(request, **kwargs)


@pytest.fixture(scope="module")
def sim() -> Iterator[Simulator]:
    with Simulator(scenario_set="all") as s:
        yield s


@pytest.fixture(autouse=True)
def _clean(sim: Simulator) -> Iterator[None]:
    yield
    sim.clear_faults()
    sim.batch_size = 2000


def session(sim: Simulator) -> requests.Session:
    s = requests.Session()
    s.verify = sim.ca_path
    s.trust_env = False
    s.mount("https://", ToSimulator(sim.url))
    return s


def org(sim: Simulator, scenario: str) -> SimOrg:
    return next(o for o in sim.orgs if o.scenario == scenario)


def client(sim: Simulator, scenario: str = "healthy", token: str | None = None) -> Salesforce:
    o = org(sim, scenario)
    return Salesforce(instance_url=sim.url, session_id=token or o.access_token, version=V,
                      session=session(sim))


ISP = ("SELECT Id, SubscriberPackageId, SubscriberPackage.NamespacePrefix, SubscriberPackage.Name, "
       "SubscriberPackageVersion.Id, SubscriberPackageVersion.Name, "
       "SubscriberPackageVersion.MajorVersion, SubscriberPackageVersion.MinorVersion, "
       "SubscriberPackageVersion.PatchVersion, SubscriberPackageVersion.BuildNumber "
       "FROM InstalledSubscriberPackage ORDER BY SubscriberPackageId")


# ---------------------------------------------------------------- query, tooling, paging


def test_organization_query_and_limit_header(sim: Simulator) -> None:
    o = org(sim, "healthy")
    sf = client(sim)
    before = sim.request_count(o.org_id)
    res = sf.query("SELECT Id, Name, OrganizationType, IsSandbox, InstanceName, "
                   "TrialExpirationDate, NamespacePrefix FROM Organization")
    assert res["totalSize"] == 1 and res["done"] is True
    rec = res["records"][0]
    assert rec["attributes"] == {"type": "Organization",
                                 "url": f"/services/data/v{V}/sobjects/Organization/{o.org_id}"}
    assert rec["Id"] == o.org_id and rec["Name"] == o.name
    assert rec["IsSandbox"] is False and rec["TrialExpirationDate"] is None
    assert rec["OrganizationType"].endswith("Edition")
    assert sim.request_count(o.org_id) == before + 1
    usage = sf.api_usage["api-usage"]
    assert usage.total == 15000 and usage.used == sim.api_usage(o.org_id)


def test_tooling_installed_packages(sim: Simulator) -> None:
    sf = client(sim)
    res = sf.restful("tooling/query/", params={"q": ISP})
    assert list(res)[:5] == ["size", "totalSize", "done", "queryLocator", "entityTypeName"]
    assert res["entityTypeName"] == "InstalledSubscriberPackage" and res["queryLocator"] is None
    by_ns = {r["SubscriberPackage"]["NamespacePrefix"]: r for r in res["records"]}
    billing = by_ns["ONB2"]
    assert billing["SubscriberPackage"]["Name"] == "JustOn Billing & Invoice Management"
    assert billing["SubscriberPackage"]["attributes"]["url"].startswith(
        f"/services/data/v{V}/tooling/sobjects/SubscriberPackage/")
    ver = billing["SubscriberPackageVersion"]
    assert (ver["MajorVersion"], ver["MinorVersion"], ver["PatchVersion"]) == CURRENT_VERSIONS[
        "ONB2"][:3]
    assert by_ns["JOCM"]["SubscriberPackage"]["Name"] == "JustOn Cash Management"
    # The REST API does not know Tooling-only objects, as in a real org.
    with pytest.raises(SalesforceMalformedRequest) as info:
        sf.query(ISP)
    assert info.value.content[0]["errorCode"] == "INVALID_TYPE"


def test_pagination_rest_and_tooling(sim: Simulator) -> None:
    sim.batch_size = 3
    sf = client(sim)
    first = sf.query("SELECT Id, Username FROM User ORDER BY Username")
    assert first["done"] is False and len(first["records"]) == 3
    assert first["nextRecordsUrl"].startswith(f"/services/data/v{V}/query/01g")
    assert first["nextRecordsUrl"].endswith("-3")
    everything = sf.query_all("SELECT Id, Username FROM User ORDER BY Username")
    assert everything["done"] is True
    assert everything["totalSize"] == len(everything["records"]) == first["totalSize"] > 6
    names = [r["Username"] for r in everything["records"]]
    assert names == sorted(names, key=str.casefold)
    assert len(set(names)) == len(names)
    # Tooling pages through tooling/query/<locator>.
    page = sf.restful("tooling/query/", params={"q": "SELECT Id, Name FROM Profile"})
    assert page["size"] == 3 and page["totalSize"] == 3 and page["done"] is True
    page = sf.restful("tooling/query/", params={"q": "SELECT Id FROM PermissionSet"})
    assert page["done"] is False and "/tooling/query/01g" in page["nextRecordsUrl"]
    assert page["queryLocator"] == page["nextRecordsUrl"].rsplit("/", 1)[1]
    rest = sf.query_more(page["nextRecordsUrl"], identifier_is_url=True)
    assert rest["entityTypeName"] == "PermissionSet" and rest["done"] is True
    assert page["size"] + rest["size"] == page["totalSize"]
    # Another org cannot read the cursor.
    other = client(sim, "outdated")
    with pytest.raises(SalesforceMalformedRequest):
        other.query_more(first["nextRecordsUrl"], identifier_is_url=True)


def test_relationships_and_connected_app(sim: Simulator) -> None:
    sf = client(sim)
    app = sf.query("SELECT Id, Name, OptionsAllowAdminApprovedUsersOnly FROM ConnectedApplication "
                   "WHERE Name = 'JustOn Platform'")["records"][0]
    assert app["OptionsAllowAdminApprovedUsersOnly"] is True
    sea = sf.query(
        "SELECT ParentId, Parent.Name, Parent.Label, Parent.IsOwnedByProfile, Parent.Profile.Name, "
        f"SetupEntityId, SetupEntityType FROM SetupEntityAccess WHERE SetupEntityType = "
        f"'ConnectedApplication' AND SetupEntityId = '{app['Id']}'")["records"]
    profiles = {r["Parent"]["Profile"]["Name"] for r in sea if r["Parent"]["IsOwnedByProfile"]}
    permsets = {r["Parent"]["Label"] for r in sea if not r["Parent"]["IsOwnedByProfile"]}
    assert profiles == {"System Administrator"} and permsets == {"JustOn User"}
    assert all(r["Parent"]["Profile"] is None for r in sea if not r["Parent"]["IsOwnedByProfile"])
    perms = sf.query("SELECT Parent.Label, PermissionsRead, PermissionsCreate, PermissionsEdit "
                     "FROM ObjectPermissions WHERE SobjectType = 'ONB2__Balance__c' AND "
                     "Parent.IsOwnedByProfile = false")["records"]
    assert [(p["Parent"]["Label"], p["PermissionsCreate"]) for p in perms] == [
        ("JustOn Billing", True)]
    fields = sf.query("SELECT Field FROM FieldPermissions WHERE SobjectType IN "
                      "('ONB2__Balance__c', 'Task') AND PermissionsEdit = true")["records"]
    assert {"ONB2__Balance__c.ONB2__Amount__c", "Task.Type"} <= {f["Field"] for f in fields}
    tabs = sf.query("SELECT Parent.Label, Name, Visibility FROM PermissionSetTabSetting "
                    "WHERE Name = 'ONB2__Balance__c' AND Visibility = 'DefaultOn'")["records"]
    assert [t["Parent"]["Label"] for t in tabs] == ["JustOn Billing"]
    lic = sf.query("SELECT Id, NamespacePrefix, Status, AllowedLicenses, UsedLicenses, "
                   "ExpirationDate, IsProvisioned FROM PackageLicense WHERE NamespacePrefix = "
                   "'ONB2'")["records"][0]
    assert (lic["Status"], lic["AllowedLicenses"], lic["UsedLicenses"]) == ("Active", 25, 17)
    expires = datetime.strptime(lic["ExpirationDate"], "%Y-%m-%dT%H:%M:%S.000%z")
    assert (expires - datetime.now(UTC)).days > 300
    upl = sf.query("SELECT COUNT() FROM UserPackageLicense WHERE "
                   "PackageLicense.NamespacePrefix = 'ONB2'")
    assert upl["totalSize"] == 17 and upl["records"] == []


# ---------------------------------------------------------------- composite and limits


def test_composite(sim: Simulator) -> None:
    sf = client(sim)
    o = org(sim, "healthy")
    before = sim.request_count(o.org_id)
    q = f"/services/data/v{V}/query/?q="
    body = {"allOrNone": False, "compositeRequest": [
        {"method": "GET", "url": q + "SELECT+Id,+Name+FROM+Organization", "referenceId": "org"},
        {"method": "GET", "url": q + "SELECT Id FROM ConnectedApplication WHERE Name = "
                                     "'JustOn Platform'", "referenceId": "app"},
        {"method": "GET", "url": q + "SELECT ParentId FROM SetupEntityAccess WHERE "
                                     "SetupEntityId = '@{app.records[0].Id}'",
         "referenceId": "sea"},
        {"method": "GET", "url": q + "SELECT Nope FROM Organization", "referenceId": "bad"},
        {"method": "GET", "url": f"/services/data/v{V}/tooling/query/?q=SELECT+Id+FROM+"
                                 "InstalledSubscriberPackage", "referenceId": "isp"},
        {"method": "GET", "url": f"/services/data/v{V}/limits/", "referenceId": "limits"},
    ]}
    res = sf.restful("composite", method="POST", json=body)
    items = {i["referenceId"]: i for i in res["compositeResponse"]}
    assert [i["referenceId"] for i in res["compositeResponse"]] == [
        "org", "app", "sea", "bad", "isp", "limits"]
    assert items["org"]["httpStatusCode"] == 200 and items["org"]["httpHeaders"] == {}
    assert items["org"]["body"]["records"][0]["Id"] == o.org_id
    assert items["sea"]["body"]["totalSize"] == 2
    assert items["bad"]["httpStatusCode"] == 400
    assert items["bad"]["body"][0]["errorCode"] == "INVALID_FIELD"
    # Tooling resources belong in /tooling/composite (strict, as Salesforce).
    assert items["isp"]["httpStatusCode"] == 404
    assert items["limits"]["body"]["DailyApiRequests"]["Max"] == 15000
    assert sim.request_count(o.org_id) == before + 1  # one round trip
    tool = sf.restful("tooling/composite", method="POST", json={"compositeRequest": [
        {"method": "GET", "url": f"/services/data/v{V}/tooling/query/?q=SELECT+Id+FROM+"
                                 "InstalledSubscriberPackage", "referenceId": "isp"}]})
    assert tool["compositeResponse"][0]["body"]["totalSize"] == 2
    too_many = {"compositeRequest": [{"method": "GET", "url": f"/services/data/v{V}/limits/",
                                      "referenceId": f"r{i}"} for i in range(26)]}
    with pytest.raises(SalesforceMalformedRequest) as info:
        sf.restful("composite", method="POST", json=too_many)
    assert info.value.content["compositeResponse"][0]["body"][0]["errorCode"] == "LIMIT_EXCEEDED"


def test_limits_versions_and_not_found(sim: Simulator) -> None:
    sf = client(sim)
    o = org(sim, "healthy")
    limits = sf.limits()
    assert limits["DailyApiRequests"]["Max"] == 15000
    assert limits["DailyApiRequests"]["Remaining"] == 15000 - sim.api_usage(o.org_id)
    near = client(sim, "api_near_limit").limits()["DailyApiRequests"]
    assert 15000 - near["Remaining"] >= 14200
    s = session(sim)
    versions = s.get(sim.url + "/services/data/").json()
    assert {"label": "Winter '25", "url": "/services/data/v62.0", "version": "62.0"} in versions
    with pytest.raises(SalesforceResourceNotFound) as info:
        sf.restful("nothing/here")
    assert info.value.content == [{"message": "The requested resource does not exist",
                                   "errorCode": "NOT_FOUND"}]
    describe = sf.restful("sobjects/ONB2__Balance__c/describe")
    assert "ONB2__Amount__c" in {f["name"] for f in describe["fields"]}


# ---------------------------------------------------------------- error shapes


def test_error_shapes(sim: Simulator) -> None:
    sf = client(sim)
    with pytest.raises(SalesforceExpiredSession) as info:
        client(sim, token="00Dbogus!token").query("SELECT Id FROM Organization")
    assert info.value.content == [{"message": "Session expired or invalid",
                                   "errorCode": "INVALID_SESSION_ID"}]
    with pytest.raises(SalesforceMalformedRequest) as info:
        sf.query("SELECT Id FROM Accountz LIMIT 2")
    err = info.value.content[0]
    assert err["errorCode"] == "INVALID_TYPE"
    assert err["message"].startswith("\nSELECT Id FROM Accountz LIMIT 2\n               ^\n"
                                     "ERROR at Row:1:Column:16\nsObject type 'Accountz' is not "
                                     "supported.")
    with pytest.raises(SalesforceMalformedRequest) as info:
        sf.query("SELECT Foo FROM Organization")
    assert info.value.content[0]["errorCode"] == "INVALID_FIELD"
    assert "No such column 'Foo' on entity 'Organization'" in info.value.content[0]["message"]
    with pytest.raises(SalesforceMalformedRequest) as info:
        sf.query("SELECT Id FORM Organization")
    assert info.value.content[0]["errorCode"] == "MALFORMED_QUERY"
    with pytest.raises(SalesforceRefusedRequest) as info:
        client(sim, "api_disabled").query("SELECT Id FROM Organization")
    assert info.value.content == [{"message": "The REST API is not enabled for this Organization.",
                                   "errorCode": "API_DISABLED_FOR_ORG"}]
    o = org(sim, "api_disabled")
    raw = session(sim).get(sim.url + f"/services/data/v{V}/limits/",
                           headers={"Authorization": f"Bearer {o.access_token}"})
    assert raw.status_code == 403
    assert raw.headers["Sforce-Limit-Info"] == f"api-usage={sim.api_usage(o.org_id)}/15000"


# ---------------------------------------------------------------- faults


def test_fault_limit_exceeded_and_expire_session(sim: Simulator) -> None:
    o = org(sim, "healthy")
    sf = client(sim)
    sim.set_fault(o.org_id, "limit_exceeded", count=1)
    with pytest.raises(SalesforceRefusedRequest) as info:
        sf.query("SELECT Id FROM Organization")
    assert info.value.content == [{"message": "TotalRequests Limit exceeded.",
                                   "errorCode": "REQUEST_LIMIT_EXCEEDED"}]
    sf.query("SELECT Id FROM Organization")  # count=1: the next one works
    sim.set_fault(o.org_id, "expire_session", count=2)
    for _ in range(2):
        with pytest.raises(SalesforceExpiredSession):
            sf.query("SELECT Id FROM Organization")
    assert sf.query("SELECT Id FROM Organization")["totalSize"] == 1


def test_fault_server_error_and_malformed(sim: Simulator) -> None:
    o = org(sim, "licences_full")
    sf = client(sim, "licences_full")
    sim.set_fault(o.org_id, "server_error", count=2)
    with pytest.raises(SalesforceGeneralError) as info:
        sf.query("SELECT Id FROM Organization")
    assert info.value.status == 500 and info.value.content[0]["errorCode"] == "UNKNOWN_EXCEPTION"
    with pytest.raises(SalesforceGeneralError) as info:
        sf.query("SELECT Id FROM Organization")
    assert info.value.status == 503 and "<html>" in info.value.content
    sim.set_fault(o.org_id, "malformed")  # permanent until cleared
    for _ in range(2):
        with pytest.raises(ValueError):  # requests' JSONDecodeError is a ValueError
            sf.query("SELECT Id FROM Organization")
    sim.clear_faults(o.org_id)
    assert sf.query("SELECT Id FROM Organization")["totalSize"] == 1


def test_fault_latency_hang_and_concurrency(sim: Simulator) -> None:
    o = org(sim, "no_task_type")
    sf = client(sim, "no_task_type")
    sim.set_fault(o.org_id, "latency", seconds=0.3, count=1)
    t0 = time.monotonic()
    sf.query("SELECT Id FROM Organization")
    assert time.monotonic() - t0 >= 0.3  # a lower bound: the sleep happened
    assert sim._faults.latency(o.org_id) == 0.0  # count=1: used up, the next request is fast
    # Latency sleeps in the handler thread, so parallel requests overlap: all 8 are in flight
    # at once (peak_in_flight), where a server handling one at a time would show 1.
    sim.set_latency(0.5)
    try:
        orgs = [x for x in sim.orgs if x.scenario not in ("api_disabled", "session_expiring")]
        clients = [client(sim, x.scenario) for x in orgs[:8]]
        start = threading.Barrier(8)

        def one(sf: Salesforce) -> None:
            start.wait(timeout=20)
            sf.query("SELECT Id FROM Organization")

        sim.reset_counters()
        with ThreadPoolExecutor(8) as pool:
            list(pool.map(one, clients))
        assert sim.peak_in_flight() == 8
    finally:
        sim.set_latency(0)
    # A hang outlasts the client's timeout: a ReadTimeout, not the 503 that ends the hang.
    sim.set_fault(o.org_id, "hang", seconds=3, count=1)
    with pytest.raises(requests.exceptions.ReadTimeout):
        sf.query("SELECT Id FROM Organization", timeout=0.5)


def test_fault_redirect_answers_307_to_another_origin(sim: Simulator) -> None:
    o = org(sim, "healthy")
    http = session(sim)
    url = f"{sim.url}/services/data/v{V}/query/?q=SELECT+Id+FROM+Organization"
    headers = {"Authorization": f"Bearer {o.access_token}"}
    sim.set_fault(o.org_id, "redirect", count=1, target="https://127.0.0.1:9")
    answer = http.get(url, headers=headers, allow_redirects=False, timeout=10)
    assert answer.status_code == 307
    assert answer.headers["Location"] == (
        f"https://127.0.0.1:9/services/data/v{V}/query/?q=SELECT+Id+FROM+Organization")
    sim.set_fault(o.org_id, "redirect", count=1)  # default: this server under another name
    answer = http.get(url, headers=headers, allow_redirects=False, timeout=10)
    assert answer.headers["Location"].startswith(f"https://localhost:{sim.port}/services/")
    assert http.get(url, headers=headers, timeout=10).status_code == 200  # used up
    # A login is redirected too (its body holds the secret a client would re-post).
    sim.set_fault(o.org_id, "redirect", count=1, target="https://127.0.0.1:9")
    login = http.post(f"{sim.url}/services/oauth2/token", allow_redirects=False, timeout=10,
                      data={"grant_type": "client_credentials", "client_id": o.consumer_key,
                            "client_secret": o.consumer_secret})
    assert login.status_code == 307
    assert login.headers["Location"] == "https://127.0.0.1:9/services/oauth2/token"


def test_fault_trickle_sends_the_whole_answer_byte_by_byte(sim: Simulator) -> None:
    """Status line and headers included: a client sees its first bytes only slowly."""
    import socket
    import ssl

    o = org(sim, "healthy")
    sim.set_fault(o.org_id, "trickle", count=1, seconds=0.1)
    context = ssl.create_default_context(cafile=sim.ca_path)
    with socket.create_connection(("127.0.0.1", sim.port), timeout=10) as raw, \
            context.wrap_socket(raw, server_hostname="127.0.0.1") as tls:
        tls.sendall(f"GET /services/data/v{V}/limits HTTP/1.1\r\nHost: x\r\n"
                    f"Authorization: Bearer {o.access_token}\r\n\r\n".encode())
        started = time.monotonic()
        got = b""
        while len(got) < 12:
            got += tls.recv(1)  # one byte per read: the server never sends more at once
        waited = time.monotonic() - started
    assert got == b"HTTP/1.1 200"
    assert waited >= 12 * 0.1 * 0.8  # a lower bound: every byte waited its turn


def test_hang_is_released_by_stop() -> None:
    with Simulator(scenario_set="healthy") as s:
        o = s.orgs[0]
        s.set_fault(o.org_id, "hang")  # 30 s unless stop() releases it
        done = threading.Event()

        def call() -> None:
            try:
                client(s, token=o.access_token).query("SELECT Id FROM Organization", timeout=60)
            except Exception:
                pass
            done.set()

        threading.Thread(target=call, daemon=True).start()
        deadline = time.monotonic() + 20  # liveness guard only
        while s.request_count(o.org_id) == 0 and time.monotonic() < deadline:
            time.sleep(0.01)  # until the request is in the server, hanging
        assert s.request_count(o.org_id) == 1 and not done.is_set()
        s.stop()
        assert done.wait(20)  # well before the 30 s hang (or the 60 s client timeout) ends


def test_session_expiring_scenario(sim: Simulator) -> None:
    o = org(sim, "session_expiring")
    sf = client(sim, "session_expiring")
    sf.query("SELECT Id FROM Organization")  # N = 1 call works
    with pytest.raises(SalesforceExpiredSession):
        sf.query("SELECT Id FROM Organization")
    with pytest.raises(SalesforceExpiredSession):  # the token stays dead
        sf.query("SELECT Id FROM Organization")
    s = session(sim)
    token = s.post("https://login.salesforce.com/services/oauth2/token", data={
        "grant_type": "refresh_token", "refresh_token": o.refresh_token,
        "client_id": o.consumer_key}).json()["access_token"]
    fresh = client(sim, "session_expiring", token=token)
    for _ in range(3):
        assert fresh.query("SELECT Id FROM Organization")["records"][0]["Id"] == o.org_id


# ---------------------------------------------------------------- logins


def test_jwt_login_and_refresh_on_expiry(sim: Simulator) -> None:
    o = org(sim, "no_sysadmin")
    before = sim.login_count(o.org_id)
    sf = Salesforce(username=o.username, consumer_key=o.consumer_key, privatekey=o.private_key_pem,
                    version=V, session=session(sim))
    assert sf.sf_instance == sim.url.removeprefix("https://")
    assert sf.query("SELECT Id FROM Organization")["records"][0]["Id"] == o.org_id
    assert sim.login_count(o.org_id) == before + 1
    # With a login partial, simple-salesforce re-logs in on INVALID_SESSION_ID and retries.
    sim.set_fault(o.org_id, "expire_session", count=1)
    assert sf.query("SELECT Id FROM Organization")["totalSize"] == 1
    assert sim.login_count(o.org_id) == before + 2
    other = org(sim, "healthy")
    with pytest.raises(SalesforceAuthenticationFailed) as info:  # signed with another org's key
        Salesforce(username=o.username, consumer_key=o.consumer_key,
                   privatekey=next(x.private_key_pem for x in sim.orgs
                                   if x.private_key_pem != o.private_key_pem),
                   version=V, session=session(sim))
    assert info.value.code == "invalid_grant"
    with pytest.raises(SalesforceAuthenticationFailed) as info:  # wrong consumer key
        Salesforce(username=o.username, consumer_key=other.consumer_key,
                   privatekey=o.private_key_pem, version=V, session=session(sim))
    assert info.value.code == "invalid_grant"


def test_soap_password_login(sim: Simulator) -> None:
    o = org(sim, "sandbox")
    sf = Salesforce(username=o.username, password=o.password, security_token=o.security_token,
                    domain="test", version=V, session=session(sim))
    assert sf.session_id and sf.sf_instance == sim.url.removeprefix("https://")
    rec = sf.query("SELECT Id, IsSandbox FROM Organization")["records"][0]
    assert rec["Id"] == o.org_id and rec["IsSandbox"] is True
    with pytest.raises(SalesforceAuthenticationFailed) as info:
        Salesforce(username=o.username, password="wrong", security_token=o.security_token,
                   version=V, session=session(sim))
    assert info.value.code == "INVALID_LOGIN"
    raw = session(sim).post(sim.url + "/services/Soap/u/62.0", data=b"<x/>",
                            headers={"content-type": "text/xml"})
    assert raw.status_code == 500 and b"sf:exceptionCode" in raw.content


def test_soap_login_is_gone_from_api_65(sim: Simulator) -> None:
    """Salesforce removed login() from API 65.0: the fault is INVALID_OPERATION (wsc#363)."""
    o = org(sim, "healthy")
    with pytest.raises(SalesforceAuthenticationFailed) as info:
        Salesforce(username=o.username, password=o.password, security_token=o.security_token,
                   version="65.0", session=session(sim))
    assert info.value.code == "INVALID_OPERATION"
    assert "not available in the API version specified (65.0)" in str(info.value)


def test_jwt_audience_must_be_a_salesforce_login_host(sim: Simulator) -> None:
    """aud is https://login|test.salesforce.com or the org's My Domain, nothing else."""
    import jwt

    o = org(sim, "healthy")

    def token(aud: str) -> requests.Response:
        claims = {"iss": o.consumer_key, "sub": o.username, "aud": aud,
                  "exp": int(time.time()) + 120}
        assertion = jwt.encode(claims, o.private_key_pem, algorithm="RS256")
        return session(sim).post(sim.url + "/services/oauth2/token", data={
            "grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer", "assertion": assertion})

    for good in ("https://login.salesforce.com", "https://test.salesforce.com",
                 f"https://{o.my_domain}.salesforce.com"):
        assert token(good).status_code == 200, good
    for bad in (sim.url, "https://login.salesforce.com/", "https://evil.example.com"):
        answer = token(bad)
        assert answer.status_code == 400 and answer.json()["error"] == "invalid_grant", bad


def test_empty_child_relationship_is_null(sim: Simulator) -> None:
    """A parent-to-child subquery with no rows is null in REST JSON, as Salesforce sends it."""
    rows = client(sim).query(
        "SELECT Id, IsOwnedByProfile, (SELECT SobjectType FROM ObjectPerms WHERE SobjectType = "
        "'ONB2__Balance__c') FROM PermissionSet")["records"]
    with_rows = [r for r in rows if r["ObjectPerms"] is not None]
    assert with_rows and all(r["ObjectPerms"]["records"] for r in with_rows)
    assert any(r["ObjectPerms"] is None for r in rows)
    assert all("ObjectPerms" in r for r in rows)


def test_localized_profiles_and_missing_view_setup(sim: Simulator) -> None:
    """Standard profile names come back in the user's language; the standard admin profile is
    the profile-owned permission set with IsCustom=false and Modify All Data."""
    admins = client(sim, "sysadmin_de").query(
        "SELECT Profile.Name FROM PermissionSet WHERE IsOwnedByProfile = true AND "
        "IsCustom = false AND PermissionsModifyAllData = true")["records"]
    assert [r["Profile"]["Name"] for r in admins] == ["Systemadministrator"]
    names = {r["Name"] for r in client(sim, "no_sysadmin_fr").query(
        "SELECT Name FROM Profile")["records"]}
    assert "Administrateur système" in names and "System Administrator" not in names
    blind = client(sim, "no_view_setup")
    for obj in ("PermissionSet", "SetupEntityAccess", "ConnectedApplication",
                "PermissionSetTabSetting"):
        with pytest.raises(SalesforceMalformedRequest) as info:
            blind.query(f"SELECT Id FROM {obj}")
        assert info.value.content[0]["errorCode"] == "INVALID_TYPE", obj
    assert blind.query("SELECT Id FROM Organization")["totalSize"] == 1


def test_client_credentials_and_password_grant(sim: Simulator) -> None:
    o = org(sim, "outdated")
    sf = Salesforce(consumer_key=o.consumer_key, consumer_secret=o.consumer_secret,
                    domain=o.my_domain, version=V, session=session(sim))
    assert sf.query("SELECT Id FROM Organization")["records"][0]["Id"] == o.org_id
    with pytest.raises(SalesforceAuthenticationFailed) as info:
        Salesforce(consumer_key=o.consumer_key, consumer_secret="nope", domain=o.my_domain,
                   version=V, session=session(sim))
    assert info.value.code == "invalid_client"
    sf = Salesforce(username=o.username, password=o.password, consumer_key=o.consumer_key,
                    consumer_secret=o.consumer_secret, version=V, session=session(sim))
    assert sf.query("SELECT Id FROM Organization")["totalSize"] == 1
    resp = session(sim).post(sim.url + "/services/oauth2/token", data={
        "grant_type": "password", "client_id": o.consumer_key,
        "client_secret": o.consumer_secret, "username": o.username, "password": "bad"})
    assert resp.status_code == 400
    assert resp.json() == {"error": "invalid_grant", "error_description": "authentication failure"}
    ok = session(sim).post(sim.url + "/services/oauth2/token", data={
        "grant_type": "refresh_token", "refresh_token": o.refresh_token,
        "client_id": o.consumer_key}).json()
    assert set(ok) >= {"access_token", "instance_url", "id", "token_type", "issued_at",
                       "signature"}
    assert ok["instance_url"] == sim.url and ok["token_type"] == "Bearer"
    bad = session(sim).post(sim.url + "/services/oauth2/token", data={"grant_type": "magic"})
    assert bad.status_code == 400 and bad.json()["error"] == "unsupported_grant_type"


def test_api_disabled_org_can_still_log_in(sim: Simulator) -> None:
    o = org(sim, "api_disabled")
    sf = Salesforce(username=o.username, consumer_key=o.consumer_key,
                    privatekey=o.private_key_pem, version=V, session=session(sim))
    with pytest.raises(SalesforceRefusedRequest):
        sf.restful("tooling/query/", params={"q": ISP})


# ---------------------------------------------------------------- metadata API

_READ = """<?xml version="1.0" encoding="utf-8"?>
<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"
  xmlns:met="http://soap.sforce.com/2006/04/metadata">
 <soapenv:Header><met:SessionHeader><met:sessionId>{sid}</met:sessionId></met:SessionHeader>
 </soapenv:Header>
 <soapenv:Body><met:readMetadata><met:type>MobileSettings</met:type>
   <met:fullNames>Mobile</met:fullNames></met:readMetadata></soapenv:Body>
</soapenv:Envelope>"""


def test_metadata_read_mobile_settings_by_hand(sim: Simulator) -> None:
    for scenario, expected in (("healthy", b"false"), ("self_authorize", b"true")):
        o = org(sim, scenario)
        resp = session(sim).post(sim.url + f"/services/Soap/m/{V}",
                                 data=_READ.format(sid=o.access_token).encode(),
                                 headers={"Content-Type": "text/xml", "SOAPAction": "readMetadata"})
        assert resp.status_code == 200
        assert b'<records xsi:type="MobileSettings">' in resp.content
        assert (b"<enableS1EncryptedStoragePref2>" + expected
                + b"</enableS1EncryptedStoragePref2>") in resp.content
        assert resp.headers["Sforce-Limit-Info"].startswith("api-usage=")
    resp = session(sim).post(sim.url + f"/services/Soap/m/{V}", data=_READ.format(sid="bad"))
    assert resp.status_code == 500 and b"INVALID_SESSION_ID" in resp.content


def test_metadata_read_via_mdapi(sim: Simulator, monkeypatch: pytest.MonkeyPatch) -> None:
    """zeep ignores the client's session: it trusts the simulator only via REQUESTS_CA_BUNDLE."""
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", sim.ca_path)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    for scenario, expected in (("healthy", False), ("outdated", True)):
        settings = client(sim, scenario).mdapi.MobileSettings.read("Mobile")
        assert settings.fullName == "Mobile"
        assert settings.enableS1EncryptedStoragePref2 is expected


# ---------------------------------------------------------------- scenarios and orgs


def test_scenario_data(sim: Simulator) -> None:
    none = client(sim, "no_package")
    assert none.restful("tooling/query/", params={"q": ISP})["totalSize"] == 0
    assert none.query("SELECT Id FROM PackageLicense")["totalSize"] == 0
    assert none.query("SELECT Id FROM ConnectedApplication WHERE Name = 'JustOn Platform'")[
        "totalSize"] == 0
    assert none.query("SELECT Id FROM ObjectPermissions WHERE SobjectType = "
                      "'ONB2__Balance__c'")["totalSize"] == 0
    with pytest.raises(SalesforceMalformedRequest):
        none.query("SELECT Id FROM ONB2__Balance__c")
    lic = client(sim, "licence_expired").query(
        "SELECT Status, ExpirationDate FROM PackageLicense WHERE NamespacePrefix = 'ONB2'")
    assert lic["records"][0]["Status"] == "Expired"
    assert lic["records"][0]["ExpirationDate"] < datetime.now(UTC).strftime("%Y-%m-%d")
    full = client(sim, "licences_full").query(
        "SELECT AllowedLicenses, UsedLicenses FROM PackageLicense WHERE NamespacePrefix = 'ONB2'")
    assert full["records"][0]["AllowedLicenses"] == full["records"][0]["UsedLicenses"]
    app = client(sim, "self_authorize").query(
        "SELECT OptionsAllowAdminApprovedUsersOnly FROM ConnectedApplication "
        "WHERE Name = 'JustOn Platform'")
    assert app["records"][0]["OptionsAllowAdminApprovedUsersOnly"] is False
    sea = client(sim, "no_sysadmin").query(
        "SELECT Parent.Profile.Name FROM SetupEntityAccess WHERE SetupEntityId IN "
        "(SELECT Id FROM ConnectedApplication WHERE Name = 'JustOn Platform')")
    assert [r["Parent"]["Profile"] for r in sea["records"]] == [None]
    assert client(sim, "no_balance_permset").query(
        "SELECT Id FROM PermissionSetTabSetting WHERE Name = 'ONB2__Balance__c'")["totalSize"] == 0
    assert client(sim, "no_task_type").query(
        "SELECT Id FROM FieldPermissions WHERE Field = 'Task.Type'")["totalSize"] == 0
    old = client(sim, "outdated").restful("tooling/query/", params={"q": ISP})
    billing = next(r for r in old["records"] if r["SubscriberPackage"]["NamespacePrefix"] == "ONB2")
    assert billing["SubscriberPackageVersion"]["MinorVersion"] == CURRENT_VERSIONS["ONB2"].minor - 2
    sandbox = org(sim, "sandbox")
    assert sandbox.kind == "sandbox" and sandbox.parent_org_id == org(sim, "healthy").org_id


def test_vendor_org(sim: Simulator) -> None:
    vendor = sim.vendor_org
    assert vendor is not None and vendor.scenario == "vendor"
    sf = client(sim, "vendor")
    subs = sf.query("SELECT Id, OrgKey, OrgName, OrgType, OrgStatus, InstalledStatus, "
                    "InstanceName, MetadataPackageId, MetadataPackageVersionId, ParentOrg, "
                    "MetadataPackage.NamespacePrefix FROM PackageSubscriber "
                    "WHERE InstalledStatus = 'i'")["records"]
    keys = {r["OrgKey"] for r in subs if r["MetadataPackage"]["NamespacePrefix"] == "ONB2"}
    with_billing = {o.org_id for o in sim.orgs if o.scenario not in ("no_package", "vendor")}
    assert with_billing <= keys and org(sim, "no_package").org_id not in keys
    sandbox = next(r for r in subs if r["OrgKey"] == org(sim, "sandbox").org_id)
    assert sandbox["OrgType"] == "Sandbox"
    assert sandbox["ParentOrg"] == org(sim, "healthy").org_id[:15]
    versions = sf.query("SELECT Id, MajorVersion, MinorVersion, PatchVersion FROM "
                        "MetadataPackageVersion WHERE ReleaseState = 'Released' AND "
                        "IsDeprecated = false AND "
                        "MetadataPackage.NamespacePrefix = 'ONB2' ORDER BY MinorVersion DESC, "
                        "PatchVersion DESC LIMIT 1")["records"]
    latest = (versions[0]["MajorVersion"], versions[0]["MinorVersion"])
    assert latest == CURRENT_VERSIONS["ONB2"][:2]
    upcoming = sf.query("SELECT Id, Status FROM PackagePushRequest "
                        "WHERE ScheduledStartTime > TODAY")["records"]
    assert upcoming and {r["Status"] for r in upcoming} <= {"Created", "Pending"}
    unfinished = sf.query("SELECT Id, Status, ScheduledStartTime, PackageVersion.Name, "
                          "(SELECT SubscriberOrganizationKey, Status FROM PackagePushJobs) "
                          "FROM PackagePushRequest WHERE Status IN ('Created', 'Pending') "
                          "ORDER BY ScheduledStartTime")["records"]
    assert [r["Status"] for r in unfinished] == ["Created", "Pending"]
    # The Created one is the failed org's re-push (its start long past): it has the job.
    assert unfinished[0]["PackagePushJobs"]["totalSize"] == 1
    errors = sf.query("SELECT ErrorSeverity, ErrorType, ErrorTitle, PackagePushJob.Status FROM "
                      "PackagePushError")["records"]
    assert errors and all(e["PackagePushJob"]["Status"] == "Failed" for e in errors)
    with pytest.raises(SalesforceMalformedRequest):  # subscriber orgs have no push objects
        client(sim).query("SELECT Id FROM PackagePushRequest")


def test_demo_set_and_deterministic_ids() -> None:
    demo = Simulator(scenario_set="demo")
    again = Simulator(scenario_set="demo")
    assert [o.org_id for o in demo.orgs] == [o.org_id for o in again.orgs]
    assert 18 <= len(demo.orgs) <= 24
    assert {o.scenario for o in demo.orgs} == set(SCENARIOS)
    ids = {o.org_id for o in demo.orgs}
    assert len(ids) == len(demo.orgs)
    for o in demo.orgs:
        assert normalize_org_id(o.org_id) == o.org_id and o.org_id.startswith("00D")
        assert o.kind in ("production", "sandbox")
    sandboxes = [o for o in demo.orgs if o.kind == "sandbox"]
    assert 2 <= len(sandboxes) <= 3 and all(o.parent_org_id in ids for o in sandboxes)
    names = [o.name for o in demo.orgs]
    assert "[bold red]Evil[/] AG" in names and any("\x1b]0;pwned\x07" in n for n in names)
    assert any("ü" in n or "ö" in n for n in names)
    assert sum(o.vendor_org is not None for o in (demo,)) == 1
    assert Simulator(scenario_set="all").orgs[0].org_id == demo.orgs[0].org_id
    assert Simulator(scenario_set="empty").orgs == []


def test_make_org_for_benchmarks() -> None:
    s = Simulator(scenario_set="empty")
    orgs = [s.make_org("healthy", i) for i in range(500)]  # how fast: bench/, not here
    assert len({o.org_id for o in orgs}) == 500 and len({o.username for o in orgs}) == 500
    assert s.org(orgs[7].org_id[:15]) is orgs[7]
    assert s.make_org("healthy", 500).org_id not in {o.org_id for o in orgs}
    with pytest.raises(ValueError):
        s.make_org("healthy", 3)  # already there
    with pytest.raises(ValueError):
        s.make_org("no_such_scenario", 0)


def test_counters(sim: Simulator) -> None:
    sim.reset_counters()
    assert sim.request_count() == 0 and sim.login_count() == 0
    client(sim, "api_near_limit").query("SELECT Id FROM Organization")
    assert sim.request_count() == 1
    assert sim.request_count(org(sim, "api_near_limit").org_id) == 1


# ---------------------------------------------------------------- CLI


def test_cli_serve_prints_url_ca_and_writes_private_credentials() -> None:
    from juston_tui.commands import Context
    from juston_tui.commands.simulator import register, serve

    parser = argparse.ArgumentParser()
    register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["simulator", "--scenario", "all", "--batch-size", "5"])
    out = io.StringIO()
    stop = threading.Event()
    result: list[int] = []
    thread = threading.Thread(target=lambda: result.append(serve(args, Context(args, out=out),
                                                                 stop)))
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while "Serving until" not in out.getvalue() and time.monotonic() < deadline:
            time.sleep(0.05)
        text = out.getvalue()
        url = text.split("Simulator listening on ", 1)[1].split()[0]
        creds_path = text.split("Credentials:", 1)[1].split()[0]
        assert url.startswith("https://127.0.0.1:")
        assert stat.S_IMODE(os.stat(creds_path).st_mode) == 0o600
        with open(creds_path, encoding="utf-8") as fh:
            creds = json.load(fh)
        assert creds["instance_url"] == url and len(creds["orgs"]) == len(SCENARIOS)
        assert creds["orgs"][0]["access_token"] not in text  # secrets only in the file
        assert "\x1b" not in text  # the escape-sequence org name is cleaned
        s = requests.Session()
        s.verify, s.trust_env = creds["ca_path"], False
        sf = Salesforce(instance_url=url, session_id=creds["orgs"][0]["access_token"], version=V,
                        session=s)
        assert sf.query("SELECT Id FROM Organization")["totalSize"] == 1
    finally:
        stop.set()
        thread.join(10)
    assert result == [0] and not os.path.exists(creds_path)


def test_strict_by_default_enforces_salesforce_composite_rules(sim: Simulator) -> None:
    """Salesforce allows 5 queries per composite and no Tooling URLs in /composite; the
    simulator enforces both unless built with strict=False."""
    assert sim.strict
    q = f"/services/data/v{V}/query/?q=SELECT+Id+FROM+Organization"
    body = {"compositeRequest": [{"method": "GET", "url": q, "referenceId": f"q{i}"}
                                 for i in range(6)]}
    body["compositeRequest"].append({"method": "GET", "referenceId": "tool", "url":
                                     f"/services/data/v{V}/tooling/query/?q=SELECT+Id+FROM+"
                                     "InstalledSubscriberPackage"})
    res = client(sim).restful("composite", method="POST", json=body)["compositeResponse"]
    assert [r["httpStatusCode"] for r in res] == [200] * 5 + [400, 404]
    sim.strict = False
    try:
        res = client(sim).restful("composite", method="POST", json=body)["compositeResponse"]
        assert [r["httpStatusCode"] for r in res] == [200] * 7
    finally:
        sim.strict = True
