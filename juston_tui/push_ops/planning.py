"""Making a push plan: the target version, the start from the calendar, who is in (and why
every other org is not), and the waves.

Eligibility is the registry's one rule, `Org.push_eligible` (registered for push upgrades and
reachable: production, or a sandbox with a push ticket; seed 000), plus what only the
packaging org knows: installed (PackageSubscriber InstalledStatus 'i'), not OrgStatus
Inactive, not blocked by the subscriber (PushUpgradeCustomization), installed version lower
than the target and not a beta (packaging.py). Nothing else is judged here; the latest check of
each included org is shown with its failing checks flagged, never re-evaluated.

Waves (default): 1. sandboxes with a push ticket and the vendor's own test orgs (tag
`vendor-test`), 2. a pilot share of the production orgs, 3. the rest. Empty waves are left out.
Wave 1 starts at the calendar's projected slot for the product (Saturday 01:00 Europe/Berlin,
never a Salesforce release weekend; the first one that still leaves the seven days for the
announcement) or at `--at`; each later wave at the next allowed slot after the one before.
"""

from __future__ import annotations

import hashlib
import math
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING

from juston_tui.model import Org, Snapshot, ValidationError
from juston_tui.push_ops.audit import current_user
from juston_tui.push_ops.packaging import (
    PackageVersion,
    PackagingState,
    Subscriber,
    read_packaging,
)
from juston_tui.push_ops.plans import Excluded, Plan, PlanOrg, Wave, save_plan, stamp
from juston_tui.push_ops.session import NoVendorOrg, packaging_connection
from juston_tui.salesforce.errors import AccessError
from juston_tui.salesforce.push_api import PushReader
from juston_tui.salesforce.settings import ProbeSettings
from juston_tui.schedule import (
    ANNOUNCEMENT_DAYS,
    blackout_reason,
    org_runs,
    projected_pushes,
    release_dates,
    releases_around,
    settings_from_store,
    valid_slots,
    windows_between,
)
from juston_tui.schedule.settings import ScheduleSettings
from juston_tui.store import Store
from juston_tui.text import clean

if TYPE_CHECKING:
    from juston_tui.credentials import CredentialStore
    from juston_tui.salesforce.connection import OrgConnection

__all__ = ["TEST_ORG_TAG", "PlanDraft", "PlanError", "exclusion_reason", "failed_orgs",
           "make_plan", "plan_push", "slots_after"]

TEST_ORG_TAG = "vendor-test"  # the vendor's own test orgs: pushed in the first wave
_HORIZON_MONTHS = 12


@dataclass(frozen=True)
class PlanDraft:
    plan: Plan
    notes: tuple[str, ...]  # things to know (a start in a blackout, ...)


def exclusion_reason(org: Org | None, sub: Subscriber | None, target: PackageVersion,
                     user_reason: str | None) -> str | None:
    """Why an org is left out of a push to `target`, or None when it is in."""
    if user_reason is not None:
        return f"excluded by the user: {user_reason}"
    if org is None:
        return "not registered in juston-tui"
    if org.vendor:
        return "the packaging org itself"
    if not org.push_eligible:  # the registry's one rule (seed 000)
        if org.push.state == "not_registered":
            return "not registered for push upgrades"
        if org.push.state != "registered":
            return f"not registered for push upgrades ({org.push.state.replace('_', ' ')})"
        return "sandbox without a push ticket"
    if sub is None:
        return "not installed (no installed PackageSubscriber in the packaging org)"
    if sub.status == "Inactive":
        return "inactive (OrgStatus Inactive: inactive orgs can't be pushed)"
    if sub.blocked:
        return "blocked by the subscriber (push upgrades customized: BlockedBySubscriber)"
    if sub.version is not None and not sub.version.released:
        return f"runs a beta ({sub.version.text}): a beta can't be upgraded"
    if sub.version is not None and sub.version.key >= target.key:
        return f"already on {sub.version.text} (target {target.text})"
    return None


