"""`juston-tui login --from-file`: many orgs' secrets in one atomic write of the encrypted file."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from keyrings.cryptfile.cryptfile import CryptFileKeyring

from juston_tui import credentials
from juston_tui.cli import main
from juston_tui.credentials import open_credentials
from juston_tui.model import Org
from juston_tui.simulator.ids import make_org_id
from juston_tui.store import Store

PASSPHRASE = "correct horse battery staple"
TOKEN_ORGS = [make_org_id(f"from-file-{i}") for i in range(40)]
PASSWORD_ORG = make_org_id("from-file-password")
JWT_ORG = make_org_id("from-file-jwt")


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A store with 40 token orgs, a password org and a jwt org; the encrypted file keyring
    (cheap Argon2 for ours and stock alike), already created."""
    monkeypatch.setattr(CryptFileKeyring, "time_cost", 1)
    monkeypatch.setattr(CryptFileKeyring, "memory_cost", 1024)
    monkeypatch.setenv(credentials.MODE_ENV, "cryptfile")
    monkeypatch.setenv(credentials.PASSPHRASE_ENV, PASSPHRASE)
    monkeypatch.setenv(credentials.FILE_ENV, str(tmp_path / "credentials.cfg"))
    path = tmp_path / "store.json"
    store = Store.open(path)
    common = {"instance_url": "https://acme.my.salesforce.com", "username": "a@example.com",
              "consumer_key": "3MVG9key"}
    store.put_orgs(
        [Org.create(org_id=o, name=f"Org {i}", auth_method="token", **common)
         for i, o in enumerate(TOKEN_ORGS)]
        + [Org.create(org_id=PASSWORD_ORG, name="Pw", auth_method="password", **common),
           Org.create(org_id=JWT_ORG, name="Jwt", auth_method="jwt", **common)])
    store.close()
    open_credentials("cryptfile")  # the file exists, unlocked once, before the command
    return path


def pem() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


def line(org_id: str, kind: str, value: str) -> str:
    return json.dumps({"org_id": org_id, "kind": kind, "value": value})


