"""Check rules (typed facts -> verdicts), fact collection, error wording and settings, no
server."""

from __future__ import annotations

from dataclasses import replace
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
from juston_tui.salesforce.facts import (
    ApiUsage,
    BalanceFacts,
    ConnectedAppFacts,
    CurrentVersion,
    Facts,
    LicenceFacts,
    OrgFacts,
    PackageFacts,
    ReadError,
    TaskTypeFacts,
)
from juston_tui.salesforce.probe import ProbeResult, build_queries, collect_facts, soql_quote
from juston_tui.salesforce.settings import (
    VENDOR_VERSIONS_KEY,
    ProbeSettings,
    parse_version,
    remember_vendor_versions,
    version_text,
)

S = ProbeSettings.defaults()
TODAY = date(2025, 6, 1)
BILLING = PackageFacts("JustOn Billing & Invoice Management", "ONB2", "2.80.2", "04t...")
APP = ConnectedAppFacts(found=True, name="JustOn Platform", id="0H4", admin_approved=True,
                        profiles=("System Administrator",), permission_sets=("JustOn User",),
                        admin_profile="System Administrator", admin_preauthorized=True)


def facts(**over: object) -> Facts:
    """A healthy org's facts, with some parts replaced."""
    base = Facts(
        organization=OrgFacts("00D5g000004Xyz1EAC", "Acme", "Enterprise Edition", False, "EU45",
                              "production"),
        packages={"billing": BILLING, "cash": None},
        licenses=(LicenceFacts("ONB2", "Active", 25, 17, "2026-12-31T00:00:00.000+0000"),),
        connected_app=APP,
        balance=BalanceFacts(("JustOn Billing",), ("JustOn Billing",), ("JustOn Billing",)),
        task_type=TaskTypeFacts(("JustOn Billing",)),
        api_usage=ApiUsage(18, 15000),
        current=dict(S.current),
        api_user="admin@acme.example",
    )
    return replace(base, **over)  # type: ignore[arg-type]


def refused(code: str = "INVALID_TYPE", *objects: str) -> ReadError:
    return ReadError(f"{code}: sObject type 'PermissionSet' is not supported", code,
                     objects or ("PermissionSet", "ObjectPermissions", "FieldPermissions",
                                 "SetupEntityAccess"))


# -- organization ---------------------------------------------------------------------------
def test_organization_ok_fail_warn_unknown() -> None:
    ok = C.check_organization(facts().organization, S)
    assert ok.verdict == "ok" and "Acme, Enterprise Edition, EU45" in ok.reason
    pro = C.check_organization(OrgFacts(name="Acme", edition="Professional Edition"), S)
    assert pro.verdict == "fail" and pro.fix == C.FIX_EDITION
    assert "Enterprise Edition" in pro.reason  # says what it needs
    kind = C.check_organization(OrgFacts(edition="Enterprise Edition", is_sandbox=True), S,
                                registered_kind="production")
    assert kind.verdict == "warn" and "sandbox" in kind.reason
    assert C.check_organization(None, S).verdict == "unknown"
    assert C.check_organization(OrgFacts(name="Acme"), S).verdict == "unknown"
    assert C.check_organization(facts().organization, S,
                                error=ReadError("INVALID_TYPE: x")).verdict == "unknown"


# -- packages -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("version", "current", "verdict"),
    [("2.80.2", "2.80", "ok"), ("2.81.0", "2.80", "ok"), ("2.78.1", "2.80", "warn"),
     ("2.80.0", "2.80.1", "warn"), ("1.99.9", "2.80", "warn"), ("weird", "2.80", "unknown")],
)
def test_package_versions(version: str, current: str, verdict: str) -> None:
    settings = S.with_current_versions({"billing": current})
    f = facts(current=dict(settings.current))
    check = C.check_package("billing", replace(BILLING, version=version), f, settings)
    assert check.verdict == verdict
    if verdict == "warn":
        assert check.fix == C.FIX_OUTDATED and "outdated" in check.reason
        assert f"current {current} (set in the store)" in check.reason