def slots_after(settings: ScheduleSettings, store: Store, after: datetime,
                count: int) -> list[datetime]:
    """The next `count` allowed push slots (UTC) strictly after `after`."""
    today = after.astimezone(settings.zone_info).date()
    end = date(today.year + 1, today.month, 1)
    releases = releases_around(today, end, release_dates(store))
    out: list[datetime] = []
    for window in windows_between(settings, today, end):
        out.extend(s for s in valid_slots(settings, window, releases) if s > after)
        if len(out) >= count:
            break
    return out[:count]


def _first_slot(settings: ScheduleSettings, store: Store, product: str,
                earliest: datetime) -> datetime | None:
    """The calendar's projected push of `product` at or after `earliest`."""
    today = earliest.astimezone(settings.zone_info).date()
    end = date(today.year + 1, today.month, 1)
    releases = releases_around(today, end, release_dates(store))
    for window in windows_between(settings, today, end):
        for push in projected_pushes(settings, window, releases):
            if push.product == product and push.start_utc >= earliest:
                return push.start_utc
    return None


def _pilot_order(org_id: str) -> str:
    """A stable spread over the production orgs (not the first ones by name)."""
    return hashlib.sha256(org_id.encode()).hexdigest()


def _plan_org(org: Org, sub: Subscriber, name: str, snapshots: Mapping[str, Snapshot]
              ) -> PlanOrg:
    """An included org with the failing checks of its latest snapshot (never re-judged)."""
    snap = snapshots.get(org.org_id)
    failing = tuple(c.id for c in snap.checks if c.verdict == "fail") if snap else ()
    return PlanOrg(org.org_id, name, org.kind, sub.version.text if sub.version else "",
                   failing, snap.checked_at if snap else None)


def make_plan(store: Store, packaging: PackagingState, *, product: str,
              packaging_org: str, version: str | None = None, at: datetime | None = None,
              pilot_share: float = 0.2, exclude: Mapping[str, str] | None = None,
              only: tuple[str, frozenset[str]] | None = None,
              now: datetime | None = None) -> PlanDraft:
    """A new plan (not stored: `plans.save_plan` does). `only` = (why, org ids): a re-push of
    just those orgs (e.g. the failed ones of a request); every other org is left out with
    `why` as its reason."""
    if not 0.0 <= pilot_share < 1.0:
        raise ValidationError.single("pilot_share", "the pilot share is at least 0 and less "
                                     "than 1 (e.g. 0.2)")
    now = now or datetime.now(UTC)
    exclude = dict(exclude or {})
    target = packaging.target(version)
    settings = settings_from_store(store)
    notes: list[str] = []
    if at is None:
        first = _first_slot(settings, store, product, now + timedelta(days=ANNOUNCEMENT_DAYS))
        if first is None:
            raise ValidationError.single("at", "the calendar has no allowed push slot in the "
                                         "next year; give --at")
    else:
        first = at.astimezone(UTC)
        if first <= now:
            raise ValidationError.single("at", "the start is in the past")
        reason = blackout_reason(first.astimezone(settings.zone_info).date(), settings,
                                 releases_around(first.date(), first.date() + timedelta(1),
                                                 release_dates(store)))
        if reason:
            notes.append(f"the start {first:%Y-%m-%d} lies in a blackout: {reason}")
        if first < now + timedelta(days=ANNOUNCEMENT_DAYS):
            notes.append(f"the start is less than {ANNOUNCEMENT_DAYS} days away: the "
                         "announcement gate will need --override-announcement")

    orgs = {o.org_id: o for o in store.list_orgs()}
    snapshots = store.all_snapshots()
    candidates = set(packaging.subscribers)
    candidates.update(i for i, o in orgs.items() if not o.vendor and org_runs(o, product))
    unknown = set(exclude) - candidates - set(orgs)
    if unknown:
        raise ValidationError.single("exclude", "not an org of this package or the registry: "
                                     + ", ".join(sorted(unknown)[:5]))
    included: list[PlanOrg] = []
    excluded: list[Excluded] = []
    for org_id in sorted(candidates | (set(exclude) & set(orgs))):
        org = orgs.get(org_id)
        sub = packaging.subscribers.get(org_id)
        name = clean(org.name if org else (sub.name if sub else org_id), limit=200)
        why = exclusion_reason(org, sub, target, exclude.get(org_id))
        if why is None and only is not None and org_id not in only[1]:
            why = only[0]
        if why is not None:
            # Only the user's word keeps it out: kept as planned, to be included again.
            eligible = org_id in exclude and exclusion_reason(org, sub, target, None) is None
            excluded.append(Excluded(org_id, name, why, _plan_org(org, sub, name, snapshots)
                                     if eligible and org and sub else None))
            continue
        assert org is not None and sub is not None
        included.append(_plan_org(org, sub, name, snapshots))
    by_name = sorted(included, key=lambda o: (o.name.lower(), o.org_id))
    first_wave = [o for o in by_name if o.kind == "sandbox" or TEST_ORG_TAG in
                  orgs[o.org_id].tags]
    production = [o for o in by_name if o not in first_wave]
    # A pilot leaves at least one org for the wave after it (else it is just production).
    pilot_n = min(math.ceil(pilot_share * len(production)), len(production) - 1) \
        if production and pilot_share else 0
    pilot_ids = {o.org_id for o in sorted(production, key=lambda o: _pilot_order(o.org_id))
                 [:pilot_n]}
    groups: Sequence[tuple[str, list[PlanOrg]]] = [
        ("sandboxes and test orgs", first_wave),
        ("pilot", [o for o in production if o.org_id in pilot_ids]),
        ("production" if not pilot_ids else "the rest",
         [o for o in production if o.org_id not in pilot_ids]),
    ]
    groups = [(n, g) for n, g in groups if g]
    starts = [first, *slots_after(settings, store, first, len(groups) - 1)]
    while len(starts) < len(groups):
        starts.append(starts[-1] + timedelta(days=7))
    waves = tuple(Wave(i, name, starts[i - 1], tuple(members))
                  for i, (name, members) in enumerate(groups, start=1))
    if not waves:
        notes.append("no org qualifies: every org is left out (see excluded)")
    plan = Plan(
        id=f"plan-{now.strftime('%Y%m%d')}-{uuid.uuid4().hex[:6]}", product=product,
        namespace=packaging.namespace, version=target.text, version_id=target.version_id,
        timezone=settings.timezone, created_at=stamp(now), created_by=current_user(),
        packaging_org=packaging_org, waves=waves,
        excluded=tuple(sorted(excluded, key=lambda e: (e.reason, e.name.lower(), e.org_id))),
        exclusions=tuple({"org_id": k, "reason": v} for k, v in sorted(exclude.items())),
        pilot_share=pilot_share)
    return PlanDraft(plan, tuple(notes))


