"""Verification: what the org says about the steps the API can see.

For each such step this shows the `Check` of the status snapshot
(`juston_tui.salesforce.probe_org`) whose id the step names, or of the browser-caching setting
(`read_browser_caching`, judged by `checks.check_browser_caching`): verdict, reason, fix and
evidence as the rules made them, never judged again here, so the checklist and `status` always
agree. `evaluate`/`evaluate_all` are pure; `verify_org` asks the org; `verify_and_record` is the
whole use case of the screen's `v` and `checklist --verify` (ask, save or only show, read back).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from juston_tui.checklist.state import (
    StepState,
    Verification,
    load_states,
    record_verifications,
    timestamp,
    with_verifications,
)
from juston_tui.checklist.steps import API_CHECKS, SNAPSHOT_CHECKS, Checklist, Step, load_checklist
from juston_tui.model import Check, Org, Snapshot
from juston_tui.salesforce.checks import check_browser_caching
from juston_tui.salesforce.settings import ProbeSettings
from juston_tui.text import clean

if TYPE_CHECKING:
    from juston_tui.credentials import CredentialStore
    from juston_tui.store import Store

ProgressFn = Callable[[int, int, str], None]


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
        return from_check(check_browser_caching(caching), step, caching_read_at or timestamp())
    if snapshot is None:
        return Verification("unknown", "the org was not checked", step.remedy, {}, timestamp())
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
        # requests + simple-salesforce: most of a CLI command's imports, only to ask an org
        from juston_tui.salesforce.metadata import read_browser_caching
        from juston_tui.salesforce.probe import probe_org

        probe = probe or probe_org
        read_caching = read_caching or read_browser_caching
    if settings is None:
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
                snapshot = Snapshot(org.org_id, timestamp(), (), error=_describe(exc))
        else:
            try:
                caching = read_caching(org, credentials, timeout=timeout)
            except Exception:
                caching = None
            caching_at = timestamp()
    if on_progress is not None:
        on_progress(total, total, "done")
    results = evaluate_all(checklist, snapshot, caching=caching, caching_read_at=caching_at)
    return VerifyOutcome(results, snapshot, caching)


def _describe(exc: BaseException) -> str:
    return clean(f"{type(exc).__name__}: {exc}", limit=300)


@dataclass(frozen=True)
class Verified:
    """A verification and the org's records after it: as saved, or (not `saved`) the stored
    records with the results laid over them."""

    outcome: VerifyOutcome
    states: dict[str, StepState]
    saved: bool


def verify_and_record(
    store: Store,
    org: Org,
    credentials: CredentialStore,
    checklist: Checklist | None = None,
    *,
    save: bool = True,
    on_progress: ProgressFn | None = None,
    timeout: float = 30.0,
) -> Verified:
    """Verify `org` by the store's settings, save the results and the snapshot (one write)
    when `save`, and read the org's records back. Call from a thread: it asks the org."""
    checklist = checklist or load_checklist()
    outcome = verify_org(org, credentials, checklist, store=store, on_progress=on_progress,
                         timeout=timeout)
    if save:
        record_verifications(store, org.org_id, outcome.results, snapshot=outcome.snapshot)
        states = load_states(store, org.org_id, checklist)
    else:
        states = with_verifications(load_states(store, org.org_id, checklist), org.org_id,
                                    outcome.results)
    return Verified(outcome, states, save)
