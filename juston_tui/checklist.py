"""The JustOn install checklist: seed 001's steps as data, per-org progress, and verification.

The steps live in `data/checklist.toml` so wording can change without touching code. Each org's
progress is one store document per step (`checklist` table, key `"{org_id}/{step_id}"`). A
person's marks (done / skipped / note, with who and when) and the last verification result are
separate fields of that document, written with `patch_doc`, so a failing verification never
erases what the admin confirmed, and two writers touching different fields both survive.

Verification shows, for each step the API can see, the `Check` of the status snapshot
(`juston_tui.salesforce.probe_org`) whose id the step names, or of the browser-caching setting
(`read_browser_caching`, judged by `checks.check_browser_caching`): verdict, reason, fix and
evidence as the rules made them, never judged again here, so the checklist and `status` always
agree. The rest are confirmed by the admin. Nothing here imports Textual: the screen and the CLI
both build on these functions.
"""

from __future__ import annotations

import functools
import tomllib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from importlib.resources import files
from pathlib import Path
from typing import TYPE_CHECKING, Any

from juston_tui.model import Check, Org, Snapshot, ValidationError, now_utc
from juston_tui.text import clean

if TYPE_CHECKING:
    from juston_tui.credentials import CredentialStore
    from juston_tui.salesforce.settings import ProbeSettings
    from juston_tui.store import Store

__all__ = [
    "API_CHECKS",
    "COMPLETE",
    "STATES",
    "STATUSES",
    "VERIFY_KINDS",
    "Checklist",
    "ChecklistError",
    "Group",
    "Progress",
    "Step",
    "StepState",
    "Verification",
    "VerifyOutcome",
    "current_user",
    "evaluate",
    "evaluate_all",
    "load_checklist",
    "load_states",
    "mark",
    "next_open",
    "progress",
    "record_verifications",
    "report_dict",
    "report_markdown",
    "seed_demo",
    "set_note",
    "skip",
    "step_key",
    "step_status",
    "toggle_done",
    "validate_note",
    "validate_skip_reason",
    "verify_org",
]

TABLE = "checklist"
STATES = ("open", "done", "skipped")
VERDICTS = ("ok", "warn", "fail", "unknown")
# Snapshot checks (juston_tui.salesforce.probe_org) a step can be verified by.
SNAPSHOT_CHECKS = (
    "organization",
    "package.billing",
    "connected_app.permitted_users",
    "connected_app.sysadmin",
    "permissions.balance",
    "permissions.task_type",
    "licenses",
)
API_CHECKS = (*SNAPSHOT_CHECKS, "browser_caching")
VERIFY_KINDS = ("none", "manual", *API_CHECKS)
# What a step shows in a list, worst first; COMPLETE ones count towards progress.
STATUSES = ("failing", "open", "done", "skipped", "verified")
COMPLETE = frozenset({"done", "skipped", "verified"})
NOTE_LIMIT = 2000
REASON_LIMIT = 500


class ChecklistError(ValueError):
    """The checklist data file is malformed (a packaging or editing mistake, not a user's)."""


# -- the steps -------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Group:
    id: str
    title: str
    intro: str = ""
    outro: str = ""


@dataclass(frozen=True, slots=True)
class Step:
    """One instruction of seed 001, with where to do it, why, and how it is verified."""

    id: str
    group: str
    title: str
    what: str
    where: tuple[str, ...]
    why: str
    verify: str = "manual"
    fix: str = ""

    @property
    def api_checked(self) -> bool:
        return self.verify in API_CHECKS

    @property
    def remedy(self) -> str:
        return self.fix or self.what

    def text(self) -> str:
        """All the words of the step (search, and the seed-coverage test)."""
        return "\n".join((self.title, self.what, *self.where, self.why, self.fix))


