"""`juston-tui contacts list|show|add|edit|remove|import|export|query`.

The people JustOn notifies about push upgrades (seed 000: full name, e-mail and title).
`import` previews by default and changes nothing without `--yes`; `query` speaks mutt's
query_command format (and aerc's address-book-cmd with `--no-header`).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from juston_tui.commands import Context, UserError, write_export
from juston_tui.contacts_io import (
    ContactIndex,
    apply_import,
    export_csv,
    export_vcard,
    mutt_query_lines,
    notification_list,
    preview_import,
    preview_text,
    sorted_contacts,
)
from juston_tui.model import Contact, ValidationError, normalize_org_id
from juston_tui.store import NotFoundError, Store
from juston_tui.text import clean

QUERY_HELP = """\
Print matching contacts for mail-client address completion.

mutt / neomutt (~/.muttrc):
    set query_command = "juston-tui contacts query %s"
  Output: one free-text line (mutt shows it as a message), then one line per contact:
    EMAIL<TAB>FULL NAME<TAB>TITLE
  Exit status 1 when nothing matches (mutt then shows the first line).

aerc (~/.config/aerc/aerc.conf, [compose]):
    address-book-cmd = juston-tui contacts query --no-header "%s"
"""


def register(sub: argparse._SubParsersAction) -> None:
    contacts = sub.add_parser("contacts", help="people to notify about push upgrades")
    csub = contacts.add_subparsers(dest="contacts_command", metavar="ACTION", required=True)

    lst = csub.add_parser("list", help="list contacts")
    lst.add_argument("--org", action="append", default=[], metavar="ORG",
                     help="only contacts linked to this org (ID or name; repeatable)")
    lst.add_argument("--eligible", action="store_true",
                     help="only contacts eligible for push-upgrade notifications")
    lst.add_argument("--json", action="store_true", help="machine-readable output")
    lst.set_defaults(func=run_list)

    show = csub.add_parser("show", help="show one contact")
    show.add_argument("contact", metavar="ID_OR_EMAIL")
    show.add_argument("--json", action="store_true")
    show.set_defaults(func=run_show)

    add = csub.add_parser("add", help="add a contact")
    add.add_argument("--name", required=True, help="full name")
    add.add_argument("--email", required=True)
    add.add_argument("--title", required=True, help="job title, e.g. Head of Finance")
    add.add_argument("--role", default="")
    add.add_argument("--org", action="append", default=[], metavar="ORG",
                     help="link to this org (ID or name; repeatable)")
    add.add_argument("--not-eligible", action="store_true",
                     help="do not include in push-upgrade notification lists")
    add.add_argument("--notes", default="")
    add.add_argument("--json", action="store_true")
    add.set_defaults(func=run_add)

    edit = csub.add_parser("edit", help="change a contact")
    edit.add_argument("contact", metavar="ID_OR_EMAIL")
    edit.add_argument("--name")
    edit.add_argument("--email")
    edit.add_argument("--title")
    edit.add_argument("--role")
    edit.add_argument("--notes")
    edit.add_argument("--org", action="append", default=None, metavar="ORG",
                      help="replace the linked orgs with these (repeatable)")
    edit.add_argument("--add-org", action="append", default=[], metavar="ORG")
    edit.add_argument("--remove-org", action="append", default=[], metavar="ORG")
    group = edit.add_mutually_exclusive_group()
    group.add_argument("--eligible", dest="eligible", action="store_true", default=None)
    group.add_argument("--not-eligible", dest="eligible", action="store_false")
    edit.add_argument("--json", action="store_true")
    edit.set_defaults(func=run_edit)

    remove = csub.add_parser("remove", help="remove a contact")
    remove.add_argument("contact", metavar="ID_OR_EMAIL")
    remove.set_defaults(func=run_remove)

    imp = csub.add_parser(
        "import", help="import CSV (ours, Outlook, Google) or vCard; preview unless --yes",
        description="Without --yes the preview is printed and nothing changes. Exit status: "
        "0 all rows fine, 1 some rows bad (reported with their line numbers), 2 file rejected.",
    )
    imp.add_argument("file", metavar="FILE", help="file to read (- for stdin)")
    imp.add_argument("--format", choices=("csv", "vcard"), default=None,
                     help="default: from the content and the file name")
    imp.add_argument("--org", action="append", default=[], metavar="ORG",
                     help="also link every imported contact to this org (repeatable)")
    imp.add_argument("--yes", action="store_true", help="apply (one atomic write)")
    imp.add_argument("--json", action="store_true")
    imp.set_defaults(func=run_import)

    exp = csub.add_parser("export", help="export CSV, vCard or the notification list")
    exp.add_argument("file", metavar="FILE", help="file to write (- for stdout)")
    exp.add_argument("--format", choices=("csv", "vcard", "notify"), default=None,
                     help="default: from the extension (.vcf vcard, .txt notify, else csv)")
    exp.add_argument("--vcard-version", choices=("3.0", "4.0"), default="4.0")
    exp.add_argument("--org", action="append", default=[], metavar="ORG",
                     help="only contacts linked to this org (repeatable)")
    exp.add_argument("--eligible", action="store_true", help="only eligible contacts")
    exp.add_argument("--json", action="store_true", help="print a JSON summary")
    exp.add_argument("--force", action="store_true", help="replace FILE if it exists")
    exp.set_defaults(func=run_export)

    query = csub.add_parser("query", help="address completion for mutt / aerc",
                            description=QUERY_HELP,
                            formatter_class=argparse.RawDescriptionHelpFormatter)
    query.add_argument("string", metavar="STRING", nargs="?", default="")
    query.add_argument("--no-header", action="store_true",
                       help="no informational first line (aerc)")
    query.add_argument("--eligible", action="store_true", help="only eligible contacts")
    query.add_argument("--json", action="store_true")
    query.set_defaults(func=run_query)


def run(args: argparse.Namespace, ctx: Context) -> int:
    """Dispatch on the subcommand (cli.py calls `args.func` directly; this is for callers)."""
    handlers = {"list": run_list, "show": run_show, "add": run_add, "edit": run_edit,
                "remove": run_remove, "import": run_import, "export": run_export,
                "query": run_query}
    return handlers[args.contacts_command](args, ctx)


# -- helpers --------------------------------------------------------------------------------

_OPTION_FIELDS = {"name": "name", "string": "query", "contact": "contact"}


def _check_utf8(args: argparse.Namespace) -> None:
    """Refuse argv text that is not UTF-8 (Python hands it over as lone surrogates).

    Such text would pass validation and then fail in the JSON store or on a UTF-8 terminal;
    here it is one clear error naming the option instead.
    """
    errors: dict[str, str] = {}
    for key, value in vars(args).items():
        if key in ("func", "db", "file"):
            continue
        values = value if isinstance(value, list) else [value]
        for item in values:
            if isinstance(item, str):
                try:
                    item.encode("utf-8")
                except UnicodeEncodeError:
                    errors[_OPTION_FIELDS.get(key, key)] = (
                        "is not valid UTF-8 text (check the terminal's or the script's encoding)"
                    )
    if errors:
        raise ValidationError(errors)


def resolve_org(store: Store, ref: str) -> str:
    """An org ID (15 or 18) or the exact name of a registered org -> its 18-character ID."""
    orgs = store.list_orgs()
    text = ref.strip()
    try:
        org_id = normalize_org_id(text, "org")
    except ValidationError:
        matches = [o.org_id for o in orgs if o.name.casefold() == text.casefold()]
        if len(matches) == 1:
            return matches[0]
        if len(matches) > 1:
            raise UserError(f"{clean(text)!r} names {len(matches)} orgs; give the org ID") from None
        raise UserError(f"no org {clean(text)!r} (give an org ID or an org's exact name; "
                        "see `juston-tui org list`)") from None
    if org_id not in {o.org_id for o in orgs}:
        raise UserError(f"the org {org_id} is not registered (see `juston-tui org list`)")
    return org_id


def find_contact(store: Store, ref: str) -> Contact:
    """By e-mail (case-insensitive), by ID, or by an unambiguous ID prefix of 6+ characters."""
    text = ref.strip()
    if "@" in text:
        found = store.find_contact_by_email(text)
        if found is None:
            raise UserError(f"no contact with the e-mail {clean(text)}")
        return found
    try:
        return store.get_contact(text)
    except NotFoundError:
        pass
    if len(text) >= 6:
        matches = [c for c in store.list_contacts() if c.id.startswith(text.lower())]
        if len(matches) == 1:
            return matches[0]
        if len(matches) > 1:
            raise UserError(f"{clean(text)!r} matches {len(matches)} contacts; give more of the ID")
    raise UserError(f"no contact {clean(text)!r} (give an e-mail address or a contact ID)")


def _org_names(store: Store) -> dict[str, str]:
    return {o.org_id: o.name for o in store.list_orgs()}


def _contact_json(contact: Contact, org_names: dict[str, str]) -> dict[str, Any]:
    doc = contact.to_doc()
    doc["org_names"] = [org_names.get(o, o) for o in contact.org_ids]
    return doc


def _selected(store: Store, orgs: list[str], eligible: bool) -> tuple[list[Contact], list[str]]:
    org_ids = [resolve_org(store, o) for o in orgs]
    contacts = store.list_contacts()
    if org_ids:
        wanted = set(org_ids)
        contacts = [c for c in contacts if wanted & set(c.org_ids)]
    if eligible:
        contacts = [c for c in contacts if c.eligible]
    return sorted_contacts(contacts), org_ids


# -- commands -------------------------------------------------------------------------------


def run_list(args: argparse.Namespace, ctx: Context) -> int:
    _check_utf8(args)
    store = ctx.store()
    contacts, _ = _selected(store, args.org, args.eligible)
    names = _org_names(store)
    if args.json:
        ctx.print_json({"contacts": [_contact_json(c, names) for c in contacts]})
        return 0
    rows = [(clean(c.full_name), clean(c.email), clean(c.title), clean(c.role),
             clean(", ".join(names.get(o, o) for o in c.org_ids)), "yes" if c.eligible else "no")
            for c in contacts]
    ctx.print_table(("Name", "E-mail", "Title", "Role", "Orgs", "Eligible"), rows)
    # Off a terminal the count goes to stderr: in the TSV it would be a malformed row.
    print(f"{len(contacts)} contact(s)", file=ctx.out if ctx.is_terminal else ctx.err)
    return 0


def run_show(args: argparse.Namespace, ctx: Context) -> int:
    _check_utf8(args)
    store = ctx.store()
    contact = find_contact(store, args.contact)
    doc = _contact_json(contact, _org_names(store))
    if args.json:
        ctx.print_json(doc)
    else:
        for key, value in doc.items():
            shown = ", ".join(value) if isinstance(value, list) else value
            print(f"{key:>10}: {clean(shown)}", file=ctx.out)
    return 0


def _report(ctx: Context, verb: str, contact: Contact, as_json: bool, store: Store) -> None:
    if as_json:
        ctx.print_json(_contact_json(contact, _org_names(store)))
    else:
        print(f"{verb} {clean(contact.full_name)} <{clean(contact.email)}> ({contact.id})",
              file=ctx.out)


def run_add(args: argparse.Namespace, ctx: Context) -> int:
    _check_utf8(args)
    store = ctx.store(write=True)
    org_ids = [resolve_org(store, o) for o in args.org]
    contact = Contact.create(full_name=args.name, email=args.email, title=args.title,
                             role=args.role, org_ids=org_ids, eligible=not args.not_eligible,
                             notes=args.notes)
    store.add_contact(contact)
    _report(ctx, "added", contact, args.json, store)
    return 0


def run_edit(args: argparse.Namespace, ctx: Context) -> int:
    _check_utf8(args)
    store = ctx.store(write=True)
    contact = find_contact(store, args.contact)
    changes: dict[str, Any] = {}
    for option, fieldname in (("name", "full_name"), ("email", "email"), ("title", "title"),
                              ("role", "role"), ("notes", "notes"), ("eligible", "eligible")):
        value = getattr(args, option)
        if value is not None:
            changes[fieldname] = value
    if args.org is not None or args.add_org or args.remove_org:
        org_ids = ([resolve_org(store, o) for o in args.org] if args.org is not None
                   else list(contact.org_ids))
        org_ids += [resolve_org(store, o) for o in args.add_org]
        removed = {resolve_org(store, o) for o in args.remove_org}
        changes["org_ids"] = [o for o in dict.fromkeys(org_ids) if o not in removed]
    if not changes:
        raise UserError("nothing to change: give at least one option such as --title")
    updated = store.update_contact(contact.id, **changes)
    _report(ctx, "updated", updated, args.json, store)
    return 0


def run_remove(args: argparse.Namespace, ctx: Context) -> int:
    _check_utf8(args)
    store = ctx.store(write=True)
    contact = find_contact(store, args.contact)
    store.remove_contact(contact.id)
    print(f"removed {clean(contact.full_name)} <{clean(contact.email)}>", file=ctx.out)
    return 0


def run_import(args: argparse.Namespace, ctx: Context) -> int:
    _check_utf8(args)
    store = ctx.store(write=args.yes)
    link = [resolve_org(store, o) for o in args.org]
    if args.file == "-":
        preview = preview_import(store, "<stdin>", sys.stdin.buffer.read(), fmt=args.format,
                                 link_org_ids=link)
    else:
        preview = preview_import(store, Path(args.file).expanduser(), fmt=args.format,
                                 link_org_ids=link)
    if preview.fatal is None and args.yes:
        preview = apply_import(store, preview)
    if args.json:
        ctx.print_json(preview.to_json())
    elif preview.fatal is not None:
        print(f"juston-tui: error: {clean(preview.summary())}", file=ctx.err)
    else:
        for line in preview_text(preview):
            print(line, file=ctx.out)
        if not args.yes:
            print("Nothing was changed. Run again with --yes to apply.", file=ctx.out)
    if preview.fatal is not None:
        return 2
    return 1 if preview.errors else 0


def _export_format(args: argparse.Namespace) -> str:
    if args.format:
        return str(args.format)
    suffix = Path(args.file).suffix.lower()
    return {".vcf": "vcard", ".vcard": "vcard", ".txt": "notify"}.get(suffix, "csv")


def run_export(args: argparse.Namespace, ctx: Context) -> int:
    _check_utf8(args)
    store = ctx.store()
    fmt = _export_format(args)
    contacts, org_ids = _selected(store, args.org, args.eligible)
    if fmt == "csv":
        payload = export_csv(contacts, _org_names(store))
    elif fmt == "vcard":
        payload = export_vcard(contacts, args.vcard_version)
    else:
        payload = notification_list(contacts, store.list_orgs(), org_ids or None)
    count = sum(1 for c in contacts if c.eligible) if fmt == "notify" else len(contacts)
    target = "-" if args.file == "-" else str(Path(args.file).expanduser())
    if target == "-":
        ctx.out.write(payload)
        ctx.out.flush()
    else:
        write_export(Path(target), payload.encode("utf-8"), force=args.force)
    summary = {"file": target, "format": fmt, "contacts": count}
    if args.json:
        ctx.print_json(summary)
    else:
        stream = ctx.err if target == "-" else ctx.out
        print(f"exported {count} contact(s) as {fmt} to {target}", file=stream)
    return 0


def run_query(args: argparse.Namespace, ctx: Context) -> int:
    _check_utf8(args)
    store = ctx.store()
    names = _org_names(store)
    index = ContactIndex(store.list_contacts(), names)
    found = index.search(args.string, eligible_only=args.eligible)
    if args.json:
        ctx.print_json({"query": args.string,
                        "contacts": [_contact_json(c, names) for c in found]})
        return 0 if found else 1
    for line in mutt_query_lines(found, args.string, header=not args.no_header):
        print(line, file=ctx.out)
    return 0 if found else 1
