"""Watching pushes and aborting one: counts by status per request and wave, errors grouped by
ErrorType, and the requests that need a look (stuck in Created, or still Pending hours after
their start); abort only from Created or Pending (PackagePushRequest reference: "You can't
abort a push upgrade that has a status of Canceled, Succeeded, Failed, or In Progress").
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from juston_tui.push_ops.audit import record_write
from juston_tui.push_ops.history import remember_results
from juston_tui.push_ops.plans import Plan, find_plan, list_plans, update_wave
from juston_tui.push_ops.scheduling import failure_rate
from juston_tui.salesforce.errors import AccessError
from juston_tui.salesforce.push_api import (
    PushReader,
    PushRequestInfo,
    PushStateError,
    PushWriter,
)
from juston_tui.text import clean

if TYPE_CHECKING:
    from juston_tui.salesforce.connection import OrgConnection
    from juston_tui.store import Store

__all__ = ["ABORTABLE", "PENDING_GRACE", "AbortError", "RequestStatus", "abort", "flags_of",
           "request_ids_of", "watch"]

ABORTABLE = ("Created", "Pending")
PENDING_GRACE = timedelta(hours=2)  # Pending this long after its start: something is wrong


class AbortError(Exception):
    """Abort refused or failed: one line for the user."""


@dataclass(frozen=True)
class RequestStatus:
    info: PushRequestInfo
    plan_id: str | None
    wave: int | None
    flags: tuple[str, ...]

    @property
    def failure_rate(self) -> float:
        return failure_rate(self.info.counts)

    def to_doc(self) -> dict[str, Any]:
        info = self.info

        def when(value: datetime | None) -> str | None:
            return value.strftime("%Y-%m-%dT%H:%M:%SZ") if value else None

        return {
            "request_id": info.request_id, "plan_id": self.plan_id, "wave": self.wave,
            "status": info.status, "version_id": info.version_id,
            "scheduled_start": when(info.scheduled_start), "start_time": when(info.start_time),
            "end_time": when(info.end_time), "jobs": len(info.jobs), "counts": info.counts,
            "failure_rate": round(self.failure_rate, 4),
            "errors_by_type": {kind: [{"org_id": e.org_id, "severity": e.severity,
                                       "title": clean(e.title, limit=200),
                                       "message": clean(e.message, limit=500)}
                                      for e in errors]
                               for kind, errors in info.errors_by_type.items()},
            "flags": list(self.flags),
        }


def flags_of(info: PushRequestInfo, now: datetime) -> tuple[str, ...]:
    out = []
    if info.status == "Created":
        out.append("stuck in Created: it never starts (push abort it, or schedule again)")
    start = info.scheduled_start
    if info.status == "Pending" and start is not None and now - start > PENDING_GRACE:
        hours = (now - start).total_seconds() / 3600
        out.append(f"still Pending {hours:.0f} h after its start (push abort it?)")
    return tuple(out)


def request_ids_of(plans: Sequence[Plan]) -> list[tuple[str, str, int]]:
    return [(w.request_id, p.id, w.number) for p in plans for w in p.waves if w.request_id]


def watch(store: Store, conn: OrgConnection, target: str | None = None, *,
          now: datetime | None = None) -> list[RequestStatus]:
    """The requests of one plan (`plan-...`), one request (0DV...), or every plan's."""
    now = now or datetime.now(UTC)
    if target is None:
        wanted = request_ids_of(list_plans(store))
    elif target.startswith("plan-"):
        plan = next((p for p in list_plans(store) if p.id == target), None)
        if plan is None:
            raise KeyError(f"no push plan {target}")
        wanted = request_ids_of([plan])
    else:
        found = find_plan(store, target)
        wanted = [(target, found[0].id, found[1].number)] if found else [(target, "", 0)]
    infos = PushReader(conn).requests([r for r, _p, _w in wanted])
    remember_results(store, list_plans(store), infos)  # for the registry's failed-twice flag
    out = []
    for request_id, plan_id, wave in wanted:
        info = infos.get(request_id)
        if info is None:
            if target is not None and not target.startswith("plan-"):
                raise KeyError(f"the packaging org has no push request {target}")
            continue
        out.append(RequestStatus(info, plan_id or None, wave or None, flags_of(info, now)))
    return out


def abort(store: Store, conn: OrgConnection, request_id: str) -> str:
    """Cancel a Created or Pending request (audited); its wave is marked canceled."""
    found = find_plan(store, request_id)
    common: dict[str, Any] = {"plan_id": found[0].id if found else None,
                              "wave": found[1].number if found else None,
                              "packaging_org": conn.org.org_id}
    try:
        info = PushReader(conn).request(request_id)
    except KeyError:
        raise AbortError(f"the packaging org has no push request {request_id}") from None
    if info.status not in ABORTABLE:
        raise AbortError(f"can't abort push request {request_id}: it is {info.status} (only "
                         "Created or Pending requests can be)")
    try:
        PushWriter(conn).cancel(request_id)
    except PushStateError as exc:  # it moved on meanwhile
        record_write(store, "cancel", request_id=request_id, ok=False, error=str(exc),
                     summary={"why": "push abort", "status": exc.status}, **common)
        raise AbortError(str(exc)) from None
    except AccessError as exc:
        record_write(store, "cancel", request_id=request_id, ok=False, error=str(exc),
                     summary={"why": "push abort"}, **common)
        raise AbortError(f"canceling {request_id} failed: {exc}") from None
    record_write(store, "cancel", request_id=request_id, ok=True,
                 summary={"why": "push abort", "was": info.status, "status": "Canceled",
                          "jobs": len(info.jobs)}, **common)
    if found:
        update_wave(store, found[0].id, found[1].number, state="canceled")
    return f"push request {request_id} canceled (it was {info.status}, {len(info.jobs)} job(s))"