@dataclass(frozen=True)
class Checklist:
    groups: tuple[Group, ...]
    steps: tuple[Step, ...]
    _by_id: Mapping[str, Step] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_id", {s.id: s for s in self.steps})

    def step(self, step_id: str) -> Step:
        try:
            return self._by_id[step_id]
        except KeyError:
            raise ValidationError.single("step_id", f"there is no step {step_id!r}") from None

    def has_step(self, step_id: str) -> bool:
        return step_id in self._by_id

    def group(self, group_id: str) -> Group:
        for group in self.groups:
            if group.id == group_id:
                return group
        raise KeyError(group_id)

    def steps_in(self, group_id: str) -> list[Step]:
        return [s for s in self.steps if s.group == group_id]

    def checks_needed(self) -> set[str]:
        return {s.verify for s in self.steps if s.api_checked}


def _text(raw: Mapping[str, Any], name: str, where: str, *, required: bool = True) -> str:
    value = raw.get(name, "")
    if not isinstance(value, str) or (required and not value.strip()):
        raise ChecklistError(f"{where}: {name!r} must be a non-empty string")
    return value.strip()


def parse_checklist(data: Mapping[str, Any]) -> Checklist:
    """Validate the TOML structure; every mistake names the step it is in."""
    groups: list[Group] = []
    for i, raw in enumerate(data.get("groups") or ()):
        where = f"groups[{i}]"
        groups.append(
            Group(
                id=_text(raw, "id", where),
                title=_text(raw, "title", where),
                intro=_text(raw, "intro", where, required=False),
                outro=_text(raw, "outro", where, required=False),
            )
        )
    group_ids = [g.id for g in groups]
    if not groups or len(set(group_ids)) != len(group_ids):
        raise ChecklistError("the checklist needs groups with unique ids")
    steps: list[Step] = []
    seen: set[str] = set()
    for i, raw in enumerate(data.get("steps") or ()):
        where = f"steps[{i}]"
        step_id = _text(raw, "id", where)
        where = f"step {step_id}"
        if step_id in seen or "/" in step_id:
            raise ChecklistError(f"{where}: ids must be unique and contain no '/'")
        seen.add(step_id)
        group = _text(raw, "group", where)
        if group not in group_ids:
            raise ChecklistError(f"{where}: unknown group {group!r}")
        verify = raw.get("verify", "manual")
        if verify not in VERIFY_KINDS:
            raise ChecklistError(f"{where}: verify must be one of {', '.join(VERIFY_KINDS)}")
        places = raw.get("where") or []
        if isinstance(places, str):
            places = [places]
        if not places or not all(isinstance(p, str) and p.strip() for p in places):
            raise ChecklistError(f"{where}: 'where' must name at least one place")
        steps.append(
            Step(
                id=step_id,
                group=group,
                title=_text(raw, "title", where),
                what=_text(raw, "what", where),
                where=tuple(p.strip() for p in places),
                why=_text(raw, "why", where),
                verify=verify,
                fix=_text(raw, "fix", where, required=False),
            )
        )
    if not steps:
        raise ChecklistError("the checklist has no steps")
    # Keep the document's grouping: a group's steps are contiguous and groups keep their order.
    order = [group_ids.index(s.group) for s in steps]
    if order != sorted(order):
        raise ChecklistError("steps must be listed group by group, in the groups' order")
    return Checklist(tuple(groups), tuple(steps))


@functools.cache
def _packaged_checklist() -> Checklist:
    payload = files("juston_tui.data").joinpath("checklist.toml").read_bytes()
    return parse_checklist(tomllib.loads(payload.decode("utf-8")))


def load_checklist(path: Path | str | None = None) -> Checklist:
    """The packaged checklist (parsed once), or one from another TOML file."""
    if path is None:
        return _packaged_checklist()
    with open(path, "rb") as handle:
        return parse_checklist(tomllib.load(handle))


# -- verification results --------------------------------------------------------------------
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


# -- per-org state ---------------------------------------------------------------------------
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


def current_user() -> str:
    """The OS user who confirms a step (recorded with every manual mark)."""
    import getpass

    try:
        return getpass.getuser() or "unknown"
    except Exception:  # no USER/LOGNAME and no passwd entry (some containers)
        return "unknown"


