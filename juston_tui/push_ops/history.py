"""Learning from pushes: per org, every push it was in and how it ended; and the change
record of one request (`push report`), for customers' and JustOn's change management.

Both join what the store kept (plans, waves, dropped orgs, the audit) with what the
packaging org says about the requests (PushRequestInfo: job statuses and errors). The per-org
outcomes and the rule "failed its last two pushes" are push_ops.outcomes (light, for the
registry), re-exported here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from juston_tui.push_ops.audit import audit_records
from juston_tui.push_ops.outcomes import (  # the one judgement lives there (no client)
    HistoryEntry,
    failed_last_two,
    failed_twice,
    org_history,
)
from juston_tui.push_ops.plans import Plan, Wave, find_plan, list_plans, update_wave
from juston_tui.push_ops.scheduling import failure_rate
from juston_tui.push_ops.session import packaging_connection
from juston_tui.salesforce.push_api import PushReader, PushRequestInfo
from juston_tui.schedule import zone_named
from juston_tui.text import clean

if TYPE_CHECKING:
    from juston_tui.credentials import CredentialStore
    from juston_tui.store import Store

__all__ = ["HistoryEntry", "change_record", "failed_last_two", "failed_twice", "org_history",
           "push_history", "remember_results", "report_markdown"]


def push_history(store: Store, credentials: Callable[[], CredentialStore],
                 org_id: str | None = None, *, timeout: float = 60.0
                 ) -> dict[str, list[HistoryEntry]]:
    """org id -> its pushes (of one org, when given), the requests read from the packaging
    org; no request to read (the org was in no scheduled wave): no connection and no
    credentials (`credentials` is called only then).
    NoVendorOrg or AccessError when the packaging org cannot be read."""
    plans = list_plans(store)
    if org_id is not None:
        plans = [p for p in plans if any(org_id in w.org_ids for w in p.waves)]
    ids = [w.request_id for p in plans for w in p.waves if w.request_id]
    infos: dict[str, PushRequestInfo] = {}
    if ids:
        with packaging_connection(store, credentials(), timeout=timeout) as (_org, conn):
            infos = PushReader(conn).requests(ids)
    remember_results(store, plans, infos)
    history = org_history(plans, infos)
    if org_id is not None:
        return {org_id: history.get(org_id, [])}
    return history


def change_record(store: Store, credentials: Callable[[], CredentialStore], request_id: str,
                  *, timeout: float = 60.0) -> str:
    """`push report REQUEST --markdown`: the request read from the packaging org, joined with
    its plan, wave and audit. KeyError when no plan has the request; NoVendorOrg or
    AccessError when the packaging org cannot be read."""
    found = find_plan(store, request_id)
    if found is None:
        raise KeyError(f"push request {request_id} is not in any push plan")
    plan, wave = found
    with packaging_connection(store, credentials(), timeout=timeout) as (_org, conn):
        infos = PushReader(conn).requests([request_id])
    return report_markdown(plan, wave, infos.get(request_id),
                           audit_records(store, request_id=request_id))


def remember_results(store: Store, plans: Iterable[Plan],
                     infos: Mapping[str, PushRequestInfo]) -> None:
    """Keep how each org's job ended in the waves whose request has ended (and whose results
    are not kept yet), so `failed_twice` needs no connection. Not in a read-only store."""
    if store.read_only:
        return
    for plan in plans:
        for wave in plan.waves:
            info = infos.get(wave.request_id) if wave.request_id else None
            if info is None or not info.ended or wave.results:
                continue
            results = {}
            for org in wave.orgs:
                job = info.job(org.org_id)
                if job is not None:
                    results[org.org_id] = (job.status,
                                           tuple(sorted({e.type for e in job.errors})))
            if results:
                update_wave(store, plan.id, wave.number, results=results)


def _md(text: Any) -> str:
    """Untrusted text in a Markdown table cell or line: cleaned, no pipes or markup."""
    value = clean(str(text if text is not None else ""), limit=300)
    for char in "\\|*_`[]<>#":
        value = value.replace(char, f"\\{char}")
    return value


def report_markdown(plan: Plan, wave: Wave, info: PushRequestInfo | None,
                    audit: Sequence[Mapping[str, Any]]) -> str:
    zone = zone_named(plan.timezone)
    local = wave.start_utc.astimezone(zone)
    lines = [
        f"# Push upgrade {plan.namespace} {plan.version}: request "
        f"{wave.request_id or '(not scheduled)'}",
        "",
        f"- Plan: {plan.id}, wave {wave.number} of {len(plan.waves)} ({_md(wave.name)})",
        f"- Version: {plan.version} (PackageVersionId {plan.version_id})",
        f"- Planned by {_md(plan.created_by)} at {plan.created_at}",
        f"- Scheduled by {_md(wave.scheduled_by or '-')} at {wave.scheduled_at or '-'}",
        f"- Start: {wave.start_utc:%Y-%m-%d %H:%M} UTC ({local:%Y-%m-%d %H:%M %Z} "
        f"{plan.timezone})",
        "",
        "## Announcement",
        "",
        (f"- Announced at {wave.announced_at} to {wave.announcement_recipients} recipient(s)"
         if wave.announced_at else "- Not announced"),
    ]
    if wave.announcement_override:
        lines.append(f"- Announcement gate overridden: {_md(wave.announcement_override)}")
    lines += ["", f"## Orgs ({len(wave.orgs)})", "", "| Org ID | Name | Kind | Before | "
              "Result | Errors |", "|---|---|---|---|---|---|"]
    dropped = {str(d.get("org_id")): d for d in wave.dropped}
    for org in wave.orgs:
        job = info.job(org.org_id) if info else None
        if job is not None:
            result = job.status
            errors = "; ".join(f"{e.type}: {e.title}" for e in job.errors)
        elif org.org_id in dropped:
            result = f"dropped ({dropped[org.org_id].get('code')})"
            errors = str(dropped[org.org_id].get("message") or "")
        else:
            result, errors = "-", ""
        lines.append(f"| {org.org_id} | {_md(org.name)} | {org.kind} | "
                     f"{_md(org.installed or '?')} | {_md(result)} | {_md(errors)} |")
    lines += ["", f"## Left out of the plan ({len(plan.excluded)})", ""]
    lines += [f"- {e.org_id} {_md(e.name)}: {_md(e.reason)}" for e in plan.excluded] or \
        ["- none"]
    if plan.edits:
        lines += ["", f"## Plan edits ({len(plan.edits)})", ""]
        lines += [f"- {_md(e.get('at'))} {_md(e.get('by'))}: {_md(e.get('what'))}"
                  for e in plan.edits]
    lines += ["", "## Results", ""]
    if info is None:
        lines.append("- not read from the packaging org")
    else:
        lines.append(f"- Request status: {info.status}")
        counts = ", ".join(f"{n} {s}" for s, n in sorted(info.counts.items()))
        lines.append(f"- Jobs: {len(info.jobs)} ({counts or 'none'}), failure rate "
                     f"{failure_rate(info.counts):.0%}")
        for kind, errors in info.errors_by_type.items():
            lines.append(f"- {kind}: {len(errors)} error(s)")
    lines += ["", "## Audit (writes to the packaging org)", "",
              "| When (UTC) | Who | Action | OK | Summary |", "|---|---|---|---|---|"]
    for rec in audit:
        summary = rec.get("error") or ", ".join(
            f"{k}={v if not isinstance(v, list) else len(v)}"
            for k, v in (rec.get("summary") or {}).items())
        lines.append(f"| {rec.get('at')} | {_md(rec.get('user'))} | {rec.get('action')} | "
                     f"{'yes' if rec.get('ok') else 'no'} | {_md(summary)} |")
    return "\n".join(lines) + "\n"
