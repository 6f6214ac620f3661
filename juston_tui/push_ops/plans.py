"""A push plan and the owner of the store's `push_plans` table.

A plan is one push upgrade of one package version, split into ordered waves; each wave becomes
its own PackagePushRequest when it is scheduled. The plan keeps what was decided and why: the
orgs of every wave (with the failing checks of their latest snapshot), every org left out with
its reason, the user's exclusions, when each wave was announced (or why the announcement gate
was overridden), the request id of each scheduled wave and the orgs Salesforce dropped.

Every change is one locked read-modify-write (`store.transaction()`), reading the plan as
stored, so two processes working on the same plan never undo each other's changes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from juston_tui.model import ValidationError, parse_utc

if TYPE_CHECKING:
    from juston_tui.store import Store

__all__ = ["PLAN_STATES", "TABLE", "WAVE_STATES", "Excluded", "Plan", "PlanOrg", "Wave",
           "change_plan", "find_plan", "get_plan", "kept_results", "list_plans", "save_plan",
           "update_wave"]

TABLE = "push_plans"
PLAN_STATES = ("planned", "scheduling", "scheduled", "canceled")  # scheduled: every wave
# A wave: planned (nothing sent), sending (one process is scheduling it: claimed in the store
# so a second process can't send it twice), scheduled (its request is Pending), failed
# (scheduling failed; its request canceled), canceled (aborted afterwards).
WAVE_STATES = ("planned", "sending", "scheduled", "failed", "canceled")


def stamp(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")




@dataclass(frozen=True)
class PlanOrg:
    """An org of a wave: what the registry knew of it when the plan was made."""

    org_id: str
    name: str
    kind: str
    installed: str = ""  # the version the packaging org says it runs
    failing_checks: tuple[str, ...] = ()  # ids of failing checks of its latest snapshot
    checked_at: str | None = None  # None: never checked

    def to_doc(self) -> dict[str, Any]:
        return {"org_id": self.org_id, "name": self.name, "kind": self.kind,
                "installed": self.installed, "failing_checks": list(self.failing_checks),
                "checked_at": self.checked_at}

    @classmethod
    def from_doc(cls, doc: Mapping[str, Any]) -> PlanOrg:
        return cls(str(doc["org_id"]), str(doc.get("name") or ""),
                   str(doc.get("kind") or "production"), str(doc.get("installed") or ""),
                   tuple(str(c) for c in doc.get("failing_checks") or ()),
                   doc.get("checked_at"))


@dataclass(frozen=True)
class Excluded:
    org_id: str
    name: str
    reason: str
    # The org as it would be planned, when only the user's exclusion keeps it out (it passed
    # every other rule): what including it again restores. None for every other reason.
    org: PlanOrg | None = None

    @property
    def by_user(self) -> bool:
        return self.org is not None

    def to_doc(self) -> dict[str, Any]:
        return {"org_id": self.org_id, "name": self.name, "reason": self.reason,
                "org": self.org.to_doc() if self.org is not None else None}

    @classmethod
    def from_doc(cls, doc: Mapping[str, Any]) -> Excluded:
        org = doc.get("org")
        return cls(str(doc["org_id"]), str(doc.get("name") or ""), str(doc.get("reason") or ""),
                   PlanOrg.from_doc(org) if isinstance(org, Mapping) else None)


@dataclass(frozen=True)
class Wave:
    number: int  # 1-based, the order they run in
    name: str
    start_utc: datetime
    orgs: tuple[PlanOrg, ...]
    state: str = "planned"
    announced_at: str | None = None  # UTC ISO stamp of the recorded announcement
    announcement_override: str | None = None  # why scheduling went ahead without it
    announcement_recipients: int = 0
    request_id: str | None = None
    scheduled_at: str | None = None
    scheduled_by: str | None = None
    dropped: tuple[Mapping[str, str], ...] = ()  # {org_id, code, message} as Salesforce said
    jobs: int = 0
    claimed_at: str | None = None  # when a process started sending it
    # How each org's job ended, once its request ended (kept when the packaging org was read:
    # history.remember_results), so the registry can flag failures without a connection:
    # org id -> (job Status, its ErrorTypes).
    results: Mapping[str, tuple[str, tuple[str, ...]]] = field(default_factory=dict)

    @property
    def org_ids(self) -> list[str]:
        return [o.org_id for o in self.orgs]

    def to_doc(self) -> dict[str, Any]:
        return {"number": self.number, "name": self.name, "start_utc": stamp(self.start_utc),
                "orgs": [o.to_doc() for o in self.orgs], "state": self.state,
                "announced_at": self.announced_at,
                "announcement_override": self.announcement_override,
                "announcement_recipients": self.announcement_recipients,
                "request_id": self.request_id, "scheduled_at": self.scheduled_at,
                "scheduled_by": self.scheduled_by, "dropped": [dict(d) for d in self.dropped],
                "jobs": self.jobs, "claimed_at": self.claimed_at,
                "results": {k: {"status": v[0], "errors": list(v[1])}
                            for k, v in self.results.items()}}

    @classmethod
    def from_doc(cls, doc: Mapping[str, Any]) -> Wave:
        start = parse_utc(doc.get("start_utc"))
        if start is None:
            raise ValidationError.single("start_utc", "a wave has no start time")
        state = str(doc.get("state") or "planned")
        return cls(int(doc.get("number") or 0), str(doc.get("name") or ""), start,
                   tuple(PlanOrg.from_doc(o) for o in doc.get("orgs") or ()),
                   state if state in WAVE_STATES else "planned",
                   doc.get("announced_at"), doc.get("announcement_override"),
                   int(doc.get("announcement_recipients") or 0), doc.get("request_id"),
                   doc.get("scheduled_at"), doc.get("scheduled_by"),
                   tuple(dict(d) for d in doc.get("dropped") or ()), int(doc.get("jobs") or 0),
                   doc.get("claimed_at"), _results(doc.get("results")))


def _results(doc: Any) -> dict[str, tuple[str, tuple[str, ...]]]:
    if not isinstance(doc, Mapping):
        return {}
    out = {}
    for org_id, result in doc.items():
        if isinstance(result, Mapping) and result.get("status"):
            out[str(org_id)] = (str(result["status"]),
                                tuple(str(e) for e in result.get("errors") or ()))
    return out


@dataclass(frozen=True)
class Plan:
    id: str
    product: str
    namespace: str
    version: str
    version_id: str  # the 04t PackageVersionId pushed
    timezone: str
    created_at: str
    created_by: str
    packaging_org: str
    waves: tuple[Wave, ...]
    excluded: tuple[Excluded, ...] = ()
    exclusions: tuple[Mapping[str, str], ...] = ()  # the user's: {org_id, reason}
    pilot_share: float = 0.2
    state: str = "planned"
    edits: tuple[Mapping[str, str], ...] = ()  # {at, by, what}: the waves edited org by org

    @property
    def org_count(self) -> int:
        return sum(len(w.orgs) for w in self.waves)

    def wave(self, number: int) -> Wave:
        for wave in self.waves:
            if wave.number == number:
                return wave
        raise ValidationError.single("wave", f"plan {self.id} has no wave {number} (it has "
                                     f"{', '.join(str(w.number) for w in self.waves) or 'none'})")

    def to_doc(self) -> dict[str, Any]:
        return {"id": self.id, "product": self.product, "namespace": self.namespace,
                "version": self.version, "version_id": self.version_id,
                "timezone": self.timezone, "created_at": self.created_at,
                "created_by": self.created_by, "packaging_org": self.packaging_org,
                "waves": [w.to_doc() for w in self.waves],
                "excluded": [e.to_doc() for e in self.excluded],
                "exclusions": [dict(e) for e in self.exclusions],
                "pilot_share": self.pilot_share, "state": self.state,
                "edits": [dict(e) for e in self.edits]}

    @classmethod
    def from_doc(cls, doc: Mapping[str, Any]) -> Plan:
        state = str(doc.get("state") or "planned")
        return cls(
            id=str(doc["id"]), product=str(doc.get("product") or "billing"),
            namespace=str(doc.get("namespace") or ""), version=str(doc.get("version") or ""),
            version_id=str(doc.get("version_id") or ""),
            timezone=str(doc.get("timezone") or "UTC"),
            created_at=str(doc.get("created_at") or ""),
            created_by=str(doc.get("created_by") or ""),
            packaging_org=str(doc.get("packaging_org") or ""),
            waves=tuple(sorted((Wave.from_doc(w) for w in doc.get("waves") or ()),
                               key=lambda w: w.number)),
            excluded=tuple(Excluded.from_doc(e) for e in doc.get("excluded") or ()),
            exclusions=tuple(dict(e) for e in doc.get("exclusions") or ()),
            pilot_share=float(doc.get("pilot_share") or 0.0),
            state=state if state in PLAN_STATES else "planned",
            edits=tuple(dict(e) for e in doc.get("edits") or ()))


def save_plan(store: Store, plan: Plan) -> Plan:
    with store.transaction():
        store.put_doc(TABLE, plan.to_doc())
    return plan


def change_plan(store: Store, plan_id: str, change: Callable[[Plan], Plan]) -> Plan:
    """Replace the plan by `change(the plan as stored)` in one locked read-modify-write;
    whatever `change` raises leaves the plan as it was."""
    with store.transaction():
        doc = store.get_doc(TABLE, plan_id)
        if doc is None:
            raise ValidationError.single("plan", f"no push plan {plan_id}")
        plan = change(Plan.from_doc(doc))
        store.put_doc(TABLE, plan.to_doc())
    return plan


def get_plan(store: Store, plan_id: str) -> Plan | None:
    doc = store.get_doc(TABLE, plan_id)
    return Plan.from_doc(doc) if doc is not None else None


def list_plans(store: Store) -> list[Plan]:
    plans = [Plan.from_doc(d) for d in store.all_docs(TABLE)]
    return sorted(plans, key=lambda p: (p.created_at, p.id))


def kept_results(store: Store) -> list[tuple[str, str, Mapping[str, Any]]]:
    """(start stamp, plan id, results as stored) of every wave that kept how its jobs ended,
    without parsing the plans (the registry asks at every load: 5,000 orgs a wave)."""
    out = []
    for doc in store.all_docs(TABLE):
        for wave in doc.get("waves") or ():
            results = wave.get("results") if isinstance(wave, Mapping) else None
            if results and isinstance(results, Mapping) and wave.get("request_id"):
                out.append((str(wave.get("start_utc") or ""), str(doc.get("id")), results))
    return out


def find_plan(store: Store, request_id: str) -> tuple[Plan, Wave] | None:
    """The plan and wave whose request is `request_id` (15 or 18 characters)."""
    key = request_id[:15]
    for plan in list_plans(store):
        for wave in plan.waves:
            if wave.request_id and wave.request_id[:15] == key:
                return plan, wave
    return None


def update_wave(store: Store, plan_id: str, number: int, *,
                when: Callable[[Wave], str | None] | None = None, **changes: Any) -> Plan:
    """Change fields of one wave (and the plan's state when `plan_state` is given) in one
    locked read-modify-write of the plan as stored. `when(wave as stored)` may refuse the
    change: its text is raised as ValidationError("wave") and nothing is written."""
    plan_state = changes.pop("plan_state", None)
    with store.transaction():
        doc = store.get_doc(TABLE, plan_id)
        if doc is None:
            raise ValidationError.single("plan", f"no push plan {plan_id}")
        plan = Plan.from_doc(doc)
        refusal = when(plan.wave(number)) if when is not None else None
        if refusal is not None:
            raise ValidationError.single("wave", refusal)
        waves = tuple(replace(w, **changes) if w.number == number else w for w in plan.waves)
        if not any(w.number == number for w in plan.waves):
            raise ValidationError.single("wave", f"plan {plan_id} has no wave {number}")
        plan = replace(plan, waves=waves, state=plan_state or plan.state)
        store.patch_doc(TABLE, plan_id, {"waves": [w.to_doc() for w in plan.waves],
                                         "state": plan.state})
    return plan
