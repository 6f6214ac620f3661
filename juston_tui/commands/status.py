"""`juston-tui status [ORG ...] [--json] [--concurrency N] [--timeout S]`: check orgs now.

Exit codes are the contract scripts rely on: 0 every check ok, 1 any warn/fail/unknown,
2 an org could not be checked at all (or a usage error). Snapshots are saved as they arrive
(unless --read-only), so the TUI shows them as the last known state.
"""

from __future__ import annotations

import argparse
import threading
from collections.abc import Sequence
from typing import IO, TYPE_CHECKING, Any

from juston_tui.commands import Context, UserError
from juston_tui.credentials import CredentialsUnavailable, explain_unavailable
from juston_tui.model import ValidationError, checked_by_default, normalize_org_id
from juston_tui.salesforce.facts import Facts
from juston_tui.salesforce.settings import ProbeSettings
from juston_tui.text import clean

if TYPE_CHECKING:
    from juston_tui.model import Org, Snapshot
    from juston_tui.store import Store

VERDICT_STYLE = {"ok": "green", "warn": "yellow", "fail": "bold red", "unknown": "magenta"}
SHORT = {
    "organization": "org",
    "package.billing": "billing",
    "package.cash": "cash",
    "licenses": "licences",
    "connected_app.permitted_users": "app users",
    "connected_app.sysadmin": "app sysadmin",
    "permissions.balance": "balance",
    "permissions.task_type": "task type",
    "api_usage": "api",
}


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "status",
        help="check orgs now (exit 0 all ok, 1 any warn/fail, 2 could not check)",
        description="Probe each org (installed packages, licences, the JustOn Platform "
        "connected app, permissions, API usage) and print the verdicts. Without ORG, every "
        "registered org except the vendor's packaging org is checked.",
    )
    p.add_argument("orgs", nargs="*", metavar="ORG", help="org IDs (default: all registered)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("--concurrency", type=_positive_int, default=8, metavar="N",
                   help="orgs checked at the same time (default 8)")
    p.add_argument("--timeout", type=_positive_float, default=30.0, metavar="S",
                   help="time limit per org in seconds (default 30)")
    p.add_argument("--all-checks", action="store_true",
                   help="list every check, not only the ones that need attention")
    p.set_defaults(func=run, online=True)


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if not 1 <= value <= 64:
        raise argparse.ArgumentTypeError("choose between 1 and 64")
    return value


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not 0 < value <= 600:
        raise argparse.ArgumentTypeError("choose more than 0 and at most 600 seconds")
    return value


def select_orgs(store: Store, wanted: Sequence[str]) -> list[Org]:
    """The orgs named (validated, in the given order), or every non-vendor org by name."""
    if not wanted:
        orgs = checked_by_default(store.list_orgs())
        if not orgs:
            if store.list_orgs():
                raise UserError("only the vendor org is registered; name it to check it: "
                                "juston-tui status ORG")
            raise UserError("no orgs registered yet: add one with juston-tui org add ORG_ID "
                            "--name NAME (or import: juston-tui org import-sf FILE)")
        return sorted(orgs, key=lambda o: (o.name.lower(), o.org_id))
    out: list[Org] = []
    for raw in wanted:
        try:
            org_id = normalize_org_id(raw, "org")
        except ValidationError as exc:
            raise UserError(f"{raw}: {exc.errors['org']}") from None
        org = store.find_org(org_id)
        if org is None:
            raise UserError(f"org {org_id} is not registered (see juston-tui org list)")
        if org not in out:
            out.append(org)
    return out


def exit_code(snapshots: Sequence[Snapshot]) -> int:
    """2 if any org could not be checked, 1 if any check is not ok, else 0."""
    if any(s.error for s in snapshots):
        return 2
    if any(c.verdict != "ok" for s in snapshots for c in s.checks):
        return 1
    return 0


def snapshot_json(snapshot: Snapshot, org: Org | None) -> dict[str, Any]:
    """The `status --json` contract for one org (plus a few helpful extra keys)."""
    facts = snapshot.facts or {}
    packages = facts.get("packages") or {}
    return {
        "org_id": snapshot.org_id,
        "name": org.name if org else "",
        "checked_at": snapshot.checked_at,
        "error": snapshot.error,
        "verdict": snapshot.verdict,
        "checks": [
            {"id": c.id, "verdict": c.verdict, "reason": c.reason, "fix": c.fix}
            for c in snapshot.checks
        ],
        "versions": {p: (v or {}).get("version") for p, v in packages.items()},
        "current": {p: c.label for p, c in Facts.from_doc(facts).current.items()},
        "diagnoses": list(facts.get("diagnoses") or []),
        "round_trips": facts.get("round_trips"),
        "warnings": facts.get("warnings") or [],
    }


