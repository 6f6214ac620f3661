"""Check rules (facts -> verdicts), fact collection, error wording and settings, no server."""

from __future__ import annotations

from datetime import date

import pytest

from juston_tui.model import CHECK_IDS
from juston_tui.salesforce import checks as C
from juston_tui.salesforce.errors import (
    APPROVAL_EXPLANATION,
    describe_body,
    describe_error,
    scrub,
)
from juston_tui.salesforce.probe import ProbeResult, build_queries, collect_facts, soql_quote
from juston_tui.salesforce.settings import ProbeSettings, parse_version, version_text

S = ProbeSettings.defaults()
TODAY = date(2025, 6, 1)


# -- organization ---------------------------------------------------------------------------
def org_fact(**over):
    fact = {"org_id": "00D5g000004Xyz1EAC", "name": "Acme", "edition": "Enterprise Edition",
            "is_sandbox": False, "instance": "EU45", "org_type": "production"}
    fact.update(over)
    return fact


def test_organization_ok_warn_unknown() -> None:
    assert C.check_organization(org_fact()).verdict == "ok"
    assert "Acme, Enterprise Edition, EU45" in C.check_organization(org_fact()).reason
    pro = C.check_organization(org_fact(edition="Professional Edition"))
    assert pro.verdict == "warn" and pro.fix == C.FIX_EDITION
    kind = C.check_organization(org_fact(is_sandbox=True), registered_kind="production")
    assert kind.verdict == "warn" and "sandbox" in kind.reason
    assert C.check_organization(None).verdict == "unknown"
    assert C.check_organization(org_fact(), error="INVALID_TYPE: x").verdict == "unknown"


# -- packages -------------------------------------------------------------------------------
def pkg(version):
    return {"name": "JustOn Billing & Invoice Management", "namespace": "ONB2",
            "version": version, "version_id": "04t..."}


@pytest.mark.parametrize(
    ("version", "current", "verdict"),
    [("2.80.2", "2.80", "ok"), ("2.81.0", "2.80", "ok"), ("2.78.1", "2.80", "warn"),
     ("2.80.0", "2.80.1", "warn"), ("1.99.9", "2.80", "warn"), ("weird", "2.80", "unknown")],
)
def test_package_versions(version: str, current: str, verdict: str) -> None:
    settings = S.with_current_versions({"billing": current})
    check = C.check_package("billing", pkg(version), settings)
    assert check.verdict == verdict
    if verdict == "warn":
        assert check.fix == C.FIX_OUTDATED and "outdated" in check.reason


def test_package_missing_billing_fails_cash_only_when_used() -> None:
    billing = C.check_package("billing", None, S)
    assert billing.verdict == "fail" and "Get It Now" in billing.fix
    assert "Install for Admins Only" in billing.fix
    assert C.check_package("cash", None, S).verdict == "ok"
    assert "not used by this org" in C.check_package("cash", None, S).reason
    assert C.check_package("cash", None, S, org_products=["billing", "cash"]).verdict == "fail"
    # An org that only uses Cash Management does not need Billing.
    assert C.check_package("billing", None, S, org_products=["cash"]).verdict == "ok"
    assert C.check_package("billing", None, S, error="boom").verdict == "unknown"


# -- licences -------------------------------------------------------------------------------
def lic(**over):
    row = {"namespace": "ONB2", "status": "Active", "allowed": 25, "used": 17,
           "expires": "2026-12-31T00:00:00.000+0000"}
    row.update(over)
    return row


@pytest.mark.parametrize(
    ("row", "verdict", "words"),
    [
        (lic(), "ok", "17/25 used"),
        (lic(status="Expired"), "fail", "expired"),
        (lic(expires="2025-05-20T00:00:00.000+0000"), "fail", "expired on 2025-05-20"),
        (lic(used=25), "warn", "all 25 licences are used"),
        (lic(expires="2025-06-20T00:00:00.000+0000"), "warn", "expires in 19 day(s)"),
        (lic(used=0), "warn", "no user has a licence"),
        (lic(allowed=-1, used=400), "ok", "site licence"),
        (lic(expires=None), "ok", "17/25 used"),
    ],
)
def test_licence_branches(row: dict, verdict: str, words: str) -> None:
    check = C.check_licenses([row], S, today=TODAY)
    assert check.verdict == verdict
    assert words in check.reason


def test_licences_worst_row_wins_and_missing_rows() -> None:
    rows = [lic(), lic(namespace="JOCM", used=10, allowed=10), lic(status="Expired")]
    assert C.check_licenses(rows, S, today=TODAY).verdict == "fail"
    assert C.check_licenses([], S, installed={"billing": True}).verdict == "unknown"
    assert "not installed" in C.check_licenses([], S).reason
    assert C.check_licenses(None, S, error="x").verdict == "unknown"


