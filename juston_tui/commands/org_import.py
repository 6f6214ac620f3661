"""`org import-sf FILE` and `org import --from-vendor ORG [--yes]`: register orgs in bulk.

`import-sf` takes what `sf org display --json` prints (the Salesforce CLI already logged in):
the org becomes a `token` org, its access token goes to the keyring and a login is tried at
once, as `login` does. Current Salesforce CLI versions redact the token in that output
(`"accessToken": "[REDACTED] Use 'sf org auth show-access-token' to view"`, unless
SF_TEMP_SHOW_SECRETS=true; salesforcecli/plugin-org messages/secrets-redacted.md); the token then
comes from `sf org auth show-access-token --json` ({"result": {"accessToken": ...}}, the whole
result; plugin-org src/commands/org/auth/show-access-token.ts), given with --token or, for an
org already registered, alone with --org. `--from-vendor` reads
the packaging org's PackageSubscriber list and shows what it would add or change; only `--yes`
writes, in one store transaction.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from juston_tui.commands import Context, UserError
from juston_tui.credentials import CredentialsUnavailable, explain_unavailable
from juston_tui.model import Org, ValidationError, normalize_org_id, now_utc
from juston_tui.salesforce.facts import CurrentVersion
from juston_tui.salesforce.settings import ProbeSettings, remember_vendor_versions
from juston_tui.text import clean
from juston_tui.vendor_import import apply_plan, plan_vendor_import

if TYPE_CHECKING:
    pass


def register_org(org_sub: argparse._SubParsersAction) -> None:
    sf = org_sub.add_parser(
        "import-sf",
        help="register an org from `sf org display --json` output (method token)",
        description="Read the JSON that `sf org display --json` prints (FILE, or - for stdin), "
        "register or update the org with the token method, store its access token in the "
        "keyring and try a login. The token is never printed. When sf hides the token "
        "([REDACTED]), also give the output of `sf org auth show-access-token --json` with "
        "--token; for an org already registered that output alone is enough (FILE, with "
        "--org ORG).",
    )
    sf.add_argument("file", metavar="FILE", help="the JSON file, or - for stdin")
    sf.add_argument("--token", metavar="FILE",
                    help="the JSON of `sf org auth show-access-token --json` (or - for stdin)")
    sf.add_argument("--org", metavar="ORG",
                    help="the registered org whose token FILE (show-access-token JSON) renews")
    sf.add_argument("--name", help="the org's name (default: the alias or username)")
    sf.add_argument("--type", dest="kind", choices=("production", "sandbox"),
                    help="production or sandbox (default: guessed from the instance URL)")
    sf.add_argument("--ca-bundle", metavar="PATH", help="CA bundle to trust for this org")
    sf.add_argument("--no-check", action="store_true", help="store the token, do not log in")
    sf.add_argument("--timeout", type=float, default=30.0, metavar="S",
                    help="time limit for the test login (default 30)")
    sf.set_defaults(func=run_import_sf, online=True)

    imp = org_sub.add_parser(
        "import",
        help="add/update orgs from the vendor org's subscriber list (preview unless --yes)",
        description="Read PackageSubscriber from the vendor's packaging org and show which "
        "orgs would be added or updated (org key, name, type, status, instance, installed "
        "version, parent org). Nothing changes without --yes; with --yes the packaging "
        "org's latest released version of each package also becomes the current version "
        "`status` compares with.",
    )
    imp.add_argument("--from-vendor", required=True, metavar="ORG",
                     help="the registered vendor (packaging) org to read from")
    imp.add_argument("--yes", action="store_true", help="apply the changes")
    imp.add_argument("--json", action="store_true", help="machine-readable plan")
    imp.add_argument("--timeout", type=float, default=60.0, metavar="S",
                     help="time limit for reading the vendor org (default 60)")
    imp.set_defaults(func=run_import_vendor, online=True)


# -- sf org display --------------------------------------------------------------------------
def _sf_result(text: str, what: str) -> Mapping[str, Any]:
    """The `result` object of a Salesforce CLI --json output (its error reported cleanly)."""
    try:
        data = json.loads(text)
    except ValueError:
        raise UserError(f"not JSON: expected the output of `{what}`") from None
    if not isinstance(data, Mapping):
        raise UserError("unexpected JSON: expected an object with a `result`")
    if data.get("status") not in (None, 0):
        message = clean(data.get("message") or data.get("name") or "unknown error", limit=200)
        raise UserError(f"the sf command reported an error: {message}")
    result = data.get("result", data)
    if not isinstance(result, Mapping):
        raise UserError("unexpected JSON: `result` is not an object")
    return result


def redacted(token: str) -> bool:
    """sf's placeholder ("[REDACTED] Use 'sf org auth show-access-token' to view"), or anything
    else that cannot be a token (a real one has no spaces or brackets)."""
    return "REDACTED" in token.upper() or any(c.isspace() or c in "[]" for c in token)


def parse_sf_display(text: str) -> dict[str, str]:
    """id, instance_url, access_token, username, alias from `sf org display --json` output, or
    only access_token from `sf org auth show-access-token --json`; access_token is "" when sf
    redacted it (see `redacted`)."""
    result = _sf_result(text, "sf org display --json")
    out = {
        "id": str(result.get("id") or result.get("orgId") or ""),
        "instance_url": str(result.get("instanceUrl") or ""),
        "access_token": str(result.get("accessToken") or ""),
        "username": str(result.get("username") or ""),
        "alias": str(result.get("alias") or ""),
    }
    out["redacted"] = "yes" if out["access_token"] and redacted(out["access_token"]) else ""
    if out["redacted"]:
        out["access_token"] = ""
    token_only = bool(result.get("accessToken")) and not out["id"] and not out["instance_url"]
    if token_only:
        out["kind"] = "token"
        return out
    missing = [k for k in ("id", "instance_url") if not out[k]]
    if not out["access_token"] and not out["redacted"]:
        missing.append("access_token")
    if missing:
        names = {"id": "result.id", "instance_url": "result.instanceUrl",
                 "access_token": "result.accessToken"}
        raise UserError("missing in the JSON: " + ", ".join(names[k] for k in missing)
                        + " (is the org connected? run sf org display --json again)")
    out["kind"] = "display"
    return out


def _show_token_command(info: Mapping[str, str]) -> str:
    target = info.get("alias") or info.get("username") or "ALIAS"
    return f"sf org auth show-access-token --target-org {target} --json > token.json"


def _read_input(path: str) -> str:
    if path == "-":
        return sys.stdin.read()
    file = Path(path).expanduser()
    if not file.is_file():
        raise UserError(f"no such file: {path}")
    return file.read_text("utf-8", errors="replace")


def _token_from(path: str) -> str:
    info = parse_sf_display(_read_input(path))
    if not info["access_token"]:
        raise UserError(f"{path}: no usable access token in it (expected the output of "
                        "`sf org auth show-access-token --json`)")
    return info["access_token"]


def run_import_sf(args: argparse.Namespace, ctx: Context) -> int:
    if args.file == "-" and args.token == "-":
        raise UserError("only one of FILE and --token can be - (stdin)")
    info = parse_sf_display(_read_input(args.file))
    token = _token_from(args.token) if args.token else info["access_token"]
    if info["kind"] == "token":
        return _renew_token(args, ctx, token)
    if not token:  # sf printed its placeholder instead of the token
        raise UserError(
            f"the access token in {args.file} is hidden by the Salesforce CLI ([REDACTED]); "
            f"run `{_show_token_command(info)}` and then `juston-tui org import-sf "
            f"{args.file} --token token.json` (or run sf org display with "
            "SF_TEMP_SHOW_SECRETS=true, a workaround sf will remove)")
    store = ctx.store(write=True)
    credentials = _credentials(ctx)
    org_id = normalize_org_id(info["id"], "org_id")
    kind = args.kind or ("sandbox" if ".sandbox." in info["instance_url"] else "production")
    values: dict[str, Any] = {"instance_url": info["instance_url"], "auth_method": "token"}
    if info["username"]:
        values["username"] = info["username"]
    if args.ca_bundle:
        path = Path(args.ca_bundle).expanduser()
        if not path.is_file():
            raise ValidationError.single("ca_bundle", f"no such file: {path}")
        values["ca_bundle"] = str(path.resolve())
    existing = store.find_org(org_id)
    if existing is None:
        name = args.name or info["alias"] or info["username"] or org_id
        org = Org.create(org_id=org_id, name=name, kind=kind, **values)
        store.add_org(org)
        action = "added"
    else:
        if args.name:
            values["name"] = args.name
        if args.kind:
            values["kind"] = args.kind
        org = store.update_org(org_id, **values)
        action = "updated"
    credentials.set(org_id, "access_token", token)
    print(f"{action} {org.org_id} {clean(org.name)} (method token); access token stored in the "
          f"keyring ({credentials.info.name})", file=ctx.out)
    return _check_login(args, ctx, org, credentials)


def _renew_token(args: argparse.Namespace, ctx: Context, token: str) -> int:
    """FILE was `sf org auth show-access-token --json`: renew a registered org's token."""
    if not token:
        raise UserError(f"{args.file}: no usable access token in it")
    if not args.org:
        raise UserError(f"{args.file} holds only an access token (sf org auth "
                        "show-access-token --json): name the registered org with --org ORG, or "
                        "give the output of `sf org display --json` as FILE and this one with "
                        "--token")
    try:
        org_id = normalize_org_id(args.org, "org")
    except ValidationError as exc:
        raise UserError(f"{args.org}: {exc.errors['org']}") from None
    store = ctx.store(write=True)
    org = store.find_org(org_id)
    if org is None:
        raise UserError(f"org {org_id} is not registered: import the output of `sf org display "
                        "--json` first, with this file as --token")
    if not org.instance_url:
        raise UserError(f"org {org_id} has no instance URL: org edit {org_id} --instance-url "
                        "https://...")
    if org.auth_method != "token":
        org = store.update_org(org_id, auth_method="token")
    credentials = _credentials(ctx)
    credentials.set(org_id, "access_token", token)
    print(f"access token of {org.org_id} {clean(org.name)} renewed in the keyring "
          f"({credentials.info.name})", file=ctx.out)
    return _check_login(args, ctx, org, credentials)


