"""`juston-tui org add|edit|list|remove|show` (import commands live in org_import.py)."""

from __future__ import annotations

import argparse
from datetime import date
from pathlib import Path
from typing import Any

from juston_tui.commands import Context, UserError, org_import, write_export
from juston_tui.model import AUTH_METHODS, Org, ValidationError, normalize_org_id, now_utc
from juston_tui.push_registration import draft_request, load_request, record_state
from juston_tui.salesforce.auth_help import METHOD_HELP, PASSWORD_METHOD_FACTS
from juston_tui.text import clean


def register(sub: argparse._SubParsersAction) -> None:
    org = sub.add_parser("org", help="register, edit, list and remove orgs")
    org_sub = org.add_subparsers(dest="org_command", metavar="ACTION", required=True)

    add = org_sub.add_parser("add", help="register an org")
    add.add_argument("org_id", help="15- or 18-character org ID (00D...)")
    _org_fields(add, creating=True)
    add.set_defaults(func=run_add)

    edit = org_sub.add_parser("edit", help="change fields of a registered org")
    edit.add_argument("org_id")
    _org_fields(edit, creating=False)
    edit.set_defaults(func=run_edit)

    lst = org_sub.add_parser("list", help="list registered orgs")
    lst.add_argument("--json", action="store_true", help="machine-readable output")
    lst.add_argument("--tag", action="append", default=[], help="only orgs with this tag")
    lst.set_defaults(func=run_list)

    show = org_sub.add_parser("show", help="show one org (never its secrets)")
    show.add_argument("org_id")
    show.add_argument("--json", action="store_true")
    show.set_defaults(func=run_show)

    remove = org_sub.add_parser("remove", help="remove an org (and its stored secrets)")
    remove.add_argument("org_id")
    remove.add_argument("--keep-secrets", action="store_true",
                        help="leave the org's secrets in the keyring")
    remove.set_defaults(func=run_remove)

    request = org_sub.add_parser(
        "push-request", help="draft the JustOn Upgrade request for orgs (the push-upgrade FAQ)",
        description="Print (or save) the 'JustOn Upgrade request' for the JustOn Support "
        "Portal: the orgs (production; sandboxes only with a sandbox push ticket), their "
        "versions and the eligible contacts to notify. Orgs not on a current release are "
        "named on stderr: the guide asks for a recent upgrade before registering.")
    request.add_argument("org_ids", nargs="+", metavar="ORG")
    request.add_argument("--out", metavar="FILE", help="save the request to FILE")
    request.add_argument("--force", action="store_true", help="replace FILE if it exists")
    request.set_defaults(func=run_push_request)

    push = org_sub.add_parser(
        "push", help="record orgs' push-upgrade registration: requested, registered, withdrawn")
    push.add_argument("org_ids", nargs="+", metavar="ORG")
    push.add_argument("--state", required=True,
                      choices=("request_drafted", "requested", "registered", "withdrawn",
                               "not_registered"))
    push.add_argument("--ticket", help="the support ticket (required for requested)")
    push.add_argument("--on", dest="day", metavar="YYYY-MM-DD", help="the date (default today)")
    push.set_defaults(func=run_push_state)

    org_import.register_org(org_sub)  # `org import-sf` and `org import --from-vendor`


def _org_fields(p: argparse.ArgumentParser, *, creating: bool) -> None:
    p.add_argument("--name", required=creating, help="the org's name")
    p.add_argument("--type", dest="kind", choices=("production", "sandbox"),
                   default="production" if creating else None)
    p.add_argument("--parent", dest="parent_org_id", metavar="ORG",
                   help="the production org of a sandbox")
    p.add_argument("--instance-url", metavar="URL", help="https://<my domain>.my.salesforce.com")
    p.add_argument("--domain", help="login, test or a My Domain prefix such as acme.my")
    p.add_argument("--method", dest="auth_method", choices=AUTH_METHODS,
                   default="token" if creating else None, help=METHOD_HELP)
    p.add_argument("--username")
    p.add_argument("--consumer-key")
    p.add_argument("--ca-bundle", metavar="PATH", help="CA bundle to trust for this org")
    p.add_argument("--tag", dest="tags", action="append", help="a tag (repeatable)")
    p.add_argument("--product", dest="products", action="append",
                   choices=("billing", "cash"), help="JustOn products used (repeatable)")
    p.add_argument("--notes")
    p.add_argument("--sandbox-push-ticket", metavar="TICKET",
                   help="support ticket asking for sandbox push upgrades")
    p.add_argument("--vendor", action=argparse.BooleanOptionalAction, default=None,
                   help="this is the vendor's packaging org")


_FIELDS = ("name", "kind", "parent_org_id", "instance_url", "domain", "auth_method",
           "username", "consumer_key", "ca_bundle", "tags", "products", "notes",
           "sandbox_push_ticket", "vendor")


