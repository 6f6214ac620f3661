"""Editing the waves of a plan org by org: move an org to another wave, leave it out with a
reason, include it again. `juston-tui push wave PLAN ...` and the push screen's keys run these.

Only planned waves change: once a wave is being sent or scheduled (or failed, or canceled) its
orgs are what its push request holds, so an org can be moved neither out of nor into it. A
canceled plan is not edited at all. A wave left without orgs is dropped and the planned waves
after it move up (an empty wave could never be scheduled, and the next waits for it).

The announcement follows the orgs: an org moved (or included) into a wave that was announced
was not in that announcement, so the wave's recorded announcement is withdrawn (the 7-day
gate asks for a new one, which writes to every org of the wave again). An org moved out of an
announced wave leaves its announcement in place for the others; the note says that its
contacts were told the old date.

Every edit is one locked read-modify-write of the stored plan (plans.change_plan), refused as a
whole when the plan changed meanwhile in a way that forbids it, and kept in the plan's `edits`
(who, when, what) for the change record.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from juston_tui.model import ValidationError
from juston_tui.push_ops.audit import current_user
from juston_tui.push_ops.plans import Excluded, Plan, PlanOrg, Wave, change_plan, stamp
from juston_tui.text import clean

if TYPE_CHECKING:
    from juston_tui.store import Store

__all__ = ["EditError", "EditResult", "exclude_org", "include_org", "move_org",
           "wave_of"]


class EditError(Exception):
    """The edit is refused (a fixed wave, an org not in the plan, ...): one line."""


@dataclass(frozen=True)
class EditResult:
    plan: Plan
    message: str  # what was done, one line
    notes: tuple[str, ...] = ()  # what follows from it (a withdrawn announcement, ...)


def _same(a: str, b: str) -> bool:
    return a == b or a[:15] == b[:15]


def wave_of(plan: Plan, org_id: str) -> tuple[Wave, PlanOrg] | None:
    """The wave an org is in (15 or 18 characters), with its entry."""
    for wave in plan.waves:
        for org in wave.orgs:
            if _same(org.org_id, org_id):
                return wave, org
    return None


def _fixed(plan: Plan, wave: Wave) -> str | None:
    if plan.state == "canceled":
        return f"plan {plan.id} is canceled: make a new plan"
    if wave.state != "planned":
        request = f", request {wave.request_id}" if wave.request_id else ""
        return (f"wave {wave.number} of {plan.id} is {wave.state}{request}: its orgs are fixed "
                "(only a wave not yet scheduled can be edited)")
    return None


def _target(plan: Plan, number: int) -> Wave:
    try:
        wave = plan.wave(number)
    except ValidationError as exc:
        raise EditError(next(iter(exc.errors.values()))) from None
    refusal = _fixed(plan, wave)
    if refusal is not None:
        raise EditError(refusal)
    return wave


def _edited(plan: Plan, waves: list[Wave], what: str, now: datetime,
            notes: list[str]) -> Plan:
    """The plan with these waves (empty planned ones dropped, the later ones renumbered) and
    the edit recorded."""
    kept: list[Wave] = []
    for wave in waves:
        if not wave.orgs and wave.state == "planned":
            notes.append(f"wave {wave.number} ({clean(wave.name, limit=40)}) has no orgs now: "
                         "dropped, the waves after it move up")
            continue
        kept.append(wave)
    renumbered = tuple(replace(w, number=n) if w.number != n else w
                       for n, w in enumerate(kept, start=1))
    edit = {"at": stamp(now), "by": clean(current_user(), limit=80), "what": what}
    state = plan.state
    if state == "scheduling" and all(w.state != "planned" for w in renumbered):
        state = "scheduled"  # the one planned wave left was emptied: every wave is sent
    return replace(plan, waves=renumbered, edits=(*plan.edits, edit), state=state)


def _taken_in(wave: Wave, org: PlanOrg, notes: list[str]) -> Wave:
    """`wave` with `org` added; an announcement it had no longer covers every org."""
    if wave.announced_at:
        notes.append(f"wave {wave.number} was announced at {wave.announced_at} without "
                     f"{org.org_id}: that announcement is withdrawn, announce the wave again")
        wave = replace(wave, announced_at=None, announcement_recipients=0)
    orgs = sorted((*wave.orgs, org), key=lambda o: (o.name.lower(), o.org_id))
    return replace(wave, orgs=tuple(orgs))


def _left(wave: Wave, org: PlanOrg, notes: list[str]) -> Wave:
    if wave.announced_at:
        notes.append(f"{org.org_id}'s contacts were told about wave {wave.number} "
                     f"({wave.start_utc:%Y-%m-%d %H:%M} UTC) in its announcement")
    return replace(wave, orgs=tuple(o for o in wave.orgs if o.org_id != org.org_id))


def _planned_wave_of(plan: Plan, org_id: str) -> tuple[Wave, PlanOrg]:
    """The org's wave and its entry there; EditError when it is in none or its wave is fixed."""
    found = wave_of(plan, org_id)
    if found is None:
        raise EditError(_not_in_a_wave(plan, org_id))
    refusal = _fixed(plan, found[0])
    if refusal is not None:
        raise EditError(refusal)
    return found