def test_current_version_is_labelled_with_where_it_comes_from() -> None:
    assumed = C.check_package("billing", BILLING, facts(), S)
    assert assumed.reason.endswith("(assumed current 2.80 (releases.toml of 2026-03-01))")
    vendor = CurrentVersion("2.80.3", "vendor", "2026-05-02", "vendor org 00D000000000001")
    behind = C.check_package("billing", BILLING, facts(current={"billing": vendor}), S)
    assert behind.verdict == "warn"
    assert "current 2.80.3 (vendor org 00D000000000001 of 2026-05-02)" in behind.reason
    unknown = C.check_package("billing", BILLING, facts(current={}), S)
    assert unknown.verdict == "unknown" and "not known" in unknown.reason


def test_package_missing_billing_fails_cash_only_when_used() -> None:
    nothing = facts(packages={"billing": None, "cash": None})
    billing = C.check_package("billing", None, nothing, S)
    assert billing.verdict == "fail" and "Get It Now" in billing.fix
    assert "Install for Admins Only" in billing.fix
    assert C.check_package("cash", None, nothing, S).verdict == "ok"
    assert "not used by this org" in C.check_package("cash", None, nothing, S).reason
    assert C.check_package("cash", None, nothing, S,
                           org_products=["billing", "cash"]).verdict == "fail"
    # An org that only uses Cash Management does not need Billing.
    assert C.check_package("billing", None, nothing, S, org_products=["cash"]).verdict == "ok"
    broken = facts(packages=None, errors={"packages": ReadError("boom")})
    assert C.check_package("billing", None, broken, S).verdict == "unknown"


# -- licences -------------------------------------------------------------------------------
def lic(**over: object) -> LicenceFacts:
    return replace(LicenceFacts("ONB2", "Active", 25, 17, "2026-12-31T00:00:00.000+0000"),
                   **over)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("row", "verdict", "words"),
    [
        (lic(), "ok", "17/25 used"),
        (lic(status="Expired"), "fail", "expired"),
        (lic(expires="2025-05-20T00:00:00.000+0000"), "fail", "expired on 2025-05-20"),
        (lic(used=25), "warn", "all 25 licences are used"),
        (lic(expires="2025-06-20T00:00:00.000+0000"), "warn", "expires in 19 day(s)"),
        (lic(used=0), "fail", "no user has a licence yet (0 of 25 assigned)"),
        (lic(allowed=-1, used=0), "ok", "site licence"),
        (lic(allowed=-1, used=400), "ok", "site licence"),
        (lic(expires=""), "ok", "17/25 used"),
    ],
)
def test_licence_branches(row: LicenceFacts, verdict: str, words: str) -> None:
    check = C.check_licenses([row], facts(), S, today=TODAY)
    assert check.verdict == verdict
    assert words in check.reason
    if verdict != "ok":
        assert check.fix


def test_licences_worst_row_wins_and_missing_rows() -> None:
    rows = [lic(), lic(namespace="JOCM", used=10, allowed=10), lic(status="Expired")]
    assert C.check_licenses(rows, facts(), S, today=TODAY).verdict == "fail"
    assert C.check_licenses([], facts(), S).verdict == "unknown"
    nothing = facts(packages={"billing": None, "cash": None})
    assert "not installed" in C.check_licenses([], nothing, S).reason
    broken = facts(errors={"licenses": ReadError("x")})
    assert C.check_licenses(None, broken, S).verdict == "unknown"


# -- connected app --------------------------------------------------------------------------
def test_permitted_users() -> None:
    assert C.check_permitted_users(APP, facts(), S).verdict == "ok"
    self_auth = C.check_permitted_users(replace(APP, admin_approved=False), facts(), S)
    assert self_auth.verdict == "fail"
    assert C.PLATFORM_ERROR in self_auth.reason
    for words in ("Setup, then navigate to Apps > Connected Apps > Manage Connected Apps",
                  "Click Edit in the row of JustOn Platform",
                  "Admin approved users are pre-authorized", "Click Save",
                  "Manage Profiles", "at least, System Administrator"):
        assert words in self_auth.fix
    absent = ConnectedAppFacts(found=False, name="JustOn Platform")
    assert C.check_permitted_users(absent, facts(), S).verdict == "fail"
    nothing = facts(packages={"billing": None, "cash": None})
    assert C.check_permitted_users(absent, nothing, S).verdict == "unknown"
    assert C.check_permitted_users(replace(APP, admin_approved=None), facts(),
                                   S).verdict == "unknown"
    broken = facts(errors={"connected_app": ReadError("x")})
    assert C.check_permitted_users(None, broken, S).verdict == "unknown"


