"""Scheduling one wave of a plan as its own PackagePushRequest, with every guard.

`preview` is what would be sent (the request, the job batches, the org count) and touches
nothing. `schedule_wave` refuses unless:
- the wave has not been scheduled yet (a failed wave may be tried again) and starts in the
  future;
- its announcement was recorded at least ANNOUNCEMENT_DAYS (7) days before its start (seed
  000: "One week before the upgrade, we will send an email"), or an override reason is given
  (kept on the wave);
- the wave before it has finished (its request ended) with a failure rate under the threshold.
Then: create the request (PackagePushRequest, ScheduledStartTime = the wave's start), insert
its jobs in composite/tree batches (orgs Salesforce refuses are dropped with its reason:
push_api, CumulusCI's rule), set it Pending. If anything fails once the request exists, or no
org is left, the request is canceled (no orphans in Created: the Salesforce CLI leaves one
when inserting jobs fails, CumulusCI's zero-org branch never cancels). Every write to the
packaging org is recorded in push_audit, the failed ones too.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import orjson

from juston_tui.model import ValidationError, parse_utc
from juston_tui.push_ops.audit import current_user, record_write
from juston_tui.push_ops.plans import Plan, Wave, get_plan, stamp, update_wave
from juston_tui.salesforce.errors import AccessError
from juston_tui.salesforce.push_api import (
    BATCH_SIZE,
    BatchProgress,
    JobInsertError,
    PushReader,
    PushWriter,
)
from juston_tui.schedule import ANNOUNCEMENT_DAYS, zone_named
from juston_tui.text import clean

if TYPE_CHECKING:
    from juston_tui.salesforce.connection import OrgConnection
    from juston_tui.store import Store

__all__ = ["DEFAULT_MAX_FAILURE_RATE", "DryRun", "Preview", "ScheduleError", "ScheduleResult",
           "announcement_problem", "dry_run", "failure_rate", "next_wave", "preview",
           "schedule_wave"]

DEFAULT_MAX_FAILURE_RATE = 0.1


class ScheduleError(Exception):
    """Scheduling refused or failed: one line for the user."""


@dataclass(frozen=True)
class Preview:
    plan_id: str
    wave: int
    request: dict[str, Any]  # the PackagePushRequest body
    batches: tuple[tuple[str, ...], ...]
    org_count: int
    announcement: str | None  # None: the gate passes; else why --yes would be refused


@dataclass(frozen=True)
class ScheduleResult:
    request_id: str
    jobs: int
    dropped: tuple[dict[str, str], ...]
    round_trips: int
    override: str | None
    previous: str | None = None  # how the wave before it ended (the gate it passed)


CLAIM_EXPIRES = timedelta(minutes=30)  # a process that died while sending a wave


def _not_sendable(wave: Wave, now: datetime) -> str | None:
    if wave.state == "sending":
        claimed = parse_utc(wave.claimed_at)
        if claimed is not None and now - claimed < CLAIM_EXPIRES:
            return (f"wave {wave.number} is being scheduled by another process (since "
                    f"{wave.claimed_at}); see push status")
        return None
    if wave.state not in ("planned", "failed"):
        return (f"wave {wave.number} is already {wave.state}"
                + (f" (request {wave.request_id})" if wave.request_id else ""))
    return None


def next_wave(plan: Plan) -> Wave:
    """The first wave not scheduled yet (planned, or failed and to be tried again)."""
    for wave in plan.waves:
        if wave.state in ("planned", "failed", "sending"):
            return wave
    raise ScheduleError(f"every wave of {plan.id} is scheduled or canceled")


def announcement_problem(wave: Wave) -> str | None:
    """None when the wave's announcement was recorded ANNOUNCEMENT_DAYS before its start."""
    announced = parse_utc(wave.announced_at)
    if announced is None:
        return (f"wave {wave.number} was never announced (push announce; or "
                "--override-announcement REASON)")
    due = wave.start_utc - timedelta(days=ANNOUNCEMENT_DAYS)
    if announced > due:
        return (f"wave {wave.number} was announced {announced:%Y-%m-%d %H:%M} UTC, less than "
                f"{ANNOUNCEMENT_DAYS} days before its start {wave.start_utc:%Y-%m-%d %H:%M} "
                "UTC (--override-announcement REASON to go ahead)")
    return None