def _credentials(ctx: Context) -> Any:
    credentials = ctx.credentials()
    if not credentials.available:

        raise CredentialsUnavailable("no secure keyring in this session", explain_unavailable())
    return credentials


def _check_login(args: argparse.Namespace, ctx: Context, org: Org, credentials: Any) -> int:
    """Log in with what was just stored, as `login` does (exit 1 when it fails)."""
    if args.no_check:
        return 0
    # login's helpers pull the Salesforce client: only when used
    from juston_tui.commands.login import try_login

    ok, message, warnings = try_login(org, credentials, args.timeout)
    for warning in warnings:
        print(f"juston-tui: warning: {warning}", file=ctx.err)
    if ok:
        print(f"ok: {message}", file=ctx.out)
        return 0
    print(f"juston-tui: login failed: {message} (the token is stored; get a fresh one with "
          f"`{_show_token_command({'username': org.username})}`)", file=ctx.err)
    return 1


# -- vendor subscribers -----------------------------------------------------------------------
def _render_plan(ctx: Context, plan: Sequence[Mapping[str, Any]]) -> None:
    # rich console/table: ~0.1 s to import, only when a command prints for a terminal
    from rich.text import Text

    styles = {"add": "green", "update": "yellow", "same": "dim"}
    rows = []
    for item in plan:
        versions = ", ".join(f"{p} {v}" for p, v in sorted(item["versions"].items()) if v)
        changes = "" if item["action"] != "update" else ", ".join(sorted(item["changes"]))
        rows.append((Text(item["action"], style=styles[item["action"]]), item["org_id"],
                     clean(item["name"]), item["kind"], clean(item["status"] or ""),
                     clean(item["instance"] or ""), clean(versions),
                     item["parent_org_id"] or "", changes))
    ctx.print_table(("Action", "Org key", "Name", "Type", "Status", "Instance", "Installed",
                     "Parent org", "Changes"), rows)