def test_sysadmin_is_judged_by_the_profile_facts_not_its_name() -> None:
    assert C.check_sysadmin(APP, facts(), S).verdict == "ok"
    german = replace(APP, profiles=("Systemadministrator",), admin_profile="Systemadministrator")
    ok = C.check_sysadmin(german, facts(), S)
    assert ok.verdict == "ok"
    assert "Systemadministrator (the standard System Administrator profile)" in ok.reason
    # A custom profile called "System Administrator" is not the standard one.
    lookalike = replace(APP, profiles=("System Administrator",),
                        admin_profile="Systemadministrator", admin_preauthorized=False)
    fake = C.check_sysadmin(lookalike, facts(), S)
    assert fake.verdict == "fail" and "Manage Profiles" in fake.fix
    missing = C.check_sysadmin(replace(APP, profiles=("Standard User",),
                                       admin_preauthorized=False), facts(), S)
    assert missing.verdict == "fail" and "not pre-authorized" in missing.reason
    nobody = C.check_sysadmin(replace(APP, profiles=(), permission_sets=(),
                                      admin_preauthorized=False), facts(), S)
    assert nobody.verdict == "fail" and "admins" in nobody.reason
    no_admin_at_all = C.check_sysadmin(replace(APP, admin_profile="", admin_preauthorized=False),
                                       facts(), S)
    assert no_admin_at_all.verdict == "unknown"
    assert C.check_sysadmin(ConnectedAppFacts(found=False), facts(), S).verdict == "unknown"
    broken = facts(errors={"connected_app.access": ReadError("x")})
    assert C.check_sysadmin(APP, broken, S).verdict == "unknown"


# -- permissions ----------------------------------------------------------------------------
def test_balance() -> None:
    full = BalanceFacts(("JustOn Billing",), ("JustOn Billing",), ("JustOn Billing",))
    assert C.check_balance(full, facts()).verdict == "ok"
    spread = C.check_balance(BalanceFacts(("A",), ("B",), ("C",)), facts())
    assert spread.verdict == "warn" and "spread over several" in spread.reason
    partial = C.check_balance(BalanceFacts(("A",), ("A",), ()), facts())
    assert partial.verdict == "fail" and "the Balance tab" in partial.reason
    none = C.check_balance(BalanceFacts(), facts())
    assert none.verdict == "fail"
    assert "Balance object, its fields and the Balance tab" in none.fix
    nothing = facts(packages={"billing": None, "cash": None})
    assert C.check_balance(full, nothing).verdict == "unknown"
    assert C.check_balance(None, facts()).verdict == "unknown"
    broken = facts(errors={"balance_tab": ReadError("x")})
    assert C.check_balance(full, broken).verdict == "unknown"


def test_task_type() -> None:
    assert C.check_task_type(TaskTypeFacts(("JustOn Billing",)), facts()).verdict == "ok"
    missing = C.check_task_type(TaskTypeFacts(), facts())
    assert missing.verdict == "fail" and "Type field of the Task object" in missing.fix
    assert C.check_task_type(None, facts()).verdict == "unknown"
    broken = facts(errors={"permissions": ReadError("x")})
    assert C.check_task_type(TaskTypeFacts(), broken).verdict == "unknown"


# -- API usage ------------------------------------------------------------------------------
@pytest.mark.parametrize(("used", "verdict"), [(0, "ok"), (13499, "ok"), (13500, "warn"),
                                               (15000, "warn")])
def test_api_usage(used: int, verdict: str) -> None:
    assert C.check_api_usage(ApiUsage(used, 15000), S).verdict == verdict


def test_api_usage_unknown() -> None:
    assert C.check_api_usage(None, S).verdict == "unknown"
    assert C.check_api_usage(ApiUsage(1, 0), S).verdict == "unknown"


def test_browser_caching() -> None:
    assert C.check_browser_caching(False).verdict == "ok"
    on = C.check_browser_caching(True)
    assert on.verdict == "fail" and C.CACHING_LABEL in on.reason
    assert C.check_browser_caching(None).verdict == "unknown"