def preview(plan: Plan, wave: Wave) -> Preview:
    body: dict[str, Any] = {"PackageVersionId": plan.version_id,
                            "ScheduledStartTime": stamp(wave.start_utc)}
    ids = wave.org_ids
    batches = tuple(tuple(ids[i:i + BATCH_SIZE]) for i in range(0, len(ids), BATCH_SIZE))
    return Preview(plan.id, wave.number, body, batches, len(ids), announcement_problem(wave))


@dataclass(frozen=True)
class DryRun:
    """What `schedule` would send, as lines (`lines`), and why it would be refused or what it
    checks first (`notes`): `push schedule` without --yes and the screen's dry run."""

    lines: tuple[str, ...]
    notes: tuple[str, ...]
    preview: Preview


def dry_run(plan: Plan, wave: Wave,
            max_failure_rate: float = DEFAULT_MAX_FAILURE_RATE) -> DryRun:
    """Exactly what scheduling `wave` would send, touching nothing."""
    shown = preview(plan, wave)
    zone = zone_named(plan.timezone)
    local = wave.start_utc.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z")
    utc = wave.start_utc.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [f"1. POST sobjects/PackagePushRequest {orjson.dumps(shown.request).decode()}",
             f"2. POST composite/tree/PackagePushJob: {len(shown.batches)} batch(es), "
             f"{shown.org_count} org(s)"]
    lines += [f"   batch {n} ({len(batch)}): {' '.join(batch)}"
              for n, batch in enumerate(shown.batches, start=1)]
    lines += ["3. PATCH the request Status Pending (on failure: Status Canceled)",
              f"wave {wave.number} ({clean(wave.name, limit=60)}) starts {local} ({utc})"]
    notes = []
    if shown.announcement:
        notes.append(f"--yes would be refused: {shown.announcement}")
    earlier = [w for w in plan.waves if w.number < wave.number]
    if earlier and earlier[-1].state != "scheduled":
        notes.append(f"--yes would be refused: wave {earlier[-1].number} comes first (it is "
                     f"{earlier[-1].state})")
    elif earlier:
        notes.append(f"--yes checks first that wave {earlier[-1].number} has ended with a "
                     f"failure rate under {max_failure_rate:.0%}")
    return DryRun(tuple(lines), tuple(notes), shown)


def failure_rate(counts: dict[str, int]) -> float:
    """Failed jobs over the jobs that ran (canceled jobs did not run)."""
    ran = sum(n for status, n in counts.items() if status != "Canceled")
    return counts.get("Failed", 0) / ran if ran else 0.0


def _previous_wave(conn: OrgConnection, plan: Plan, wave: Wave,
                   max_failure_rate: float) -> tuple[str | None, str | None]:
    """(why scheduling `wave` must wait, how the wave before it ended)."""
    earlier = [w for w in plan.waves if w.number < wave.number]
    if not earlier:
        return None, None
    before = earlier[-1]
    if before.state != "scheduled" or not before.request_id:
        return f"wave {before.number} comes first (it is {before.state})", None
    try:
        info = PushReader(conn).request(before.request_id)
    except KeyError:
        return (f"wave {before.number}'s request {before.request_id} is not in the packaging "
                "org"), None
    if not info.ended:
        return (f"wave {before.number} (request {before.request_id}) has not finished: it is "
                f"{info.status}"), None
    if info.status == "Canceled":
        return f"wave {before.number} (request {before.request_id}) was canceled", None
    rate = failure_rate(info.counts)
    if rate >= max_failure_rate:
        return (f"wave {before.number} failed in {rate:.0%} of its orgs (the limit is "
                f"{max_failure_rate:.0%}; see push status {plan.id})"), None
    return None, (f"wave {before.number} ended {info.status}: {len(info.jobs)} job(s), "
                  f"failure rate {rate:.0%} (under {max_failure_rate:.0%})")