def _given(args: argparse.Namespace) -> dict[str, Any]:
    values = {f: getattr(args, f) for f in _FIELDS if getattr(args, f, None) is not None}
    if values.get("ca_bundle"):

        path = Path(values["ca_bundle"]).expanduser()
        if not path.is_file():
            raise ValidationError.single("ca_bundle", f"no such file: {path}")
        values["ca_bundle"] = str(path.resolve())
    return values


def run_add(args: argparse.Namespace, ctx: Context) -> int:
    org = Org.create(org_id=args.org_id, **_given(args))
    ctx.store(write=True).add_org(org)
    print(f"added {org.org_id} {clean(org.name)}", file=ctx.out)
    _warn_about_method(org, ctx)
    return 0


def _warn_about_method(org: Org, ctx: Context) -> None:
    if org.auth_method == "password":
        print(f"juston-tui: warning: {PASSWORD_METHOD_FACTS}", file=ctx.err)


def _org_id(raw: str) -> str:
    return normalize_org_id(raw, "org_id")


def run_edit(args: argparse.Namespace, ctx: Context) -> int:
    changes = _given(args)
    if not changes:
        raise UserError("nothing to change: give at least one option such as --name")
    org = ctx.store(write=True).update_org(_org_id(args.org_id), **changes)
    print(f"updated {org.org_id} {clean(org.name)}", file=ctx.out)
    if "auth_method" in changes:
        _warn_about_method(org, ctx)
    return 0


def org_summary(org: Org, snapshot: Any = None) -> dict[str, Any]:
    doc = org.to_doc()
    doc["org_id_15"] = org.id15
    if snapshot is not None:
        doc["last_check"] = {"checked_at": snapshot.checked_at, "verdict": snapshot.verdict,
                             "error": snapshot.error}
    return doc


def run_list(args: argparse.Namespace, ctx: Context) -> int:
    store = ctx.store()
    orgs = sorted(store.list_orgs(), key=lambda o: (o.name.lower(), o.org_id))
    if args.tag:
        orgs = [o for o in orgs if set(args.tag) <= set(o.tags)]
    snapshots = store.all_snapshots()
    if args.json:
        ctx.print_json({"orgs": [org_summary(o, snapshots.get(o.org_id)) for o in orgs]})
        return 0
    rows = []
    for org in orgs:
        snap = snapshots.get(org.org_id)
        last = f"{snap.verdict} {snap.checked_at}" if snap else "never"
        rows.append((org.org_id, clean(org.name), org.kind, org.push.state, last))
    ctx.print_table(("Org ID", "Name", "Type", "Push", "Last check"), rows)
    # Off a terminal the count goes to stderr: in the TSV it would be a malformed row.
    print(f"{len(orgs)} org(s)", file=ctx.out if ctx.is_terminal else ctx.err)
    return 0


def run_show(args: argparse.Namespace, ctx: Context) -> int:
    store = ctx.store()
    org = store.get_org(_org_id(args.org_id))
    summary = org_summary(org, store.latest_snapshot(org.org_id))
    if args.json:
        ctx.print_json(summary)
    else:
        for key, value in summary.items():
            print(f"{key:>20}: {clean(value)}", file=ctx.out)
    return 0


def run_remove(args: argparse.Namespace, ctx: Context) -> int:
    org = ctx.store(write=True).remove_org(_org_id(args.org_id))
    if not args.keep_secrets:
        creds = ctx.credentials()
        if creds.available:
            creds.delete_all(org.org_id)
    print(f"removed {org.org_id} {clean(org.name)}", file=ctx.out)
    return 0


def run_push_request(args: argparse.Namespace, ctx: Context) -> int:
    store = ctx.store()
    candidates, contacts = load_request(store, [_org_id(o) for o in args.org_ids])
    text = draft_request(candidates, contacts)
    for cand in candidates:
        for note in cand.notes:
            print(f"juston-tui: note: {clean(cand.org.name, limit=60)}: {note}", file=ctx.err)
    if args.out:
        target = Path(args.out).expanduser()
        write_export(target, text.encode("utf-8"), force=args.force)
        print(f"saved the request to {target}", file=ctx.out)
    else:
        ctx.out.write(text)
    return 0 if any(c.included for c in candidates) else 1


def run_push_state(args: argparse.Namespace, ctx: Context) -> int:
    store = ctx.store(write=True)
    try:
        day = date.fromisoformat(args.day) if args.day else now_utc().date()
    except ValueError:
        raise UserError(f"--on {args.day!r} is not a date like 2026-05-04") from None
    result = record_state(store, [_org_id(o) for o in args.org_ids], args.state, day,
                          args.ticket)
    for org in result.saved:
        print(f"{org.org_id} {clean(org.name)}: {org.push.state}", file=ctx.out)
    for problem in result.problems:
        print(f"juston-tui: error: {problem}", file=ctx.err)
    return 1 if result.problems else 0