def run(capsys: pytest.CaptureFixture[str], db: Path, *argv: str) -> tuple[int, str, str]:
    code = main(["--db", str(db), *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_many_orgs_from_a_file_in_one_write(db: Path, tmp_path: Path, capsys: Any,
                                            writes: list[int]) -> None:
    key = pem()
    lines = ["# exported from the vault", ""]
    lines += [line(o, "access_token", f"00D!token-{i}-secret") for i, o in enumerate(TOKEN_ORGS)]
    lines += [line(PASSWORD_ORG, "password", "pw-secret"),
              line(PASSWORD_ORG, "security_token", "st-secret"),
              line(JWT_ORG, "private_key", key)]
    source = tmp_path / "secrets.jsonl"
    source.write_text("\n".join(lines) + "\n")
    code, out, err = run(capsys, db, "login", "--from-file", str(source))
    assert code == 0, err
    assert "stored 43 secret(s) for 42 org(s)" in out
    assert writes == [1]  # one rewrite of the encrypted file for 43 secrets
    for secret in ("token-", "pw-secret", "st-secret", "PRIVATE KEY"):
        assert secret not in out + err
    raw = (tmp_path / "credentials.cfg").read_text()
    assert "token-7-secret" not in raw and "pw-secret" not in raw
    again = open_credentials("cryptfile")
    assert again.get(TOKEN_ORGS[7], "access_token") == "00D!token-7-secret"
    assert again.get(PASSWORD_ORG, "security_token") == "st-secret"
    assert again.get(JWT_ORG, "private_key") == key.strip() + "\n"
    # The stock keyrings.cryptfile reads what --from-file wrote.
    stock = CryptFileKeyring()
    stock.file_path = str(tmp_path / "credentials.cfg")
    stock.keyring_key = PASSPHRASE
    assert stock.get_password(credentials.SERVICE, f"{TOKEN_ORGS[39]}:access_token") == \
        "00D!token-39-secret"


def test_from_stdin_and_a_key_file_path(db: Path, tmp_path: Path, capsys: Any,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    key_file = tmp_path / "key.pem"
    key_file.write_text(pem())
    text = line(JWT_ORG, "private_key", str(key_file)) + "\n" + line(
        TOKEN_ORGS[0][:15], "access_token", "  tok-from-stdin  ") + "\n"
    monkeypatch.setattr(sys, "stdin", io.StringIO(text))
    code, out, err = run(capsys, db, "login", "--from-file", "-")
    assert code == 0, err
    assert "stored 2 secret(s) for 2 org(s)" in out
    again = open_credentials("cryptfile")
    assert again.get(TOKEN_ORGS[0], "access_token") == "tok-from-stdin"  # 15-char ID taken
    assert again.get(JWT_ORG, "private_key") == key_file.read_text().strip() + "\n"


def test_any_wrong_line_refuses_the_whole_file(db: Path, tmp_path: Path, capsys: Any,
                                               writes: list[int]) -> None:
    cfg = tmp_path / "credentials.cfg"
    before = cfg.read_bytes()
    unknown = make_org_id("not-registered")
    lines = [
        line(TOKEN_ORGS[0], "access_token", "good-secret-1"),        # 1 fine
        '{"org_id": "00D", "kind": "access_token", "value": "lost-secret-2"',  # 2 not JSON
        line(unknown, "access_token", "lost-secret-3"),               # 3 not registered
        line(TOKEN_ORGS[1], "password", "lost-secret-4"),             # 4 method mismatch
        line(TOKEN_ORGS[0], "access_token", "lost-secret-5"),         # 5 duplicate of 1
        line(TOKEN_ORGS[2], "access_token", "   "),                   # 6 empty
        json.dumps({"org_id": TOKEN_ORGS[3], "value": "lost-secret-7"}),  # 7 no kind
        line("00Dnot-an-id", "access_token", "lost-secret-8"),        # 8 bad org ID
        line(JWT_ORG, "private_key", "lost-secret-9"),                # 9 no such key file
        json.dumps(["lost-secret-10"]),                               # 10 not an object
        line(TOKEN_ORGS[4], "access_token", "good-secret-11"),        # 11 fine
    ]
    source = tmp_path / "secrets.jsonl"
    source.write_text("\n".join(lines) + "\n")
    writes.clear()
    code, out, err = run(capsys, db, "login", "--from-file", str(source))
    assert code == 2
    assert "nothing stored: 9 line(s)" in err
    for number in range(2, 11):
        assert f"line {number}: " in err
    assert "line 1:" not in err and "line 11:" not in err
    assert "not registered" in err and "first on line 1" in err and "token takes access_token" \
        in err and "missing kind" in err and "no such key file" in err
    assert "secret-" not in out + err  # no value is ever echoed, good or bad
    assert writes == [] and cfg.read_bytes() == before
    assert open_credentials("cryptfile").get(TOKEN_ORGS[0], "access_token") is None


def test_refused_in_read_only_and_with_an_org(db: Path, tmp_path: Path, capsys: Any) -> None:
    source = tmp_path / "secrets.jsonl"
    source.write_text(line(TOKEN_ORGS[0], "access_token", "ro-secret") + "\n")
    before = (tmp_path / "credentials.cfg").read_bytes()
    code, _, err = run(capsys, db, "--read-only", "login", "--from-file", str(source))
    assert code == 2 and "--read-only" in err
    code, _, err = run(capsys, db, "login", TOKEN_ORGS[0], "--from-file", str(source))
    assert code == 2 and "--from-file takes no ORG" in err
    code, _, err = run(capsys, db, "login", "--from-file", str(tmp_path / "missing.jsonl"))
    assert code == 2 and "no such file" in err
    empty = tmp_path / "empty.jsonl"
    empty.write_text("# nothing yet\n\n")
    code, _, err = run(capsys, db, "login", "--from-file", str(empty))
    assert code == 2 and "no secrets" in err
    assert (tmp_path / "credentials.cfg").read_bytes() == before
    assert "ro-secret" not in err