def _now() -> str:
    return now_utc().isoformat().replace("+00:00", "Z")


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
    changes: dict[str, Any] = {"state": state, "by": by or current_user(), "at": at or _now()}
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
               "note_at": _now() if note else ""}
    return _write(store, org_id, step_id, changes)


def record_verifications(
    store: Store,
    org_id: str,
    results: Mapping[str, Verification],
    *,
    snapshot: Snapshot | None = None,
) -> dict[str, StepState]:
    """Save every step's verification (and the snapshot it came from) in one atomic write.

    Only the `verification` field is written, so manual marks and notes are never touched.
    """
    out: dict[str, StepState] = {}
    with store.transaction():
        for step_id, verification in results.items():
            out[step_id] = _write(store, org_id, step_id, {"verification": verification.to_doc()})
        if snapshot is not None and snapshot.checks:
            store.save_snapshot(snapshot)
    return out


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


# -- showing the checks on the steps ----------------------------------------------------------
def _evidence(value: Mapping[str, Any]) -> dict[str, Any]:
    """The check's evidence as plain text values (untrusted strings cleaned)."""
    out: dict[str, Any] = {}
    for key, item in value.items():
        if isinstance(item, list | tuple):
            out[key] = [clean(v) if isinstance(v, str) else v for v in item]
        elif isinstance(item, str):
            out[key] = clean(item)
        else:
            out[key] = item
    return out


def from_check(check: Check, step: Step, at: str) -> Verification:
    """The check as this step's verification (the step's own text is the fix it lacks)."""
    fix = check.fix if check.verdict != "ok" and check.fix else step.remedy
    return Verification(check.verdict, clean(check.reason), fix, _evidence(check.evidence), at)


def evaluate(
    step: Step,
    snapshot: Snapshot | None,
    *,
    caching: bool | None = None,
    caching_read_at: str = "",
) -> Verification | None:
    """What the org says about one step (None for steps no API can see). Pure: easy to test."""
    kind = step.verify
    if kind not in API_CHECKS:
        return None
    if kind == "browser_caching":
        from juston_tui.salesforce.checks import check_browser_caching

        return from_check(check_browser_caching(caching), step, caching_read_at or _now())
    if snapshot is None:
        return Verification("unknown", "the org was not checked", step.remedy, {}, _now())
    check = snapshot.check(kind)
    if check is None:
        return Verification("unknown", f"the status check did not report {kind}",
                            step.remedy, {}, snapshot.checked_at)
    verification = from_check(check, step, snapshot.checked_at)
    if snapshot.error and not check.fix:
        return replace(verification, fix="Check the org's login (juston-tui login ORG) and "
                       "verify again.")
    return verification


def evaluate_all(
    checklist: Checklist,
    snapshot: Snapshot | None,
    *,
    caching: bool | None = None,
    caching_read_at: str = "",
    kinds: Iterable[str] | None = None,
) -> dict[str, Verification]:
    """Verifications for every API-checked step (optionally only some check kinds)."""
    wanted = set(kinds) if kinds is not None else set(API_CHECKS)
    out: dict[str, Verification] = {}
    for step in checklist.steps:
        if step.verify not in wanted:
            continue
        result = evaluate(step, snapshot, caching=caching, caching_read_at=caching_read_at)
        if result is not None:
            out[step.id] = result
    return out


@dataclass(frozen=True)
class VerifyOutcome:
    results: dict[str, Verification]
    snapshot: Snapshot | None
    caching: bool | None

    @property
    def failing(self) -> list[str]:
        return [k for k, v in self.results.items() if v.verdict == "fail"]


ProgressFn = Callable[[int, int, str], None]


