"""`juston-tui login ORG [--method M] [--secret-stdin]`: store an org's secrets, then try them.

Secrets go to the keyring only, read without echo (getpass) or from stdin for scripts, and
are never printed. What is read, in this order, one per line on stdin:

  jwt                 the private key: a path to a PEM file, or the PEM text itself
  client-credentials  the consumer secret
  password            the password, then the security token (an empty line if none)
  token               the access token

`juston-tui login --from-file FILE` (`-` for stdin) stores many orgs' secrets in one write,
no test login. FILE has one JSON object per line (blank lines and lines starting with #
are skipped):

  {"org_id": "00D5g000004Xyz1EAC", "kind": "access_token", "value": "..."}

kind is one the org's auth method uses: private_key (jwt; a PEM file's path or its text),
consumer_secret (client-credentials), password and security_token (password), access_token
(token). Every line is checked first; any mistake refuses the whole file, naming its lines
(never a secret), and nothing is stored.
"""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import IO, TYPE_CHECKING

from juston_tui.commands import Context, UserError
from juston_tui.credentials import CredentialsUnavailable, explain_unavailable
from juston_tui.model import AUTH_METHODS, Org, ValidationError, has_surrogates, normalize_org_id
from juston_tui.salesforce.auth_help import (
    METHOD_HELP,
    PASSWORD_METHOD_FACTS,
    SOAP_RETIREMENT_WARNING,
)
from juston_tui.text import clean

if TYPE_CHECKING:
    from juston_tui.credentials import CredentialStore
    from juston_tui.store import Store

PROMPTS = {
    "private_key": "Private key (path to the PEM file)",
    "consumer_secret": "Consumer secret",
    "password": "Password",
    "security_token": "Security token (empty if the IP range is trusted)",
    "access_token": "Access token",
}
OPTIONAL = ("security_token",)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "login",
        help="store an org's secrets in the keyring and try a login",
        description=__doc__.split("\n\n", 1)[1] if __doc__ else None,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("org_id", metavar="ORG", nargs="?", help="a registered org ID")
    p.add_argument("--from-file", metavar="FILE",
                   help="store many orgs' secrets from FILE (JSON lines, see above; - for "
                   "stdin) in one write; no test login")
    p.add_argument("--method", choices=AUTH_METHODS,
                   help="change the org's auth method first (default: the registered one): "
                   + METHOD_HELP)
    p.add_argument("--secret-stdin", action="store_true",
                   help="read the secrets from stdin, one per line (see above)")
    p.add_argument("--no-check", action="store_true", help="store the secrets, do not log in")
    p.add_argument("--timeout", type=float, default=30.0, metavar="S",
                   help="time limit for the test login (default 30)")
    p.set_defaults(func=run, online=True)


def read_secrets(kinds: tuple[str, ...], method: str, *, stdin: IO[str] | None,
                 ask: Callable[[str], str] | None = None) -> dict[str, str]:
    """The secrets for `kinds`, from stdin lines (or all of stdin for PEM text) or getpass."""
    values: dict[str, str] = {}
    if stdin is not None:
        try:
            text = stdin.read()
        except UnicodeDecodeError:
            raise UserError("the secret on stdin is not valid UTF-8 text") from None
        if has_surrogates(text):  # undecodable bytes smuggled in by surrogateescape
            raise UserError("the secret on stdin is not valid UTF-8 text")
        if method == "jwt" and "-----BEGIN" in text:
            return {"private_key": text.strip() + "\n"}
        lines = text.splitlines()
        for i, kind in enumerate(kinds):
            values[kind] = lines[i].strip() if i < len(lines) else ""
        return values

    prompt = ask or getpass.getpass
    for kind in kinds:
        values[kind] = prompt(f"{PROMPTS[kind]}: ").strip()
        if has_surrogates(values[kind]):
            raise UserError("the secret typed is not valid UTF-8 text")
    return values


def load_private_key(value: str) -> str:
    """PEM text from PEM text or a path; refuse anything that is not an RSA private key."""
    text = value
    if "-----BEGIN" not in value:
        path = Path(value).expanduser()
        if not path.is_file():
            raise ValidationError.single("private_key", f"no such key file: {clean(value)[:80]}")
        text = path.read_text("utf-8", errors="replace")
    if "PRIVATE KEY-----" not in text:
        raise ValidationError.single("private_key", "not a PEM private key "
                                     "(expected -----BEGIN PRIVATE KEY-----)")
    # cryptography: ~0.13 s to import, only when a key is made or read
    from cryptography.hazmat.primitives import serialization

    try:
        serialization.load_pem_private_key(text.encode(), password=None)
    except (ValueError, TypeError):
        raise ValidationError.single(
            "private_key", "the PEM private key cannot be read (encrypted keys are not supported)"
        ) from None
    return text.strip() + "\n"


