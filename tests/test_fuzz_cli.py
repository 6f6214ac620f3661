"""Hostile input on the command line: long, empty, non-UTF-8, Rich markup, escape sequences.

Every command that takes text from a person (org add/edit, contacts add/import, login
--secret-stdin) is fed hypothesis-generated and hand-picked hostile values, in-process with a
UTF-8 stdout that refuses to encode garbage (as a UTF-8 terminal does). The outcome must be
success or a clear error: exit 1 or 2, one line `juston-tui: error: ...` (argparse's usage +
one error line for malformed options), never a traceback, never an escape sequence in the
output, and markup shown as typed.
"""

from __future__ import annotations

import contextlib
import io
import json
import re
import sys
import traceback
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from juston_tui import cli
from juston_tui.model import normalize_org_id

FUZZ = settings(max_examples=40, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow])

HOSTILE = [
    "",
    " ",
    "[bold red]Evil[/]",
    "[link=https://example.invalid]click[/link]",
    "[/]",
    "[",
    "\\[escaped]",
    "\x1b[31mred\x1b[0m",
    "\x1b]0;pwned\x07title",
    "\x1b[2J\x1b[H",
    "\x00nul",
    "line\nbreak\r\n",
    "\u202eevil-rtl",
    "🙂 emoji ß",
    "%s %n {0} {}",
    "-leading-dash",
    "A" * 5000,
    "x" * 201,
]

# Text as Python hands it over from a UTF-8 locale's argv: valid text only (the non-UTF-8
# bytes case, which arrives as lone surrogates, has its own test below).
text = st.one_of(
    st.sampled_from(HOSTILE),
    st.text(max_size=60),
    st.text(alphabet=st.sampled_from("[]/\\\x1b\x07;:=#@\n\r\t ab"), max_size=40),
    st.integers(min_value=150, max_value=3000).map(lambda n: "Ö" * n),
)

ERROR_LINE = re.compile(r"^juston-tui(?: [a-z-]+)*: error: \S")


@dataclass
class Outcome:
    code: int
    out: str
    err: str
    argv: list[str]


class UnhandledError(AssertionError):
    """cli.main raised instead of printing one clear line."""


def run_cli(db: Path, *argv: str, stdin: bytes = b"") -> Outcome:
    """cli.main in-process, with a strict UTF-8 stdout/stderr and stdin from bytes."""
    out_raw, err_raw = io.BytesIO(), io.BytesIO()
    out = io.TextIOWrapper(out_raw, encoding="utf-8", errors="strict", write_through=True)
    err = io.TextIOWrapper(err_raw, encoding="utf-8", errors="strict", write_through=True)
    fake_stdin = io.TextIOWrapper(io.BytesIO(stdin), encoding="utf-8",
                                  errors="surrogateescape")
    args = ["--db", str(db), "--keyring", "memory", *argv]
    old_stdin = sys.stdin
    sys.stdin = fake_stdin
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = cli.main(args)
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else 2
            except Exception as exc:
                raise UnhandledError(
                    f"juston-tui {args!r} raised {type(exc).__name__}: {exc}\n"
                    + "".join(traceback.format_exception(exc))) from exc
    finally:
        sys.stdin = old_stdin
    return Outcome(code, out_raw.getvalue().decode(), err_raw.getvalue().decode(), args)


def assert_clear(outcome: Outcome, *, row_report: bool = False) -> None:
    """Success, or exit 1/2 with one clear error line; never a traceback or an escape.

    `row_report`: exit 1 may also be a per-row report on stdout (contacts import's contract).
    """
    where = f"argv={outcome.argv!r}\nstdout={outcome.out!r}\nstderr={outcome.err!r}"
    assert outcome.code in (0, 1, 2), where
    both = outcome.out + outcome.err
    assert "Traceback" not in both, where
    assert "\x1b" not in both and "\x07" not in both, "escape sequence in output: " + where
    if outcome.code == 0:
        return
    if row_report and outcome.code == 1 and not outcome.err.strip():
        assert "line " in outcome.out and "ERROR" in outcome.out, where
        return
    lines = [line for line in outcome.err.splitlines() if line.strip()]
    assert lines, "an error without a message: " + where
    errors = [line for line in lines if ERROR_LINE.match(line)]
    # Exactly one error line, and it is the last thing said. Before it: argparse's usage, or
    # a `juston-tui:` note / a plain progress line (e.g. "auth method ... is now password").
    assert len(errors) == 1 and lines[-1] == errors[0], where
    if lines[0].startswith("usage:"):
        return
    assert all(not line.startswith((" ", "\t")) for line in lines), where