def verify_org(
    org: Org,
    credentials: CredentialStore,
    checklist: Checklist | None = None,
    *,
    probe: Callable[..., Snapshot] | None = None,
    read_caching: Callable[..., bool | None] | None = None,
    on_progress: ProgressFn | None = None,
    timeout: float = 30.0,
    settings: ProbeSettings | None = None,
    store: Store | None = None,
) -> VerifyOutcome:
    """Ask the org (slow: a probe plus a Metadata API read) and map the answers onto the steps.

    `probe`/`read_caching` default to juston_tui.salesforce's; `on_progress(done, total, what)`
    is called from this thread before each stage and once at the end. The probe runs with
    `settings`, else `ProbeSettings.for_store(store)` (the store's `current_versions`), so the
    checklist, the registry and `status` judge an org by the same rules; give one of them.
    """
    checklist = checklist or load_checklist()
    needed = checklist.checks_needed()
    stages: list[str] = []
    if needed & set(SNAPSHOT_CHECKS):
        stages.append("probe")
    if "browser_caching" in needed:
        stages.append("caching")
    if probe is None or read_caching is None:
        # simple-salesforce and requests: only when the org is really asked
        from juston_tui.salesforce.metadata import read_browser_caching
        from juston_tui.salesforce.probe import probe_org

        probe = probe or probe_org
        read_caching = read_caching or read_browser_caching
    if settings is None:
        from juston_tui.salesforce.settings import ProbeSettings

        settings = ProbeSettings.for_store(store)
    labels = {"probe": "checking the org (package, connected app, permissions, licences)",
              "caching": "reading Session Settings (browser caching)"}
    total = len(stages)
    snapshot: Snapshot | None = None
    caching: bool | None = None
    caching_at = ""
    for index, stage in enumerate(stages):
        if on_progress is not None:
            on_progress(index, total, labels[stage])
        if stage == "probe":
            try:
                snapshot = probe(org, credentials, timeout=timeout, settings=settings)
            except Exception as exc:  # the contract says it never raises; be safe anyway
                snapshot = Snapshot(org.org_id, _now(), (), error=_describe(exc))
        else:
            try:
                caching = read_caching(org, credentials, timeout=timeout)
            except Exception:
                caching = None
            caching_at = _now()
    if on_progress is not None:
        on_progress(total, total, "done")
    results = evaluate_all(checklist, snapshot, caching=caching, caching_read_at=caching_at)
    return VerifyOutcome(results, snapshot, caching)


def _describe(exc: BaseException) -> str:
    return clean(f"{type(exc).__name__}: {exc}", limit=300)


# -- reports ---------------------------------------------------------------------------------
def report_dict(
    org: Org, checklist: Checklist, states: Mapping[str, StepState], *,
    generated_at: str | None = None,
) -> dict[str, Any]:
    """The checklist of one org as JSON-ready data (CLI --json)."""
    prog = progress(checklist, states)
    groups = []
    for group in checklist.groups:
        done, total = prog.groups[group.id]
        steps = []
        for step in checklist.steps_in(group.id):
            st = states.get(step.id) or StepState(org.org_id, step.id)
            steps.append({
                "id": step.id,
                "title": step.title,
                "status": step_status(states.get(step.id)),
                "verify": step.verify,
                "state": st.state,
                "by": st.by or None,
                "at": st.at or None,
                "skip_reason": st.skip_reason or None,
                "note": st.note or None,
                "note_by": st.note_by or None,
                "note_at": st.note_at or None,
                "verification": st.verification.to_doc() if st.verification else None,
                "where": list(step.where),
            })
        groups.append({"id": group.id, "title": group.title, "complete": done, "total": total,
                       "steps": steps})
    return {
        "org": {"org_id": org.org_id, "name": org.name, "kind": org.kind},
        "generated_at": generated_at or _now(),
        "progress": {"complete": prog.complete, "total": prog.total,
                     "counts": dict(prog.counts)},
        "groups": groups,
    }


_MD_SPECIAL = str.maketrans({c: "\\" + c for c in "\\`*_[]<|"})


def md(value: object) -> str:
    """Untrusted text for Markdown: one clean line with Markdown's special characters escaped."""
    return clean(value).translate(_MD_SPECIAL)


_MARKS = {"verified": "[x]", "done": "[x]", "skipped": "[-]", "failing": "[!]", "open": "[ ]"}