def store_secrets(org: Org, values: dict[str, str], credentials: CredentialStore) -> list[str]:
    """Validate and store; returns the kinds stored (an empty optional one is deleted)."""
    stored = []
    for kind, value in values.items():
        if kind == "private_key" and value:
            value = load_private_key(value)
        if not value:
            if kind in OPTIONAL:
                credentials.delete(org.org_id, kind)
                continue
            raise ValidationError.single(kind, f"the {PROMPTS[kind].split(' (')[0].lower()} is "
                                         "empty")
        credentials.set(org.org_id, kind, value)
        stored.append(kind)
    return stored


def try_login(
    org: Org, credentials: CredentialStore, timeout: float
) -> tuple[bool, str, list[str]]:
    """(ok, one line, warnings): log in and read the Organization record to prove it."""
    # the Salesforce client (requests): only when an org is contacted
    from juston_tui.salesforce.connection import OrgConnection
    from juston_tui.salesforce.errors import SessionExpired, describe_error

    conn = OrgConnection(org, credentials, timeout=timeout)
    try:
        result = conn.call(lambda sf: sf.query("SELECT Id, Name FROM Organization"))
        record = (result.get("records") or [{}])[0]
        found = str(record.get("Id") or "")
        if found[:15] != org.org_id[:15]:
            return False, (f"these credentials reach org {clean(found) or '?'}, not "
                           f"{org.org_id}"), conn.warnings
        return True, f"logged in to {clean(record.get('Name'))} ({org.org_id})", conn.warnings
    except SessionExpired:
        what = "access token" if org.auth_method == "token" else "new session"
        return False, f"the {what} was refused (expired or invalid)", conn.warnings
    except Exception as exc:
        return False, describe_error(exc, secrets=conn.secrets(), timeout=timeout,
                                     login_hint="check the secrets and try again"), conn.warnings
    finally:
        conn.close()


FILE_KEYS = ("org_id", "kind", "value")
MAX_ERRORS_SHOWN = 20


def _file_text(name: str) -> str:
    """The text of `name` (or of stdin for `-`), refused if it is not UTF-8."""
    try:
        if name == "-":
            text = sys.stdin.read()
        else:
            path = Path(name).expanduser()
            if not path.is_file():
                raise UserError(f"no such file: {clean(name)[:200]}")
            text = path.read_text("utf-8")
    except UnicodeDecodeError:
        raise UserError(f"{clean(name)[:200]} is not valid UTF-8 text") from None
    except OSError as exc:
        raise UserError(f"cannot read {clean(name)[:200]}: {exc.strerror or exc}") from None
    if has_surrogates(text):  # undecodable bytes smuggled in by surrogateescape
        raise UserError(f"{clean(name)[:200]} is not valid UTF-8 text")
    return text


def _file_line(number: int, line: str, store: Store, seen: dict[tuple[str, str], int],
               ) -> tuple[tuple[str, str], str]:
    """One line of a --from-file file, checked: ((org_id, kind), value). Raises ValueError
    with what is wrong (never the value)."""
    # the Salesforce client (requests): only when an org is contacted
    from juston_tui.salesforce.connection import required_secrets

    try:
        entry = json.loads(line)
    except json.JSONDecodeError as exc:
        raise ValueError(f"not a JSON object ({exc.msg}, column {exc.colno})") from None
    if not isinstance(entry, dict):
        raise ValueError('not a JSON object: {"org_id": .., "kind": .., "value": ..}')
    missing = [key for key in FILE_KEYS if key not in entry]
    unknown = sorted(clean(str(key))[:40] for key in entry if key not in FILE_KEYS)
    if missing or unknown:
        raise ValueError("; ".join(
            ([f"missing {', '.join(missing)}"] if missing else [])
            + ([f"unknown field {', '.join(unknown)}"] if unknown else [])))
    if not all(isinstance(entry[key], str) for key in FILE_KEYS):
        raise ValueError("org_id, kind and value must be strings")
    try:
        org_id = normalize_org_id(entry["org_id"], "org")
    except ValidationError as exc:
        raise ValueError(f"org_id: {exc.errors['org']}") from None
    org = store.find_org(org_id)
    if org is None:
        raise ValueError(f"org {org_id} is not registered")
    kind = entry["kind"]
    kinds = required_secrets(org.auth_method)
    if kind not in kinds:
        raise ValueError(f"kind {clean(kind)[:40]!r} is not used by org {org_id} (auth method "
                         f"{org.auth_method} takes {', '.join(kinds)})")
    if (org_id, kind) in seen:
        raise ValueError(f"{kind} of {org_id} again (first on line {seen[(org_id, kind)]})")
    seen[(org_id, kind)] = number
    value = entry["value"].strip() if kind != "private_key" else entry["value"]
    if not value.strip():
        raise ValueError(f"empty {kind} for {org_id} (leave the line out instead)")
    if kind == "private_key":
        if "-----BEGIN" not in value and not Path(value).expanduser().is_file():
            raise ValueError(f"private_key of {org_id}: no such key file (give the path of "
                             "a PEM file or the PEM text)")
        try:
            value = load_private_key(value)
        except ValidationError as exc:
            raise ValueError(f"private_key of {org_id}: {exc.errors['private_key']}") from None
    return (org_id, kind), value


