"""How pushes ended, per org, and the one judgement "failed its last two pushes".

Light on purpose (no Salesforce client): the registry imports `failed_twice` at start-up to
mark the orgs, from the results the plans kept of ended requests (`history.remember_results`
keeps them whenever the packaging org is read). `push history`, the org detail and the push
screen use the same `org_history` and `failed_last_two` (re-exported by push_ops.history).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from juston_tui.push_ops.plans import Plan, list_plans

if TYPE_CHECKING:
    from juston_tui.salesforce.push_api import PushRequestInfo
    from juston_tui.store import Store

__all__ = ["HistoryEntry", "failed_last_two", "failed_twice", "org_history"]


@dataclass(frozen=True)
class HistoryEntry:
    org_id: str
    plan_id: str
    wave: int
    version: str
    start_utc: datetime
    request_id: str | None
    outcome: str  # the job's Status, "dropped: CODE", or "no job"
    error_types: tuple[str, ...] = ()


def org_history(plans: Iterable[Plan], infos: Mapping[str, PushRequestInfo]
                ) -> dict[str, list[HistoryEntry]]:
    """org id -> its pushes, oldest first."""
    out: dict[str, list[HistoryEntry]] = {}
    for plan in plans:
        for wave in plan.waves:
            if not wave.request_id:  # planned, never sent: not a push the org was in
                continue
            info = infos.get(wave.request_id)
            dropped = {str(d.get("org_id")): str(d.get("code")) for d in wave.dropped}
            for org in wave.orgs:
                job = info.job(org.org_id) if info else None
                kept = wave.results.get(org.org_id) if info is None else None
                if job is not None:
                    outcome = job.status
                    types = tuple(sorted({e.type for e in job.errors}))
                elif kept is not None:  # not read now: how it ended when last read
                    outcome, types = kept
                elif org.org_id in dropped:
                    outcome, types = f"dropped: {dropped[org.org_id]}", ()
                else:
                    outcome, types = "no job", ()
                out.setdefault(org.org_id, []).append(HistoryEntry(
                    org.org_id, plan.id, wave.number, plan.version, wave.start_utc,
                    wave.request_id, outcome, types))
    for entries in out.values():
        entries.sort(key=lambda e: (e.start_utc, e.plan_id))
    return out


def failed_twice(store: Store) -> frozenset[str]:
    """The orgs that failed their last two pushes (`failed_last_two`), from the results the
    store kept of ended requests (no connection: the registry shows it)."""
    plans = [p for p in list_plans(store) if any(w.results for w in p.waves)]
    if not plans:
        return frozenset()
    return frozenset(org_id for org_id, entries in org_history(plans, {}).items()
                     if failed_last_two(entries))


def failed_last_two(entries: Sequence[HistoryEntry]) -> bool:
    """The org's last two pushes that ran both failed (worth a look before the next)."""
    ran = [e for e in entries if e.outcome in ("Succeeded", "Failed")]
    return len(ran) >= 2 and all(e.outcome == "Failed" for e in ran[-2:])