def report_markdown(
    org: Org, checklist: Checklist, states: Mapping[str, StepState], *,
    generated_at: str | None = None, generated_by: str | None = None,
) -> str:
    """A Markdown report to attach to a support ticket: steps, states, evidence, notes, who/when."""
    prog = progress(checklist, states)
    when = generated_at or _now()
    lines = [
        f"# JustOn installation checklist: {md(org.name)}",
        "",
        f"- Org ID: `{org.org_id}` ({md(org.kind)})",
        f"- Report: {md(when)} by {md(generated_by or current_user())}",
        f"- Progress: {prog.complete} of {prog.total} steps complete"
        + "".join(f", {n} {s}" for s, n in prog.counts.items() if n and s != "open")
        + f", {prog.counts['open']} open",
        "",
        "Legend: [x] done or verified, [-] skipped, [!] verification failed, [ ] open.",
    ]
    for group in checklist.groups:
        done, total = prog.groups[group.id]
        lines += ["", f"## {group.title} ({done}/{total})", ""]
        for step in checklist.steps_in(group.id):
            st = states.get(step.id)
            status = step_status(st)
            lines.append(f"- {_MARKS[status]} **{step.title}** ({status})")
            lines.append(f"  - Where: {' / '.join(step.where)}")
            if st is not None and st.state != "open" and st.by:
                lines.append(f"  - Marked {st.state} by {md(st.by)} at {md(st.at)}")
            if st is not None and st.skip_reason:
                lines.append(f"  - Skipped because: {md(st.skip_reason)}")
            if step.api_checked:
                v = st.verification if st else None
                if v is None:
                    lines.append(f"  - Verification (`{step.verify}`): not run yet")
                else:
                    lines.append(f"  - Verification (`{step.verify}`): **{v.verdict}**, "
                                 f"{md(v.reason)} (read {md(v.verified_at)})")
                    if v.evidence:
                        lines.append(f"  - Evidence: {md(v.evidence_line())}")
                    if v.verdict != "ok" and v.fix:
                        lines.append(f"  - Fix: {md(v.fix)}")
            elif step.verify == "manual":
                lines.append("  - Verification: confirmed by the admin (no API can see it)")
            if st is not None and st.note:
                lines.append(f"  - Note ({md(st.note_by)}, {md(st.note_at)}): {md(st.note)}")
    return "\n".join(lines) + "\n"


# -- demo data -------------------------------------------------------------------------------
_DEMO_PLANS: tuple[tuple[int, dict[str, str], dict[str, str]], ...] = (
    # (steps marked done from the start, skipped {step: reason}, notes {step: note})
    (20, {"post_install.project_permissions": "No project-specific objects in phase 1"},
     {"post_install.login_access": "Granted for 1 year, expires next spring"}),
    (11, {}, {"installing.follow": "Installed in the maintenance window, took 9 minutes"}),
    (5, {"preparing.features": "Features already enabled by the previous partner"}, {}),
    (2, {}, {"requirements.browsers": "Finance team still on an old Firefox ESR: check"}),
)


def seed_demo(store: Store, orgs: list[Org]) -> None:
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
    docs: list[dict[str, Any]] = []
    base = now_utc()
    for plan, org in zip(_DEMO_PLANS, candidates, strict=False):
        done_count, skipped, notes = plan
        snapshot = snapshots[org.org_id]
        verified = (evaluate_all(checklist, snapshot, kinds=SNAPSHOT_CHECKS)
                    if snapshot is not None else {})
        for index, step in enumerate(checklist.steps):
            at = (base.replace(microsecond=0) - _minutes(60 * 24 - index * 7)).isoformat()
            at = at.replace("+00:00", "Z")
            st = StepState(org.org_id, step.id, verification=verified.get(step.id))
            if step.id in skipped:
                st = replace(st, state="skipped", by="demo", at=at, skip_reason=skipped[step.id])
            elif index < done_count:
                st = replace(st, state="done", by="demo", at=at)
            if step.id in notes:
                st = replace(st, note=notes[step.id], note_by="demo", note_at=at)
            if st != StepState(org.org_id, step.id):
                docs.append(st.to_doc())
    if docs:
        store.put_many(TABLE, docs)


def _minutes(n: int) -> Any:
    from datetime import timedelta

    return timedelta(minutes=n)
