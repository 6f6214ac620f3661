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

from juston_tui.push_ops.plans import Plan, kept_results

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
    """The orgs that failed their last two pushes (`failed_last_two`'s rule), from the results
    the store kept of ended requests (no connection: the registry shows it). Reads the kept
    results only, in the order `org_history` gives (start, then plan id)."""
    by_org: dict[str, list[str]] = {}
    for _start, _plan, results in sorted(kept_results(store), key=lambda r: (r[0], r[1])):
        for org_id, result in results.items():
            if isinstance(result, Mapping) and result.get("status"):
                by_org.setdefault(str(org_id), []).append(str(result["status"]))
    return frozenset(o for o, outcomes in by_org.items() if _last_two_failed(outcomes))


def _last_two_failed(outcomes: Sequence[str]) -> bool:
    """The one rule: of the pushes that ran (Succeeded or Failed), the last two failed."""
    ran = [o for o in outcomes if o in ("Succeeded", "Failed")]
    return len(ran) >= 2 and all(o == "Failed" for o in ran[-2:])


def failed_last_two(entries: Sequence[HistoryEntry]) -> bool:
    """The org's last two pushes that ran both failed (worth a look before the next)."""
    return _last_two_failed([e.outcome for e in entries])
