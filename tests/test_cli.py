"""The command-line contract: clear one-line errors, JSON for scripts, doctor, db restore."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from juston_tui.cli import main

ORG15 = "00D5g000004Xyz1"
ORG = "00D5g000004Xyz1EAC"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    try:
        code = main(list(argv))
    except SystemExit as exc:  # argparse refuses a bad argument: usage and one error line
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def test_org_add_list_edit_remove(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = str(tmp_path / "s.json")
    code, out, _ = run(capsys, "--db", db, "org", "add", ORG15, "--name", "Acme [b]GmbH[/b]",
                       "--tag", "eu")
    assert code == 0 and ORG in out
    code, out, _ = run(capsys, "--db", db, "org", "list", "--json")
    payload = json.loads(out)
    assert payload["orgs"][0]["org_id"] == ORG
    assert payload["orgs"][0]["name"] == "Acme [b]GmbH[/b]"
    code, _, _ = run(capsys, "--db", db, "org", "edit", ORG15, "--notes", "n1")
    assert code == 0
    code, out, _ = run(capsys, "--db", db, "org", "list")
    assert "Acme [b]GmbH[/b]" in out  # literal, not rendered as markup
    code, out, _ = run(capsys, "--db", db, "org", "remove", ORG)
    assert code == 0
    code, out, _ = run(capsys, "--db", db, "org", "list", "--json")
    assert json.loads(out) == {"orgs": []}


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        (["org", "add", "00D5g000004Xyz1EAD", "--name", "x"], "checksum mismatch"),
        (["org", "add", ORG15, "--name", "x", "--instance-url", "http://a"], "https://"),
        (["org", "add", ORG15, "--name", "x", "--method", "jwt"], "username"),
        (["org", "edit", ORG15, "--name", "y"], "no org"),
        (["org", "edit", ORG15], "nothing to change"),
        (["org", "remove", "garbage"], "org ID"),
        (["org", "add", ORG15, "--name", "x", "--instance-url", "https://[::1"],
         "instance-url: the instance URL is not a valid URL"),
        (["org", "add", ORG15, "--name", "x", "--instance-url", "https://a:99999"],
         "instance-url: the port in the instance URL is not between 1 and 65535"),
    ],
)
def test_user_mistakes_are_one_clear_line(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                          argv: list[str], fragment: str) -> None:
    code, _out, err = run(capsys, "--db", str(tmp_path / "s.json"), *argv)
    assert code == 2
    assert fragment in err
    assert "Traceback" not in err
    assert err.startswith("juston-tui: error:")


@pytest.mark.parametrize(("argv", "fragment"), [
    (["serve", "--port", "99999"], "argument --port: 99999 is not a TCP port (1 to 65535)"),
    (["serve", "--port", "http"], "argument --port: 'http' is not a TCP port (1 to 65535)"),
    (["simulator", "--port", "-1"], "argument --port: -1 is not a TCP port (0 to 65535)"),
])
def test_bad_ports_are_refused_at_the_argument(capsys: pytest.CaptureFixture[str],
                                               argv: list[str], fragment: str) -> None:
    code, _out, err = run(capsys, *argv)
    assert code == 2
    assert err.strip().splitlines()[-1].endswith(fragment)
    assert "Traceback" not in err


def test_read_only_refuses_changes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = str(tmp_path / "s.json")
    run(capsys, "--db", db, "org", "add", ORG15, "--name", "A")
    code, _, err = run(capsys, "--db", db, "--read-only", "org", "edit", ORG, "--name", "B")
    assert code == 2 and "read-only" in err
    code, out, _ = run(capsys, "--db", db, "--read-only", "org", "list", "--json")
    assert json.loads(out)["orgs"][0]["name"] == "A"


def test_env_var_sets_the_store(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JUSTON_TUI_DB", str(tmp_path / "env.json"))
    run(capsys, "org", "add", ORG15, "--name", "A")
    assert (tmp_path / "env.json").exists()


def test_corrupt_store_gives_the_way_on_and_restore_works(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "s.json"
    run(capsys, "--db", str(db), "org", "add", ORG15, "--name", "A")
    code, out, _ = run(capsys, "--db", str(db), "db", "backup")
    backup = out.strip()
    db.write_bytes(b'{"orgs": {"1": ')
    code, _, err = run(capsys, "--db", str(db), "org", "list")
    assert code == 2
    assert str(db) in err and "left exactly as it is" in err and backup in err
    assert db.read_bytes() == b'{"orgs": {"1": '
    code, out, _ = run(capsys, "--db", str(db), "db", "restore", backup)
    assert code == 0 and "damaged" in out
    code, out, _ = run(capsys, "--db", str(db), "org", "list", "--json")
    assert json.loads(out)["orgs"][0]["name"] == "A"


def test_doctor_reports_backend_paths_and_health(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DBUS_SESSION_BUS_ADDRESS", raising=False)
    db = str(tmp_path / "s.json")
    run(capsys, "--db", db, "org", "add", ORG15, "--name", "A")
    code, out, _ = run(capsys, "--db", db, "doctor", "--json")
    report = json.loads(out)
    assert code == 0
    assert report["store"]["counts"]["orgs"] == 1
    assert report["store"]["mode"] == "0o600"
    assert report["keyring"]["usable"] is False
    assert "JUSTON_TUI_KEYRING=cryptfile" in report["keyring"]["explanation"]
    code, out, _ = run(capsys, "--db", db, "doctor")
    assert "Store" in out and "Credentials" in out and "health:  OK" in out


def test_serve_refuses_non_loopback(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "serve", "--host", "0.0.0.0")
    assert code == 2 and "loopback" in err


def test_console_script_and_module_entry_points(tmp_path: Path) -> None:
    env = {**os.environ, "JUSTON_TUI_DB": str(tmp_path / "s.json")}
    for cmd in ([sys.executable, "-m", "juston_tui", "org", "list", "--json"],
                [str(Path(sys.executable).parent / "juston-tui"), "org", "list", "--json"]):
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=60)
        assert proc.returncode == 0, proc.stderr
        assert json.loads(proc.stdout) == {"orgs": []}


@pytest.mark.parametrize("where", ["dir", "unwritable-parent"])
def test_unusable_store_paths_are_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                           where: str) -> None:
    target = {"dir": tmp_path, "unwritable-parent": Path("/proc/nope/s.json")}[where]
    code, _, err = run(capsys, "--db", str(target), "org", "list")
    assert code == 2
    assert err.startswith("juston-tui: error:") and "Traceback" not in err
    assert str(target) in err


@pytest.mark.parametrize(
    ("argv", "needed"),
    [([], False), (["--db", "x.json", "--read-only"], False), (["--demo", "--no-mouse"], False),
     (["--keyring", "cryptfile"], False), (["org", "list"], True), (["--db", "x", "doctor"], True),
     (["--help"], True), (["--db", "org"], False)],
)
def test_the_tui_path_skips_the_command_parsers(argv: list[str], needed: bool) -> None:
    from juston_tui.cli import wants_command

    assert wants_command(argv) is needed


def test_tui_options_parse_without_the_command_parsers() -> None:
    from juston_tui.cli import build_parser

    args = build_parser(with_commands=False).parse_args(["--db", "x.json", "--read-only"])
    assert args.command is None and args.db == "x.json" and args.read_only


def test_choosing_the_password_method_says_what_salesforce_does_with_soap_login(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Help 005132110: off by default in new orgs, "Use Any API Auth" from Summer '26, gone from
    API 65.0, retired for 31.0-64.0 in Summer '27; JWT / client credentials via an External
    Client App instead (Help 005228017)."""
    db = str(tmp_path / "s.json")
    code = main(["--db", db, "org", "add", "00D5g000004Xyz1", "--name", "Acme",
                 "--method", "password", "--username", "a@b.example"])
    err = capsys.readouterr().err
    assert code == 0
    for words in ("API 65.0", "Summer '27", "31.0-64.0", "Use Any API Auth",
                  "switched off until an admin enables it", "External Client App", "jwt",
                  "client-credentials"):
        assert words in err, words
    with pytest.raises(SystemExit):
        main(["org", "add", "--help"])
    help_text = " ".join(capsys.readouterr().out.split())
    assert "gone from API 65.0" in help_text and "External Client App" in help_text