def org_id(n: int) -> str:
    return normalize_org_id(f"00D5g{n:010d}")


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "store.json"


# -- org add / edit --------------------------------------------------------------------------

@FUZZ
@given(name=text, notes=text, tag=text, username=text, url=text, raw_id=text,
       use_raw_id=st.booleans(), n=st.integers(0, 10**9))
def test_org_add_takes_or_refuses_hostile_text(db: Path, name: str, notes: str, tag: str,
                                               username: str, url: str, raw_id: str,
                                               use_raw_id: bool, n: int) -> None:
    the_id = raw_id if use_raw_id else org_id(n)
    outcome = run_cli(db, "org", "add", the_id, "--name", name, "--notes", notes,
                      "--tag", tag, "--username", username, "--instance-url", url)
    assert_clear(outcome)
    listing = run_cli(db, "org", "list")
    assert_clear(listing)
    assert listing.code == 0
    shown = run_cli(db, "org", "list", "--json")
    json.loads(shown.out)


@FUZZ
@given(name=text, notes=text, parent=text, domain=text, ticket=text)
def test_org_edit_takes_or_refuses_hostile_text(db: Path, name: str, notes: str, parent: str,
                                                domain: str, ticket: str) -> None:
    target = org_id(1)
    if run_cli(db, "org", "list", "--json").out.count(target) == 0:
        assert run_cli(db, "org", "add", target, "--name", "Target GmbH").code == 0
    for option, value in (("--name", name), ("--notes", notes), ("--parent", parent),
                          ("--domain", domain), ("--sandbox-push-ticket", ticket)):
        assert_clear(run_cli(db, "org", "edit", target, option, value))
    shown = run_cli(db, "org", "show", target)
    assert_clear(shown)
    assert shown.code == 0


# -- contacts add / import -------------------------------------------------------------------

@FUZZ
@given(name=text, email=st.one_of(text, st.emails()), title=text, role=text, notes=text,
       org=text)
def test_contacts_add_takes_or_refuses_hostile_text(db: Path, name: str, email: str,
                                                    title: str, role: str, notes: str,
                                                    org: str) -> None:
    outcome = run_cli(db, "contacts", "add", "--name", name, "--email", email, "--title", title,
                      "--role", role, "--notes", notes)
    assert_clear(outcome)
    assert_clear(run_cli(db, "contacts", "add", "--name", "N", "--email", "n@example.de",
                         "--title", "T", "--org", org))
    listing = run_cli(db, "contacts", "list")
    assert_clear(listing)
    assert listing.code == 0


def _csv_cell(value: str) -> str:
    return '"' + value.replace('"', '""') + '"'


@FUZZ
@given(rows=st.lists(st.tuples(text, text, text), max_size=5),
       garbage=st.binary(max_size=200), mode=st.sampled_from(["csv", "garbage", "vcard"]),
       apply=st.booleans())
def test_contacts_import_takes_or_refuses_hostile_files(db: Path, rows: list[tuple[str, ...]],
                                                        garbage: bytes, mode: str,
                                                        apply: bool) -> None:
    path = db.parent / f"import.{'vcf' if mode == 'vcard' else 'csv'}"
    if mode == "csv":
        body = "name,email,title\n" + "".join(
            ",".join(_csv_cell(v) for v in row) + "\n" for row in rows)
        path.write_bytes(body.encode("utf-8", "surrogatepass"))
    elif mode == "vcard":
        cards = "".join(f"BEGIN:VCARD\r\nVERSION:3.0\r\nFN:{n}\r\nEMAIL:{e}\r\nTITLE:{t}\r\n"
                        "END:VCARD\r\n" for n, e, t in rows)
        path.write_bytes(cards.encode("utf-8", "surrogatepass") + garbage[:20])
    else:
        path.write_bytes(garbage)
    args = ["contacts", "import", str(path)] + (["--yes"] if apply else [])
    assert_clear(run_cli(db, *args), row_report=True)
    listing = run_cli(db, "contacts", "list", "--json")
    assert listing.code == 0
    json.loads(listing.out)


# -- login --secret-stdin --------------------------------------------------------------------

@FUZZ
@given(secret=st.one_of(st.sampled_from(HOSTILE), st.text(max_size=200)),
       method=st.sampled_from(["token", "password", "client-credentials", "jwt"]))
