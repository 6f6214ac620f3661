"""Each org's progress through the checklist: the owner of the store's `checklist` table.

One document per org and step (key `"{org_id}/{step_id}"`). A person's marks (done / skipped /
note, with who and when) and the last verification result are separate fields of that
document, written with `patch_doc`, so a failing verification never erases what the admin
confirmed, and two writers touching different fields both survive. Nothing else reads or
writes the table: the screen, the CLI and the demo call the typed functions here.

`step_status` turns a record into one word (`STATUSES`), and `progress`/`next_open` count and
walk them.
"""

from __future__ import annotations

import getpass
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from juston_tui.checklist.steps import Checklist, load_checklist
from juston_tui.model import VERDICTS, Snapshot, ValidationError, now_utc

if TYPE_CHECKING:
    from juston_tui.store import Store

TABLE = "checklist"
STATES = ("open", "done", "skipped")
# What a step shows in a list, worst first; COMPLETE ones count towards progress.
STATUSES = ("failing", "open", "done", "skipped", "verified")
COMPLETE = frozenset({"done", "skipped", "verified"})
NOTE_LIMIT = 2000
REASON_LIMIT = 500


def timestamp() -> str:
    """Now, as the checklist records it (`2026-03-01T10:00:00.123456Z`)."""
    return now_utc().isoformat().replace("+00:00", "Z")


def current_user() -> str:
    """The OS user who confirms a step (recorded with every manual mark)."""
    try:
        return getpass.getuser() or "unknown"
    except Exception:  # no USER/LOGNAME and no passwd entry (some containers)
        return "unknown"


# -- the records -----------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Verification:
    """What the API said about one step: the verdict, one-line reason, fix and evidence of the
    check the step names, and when it was read."""

    verdict: str
    reason: str
    fix: str = ""
    evidence: Mapping[str, Any] = field(default_factory=dict)
    verified_at: str = ""

    def to_doc(self) -> dict[str, Any]:
        return {
            "verdict": self.verdict,
            "reason": self.reason,
            "fix": self.fix,
            "evidence": dict(self.evidence),
            "verified_at": self.verified_at,
        }

    @classmethod
    def from_doc(cls, doc: Mapping[str, Any] | None) -> Verification | None:
        if not doc:
            return None
        verdict = doc.get("verdict", "unknown")
        return cls(
            verdict=verdict if verdict in VERDICTS else "unknown",
            reason=str(doc.get("reason", "")),
            fix=str(doc.get("fix", "")),
            evidence=dict(doc.get("evidence") or {}),
            verified_at=str(doc.get("verified_at", "")),
        )

    def evidence_line(self) -> str:
        """`key: value; …` in one line, for lists and reports."""
        parts = []
        for key, value in self.evidence.items():
            if isinstance(value, list | tuple):
                value = ", ".join(str(v) for v in value) or "none"
            elif value is None:
                value = "unknown"
            parts.append(f"{key}: {value}")
        return "; ".join(parts)


def step_key(org_id: str, step_id: str) -> str:
    return f"{org_id}/{step_id}"


@dataclass(frozen=True, slots=True)
class StepState:
    """One org's record of one step. Marks and verification are independent fields."""

    org_id: str
    step_id: str
    state: str = "open"
    by: str = ""
    at: str = ""
    note: str = ""
    note_by: str = ""
    note_at: str = ""
    skip_reason: str = ""
    verification: Verification | None = None

    @property
    def key(self) -> str:
        return step_key(self.org_id, self.step_id)

    def to_doc(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "org_id": self.org_id,
            "step_id": self.step_id,
            "state": self.state,
            "by": self.by,
            "at": self.at,
            "note": self.note,
            "note_by": self.note_by,
            "note_at": self.note_at,
            "skip_reason": self.skip_reason,
            "verification": self.verification.to_doc() if self.verification else None,
        }

    @classmethod
    def from_doc(cls, doc: Mapping[str, Any]) -> StepState:
        state = doc.get("state", "open")
        return cls(
            org_id=str(doc.get("org_id", "")),
            step_id=str(doc.get("step_id", "")),
            state=state if state in STATES else "open",
            by=str(doc.get("by") or ""),
            at=str(doc.get("at") or ""),
            note=str(doc.get("note") or ""),
            note_by=str(doc.get("note_by") or ""),
            note_at=str(doc.get("note_at") or ""),
            skip_reason=str(doc.get("skip_reason") or ""),
            verification=Verification.from_doc(doc.get("verification")),
        )


