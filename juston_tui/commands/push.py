"""`juston-tui push ...`: run a push upgrade of a JustOn package from the packaging org.

    push plan [--version V] [--at TIME] [--pilot-share 0.2] [--exclude ORG --reason R] [--json]
    push schedule PLAN [--wave N] [--yes] [--override-announcement REASON]
    push announce PLAN [--wave N] --out DIR [--force]
    push status [PLAN|REQUEST] [--json]
    push abort REQUEST

Every write to the packaging org is deliberate: `schedule` without --yes only shows what it
would send; with it, it is refused in --read-only mode and without a recorded announcement
seven days ahead, and each write is kept in the store's audit (push_audit).
"""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from juston_tui.commands import Context, UserError
from juston_tui.model import ValidationError, normalize_org_id
from juston_tui.push_ops.plans import Plan, get_plan, save_plan
from juston_tui.schedule import PRODUCTS, settings_from_store, zone_named
from juston_tui.text import clean

if TYPE_CHECKING:
    from juston_tui.store import Store


def register(sub: argparse._SubParsersAction) -> None:
    push = sub.add_parser("push", help="plan, announce, schedule and watch push upgrades")
    push_sub = push.add_subparsers(dest="push_command", metavar="ACTION", required=True)

    plan = push_sub.add_parser("plan", help="plan a push: version, start, orgs, waves")
    plan.add_argument("--product", choices=PRODUCTS, default="billing")
    plan.add_argument("--version", help="package version to push (default: latest released)")
    plan.add_argument("--at", metavar="TIME", help="start of the first wave, ISO date and time "
                      "(without a zone: the calendar's); default: the calendar's projected slot")
    plan.add_argument("--pilot-share", type=_share, default=0.2, metavar="SHARE",
                      help="share of production orgs in the pilot wave (default 0.2)")
    plan.add_argument("--exclude", action="append", default=[], metavar="ORG",
                      help="leave this org out (repeatable)")
    plan.add_argument("--reason", action="append", default=[],
                      help="why (one per --exclude, or one for all)")
    plan.add_argument("--json", action="store_true", help="the whole plan as JSON")
    plan.add_argument("--timeout", type=float, default=60.0)
    plan.set_defaults(func=run_plan, online=True)


def _share(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a share (e.g. 0.2)") from None
    if not 0.0 <= value < 1.0:
        raise argparse.ArgumentTypeError("the share is at least 0 and less than 1")
    return value


def _utc(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def _local(when: datetime, zone: str) -> str:
    return when.astimezone(zone_named(zone)).strftime("%Y-%m-%d %H:%M %Z")


def _parse_at(text: str, store: Store) -> datetime:
    try:
        when = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise UserError(f"--at {text[:40]!r} is not a date and time (e.g. 2027-01-09T01:00)"
                        ) from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=zone_named(settings_from_store(store).timezone))
    return when.astimezone(UTC)


def _exclusions(args: argparse.Namespace) -> dict[str, str]:
    if args.reason and len(args.reason) not in (1, len(args.exclude)):
        raise UserError("give one --reason per --exclude, or one for all")
    if args.exclude and not args.reason:
        raise UserError("--exclude needs a --reason (it is kept in the plan)")
    out: dict[str, str] = {}
    for n, raw in enumerate(args.exclude):
        try:
            org_id = normalize_org_id(raw)
        except ValidationError:
            raise UserError(f"--exclude {raw[:30]!r} is not an org ID") from None
        out[org_id] = " ".join((args.reason[n] if len(args.reason) > 1
                                else args.reason[0]).split())[:300]
    return out


def _load_plan(store: Store, plan_id: str) -> Plan:
    plan = get_plan(store, plan_id)
    if plan is None:
        raise UserError(f"no push plan {plan_id} (see `juston-tui push status`)")
    return plan


# -- plan --------------------------------------------------------------------------------------
def run_plan(args: argparse.Namespace, ctx: Context) -> int:
    # Start-up seam: the planning code reads the packaging org (requests, simple-salesforce),
    # which no other command pays for at start-up.
    from juston_tui.push_ops.packaging import read_packaging
    from juston_tui.push_ops.planning import make_plan
    from juston_tui.push_ops.session import NoVendorOrg, packaging_connection
    from juston_tui.salesforce.errors import AccessError
    from juston_tui.salesforce.settings import ProbeSettings

    store = ctx.store(write=True)
    exclude = _exclusions(args)
    at = _parse_at(args.at, store) if args.at else None
    namespace = ProbeSettings.for_store(store).namespace(args.product)
    try:
        with packaging_connection(store, ctx.credentials(), timeout=args.timeout) as (org, conn):
            packaging = read_packaging(conn, namespace)
    except NoVendorOrg as exc:
        raise UserError(str(exc)) from None
    except AccessError as exc:
        raise UserError(f"packaging org: {exc}") from None
    draft = make_plan(store, packaging, product=args.product, packaging_org=org.org_id,
                      version=args.version, at=at, pilot_share=args.pilot_share,
                      exclude=exclude)
    plan = save_plan(store, draft.plan)
    for note in draft.notes:
        print(f"juston-tui: note: {note}", file=ctx.err)
    if args.json:
        ctx.print_json(plan.to_doc())
        return 0
    print_plan(plan, ctx)
    return 0


def print_plan(plan: Plan, ctx: Context) -> None:
    out = ctx.out
    print(f"plan {plan.id}: {plan.namespace} {plan.version} ({plan.version_id}), "
          f"{plan.org_count} org(s) in {len(plan.waves)} wave(s), {len(plan.excluded)} left "
          "out", file=out)
    for wave in plan.waves:
        flagged = [o for o in wave.orgs if o.failing_checks]
        print(f"wave {wave.number} ({wave.name}): {len(wave.orgs)} org(s), "
              f"{_local(wave.start_utc, plan.timezone)} ({_utc(wave.start_utc)}), "
              f"{wave.state}" + (f", request {wave.request_id}" if wave.request_id else ""),
              file=out)
        for org in flagged:
            print(f"  check first: {org.org_id} {clean(org.name, limit=60)}: failing "
                  f"{', '.join(org.failing_checks)}", file=out)
        never = sum(1 for o in wave.orgs if o.checked_at is None)
        if never:
            print(f"  {never} org(s) never checked", file=out)
    reasons: dict[str, int] = {}
    for ex in plan.excluded:
        reasons[ex.reason] = reasons.get(ex.reason, 0) + 1
    for reason, count in sorted(reasons.items(), key=lambda kv: (-kv[1], kv[0])):
        print(f"left out: {count} x {clean(reason, limit=120)}", file=out)

