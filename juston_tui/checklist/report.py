"""One org's checklist as a report: JSON-ready data (`checklist --json`) and Markdown to attach
to a support ticket (steps, states, evidence, notes, who and when).

Everything stored came from a person or an org: Markdown gets it as one clean line with
Markdown's special characters escaped (`md`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from juston_tui.checklist.state import StepState, current_user, progress, step_status, timestamp
from juston_tui.checklist.steps import Checklist
from juston_tui.model import Org
from juston_tui.text import clean


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
        "generated_at": generated_at or timestamp(),
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
    when = generated_at or timestamp()
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