# -- missing permissions of the API user ----------------------------------------------------
@pytest.mark.parametrize("code", ["INVALID_TYPE", "INSUFFICIENT_ACCESS"])
def test_missing_view_setup_is_named_with_user_and_fix(code: str) -> None:
    f = facts(connected_app=None, balance=None, task_type=None, errors={
        "connected_app": refused(code, "ConnectedApplication"),
        "connected_app.access": refused(code), "permissions": refused(code),
        "balance_tab": refused(code, "PermissionSetTabSetting")})
    [problem] = C.diagnose(f)
    assert "admin@acme.example lacks the \"View Setup and Configuration\"" in problem.summary
    assert code in problem.summary and "ConnectedApplication" in problem.summary
    assert len(problem.checks) == 4
    verdicts = {c.id: c for c in C.evaluate(f, S, today=TODAY)}
    for cid in problem.checks:
        assert verdicts[cid].verdict == "unknown"
        assert "View Setup and Configuration" in verdicts[cid].reason
        assert "admin@acme.example" in verdicts[cid].fix
    assert verdicts["organization"].verdict == "ok"


def test_other_read_errors_are_no_permission_problem() -> None:
    f = facts(errors={"permissions": ReadError("timed out"),
                      "connected_app": ReadError("INVALID_TYPE: x", "INVALID_TYPE",
                                                 ("PackageLicense",))})
    assert C.diagnose(f) == ()
    check = C.check_task_type(None, f)
    assert check.verdict == "unknown" and "timed out" in check.reason and not check.fix
    who = C.diagnose(facts(api_user="", auth_method="client-credentials",
                           errors={"permissions": refused()}))
    assert "client-credentials run-as user" in who[0].summary


def test_unreachable_org_has_every_check_unknown() -> None:
    checks = C.unreachable("login failed")
    assert [c.id for c in checks] == list(CHECK_IDS)
    assert {c.verdict for c in checks} == {"unknown"}
    disabled = C.unreachable("API_DISABLED_FOR_ORG: no API")
    assert disabled[0].fix == C.FIX_EDITION


# -- evaluate + collect ---------------------------------------------------------------------
def _ps(pid: str, label: str, *, profile: str | None = None, custom: bool = True,
        modify_all: bool = False, obj: bool = False, fields: tuple[str, ...] = (),
        app_ids: tuple[str, ...] = (), empty_as_list: bool = False) -> dict:
    """A PermissionSet record as REST returns it; an empty child relationship is null (or,
    with `empty_as_list`, the `{"records": []}` other clients produce)."""
    def children(rows: list[dict]) -> dict | None:
        if rows or empty_as_list:
            return {"totalSize": len(rows), "done": True, "records": rows}
        return None

    return {
        "Id": pid, "Name": label.replace(" ", "_"), "Label": label,
        "IsOwnedByProfile": profile is not None, "IsCustom": custom,
        "PermissionsModifyAllData": modify_all,
        "Profile": {"Name": profile} if profile else None,
        "ObjectPerms": children([{"SobjectType": "ONB2__Balance__c", "PermissionsRead": True}]
                                if obj else []),
        "FieldPerms": children([{"SobjectType": f.split(".")[0], "Field": f,
                                 "PermissionsRead": True} for f in fields]),
        "SetupEntityAccessItems": children([{"SetupEntityId": a} for a in app_ids]),
    }


def _healthy_result(*, admin: str = "System Administrator", empty_as_list: bool = False
                    ) -> ProbeResult:
    app_id = "0H45g000000PqRsCAK"
    e = empty_as_list
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
                _ps("0PS000000000001", "00e5g000000Adm1", profile=admin, custom=False,
                    modify_all=True, obj=True,
                    fields=("ONB2__Balance__c.ONB2__Amount__c", "Task.Type"),
                    app_ids=(app_id[:15],), empty_as_list=e),
                _ps("0PS000000000005", "00e5g000000Std1", profile="Standard User",
                    custom=False, empty_as_list=e),
                _ps("0PS000000000002", "JustOn Billing", obj=True,
                    fields=("ONB2__Balance__c.ONB2__Amount__c", "Task.Type"), empty_as_list=e),
                _ps("0PS000000000003", "JustOn User", app_ids=(app_id, "0H4OTHER0000000"),
                    empty_as_list=e),
                _ps("0PS000000000004", "Object only", obj=True, empty_as_list=e),
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