def test_login_secret_stdin_takes_or_refuses_hostile_secrets(db: Path, secret: str,
                                                             method: str) -> None:
    target = org_id(2)
    if run_cli(db, "org", "list", "--json").out.count(target) == 0:
        assert run_cli(db, "org", "add", target, "--name", "Login GmbH", "--username",
                       "admin@login.example", "--consumer-key", "3MVG9abc",
                       "--instance-url", "https://login-gmbh.my.salesforce.com").code == 0
    outcome = run_cli(db, "login", target, "--method", method, "--secret-stdin", "--no-check",
                      stdin=secret.encode("utf-8", "surrogatepass"))
    assert_clear(outcome)
    # Whatever happened, the secret is not echoed back (it may be a person's real password).
    if method != "jwt" and len(secret.strip()) >= 6:  # jwt reads a key file path, not a secret
        assert secret.strip() not in outcome.out + outcome.err


# -- markup is shown as typed ------------------------------------------------------------------

def test_markup_and_escapes_are_shown_literally(db: Path) -> None:
    evil = "[bold red]Evil[/] \x1b]0;pwned\x07\x1b[31mCorp"
    assert run_cli(db, "org", "add", org_id(3), "--name", evil).code == 0
    assert run_cli(db, "contacts", "add", "--name", "[i]Anna[/i]", "--email", "anna@x.de",
                   "--title", "[link=https://x.invalid]CFO[/link]").code == 0
    for argv in (("org", "list"), ("org", "show", org_id(3)), ("contacts", "list")):
        outcome = run_cli(db, *argv)
        assert_clear(outcome)
    assert "[bold red]Evil[/]" in run_cli(db, "org", "list").out
    contacts = run_cli(db, "contacts", "list").out
    assert "[i]Anna[/i]" in contacts and "[link=https://x.invalid]CFO[/link]" in contacts


def test_the_checker_rejects_a_traceback_and_a_multi_line_error() -> None:
    """assert_clear can fail: it is not a rubber stamp."""
    with pytest.raises(AssertionError):
        assert_clear(Outcome(2, "", "Traceback (most recent call last):\n  boom\n", []))
    with pytest.raises(AssertionError):
        assert_clear(Outcome(2, "", "juston-tui: error: a\nsecond line\n", []))
    with pytest.raises(AssertionError):
        assert_clear(Outcome(0, "\x1b[31mred", "", []))
    assert_clear(Outcome(2, "", "juston-tui: error: name: the name is required\n", []))


# -- non-UTF-8 bytes (argv arrives as lone surrogates, stdin as undecodable bytes) ------------

NON_UTF8 = [b"\xff", b"caf\xe9 latin-1", b"\xed\xa0\x80 encoded surrogate", b"ok\x80\xfe"]


@pytest.mark.parametrize("raw", NON_UTF8, ids=["ff", "latin1", "surrogate", "mixed"])
@pytest.mark.parametrize("where", ["org-name", "org-notes", "contact-name", "contact-title",
                                   "login-stdin", "org-id"])
def test_non_utf8_input_is_refused_clearly(db: Path, raw: bytes, where: str) -> None:
    bad = raw.decode("utf-8", "surrogateescape")  # what Python makes of such argv bytes
    if where == "login-stdin":
        target = org_id(4)
        if run_cli(db, "org", "list", "--json").out.count(target) == 0:
            assert run_cli(db, "org", "add", target, "--name", "Bytes AG").code == 0
        outcome = run_cli(db, "login", target, "--method", "token", "--secret-stdin",
                          "--no-check", stdin=bad.encode("utf-8", "surrogateescape"))
        assert_clear(outcome)
        assert outcome.code != 0, "undecodable bytes were stored as a secret"
    else:
        argv = {
            "org-name": ["org", "add", org_id(5), "--name", bad],
            "org-notes": ["org", "add", org_id(6), "--name", "N", "--notes", bad],
            "contact-name": ["contacts", "add", "--name", bad, "--email", "b@x.de",
                             "--title", "T"],
            "contact-title": ["contacts", "add", "--name", "B", "--email", "c@x.de",
                              "--title", bad],
            "org-id": ["org", "add", bad, "--name", "N"],
        }[where]
        outcome = run_cli(db, *argv)
        assert_clear(outcome)
        assert outcome.code != 0, "text that is not UTF-8 was accepted"
    # Whatever happened, the store still opens and lists.
    assert run_cli(db, "org", "list", "--json").code == 0
