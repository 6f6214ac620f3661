"""`juston-tui calendar [--json] [--months N] [--ics FILE]` and its small editing commands.

    calendar                              the agenda of the next months (default 6)
    calendar --json | --ics FILE          machine-readable / iCalendar export
    calendar push add|edit|remove ...     a confirmed push from an announcement e-mail
    calendar push tick PUSH ACTION        tick (or untick) a before/after action
    calendar release set|clear NAME ...   known Salesforce release dates (else projected)
    calendar release import FILE          the same from a JSON or CSV file
    calendar settings [--cadence N ...]   how pushes are projected
    calendar refresh                      read the packaging org's push jobs into the cache
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.text import Text

from juston_tui import schedule
from juston_tui.commands import Context, UserError, write_export
from juston_tui.model import ValidationError
from juston_tui.push_jobs import NoVendorOrg, describe_requests, refresh_push_jobs
from juston_tui.schedule import EVENT_KINDS, CalendarView, Push, PushPlan, countdown
from juston_tui.text import clean

if TYPE_CHECKING:
    from juston_tui.store import Store


def register(sub: argparse._SubParsersAction) -> None:
    cal = sub.add_parser("calendar", help="upcoming push upgrades, announcements and releases")
    cal.add_argument("--json", action="store_true", help="machine-readable output")
    cal.add_argument("--months", type=_months, default=6, metavar="N",
                     help="how many months ahead (default 6)")
    cal.add_argument("--ics", metavar="FILE", help="write an iCalendar file (RFC 5545)")
    cal.add_argument("--force", action="store_true",
                     help="replace the --ics file if it exists (re-exporting updates events)")
    cal.add_argument("--from", dest="start", type=_day, metavar="DATE",
                     help="first day (default today in the push time zone)")
    cal.set_defaults(func=run)
    cal_sub = cal.add_subparsers(dest="calendar_command", metavar="ACTION")

    push = cal_sub.add_parser("push", help="confirmed pushes from announcement e-mails")
    push_sub = push.add_subparsers(dest="push_command", metavar="ACTION", required=True)
    add = push_sub.add_parser("add", help="enter a push from its announcement e-mail")
    _push_fields(add, creating=True)
    add.set_defaults(func=run_push_add)
    edit = push_sub.add_parser("edit", help="change a confirmed push")
    edit.add_argument("push_id")
    _push_fields(edit, creating=False)
    edit.set_defaults(func=run_push_edit)
    remove = push_sub.add_parser("remove", help="delete a confirmed push")
    remove.add_argument("push_id")
    remove.set_defaults(func=run_push_remove)
    tick = push_sub.add_parser("tick", help="tick or untick an action of a push")
    tick.add_argument("push_id")
    tick.add_argument("action_id", help="e.g. before-1 (see calendar --json)")
    tick.set_defaults(func=run_push_tick)

    rel = cal_sub.add_parser("release", help="known Salesforce release dates")
    rel_sub = rel.add_subparsers(dest="release_command", metavar="ACTION", required=True)
    rset = rel_sub.add_parser("set", help="enter a release's dates (from Salesforce Trust)")
    rset.add_argument("name", help="e.g. \"Winter '27\"")
    rset.add_argument("--production", required=True, metavar="DATE",
                      help="first production release weekend")
    rset.add_argument("--final", metavar="DATE", help="last production wave")
    rset.add_argument("--preview", metavar="DATE", help="sandbox preview weekend")
    rset.set_defaults(func=run_release_set)
    rimport = rel_sub.add_parser("import", help="enter many releases from a JSON or CSV file")
    rimport.add_argument("file", help="JSON {name: {production, final, preview}} or CSV with "
                         "columns release, production, final, preview")
    rimport.set_defaults(func=run_release_import)
    rclear = rel_sub.add_parser("clear", help="forget entered dates (back to projected)")
    rclear.add_argument("name")
    rclear.set_defaults(func=run_release_clear)

    st = cal_sub.add_parser("settings", help="show or change how pushes are projected")
    st.add_argument("--cadence", dest="cadence_months", metavar="MONTHS")
    st.add_argument("--anchor", metavar="DATE", help="a push window starts on this date")
    st.add_argument("--weekday", help="push weekday (default saturday)")
    st.add_argument("--time", dest="start_time", metavar="HH:MM", help="local start (01:00)")
    st.add_argument("--timezone", metavar="ZONE", help="IANA zone (Europe/Berlin)")
    st.add_argument("--month-end-days", metavar="N")
    st.add_argument("--quarter-end-days", metavar="N")
    st.add_argument("--major-gap-days", metavar="N")
    st.add_argument("--product", dest="products", action="append",
                    choices=("billing", "cash"), help="products pushed (repeatable)")
    st.add_argument("--announcement-time", metavar="HH:MM")
    st.add_argument("--json", dest="settings_json", action="store_true")
    st.set_defaults(func=run_settings)

    refresh = cal_sub.add_parser("refresh", help="read push requests/jobs from the vendor org")
    refresh.add_argument("--timeout", type=float, default=30.0)
    refresh.set_defaults(func=run_refresh, online=True)


def _months(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError("N is a whole number of months") from None
    if not 1 <= value <= 36:
        raise argparse.ArgumentTypeError("N is between 1 and 36")
    return value


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD)") from None


def _push_fields(p: argparse.ArgumentParser, *, creating: bool) -> None:
    p.add_argument("--date", required=creating, help="push date YYYY-MM-DD (local)")
    p.add_argument("--time", help="local start time HH:MM (default 01:00)")
    p.add_argument("--timezone", help="IANA zone (default: the calendar's)")
    p.add_argument("--product", choices=("billing", "cash"), default="billing" if creating
                   else None)
    p.add_argument("--version", required=creating, help="package version, e.g. 2.81")
    p.add_argument("--kind", choices=("major", "patch"))
    p.add_argument("--before", action="append", metavar="TEXT",
                   help="an action before the push (repeatable)")
    p.add_argument("--after", action="append", metavar="TEXT",
                   help="an action after the push (repeatable)")
    p.add_argument("--announced-on", metavar="DATE", help="when the announcement went out")
    p.add_argument("--notes")


# -- the agenda --------------------------------------------------------------------------------
def run(args: argparse.Namespace, ctx: Context) -> int:
    store = ctx.store()
    view = schedule.load_view(store, today=args.start, months=args.months)
    if args.ics:
        from juston_tui.calendar_ics import export_ics  # icalendar: only for the export

        write_export(Path(args.ics).expanduser(), export_ics(view), force=args.force)
        count = len(view.events)
        if not args.json:
            print(f"wrote {count} event(s) to {args.ics}", file=ctx.err)
    if args.json:
        ctx.print_json(view_to_json(view))
    elif not args.ics:
        print_agenda(view, ctx)
    return 0


def _plan_json(plan: PushPlan) -> dict[str, Any]:
    push = plan.push
    local = push.local_start
    jobs = plan.jobs_by_org()
    return {
        "id": push.id,
        "uid": plan.uid,
        "status": push.status,
        "product": push.product,
        "version": push.version or None,
        "kind": push.kind,
        "start_utc": push.start_utc.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "start_local": local.isoformat(),
        "timezone": push.timezone,
        "announcement_due": push.announcement_due.isoformat(),
        "announced_on": push.announced_on.isoformat() if push.announced_on else None,
        "window": {"start": plan.window[0].isoformat(), "end": plan.window[1].isoformat()},
        "orgs": [{"org_id": o.org_id, "name": o.name, "kind": o.kind,
                  "job": _job_json(jobs.get(o.org_id))} for o in plan.orgs],
        "unregistered_org_ids": list(plan.unknown_org_ids),
        "contacts": [{"full_name": c.full_name, "email": c.email, "title": c.title}
                     for c in plan.contacts],
        "actions": [a.to_doc() for a in push.actions],
        "warnings": list(plan.warnings),
        "notes": push.notes,
    }


def _job_json(job: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if not job:
        return None
    return {"status": job.get("status"), "errors": list(job.get("errors") or [])}


def view_to_json(view: CalendarView, now: datetime | None = None) -> dict[str, Any]:
    """The `calendar --json` document (stable keys; more may be added)."""
    nxt = view.next_plan(now or view_now(view))
    return {
        "start": view.start.isoformat(),
        "end": view.end.isoformat(),
        "timezone": view.settings.timezone,
        "settings": view.settings.to_mapping(),
        "next_push": None if nxt is None else {
            "id": nxt.push.id, "start_utc": nxt.push.start_utc.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "days": (nxt.push.local_day - view.start).days,
            "announcement_due": nxt.push.announcement_due.isoformat(),
            "announcement_days": (nxt.push.announcement_due - view.start).days,
        },
        "releases": [{
            "name": r.name, "projected": r.projected, "preview": r.preview.isoformat(),
            "production": r.production.isoformat(), "final": r.final.isoformat(),
            "juston_release_window": {"first": r.juston_window[0].isoformat(),
                                      "last": r.juston_window[1].isoformat()},
        } for r in view.releases],
        "pushes": [_plan_json(p) for p in view.plans],
        "events": [{
            "uid": e.uid, "kind": e.kind, "letter": e.letter, "title": e.title,
            "day": e.day.isoformat(), "last_day": e.last_day.isoformat(),
            "projected": e.projected, "push_id": e.push_id,
            "start_utc": e.start_utc.strftime("%Y-%m-%dT%H:%M:%SZ") if e.start_utc else None,
        } for e in view.events],
        "vendor": {k: v for k, v in view.vendor.items() if k != "requests"} | {
            "requests": len(view.vendor.get("requests") or [])} if view.vendor else None,
    }


def view_now(view: CalendarView) -> datetime:
    """"Now" for a view: the real time, or the start of `--from` when it is not today."""
    zone = view.settings.zone_info
    if view.start == datetime.now(zone).date():
        return datetime.now(UTC)
    return datetime.combine(view.start, time(0), tzinfo=zone).astimezone(UTC)


def print_agenda(view: CalendarView, ctx: Context) -> None:
    console = ctx.console()
    console.print(Text(
        f"Push calendar {view.start.isoformat()} to {view.end.isoformat()} "
        f"({view.settings.timezone}); lower-case letter = projected", style="bold"),
        soft_wrap=True)
    nxt = view.next_plan(view_now(view))
    if nxt is not None:
        push = nxt.push
        console.print(Text(
            f"Next push: {push.local_start.strftime('%a %Y-%m-%d %H:%M %Z')} {push.label} "
            f"({push.status}) {countdown((push.local_day - view.start).days)}; announcement "
            f"due {push.announcement_due.isoformat()} "
            f"{countdown((push.announcement_due - view.start).days)}"), soft_wrap=True)
    month = None
    for event in view.events:
        if (event.day.year, event.day.month) != month:
            month = (event.day.year, event.day.month)
            console.print(Text(f"\n{event.day.strftime('%B %Y')}", style="bold underline"))
        when = event.day.strftime("%a %d")
        if event.last_day != event.day:
            when += event.last_day.strftime("-%d %b")
        clock = ""
        if event.start_utc is not None:
            clock = event.start_utc.astimezone(view.settings.zone_info).strftime("%H:%M ")
        line = Text(f"  {when:<16} {event.letter}  {clock}{clean(event.title)}")
        plan = view.plan(event.push_id) if event.push_id and event.kind != "announcement" \
            else None
        if plan is not None:
            line.append(f" · {len(plan.orgs)} org(s), {len(plan.contacts)} contact(s)")
            if plan.push.actions:
                line.append(f", actions {plan.done_count}/{len(plan.push.actions)}")
            for warning in plan.warnings:
                line.append(f"\n{'':21}! {clean(warning)}")
        console.print(line, soft_wrap=True)
    legend = ", ".join(f"{letter} {label}" for letter, label in
                       (v for v in EVENT_KINDS.values()))
    console.print(Text(f"\nLegend: {legend}", style="dim"), soft_wrap=True)
    if view.vendor.get("error"):
        console.print(Text(f"Packaging org: last refresh failed: {clean(view.vendor['error'])}"))


# -- editing -----------------------------------------------------------------------------------
def _values(args: argparse.Namespace) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in ("date", "time", "timezone", "product", "version", "kind", "notes"):
        if getattr(args, name, None) is not None:
            out[name] = getattr(args, name)
    if args.announced_on is not None:
        out["announced_on"] = args.announced_on
    for phase in ("before", "after"):
        if getattr(args, phase) is not None:
            out[phase] = list(getattr(args, phase))
    return out


def run_push_add(args: argparse.Namespace, ctx: Context) -> int:
    store = ctx.store(write=True)
    values = _values(args)
    values.setdefault("timezone", schedule.settings_from_store(store).timezone)
    push = schedule.parse_push(values)
    schedule.save_push(store, push)
    print(f"added {push.id} {push.label} on "
          f"{push.local_start.strftime('%Y-%m-%d %H:%M %Z')}", file=ctx.out)
    return 0


def _confirmed(store: Store, push_id: str) -> Push:
    push = schedule.confirmed_push(store, push_id)
    if push is None:
        raise UserError(f"no confirmed push {push_id!r} (see calendar --json)")
    return push


def run_push_edit(args: argparse.Namespace, ctx: Context) -> int:
    store = ctx.store(write=True)
    current = _confirmed(store, args.push_id)
    changes = _values(args)
    if not changes:
        raise UserError("nothing to change: give at least one option such as --date")
    push = schedule.parse_push({**schedule.push_form_values(current), **changes},
                               previous=current)
    schedule.save_push(store, push)
    print(f"updated {push.id} {push.label}", file=ctx.out)
    return 0


def run_push_remove(args: argparse.Namespace, ctx: Context) -> int:
    store = ctx.store(write=True)
    push = _confirmed(store, args.push_id)
    schedule.delete_push(store, push.id)
    print(f"removed {push.id} {push.label}", file=ctx.out)
    return 0


def run_push_tick(args: argparse.Namespace, ctx: Context) -> int:
    store = ctx.store(write=True)
    try:
        state = schedule.toggle_action(store, args.push_id, args.action_id)
    except ValidationError as exc:
        raise UserError("; ".join(exc.errors.values())) from None
    print(f"{args.action_id}: {'done' if state else 'not done'}", file=ctx.out)
    return 0


def run_release_set(args: argparse.Namespace, ctx: Context) -> int:
    name = schedule.set_release_date(ctx.store(write=True), args.name, args.production,
                                     args.final, args.preview)
    print(f"stored the dates of {name}", file=ctx.out)
    return 0


def run_release_import(args: argparse.Namespace, ctx: Context) -> int:
    path = Path(args.file).expanduser()
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"cannot read {path}: {exc.__class__.__name__}") from None
    dates = schedule.parse_release_file(text)
    count = schedule.import_release_dates(ctx.store(write=True), dates)
    print(f"stored the dates of {count} release(s): {', '.join(sorted(dates))}", file=ctx.out)
    return 0


def run_release_clear(args: argparse.Namespace, ctx: Context) -> int:
    if not schedule.clear_release_date(ctx.store(write=True), args.name):
        raise UserError(f"no dates were entered for {clean(args.name)}")
    print(f"{clean(args.name)} is projected again", file=ctx.out)
    return 0


_SETTING_ARGS = ("cadence_months", "anchor", "weekday", "start_time", "timezone",
                 "month_end_days", "quarter_end_days", "major_gap_days", "products",
                 "announcement_time")


def run_settings(args: argparse.Namespace, ctx: Context) -> int:
    changes = {k: getattr(args, k) for k in _SETTING_ARGS if getattr(args, k) is not None}
    if changes:
        settings = schedule.save_settings(ctx.store(write=True), changes)
    else:
        settings = schedule.settings_from_store(ctx.store())
    values = settings.to_mapping()
    if args.settings_json:
        ctx.print_json(values)
    else:
        for key, value in values.items():
            print(f"{key:>18}: {value}", file=ctx.out)
    return 0


def run_refresh(args: argparse.Namespace, ctx: Context) -> int:
    store = ctx.store(write=True)
    try:
        record = refresh_push_jobs(store, ctx.credentials(), timeout=args.timeout)
    except NoVendorOrg as exc:
        raise UserError(str(exc)) from None
    if record.get("error"):
        print(f"juston-tui: error: {clean(record['org_name'])}: {record['error']}",
              file=ctx.err)
        return 1
    print(f"{describe_requests(record)} from {clean(record['org_name'])}", file=ctx.out)
    return 0
