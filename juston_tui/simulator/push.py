"""The packaging org's push upgrades over simulated time: start, run, finish, upgrade.

A PackagePushRequest set to Pending starts at its ScheduledStartTime, or at once when that is
unset (object reference sforce_api_objects_packagepushrequest.htm: "If you don't specify a
value, the push starts when the package push request's Status is set to Pending"), and never
before it was set Pending. Then it is In Progress, its jobs run (Pending -> In Progress ->
Succeeded or Failed, each with StartTime/EndTime/DurationSeconds, fields new in API 51.0), a
failed job gets PackagePushError rows, and a succeeded job upgrades its subscriber: the
PackageSubscriber row's MetadataPackageVersionId and the org's own InstalledSubscriberPackage,
so a later probe of that org sees the new version. When every job has ended the request ends.

What is our belief rather than documented fact (no public source found; UNCONFIRMED):
- job timing: 20 jobs at a time, each 90-300 s (seeded by the org key);
- the request ends Failed only when no job succeeded, else Succeeded (the seeded history agrees:
  a Succeeded request with a failed job; the HEDA 1.6 push report "143 Succeeded, 49 Failed",
  SalesforceFoundation/EDA#228, reads as a completed request); clients count jobs instead of
  trusting the request status (CumulusCI tasks.py `_get_push_request_job_results` does);
- a request set Pending without jobs ends at its start, Succeeded with no jobs.

Real error texts where public material has them: IneligibleUpgrade "Cannot upgrade beta
package" and DeployError "Deployment Failure" (EDA#228), UnclassifiedError "Unexpected Failure"
(CumulusCI cumulusci/tasks/push/tests/test_push_tasks.py CSV fixture); the others are ours.

Nothing here runs by itself: `tick(now)` moves everything up to `now` (the facade calls it
on every request, on `Simulator.advance`, and the demo's daemon every second).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from .data import OrgData, package_id, sf_datetime, version_id
from .ids import make_id
from .scenarios import Version, seed_hash
from .soql_parse import parse_datetime

if TYPE_CHECKING:
    from .server import Simulator

__all__ = ["DEMO_WAVES", "FAILURES", "PUSH_OBJECTS", "STATE_FORMAT", "PushEngine", "PushFailure",
           "as_datetime", "canonical_status", "demo_request_id"]

PUSH_OBJECTS = ("PackagePushRequest", "PackagePushJob", "PackagePushError")
REQUEST_STATES = ("Created", "Pending", "In Progress", "Succeeded", "Failed", "Canceled")
ENDED = ("Succeeded", "Failed", "Canceled")
LANES = 20
STATE_FORMAT = 1
# The namespace's key in SimOrg.extra for "the installed version" (scenarios._DEMO facts).
# The demo's push mid-flight (Simulator.seed_demo_push, demo/pushes.py): request keys of its
# two waves, the first ended a week ago with a failure, the second running now.
DEMO_WAVES = ("demo_wave_1", "demo_wave_2")
_EXTRA_KEY = {"ONB2": "billing", "JOCM": "cash"}


def canonical_status(value: Any) -> str:
    """The request Status as stored. The PackagePushRequest reference spells "Canceled"; the
    PackagePushJob reference (API 41-42, atlas.en-us.210/212) spelled "Cancelled", later ones
    "Canceled", and @salesforce/packaging's PackagePushRequestListQueryOptions type still has
    'Cancelled' while it writes 'Canceled' (packagePushUpgrade.ts abort). Salesforce stores
    "Canceled"; a client writing the old spelling is accepted as meaning the same (whether a
    real org accepts "Cancelled" on update is UNCONFIRMED: our client never writes it)."""
    text = str(value) if value is not None else ""
    return "Canceled" if text == "Cancelled" else text


def as_datetime(value: Any) -> datetime | None:
    if not value:
        return None
    try:
        return parse_datetime(str(value)).astimezone(UTC)
    except ValueError:
        return None


@dataclass(frozen=True)
class PushFailure:
    """One PackagePushError row (object reference sforce_api_objects_packagepusherror.htm)."""

    type: str
    title: str
    message: str
    details: str | None = None
    severity: str = "Error"


FAILURES: dict[str, PushFailure] = {f.type: f for f in (
    PushFailure("ApexTestFailure", "Apex test failure",
                "ONB2.InvoiceRunTest.testRun: System.AssertException: Assertion Failed",
                "Class.ONB2.InvoiceRunTest.testRun: line 42, column 1"),
    # Title, message and details as in a real push report (SalesforceFoundation/EDA#228).
    PushFailure("DeployError", "Deployment Failure",
                "Definition for js://ONB2.InvoiceHeader not found", "0,,,20,AuraDefinitionBundle"),
    PushFailure("IneligibleUpgrade", "Cannot upgrade beta package",
                "You cannot upgrade a beta package, because developers can make incompatible "
                "changes to a package that has been released as a beta. To install a newer "
                "version of the package, you must first uninstall the existing version."),
    PushFailure("LimitExceeded", "Limit exceeded",
                "The org has reached its limit of custom objects (ONB2 needs 4 more)."),
    PushFailure("LockingFailure", "Locking failure",
                "UNABLE_TO_LOCK_ROW: unable to obtain exclusive access to this record"),
    PushFailure("FeatureMissing", "Feature missing", "Multi-currency is off", None, "Warning"),
    PushFailure("PACError", "Package access control",
                "The package is not allowed to access an API it uses in this org."),
    # As in CumulusCI's push report fixture (cumulusci/tasks/push/tests/test_push_tasks.py).
    PushFailure("UnclassifiedError", "Unexpected Failure",
                "An unexpected failure was experienced during the upgrade. The subscriber's "
                "organization was unaffected. Contact salesforce.com Support through your normal "
                "channels and provide the following error number: 1351793968-113330 "
                "(-1345328791)."),
)}
# Bare subscribers (benches) fail now and then, in this order.
_ROTATION = ("ApexTestFailure", "DeployError", "LimitExceeded", "LockingFailure",
             "UnclassifiedError")


@dataclass
class _Plan:
    start: datetime
    end: datetime
    failure: str | None


def demo_request_id(key: str) -> str:
    """The id of a request the demo seeds (PushEngine.seed_request): the demo's push plan
    (juston_tui/demo/pushes.py) finds its waves' requests by it."""
    return make_id("0DV", f"push|{key}")


