"""Probe one org: two round trips after login (one REST composite, one Tooling query) -> Snapshot.

The REST queries (Organization, PackageLicense, ConnectedApplication, SetupEntityAccess,
ObjectPermissions, FieldPermissions, PermissionSetTabSetting) travel in one `composite` request
with `allOrNone=false`, so one failing query (an object the org lacks, a missing permission)
makes only its checks `unknown`. Installed packages only exist in the Tooling API, hence the
second request. Pages beyond the first (`nextRecordsUrl`) are followed, and an empty child
relationship may come back as `null` or as `{"records": []}` (both are read). API usage comes
from the `Sforce-Limit-Info` header of those same responses: no extra call.

`collect_facts` turns the records into typed `Facts` once; `checks.evaluate` judges them.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any
from urllib.parse import quote_plus, urlencode

from juston_tui.model import Snapshot, now_utc
from juston_tui.salesforce.checks import diagnose, evaluate, unreachable
from juston_tui.salesforce.connection import API_VERSION, DEFAULT_TIMEOUT, OrgConnection
from juston_tui.salesforce.errors import (
    AccessError,
    Cancelled,
    body_error_code,
    describe_body,
    describe_error,
    error_code,
)
from juston_tui.salesforce.facts import (
    ApiUsage,
    BalanceFacts,
    ConnectedAppFacts,
    Facts,
    LicenceFacts,
    OrgFacts,
    PackageFacts,
    ReadError,
    TaskTypeFacts,
)
from juston_tui.salesforce.settings import PRODUCTS, ProbeSettings, version_text

if TYPE_CHECKING:
    from simple_salesforce import Salesforce

    from juston_tui.credentials import CredentialStore
    from juston_tui.model import Org

__all__ = ["ProbeResult", "build_queries", "collect_facts", "probe_org", "soql_quote"]

# Which facts each query feeds (the keys of Facts.errors when it fails), and the sObjects it
# reads (to say which permission is missing when Salesforce refuses them).
FACTS_OF: dict[str, tuple[str, ...]] = {
    "org": ("organization",),
    "licenses": ("licenses",),
    "app": ("connected_app",),
    "permission_sets": ("connected_app.access", "permissions"),
    "balance_tab": ("balance_tab",),
    "packages": ("packages",),
}
OBJECTS_OF: dict[str, tuple[str, ...]] = {
    "org": ("Organization",),
    "licenses": ("PackageLicense",),
    "app": ("ConnectedApplication",),
    "permission_sets": ("PermissionSet", "ObjectPermissions", "FieldPermissions",
                        "SetupEntityAccess"),
    "balance_tab": ("PermissionSetTabSetting",),
    "packages": ("InstalledSubscriberPackage",),
}
# Salesforce allows at most five query subrequests in one composite request.
MAX_COMPOSITE_QUERIES = 5


def soql_quote(value: str) -> str:
    """A SOQL string literal (escapes backslash and quote; names come from our own config)."""
    escaped = value.replace("\\", "\\\\").replace("'", "\\'")
    return f"'{escaped}'"


def _in(values: Iterable[str]) -> str:
    return "(" + ", ".join(soql_quote(v) for v in values) + ")"


def build_queries(settings: ProbeSettings) -> dict[str, str]:
    """The REST SOQL queries of one probe (five, the composite maximum), by referenceId.

    Object, field and connected-app access all hang off PermissionSet (profiles included, as
    profile-owned permission sets), so one query with three child subqueries reads them all.
    IsCustom and PermissionsModifyAllData of a profile-owned permission set identify the
    standard System Administrator profile whatever its (translated) name.
    """
    namespaces = [settings.namespace(p) for p in PRODUCTS if settings.namespace(p)]
    balance = soql_quote(settings.balance_object)
    return {
        "org": "SELECT Id, Name, OrganizationType, IsSandbox, InstanceName, TrialExpirationDate, "
               "TimeZoneSidKey FROM Organization",
        "licenses": "SELECT Id, NamespacePrefix, Status, AllowedLicenses, UsedLicenses, "
                    "ExpirationDate FROM PackageLicense "
                    f"WHERE NamespacePrefix IN {_in(namespaces)}",
        "app": "SELECT Id, Name, OptionsAllowAdminApprovedUsersOnly FROM ConnectedApplication "
               f"WHERE Name = {soql_quote(settings.connected_app)}",
        "permission_sets": (
            "SELECT Id, Name, Label, IsOwnedByProfile, IsCustom, PermissionsModifyAllData, "
            "Profile.Name, "
            "(SELECT SobjectType, PermissionsRead FROM ObjectPerms "
            f"WHERE SobjectType = {balance}), "
            "(SELECT SobjectType, Field, PermissionsRead FROM FieldPerms "
            f"WHERE SobjectType = {balance} OR Field IN {_in(settings.task_type_fields)}), "
            "(SELECT SetupEntityId FROM SetupEntityAccessItems "
            "WHERE SetupEntityType = 'ConnectedApplication') "
            "FROM PermissionSet"
        ),
        "balance_tab": "SELECT ParentId, Parent.Name, Parent.Label, Parent.IsOwnedByProfile, "
                       "Name, Visibility FROM PermissionSetTabSetting "
                       f"WHERE Name = {soql_quote(settings.balance_tab)}",
    }


TOOLING_PACKAGES = (
    "SELECT Id, SubscriberPackageId, SubscriberPackage.NamespacePrefix, SubscriberPackage.Name, "
    "SubscriberPackageVersion.Id, SubscriberPackageVersion.Name, "
    "SubscriberPackageVersion.MajorVersion, SubscriberPackageVersion.MinorVersion, "
    "SubscriberPackageVersion.PatchVersion, SubscriberPackageVersion.BuildNumber "
    "FROM InstalledSubscriberPackage ORDER BY SubscriberPackageId"
)


@dataclass
class ProbeResult:
    """Raw query results of one probe: records per referenceId, or the reason they are missing."""

    records: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    errors: dict[str, ReadError] = field(default_factory=dict)
    api_usage: dict[str, int] | None = None

    def fail(self, ref: str, message: str, code: str = "") -> None:
        self.errors[ref] = ReadError(message, code, OBJECTS_OF.get(ref, ()))


# -- fetching -----------------------------------------------------------------------------------
def _follow(conn: OrgConnection, body: Mapping[str, Any]) -> list[dict[str, Any]]:
    """All records of a query result: further pages while done is false, child pages too."""
    records = list(body.get("records") or [])
    while not body.get("done", True) and body.get("nextRecordsUrl"):
        url = str(body["nextRecordsUrl"])
        body = conn.call(lambda sf, url=url: sf.query_more(url, identifier_is_url=True))
        records.extend(body.get("records") or [])
    for record in records:
        for key, value in list(record.items()):
            if isinstance(value, Mapping) and "records" in value and not value.get("done", True):
                record[key] = {**value, "records": _follow(conn, value), "done": True}
    return records


def _composite(conn: OrgConnection, queries: Mapping[str, str], result: ProbeResult) -> None:
    base = f"/services/data/v{API_VERSION}/query/?"
    payload = {
        "allOrNone": False,
        "compositeRequest": [
            {"method": "GET", "url": base + urlencode({"q": soql}), "referenceId": ref}
            for ref, soql in queries.items()
        ],
    }

    def send(sf: Salesforce) -> Any:
        return sf.restful("composite", method="POST", json=payload)

    answer = conn.call(send)
    responses = answer.get("compositeResponse") if isinstance(answer, Mapping) else None
    if not isinstance(responses, list):
        raise AccessError("malformed composite response from Salesforce")
    seen = set()
    for item in responses:
        ref = item.get("referenceId")
        if ref not in queries:
            continue
        seen.add(ref)
        status = item.get("httpStatusCode")
        body = item.get("body")
        if isinstance(status, int) and 200 <= status < 300 and isinstance(body, Mapping):
            result.records[ref] = _follow(conn, body)
        else:
            result.fail(ref, describe_body(status, body), body_error_code(body))
    for ref in queries:
        if ref not in seen:
            result.fail(ref, "no answer in the composite response")


def _tooling_packages(conn: OrgConnection, result: ProbeResult) -> None:
    def send(sf: Salesforce) -> Any:
        return sf.toolingexecute("query/?q=" + quote_plus(TOOLING_PACKAGES))

    body = conn.call(send)
    if not isinstance(body, Mapping):
        raise AccessError("malformed Tooling API response (not JSON)")
    result.records["packages"] = _follow(conn, body)


def _usage(conn: OrgConnection) -> dict[str, int] | None:
    usage = getattr(conn.sf, "api_usage", None) or {}
    value = usage.get("api-usage")
    if value is None:
        return None
    return {"used": int(value.used), "max": int(value.total)}


def fetch(conn: OrgConnection, settings: ProbeSettings) -> ProbeResult:
    """Run the two requests. The Tooling query failing for a reason of its own (an object or
    field the org lacks, no permission) only affects the package checks; an org-level failure
    (network, time limit, session, API limit, server error) fails the whole probe."""
    # simple_salesforce/requests: ~0.4 s to import, only once an org is contacted
    from simple_salesforce.exceptions import SalesforceError

    result = ProbeResult()
    _composite(conn, build_queries(settings), result)
    try:
        _tooling_packages(conn, result)
    except SalesforceError as exc:
        code = error_code(exc) or ""
        if exc.status not in (400, 403, 404) or code in _ORG_LEVEL_CODES:
            raise
        result.fail("packages", describe_error(exc, secrets=conn.secrets(), timeout=conn.timeout),
                    code)
    result.api_usage = _usage(conn)
    return result


_ORG_LEVEL_CODES = ("REQUEST_LIMIT_EXCEEDED", "API_DISABLED_FOR_ORG", "INVALID_SESSION_ID")


# -- facts --------------------------------------------------------------------------------------
def _rel(record: Mapping[str, Any] | None, *path: str) -> Any:
    value: Any = record
    for key in path:
        if not isinstance(value, Mapping):
            return None
        value = value.get(key)
    return value


def _same_id(a: Any, b: Any) -> bool:
    return bool(a) and bool(b) and str(a)[:15] == str(b)[:15]


def _children(record: Mapping[str, Any], relationship: str) -> list[Mapping[str, Any]]:
    """A child relationship's rows: Salesforce sends `null` when there are none (also read
    `{"records": []}`, which other clients and older versions produce)."""
    value = record.get(relationship)
    return list(value.get("records") or []) if isinstance(value, Mapping) else []


def _set_label(record: Mapping[str, Any]) -> str:
    return str(record.get("Label") or record.get("Name") or record.get("Id") or "?")


def _labels(permission_sets: list[dict[str, Any]]) -> dict[str, str]:
    """15-char Id -> label of each permission set, the API name added where labels repeat."""
    labels = {str(ps.get("Id"))[:15]: _set_label(ps) for ps in permission_sets}
    seen: dict[str, int] = {}
    for label in labels.values():
        seen[label] = seen.get(label, 0) + 1
    for ps in permission_sets:
        key = str(ps.get("Id"))[:15]
        if seen.get(labels[key], 0) > 1 and ps.get("Name"):
            labels[key] = f"{labels[key]} ({ps.get('Name')})"
    return labels


def _is_standard_admin(ps: Mapping[str, Any]) -> bool:
    """The standard System Administrator profile's own permission set, by facts not by name.

    A profile-owned permission set has IsCustom=false for a standard profile and true for a
    custom one (PermissionSet.IsCustom, API 39.0+; salesforce.stackexchange.com/a/38452), and
    among the standard profiles only System Administrator has Modify All Data. Salesforce
    returns profile names in the API user's language ("Systemadministrator"), so the name is
    never compared. A custom clone of the admin profile (IsCustom=true) does not count: the seed
    asks for System Administrator itself.
    """
    return (bool(ps.get("IsOwnedByProfile")) and ps.get("IsCustom") is False
            and ps.get("PermissionsModifyAllData") is True)


def collect_facts(result: ProbeResult, settings: ProbeSettings, *, api_user: str = "",
                  auth_method: str = "") -> Facts:
    """Turn raw records into typed facts (one place; the rules and every surface read these)."""
    recs = result.records
    errors: dict[str, ReadError] = {}
    for ref, error in result.errors.items():
        for fact in FACTS_OF.get(ref, (ref,)):
            errors.setdefault(fact, error)

    organization = None
    if recs.get("org"):
        row = recs["org"][0]
        is_sandbox = row.get("IsSandbox")
        trial = row.get("TrialExpirationDate")
        org_type = "scratch" if is_sandbox and trial else "sandbox" if is_sandbox else "production"
        organization = OrgFacts(
            org_id=str(row.get("Id") or ""), name=str(row.get("Name") or ""),
            edition=str(row.get("OrganizationType") or ""),
            is_sandbox=None if is_sandbox is None else bool(is_sandbox),
            instance=str(row.get("InstanceName") or ""), org_type=org_type,
            timezone=str(row.get("TimeZoneSidKey") or ""))
    elif "org" in recs and "organization" not in errors:
        errors["organization"] = ReadError("no Organization record returned")

    packages: dict[str, PackageFacts | None] | None = None
    if "packages" in recs:
        by_ns = {settings.namespace(p): p for p in PRODUCTS if settings.namespace(p)}
        packages = dict.fromkeys(PRODUCTS)
        for row in recs["packages"]:
            ns = _rel(row, "SubscriberPackage", "NamespacePrefix")
            product = by_ns.get(str(ns)) if ns else None
            if product is None:
                continue
            spv = row.get("SubscriberPackageVersion") or {}
            packages[product] = PackageFacts(
                name=str(_rel(row, "SubscriberPackage", "Name") or ""), namespace=str(ns),
                version=version_text(spv.get("MajorVersion"), spv.get("MinorVersion"),
                                     spv.get("PatchVersion")),
                version_id=str(spv.get("Id") or ""), version_name=str(spv.get("Name") or ""))
    elif "packages" not in errors:
        errors["packages"] = ReadError("installed packages were not read")

    licences = None
    if "licenses" in recs:
        licences = tuple(LicenceFacts.from_doc({
            "namespace": r.get("NamespacePrefix"), "status": r.get("Status"),
            "allowed": r.get("AllowedLicenses"), "used": r.get("UsedLicenses"),
            "expires": r.get("ExpirationDate")}) for r in recs["licenses"])

    permission_sets = recs.get("permission_sets")
    labels = _labels(permission_sets) if permission_sets is not None else {}
    connected_app = None
    if "app" in recs:
        apps = [r for r in recs["app"] if r.get("Name") == settings.connected_app]
        if not apps:
            connected_app = ConnectedAppFacts(found=False, name=settings.connected_app)
        else:
            app = apps[0]
            profiles, permsets = set(), set()
            admin_names = sorted({str(_rel(ps, "Profile", "Name") or _set_label(ps))
                                  for ps in permission_sets or () if _is_standard_admin(ps)})
            admin_preauthorized = False
            for ps in permission_sets or ():
                if not any(_same_id(a.get("SetupEntityId"), app.get("Id"))
                           for a in _children(ps, "SetupEntityAccessItems")):
                    continue
                if ps.get("IsOwnedByProfile"):
                    profiles.add(str(_rel(ps, "Profile", "Name") or _set_label(ps)))
                    admin_preauthorized = admin_preauthorized or _is_standard_admin(ps)
                else:
                    permsets.add(labels[str(ps.get("Id"))[:15]])
            approved = app.get("OptionsAllowAdminApprovedUsersOnly")
            connected_app = ConnectedAppFacts(
                found=True, name=str(app.get("Name") or ""), id=str(app.get("Id") or ""),
                admin_approved=None if approved is None else bool(approved),
                profiles=tuple(sorted(profiles)), permission_sets=tuple(sorted(permsets)),
                admin_profile=admin_names[0] if admin_names else "",
                admin_preauthorized=admin_preauthorized)

    balance = task_type = None
    if permission_sets is not None:
        own = [ps for ps in permission_sets if not ps.get("IsOwnedByProfile")]
        target = settings.balance_object

        def having(relationship: str, match: Any) -> tuple[str, ...]:
            return tuple(sorted(labels[str(ps.get("Id"))[:15]] for ps in own
                                if any(match(c) and c.get("PermissionsRead")
                                       for c in _children(ps, relationship))))

        task_type = TaskTypeFacts(having(
            "FieldPerms", lambda f: f.get("Field") in settings.task_type_fields))
        if "balance_tab" in recs:
            own_ids = {str(ps.get("Id"))[:15] for ps in own}
            tabs = sorted({labels.get(str(r.get("ParentId"))[:15])
                           or str(_rel(r, "Parent", "Label") or r.get("ParentId"))
                           for r in recs["balance_tab"]
                           if str(r.get("ParentId"))[:15] in own_ids
                           and r.get("Visibility") in ("DefaultOn", "DefaultOff")})
            balance = BalanceFacts(
                object_sets=having("ObjectPerms", lambda o: o.get("SobjectType") == target),
                field_sets=having("FieldPerms", lambda f: f.get("SobjectType") == target),
                tab_sets=tuple(tabs))

    usage = ApiUsage(**result.api_usage) if result.api_usage is not None else None
    return Facts(organization=organization, packages=packages, licenses=licences,
                 connected_app=connected_app, balance=balance, task_type=task_type,
                 api_usage=usage, current=dict(settings.current), errors=errors,
                 api_user=api_user, auth_method=auth_method)


# -- the probe ----------------------------------------------------------------------------------
def _stamp() -> str:
    return now_utc().strftime("%Y-%m-%dT%H:%M:%SZ")


def _failed(org: Org, message: str, facts: Facts) -> Snapshot:
    return Snapshot(org.org_id, _stamp(), unreachable(message), message, facts.to_doc())


def probe_org(
    org: Org,
    credentials: CredentialStore,
    *,
    settings: ProbeSettings | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    cancel: threading.Event | None = None,
) -> Snapshot:
    """Check one org. Never raises for org or network problems: Snapshot.error says what failed.

    `timeout` bounds every request and the whole probe (login included). Only cancellation
    (`cancel` set) raises `Cancelled`, so a cancelled sweep leaves no half-made snapshot.
    """
    settings = settings or ProbeSettings.defaults()
    started = time.monotonic()
    conn = OrgConnection(org, credentials, timeout=timeout, deadline=started + timeout,
                         cancel=cancel)
    try:
        try:
            result = fetch(conn, settings)
        except Cancelled:
            raise
        except Exception as exc:
            message = describe_error(exc, secrets=conn.secrets(), timeout=timeout,
                                     login_hint=conn.login_hint)
            return _failed(org, message, Facts(api_user=org.username,
                                               auth_method=org.auth_method,
                                               meta=_meta(conn, started)))
        facts = replace(collect_facts(result, settings, api_user=org.username,
                                      auth_method=org.auth_method), meta=_meta(conn, started))
        found = facts.organization.org_id if facts.organization else ""
        if found and not _same_id(found, org.org_id):
            message = (f"the credentials reach org {found}, not the registered "
                       f"{org.org_id}: run juston-tui login {org.org_id}")
            return _failed(org, message, facts)
        checks = evaluate(facts, settings, org_products=org.products,
                          registered_kind=org.kind, today=settings.today)
        diagnoses = [d.to_doc() for d in diagnose(facts)]
        if diagnoses:
            facts = replace(facts, meta={**facts.meta, "diagnoses": diagnoses})
        return Snapshot(org.org_id, _stamp(), checks, None, facts.to_doc())
    finally:
        conn.close()


def _meta(conn: OrgConnection, started: float) -> dict[str, Any]:
    """How the probe went: round trips (login separately), logins, time, warnings."""
    return {
        "round_trips": {"login": conn.login_round_trips,
                        "api": conn.session.round_trips - conn.login_round_trips},
        "logins": conn.logins,
        "duration_ms": round((time.monotonic() - started) * 1000),
        "warnings": list(conn.warnings),
    }
