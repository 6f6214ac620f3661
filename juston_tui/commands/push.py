"""`juston-tui push ...`: run a push upgrade of a JustOn package from the packaging org.

    push plan [--version V] [--at TIME] [--pilot-share 0.2] [--exclude ORG --reason R] [--json]
    push wave PLAN (--move ORG --to N | --exclude ORG --reason R | --include ORG [--to N])
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
from pathlib import Path
from typing import TYPE_CHECKING

from juston_tui.commands import Context, UserError
from juston_tui.model import ValidationError, normalize_org_id
from juston_tui.push_ops.plans import Plan, get_plan
from juston_tui.schedule import PRODUCTS, settings_from_store, zone_named
from juston_tui.text import clean

if TYPE_CHECKING:
    from juston_tui.salesforce.push_api import BatchProgress
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
    plan.add_argument("--only-failed", metavar="REQUEST",
                      help="re-push: only the orgs whose job failed in this push request")
    plan.add_argument("--json", action="store_true", help="the whole plan as JSON")
    plan.add_argument("--timeout", type=float, default=60.0)
    plan.set_defaults(func=run_plan, online=True)

    wave = push_sub.add_parser("wave", help="edit the waves of a plan org by org (waves not "
                               "yet scheduled only)")
    wave.add_argument("plan_id", metavar="PLAN")
    what = wave.add_mutually_exclusive_group(required=True)
    what.add_argument("--move", metavar="ORG", help="move this org to wave --to N")
    what.add_argument("--exclude", metavar="ORG", help="leave this org out (needs --reason)")
    what.add_argument("--include", metavar="ORG", help="put an org you left out back (into "
                      "wave --to N; default: the last wave)")
    wave.add_argument("--to", type=int, metavar="N", help="the wave number")
    wave.add_argument("--reason", help="why the org is left out (kept in the plan)")
    wave.add_argument("--json", action="store_true", help="the whole plan as JSON")
    wave.set_defaults(func=run_wave)

    sched = push_sub.add_parser("schedule", help="schedule a wave of a plan (dry run without "
                                "--yes)")
    sched.add_argument("plan_id", metavar="PLAN")
    sched.add_argument("--wave", type=int, metavar="N", help="default: the next unscheduled")
    sched.add_argument("--yes", action="store_true",
                       help="really create the push request in the packaging org")
    sched.add_argument("--override-announcement", metavar="REASON",
                       help="schedule although the announcement was not recorded 7 days "
                       "ahead (the reason is kept)")
    sched.add_argument("--max-failure-rate", type=_share, default=0.1, metavar="RATE",
                       help="the wave before must have failed in fewer orgs (default 0.1)")
    sched.add_argument("--timeout", type=float, default=60.0)
    sched.set_defaults(func=run_schedule, online=True)

    ann = push_sub.add_parser("announce", help="write a wave's announcement e-mails (.eml) "
                              "and record the announcement")
    ann.add_argument("plan_id", metavar="PLAN")
    ann.add_argument("--wave", type=int, metavar="N", help="default: the next unscheduled")
    ann.add_argument("--out", required=True, metavar="DIR", help="folder for the .eml files")
    ann.add_argument("--force", action="store_true", help="replace existing files")
    ann.add_argument("--sender", metavar="ADDRESS", help="From (default: the setting "
                     "push_mail_sender)")
    ann.add_argument("--send", action="store_true", help="also send them over SMTP with "
                     "STARTTLS (settings smtp_host, smtp_port, smtp_user; password in the "
                     "keyring as smtp:USER@HOST)")
    ann.set_defaults(func=run_announce)

    status = push_sub.add_parser("status", help="how the pushes are doing (packaging org)")
    status.add_argument("target", nargs="?", metavar="PLAN|REQUEST",
                        help="one plan or request (default: every plan's requests)")
    status.add_argument("--json", action="store_true")
    status.add_argument("--timeout", type=float, default=60.0)
    status.set_defaults(func=run_status, online=True)

    abort = push_sub.add_parser("abort", help="cancel a Created or Pending push request")
    abort.add_argument("request_id", metavar="REQUEST")
    abort.add_argument("--timeout", type=float, default=60.0)
    abort.set_defaults(func=run_abort, online=True)

    hist = push_sub.add_parser("history", help="every push an org was in and how it ended")
    hist.add_argument("org_id", nargs="?", metavar="ORG")
    hist.add_argument("--json", action="store_true")
    hist.add_argument("--timeout", type=float, default=60.0)
    hist.set_defaults(func=run_history, online=True)

    report = push_sub.add_parser("report", help="the change record of a push request")
    report.add_argument("request_id", metavar="REQUEST")
    report.add_argument("--markdown", action="store_true", required=True,
                        help="Markdown (the format of the change record)")
    report.add_argument("--timeout", type=float, default=60.0)
    report.set_defaults(func=run_report, online=True)


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
    from juston_tui.push_ops.planning import PlanError, plan_push

    store = ctx.store(write=True)
    exclude = _exclusions(args)
    at = _parse_at(args.at, store) if args.at else None
    try:
        plan, notes = plan_push(store, ctx.credentials(), product=args.product,
                                version=args.version, at=at, pilot_share=args.pilot_share,
                                exclude=exclude, only_failed=args.only_failed,
                                timeout=args.timeout)
    except PlanError as exc:
        raise UserError(str(exc)) from None
    for note in notes:
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



# -- wave edits --------------------------------------------------------------------------------
def run_wave(args: argparse.Namespace, ctx: Context) -> int:
    from juston_tui.push_ops.waves import (  # the store only: no packaging org is contacted
        EditError,
        exclude_org,
        include_org,
        move_org,
    )

    raw = args.move or args.exclude or args.include
    try:
        org_id = normalize_org_id(raw)
    except ValidationError:
        raise UserError(f"{raw[:30]!r} is not an org ID") from None
    if args.move and args.to is None:
        raise UserError("--move needs --to N (the wave to move the org to)")
    if args.exclude and not (args.reason or "").strip():
        raise UserError("--exclude needs a --reason (it is kept in the plan)")
    if args.reason and not args.exclude:
        raise UserError("--reason goes with --exclude")
    if args.exclude and args.to is not None:
        raise UserError("--to goes with --move or --include")
    store = ctx.store(write=True)
    _load_plan(store, args.plan_id)
    try:
        if args.move:
            result = move_org(store, args.plan_id, org_id, args.to)
        elif args.exclude:
            result = exclude_org(store, args.plan_id, org_id, args.reason)
        else:
            result = include_org(store, args.plan_id, org_id, args.to)
    except EditError as exc:
        raise UserError(str(exc)) from None
    print(f"juston-tui: {result.message}", file=ctx.err)
    for note in result.notes:
        print(f"juston-tui: note: {note}", file=ctx.err)
    if args.json:
        ctx.print_json(result.plan.to_doc())
    else:
        print_plan(result.plan, ctx)
    return 0


# -- schedule ----------------------------------------------------------------------------------
def run_schedule(args: argparse.Namespace, ctx: Context) -> int:
    # Start-up seam: scheduling talks to the packaging org (requests, simple-salesforce).
    from juston_tui.push_ops.scheduling import (
        ScheduleError,
        dry_run,
        next_wave,
        schedule_wave,
    )

    # the Salesforce client (requests): only when an org is contacted
    from juston_tui.push_ops.session import NoVendorOrg, packaging_connection
    from juston_tui.salesforce.errors import AccessError

    if args.yes and ctx.read_only:
        raise UserError("push schedule --yes writes to the packaging org, but --read-only "
                        "was given")
    store = ctx.store(write=args.yes)
    plan = _load_plan(store, args.plan_id)
    try:
        wave = plan.wave(args.wave) if args.wave is not None else next_wave(plan)
    except ScheduleError as exc:
        raise UserError(str(exc)) from None
    if not args.yes:
        shown = dry_run(plan, wave, args.max_failure_rate)
        print(f"dry run: nothing is sent (add --yes to schedule wave {wave.number} of "
              f"{plan.id})", file=ctx.out)
        for line in shown.lines:
            print(line, file=ctx.out)
        for note in shown.notes:
            print(f"juston-tui: note: {note}", file=ctx.err)
        return 0

    def progress(p: BatchProgress) -> None:
        print(f"batch {p.batch}/{p.batches}: {p.created} job(s), {p.dropped} dropped",
              file=ctx.err)

    try:
        with packaging_connection(store, ctx.credentials(), timeout=args.timeout) as (_o, conn):
            result = schedule_wave(store, conn, plan.id, wave.number,
                                   override=args.override_announcement,
                                   max_failure_rate=args.max_failure_rate, on_batch=progress)
    except NoVendorOrg as exc:
        raise UserError(str(exc)) from None
    except (ScheduleError, AccessError) as exc:
        raise UserError(str(exc)) from None
    if result.previous:
        print(result.previous, file=ctx.out)
    for d in result.dropped:
        print(f"dropped {d['org_id']}: {d['code']}: {clean(d['message'], limit=200)}",
              file=ctx.out)
    print(f"wave {wave.number} of {plan.id} scheduled: request {result.request_id}, "
          f"{result.jobs} job(s), {len(result.dropped)} dropped, Pending, starts "
          f"{_utc(wave.start_utc)}", file=ctx.out)
    if result.override:
        print(f"juston-tui: note: announcement gate overridden: {result.override}",
              file=ctx.err)
    return 0


# -- announce ----------------------------------------------------------------------------------
def run_announce(args: argparse.Namespace, ctx: Context) -> int:
    # push_ops' Salesforce side (requests): only when a push command talks to the packaging org
    from juston_tui.push_ops.announce import (
        AnnounceError,
        AnnouncementsExist,
        gate_note,
        record_announcement,
        write_announcements,
    )
    from juston_tui.push_ops.scheduling import ScheduleError, next_wave  # (the same seam)

    store = ctx.store(write=True)
    plan = _load_plan(store, args.plan_id)
    try:
        wave = plan.wave(args.wave) if args.wave is not None else next_wave(plan)
    except ScheduleError as exc:
        raise UserError(str(exc)) from None
    now = datetime.now(UTC)
    folder = Path(args.out).expanduser()
    try:
        messages = write_announcements(store, plan, wave, folder, replace=args.force,
                                       sender=args.sender, now=now)
    except AnnounceError as exc:
        raise UserError(str(exc)) from None
    except AnnouncementsExist as exc:
        many = len(exc.paths)
        raise UserError(f"{exc.paths[0]} exists; add --force to replace "
                        f"{'it' if many == 1 else f'the {many} files'}") from None
    recipients = sum(len(m.contacts) for m in messages)
    if args.send:
        # smtplib and the keyring: only when announcements are sent
        from juston_tui.push_ops.mail import (
            MailError,
            SmtpSettings,
            send_messages,
            smtp_password,
        )

        try:
            smtp = SmtpSettings.from_store(store)
            sent = send_messages([m.message for m in messages], smtp,
                                 smtp_password(smtp, ctx.credentials()))
        except MailError as exc:
            raise UserError(f"{exc}; the .eml files are in {folder}, the announcement is "
                            "not recorded") from None
        print(f"sent {sent} message(s) via {smtp.host}:{smtp.port}", file=ctx.out)
    record_announcement(store, plan.id, wave.number, now, recipients)
    gate = gate_note(wave, now)
    print(f"wrote {len(messages)} message(s) to {recipients} recipient(s) in {folder}; wave "
          f"{wave.number} of {plan.id} announced {_utc(now)}, starts {_utc(wave.start_utc)} "
          f"({gate})", file=ctx.out)
    return 0


# -- status and abort --------------------------------------------------------------------------
def run_status(args: argparse.Namespace, ctx: Context) -> int:
    # Start-up seam: reading the packaging org (requests, simple-salesforce).
    from juston_tui.push_ops.plans import list_plans
    from juston_tui.push_ops.session import NoVendorOrg, packaging_connection
    from juston_tui.push_ops.watch import watch
    from juston_tui.salesforce.errors import AccessError

    store = ctx.store()
    plans = list_plans(store)
    if args.target and args.target.startswith("plan-"):
        _load_plan(store, args.target)
        plans = [p for p in plans if p.id == args.target]
    if not plans and not args.target:
        if args.json:
            ctx.print_json({"plans": [], "requests": []})
        else:
            print("no push plans yet (juston-tui push plan)", file=ctx.out)
        return 0
    try:
        with packaging_connection(store, ctx.credentials(), timeout=args.timeout) as (_o, conn):
            found = watch(store, conn, args.target)
    except NoVendorOrg as exc:
        raise UserError(str(exc)) from None
    except KeyError as exc:
        raise UserError(str(exc.args[0])) from None
    except AccessError as exc:
        raise UserError(f"packaging org: {exc}") from None
    by_request = {r.info.request_id[:15]: r for r in found}
    if args.json:
        ctx.print_json({
            "plans": [{"id": p.id, "version": p.version, "state": p.state, "waves": [{
                "number": w.number, "name": w.name, "state": w.state,
                "start_utc": w.start_utc.strftime("%Y-%m-%dT%H:%M:%SZ"), "orgs": len(w.orgs),
                "request_id": w.request_id, "announced_at": w.announced_at,
                "counts": (by_request[w.request_id[:15]].info.counts
                           if w.request_id and w.request_id[:15] in by_request else {}),
            } for w in p.waves]} for p in plans if not args.target or
                args.target.startswith("plan-")],
            "requests": [r.to_doc() for r in found],
        })
        return 0
    if not args.target or args.target.startswith("plan-"):
        for plan in plans:
            print(f"plan {plan.id}: {plan.namespace} {plan.version}, {plan.state}",
                  file=ctx.out)
            for wave in plan.waves:
                status = by_request.get((wave.request_id or "")[:15])
                counts = _counts(status.info.counts) if status else ""
                print(f"  wave {wave.number} ({wave.name}): {wave.state}, {len(wave.orgs)} "
                      f"org(s), {_utc(wave.start_utc)}"
                      + (f", request {wave.request_id} {status.info.status}"
                         if status else "") + (f": {counts}" if counts else ""), file=ctx.out)
    for status in found:
        info = status.info
        where = f" (plan {status.plan_id} wave {status.wave})" if status.plan_id else ""
        print(f"request {info.request_id}{where}: {info.status}, {len(info.jobs)} job(s)"
              + (f": {_counts(info.counts)}" if info.jobs else "")
              + (f", failure rate {status.failure_rate:.0%}" if info.ended and info.jobs
                 else ""), file=ctx.out)
        for kind, errors in info.errors_by_type.items():
            orgs = sorted({e.org_id or "?" for e in errors})
            titles = sorted({clean(e.title, limit=80) for e in errors})
            print(f"  {kind}: {len(errors)} error(s) in {len(orgs)} org(s) "
                  f"({'; '.join(titles)}): {' '.join(orgs[:10])}"
                  + (" ..." if len(orgs) > 10 else ""), file=ctx.out)
        for flag in status.flags:
            print(f"  ! {flag}", file=ctx.out)
    return 0


def _counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{n} {status}" for status, n in sorted(counts.items()))


def run_abort(args: argparse.Namespace, ctx: Context) -> int:
    # Start-up seam: the abort talks to the packaging org (requests, simple-salesforce).
    from juston_tui.push_ops.session import NoVendorOrg, packaging_connection
    from juston_tui.push_ops.watch import AbortError, abort
    from juston_tui.salesforce.errors import AccessError

    if ctx.read_only:
        raise UserError("push abort writes to the packaging org, but --read-only was given")
    store = ctx.store(write=True)
    try:
        with packaging_connection(store, ctx.credentials(), timeout=args.timeout) as (_o, conn):
            message = abort(store, conn, args.request_id)
    except NoVendorOrg as exc:
        raise UserError(str(exc)) from None
    except (AbortError, AccessError) as exc:
        raise UserError(str(exc)) from None
    print(message, file=ctx.out)
    return 0


# -- history and report ------------------------------------------------------------------------
def run_history(args: argparse.Namespace, ctx: Context) -> int:
    # push_ops' Salesforce side (requests): only when a push command talks to the packaging org
    from juston_tui.push_ops.history import failed_last_two, push_history
    from juston_tui.push_ops.session import NoVendorOrg  # (the same seam)
    from juston_tui.salesforce.errors import AccessError

    store = ctx.store()
    wanted = None
    if args.org_id:
        try:
            wanted = normalize_org_id(args.org_id)
        except ValidationError:
            raise UserError(f"{args.org_id[:30]!r} is not an org ID") from None
    try:
        history = push_history(store, ctx.credentials, wanted, timeout=args.timeout)
    except NoVendorOrg as exc:
        raise UserError(str(exc)) from None
    except AccessError as exc:
        raise UserError(f"packaging org: {exc}") from None
    if args.json:
        ctx.print_json({org_id: {"failed_last_two": failed_last_two(entries), "pushes": [{
            "plan_id": e.plan_id, "wave": e.wave, "version": e.version,
            "start_utc": e.start_utc.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "request_id": e.request_id, "outcome": e.outcome,
            "error_types": list(e.error_types)} for e in entries]}
            for org_id, entries in sorted(history.items())})
        return 0
    if wanted:
        entries = history[wanted]
        if not entries:
            print(f"{wanted} was in no push plan", file=ctx.out)
        ctx.print_table(("Start (UTC)", "Version", "Plan", "Wave", "Request", "Outcome",
                         "Errors"), [
            (f"{e.start_utc:%Y-%m-%d %H:%M}", e.version, e.plan_id, str(e.wave),
             e.request_id or "-", e.outcome, ", ".join(e.error_types)) for e in entries])
        if failed_last_two(entries):
            print(f"! {wanted} failed its last two pushes", file=ctx.out)
        return 0
    names = {o.org_id: o.name for o in store.list_orgs()}
    ctx.print_table(("Org", "Name", "Pushes", "Last", "Last outcome", "Flag"), [
        (org_id, clean(names.get(org_id, ""), limit=60), str(len(entries)),
         entries[-1].version, entries[-1].outcome,
         "failed the last two" if failed_last_two(entries) else "")
        for org_id, entries in sorted(history.items())])
    return 0


def run_report(args: argparse.Namespace, ctx: Context) -> int:
    # push_ops' Salesforce side (requests): only when a push command talks to the packaging org
    from juston_tui.push_ops.history import change_record
    from juston_tui.push_ops.session import NoVendorOrg  # (the same seam)
    from juston_tui.salesforce.errors import AccessError

    store = ctx.store()
    try:
        ctx.out.write(change_record(store, ctx.credentials, args.request_id,
                                    timeout=args.timeout))
    except KeyError as exc:
        raise UserError(str(exc.args[0])) from None
    except NoVendorOrg as exc:
        raise UserError(str(exc)) from None
    except AccessError as exc:
        raise UserError(f"packaging org: {exc}") from None
    return 0
