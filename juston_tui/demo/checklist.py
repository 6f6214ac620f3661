"""Demo data: a few demo orgs part-way through the checklist (`juston-tui --demo`).

`seed(store, orgs)` is called by the demo's seeding (environment.SEEDS); it writes through
the checklist's `put_states`, the table's owner.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import TYPE_CHECKING

from juston_tui.checklist import (
    SNAPSHOT_CHECKS,
    StepState,
    evaluate_all,
    load_checklist,
    put_states,
)
from juston_tui.model import Org, now_utc

if TYPE_CHECKING:
    from juston_tui.store import Store

_DEMO_PLANS: tuple[tuple[int, dict[str, str], dict[str, str]], ...] = (
    # (steps marked done from the start, skipped {step: reason}, notes {step: note})
    (20, {"post_install.project_permissions": "No project-specific objects in phase 1"},
     {"post_install.login_access": "Granted for 1 year, expires next spring"}),
    (11, {}, {"installing.follow": "Installed in the maintenance window, took 9 minutes"}),
    (5, {"preparing.features": "Features already enabled by the previous partner"}, {}),
    (2, {}, {"requirements.browsers": "Finance team still on an old Firefox ESR: check"}),
)


def seed(store: Store, orgs: list[Org]) -> None:
    """Give a few demo orgs partial progress (and verifications from their last snapshot)."""
    checklist = load_checklist()
    ordered = sorted((o for o in orgs if not o.vendor), key=lambda o: (o.name, o.org_id))
    production = [o for o in ordered if o.is_production]
    snapshots = {o.org_id: store.latest_snapshot(o.org_id) for o in ordered}
    # Two tidy production orgs, one whose last check failed (so a failing step shows), a sandbox.
    failing = [o for o in production if (snap := snapshots[o.org_id]) and snap.verdict == "fail"]
    picked = production[:2] + failing[:1] + [o for o in ordered if not o.is_production][:1]
    candidates = list(dict.fromkeys(picked + production))[: len(_DEMO_PLANS)]
    if not candidates:
        return
    states: list[StepState] = []
    base = now_utc()
    for plan, org in zip(_DEMO_PLANS, candidates, strict=False):
        done_count, skipped, notes = plan
        snapshot = snapshots[org.org_id]
        verified = (evaluate_all(checklist, snapshot, kinds=SNAPSHOT_CHECKS)
                    if snapshot is not None else {})
        for index, step in enumerate(checklist.steps):
            at = (base.replace(microsecond=0) - timedelta(minutes=60 * 24 - index * 7)).isoformat()
            at = at.replace("+00:00", "Z")
            st = StepState(org.org_id, step.id, verification=verified.get(step.id))
            if step.id in skipped:
                st = replace(st, state="skipped", by="demo", at=at, skip_reason=skipped[step.id])
            elif index < done_count:
                st = replace(st, state="done", by="demo", at=at)
            if step.id in notes:
                st = replace(st, note=notes[step.id], note_by="demo", note_at=at)
            if st != StepState(org.org_id, step.id):
                states.append(st)
    put_states(store, states)