# -- connected app --------------------------------------------------------------------------
def app(**over):
    fact = {"found": True, "name": "JustOn Platform", "admin_approved": True,
            "profiles": ["System Administrator"], "permission_sets": ["JustOn User"],
            "sysadmin": True}
    fact.update(over)
    return fact


def test_permitted_users() -> None:
    assert C.check_permitted_users(app(), S).verdict == "ok"
    self_auth = C.check_permitted_users(app(admin_approved=False), S)
    assert self_auth.verdict == "fail"
    assert C.PLATFORM_ERROR in self_auth.reason
    for words in ("Setup, then navigate to Apps > Connected Apps > Manage Connected Apps",
                  "Click Edit in the row of JustOn Platform",
                  "Admin approved users are pre-authorized", "Click Save",
                  "Manage Profiles", "at least, System Administrator"):
        assert words in self_auth.fix
    assert C.check_permitted_users({"found": False}, S, package_installed=True).verdict == "fail"
    assert C.check_permitted_users({"found": False}, S,
                                   package_installed=False).verdict == "unknown"
    assert C.check_permitted_users(app(admin_approved=None), S).verdict == "unknown"
    assert C.check_permitted_users(None, S, error="x").verdict == "unknown"


def test_sysadmin() -> None:
    assert C.check_sysadmin(app(), S).verdict == "ok"
    missing = C.check_sysadmin(app(profiles=["Standard User"], sysadmin=False), S)
    assert missing.verdict == "fail" and "Manage Profiles" in missing.fix
    nobody = C.check_sysadmin(app(profiles=[], permission_sets=[], sysadmin=False), S)
    assert nobody.verdict == "fail" and "admins" in nobody.reason
    assert C.check_sysadmin({"found": False}, S).verdict == "unknown"
    assert C.check_sysadmin(None, S, error="x").verdict == "unknown"


# -- permissions ----------------------------------------------------------------------------
def test_balance() -> None:
    full = {"object": True, "fields": True, "tab": True, "permission_sets": ["JustOn Billing"]}
    assert C.check_balance(full).verdict == "ok"
    partial = C.check_balance({"object": True, "fields": True, "tab": False,
                               "permission_sets": []})
    assert partial.verdict == "warn" and "the Balance tab" in partial.reason
    none = C.check_balance({"object": False, "fields": False, "tab": False,
                            "permission_sets": []})
    assert none.verdict == "fail"
    assert "Balance object, its fields and the Balance tab" in none.fix
    assert C.check_balance(full, package_installed=False).verdict == "unknown"
    assert C.check_balance(None).verdict == "unknown"
    assert C.check_balance(full, error="x").verdict == "unknown"


def test_task_type() -> None:
    assert C.check_task_type({"permission_sets": ["JustOn Billing"]}).verdict == "ok"
    missing = C.check_task_type({"permission_sets": []})
    assert missing.verdict == "fail" and "Type field of the Task object" in missing.fix
    assert C.check_task_type(None).verdict == "unknown"
    assert C.check_task_type({}, error="x").verdict == "unknown"


# -- API usage ------------------------------------------------------------------------------
@pytest.mark.parametrize(("used", "verdict"), [(0, "ok"), (13499, "ok"), (13500, "warn"),
                                               (15000, "warn")])
def test_api_usage(used: int, verdict: str) -> None:
    assert C.check_api_usage({"used": used, "max": 15000}, S).verdict == verdict


def test_api_usage_unknown() -> None:
    assert C.check_api_usage(None, S).verdict == "unknown"
    assert C.check_api_usage({"used": 1, "max": 0}, S).verdict == "unknown"
    assert C.check_api_usage(None, S, error="x").verdict == "unknown"