# -- reading ---------------------------------------------------------------------------------
def load_states(
    store: Store, org_id: str, checklist: Checklist | None = None
) -> dict[str, StepState]:
    """Every recorded step of one org, by step id (steps never touched are absent).

    One keyed lookup per step, so it stays fast with many orgs in the store.
    """
    states: dict[str, StepState] = {}
    for step in (checklist or load_checklist()).steps:
        doc = store.get_doc(TABLE, step_key(org_id, step.id))
        if doc is not None:
            states[step.id] = StepState.from_doc(doc)
    return states


def with_verifications(
    states: Mapping[str, StepState], org_id: str, results: Mapping[str, Verification]
) -> dict[str, StepState]:
    """`states` with `results` laid over them, nothing saved (what read-only mode shows)."""
    merged = dict(states)
    for step_id, verification in results.items():
        base = merged.get(step_id) or StepState(org_id, step_id)
        merged[step_id] = replace(base, verification=verification)
    return merged


# -- what a person types ---------------------------------------------------------------------
def validate_skip_reason(reason: str) -> str:
    """The reason as stored (one line); ValidationError on field `skip_reason` when unusable."""
    reason = " ".join((reason or "").split())
    if not reason:
        raise ValidationError.single("skip_reason", "say why this step is skipped")
    if len(reason) > REASON_LIMIT:
        raise ValidationError.single(
            "skip_reason", f"the reason has at most {REASON_LIMIT} characters"
        )
    return reason


def validate_note(note: str) -> str:
    note = (note or "").strip()
    if len(note) > NOTE_LIMIT:
        raise ValidationError.single("note", f"a note has at most {NOTE_LIMIT} characters")
    return note


# -- writing ---------------------------------------------------------------------------------
def _write(store: Store, org_id: str, step_id: str, changes: Mapping[str, Any]) -> StepState:
    """Create or patch one step's document: only `changes` are written (one atomic write)."""
    key = step_key(org_id, step_id)
    with store.transaction():
        doc = store.get_doc(TABLE, key)
        if doc is None:
            fresh = StepState(org_id, step_id).to_doc()
            fresh.update(changes)
            store.put_doc(TABLE, fresh)
            return StepState.from_doc(fresh)
        return StepState.from_doc(store.patch_doc(TABLE, key, dict(changes)))


def _check_step(checklist: Checklist | None, step_id: str) -> Checklist:
    checklist = checklist or load_checklist()
    checklist.step(step_id)  # raises ValidationError for an unknown step
    return checklist


def mark(
    store: Store,
    org_id: str,
    step_id: str,
    state: str,
    *,
    reason: str = "",
    by: str | None = None,
    at: str | None = None,
    checklist: Checklist | None = None,
) -> StepState:
    """Set a step open, done or skipped (a skip needs a reason), recording who and when."""
    _check_step(checklist, step_id)
    if state not in STATES:
        raise ValidationError.single("state", f"the state is one of {', '.join(STATES)}")
    changes: dict[str, Any] = {"state": state, "by": by or current_user(),
                               "at": at or timestamp()}
    if state == "skipped":
        changes["skip_reason"] = validate_skip_reason(reason)
    else:
        changes["skip_reason"] = ""
    return _write(store, org_id, step_id, changes)


def toggle_done(
    store: Store, org_id: str, step_id: str, *, by: str | None = None,
    checklist: Checklist | None = None,
) -> StepState:
    """`space`: done becomes open, anything else becomes done (decided on the stored state)."""
    _check_step(checklist, step_id)
    with store.transaction():
        doc = store.get_doc(TABLE, step_key(org_id, step_id)) or {}
        new_state = "open" if doc.get("state") == "done" else "done"
        return mark(store, org_id, step_id, new_state, by=by, checklist=checklist)