# -- exports never clobber (issue 15) ----------------------------------------------------------
@pytest.mark.parametrize("argv", [["contacts", "export"], ["calendar", "--ics"]])
def test_an_export_never_replaces_an_existing_file_without_force(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str]) -> None:
    db = str(tmp_path / "s.json")
    run(capsys, "--db", db, "contacts", "add", "--name", "Anna", "--email", "anna@x.de",
        "--title", "CFO")
    theirs = tmp_path / "passwd"
    theirs.write_bytes(b"root:x:0:0:root:/root:/bin/bash\n")
    os.chmod(theirs, 0o644)
    before = theirs.stat()
    code, _, err = run(capsys, "--db", db, *argv, str(theirs))
    assert code == 2
    assert err.strip() == f"juston-tui: error: {theirs} exists; add --force to replace it"
    assert theirs.read_bytes() == b"root:x:0:0:root:/root:/bin/bash\n"
    after = theirs.stat()
    assert (after.st_ino, after.st_mode, after.st_mtime_ns) == (
        before.st_ino, before.st_mode, before.st_mtime_ns)
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")) == []
    code, _, err = run(capsys, "--db", db, *argv, str(theirs), "--force")
    assert code == 0, err
    assert theirs.read_bytes() != b"root:x:0:0:root:/root:/bin/bash\n"
    fresh = tmp_path / "new-export"
    code, _, err = run(capsys, "--db", db, *argv, str(fresh))
    assert code == 0 and fresh.exists(), err