class PlanError(Exception):
    """Planning could not read the packaging org, or had nothing to plan: one line."""


def failed_orgs(conn: OrgConnection, request_id: str) -> tuple[str, frozenset[str]]:
    """(the reason for the others, the orgs whose job failed in `request_id`): a re-push."""
    try:
        info = PushReader(conn).request(request_id)
    except KeyError:
        raise PlanError(f"the packaging org has no push request {request_id}") from None
    failed = frozenset(j.org_id for j in info.jobs if j.status == "Failed" and j.org_id)
    if not failed:
        raise PlanError(f"no job of push request {request_id} failed ({info.status}); "
                        "nothing to push again")
    return f"did not fail in push request {request_id}", failed


def plan_push(store: Store, credentials: CredentialStore, *, product: str,
              version: str | None = None, at: datetime | None = None,
              pilot_share: float = 0.2, exclude: Mapping[str, str] | None = None,
              only_failed: str | None = None, timeout: float = 60.0
              ) -> tuple[Plan, tuple[str, ...]]:
    """Read the packaging org, make the plan and store it: (the stored plan, notes).
    `push plan` and the push operations screen both run this."""
    namespace = ProbeSettings.for_store(store).namespace(product)
    try:
        with packaging_connection(store, credentials, timeout=timeout) as (org, conn):
            packaging = read_packaging(conn, namespace)
            only = failed_orgs(conn, only_failed) if only_failed else None
    except NoVendorOrg as exc:
        raise PlanError(str(exc)) from None
    except AccessError as exc:
        raise PlanError(f"packaging org: {exc}") from None
    draft = make_plan(store, packaging, product=product, packaging_org=org.org_id,
                      version=version, at=at, pilot_share=pilot_share, exclude=exclude,
                      only=only)
    return save_plan(store, draft.plan), tuple(draft.notes)