def move_org(store: Store, plan_id: str, org_id: str, to: int, *,
             now: datetime | None = None) -> EditResult:
    """Move an org of the plan to wave `to` (both waves planned)."""
    now = now or datetime.now(UTC)
    notes: list[str] = []
    said: list[str] = []

    def change(plan: Plan) -> Plan:
        source, org = _planned_wave_of(plan, org_id)
        target = _target(plan, to)
        if target.number == source.number:
            raise EditError(f"{org.org_id} is in wave {to} already")
        waves = [(_left(w, org, notes) if w.number == source.number else
                  _taken_in(w, org, notes) if w.number == target.number else w)
                 for w in plan.waves]
        said.append(f"moved {org.org_id} ({clean(org.name, limit=60)}) from wave "
                    f"{source.number} to wave {target.number} "
                    f"({target.start_utc:%Y-%m-%d %H:%M} UTC)")
        return _edited(plan, waves, said[0], now, notes)

    plan = _change(store, plan_id, change)
    return EditResult(plan, said[0], tuple(notes))


def exclude_org(store: Store, plan_id: str, org_id: str, reason: str, *,
                now: datetime | None = None) -> EditResult:
    """Leave an org of a planned wave out, with the user's reason (it can be included
    again)."""
    now = now or datetime.now(UTC)
    why = " ".join(clean(reason, limit=300).split())
    if not why:
        raise EditError("give the reason the org is left out (it is kept in the plan)")
    notes: list[str] = []
    said: list[str] = []

    def change(plan: Plan) -> Plan:
        source, org = _planned_wave_of(plan, org_id)
        waves = [_left(w, org, notes) if w.number == source.number else w
                 for w in plan.waves]
        left = Excluded(org.org_id, org.name, f"excluded by the user: {why}", org)
        said.append(f"left {org.org_id} ({clean(org.name, limit=60)}) out of wave "
                    f"{source.number}: {why}")
        plan = replace(plan, excluded=tuple(sorted(
            (*plan.excluded, left), key=lambda e: (e.reason, e.name.lower(), e.org_id))),
            exclusions=(*(e for e in plan.exclusions if e.get("org_id") != org.org_id),
                        {"org_id": org.org_id, "reason": why}))
        return _edited(plan, waves, said[0], now, notes)

    plan = _change(store, plan_id, change)
    return EditResult(plan, said[0], tuple(notes))


def include_org(store: Store, plan_id: str, org_id: str, to: int | None = None, *,
                now: datetime | None = None) -> EditResult:
    """Put an org the user left out back into wave `to` (default: the last wave)."""
    now = now or datetime.now(UTC)
    notes: list[str] = []
    said: list[str] = []

    def change(plan: Plan) -> Plan:
        left = next((e for e in plan.excluded if _same(e.org_id, org_id)), None)
        if left is None:
            found = wave_of(plan, org_id)
            raise EditError(f"{org_id} is in wave {found[0].number} already" if found else
                            f"{org_id} is not an org of plan {plan.id}")
        if left.org is None:
            raise EditError(f"{left.org_id} is left out because: {left.reason}; only an org "
                            "that nothing but the user's exclusion keeps out can be included")
        if not plan.waves:
            raise EditError(f"plan {plan.id} has no wave to include it in: make a new plan")
        target = _target(plan, to if to is not None else plan.waves[-1].number)
        waves = [_taken_in(w, left.org, notes) if w.number == target.number else w
                 for w in plan.waves]
        said.append(f"included {left.org_id} ({clean(left.name, limit=60)}) in wave "
                    f"{target.number} ({target.start_utc:%Y-%m-%d %H:%M} UTC)")
        plan = replace(plan, excluded=tuple(e for e in plan.excluded if e is not left),
                       exclusions=tuple(e for e in plan.exclusions
                                        if e.get("org_id") != left.org_id))
        return _edited(plan, waves, said[0], now, notes)

    plan = _change(store, plan_id, change)
    return EditResult(plan, said[0], tuple(notes))


def _not_in_a_wave(plan: Plan, org_id: str) -> str:
    left = next((e for e in plan.excluded if _same(e.org_id, org_id)), None)
    if left is not None:
        return f"{left.org_id} is left out of plan {plan.id}: {left.reason}"
    return f"{org_id} is not an org of plan {plan.id}"


def _change(store: Store, plan_id: str, change: Callable[[Plan], Plan]) -> Plan:
    try:
        return change_plan(store, plan_id, change)
    except ValidationError as exc:
        raise EditError(next(iter(exc.errors.values()))) from None