SANDBOX = "00D5g000006Sbx1EAC"


def test_push_request_and_push_states_from_the_command_line(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The registry's `p` screen, as commands: the request text, then requested/registered."""
    db = str(tmp_path / "s.json")
    assert run(capsys, "--db", db, "org", "add", ORG, "--name", "Acme GmbH")[0] == 0
    assert run(capsys, "--db", db, "org", "add", SANDBOX, "--name", "Acme UAT",
               "--type", "sandbox", "--parent", ORG)[0] == 0
    assert run(capsys, "--db", db, "contacts", "add", "--name", "Anna Admin", "--email",
               "anna@acme.de", "--title", "Admin", "--org", ORG)[0] == 0
    code, out, err = run(capsys, "--db", db, "org", "push-request", ORG, SANDBOX)
    assert code == 0 and "Subject: JustOn Upgrade request" in out
    assert f"Org ID: {ORG15} ({ORG})" in out and "Acme UAT" not in out  # no ticket: not in
    assert "Anna Admin, anna@acme.de, Admin" in out
    assert "Acme UAT: sandbox: not included" in err and "never checked" in err
    target = tmp_path / "request.txt"
    target.write_text("mine")
    code, _, err = run(capsys, "--db", db, "org", "push-request", ORG, "--out", str(target))
    assert code == 2 and "--force" in err and target.read_text() == "mine"
    code, out, err = run(capsys, "--db", db, "org", "push", ORG, "--state", "requested")
    assert code == 1 and "ticket number is required" in err
    code, out, _ = run(capsys, "--db", db, "org", "push", ORG, "--state", "requested",
                       "--ticket", "JO-1", "--on", "2026-11-30")
    assert code == 0 and out.strip().endswith("requested")
    code, out, _ = run(capsys, "--db", db, "org", "push", ORG, "--state", "registered")
    assert code == 0
    _, out, _ = run(capsys, "--db", db, "org", "show", ORG, "--json")
    push = json.loads(out)["push"]
    assert push["state"] == "registered" and push["ticket"] == "JO-1"
    assert push["requested_on"] == "2026-11-30"
    code, _, err = run(capsys, "--db", db, "--read-only", "org", "push", ORG, "--state",
                       "withdrawn")
    assert code == 2 and "--read-only" in err
