"""Demo pushes for the calendar: confirmed pushes around the projected slots, written through
the schedule's `save_push` (the owner of the pushes table); and the push plan whose waves the
simulator's daemon runs (Simulator.seed_demo_push): wave 1 done with a failure, wave 2 in
progress, written through push_ops' `save_plan` (the owner of push_plans)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from juston_tui.model import Org
from juston_tui.push_jobs import cached_push_jobs
from juston_tui.push_ops.plans import Excluded, Plan, PlanOrg, Wave, save_plan, stamp
from juston_tui.schedule import (
    ANNOUNCEMENT_DAYS,
    Action,
    Push,
    local_slot,
    releases_around,
    save_push,
    settings_from_store,
    valid_slots,
    window_of,
    zone_named,
)

if TYPE_CHECKING:
    from juston_tui.store import Store

__all__ = ["seed"]


def seed(store: Store, orgs: list[Org], *, today: date | None = None) -> None:
    """Demo data: one confirmed push from an announcement e-mail, the rest projected."""
    settings = settings_from_store(store)
    zone = zone_named(settings.timezone)
    today = today or datetime.now(zone).date()
    window_start, window_end = window_of(settings, today + timedelta(days=10))
    releases = releases_around(window_start, window_end, None)
    slot = next((s for s in valid_slots(settings, (window_start, window_end), releases)
                 if s.astimezone(zone).date() > today + timedelta(days=9)), None)
    if slot is None:
        day = today + timedelta(days=(5 - today.weekday()) % 7 + 14)
        slot = local_slot(day, settings.start_time, settings.timezone)
    assert slot is not None
    push = Push(
        id="push-demo-announced",
        status="confirmed",
        product="billing",
        start_utc=slot,
        timezone=settings.timezone,
        version="2.81",
        kind="major",
        actions=(
            Action("before-1", "before",
                   "Deactivate the scheduled invoice runs during the push window"),
            Action("before-2", "before", "Assign the JustOn Platform connected app to admins"),
            Action("after-1", "after", "Re-activate the scheduled invoice runs"),
            Action("after-2", "after",
                   "Add the new Balance fields to the permission set", done=False),
        ),
        notes="From the announcement e-mail (demo).",
        announced_on=min(today, slot.astimezone(zone).date()
                         - timedelta(days=ANNOUNCEMENT_DAYS)),
    )
    save_push(store, push)
    seed_push_plan(store, orgs)


PLAN_ID = "plan-demo-midflight"
_WAVE_NAMES = ("sandboxes and pilot", "the rest")


def _when(value: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(str(value).replace("+0000", "+00:00").replace("Z",
                                                                                  "+00:00"))
    except ValueError:
        return None


def seed_push_plan(store: Store, orgs: list[Org]) -> Plan | None:
    """The plan of the push the simulator's daemon runs, from the packaging org's requests as
    the calendar's refresh cached them (no round trip): None without them (a simulator that
    did not seed them, or no packaging org)."""
    # the simulator's ids (its package imports its server): only when the demo is seeded
    from juston_tui.push_ops.planning import exclusion_reason
    from juston_tui.simulator.push import DEMO_WAVES, demo_request_id

    record = cached_push_jobs(store)
    by_id: Mapping[str, dict[str, Any]] = {str(r.get("id"))[:15]: r
                                           for r in record.get("requests") or []}
    requests = [by_id.get(demo_request_id(key)[:15]) for key in DEMO_WAVES]
    if any(r is None for r in requests) or not record.get("org_id"):
        return None
    known = {o.org_id: o for o in orgs}
    waves, included = [], set()
    for number, request in enumerate(requests, start=1):
        assert request is not None
        start = _when(request.get("scheduled_start")) or datetime.now(UTC)
        members = [known[str(j.get("org_id"))] for j in request.get("jobs") or []
                   if str(j.get("org_id")) in known]
        included |= {o.org_id for o in members}
        waves.append(Wave(
            number=number, name=_WAVE_NAMES[number - 1], start_utc=start,
            orgs=tuple(PlanOrg(o.org_id, o.name, o.kind) for o in members),
            state="scheduled", announced_at=stamp(start - timedelta(days=8)),
            announcement_recipients=2 * len(members), request_id=str(request["id"]),
            scheduled_at=stamp(start - timedelta(days=1)), scheduled_by="demo",
            jobs=len(members)))
    first = waves[0].start_utc
    excluded = tuple(Excluded(o.org_id, o.name, reason) for o in orgs if o.org_id not in included
                     for reason in [exclusion_reason(o, None, None, None)]  # type: ignore[arg-type]
                     if reason is not None)
    plan = Plan(
        id=PLAN_ID, product="billing", namespace=str(requests[0].get("namespace") or "ONB2"),
        version=str(requests[0].get("version") or ""),
        version_id=str(requests[0].get("version_id") or ""),
        timezone=settings_from_store(store).timezone,
        created_at=stamp(first - timedelta(days=9)), created_by="demo",
        packaging_org=str(record["org_id"]), waves=tuple(waves), excluded=excluded,
        state="scheduled")
    return save_plan(store, plan)