def skip(
    store: Store, org_id: str, step_id: str, reason: str, *, by: str | None = None,
    checklist: Checklist | None = None,
) -> StepState:
    return mark(store, org_id, step_id, "skipped", reason=reason, by=by, checklist=checklist)


def set_note(
    store: Store, org_id: str, step_id: str, note: str, *, by: str | None = None,
    checklist: Checklist | None = None,
) -> StepState:
    """Replace a step's note (empty clears it); the mark and verification are untouched."""
    _check_step(checklist, step_id)
    note = validate_note(note)
    changes = {"note": note, "note_by": (by or current_user()) if note else "",
               "note_at": timestamp() if note else ""}
    return _write(store, org_id, step_id, changes)


def record_verifications(
    store: Store,
    org_id: str,
    results: Mapping[str, Verification],
    *,
    snapshot: Snapshot | None = None,
) -> dict[str, StepState]:
    """Save every step's verification in one atomic write, and the snapshot it came from.

    The snapshot goes to the snapshot files beside the store first (see store/snapshots.py):
    a failed store write still leaves the probe's result, which is what it read from the org.

    Only the `verification` field is written, so manual marks and notes are never touched.
    """
    out: dict[str, StepState] = {}
    with store.transaction():
        for step_id, verification in results.items():
            out[step_id] = _write(store, org_id, step_id, {"verification": verification.to_doc()})
        if snapshot is not None and snapshot.checks:
            store.save_snapshot(snapshot)
    return out


def put_states(store: Store, states: Iterable[StepState]) -> None:
    """Write whole records in one write, replacing any stored record of the same org and step
    (the demo's seeding; people's edits go through `mark`/`set_note`, which patch fields)."""
    docs = [state.to_doc() for state in states]
    if docs:
        store.put_many(TABLE, docs)


# -- status and progress ---------------------------------------------------------------------
def step_status(state: StepState | None) -> str:
    """One word per step: skipped and verified/done count as complete, failing does not.

    A `warn` verification (e.g. installed but outdated, all licences used) is verified: the
    step was done; the warning and its fix stay on the step's verification.
    """
    verification = state.verification if state else None
    if state is not None and state.state == "skipped":
        return "skipped"
    if verification is not None and verification.verdict == "fail":
        return "failing"
    if verification is not None and verification.verdict in ("ok", "warn"):
        return "verified"
    if state is not None and state.state == "done":
        return "done"
    return "open"


@dataclass(frozen=True)
class Progress:
    complete: int
    total: int
    groups: Mapping[str, tuple[int, int]]
    counts: Mapping[str, int]

    @property
    def fraction(self) -> float:
        return self.complete / self.total if self.total else 0.0


def progress(checklist: Checklist, states: Mapping[str, StepState]) -> Progress:
    groups: dict[str, list[int]] = {g.id: [0, 0] for g in checklist.groups}
    counts = dict.fromkeys(STATUSES, 0)
    for step in checklist.steps:
        status = step_status(states.get(step.id))
        counts[status] += 1
        groups[step.group][1] += 1
        if status in COMPLETE:
            groups[step.group][0] += 1
    complete = sum(g[0] for g in groups.values())
    return Progress(complete, len(checklist.steps), {k: (v[0], v[1]) for k, v in groups.items()},
                    counts)


def next_open(
    checklist: Checklist, states: Mapping[str, StepState], after: str | None, *,
    backwards: bool = False,
) -> str | None:
    """The next (or previous) step that is not complete, wrapping around; None when all are."""
    ids = [s.id for s in checklist.steps]
    if backwards:
        ids.reverse()
    start = ids.index(after) + 1 if after in ids else 0
    for step_id in ids[start:] + ids[:start]:
        if step_id != after and step_status(states.get(step_id)) not in COMPLETE:
            return step_id
    return None