def _stamp() -> str:

    return now_utc().strftime("%Y-%m-%dT%H:%M:%SZ")


def run_import_vendor(args: argparse.Namespace, ctx: Context) -> int:
    # the Salesforce client (requests): only when an org is contacted
    from juston_tui.salesforce.errors import AccessError
    from juston_tui.salesforce.vendor import fetch_subscribers

    try:
        vendor_id = normalize_org_id(args.from_vendor, "org")
    except ValidationError as exc:
        raise UserError(f"{args.from_vendor}: {exc.errors['org']}") from None
    store = ctx.store(write=args.yes)
    vendor = store.find_org(vendor_id)
    if vendor is None:
        raise UserError(f"vendor org {vendor_id} is not registered: add it with juston-tui org "
                        f"add {vendor_id} --name NAME --vendor ...")
    credentials = ctx.credentials()
    latest: dict[str, CurrentVersion] = {}
    try:
        subscribers = fetch_subscribers(vendor, credentials, timeout=args.timeout,
                                        settings=ProbeSettings.for_store(store),
                                        versions=latest)
    except AccessError as exc:
        print(f"juston-tui: error: cannot read the vendor org: {exc}", file=ctx.err)
        return 2
    plan = plan_vendor_import(store, subscribers, vendor_id)
    counts = {a: sum(1 for p in plan if p["action"] == a) for a in ("add", "update", "same")}
    if args.json:
        ctx.print_json({"applied": bool(args.yes), "counts": counts, "orgs": plan})
    else:
        _render_plan(ctx, plan)
    if not vendor.vendor:
        print(f"note: {vendor_id} is not marked as the vendor org (org edit {vendor_id} "
              "--vendor)", file=ctx.err)
    if not args.yes:
        if not args.json:
            print(f"would add {counts['add']}, update {counts['update']}, leave "
                  f"{counts['same']} unchanged; run again with --yes to apply", file=ctx.out)
        return 0
    added, updated = apply_plan(store, plan)
    # The packaging org's latest released versions become what `status` calls current.
    remember_vendor_versions(store, latest, vendor_id, _stamp())
    if not args.json:
        print(f"added {added}, updated {updated}, {counts['same']} unchanged", file=ctx.out)
    return 0