def render_table(ctx: Context, snapshots: Sequence[Snapshot], orgs: dict[str, Org],
                 *, all_checks: bool = False) -> None:
    # rich console/table: ~0.1 s to import, only when a command prints for a terminal
    from rich.text import Text

    rows = []
    for snap in snapshots:
        org = orgs.get(snap.org_id)
        verdict = snap.verdict if not snap.error else "error"
        status = Text(verdict, style="bold red" if snap.error else VERDICT_STYLE[snap.verdict])
        billing = ((snap.facts.get("packages") or {}).get("billing") or {}).get("version") or "-"
        notes: list[Text] = []
        if snap.error:
            notes.append(Text(clean(snap.error), style="bold red"))
        else:
            for check in snap.checks:
                if check.verdict == "ok" and not all_checks:
                    continue
                note = Text(f"{check.verdict} {SHORT.get(check.id, check.id)}: ",
                            style=VERDICT_STYLE[check.verdict])
                note.append(clean(check.reason))
                notes.append(note)
        rows.append((snap.org_id, clean(org.name if org else ""), status, clean(billing), notes))
    ctx.print_table(("Org", "Name", "Status", "Billing", "What needs attention"), rows)
    counts = {v: sum(1 for s in snapshots if s.verdict == v and not s.error)
              for v in ("ok", "warn", "fail", "unknown")}
    errors = sum(1 for s in snapshots if s.error)
    summary = ", ".join(f"{n} {v}" for v, n in counts.items() if n)
    if errors:
        summary = f"{summary}, {errors} not reachable" if summary else f"{errors} not reachable"
    # Off a terminal the summary goes to stderr: in the TSV it would be a malformed row.
    print(f"{len(snapshots)} org(s): {summary}", file=ctx.out if ctx.is_terminal else ctx.err)


def run(args: argparse.Namespace, ctx: Context) -> int:
    # the Salesforce client (requests): only when an org is contacted
    from juston_tui.salesforce.sweeper import sweep

    store = ctx.store()
    orgs = select_orgs(store, args.orgs)
    credentials = ctx.credentials()
    if not credentials.available:

        raise CredentialsUnavailable("no secure keyring in this session", explain_unavailable())
    settings = ProbeSettings.for_store(store)
    progress = _Progress(len(orgs), ctx.err, enabled=not args.json and ctx.err.isatty())
    cancel = threading.Event()
    try:
        snapshots = sweep(orgs, credentials, concurrency=args.concurrency,
                          timeout=args.timeout, settings=settings, on_result=progress.update,
                          cancel=cancel, store=None if ctx.read_only else store)
    finally:
        progress.close()
    by_id = {o.org_id: o for o in orgs}
    for warning in sorted({w for s in snapshots for w in (s.facts or {}).get("warnings", [])}):
        print(f"juston-tui: warning: {warning}", file=ctx.err)
    for snap in snapshots:  # what keeps the probe from reading an org, once per org
        for problem in (snap.facts or {}).get("diagnoses") or ():
            name = clean(by_id[snap.org_id].name if snap.org_id in by_id else "")
            print(f"juston-tui: {snap.org_id} {name}: {clean(problem.get('summary'))}. Fix: "
                  f"{clean(problem.get('fix'))}", file=ctx.err)
    for error in snapshots.save_errors:  # the checks ran, but the store could not keep them
        print(f"juston-tui: error: snapshots not saved: {error}", file=ctx.err)
    if args.json:
        ctx.print_json({"orgs": [snapshot_json(s, by_id.get(s.org_id)) for s in snapshots]})
    else:
        render_table(ctx, snapshots, by_id, all_checks=args.all_checks)
    code = exit_code(snapshots)
    return 2 if snapshots.save_errors else code


class _Progress:
    """`checked 3/10` on stderr while a sweep runs (only on a terminal)."""

    def __init__(self, total: int, stream: IO[str], *, enabled: bool) -> None:
        self.total = total
        self.stream = stream
        self.enabled = enabled and total > 1
        self._lock = threading.Lock()

    def update(self, snapshot: Snapshot, done: int, total: int) -> None:
        if not self.enabled:
            return
        with self._lock:
            self.stream.write(f"\rchecked {done}/{total} ")
            self.stream.flush()

    def close(self) -> None:
        if self.enabled:
            self.stream.write("\r" + " " * 24 + "\r")
            self.stream.flush()