def read_secrets_file(text: str, store: Store) -> dict[tuple[str, str], str]:
    """Every secret of a --from-file file; any mistake refuses it all, naming the lines."""
    secrets: dict[tuple[str, str], str] = {}
    seen: dict[tuple[str, str], int] = {}
    errors: list[str] = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        try:
            key, value = _file_line(number, line, store, seen)
        except ValueError as exc:
            errors.append(f"line {number}: {exc}")
            continue
        secrets[key] = value
    if errors:
        shown = errors[:MAX_ERRORS_SHOWN]
        if len(errors) > len(shown):
            shown.append(f"... and {len(errors) - len(shown)} more")
        raise UserError(f"nothing stored: {len(errors)} line(s) of the file are wrong:\n  "
                        + "\n  ".join(shown))
    if not secrets:
        raise UserError("nothing stored: the file has no secrets")
    return secrets


def run_from_file(args: argparse.Namespace, ctx: Context) -> int:
    if args.org_id or args.method or args.secret_stdin:
        raise UserError("--from-file takes no ORG, --method or --secret-stdin (the file names "
                        "the orgs; change a method with juston-tui org edit)")
    if ctx.read_only:
        raise UserError("login --from-file changes the keyring, but --read-only was given")
    store = ctx.store()
    secrets = read_secrets_file(_file_text(args.from_file), store)
    credentials = ctx.credentials()
    if not credentials.available:
        raise CredentialsUnavailable("no secure keyring in this session", explain_unavailable())
    credentials.set_many(secrets)
    orgs = len({org_id for org_id, _ in secrets})
    print(f"stored {len(secrets)} secret(s) for {orgs} org(s) in the keyring "
          f"({credentials.info.name}); check them with juston-tui status", file=ctx.out)
    return 0


def run(args: argparse.Namespace, ctx: Context) -> int:
    # the Salesforce client (requests): only when an org is contacted
    from juston_tui.salesforce.connection import required_secrets

    if args.from_file is not None:
        return run_from_file(args, ctx)
    if not args.org_id:
        raise UserError("login needs an ORG (or --from-file FILE)")
    try:
        org_id = normalize_org_id(args.org_id, "org")
    except ValidationError as exc:
        raise UserError(f"{args.org_id}: {exc.errors['org']}") from None
    store = ctx.store(write=bool(args.method))
    org = store.find_org(org_id)
    if org is None:
        raise UserError(f"org {org_id} is not registered: add it first with "
                        f"juston-tui org add {org_id} --name NAME ...")
    if args.method and args.method != org.auth_method:
        org = store.update_org(org_id, auth_method=args.method)
        print(f"auth method of {org_id} is now {org.auth_method}", file=ctx.err)
    explained = args.method == "password"  # chosen here: say what that method means
    if explained:
        print(f"juston-tui: warning: {PASSWORD_METHOD_FACTS}", file=ctx.err)
    credentials = ctx.credentials()
    if not credentials.available:

        raise CredentialsUnavailable("no secure keyring in this session", explain_unavailable())
    kinds = required_secrets(org.auth_method)
    if not args.secret_stdin and not sys.stdin.isatty():
        raise UserError("no terminal to ask for the secret: pipe it in with --secret-stdin")
    values = read_secrets(kinds, org.auth_method, stdin=sys.stdin if args.secret_stdin else None)
    stored = store_secrets(org, values, credentials)
    names = ", ".join(k.replace("_", " ") for k in stored) or "nothing"
    print(f"stored {names} for {org_id} in the keyring ({credentials.info.name})", file=ctx.out)
    if args.no_check:
        return 0
    ok, message, warnings = try_login(org, credentials, args.timeout)
    for warning in warnings:
        if not (explained and warning == SOAP_RETIREMENT_WARNING):
            print(f"juston-tui: warning: {warning}", file=ctx.err)
    if ok:
        print(f"ok: {message}", file=ctx.out)
        return 0
    print(f"juston-tui: login failed: {message}", file=ctx.err)
    return 1
