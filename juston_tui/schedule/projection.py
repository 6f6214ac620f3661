"""Where the rules put pushes, and who a push reaches.

JustOn pushes upgrades in cadence windows repeating from an anchor date (quarterly by default);
a projected push starts off-peak (default Saturday 01:00 Europe/Berlin, stored in UTC), never on
a Salesforce release weekend, never in the last days of a month (3) or quarter (7), never within
three weeks after a Salesforce production release (pushes carry major versions), and never at a
local time that does not exist (a daylight-saving gap skips that Saturday). Pushes reach
registered production orgs, sandboxes only on request (`Org.push_eligible`, seed 000).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime, timedelta

from juston_tui.model import Contact, Org
from juston_tui.schedule.dates import add_months, days_in_month, local_slot
from juston_tui.schedule.pushes import PROJECTED_ACTIONS, PROJECTED_PREFIX, Action, Push
from juston_tui.schedule.releases import SalesforceRelease
from juston_tui.schedule.settings import ScheduleSettings

__all__ = ["blackout_reason", "contacts_to_notify", "included_orgs", "org_runs",
           "projected_id", "projected_pushes", "valid_slots", "window_of", "windows_between"]


# -- windows and blackouts --------------------------------------------------------------------
def window_of(settings: ScheduleSettings, day: date) -> tuple[date, date]:
    """The cadence window [start, end) containing `day` (windows repeat from the anchor)."""
    months = (day.year - settings.anchor.year) * 12 + day.month - settings.anchor.month
    k = months // settings.cadence_months
    while add_months(settings.anchor, k * settings.cadence_months) > day:
        k -= 1
    while add_months(settings.anchor, (k + 1) * settings.cadence_months) <= day:
        k += 1
    return (add_months(settings.anchor, k * settings.cadence_months),
            add_months(settings.anchor, (k + 1) * settings.cadence_months))


def windows_between(settings: ScheduleSettings, start: date, end: date
                    ) -> list[tuple[date, date]]:
    """Every cadence window that overlaps [start, end)."""
    out = []
    current = window_of(settings, start)
    while current[0] < end:
        out.append(current)
        current = window_of(settings, current[1])
    return out


def blackout_reason(day: date, settings: ScheduleSettings,
                    releases: Sequence[SalesforceRelease], *, major: bool = True) -> str | None:
    """Why no push may start on this local date, or None when it may."""
    dim = days_in_month(day.year, day.month)
    if day.month % 3 == 0 and day.day > dim - settings.quarter_end_days:
        return f"last {settings.quarter_end_days} days of the quarter"
    if day.day > dim - settings.month_end_days:
        return f"last {settings.month_end_days} days of the month"
    for rel in releases:
        if day in rel.blackout_days():
            return f"{rel.name} release weekend"
        if major and rel.production <= day < rel.final + timedelta(
                days=settings.major_gap_days):
            return (f"within {settings.major_gap_days // 7} weeks after {rel.name} "
                    "(major versions wait)")
    for first, last, reason in settings.blackouts:
        if first <= day <= last:
            return reason
    return None


# -- projected pushes -------------------------------------------------------------------------
def projected_id(product: str, window_start: date) -> str:
    return f"{PROJECTED_PREFIX}{product}:{window_start.isoformat()}"


def valid_slots(settings: ScheduleSettings, window: tuple[date, date],
                releases: Sequence[SalesforceRelease]) -> list[datetime]:
    """Every allowed projected start (UTC) in a window, earliest first."""
    start, end = window
    day = start + timedelta(days=(settings.weekday - start.weekday()) % 7)
    out = []
    while day < end:
        if blackout_reason(day, settings, releases) is None:
            slot = local_slot(day, settings.start_time, settings.timezone)
            if slot is not None:
                out.append(slot)
        day += timedelta(days=7)
    return out


def projected_pushes(settings: ScheduleSettings, window: tuple[date, date],
                     releases: Sequence[SalesforceRelease],
                     done: Mapping[str, Iterable[str]] | None = None) -> list[Push]:
    """One projected push per product in a window, staggered one allowed slot apart."""
    slots = valid_slots(settings, window, releases)
    out = []
    for slot, product in zip(slots, settings.products, strict=False):
        push_id = projected_id(product, window[0])
        ticked = set((done or {}).get(push_id, ()))
        actions = tuple(Action(aid, phase, text, aid in ticked)
                        for aid, phase, text in PROJECTED_ACTIONS)
        out.append(Push(push_id, "projected", product, slot, settings.timezone,
                        actions=actions))
    return out


# -- who is included --------------------------------------------------------------------------
def org_runs(org: Org, product: str) -> bool:
    """An org without recorded products is taken to run Billing (seed 000's package)."""
    return product in org.products or (not org.products and product == "billing")


def included_orgs(push: Push, orgs: Iterable[Org]) -> list[Org]:
    """Seed 000: registered production orgs; sandboxes only with a support ticket."""
    chosen = [o for o in orgs if not o.vendor and o.push_eligible and org_runs(o, push.product)]
    return sorted(chosen, key=lambda o: (o.kind != "production", o.name.lower(), o.org_id))


def contacts_to_notify(included: Iterable[Org], contacts: Iterable[Contact]) -> list[Contact]:
    """Eligible contacts linked to an included org or to the production org of a sandbox."""
    wanted: set[str] = set()
    for org in included:
        wanted.add(org.org_id)
        if org.parent_org_id:
            wanted.add(org.parent_org_id)
    chosen = [c for c in contacts if c.eligible and wanted.intersection(c.org_ids)]
    return sorted(chosen, key=lambda c: (c.full_name.lower(), c.email))