def schedule_wave(store: Store, conn: OrgConnection, plan_id: str, number: int, *,
                  override: str | None = None,
                  max_failure_rate: float = DEFAULT_MAX_FAILURE_RATE,
                  now: datetime | None = None,
                  on_batch: Callable[[BatchProgress], None] | None = None) -> ScheduleResult:
    """Schedule wave `number` of the plan (see the module's doc for the guards)."""
    now = now or datetime.now(UTC)
    plan = get_plan(store, plan_id)
    if plan is None:
        raise ScheduleError(f"no push plan {plan_id}")
    wave = plan.wave(number)
    refusal = _not_sendable(wave, now)
    if refusal is not None:
        raise ScheduleError(refusal)
    if not wave.orgs:
        raise ScheduleError(f"wave {number} has no orgs")
    if wave.start_utc <= now:
        raise ScheduleError(f"wave {number} was to start {wave.start_utc:%Y-%m-%d %H:%M} UTC, "
                            "which has passed; make a new plan (push plan --at ...)")
    gate = announcement_problem(wave)
    reason = " ".join((override or "").split())[:300] or None
    if gate is not None and reason is None:
        raise ScheduleError(f"refused: {gate}")
    problem, previous = _previous_wave(conn, plan, wave, max_failure_rate)
    if problem is not None:
        raise ScheduleError(f"refused: {problem}")

    writer = PushWriter(conn)
    common = {"plan_id": plan.id, "wave": number, "packaging_org": plan.packaging_org}
    try:  # claim the wave: another process scheduling it meanwhile is refused here
        update_wave(store, plan.id, number, when=lambda w: _not_sendable(w, now),
                    state="sending", claimed_at=stamp(now))
    except ValidationError as exc:
        raise ScheduleError(next(iter(exc.errors.values()))) from None
    try:
        request_id = writer.create_request(plan.version_id, wave.start_utc)
    except AccessError as exc:
        update_wave(store, plan.id, number, state="failed")
        record_write(store, "create_request", request_id=None, ok=False, error=str(exc),
                     summary={"version_id": plan.version_id,
                              "scheduled_start": stamp(wave.start_utc)}, **common)
        raise ScheduleError(f"the packaging org refused the push request: {exc}") from None
    try:
        record_write(store, "create_request", request_id=request_id, ok=True,
                     summary={"version_id": plan.version_id, "version": plan.version,
                              "scheduled_start": stamp(wave.start_utc), "status": "Created"},
                     **common)
        update_wave(store, plan.id, number, request_id=request_id,
                    announcement_override=reason if gate is not None
                    else wave.announcement_override)
        try:
            result = writer.insert_jobs(request_id, wave.org_ids, on_batch=on_batch)
        except JobInsertError as exc:
            part = exc.partial
            record_write(store, "insert_jobs", request_id=request_id, ok=False, error=str(exc),
                         summary={"created": len(part.jobs), "dropped": _dropped(part.dropped),
                                  "not_sent": len(part.not_sent),
                                  "round_trips": part.round_trips}, **common)
            raise ScheduleError(f"inserting the jobs failed: {exc}") from None
        dropped = _dropped(result.dropped)
        record_write(store, "insert_jobs", request_id=request_id, ok=True,
                     summary={"created": len(result.jobs), "dropped": dropped,
                              "round_trips": result.round_trips}, **common)
        if not result.jobs:
            raise ScheduleError("Salesforce refused every org of the wave")
        try:
            writer.start(request_id)
        except AccessError as exc:
            record_write(store, "start", request_id=request_id, ok=False, error=str(exc),
                         **common)
            raise ScheduleError(f"setting the request Pending failed: {exc}") from None
        record_write(store, "start", request_id=request_id, ok=True,
                     summary={"status": "Pending"}, **common)
    except BaseException as exc:  # no orphaned request in Created, whatever stopped us
        note = _cancel_orphan(store, writer, request_id, common)
        update_wave(store, plan.id, number, state="failed")
        if isinstance(exc, ScheduleError):
            raise ScheduleError(f"{exc}; {note}") from None
        raise
    last = number == plan.waves[-1].number
    update_wave(store, plan.id, number, state="scheduled", scheduled_at=stamp(now),
                scheduled_by=current_user(), dropped=dropped, jobs=len(result.jobs),
                plan_state="scheduled" if last else "scheduling")
    return ScheduleResult(request_id, len(result.jobs), dropped, result.round_trips,
                          reason if gate is not None else None, previous)


def _dropped(items: Sequence[Any]) -> tuple[dict[str, str], ...]:
    return tuple({"org_id": d.org_id, "code": d.code, "message": clean(d.message, limit=300)}
                 for d in items)


def _cancel_orphan(store: Store, writer: PushWriter, request_id: str,
                   common: dict[str, Any]) -> str:
    try:
        writer.cancel(request_id)
    except AccessError as exc:
        record_write(store, "cancel", request_id=request_id, ok=False, error=str(exc),
                     summary={"why": "scheduling failed"}, **common)
        return (f"canceling request {request_id} failed too ({exc}): cancel it in the "
                "packaging org")
    record_write(store, "cancel", request_id=request_id, ok=True,
                 summary={"why": "scheduling failed", "status": "Canceled"}, **common)
    return f"request {request_id} was canceled (nothing will be pushed)"