@pytest.mark.parametrize("empty_as_list", [False, True])
def test_collect_facts_reads_null_and_empty_child_relationships(empty_as_list: bool) -> None:
    f = collect_facts(_healthy_result(empty_as_list=empty_as_list), S, api_user="a@b.c")
    assert f.organization is not None and f.organization.org_type == "production"
    assert f.packages == {"billing": PackageFacts("JustOn B", "ONB2", "2.80.3", "04t1", "2.80"),
                          "cash": None}
    assert f.licenses == (LicenceFacts("ONB2", "Active", 25, 17,
                                       "2026-12-31T00:00:00.000+0000"),)
    app = f.connected_app
    assert app is not None and app.profiles == ("System Administrator",)
    assert app.permission_sets == ("JustOn User",)
    assert app.admin_profile == "System Administrator" and app.admin_preauthorized
    # Profiles do not count as the permission set seed 001 asks for.
    assert f.balance is not None and f.balance.covering == ("JustOn Billing",)
    assert f.balance.object_sets == ("JustOn Billing", "Object only")
    assert f.task_type == TaskTypeFacts(("JustOn Billing",))
    assert f.api_usage == ApiUsage(18, 15000) and f.api_user == "a@b.c"
    assert Facts.from_doc(f.to_doc()) == f
    checks = C.evaluate(f, S, today=TODAY)
    assert [c.id for c in checks] == list(CHECK_IDS)
    assert {c.id: c.verdict for c in checks} == dict.fromkeys(CHECK_IDS, "ok")


def test_collect_facts_finds_the_admin_profile_in_any_language() -> None:
    f = collect_facts(_healthy_result(admin="Systemadministrator"), S)
    assert f.connected_app is not None
    assert f.connected_app.admin_profile == "Systemadministrator"
    assert f.connected_app.admin_preauthorized
    result = _healthy_result()
    result.records["permission_sets"][0]["IsCustom"] = True  # a custom clone, not the standard
    clone = collect_facts(result, S).connected_app
    assert clone is not None and not clone.admin_preauthorized and clone.admin_profile == ""


def test_failed_subrequest_only_affects_its_checks() -> None:
    result = _healthy_result()
    del result.records["permission_sets"]
    result.fail("permission_sets", "INVALID_TYPE: sObject type 'PermissionSet' is not supported",
                "INVALID_TYPE")
    del result.records["packages"]
    result.fail("packages", "timed out")
    f = collect_facts(result, S)
    verdicts = {c.id: c.verdict for c in C.evaluate(f, S, today=TODAY)}
    assert verdicts["organization"] == "ok" and verdicts["licenses"] == "ok"
    assert verdicts["connected_app.permitted_users"] == "ok"  # the app itself was read
    for cid in ("connected_app.sysadmin", "permissions.balance", "permissions.task_type",
                "package.billing", "package.cash"):
        assert verdicts[cid] == "unknown", cid
    assert f.errors["permissions"].objects[0] == "PermissionSet"
    assert C.diagnose(f)[0].checks == ("connected_app.sysadmin", "permissions.balance",
                                       "permissions.task_type")


def test_old_snapshot_documents_still_read() -> None:
    old = {"errors": {"packages": "timed out"}, "current_versions": {"billing": "2.80"},
           "connected_app": {"found": True, "name": "JustOn Platform", "sysadmin": True,
                             "profiles": ["System Administrator"]},
           "permissions": {"balance": {"object": True, "permission_sets": ["X"]}},
           "licenses": "garbage", "api_usage": {"used": "x", "max": None}}
    f = Facts.from_doc(old)
    assert f.errors["packages"] == ReadError("timed out")
    assert f.current["billing"] == CurrentVersion("2.80")
    assert f.connected_app is not None and f.connected_app.profiles == ("System Administrator",)
    assert f.licenses is None and f.api_usage is None
    assert Facts.from_doc(None) == Facts() and Facts.from_doc({"organization": 3}) == Facts()


def test_queries_fit_one_composite_and_quote() -> None:
    queries = build_queries(S)
    assert len(queries) <= 5  # Salesforce's limit of query subrequests per composite
    assert "ONB2__Balance__c" in queries["permission_sets"]
    assert "IsCustom, PermissionsModifyAllData" in queries["permission_sets"]
    assert soql_quote("O'Brien\\x") == "'O\\'Brien\\\\x'"