# -- evaluate + collect ---------------------------------------------------------------------
def _healthy_result() -> ProbeResult:
    def ps(pid, label, *, profile=None, obj=False, fields=(), app_ids=()):
        return {
            "Id": pid, "Name": label.replace(" ", "_"), "Label": label,
            "IsOwnedByProfile": profile is not None,
            "Profile": {"Name": profile} if profile else None,
            "ObjectPerms": {"done": True, "records": [
                {"SobjectType": "ONB2__Balance__c", "PermissionsRead": True}]} if obj else None,
            "FieldPerms": {"done": True, "records": [
                {"SobjectType": f.split(".")[0], "Field": f, "PermissionsRead": True}
                for f in fields]} if fields else None,
            "SetupEntityAccessItems": {"done": True, "records": [
                {"SetupEntityId": a} for a in app_ids]} if app_ids else None,
        }

    app_id = "0H45g000000PqRsCAK"
    return ProbeResult(
        records={
            "org": [{"Id": "00D5g000004Xyz1EAC", "Name": "Acme", "IsSandbox": False,
                     "OrganizationType": "Enterprise Edition", "InstanceName": "EU45",
                     "TrialExpirationDate": None}],
            "licenses": [{"NamespacePrefix": "ONB2", "Status": "Active", "AllowedLicenses": 25,
                          "UsedLicenses": 17, "ExpirationDate": "2026-12-31T00:00:00.000+0000"}],
            "app": [{"Id": app_id, "Name": "JustOn Platform",
                     "OptionsAllowAdminApprovedUsersOnly": True}],
            "permission_sets": [
                ps("0PS000000000001", "00e5g000000Adm1", profile="System Administrator",
                   obj=True, fields=("ONB2__Balance__c.ONB2__Amount__c", "Task.Type"),
                   app_ids=(app_id[:15],)),
                ps("0PS000000000002", "JustOn Billing", obj=True,
                   fields=("ONB2__Balance__c.ONB2__Amount__c", "Task.Type")),
                ps("0PS000000000003", "JustOn User", app_ids=(app_id, "0H4OTHER0000000")),
                ps("0PS000000000004", "Object only", obj=True),
            ],
            "balance_tab": [
                {"ParentId": "0PS000000000002AAA", "Name": "ONB2__Balance__c",
                 "Visibility": "DefaultOn", "Parent": {"IsOwnedByProfile": False}},
                {"ParentId": "0PS000000000001AAA", "Name": "ONB2__Balance__c",
                 "Visibility": "DefaultOff", "Parent": {"IsOwnedByProfile": True}},
            ],
            "packages": [{"SubscriberPackage": {"NamespacePrefix": "ONB2", "Name": "JustOn B"},
                          "SubscriberPackageVersion": {"Id": "04t1", "Name": "2.80",
                                                       "MajorVersion": 2, "MinorVersion": 80,
                                                       "PatchVersion": 3}},
                         {"SubscriberPackage": {"NamespacePrefix": "XYZ", "Name": "Other"},
                          "SubscriberPackageVersion": {"MajorVersion": 1, "MinorVersion": 0}}],
        },
        api_usage={"used": 18, "max": 15000},
    )


def test_collect_facts_contract_shapes() -> None:
    facts = collect_facts(_healthy_result(), S)
    assert facts["organization"]["org_type"] == "production"
    assert facts["packages"] == {"billing": {"name": "JustOn B", "namespace": "ONB2",
                                             "version": "2.80.3", "version_id": "04t1",
                                             "version_name": "2.80"}, "cash": None}
    assert facts["licenses"][0] == {"namespace": "ONB2", "status": "Active", "allowed": 25,
                                    "used": 17, "expires": "2026-12-31T00:00:00.000+0000"}
    assert facts["connected_app"]["profiles"] == ["System Administrator"]
    assert facts["connected_app"]["permission_sets"] == ["JustOn User"]
    assert facts["connected_app"]["sysadmin"] is True
    # Profiles do not count as the permission set seed 001 asks for.
    assert facts["permissions"]["balance"] == {"object": True, "fields": True, "tab": True,
                                               "permission_sets": ["JustOn Billing"]}
    assert facts["permissions"]["task_type"] == {"permission_sets": ["JustOn Billing"]}
    assert facts["api_usage"] == {"used": 18, "max": 15000}
    checks = C.evaluate(facts, S, today=TODAY)
    assert [c.id for c in checks] == list(CHECK_IDS)
    assert {c.id: c.verdict for c in checks} == dict.fromkeys(CHECK_IDS, "ok")


def test_failed_subrequest_only_affects_its_checks() -> None:
    result = _healthy_result()
    del result.records["permission_sets"]
    result.errors["permission_sets"] = "INVALID_TYPE: sObject type 'PermissionSet' is not supported"
    del result.records["packages"]
    result.errors["packages"] = "timed out"
    verdicts = {c.id: c.verdict for c in C.evaluate(collect_facts(result, S), S, today=TODAY)}
    assert verdicts["organization"] == "ok" and verdicts["licenses"] == "ok"
    for cid in ("connected_app.permitted_users", "connected_app.sysadmin", "permissions.balance",
                "permissions.task_type", "package.billing", "package.cash"):
        assert verdicts[cid] == "unknown", cid


def test_queries_fit_one_composite_and_quote() -> None:
    queries = build_queries(S)
    assert len(queries) <= 5  # Salesforce's limit of query subrequests per composite
    assert "ONB2__Balance__c" in queries["permission_sets"]
    assert soql_quote("O'Brien\\x") == "'O\\'Brien\\\\x'"


