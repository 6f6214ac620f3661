"""The JustOn install checklist: seed 001's steps as data, per-org progress, and verification.

The package's facade: import from `juston_tui.checklist`. Its parts, along the seams:

- `steps`: the steps in `data/checklist.toml`, validated into a `Checklist` (`load_checklist`).
- `state`: the owner of the store's `checklist` table (one document per org and step): marks,
  notes, skips and verification records, written field by field so a failing verification
  never erases what the admin confirmed; `step_status`, `progress`, `next_open`.
- `verify`: the `Check`s the status snapshot and the browser-caching read made, shown on the
  steps they verify (never judged again, so the checklist and `status` agree); `verify_org`
  asks the org, `verify_and_record` also saves (or, read-only, only shows) the results.
- `report`: JSON-ready data and the Markdown report for a support ticket.

Nothing here imports Textual: the screen and the CLI both build on these functions.
"""

from __future__ import annotations

from juston_tui.checklist.report import md, report_dict, report_markdown
from juston_tui.checklist.state import (
    COMPLETE,
    NOTE_LIMIT,
    REASON_LIMIT,
    STATES,
    STATUSES,
    TABLE,
    Progress,
    StepState,
    Verification,
    current_user,
    load_states,
    mark,
    next_open,
    progress,
    put_states,
    record_verifications,
    set_note,
    skip,
    step_key,
    step_status,
    timestamp,
    toggle_done,
    validate_note,
    validate_skip_reason,
    with_verifications,
)
from juston_tui.checklist.steps import (
    API_CHECKS,
    SNAPSHOT_CHECKS,
    VERIFY_KINDS,
    Checklist,
    ChecklistError,
    Group,
    Step,
    load_checklist,
    parse_checklist,
)
from juston_tui.checklist.verify import (
    ProgressFn,
    Verified,
    VerifyOutcome,
    evaluate,
    evaluate_all,
    from_check,
    verify_and_record,
    verify_org,
)
from juston_tui.model import VERDICTS

__all__ = [
    "API_CHECKS",
    "COMPLETE",
    "NOTE_LIMIT",
    "REASON_LIMIT",
    "SNAPSHOT_CHECKS",
    "STATES",
    "STATUSES",
    "TABLE",
    "VERDICTS",
    "VERIFY_KINDS",
    "Checklist",
    "ChecklistError",
    "Group",
    "Progress",
    "ProgressFn",
    "Step",
    "StepState",
    "Verification",
    "Verified",
    "VerifyOutcome",
    "current_user",
    "evaluate",
    "evaluate_all",
    "from_check",
    "load_checklist",
    "load_states",
    "mark",
    "md",
    "next_open",
    "parse_checklist",
    "progress",
    "put_states",
    "record_verifications",
    "report_dict",
    "report_markdown",
    "set_note",
    "skip",
    "step_key",
    "step_status",
    "timestamp",
    "toggle_done",
    "validate_note",
    "validate_skip_reason",
    "verify_and_record",
    "verify_org",
    "with_verifications",
]
