"""Probe one org: two round trips after login (one REST composite, one Tooling query) -> Snapshot.

The REST queries (Organization, PackageLicense, ConnectedApplication, SetupEntityAccess,
ObjectPermissions, FieldPermissions, PermissionSetTabSetting) travel in one `composite` request
with `allOrNone=false`, so one failing query (an object the org lacks, a missing permission)
makes only its checks `unknown`. Installed packages only exist in the Tooling API, hence the
second request. Pages beyond the first (`nextRecordsUrl`) are followed. API usage comes from the
`Sforce-Limit-Info` header of those same responses: no extra call.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import quote_plus, urlencode

from juston_tui.model import Check, Snapshot, now_utc, unknown_checks
from juston_tui.salesforce.checks import FIX_EDITION, evaluate
from juston_tui.salesforce.connection import API_VERSION, DEFAULT_TIMEOUT, OrgConnection
from juston_tui.salesforce.errors import (
    AccessError,
    Cancelled,
    describe_body,
    describe_error,
    error_code,
)
from juston_tui.salesforce.settings import PRODUCTS, ProbeSettings, version_text

if TYPE_CHECKING:
    from simple_salesforce import Salesforce

    from juston_tui.credentials import CredentialStore
    from juston_tui.model import Org

__all__ = ["ProbeResult", "build_queries", "collect_facts", "probe_org", "soql_quote"]

# Which facts (and so which checks) each composite subrequest feeds.
FACTS_OF: dict[str, tuple[str, ...]] = {
    "org": ("organization",),
    "licenses": ("licenses",),
    "app": ("connected_app",),
    "permission_sets": ("connected_app", "permissions.balance", "permissions.task_type"),
    "balance_tab": ("permissions.balance",),
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
    """
    namespaces = [settings.namespace(p) for p in PRODUCTS if settings.namespace(p)]
    balance = soql_quote(settings.balance_object)
    return {
        "org": "SELECT Id, Name, OrganizationType, IsSandbox, InstanceName, TrialExpirationDate "
               "FROM Organization",
        "licenses": "SELECT Id, NamespacePrefix, Status, AllowedLicenses, UsedLicenses, "
                    "ExpirationDate FROM PackageLicense "
                    f"WHERE NamespacePrefix IN {_in(namespaces)}",
        "app": "SELECT Id, Name, OptionsAllowAdminApprovedUsersOnly FROM ConnectedApplication "
               f"WHERE Name = {soql_quote(settings.connected_app)}",
        "permission_sets": (
            "SELECT Id, Name, Label, IsOwnedByProfile, Profile.Name, "
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
    errors: dict[str, str] = field(default_factory=dict)
    api_usage: dict[str, int] | None = None


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
            result.errors[ref] = describe_body(status, body)
    for ref in queries:
        if ref not in seen:
            result.errors[ref] = "no answer in the composite response"


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
    from simple_salesforce.exceptions import SalesforceError

    result = ProbeResult()
    _composite(conn, build_queries(settings), result)
    try:
        _tooling_packages(conn, result)
    except SalesforceError as exc:
        code = error_code(exc) or ""
        if exc.status not in (400, 403, 404) or code in _ORG_LEVEL_CODES:
            raise
        result.errors["packages"] = describe_error(exc, secrets=conn.secrets(),
                                                   timeout=conn.timeout)
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
    value = record.get(relationship)
    return list(value.get("records") or []) if isinstance(value, Mapping) else []


def _set_label(record: Mapping[str, Any]) -> str:
    return str(record.get("Label") or record.get("Name") or record.get("Id") or "?")


def collect_facts(result: ProbeResult, settings: ProbeSettings) -> dict[str, Any]:
    """Turn raw records into the Snapshot.facts contract (see juston_tui.salesforce docs)."""
    recs = result.records
    errors: dict[str, str] = {}
    for ref, message in result.errors.items():
        for fact in FACTS_OF.get(ref, (ref,)):
            errors.setdefault(fact, message)
    facts: dict[str, Any] = {"errors": errors,
                             "current_versions": dict(settings.current_versions)}

    if recs.get("org"):
        row = recs["org"][0]
        is_sandbox = row.get("IsSandbox")
        trial = row.get("TrialExpirationDate")
        org_type = "scratch" if is_sandbox and trial else "sandbox" if is_sandbox else "production"
        facts["organization"] = {
            "org_id": row.get("Id"), "name": row.get("Name"),
            "edition": row.get("OrganizationType"), "is_sandbox": is_sandbox,
            "instance": row.get("InstanceName"), "org_type": org_type,
        }

    if "packages" in recs:
        by_ns = {settings.namespace(p): p for p in PRODUCTS if settings.namespace(p)}
        packages: dict[str, Any] = dict.fromkeys(PRODUCTS)
        for row in recs["packages"]:
            ns = _rel(row, "SubscriberPackage", "NamespacePrefix")
            product = by_ns.get(str(ns)) if ns else None
            if product is None:
                continue
            spv = row.get("SubscriberPackageVersion") or {}
            packages[product] = {
                "name": _rel(row, "SubscriberPackage", "Name"), "namespace": ns,
                "version": version_text(spv.get("MajorVersion"), spv.get("MinorVersion"),
                                        spv.get("PatchVersion")),
                "version_id": spv.get("Id"), "version_name": spv.get("Name"),
            }
        facts["packages"] = packages
    elif "packages" not in errors:
        errors["packages"] = "installed packages were not read"

    if "licenses" in recs:
        facts["licenses"] = [
            {"namespace": r.get("NamespacePrefix"), "status": r.get("Status"),
             "allowed": r.get("AllowedLicenses"), "used": r.get("UsedLicenses"),
             "expires": r.get("ExpirationDate")}
            for r in recs["licenses"]
        ]

    permission_sets = recs.get("permission_sets")
    if "app" in recs and permission_sets is not None:
        apps = [r for r in recs["app"] if r.get("Name") == settings.connected_app]
        if not apps:
            facts["connected_app"] = {"found": False, "name": settings.connected_app,
                                      "admin_approved": None, "profiles": [],
                                      "permission_sets": [], "sysadmin": False}
        else:
            app = apps[0]
            profiles, permsets = set(), set()
            for ps in permission_sets:
                if not any(_same_id(a.get("SetupEntityId"), app.get("Id"))
                           for a in _children(ps, "SetupEntityAccessItems")):
                    continue
                if ps.get("IsOwnedByProfile"):
                    profiles.add(str(_rel(ps, "Profile", "Name") or _set_label(ps)))
                else:
                    permsets.add(_set_label(ps))
            approved = app.get("OptionsAllowAdminApprovedUsersOnly")
            facts["connected_app"] = {
                "found": True, "name": app.get("Name"), "id": app.get("Id"),
                "admin_approved": None if approved is None else bool(approved),
                "profiles": sorted(profiles), "permission_sets": sorted(permsets),
                "sysadmin": settings.required_profile in profiles,
            }

    permissions: dict[str, Any] = {}
    if permission_sets is not None:
        own = [ps for ps in permission_sets if not ps.get("IsOwnedByProfile")]
        balance = settings.balance_object
        obj = {str(ps.get("Id"))[:15] for ps in own
               if any(o.get("SobjectType") == balance and o.get("PermissionsRead")
                      for o in _children(ps, "ObjectPerms"))}
        fields = {str(ps.get("Id"))[:15] for ps in own
                  if any(f.get("SobjectType") == balance and f.get("PermissionsRead")
                         for f in _children(ps, "FieldPerms"))}
        task = sorted({_set_label(ps) for ps in own
                       if any(f.get("Field") in settings.task_type_fields
                              and f.get("PermissionsRead") for f in _children(ps, "FieldPerms"))})
        names = {str(ps.get("Id"))[:15]: _set_label(ps) for ps in own}
        permissions["task_type"] = {"permission_sets": task}
        if "balance_tab" in recs:
            tabs = {str(r.get("ParentId"))[:15] for r in recs["balance_tab"]
                    if not _rel(r, "Parent", "IsOwnedByProfile")
                    and r.get("Visibility") in ("DefaultOn", "DefaultOff")}
            covering = obj & fields & tabs
            permissions["balance"] = {
                "object": bool(obj), "fields": bool(fields), "tab": bool(tabs),
                "permission_sets": sorted(names.get(p, p) for p in covering),
            }
    facts["permissions"] = permissions

    if result.api_usage is not None:
        facts["api_usage"] = dict(result.api_usage)
    return facts


# -- the probe ----------------------------------------------------------------------------------
def _stamp() -> str:
    return now_utc().strftime("%Y-%m-%dT%H:%M:%SZ")


def _failed(org: Org, message: str, facts: dict[str, Any]) -> Snapshot:
    checks = list(unknown_checks(f"not checked: {message}"))
    if "API_DISABLED_FOR_ORG" in message:
        checks[0] = Check("organization", "unknown", message, FIX_EDITION)
    return Snapshot(org.org_id, _stamp(), tuple(checks), message, facts)


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
    facts: dict[str, Any] = {}
    try:
        try:
            result = fetch(conn, settings)
        except Cancelled:
            raise
        except Exception as exc:
            message = describe_error(exc, secrets=conn.secrets(), timeout=timeout,
                                     login_hint=conn.login_hint)
            facts = _meta(conn, started)
            return _failed(org, message, facts)
        facts = collect_facts(result, settings)
        facts.update(_meta(conn, started))
        organization = facts.get("organization") or {}
        checks = evaluate(facts, settings, org_products=org.products,
                          registered_kind=org.kind, today=settings.today)
        if organization.get("org_id") and not _same_id(organization["org_id"], org.org_id):
            message = (f"the credentials reach org {organization['org_id']}, not the registered "
                       f"{org.org_id}: run juston-tui login {org.org_id}")
            return _failed(org, message, facts)
        return Snapshot(org.org_id, _stamp(), checks, None, facts)
    finally:
        conn.close()


def _meta(conn: OrgConnection, started: float) -> dict[str, Any]:
    """How the probe went: round trips (login separately), logins, time, warnings."""
    return {
        "round_trips": {"login": conn.login_round_trips,
                        "api": conn.session.round_trips - conn.login_round_trips},
        "logins": conn.logins,
        "duration_ms": round((time.monotonic() - started) * 1000),
        "auth_method": conn.org.auth_method,
        "warnings": list(conn.warnings),
    }
