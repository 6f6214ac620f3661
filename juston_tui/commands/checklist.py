"""`juston-tui checklist ORG [--json|--markdown] [--verify]`: one org's install checklist.

Markdown is meant to be attached to a support ticket (steps, states, evidence, notes, who and
when). `--verify` asks the org first and saves the results unless --read-only. Exit code with
`--verify`: 0 nothing failing, 1 a step failed verification, 2 the org could not be checked.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import TYPE_CHECKING

from rich.text import Text

from juston_tui.commands import Context, UserError
from juston_tui.model import Org, ValidationError, normalize_org_id
from juston_tui.text import clean

if TYPE_CHECKING:
    from juston_tui.checklist import Checklist, StepState
    from juston_tui.store import Store

SYMBOLS = {"verified": "✔", "done": "✓", "skipped": "-", "failing": "✗", "open": "·"}
STYLES = {"verified": "green", "done": "green", "skipped": "dim", "failing": "bold red",
          "open": ""}


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "checklist",
        help="the installation checklist of one org (from the JustOn installation guide)",
        description="Show one org's JustOn installation checklist: every step, its state, who "
        "confirmed it and when, and what the org said when it was verified.",
    )
    p.add_argument("org", metavar="ORG", help="org ID (15 or 18 characters) or exact org name")
    fmt = p.add_mutually_exclusive_group()
    fmt.add_argument("--json", action="store_true", help="machine-readable output")
    fmt.add_argument("--markdown", action="store_true",
                     help="a Markdown report to attach to a support ticket")
    p.add_argument("--verify", action="store_true",
                   help="verify the API-checked steps against the org first "
                   "(results are saved unless --read-only)")
    p.set_defaults(func=run)


def resolve_org(store: Store, raw: str) -> Org:
    """An org by ID, or by its exact (case-insensitive) name when that is unique."""
    try:
        org_id = normalize_org_id(raw, "org")
    except ValidationError:
        org_id = None
    if org_id is not None:
        org = store.find_org(org_id)
        if org is None:
            raise UserError(f"no org {org_id} in the store (see juston-tui org list)")
        return org
    wanted = " ".join(raw.split()).casefold()
    matches = [o for o in store.list_orgs() if o.name.casefold() == wanted]
    if len(matches) == 1:
        return matches[0]
    if matches:
        ids = ", ".join(o.org_id for o in matches)
        raise UserError(f"several orgs are named {clean(raw)!r} ({ids}): give the org ID")
    raise UserError(f"no org with the ID or name {clean(raw, limit=80)!r} in the store "
                    "(see juston-tui org list)")


def _progress_printer(ctx: Context) -> Callable[[int, int, str], None]:
    def show(done: int, total: int, what: str) -> None:
        if what != "done":
            print(f"verifying {done + 1}/{total}: {what} …", file=ctx.err, flush=True)

    return show


def run(args: argparse.Namespace, ctx: Context) -> int:
    # The checklist core (its TOML, the check rules): every CLI call imports this module to
    # register the command, only this command needs the core.
    from juston_tui.checklist import (
        load_checklist,
        load_states,
        report_dict,
        report_markdown,
        verify_and_record,
    )

    store = ctx.store()
    org = resolve_org(store, args.org)
    checklist = load_checklist()
    states = load_states(store, org.org_id, checklist)
    code = 0
    if args.verify:
        verified = verify_and_record(store, org, ctx.credentials(), checklist,
                                     save=not ctx.read_only, on_progress=_progress_printer(ctx))
        states, outcome = verified.states, verified.outcome
        if not verified.saved:
            print("juston-tui: note: --read-only, verification results were not saved",
                  file=ctx.err)
        if outcome.snapshot is not None and outcome.snapshot.error:
            print(f"juston-tui: the org could not be checked: {clean(outcome.snapshot.error)}",
                  file=ctx.err)
            code = 2
        elif outcome.failing:
            code = 1
    if args.json:
        ctx.print_json(report_dict(org, checklist, states))
    elif args.markdown:
        ctx.out.write(report_markdown(org, checklist, states))
    else:
        _print_listing(ctx, org, checklist, states)
    return code


def _bar(done: int, total: int, width: int = 12) -> str:
    filled = round(width * done / total) if total else 0
    return "█" * filled + "░" * (width - filled)


def _print_listing(ctx: Context, org: Org, checklist: Checklist,
                   states: dict[str, StepState]) -> None:
    from rich.table import Table  # rich.table: only for the terminal listing

    # the checklist core (its data file): only when the command runs
    from juston_tui.checklist import progress, step_status

    console = ctx.console()
    prog = progress(checklist, states)
    title = Text("JustOn installation checklist: ", style="bold")
    title.append(clean(org.name))
    title.append(f" ({org.org_id})", style="dim")
    console.print(title)
    console.print(f"{_bar(prog.complete, prog.total, 20)} {prog.complete}/{prog.total} complete"
                  + "".join(f", {n} {s}" for s, n in prog.counts.items() if n and s != "open"),
                  markup=False)
    for group in checklist.groups:
        done, total = prog.groups[group.id]
        console.print()
        heading = Text(f"{group.title}  ", style="bold")
        heading.append(f"{_bar(done, total)} {done}/{total}")
        console.print(heading)
        table = Table(box=None, show_header=False, pad_edge=False, expand=False)
        table.add_column(width=1)
        table.add_column(ratio=3)
        table.add_column(ratio=4, style="dim")
        for step in checklist.steps_in(group.id):
            st = states.get(step.id)
            status = step_status(st)
            detail = ""
            if st is not None and st.verification is not None:
                detail = f"{st.verification.verdict}: {st.verification.reason}"
            elif st is not None and st.state != "open":
                detail = f"{st.state} by {st.by} at {st.at}"
            elif step.api_checked:
                detail = "not verified yet (--verify)"
            if st is not None and st.skip_reason:
                detail = f"skipped: {st.skip_reason}"
            table.add_row(Text(SYMBOLS[status], style=STYLES[status]), Text(step.title),
                          Text(clean(detail)))
        console.print(table)
