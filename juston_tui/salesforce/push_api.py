"""Push upgrades in the packaging org, typed: create a request, insert its jobs, start, cancel,
and read how requests are doing. Mechanism only: which orgs, when, in which waves, whether an
announcement was made or a failure rate is acceptable is decided by the caller.

Everything runs over one `OrgConnection` to the vendor's packaging org (its timeouts, the hard
per-org budget, one re-login on an expired session). Reads (`PushReader`) change nothing and
are fine in read-only mode; writes (`PushWriter`) change the packaging org.

Salesforce facts this follows (object reference sforce_api_objects_packagepushrequest / job /
error.htm; CumulusCI cumulusci/tasks/push/push_api.py; plugin-packaging / @salesforce/packaging
src/package/packagePushUpgrade.ts):
- a request is created with `POST sobjects/PackagePushRequest {PackageVersionId,
  ScheduledStartTime?}` (201 `{"id", "success", "errors"}`), starts Created;
- jobs are inserted with `POST composite/tree/PackagePushJob`, at most 200 records a request
  (api_rest resources_composite_sobject_tree.htm), all or nothing: on an error the answer is 400
  `{"hasErrors": true, "results": [{"referenceId", "errors": [{"statusCode", "message",
  "fields"}]}]}` with only the records that failed (responses_composite_sobject_tree.htm).
  CumulusCI uses the org id as referenceId, drops the orgs whose errors are DUPLICATE_VALUE,
  INVALID_OPERATION or UNKNOWN_EXCEPTION, retries the rest, and retries the whole batch when
  the message says "Something bad has happened" (push_api.py `_add_batch`); so do we, with a
  bound on those retries;
- PATCH Status Pending starts it (at ScheduledStartTime, or at once when unset), PATCH Status
  Canceled aborts it, only while Created or Pending (Salesforce CLI refuses other states before
  it PATCHes: packagePushUpgrade.ts `abort`);
- status: jobs by PackagePushRequestId, errors by PackagePushJob.PackagePushRequestId, as
  Salesforce CLI's `push-upgrade report` reads them; job and request Status are counted as
  they are, with the old spelling "Cancelled" read as "Canceled".

simple-salesforce is imported where a call needs it (its package takes ~0.5 s to import), as
connection.py and vendor.py do: importing this module stays cheap.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeVar

from juston_tui.model import ValidationError, normalize_org_id, parse_utc
from juston_tui.salesforce.errors import AccessError, describe_error
from juston_tui.salesforce.vendor import query_batch

if TYPE_CHECKING:
    from simple_salesforce import Salesforce

    from juston_tui.salesforce.connection import OrgConnection

__all__ = [
    "BATCH_SIZE",
    "DROPPED_CODES",
    "REQUEST_OPEN_STATES",
    "BatchProgress",
    "CreatedJob",
    "DroppedOrg",
    "JobInsertError",
    "JobInsertResult",
    "PushApiError",
    "PushErrorInfo",
    "PushJobInfo",
    "PushReader",
    "PushRequestInfo",
    "PushStateError",
    "PushWriter",
    "normalize_status",
]

T = TypeVar("T")

BATCH_SIZE = 200  # records per composite/tree request (Salesforce's limit; CumulusCI's batch)
# Per-org rejections that drop the org and let the rest of its batch go in (CumulusCI).
DROPPED_CODES = frozenset({"DUPLICATE_VALUE", "INVALID_OPERATION", "UNKNOWN_EXCEPTION"})
_TRANSIENT = "Something bad has happened"  # CumulusCI retries the whole batch on this
MAX_BATCH_RETRIES = 3
REQUEST_OPEN_STATES = ("Created", "Pending", "In Progress")
_IDS_PER_QUERY = 100  # request ids per IN (...) list, as vendor.py reads push history
_REQUEST_FIELD = "PackagePushRequestId"


def normalize_status(value: Any) -> str:
    """A push request or job Status as one spelling: "Cancelled" (older PackagePushJob docs,
    @salesforce/packaging's list filter type) is "Canceled"."""
    text = str(value or "")
    return "Canceled" if text == "Cancelled" else text


def _stamp(when: datetime) -> str:
    if when.tzinfo is None:
        raise ValueError("the start time needs a time zone (UTC is what Salesforce stores)")
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# ---------------------------------------------------------------------------------- results


@dataclass(frozen=True)
class CreatedJob:
    org_id: str
    job_id: str


@dataclass(frozen=True)
class DroppedOrg:
    """An org Salesforce refused a job for, with its reason (code and message as sent)."""

    org_id: str
    code: str
    message: str


@dataclass(frozen=True)
class JobInsertResult:
    request_id: str
    jobs: tuple[CreatedJob, ...]
    dropped: tuple[DroppedOrg, ...]
    round_trips: int  # composite/tree requests sent (the ideal is ceil(orgs / 200))
    not_sent: tuple[str, ...] = ()  # orgs never tried (only when an insert stopped early)

    @property
    def org_ids(self) -> tuple[str, ...]:
        return tuple(job.org_id for job in self.jobs)


@dataclass(frozen=True)
class BatchProgress:
    """After each batch: how far `insert_jobs` got."""

    batch: int
    batches: int
    created: int
    dropped: int
    round_trips: int


class PushApiError(AccessError):
    """Salesforce refused a push write: its errorCode, message and the fields at fault."""

    def __init__(self, code: str, message: str, fields: Sequence[str] = ()) -> None:
        super().__init__(f"{code}: {message}" if code else message)
        self.code = code
        self.message = message
        self.fields = tuple(fields)


class PushStateError(PushApiError):
    """Start or cancel refused because of the request's status (`status`, read afterwards)."""

    def __init__(self, code: str, message: str, status: str | None) -> None:
        super().__init__(code, message, ("Status",))
        self.args = (message,)  # the sentence says it all; `code` keeps Salesforce's code
        self.status = status


class JobInsertError(PushApiError):
    """Inserting jobs stopped for a reason that is not one org's (the request's, an error we
    cannot tell apart, or no answer at all: `code` ""); `partial` has the jobs created and
    the orgs dropped before it, and in `not_sent` the rest, starting with the batch that
    failed (after no answer, that batch may have gone in: read the request's jobs)."""

    def __init__(self, code: str, message: str, partial: JobInsertResult,
                 fields: Sequence[str] = ()) -> None:
        super().__init__(code, message, fields)
        self.partial = partial


@dataclass(frozen=True)
class PushErrorInfo:
    job_id: str
    org_id: str | None
    severity: str
    type: str
    title: str
    message: str
    details: str | None


@dataclass(frozen=True)
class PushJobInfo:
    job_id: str
    org_id: str | None
    status: str
    start_time: datetime | None
    end_time: datetime | None
    errors: tuple[PushErrorInfo, ...] = ()


@dataclass(frozen=True)
class PushRequestInfo:
    request_id: str
    version_id: str
    status: str
    scheduled_start: datetime | None
    start_time: datetime | None
    end_time: datetime | None
    duration_seconds: int | None
    jobs: tuple[PushJobInfo, ...] = field(default=())

    @property
    def ended(self) -> bool:
        return self.status not in REQUEST_OPEN_STATES

    @property
    def counts(self) -> dict[str, int]:
        """Jobs by Status."""
        out: dict[str, int] = {}
        for job in self.jobs:
            out[job.status] = out.get(job.status, 0) + 1
        return out

    @property
    def errors_by_type(self) -> dict[str, tuple[PushErrorInfo, ...]]:
        """Every PackagePushError of the request, by ErrorType (warnings too)."""
        out: dict[str, list[PushErrorInfo]] = {}
        for job in self.jobs:
            for error in job.errors:
                out.setdefault(error.type, []).append(error)
        return {k: tuple(v) for k, v in sorted(out.items())}

    def job(self, org_id: str) -> PushJobInfo | None:
        key = org_id[:15]
        return next((j for j in self.jobs if (j.org_id or "")[:15] == key), None)


# ---------------------------------------------------------------------------------- plumbing


class _Api:
    def __init__(self, conn: OrgConnection) -> None:
        self.conn = conn

    def _call(self, fn: Callable[[Salesforce], T]) -> T:
        """`fn(client)` on the connection (one re-login on an expired session); a 400 passes
        through as SalesforceMalformedRequest for the caller to read Salesforce's error."""
        return self._guard(lambda: self.conn.call(fn), keep_refusals=True)

    def _guard(self, thunk: Callable[[], T], *, keep_refusals: bool = False) -> T:
        """Any failure becomes one clean AccessError line (but a refusal, when kept)."""
        # simple_salesforce/requests: ~0.4 s to import, only once an org is contacted
        from simple_salesforce.exceptions import SalesforceMalformedRequest

        try:
            return thunk()
        except AccessError:
            raise
        except Exception as exc:
            if keep_refusals and isinstance(exc, SalesforceMalformedRequest):
                raise
            raise AccessError(describe_error(exc, secrets=self.conn.secrets(),
                                             timeout=self.conn.timeout,
                                             login_hint=self.conn.login_hint)) from None


def _first_error(content: Any) -> tuple[str, str, tuple[str, ...]]:
    """(errorCode, message, fields) of a REST error list."""
    if isinstance(content, list) and content and isinstance(content[0], Mapping):
        item = content[0]
        fields = item.get("fields") or ()
        return (str(item.get("errorCode") or ""), str(item.get("message") or ""),
                tuple(str(f) for f in fields) if isinstance(fields, list) else ())
    return "", str(content)[:300], ()


def _unique_org_ids(org_ids: Iterable[str]) -> list[str]:
    """18-character org ids, first occurrence kept; ValueError naming every one that is not."""
    out: list[str] = []
    seen: set[str] = set()
    bad: list[str] = []
    for raw in org_ids:
        try:
            org_id = normalize_org_id(str(raw))
        except ValidationError:
            bad.append(str(raw))
            continue
        if org_id not in seen:
            seen.add(org_id)
            out.append(org_id)
    if bad:
        shown = ", ".join(repr(b) for b in bad[:5]) + (" ..." if len(bad) > 5 else "")
        raise ValueError(f"not org ids: {shown}")
    return out


# ---------------------------------------------------------------------------------- writes


class PushWriter(_Api):
    """The writes of a push upgrade; each call is one or a few REST requests."""

    def create_request(self, version_id: str, scheduled_start: datetime | None = None) -> str:
        """A new PackagePushRequest (Status Created); returns its id (0DV...). Without
        `scheduled_start` it starts as soon as it is set Pending."""
        # simple_salesforce/requests: ~0.4 s to import, only once an org is contacted
        from simple_salesforce.exceptions import SalesforceMalformedRequest

        body: dict[str, Any] = {"PackageVersionId": version_id}
        if scheduled_start is not None:
            body["ScheduledStartTime"] = _stamp(scheduled_start)
        try:
            answer = self._call(lambda sf: sf.restful("sobjects/PackagePushRequest/",
                                                      method="POST", json=body))
        except SalesforceMalformedRequest as exc:
            raise PushApiError(*_first_error(exc.content)) from None
        request_id = answer.get("id") if isinstance(answer, Mapping) else None
        if not request_id or not answer.get("success", True):
            raise AccessError("malformed response from Salesforce (no id for the new push "
                              "request)")
        return str(request_id)

    def insert_jobs(self, request_id: str, org_ids: Iterable[str], *,
                    batch_size: int = BATCH_SIZE,
                    on_batch: Callable[[BatchProgress], None] | None = None) -> JobInsertResult:
        """One PackagePushJob per org, `batch_size` (at most 200) a request. An org Salesforce
        refuses (DROPPED_CODES) is dropped with its reason and the rest of its batch is sent
        again; any other refusal stops with JobInsertError (what was done is in `partial`).
        Orgs are 15- or 18-character ids, duplicates sent once (ValueError for a non-id)."""
        if not 1 <= batch_size <= BATCH_SIZE:
            raise ValueError(f"batch_size must be 1-{BATCH_SIZE}")
        orgs = _unique_org_ids(org_ids)
        created: list[CreatedJob] = []
        dropped: list[DroppedOrg] = []
        trips = 0
        batches = [orgs[i:i + batch_size] for i in range(0, len(orgs), batch_size)]

        def partial(remaining: Sequence[str]) -> JobInsertResult:
            return JobInsertResult(request_id, tuple(created), tuple(dropped), trips,
                                   tuple(remaining))

        for number, first in enumerate(batches, start=1):
            batch = list(first)
            retries = 0
            while batch:
                trips += 1
                rest = [o for b in batches[number:] for o in b]
                try:
                    outcome = self._post_jobs(request_id, batch)
                except AccessError as exc:  # no answer: this batch may or may not be in
                    raise JobInsertError("", str(exc), partial(batch + rest)) from None
                if isinstance(outcome, dict):  # every org got its job
                    created.extend(CreatedJob(org, outcome[org]) for org in batch)
                    break
                if outcome.transient:  # Salesforce's passing failure: the same batch again
                    retries += 1
                    if retries > MAX_BATCH_RETRIES:
                        raise JobInsertError("UNKNOWN_EXCEPTION", f"{_TRANSIENT} (batch "
                                             f"{number} failed {retries} times)",
                                             partial(batch + rest))
                    continue
                if outcome.stop is not None:
                    code, message, fields = outcome.stop
                    raise JobInsertError(code, message, partial(batch + rest), fields)
                dropped.extend(outcome.dropped)
                gone = {d.org_id for d in outcome.dropped}
                batch = [org for org in batch if org not in gone]
            if on_batch is not None:
                on_batch(BatchProgress(number, len(batches), len(created), len(dropped), trips))
        return partial(())

    def _post_jobs(self, request_id: str, batch: Sequence[str]) -> dict[str, str] | _Refusal:
        """One composite/tree POST: {org: job id} when all went in, else what Salesforce
        refused."""
        # simple_salesforce/requests: ~0.4 s to import, only once an org is contacted
        from simple_salesforce.exceptions import SalesforceMalformedRequest

        payload = {"records": [
            {"attributes": {"type": "PackagePushJob", "referenceId": org},
             _REQUEST_FIELD: request_id, "SubscriberOrganizationKey": org} for org in batch]}
        try:
            answer = self._call(lambda sf: sf.restful("composite/tree/PackagePushJob/",
                                                      method="POST", json=payload))
        except SalesforceMalformedRequest as exc:
            return _tree_refusal(exc.content, batch)
        results = answer.get("results") if isinstance(answer, Mapping) else None
        ids = {str(r.get("referenceId")): str(r.get("id")) for r in results or ()
               if isinstance(r, Mapping) and r.get("id")}
        if (isinstance(answer, Mapping) and answer.get("hasErrors")) or set(batch) - set(ids):
            raise AccessError("malformed response from Salesforce (composite/tree answered "
                              f"without an id for {len(set(batch) - set(ids))} of its records)")
        return ids

    def start(self, request_id: str) -> None:
        """Status Pending: the push starts at its ScheduledStartTime (or at once)."""
        self._set_status(request_id, "Pending", "start")

    def cancel(self, request_id: str) -> None:
        """Status Canceled, with all its jobs; only a Created or Pending request can be."""
        self._set_status(request_id, "Canceled", "cancel")

    def _set_status(self, request_id: str, status: str, verb: str) -> None:
        # simple_salesforce/requests: ~0.4 s to import, only once an org is contacted
        from simple_salesforce.exceptions import SalesforceMalformedRequest

        path = f"sobjects/PackagePushRequest/{request_id}"
        try:
            self._call(lambda sf: sf.restful(path, method="PATCH", json={"Status": status}))
        except SalesforceMalformedRequest as exc:
            code, message, fields = _first_error(exc.content)
            if code != "INVALID_OPERATION" and "Status" not in fields:
                raise PushApiError(code, message, fields) from None
            try:
                current = PushReader(self.conn).request(request_id).status
            except (AccessError, KeyError):
                current = None
            allowed = "Created or Pending" if verb == "cancel" else "Created"
            why = (f"can't {verb} push request {request_id}: it is {current} (only {allowed} "
                   f"requests can be)" if current else f"can't {verb} push request "
                   f"{request_id}: {message}")
            raise PushStateError(code, why, current) from None


_Stop = tuple[str, str, tuple[str, ...]]  # errorCode, message, fields


@dataclass(frozen=True)
class _Refusal:
    """A failed composite/tree: the orgs to drop, or what stops the insert, or a passing
    failure (the same batch again)."""

    dropped: tuple[DroppedOrg, ...] = ()
    stop: _Stop | None = None
    transient: bool = False


def _tree_refusal(content: Any, batch: Sequence[str]) -> _Refusal:
    """Read a failed composite/tree answer (reference: responses_composite_sobject_tree.htm)."""
    if not isinstance(content, Mapping):  # a request-level error list, not per record
        return _Refusal(stop=_first_error(content))
    in_batch = set(batch)
    refused: list[DroppedOrg] = []
    for result in content.get("results") or ():
        if not isinstance(result, Mapping):
            continue
        ref = str(result.get("referenceId") or "")
        for error in result.get("errors") or ():
            if not isinstance(error, Mapping):
                continue
            code, message = str(error.get("statusCode") or ""), str(error.get("message") or "")
            fields = tuple(str(f) for f in error.get("fields") or ())
            if _TRANSIENT in message:
                return _Refusal(transient=True)
            if code not in DROPPED_CODES or _REQUEST_FIELD in fields or ref not in in_batch:
                # Not about this org alone: sent again without it, it would fail again.
                return _Refusal(stop=(code, message, fields))
            refused.append(DroppedOrg(ref, code, message))
            break  # one reason per org
    if not refused:
        return _Refusal(stop=("", "composite/tree failed without naming a record", ()))
    return _Refusal(dropped=tuple(refused))


# ---------------------------------------------------------------------------------- reads


def _queries(ids: Sequence[str]) -> dict[str, str]:
    quoted = ", ".join(f"'{i}'" for i in ids)
    return {
        "requests": "SELECT Id, PackageVersionId, ScheduledStartTime, Status, StartTime, "
                    f"EndTime, DurationSeconds FROM PackagePushRequest WHERE Id IN ({quoted})",
        "jobs": "SELECT Id, PackagePushRequestId, SubscriberOrganizationKey, Status, StartTime, "
                f"EndTime FROM PackagePushJob WHERE PackagePushRequestId IN ({quoted})",
        "errors": "SELECT Id, PackagePushJobId, ErrorSeverity, ErrorType, ErrorTitle, "
                  "ErrorMessage, ErrorDetails FROM PackagePushError WHERE "
                  f"PackagePushJob.PackagePushRequestId IN ({quoted})",
    }


def _org(value: Any) -> str | None:
    try:
        return normalize_org_id(str(value or ""))
    except ValidationError:
        return None


class PushReader(_Api):
    """Reads of push requests; nothing here changes the packaging org."""

    def requests(self, request_ids: Sequence[str]) -> dict[str, PushRequestInfo]:
        """Status, jobs and errors of each request (by id as given; unknown ids are absent).
        One composite per 100 requests (its three queries), plus a page per further 2,000
        jobs or errors."""
        out: dict[str, PushRequestInfo] = {}
        wanted = list(dict.fromkeys(str(i) for i in request_ids))
        for start in range(0, len(wanted), _IDS_PER_QUERY):
            chunk = wanted[start:start + _IDS_PER_QUERY]
            records = self._guard(lambda chunk=chunk: query_batch(self.conn,
                                                                  _queries(chunk)))
            out.update(_assemble(records, chunk))
        return out

    def request(self, request_id: str) -> PushRequestInfo:
        """One request; KeyError when the packaging org has no such request."""
        found = self.requests([request_id])
        if request_id not in found:
            raise KeyError(request_id)
        return found[request_id]


def _assemble(records: Mapping[str, list[dict[str, Any]]], ids: Sequence[str]
              ) -> dict[str, PushRequestInfo]:
    def rows(ref: str) -> list[Mapping[str, Any]]:
        return [r for r in records.get(ref) or () if isinstance(r, Mapping) and r.get("Id")]

    jobs_by_id = {str(j["Id"])[:15]: j for j in rows("jobs")}
    errors: dict[str, list[PushErrorInfo]] = {}
    for e in rows("errors"):
        job = jobs_by_id.get(str(e.get("PackagePushJobId") or "")[:15])
        key = str(e.get("PackagePushJobId") or "")[:15]
        errors.setdefault(key, []).append(PushErrorInfo(
            job_id=str(e.get("PackagePushJobId") or ""),
            org_id=_org(job.get("SubscriberOrganizationKey")) if job else None,
            severity=str(e.get("ErrorSeverity") or ""), type=str(e.get("ErrorType") or ""),
            title=str(e.get("ErrorTitle") or ""), message=str(e.get("ErrorMessage") or ""),
            details=e.get("ErrorDetails")))
    jobs: dict[str, list[PushJobInfo]] = {}
    for j in rows("jobs"):
        jobs.setdefault(str(j.get("PackagePushRequestId") or "")[:15], []).append(PushJobInfo(
            job_id=str(j["Id"]), org_id=_org(j.get("SubscriberOrganizationKey")),
            status=normalize_status(j.get("Status")), start_time=parse_utc(j.get("StartTime")),
            end_time=parse_utc(j.get("EndTime")), errors=tuple(errors.get(str(j["Id"])[:15], ()))))
    by15 = {i[:15]: i for i in ids}
    out: dict[str, PushRequestInfo] = {}
    for r in rows("requests"):
        given = by15.get(str(r["Id"])[:15])
        if given is None:
            continue
        duration = r.get("DurationSeconds")
        out[given] = PushRequestInfo(
            request_id=str(r["Id"]), version_id=str(r.get("PackageVersionId") or ""),
            status=normalize_status(r.get("Status")),
            scheduled_start=parse_utc(r.get("ScheduledStartTime")),
            start_time=parse_utc(r.get("StartTime")), end_time=parse_utc(r.get("EndTime")),
            duration_seconds=int(duration) if isinstance(duration, int | float) else None,
            jobs=tuple(sorted(jobs.get(str(r["Id"])[:15], ()),
                              key=lambda job: (job.org_id or "", job.job_id))))
    return out