# -- the vendor org's versions and push queries ---------------------------------------------
def test_latest_released_skips_beta_and_deprecated_versions() -> None:
    from juston_tui.model import Org
    from juston_tui.salesforce.vendor import latest_released

    pkg = "033000000000001AAA"
    records = {
        "packages": [{"Id": pkg, "NamespacePrefix": "ONB2"}],
        "versions": [
            {"Id": "04t1", "MetadataPackageId": pkg, "ReleaseState": "Released",
             "IsDeprecated": False, "MajorVersion": 2, "MinorVersion": 80, "PatchVersion": 2},
            {"Id": "04t2", "MetadataPackageId": pkg, "ReleaseState": "Released",
             "IsDeprecated": False, "MajorVersion": 2, "MinorVersion": 9, "PatchVersion": None},
            {"Id": "04t3", "MetadataPackageId": pkg, "ReleaseState": "Released",
             "IsDeprecated": True, "MajorVersion": 2, "MinorVersion": 81, "PatchVersion": 0},
            {"Id": "04t4", "MetadataPackageId": pkg, "ReleaseState": "Beta",
             "IsDeprecated": False, "MajorVersion": 2, "MinorVersion": 82, "PatchVersion": 0},
            {"Id": "04t5", "MetadataPackageId": "033OTHER", "ReleaseState": "Released",
             "IsDeprecated": False, "MajorVersion": 9, "MinorVersion": 0, "PatchVersion": 0},
        ],
    }
    vendor = Org.create(org_id="00D5g000009Ven1", name="Vendor", vendor=True)
    latest = latest_released(records, S, vendor, "2026-05-02")
    assert latest == {"billing": CurrentVersion("2.80.2", "vendor", "2026-05-02",
                                                "vendor org 00D5g000009Ven1")}


def test_push_jobs_are_asked_for_the_requests_in_chunks() -> None:
    from juston_tui.salesforce.vendor import _job_queries

    ids = [f"0DV{n:012d}AAA" for n in range(250)]
    batches = _job_queries(ids)
    assert [len(b) for b in batches] == [4, 2]  # 3 chunks x (jobs, errors), <= 5 per composite
    queries = [q for b in batches for q in b.values()]
    assert sum(q.count("'0DV") for q in queries) == 2 * len(ids)
    assert all("PackagePushRequestId IN (" in q for q in queries)
    assert _job_queries([]) == []


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
    assert "Enterprise Edition" in S.supported_editions
    assert parse_version("2.80.3") == (2, 80, 3) and parse_version("x") is None
    assert version_text(2, 80, 3) == "2.80.3"
    store.set_setting("current_versions", {"billing": "2.81", "cash": "bad", "other": "1.0"})
    settings = ProbeSettings.for_store(store)
    assert settings.current_versions == {"billing": "2.81", "cash": S.current_versions["cash"]}
    assert settings.current["billing"].source == "override"
    assert settings.current["cash"].source == "assumed"


def test_vendor_versions_are_cached_and_beat_the_data_file(store) -> None:
    latest = {"billing": CurrentVersion("2.80.3", "vendor", "2026-05-02", "vendor org 00D1")}
    remember_vendor_versions(store, latest, "00D1", "2026-05-02T10:00:00Z")
    settings = ProbeSettings.for_store(store)
    assert settings.current["billing"] == latest["billing"]
    assert settings.current["cash"].source == "assumed"  # the vendor org did not say
    # A later sync that only answers for cash keeps billing; a hand-set version wins.
    remember_vendor_versions(store, {"cash": CurrentVersion("1.15.0", "vendor", "2026-06-01",
                                                            "vendor org 00D1")},
                             "00D1", "2026-06-01T10:00:00Z")
    cached = store.get_setting(VENDOR_VERSIONS_KEY)
    assert set(cached["versions"]) == {"billing", "cash"}
    store.set_setting("current_versions", {"billing": "2.81"})
    assert ProbeSettings.for_store(store).current["billing"].source == "override"
    store.set_setting(VENDOR_VERSIONS_KEY, {"versions": {"billing": {"version": "x",
                                                                     "source": "vendor"}}})
    store.set_setting("current_versions", None)
    assert ProbeSettings.for_store(store).current["billing"].source == "assumed"


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