# -- errors ---------------------------------------------------------------------------------
def test_error_lines_are_clean_and_secret_free() -> None:
    from simple_salesforce.exceptions import (
        SalesforceAuthenticationFailed,
        SalesforceExpiredSession,
        SalesforceGeneralError,
        SalesforceMalformedRequest,
        SalesforceRefusedRequest,
    )

    secret = "00Dxx!AQsupersecrettoken"
    approval = SalesforceAuthenticationFailed("invalid_grant", "user hasn't approved this consumer")
    assert APPROVAL_EXPLANATION in describe_error(approval)
    assert "Admin approved users are pre-authorized" in describe_error(approval)
    limit = SalesforceRefusedRequest("https://h/x", 403, "q", [
        {"errorCode": "REQUEST_LIMIT_EXCEEDED", "message": "TotalRequests Limit exceeded."}])
    assert "REQUEST_LIMIT_EXCEEDED" in describe_error(limit)
    expired = SalesforceExpiredSession("https://h/x", 401, "q", [
        {"errorCode": "INVALID_SESSION_ID", "message": f"bad {secret}"}])
    line = describe_error(expired, secrets=[secret], login_hint="run juston-tui login X")
    assert "session expired" in line and secret not in line
    soql = SalesforceMalformedRequest("https://h/x", 400, "q", [{"errorCode": "INVALID_TYPE",
        "message": "\nSELECT Id FROM Accountz\n ^\nERROR at Row:1:Column:16\nsObject type "
                   "'Accountz' is not supported."}])
    assert describe_error(soql) == "INVALID_TYPE: sObject type 'Accountz' is not supported."
    html = SalesforceGeneralError("https://h:8443/x", 503, "q", "<html>down</html>")
    assert describe_error(html) == "Salesforce server error (HTTP 503) at h:8443"
    echoed = describe_error(RuntimeError(f"server said {secret}\x1b[31m"), secrets=[secret])
    assert secret not in echoed and "\x1b" not in echoed
    assert describe_body(400, [{"errorCode": "INVALID_FIELD", "message": "No such column"}]) == (
        "INVALID_FIELD: No such column")
    assert describe_body(502, "garbage") == "HTTP 502"
    assert scrub("a-----BEGIN xyz", ["-----BEGIN"]) == "a-----BEGIN xyz"


# -- settings -------------------------------------------------------------------------------
def test_settings_from_releases_and_store(store) -> None:
    assert S.namespaces == {"billing": "ONB2", "cash": "JOCM"}
    assert S.connected_app == "JustOn Platform"
    assert parse_version("2.80.3") == (2, 80, 3) and parse_version("x") is None
    assert version_text(2, 80, 3) == "2.80.3"
    store.set_setting("current_versions", {"billing": "2.81", "cash": "bad", "other": "1.0"})
    settings = ProbeSettings.for_store(store)
    assert settings.current_versions == {"billing": "2.81", "cash": S.current_versions["cash"]}


# -- login hosts ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("values", "domain", "rewrite"),
    [
        ({}, "login", False),
        ({"kind": "sandbox"}, "test", False),
        ({"domain": "test"}, "test", False),
        ({"domain": "acme.my"}, "acme.my", False),
        ({"instance_url": "https://acme--uat.sandbox.my.salesforce.com"},
         "acme--uat.sandbox.my", False),
        ({"instance_url": "https://127.0.0.1:8443"}, "login", True),
        ({"instance_url": "https://127.0.0.1:8443", "auth_method": "client-credentials",
          "consumer_key": "k"}, "juston-tui-login.my", True),
        ({"instance_url": "https://proxy.example.com", "domain": "acme.my"}, "acme.my", True),
    ],
)
def test_login_domain_and_host_rewrite(values: dict, domain: str, rewrite: bool) -> None:
    from juston_tui.model import Org
    from juston_tui.salesforce.connection import login_domain, needs_login_rewrite

    org = Org.create(org_id="00D5g000004Xyz1EAC", name="Acme", **values)
    assert login_domain(org) == domain
    assert needs_login_rewrite(org) is rewrite


def test_session_never_takes_the_ca_from_the_environment(monkeypatch) -> None:
    import threading

    import requests

    from juston_tui.salesforce.connection import OrgSession
    from juston_tui.salesforce.errors import Cancelled

    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/nonexistent/ca.pem")
    session = OrgSession(verify="/my/ca.pem", timeout=5)
    settings = session.merge_environment_settings("https://x.example", {}, None, None, None)
    assert settings["verify"] == "/my/ca.pem"
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(Cancelled):
        OrgSession(verify="/my/ca.pem", cancel=cancel).get("https://x.example")
    expired = OrgSession(verify="/my/ca.pem", deadline=0.0)
    with pytest.raises(requests.exceptions.Timeout):
        expired.get("https://x.example")
