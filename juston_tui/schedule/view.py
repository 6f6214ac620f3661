"""The assembled calendar of a period: releases, pushes with everything shown about them, and
the events of the agenda and the iCalendar export.

Per cadence window and product, a confirmed push (from an announcement) or a live push request
of the packaging org replaces the projected push; a request that matches a confirmed push is
attached to it. Pure: the store's documents come in as plain data (`store.load_view` reads them).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from juston_tui.model import Contact, Org, parse_utc
from juston_tui.schedule.dates import add_months, local_slot
from juston_tui.schedule.projection import (
    blackout_reason,
    contacts_to_notify,
    included_orgs,
    projected_pushes,
    window_of,
    windows_between,
)
from juston_tui.schedule.pushes import (
    ACTION_PHASES,
    ANNOUNCEMENT_DAYS,
    PROJECTED_ACTIONS,
    VENDOR_PREFIX,
    Action,
    Push,
)
from juston_tui.schedule.releases import SalesforceRelease, releases_around
from juston_tui.schedule.settings import PRODUCTS, ScheduleSettings

__all__ = ["EVENT_KINDS", "LIVE_REQUEST_STATES", "CalendarView", "Event", "PushPlan",
           "build_view", "events"]

# Event kinds, the letter that marks them without colour, and a human label.
# A lower-case letter means "projected"; upper case means known or confirmed.
EVENT_KINDS: dict[str, tuple[str, str]] = {
    "sf_preview": ("B", "Salesforce sandbox preview"),
    "sf_release": ("S", "Salesforce release"),
    "juston_release": ("J", "JustOn feature release window"),
    "announcement": ("A", "Push announcement due"),
    "push": ("P", "Push upgrade"),
    "vendor_push": ("V", "Push scheduled in the packaging org"),
}
# PackagePushRequest states that still are (or were) a push on the calendar.
LIVE_REQUEST_STATES = ("Created", "Pending", "In Progress", "Succeeded")
# A packaging-org request this close to a confirmed push of the same product is that push.
_TWIN_WITHIN = timedelta(hours=36)


@dataclass(frozen=True)
class PushPlan:
    """A push with everything the calendar shows about it."""

    push: Push
    window: tuple[date, date]
    uid: str
    orgs: tuple[Org, ...] = ()
    contacts: tuple[Contact, ...] = ()
    warnings: tuple[str, ...] = ()
    requests: tuple[Mapping[str, Any], ...] = ()  # matching PackagePushRequests (vendor org)
    unknown_org_ids: tuple[str, ...] = ()  # pushed by the packaging org but not registered here

    @property
    def done_count(self) -> int:
        return sum(a.done for a in self.push.actions)

    def jobs_by_org(self) -> dict[str, Mapping[str, Any]]:
        """org_id -> the latest PackagePushJob for it among the matching requests."""
        out: dict[str, Mapping[str, Any]] = {}
        for request in self.requests:
            for job in request.get("jobs") or ():
                if job.get("org_id"):
                    out[str(job["org_id"])] = job
        return out


@dataclass(frozen=True)
class Event:
    """One line of the agenda / one ICS event. `day` and `last_day` are local dates."""

    uid: str
    kind: str
    title: str
    day: date
    last_day: date
    projected: bool
    start_utc: datetime | None = None  # timed events (push, announcement)
    minutes: int = 0
    push_id: str | None = None
    description: str = ""

    @property
    def letter(self) -> str:
        letter = EVENT_KINDS[self.kind][0]
        return letter.lower() if self.projected else letter


@dataclass(frozen=True)
class CalendarView:
    """What the screen, the CLI and the ICS export show for a period."""

    start: date
    end: date
    settings: ScheduleSettings
    releases: tuple[SalesforceRelease, ...]
    plans: tuple[PushPlan, ...]
    events: tuple[Event, ...]
    vendor: Mapping[str, Any] = field(default_factory=dict)

    def plan(self, push_id: str) -> PushPlan | None:
        for plan in self.plans:
            if plan.push.id == push_id:
                return plan
        return None

    def next_plan(self, now: datetime) -> PushPlan | None:
        for plan in self.plans:
            if plan.push.start_utc >= now:
                return plan
        return None

    def events_on(self, day: date) -> list[Event]:
        return [e for e in self.events if e.day <= day <= e.last_day]


def _push_warnings(push: Push, settings: ScheduleSettings,
                   releases: Sequence[SalesforceRelease], today: date) -> list[str]:
    """Best-practice problems of a confirmed push (projected ones are built to have none)."""
    out = []
    reason = blackout_reason(push.local_day, settings, releases, major=push.kind == "major")
    if reason:
        out.append(f"starts in a blackout: {reason}")
    if push.announced_on and push.announced_on > push.announcement_due:
        late = (push.announced_on - push.announcement_due).days
        out.append(f"announced {late} day(s) later than one week before")
    elif not push.announced_on and push.announcement_due < today <= push.local_day:
        out.append(f"announcement was due on {push.announcement_due.isoformat()}")
    if not 0 <= push.local_start.hour < 6 and push.local_start.weekday() < 5:
        out.append("starts during business hours (push off-peak)")
    return out


def _push_description(plan: PushPlan) -> str:
    push = plan.push
    lines = [
        f"{plan.push.label} ({push.status} {push.kind} push)",
        f"Start: {push.local_start.strftime('%Y-%m-%d %H:%M %Z')} "
        f"({push.start_utc.strftime('%Y-%m-%d %H:%M')} UTC)",
        f"Announcement due: {push.announcement_due.isoformat()}",
        f"Orgs ({len(plan.orgs)}):",
    ]
    lines += [f"  {o.name} ({o.org_id}, {o.kind})" for o in plan.orgs] or ["  none registered"]
    lines += [f"  unregistered org {i}" for i in plan.unknown_org_ids]
    jobs = plan.jobs_by_org()
    for org_id, job in jobs.items():
        problems = "; ".join(f"{e.get('severity')}: {e.get('title')}" for e in
                             job.get("errors") or ())
        lines.append(f"  job {org_id}: {job.get('status')}" + (f" ({problems})" if problems
                                                               else ""))
    lines.append(f"Contacts to notify: {len(plan.contacts)}")
    for phase in ACTION_PHASES:
        items = [a for a in push.actions if a.phase == phase]
        if items:
            lines.append(f"Actions {phase} the push:")
            lines += [f"  [{'x' if a.done else ' '}] {a.text}" for a in items]
    lines += [f"Warning: {w}" for w in plan.warnings]
    return "\n".join(lines)


def _vendor_pushes(vendor: Mapping[str, Any], settings: ScheduleSettings,
                   done: Mapping[str, Iterable[str]]) -> list[tuple[Push, Mapping[str, Any]]]:
    """Live PackagePushRequests of the packaging org as pushes (status "scheduled")."""
    out = []
    for request in vendor.get("requests") or ():
        when = parse_utc(request.get("scheduled_start"))
        product = request.get("product")
        if when is None or product not in PRODUCTS or \
                request.get("status") not in LIVE_REQUEST_STATES:
            continue
        version = str(request.get("version") or "")
        push_id = f"{VENDOR_PREFIX}{request.get('id')}"
        ticked = set(done.get(push_id, ()))
        out.append((Push(
            push_id, "scheduled", product, when, settings.timezone, version=version,
            kind="patch" if version.count(".") == 2 and not version.endswith(".0") else "major",
            actions=tuple(Action(aid, phase, text, aid in ticked)
                          for aid, phase, text in PROJECTED_ACTIONS[1:]),
            notes=f"PackagePushRequest {request.get('id')} ({request.get('status')})",
        ), request))
    return out


def build_view(*, settings: ScheduleSettings, start: date, months: int,
               push_docs: Iterable[Mapping[str, Any]] = (),
               release_dates: Mapping[str, Any] | None = None,
               orgs: Sequence[Org] = (), contacts: Sequence[Contact] = (),
               vendor: Mapping[str, Any] | None = None) -> CalendarView:
    """Assemble releases, pushes and events for [start, start + months).

    Per cadence window and product, a confirmed push (from an announcement) or a live push
    request of the packaging org replaces the projected push; a request that matches a
    confirmed push is attached to it. Pure: the store's documents come in as plain data;
    `start` is today's local date.
    """
    vendor = vendor or {}
    end = add_months(start, months)
    releases = releases_around(start, end, release_dates)
    confirmed: list[Push] = []
    done: dict[str, list[str]] = {}
    for doc in push_docs:
        if doc.get("status") == "ticks":
            done[str(doc.get("id"))] = list(doc.get("done") or ())
        elif doc.get("status") == "confirmed":
            confirmed.append(Push.from_doc(doc))
    # A packaging-org request within a day and a half of a confirmed push of the same
    # product is that push: its jobs are shown there instead of as a second push.
    attached: dict[str, list[Mapping[str, Any]]] = {}
    scheduled = []
    for push, request in _vendor_pushes(vendor, settings, done):
        twin = next((c for c in confirmed if c.product == push.product and
                     abs(c.start_utc - push.start_utc) <= _TWIN_WITHIN), None)
        if twin is None:
            scheduled.append((push, request))
            attached[push.id] = [request]
        else:
            attached.setdefault(twin.id, []).append(request)
    taken: set[tuple[date, str]] = set()
    pushes: list[tuple[Push, tuple[date, date], str]] = []

    def uid_for(push: Push, window: tuple[date, date]) -> str:
        key = (window[0], push.product)
        uid = f"push-{push.product}-{window[0].isoformat()}" if key not in taken else \
            f"push-{push.id.replace(':', '-')}"
        taken.add(key)
        return uid

    for push in sorted(confirmed, key=lambda p: (p.start_utc, p.id)):
        window = window_of(settings, push.local_day)
        pushes.append((push, window, uid_for(push, window)))
    for push, _request in sorted(scheduled, key=lambda t: (t[0].start_utc, t[0].id)):
        window = window_of(settings, push.local_day)
        pushes.append((push, window, uid_for(push, window)))
    for window in windows_between(settings, start - timedelta(days=7), end):
        for push in projected_pushes(settings, window, releases, done):
            if (window[0], push.product) not in taken:
                pushes.append((push, window, uid_for(push, window)))
    by_id = {o.org_id: o for o in orgs}
    plans = []
    for push, window, uid in sorted(pushes, key=lambda t: (t[0].start_utc, t[0].product)):
        if not (start - timedelta(days=ANNOUNCEMENT_DAYS) <= push.local_day < end):
            continue
        requests = tuple(attached.get(push.id, ()))
        unknown: list[str] = []
        if push.status == "scheduled":
            job_ids = [str(j.get("org_id")) for r in requests for j in r.get("jobs") or ()
                       if j.get("org_id")]
            orgs_in = tuple(sorted((by_id[i] for i in dict.fromkeys(job_ids) if i in by_id),
                                   key=lambda o: (o.kind != "production", o.name.lower())))
            unknown = [i for i in dict.fromkeys(job_ids) if i not in by_id]
        else:
            orgs_in = tuple(included_orgs(push, orgs))
        warnings = () if push.projected else tuple(
            _push_warnings(push, settings, releases, start))
        plans.append(PushPlan(push, window, uid, orgs_in,
                              tuple(contacts_to_notify(orgs_in, contacts)), warnings,
                              requests, tuple(unknown)))
    return CalendarView(start, end, settings,
                        tuple(r for r in releases
                              if r.preview < end and r.juston_window[1] >= start),
                        tuple(p for p in plans if p.push.local_day >= start),
                        events(settings, releases, plans, start, end), dict(vendor))


def events(settings: ScheduleSettings, releases: Sequence[SalesforceRelease],
           plans: Sequence[PushPlan], start: date, end: date) -> tuple[Event, ...]:
    """The agenda's events in [start, end): each release's three weekends and JustOn's
    release window after it, each push and its announcement, by day."""
    out: list[Event] = []
    for rel in releases:
        state = "projected" if rel.projected else "announced by Salesforce"
        for kind, day, what, suffix in (
            ("sf_preview", rel.preview, "sandbox preview", "preview"),
            ("sf_release", rel.production, "production release", "production"),
            ("sf_release", rel.final, "final wave", "final"),
        ):
            out.append(Event(
                f"sf-{rel.key}-{suffix}", kind, f"Salesforce {rel.name} {what}", day, day,
                rel.projected,
                description=f"Salesforce {rel.name} {what} weekend ({state}). "
                "No push upgrades on release weekends."))
        first, last = rel.juston_window
        out.append(Event(
            f"juston-release-{rel.key}", "juston_release",
            f"JustOn feature releases after {rel.name}", first, last, True,
            description="JustOn feature releases follow two to four weeks after the "
            f"Salesforce {rel.name} production release (the compliance and maintenance "
            "guide)."))
    for plan in plans:
        push = plan.push
        state = push.status
        local = push.local_start
        kind = "vendor_push" if push.status == "scheduled" else "push"
        out.append(Event(
            plan.uid, kind, f"Push {push.label} ({state})", local.date(), local.date(),
            push.projected, start_utc=push.start_utc, minutes=60, push_id=push.id,
            description=_push_description(plan)))
        due = push.announcement_due
        ann_start = local_slot(due, settings.announcement_time, push.timezone) or \
            local_slot(due, time(12, 0), push.timezone)
        out.append(Event(
            f"announcement-{plan.uid}", "announcement",
            f"Announce push of {push.label} ({state})", due, due, push.projected,
            start_utc=ann_start, minutes=30, push_id=push.id,
            description=f"Send the push announcement e-mail for {local.date().isoformat()} "
            f"to {len(plan.contacts)} contact(s) one week before (the push-upgrade FAQ).\n"
            + _push_description(plan)))
    out = [e for e in out if e.last_day >= start and e.day < end]
    return tuple(sorted(out, key=lambda e: (e.day, e.start_utc or datetime.min.replace(
        tzinfo=UTC), e.kind, e.uid)))