def _id15(value: Any) -> str:
    return str(value or "")[:15]


class PushEngine:
    """The push upgrade state of the simulator's packaging org (one per Simulator).

    Every method runs under the simulator's lock. A change a client or the clock made sets
    `dirty`; the facade then calls Simulator.on_push_change (the demo's daemon saves
    `export_state()` there).
    """

    def __init__(self, sim: Simulator) -> None:
        self.sim = sim
        self.start_delay = timedelta(0)  # "as soon as resources are available": 0 here
        self.dirty = False  # changed since the facade last told Simulator.on_push_change
        self._pending_at: dict[str, datetime] = {}
        self._plans: dict[str, _Plan] = {}
        self._outcomes: dict[str, str | None] = {}  # org id (15) -> ErrorType | None
        self._installed: dict[str, dict[str, str]] = {}  # org id -> {namespace: version}
        self._db: OrgData | None = None
        self._active: set[str] = set()
        self._jobs: dict[str, list[dict[str, Any]]] = {}
        self._job_of_org: dict[str, dict[str, str]] = {}  # request -> org (15) -> job id
        self._subscribers: dict[tuple[str, str], dict[str, Any]] = {}

    # ------------------------------------------------------------------ the vendor's records
    def db(self) -> OrgData | None:
        """The packaging org's records (None when there is no vendor org). Built once, they
        are never replaced (Simulator.add_org adds its subscriber rows to them)."""
        if self._db is not None:
            return self._db
        vendor = self.sim.vendor_org
        if vendor is None:
            return None
        self._reindex(self.sim.data(vendor.org_id))
        return self._db

    def _reindex(self, db: OrgData) -> None:
        self._db = db
        self._jobs = {}
        self._job_of_org = {}
        for job in db.rows("PackagePushJob"):
            self._index_job(job)
        self._active = {_id15(r["Id"]) for r in db.rows("PackagePushRequest")
                        if r["Status"] in ("Pending", "In Progress")}
        self._subscribers = {}
        for row in db.rows("PackageSubscriber"):
            self.index_subscriber(row)

    def index_subscriber(self, row: dict[str, Any]) -> None:
        self._subscribers[(_id15(row["MetadataPackageId"]), _id15(row["OrgKey"]))] = row

    def subscriber(self, package: str, org_key: str) -> dict[str, Any] | None:
        self.db()
        return self._subscribers.get((_id15(package), _id15(org_key)))

    def jobs(self, request_id: str) -> list[dict[str, Any]]:
        self.db()
        return self._jobs.get(_id15(request_id), [])

    def version(self, version: Any) -> dict[str, Any] | None:
        db = self.db()
        return db.get("MetadataPackageVersion", str(version or "")) if db else None

    def namespace(self, package: Any) -> str:
        db = self.db()
        row = db.get("MetadataPackage", str(package or "")) if db else None
        return str(row["NamespacePrefix"]) if row else ""

    # ------------------------------------------------------------------ client writes
    def job_for_org(self, request_id: str, org_key: str) -> str | None:
        """The id of the request's job for this org, if it has one."""
        self.db()
        return self._job_of_org.get(_id15(request_id), {}).get(_id15(org_key))

    def _index_job(self, job: dict[str, Any]) -> None:
        request = _id15(job["PackagePushRequestId"])
        self._jobs.setdefault(request, []).append(job)
        self._job_of_org.setdefault(request, {})[_id15(job["SubscriberOrganizationKey"])] = \
            str(job["Id"])

    def job_added(self, job: dict[str, Any]) -> None:
        self.db()
        self._index_job(job)
        self.dirty = True

    def set_pending(self, request: dict[str, Any], now: datetime) -> None:
        """Created -> Pending (vendor.py checked that it may): its jobs wait with it."""
        request["Status"] = "Pending"
        self.dirty = True
        self._pending_at[_id15(request["Id"])] = now
        self._active.add(_id15(request["Id"]))
        for job in self.jobs(request["Id"]):
            if job["Status"] == "Created":
                job["Status"] = "Pending"
        self.tick(now)

    def cancel(self, request: dict[str, Any]) -> None:
        """Created or Pending -> Canceled, "which cancels all its jobs" (reference §4)."""
        request["Status"] = "Canceled"
        self.dirty = True
        self._active.discard(_id15(request["Id"]))
        for job in self.jobs(request["Id"]):
            if job["Status"] not in ENDED:
                job["Status"] = "Canceled"

    # ------------------------------------------------------------------ time
    def tick(self, now: datetime) -> bool:
        """Move every started push up to `now`; True when anything changed."""
        if self._db is None:
            vendor = self.sim.vendor_org
            built = self.sim.built_data(vendor.org_id) if vendor is not None else None
            if built is None:
                return False  # nothing has been pushed yet: the vendor's records are not built
            self._reindex(built)
        db = self._db
        if not self._active or db is None:
            return False
        changed = False
        for request_id in sorted(self._active):
            request = db.get("PackagePushRequest", request_id)
            if request is None:
                self._active.discard(request_id)
                continue
            if request["Status"] == "Pending":
                changed |= self._maybe_start(request, now)
            if request["Status"] == "In Progress":
                changed |= self._run(request, now)
        return changed

    def _start_time(self, request: dict[str, Any]) -> datetime | None:
        pending = self._pending_at.get(_id15(request["Id"]))
        scheduled = as_datetime(request["ScheduledStartTime"])
        if pending is None:  # seeded as Pending: it was set Pending before its start
            return scheduled
        return max(scheduled, pending) if scheduled else pending

    def _maybe_start(self, request: dict[str, Any], now: datetime) -> bool:
        start = self._start_time(request)
        if start is None or now < start + self.start_delay:
            return False
        start += self.start_delay
        request["Status"] = "In Progress"
        request["StartTime"] = sf_datetime(start)
        target = self.version(request["PackageVersionId"]) or {}
        lanes = [start] * LANES
        for n, job in enumerate(self.jobs(request["Id"])):
            if job["Status"] in ENDED:
                continue
            lane = n % LANES
            seconds = 90 + seed_hash(str(job["SubscriberOrganizationKey"])) % 211
            begin = lanes[lane]
            lanes[lane] = begin + timedelta(seconds=seconds)
            self._plans[_id15(job["Id"])] = _Plan(begin, lanes[lane],
                                                  self._failure(job, target))
        return True

    def _run(self, request: dict[str, Any], now: datetime) -> bool:
        changed = False
        jobs = self.jobs(request["Id"])
        for job in jobs:
            if job["Status"] in ENDED:
                continue
            plan = self._plans.get(_id15(job["Id"]))
            if plan is None:  # seeded In Progress without a plan: let it end now
                plan = self._plans[_id15(job["Id"])] = _Plan(now, now, None)
            if now >= plan.end:
                self._finish(request, job, plan)
                changed = True
            elif now >= plan.start and job["Status"] != "In Progress":
                job["Status"] = "In Progress"
                job["StartTime"] = sf_datetime(plan.start)
                changed = True
        if all(job["Status"] in ENDED for job in jobs):
            ends = [as_datetime(j["EndTime"]) for j in jobs if j["EndTime"]]
            start = as_datetime(request["StartTime"]) or now
            end = max([e for e in ends if e] or [start])
            succeeded = any(j["Status"] == "Succeeded" for j in jobs)
            request["Status"] = "Succeeded" if succeeded or not jobs else "Failed"
            request["EndTime"] = sf_datetime(end)
            request["DurationSeconds"] = int((end - start).total_seconds())
            self._active.discard(_id15(request["Id"]))
            changed = True
        return changed

    def _failure(self, job: dict[str, Any], target: dict[str, Any]) -> str | None:
        """Which ErrorType this org's job ends with (None: it succeeds)."""
        key = _id15(job["SubscriberOrganizationKey"])
        if key in self._outcomes:
            return self._outcomes[key]
        sub = self.subscriber(str(target.get("MetadataPackageId") or ""), key)
        installed = self.version(sub["MetadataPackageVersionId"]) if sub else None
        if installed is not None and installed["ReleaseState"] == "Beta":
            return "IneligibleUpgrade"
        try:
            org = self.sim.org(key)
        except KeyError:  # a bare subscriber (benches): one in 50 fails
            h = seed_hash(key)
            return _ROTATION[h // 50 % len(_ROTATION)] if h % 50 == 0 else None
        failure = org.extra.get("push_failure")
        if failure is None and org.extra.get("last_push_failed"):
            failure = "ApexTestFailure"
        return str(failure) if failure else None

    def _finish(self, request: dict[str, Any], job: dict[str, Any], plan: _Plan) -> None:
        db = self.db()
        assert db is not None
        job["StartTime"] = sf_datetime(plan.start)
        job["EndTime"] = sf_datetime(plan.end)
        job["DurationSeconds"] = int((plan.end - plan.start).total_seconds())
        if plan.failure is None:
            job["Status"] = "Succeeded"
            self._upgrade(request, str(job["SubscriberOrganizationKey"]))
            return
        job["Status"] = "Failed"
        rows = [FAILURES[plan.failure]]
        if plan.failure == "ApexTestFailure":  # as the seeded history: with a warning
            rows.append(FAILURES["FeatureMissing"])
        for n, failure in enumerate(rows):
            db.add("PackagePushError", {
                "Id": make_id("0DY", f"{job['Id']}|err|{n}"), "PackagePushJobId": job["Id"],
                "ErrorSeverity": failure.severity, "ErrorType": failure.type,
                "ErrorTitle": failure.title, "ErrorMessage": failure.message,
                "ErrorDetails": failure.details}, plan.end)

    def _upgrade(self, request: dict[str, Any], org_key: str) -> None:
        """The subscriber runs the request's version now: the vendor's PackageSubscriber row
        and the org itself (its InstalledSubscriberPackage, what a probe reads)."""
        target = self.version(request["PackageVersionId"])
        if target is None:
            return
        ns = self.namespace(target["MetadataPackageId"])
        sub = self.subscriber(str(target["MetadataPackageId"]), org_key)
        if sub is not None:
            sub["MetadataPackageVersionId"] = target["Id"]
        text = f"{target['MajorVersion']}.{target['MinorVersion']}.{target['PatchVersion']}"
        self._installed.setdefault(_id15(org_key), {})[ns] = text
        self._install(_id15(org_key), ns, text)

    def _install(self, org_key: str, ns: str, text: str) -> None:
        try:
            org = self.sim.org(org_key)
        except KeyError:
            return  # a subscriber without an org of its own here
        if ns in _EXTRA_KEY:
            org.extra[_EXTRA_KEY[ns]] = text
        db = self.sim.built_data(org.org_id)
        if db is None:
            return  # built from the new fact when first used
        v = Version.parse(text)
        pkg, ver = package_id(ns), version_id(ns, v)
        if db.get("SubscriberPackageVersion", ver) is None:
            db.add("SubscriberPackageVersion", {
                "Id": ver, "Name": v.name, "SubscriberPackageId": pkg, "MajorVersion": v.major,
                "MinorVersion": v.minor, "PatchVersion": v.patch, "BuildNumber": v.build,
                "ReleaseState": "Released", "IsManaged": True, "IsBeta": False,
                "IsDeprecated": False})
        for row in db.rows("InstalledSubscriberPackage"):
            if _id15(row["SubscriberPackageId"]) == _id15(pkg):
                row["SubscriberPackageVersionId"] = ver

    # ------------------------------------------------------------------ scripted outcomes
    def set_outcome(self, org_key: str, error_type: str | None) -> None:
        if error_type is not None and error_type not in FAILURES:
            raise ValueError(f"unknown ErrorType {error_type!r}; known: {', '.join(FAILURES)}")
        self._outcomes[_id15(org_key)] = error_type

    # ------------------------------------------------------------------ the demo's push
    def seed_request(self, key: str, version: str, start: datetime, now: datetime,
                     jobs: list[tuple[str, str | None]], *, runs_until: datetime | None = None
                     ) -> str:
        """A request as if it had been scheduled for `start` (before `now`): every job ended
        (its ErrorType, or None: Succeeded) an hour later, or, with `runs_until`, still In
        Progress until then (the clock ends it). Returns its id (demo_request_id(key))."""
        db = self.db()
        assert db is not None
        request_id = demo_request_id(key)
        running = runs_until is not None
        end = start + timedelta(hours=1)
        request = {"Id": request_id, "PackageVersionId": version,
                   "ScheduledStartTime": sf_datetime(start),
                   "Status": "In Progress" if running else "Succeeded",
                   "StartTime": sf_datetime(start), "EndTime": None, "DurationSeconds": None}
        db.add("PackagePushRequest", request, start - timedelta(days=1))
        request = db.get("PackagePushRequest", request_id) or request
        self._pending_at[_id15(request_id)] = start
        for n, (org_key, failure) in enumerate(jobs):
            job = {"Id": make_id("0DX", f"job|{key}|{org_key}"),
                   "PackagePushRequestId": request_id, "SubscriberOrganizationKey": org_key,
                   "Status": "In Progress" if running else "Pending", "StartTime": None,
                   "EndTime": None, "DurationSeconds": None}
            db.add("PackagePushJob", job, start - timedelta(days=1))
            job = db.get("PackagePushJob", str(job["Id"])) or job
            self._index_job(job)
            plan = _Plan(start + timedelta(minutes=2 * n),
                         runs_until or start + timedelta(minutes=2 * n + 7), failure)
            self._plans[_id15(job["Id"])] = plan
            if running:
                job["StartTime"] = sf_datetime(plan.start)
            else:
                self._finish(request, job, plan)
        if running:
            self._active.add(_id15(request_id))
        else:
            failed = all(j["Status"] == "Failed" for j in self.jobs(request_id))
            request["Status"] = "Failed" if failed and jobs else "Succeeded"
            request["EndTime"] = sf_datetime(end)
            request["DurationSeconds"] = int((end - start).total_seconds())
        self.dirty = True
        return request_id

    # ------------------------------------------------------------------ persistence
    def export_state(self) -> dict[str, Any]:
        """What the push API created or changed, as JSON-ready data (import_state reads it)."""
        db = self.db()
        vendor = self.sim.vendor_org
        if db is None or vendor is None:
            return {"format": STATE_FORMAT, "vendor": None}
        return {
            "format": STATE_FORMAT, "vendor": vendor.org_id,
            "tables": {obj: [dict(r) for r in db.rows(obj)] for obj in PUSH_OBJECTS},
            "subscriber_versions": {str(r["Id"]): r["MetadataPackageVersionId"]
                                    for r in db.rows("PackageSubscriber")},
            "installed": {k: dict(v) for k, v in self._installed.items()},
            "pending_at": {k: sf_datetime(v) for k, v in self._pending_at.items()},
            "plans": {k: [sf_datetime(p.start), sf_datetime(p.end), p.failure]
                      for k, p in self._plans.items()},
            "outcomes": dict(self._outcomes),
        }

    def import_state(self, doc: Any) -> None:
        """Restore `export_state` output; ValueError (and nothing changed) when it is not one
        of ours or does not fit this simulator's records."""
        vendor = self.sim.vendor_org
        db = self.db()
        if not isinstance(doc, dict) or doc.get("format") != STATE_FORMAT:
            raise ValueError("not a push state file of this simulator version")
        if vendor is None or db is None or doc.get("vendor") != vendor.org_id:
            raise ValueError("the push state belongs to another packaging org")
        try:
            tables = {obj: [dict(r) for r in doc["tables"][obj]] for obj in PUSH_OBJECTS}
            versions = {str(k): str(v) for k, v in doc["subscriber_versions"].items()}
            installed = {str(k): {str(n): str(t) for n, t in v.items()}
                         for k, v in doc["installed"].items()}
            pending = {str(k): as_datetime(v) for k, v in doc["pending_at"].items()}
            plans = {str(k): _Plan(as_datetime(s), as_datetime(e), f)  # type: ignore[arg-type]
                     for k, (s, e, f) in doc["plans"].items()}
            outcomes = {str(k): v for k, v in doc["outcomes"].items()}
            for text in (t for v in installed.values() for t in v.values()):
                Version.parse(text)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ValueError(f"malformed push state ({type(exc).__name__}: {exc})") from None
        if any(v is None for v in pending.values()) or any(
                p.start is None or p.end is None or (p.failure and p.failure not in FAILURES)
                for p in plans.values()):
            raise ValueError("malformed push state (a date or an ErrorType)")
        db.replace_rows(tables)  # raises ValueError for rows that do not fit the schema
        for row in db.rows("PackageSubscriber"):
            if str(row["Id"]) in versions:
                row["MetadataPackageVersionId"] = versions[str(row["Id"])]
        self._pending_at = pending  # type: ignore[assignment]
        self._plans = plans
        self._outcomes = outcomes
        self._installed = installed
        for org_key, by_ns in installed.items():
            for ns, text in by_ns.items():
                self._install(org_key, ns, text)
        self._reindex(db)
