"""Registering orgs for JustOn's push upgrades (seed 000): the request, and its states.

"If your org has recently been upgraded to a current JustOn Billing & Invoice Management
release, you can register your org, indicating the org ID, for push upgrades. To do so, submit
a JustOn Upgrade request in the JustOn Support Portal." Only production orgs are pushed; a
sandbox only when a support ticket asked for it.

The use cases of the registry's `p` screen and of `juston-tui org push-request` / `org push`:
`load_request` (who is in, with what to know about each), `draft_request` (the text for the
Support Portal), `record_state` (requested with date and ticket, registered, withdrawn). An org's
release is the `package.billing` check's verdict and reason: never judged again here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from juston_tui.model import Contact, Org, Snapshot, ValidationError
from juston_tui.salesforce.facts import Facts
from juston_tui.store import NotFoundError, Store
from juston_tui.text import clean

__all__ = ["SANDBOX_RULE", "Candidate", "StateResult", "assess", "draft_request",
           "load_request", "record_state"]

SANDBOX_RULE = ("Push upgrades reach production orgs only. A sandbox is included only when a "
                "sandbox push was requested by support ticket (set the org's sandbox push "
                "ticket).")


@dataclass(frozen=True)
class Candidate:
    """One org of a request: whether it is in, the versions it runs, what to know about it."""

    org: Org
    included: bool
    notes: tuple[str, ...]
    billing: str = ""  # installed versions from the last check ("" = unknown)
    cash: str = ""
    release_verdict: str = ""  # the package.billing verdict ("" = never checked)

    def with_org(self, org: Org) -> Candidate:
        return Candidate(org, self.included, self.notes, self.billing, self.cash,
                         self.release_verdict)


def assess(org: Org, snapshot: Snapshot | None) -> Candidate:
    """Is the org part of the request, and what should the person know about it?"""
    notes: list[str] = []
    included = org.push_reachable
    if org.kind == "sandbox":
        notes.append(f"sandbox: included, push requested by ticket "
                     f"{clean(org.sandbox_push_ticket, limit=40)}" if included else
                     "sandbox: not included (no sandbox push requested by ticket)")
    facts = Facts.from_doc(snapshot.facts) if snapshot is not None else None
    check = snapshot.check("package.billing") if snapshot is not None else None
    verdict = (check.verdict if check else "unknown") if snapshot is not None else ""
    reason = clean(check.reason, limit=300) if check else \
        "no package.billing check in the last snapshot"
    if snapshot is None:
        notes.append("never checked: cannot confirm it runs a current release (press r first)")
    elif verdict == "fail":
        notes.append(f"not installed: {reason}")
    elif verdict == "warn":
        notes.append(f"not on a current release: {reason}; upgrade before registering "
                     "(the push-upgrade FAQ)")
    elif verdict != "ok":
        notes.append(f"current release unknown: {reason}")
    if org.push.state == "registered":
        notes.append("already registered")
    return Candidate(org, included, tuple(notes),
                     clean(facts.version("billing"), limit=20) if facts else "",
                     clean(facts.version("cash"), limit=20) if facts else "", verdict)


def load_request(store: Store, org_ids: list[str]) -> tuple[list[Candidate], list[Contact]]:
    """The candidates among `org_ids` (unknown ones skipped) and the eligible contacts linked
    to the included ones. Reads the store: call from a worker in the TUI."""
    candidates = []
    for org_id in org_ids:
        org = store.find_org(org_id)
        if org is not None:
            candidates.append(assess(org, store.latest_snapshot(org_id)))
    included = {c.org.org_id for c in candidates if c.included}
    contacts = sorted((p for p in store.list_contacts()
                       if p.eligible and included.intersection(p.org_ids)),
                      key=lambda p: (p.full_name.lower(), p.email))
    return candidates, contacts


def draft_request(candidates: list[Candidate], contacts: list[Contact]) -> str:
    """The plain-text request for the JustOn Support Portal (all values cleaned)."""
    included = [c for c in candidates if c.included]
    lines = [
        "Subject: JustOn Upgrade request",
        "",
        "Dear JustOn Support,",
        "",
        "please register the following org(s) for automatic push upgrades of",
        "JustOn Billing & Invoice Management:",
        "",
    ]
    for cand in included:
        org = cand.org
        lines.append(f"- Org name: {clean(org.name, limit=200)}")
        lines.append(f"  Org ID: {org.id15} ({org.org_id})")
        kind = org.kind
        if org.kind == "sandbox":
            kind += (f", sandbox push requested by ticket "
                     f"{clean(org.sandbox_push_ticket, limit=40)}")
            if org.parent_org_id:
                kind += f", production org {org.parent_org_id[:15]}"
        lines.append(f"  Type: {kind}")
        lines.append("  Current version: JustOn Billing & Invoice Management "
                     f"{cand.billing or 'unknown'}")
        if cand.cash:
            lines.append(f"  JustOn Cash Management {cand.cash}")
    if not included:
        lines.append("- (no org qualifies: sandboxes need a sandbox push ticket)")
    lines += ["", "Contacts to notify about push upgrades (full name, e-mail address, title):"]
    if contacts:
        for person in contacts:
            lines.append(f"- {clean(person.full_name, limit=200)}, "
                         f"{clean(person.email, limit=254)}, {clean(person.title, limit=200)}")
    else:
        lines.append("- (no eligible contacts linked to these orgs yet)")
    lines += ["", "Kind regards", ""]
    return "\n".join(lines)


@dataclass(frozen=True)
class StateResult:
    """What `record_state` did: the orgs changed, every org as stored now, what was refused."""

    saved: list[Org]
    seen: list[Org]
    problems: list[str]


def record_state(store: Store, org_ids: list[str], state: str, day: date,
                 ticket: str | None = None) -> StateResult:
    """Move each org to `state` (requested needs a ticket) in one transaction.

    Each transition starts from the org as stored now, not from a copy a screen loaded earlier
    (another instance may have moved it since); a transition the state machine refuses is a
    problem of that org, never an exception for all.
    """
    saved: list[Org] = []
    seen: list[Org] = []
    problems: list[str] = []
    with store.transaction():
        for org_id in org_ids:
            try:
                org = store.get_org(org_id)
            except NotFoundError:
                problems.append(f"{org_id}: no longer registered")
                continue
            try:
                push = org.push.transition(state, on=day, ticket=ticket)
            except ValidationError as exc:
                problems.append(f"{clean(org.name, limit=40)}: "
                                f"{next(iter(exc.errors.values()))}")
                seen.append(org)
                continue
            saved.append(store.update_org(org_id, push=push))
            seen.append(saved[-1])
    return StateResult(saved, seen, problems)
