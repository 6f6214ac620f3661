"""The vendor's packaging org: who has JustOn installed (PackageSubscriber) and the push upgrades.

These objects only exist in the org that owns the package (org.vendor=True). The subscriber
list feeds `org import --from-vendor`; the push requests feed the calendar. Both read the
package versions too, so every vendor read also yields the latest released, non-deprecated
MetadataPackageVersion per product (`latest_released`): passed a `store`, it is cached there as
the "current" version the status checks compare with (settings.remember_vendor_versions).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from juston_tui.model import ValidationError, normalize_org_id
from juston_tui.salesforce.connection import API_VERSION, DEFAULT_TIMEOUT, OrgConnection
from juston_tui.salesforce.errors import AccessError, describe_body, describe_error
from juston_tui.salesforce.facts import CurrentVersion
from juston_tui.salesforce.probe import MAX_COMPOSITE_QUERIES
from juston_tui.salesforce.settings import (
    PRODUCTS,
    ProbeSettings,
    parse_version,
    remember_vendor_versions,
    version_text,
)

if TYPE_CHECKING:
    from simple_salesforce import Salesforce

    from juston_tui.credentials import CredentialStore
    from juston_tui.model import Org
    from juston_tui.store import Store

__all__ = ["VENDOR_QUERIES", "fetch_push_requests", "fetch_subscribers", "latest_released",
           "query_batch"]

VENDOR_QUERIES = {  # the packaging org's packages, versions, subscribers (push_ops reuses them)
    "packages": "SELECT Id, Name, NamespacePrefix FROM MetadataPackage",
    "versions": "SELECT Id, Name, MetadataPackageId, ReleaseState, MajorVersion, MinorVersion, "
                "PatchVersion, BuildNumber, IsDeprecated FROM MetadataPackageVersion",
    "subscribers": "SELECT Id, OrgKey, OrgName, OrgType, OrgStatus, InstalledStatus, "
                   "InstanceName, MetadataPackageId, MetadataPackageVersionId, ParentOrg "
                   "FROM PackageSubscriber WHERE InstalledStatus = 'i'",
}
# Push requests are read for a date window (plus every one still open), and their jobs and
# errors only for those requests, in chunks of ids, each query paged: never the whole push
# history. CumulusCI reads them the same way (PackagePushJob WHERE PackagePushRequestId = ...,
# PackagePushError per job; cumulusci/tasks/push/push_api.py); Salesforce CLI's
# `package push-upgrade report` (plugin-packaging, packagePushUpgrade.ts) filters
# PackagePushError by PackagePushJob.PackagePushRequestId, as done here.
PUSH_WINDOW_DAYS = 180
_OPEN_STATES = ("Created", "Pending", "In Progress")
_IDS_PER_QUERY = 100  # request ids per IN (...) list: short URLs, well under SOQL's limits


def _push_queries(since: datetime) -> dict[str, str]:
    stamp = since.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    states = ", ".join(f"'{state}'" for state in _OPEN_STATES)
    return {
        "packages": VENDOR_QUERIES["packages"],
        "versions": VENDOR_QUERIES["versions"],
        "requests": "SELECT Id, PackageVersionId, ScheduledStartTime, Status, StartTime, "
                    "EndTime, DurationSeconds FROM PackagePushRequest "
                    f"WHERE ScheduledStartTime >= {stamp} OR Status IN ({states}) "
                    "ORDER BY ScheduledStartTime",
    }


def _job_queries(request_ids: list[str]) -> list[dict[str, str]]:
    """Composite payloads (at most five queries each) for the jobs and errors of the requests."""
    queries: dict[str, str] = {}
    for n, start in enumerate(range(0, len(request_ids), _IDS_PER_QUERY)):
        ids = ", ".join(f"'{i}'" for i in request_ids[start:start + _IDS_PER_QUERY])
        queries[f"jobs{n}"] = ("SELECT Id, PackagePushRequestId, SubscriberOrganizationKey, "
                               "Status, StartTime, EndTime FROM PackagePushJob "
                               f"WHERE PackagePushRequestId IN ({ids})")
        queries[f"push_errors{n}"] = ("SELECT Id, PackagePushJobId, ErrorSeverity, ErrorType, "
                                      "ErrorTitle, ErrorMessage FROM PackagePushError WHERE "
                                      f"PackagePushJob.PackagePushRequestId IN ({ids})")
    refs = list(queries)
    per = MAX_COMPOSITE_QUERIES - MAX_COMPOSITE_QUERIES % 2  # a chunk's two queries together
    return [{ref: queries[ref] for ref in refs[i:i + per]} for i in range(0, len(refs), per)]


def query_batch(conn: OrgConnection, queries: Mapping[str, str]
                ) -> dict[str, list[dict[str, Any]]]:
    """All records of each query (at most five): one composite request, then any further
    pages; AccessError naming the query Salesforce refused. push_api.py reads with it too."""
    base = f"/services/data/v{API_VERSION}/query/?"
    payload = {"allOrNone": False, "compositeRequest": [
        {"method": "GET", "url": base + urlencode({"q": q}), "referenceId": ref}
        for ref, q in queries.items()]}

    def send(sf: Salesforce) -> Any:
        return sf.restful("composite", method="POST", json=payload)

    answer = conn.call(send)
    out: dict[str, list[dict[str, Any]]] = {}
    for item in (answer or {}).get("compositeResponse") or []:
        ref, status, body = item.get("referenceId"), item.get("httpStatusCode"), item.get("body")
        if ref not in queries:
            continue
        if not (isinstance(status, int) and 200 <= status < 300 and isinstance(body, Mapping)):
            raise AccessError(f"{ref}: {describe_body(status, body)} (is this the packaging org?)")
        records = list(body.get("records") or [])
        while not body.get("done", True) and body.get("nextRecordsUrl"):
            url = str(body["nextRecordsUrl"])
            body = conn.call(lambda sf, url=url: sf.query_more(url, identifier_is_url=True))
            records.extend(body.get("records") or [])
        out[ref] = records
    missing = [ref for ref in queries if ref not in out]
    if missing:
        raise AccessError(f"no answer for {', '.join(missing)} from the vendor org")
    return out


def _rows(records: Mapping[str, Any], ref: str) -> list[Mapping[str, Any]]:
    """The records of one query that are objects; anything else in the reply is skipped."""
    rows = records.get(ref) or []
    if not isinstance(rows, list):
        raise AccessError(f"malformed response from the vendor org ({ref}: not a list)")
    return [row for row in rows if isinstance(row, Mapping)]


def _id15(value: Any) -> str:
    return str(value or "")[:15]


def _versions(records: Mapping[str, list[dict[str, Any]]], settings: ProbeSettings
              ) -> tuple[dict[str, dict[str, Any]], dict[str, str]]:
    """Version id (15) -> {version, namespace, product, release_state}; package id -> namespace.

    A row without an Id (or with a version that is not a number) cannot be linked to anything:
    it is skipped rather than failing the whole import.
    """
    ns_of_package = {_id15(p.get("Id")): str(p.get("NamespacePrefix") or "")
                     for p in _rows(records, "packages") if p.get("Id")}
    product_of_ns = {settings.namespace(p): p for p in PRODUCTS}
    versions = {}
    for v in _rows(records, "versions"):
        if not v.get("Id"):
            continue
        try:
            text = version_text(v.get("MajorVersion"), v.get("MinorVersion"),
                                v.get("PatchVersion"))
        except (TypeError, ValueError):
            continue
        ns = ns_of_package.get(_id15(v.get("MetadataPackageId")), "")
        versions[_id15(v.get("Id"))] = {
            "version": text,
            "namespace": ns, "product": product_of_ns.get(ns),
            "release_state": v.get("ReleaseState"), "version_id": v.get("Id"),
        }
    return versions, ns_of_package


def latest_released(records: Mapping[str, Any], settings: ProbeSettings, vendor: Org,
                    as_of: str) -> dict[str, CurrentVersion]:
    """Per product, the highest released, non-deprecated MetadataPackageVersion.

    ReleaseState is Beta or Released and IsDeprecated marks a version that may no longer be
    installed or pushed (MetadataPackageVersion, object reference); only a released,
    non-deprecated version can be the target of a push upgrade (PackagePushRequest), so that is
    what "current" means.
    """
    ns_of_package = {_id15(p.get("Id")): str(p.get("NamespacePrefix") or "")
                     for p in _rows(records, "packages") if p.get("Id")}
    product_of_ns = {settings.namespace(p): p for p in PRODUCTS if settings.namespace(p)}
    best: dict[str, tuple[tuple[int, ...], str]] = {}
    for v in _rows(records, "versions"):
        if v.get("ReleaseState") != "Released" or v.get("IsDeprecated") is not False:
            continue
        product = product_of_ns.get(ns_of_package.get(_id15(v.get("MetadataPackageId")), ""))
        try:
            text = version_text(v.get("MajorVersion"), v.get("MinorVersion"),
                                v.get("PatchVersion") or 0)
        except (TypeError, ValueError):
            continue
        key = parse_version(text)
        if product is None or key is None:
            continue
        if product not in best or key > best[product][0]:
            best[product] = (key, text)
    origin = f"vendor org {vendor.org_id[:15]}"
    return {p: CurrentVersion(text, "vendor", as_of, origin) for p, (_k, text) in best.items()}


def _remember(store: Store | None, records: Mapping[str, Any], settings: ProbeSettings,
              vendor: Org, out: dict[str, CurrentVersion] | None = None) -> None:
    """Cache the latest released versions in `store` and/or hand them to `out`."""
    if store is None and out is None:
        return
    now = datetime.now(UTC)
    latest = latest_released(records, settings, vendor, now.date().isoformat())
    if out is not None:
        out.update(latest)
    if store is not None:
        remember_vendor_versions(store, latest, vendor.org_id,
                                 now.strftime("%Y-%m-%dT%H:%M:%SZ"))


def _org_id(value: Any) -> str | None:
    try:
        return normalize_org_id(str(value or ""))
    except ValidationError:
        return None


MoreQueries = Callable[[Mapping[str, Any]], list[dict[str, str]]]


def _run(org: Org, credentials: CredentialStore, timeout: float, queries: Mapping[str, str],
         more: MoreQueries | None = None) -> dict[str, list[dict[str, Any]]]:
    """The records of `queries` (one composite); `more(records)` may name further batches of
    queries that depend on them, each sent as one more composite on the same connection."""
    conn = OrgConnection(org, credentials, timeout=timeout)
    try:
        records = query_batch(conn, queries)
        for batch in (more(records) if more is not None else ()):
            records.update(query_batch(conn, batch))
        return records
    except AccessError:
        raise
    except Exception as exc:
        raise AccessError(describe_error(exc, secrets=conn.secrets(), timeout=timeout,
                                         login_hint=conn.login_hint)) from None
    finally:
        conn.close()


def fetch_subscribers(
    org: Org,
    credentials: CredentialStore,
    *,
    timeout: float = DEFAULT_TIMEOUT,
    settings: ProbeSettings | None = None,
    store: Store | None = None,
    versions: dict[str, CurrentVersion] | None = None,
) -> list[dict[str, Any]]:
    """Installed subscribers, one entry per org (products merged), sorted by name.

    Each: org_id (18), name, kind (production/sandbox), status, instance, parent_org_id (18),
    products {billing|cash: version}. Raises AccessError with a clean message. The latest
    released versions read alongside are cached in `store` and/or put into `versions` when
    given (a preview passes only `versions` and writes them when it is applied).
    """
    settings = settings or ProbeSettings.defaults()
    records = _run(org, credentials, timeout, VENDOR_QUERIES)
    _remember(store, records, settings, org, versions)
    versions, ns_of_package = _versions(records, settings)
    product_of_ns = {settings.namespace(p): p for p in PRODUCTS}
    by_org: dict[str, dict[str, Any]] = {}
    for row in _rows(records, "subscribers"):
        org_id = _org_id(row.get("OrgKey"))
        if org_id is None:
            continue
        entry = by_org.setdefault(org_id, {
            "org_id": org_id, "name": str(row.get("OrgName") or org_id),
            "kind": "sandbox" if str(row.get("OrgType") or "").lower() == "sandbox"
            else "production",
            "status": row.get("OrgStatus"), "instance": row.get("InstanceName"),
            "parent_org_id": _org_id(row.get("ParentOrg")) if row.get("ParentOrg") else None,
            "products": {},
        })
        version = versions.get(str(row.get("MetadataPackageVersionId") or "")[:15], {})
        ns = ns_of_package.get(str(row.get("MetadataPackageId") or "")[:15]) or version.get(
            "namespace")
        product = product_of_ns.get(ns or "")
        if product:
            entry["products"][product] = version.get("version")
    return sorted(by_org.values(), key=lambda e: (e["name"].lower(), e["org_id"]))


def fetch_push_requests(
    org: Org,
    credentials: CredentialStore,
    *,
    timeout: float = DEFAULT_TIMEOUT,
    settings: ProbeSettings | None = None,
    since: datetime | None = None,
    store: Store | None = None,
) -> list[dict[str, Any]]:
    """Push upgrade requests of the vendor org with their jobs and errors, by scheduled time.

    Requests scheduled since `since` (default PUSH_WINDOW_DAYS ago) and every one still open;
    jobs and errors of those requests only. Each: id, product, namespace, version, version_id,
    scheduled_start (ISO), status, start_time, end_time, jobs [{id, org_id, status, errors
    [{severity, type, title, message}]}]. Raises AccessError with a clean message. With `store`,
    the latest released versions read alongside are cached in it.
    """
    settings = settings or ProbeSettings.defaults()
    since = since or datetime.now(UTC) - timedelta(days=PUSH_WINDOW_DAYS)

    def jobs_of(records: Mapping[str, Any]) -> list[dict[str, str]]:
        return _job_queries([str(r["Id"]) for r in _rows(records, "requests") if r.get("Id")])

    records = _run(org, credentials, timeout, _push_queries(since), more=jobs_of)
    _remember(store, records, settings, org)
    versions, _ = _versions(records, settings)
    errors_by_job: dict[str, list[dict[str, Any]]] = {}
    jobs_by_request: dict[str, list[dict[str, Any]]] = {}
    for ref in records:
        if ref.startswith("push_errors"):
            for err in _rows(records, ref):
                errors_by_job.setdefault(str(err.get("PackagePushJobId") or "")[:15], []).append(
                    {"severity": err.get("ErrorSeverity"), "type": err.get("ErrorType"),
                     "title": err.get("ErrorTitle"), "message": err.get("ErrorMessage")})
    for ref in records:
        if ref.startswith("jobs"):
            for job in _rows(records, ref):
                jobs_by_request.setdefault(str(job.get("PackagePushRequestId") or "")[:15],
                                           []).append({
                    "id": job.get("Id"), "org_id": _org_id(job.get("SubscriberOrganizationKey")),
                    "status": job.get("Status"),
                    "errors": errors_by_job.get(str(job.get("Id") or "")[:15], [])})
    out = []
    for req in _rows(records, "requests"):
        if not req.get("Id"):
            continue
        version = versions.get(str(req.get("PackageVersionId") or "")[:15], {})
        out.append({
            "id": req.get("Id"), "product": version.get("product"),
            "namespace": version.get("namespace"), "version": version.get("version"),
            "version_id": req.get("PackageVersionId"),
            "scheduled_start": req.get("ScheduledStartTime"), "status": req.get("Status"),
            "start_time": req.get("StartTime"), "end_time": req.get("EndTime"),
            "jobs": jobs_by_request.get(str(req.get("Id") or "")[:15], []),
        })
    return sorted(out, key=lambda r: str(r.get("scheduled_start") or ""))

