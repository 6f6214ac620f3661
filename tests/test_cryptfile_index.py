"""The encrypted credentials file at scale: one parse per change on disk, one write per batch.

Argon2 is made cheap here (time_cost 1, 1 MiB) for ours and the stock backend alike (ours
inherits the stock parameters), so these tests measure parses and writes, not key derivation.
"""

from __future__ import annotations

import configparser
import fcntl
import io
import os
import stat
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from keyrings.cryptfile.cryptfile import CryptFileKeyring

from juston_tui import credentials
from juston_tui.credentials import CredentialStore, open_credentials, open_cryptfile

PASSPHRASE = "correct horse"


def org(i: int) -> str:
    return f"00D{i:015d}"


@pytest.fixture(autouse=True)
def cheap_argon2(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(CryptFileKeyring, "time_cost", 1)
    monkeypatch.setattr(CryptFileKeyring, "memory_cost", 1024)


@pytest.fixture
def path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    file = tmp_path / "creds" / "credentials.cfg"
    monkeypatch.setenv(credentials.FILE_ENV, str(file))
    return file


@pytest.fixture
def parses(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Every configparser parse of a file, in this process (ours or the stock backend's)."""
    seen: list[str] = []
    original = configparser.RawConfigParser._read  # type: ignore[attr-defined]

    def counting(self: Any, fp: Any, fpname: str) -> Any:
        seen.append(fpname)
        return original(self, fp, fpname)

    monkeypatch.setattr(configparser.RawConfigParser, "_read", counting)
    yield seen


def stock(path: Path) -> CryptFileKeyring:
    backend = CryptFileKeyring()
    backend.file_path = str(path)
    backend.keyring_key = PASSPHRASE
    return backend


def fill(n: int) -> dict[tuple[str, str], str]:
    secrets = {(org(i), "access_token"): f"token-{i}" for i in range(n)}
    open_credentials("cryptfile", passphrase=PASSPHRASE).set_many(secrets)
    return secrets


def test_a_read_after_unlocking_parses_nothing(path: Path, parses: list[str]) -> None:
    secrets = fill(60)
    backend = open_cryptfile(path, PASSPHRASE)  # a new process's view: unlock
    parses.clear()
    for (org_id, kind), value in secrets.items():
        assert backend.get_password(credentials.SERVICE, f"{org_id}:{kind}") == value
    assert backend.get_password(credentials.SERVICE, f"{org(999)}:access_token") is None
    assert parses == []  # the stock backend parses the whole file for each of these 61 reads


def test_unlocking_parses_the_file_once(path: Path, parses: list[str]) -> None:
    fill(10)
    parses.clear()
    open_cryptfile(path, PASSPHRASE)
    assert len(parses) == 1


def test_a_change_on_disk_is_read_again(path: Path, parses: list[str]) -> None:
    fill(5)
    ours = open_cryptfile(path, PASSPHRASE)
    assert ours.get_password(credentials.SERVICE, f"{org(1)}:access_token") == "token-1"
    # Another process, the stock backend (it rewrites the file in place: same inode).
    other = stock(path)
    other.set_password(credentials.SERVICE, f"{org(1)}:access_token", "changed-by-stock")
    other.set_password(credentials.SERVICE, f"{org(7)}:password", "new-by-stock")
    parses.clear()
    assert ours.get_password(credentials.SERVICE, f"{org(1)}:access_token") == "changed-by-stock"
    assert ours.get_password(credentials.SERVICE, f"{org(7)}:password") == "new-by-stock"
    assert len(parses) == 1
    # Another juston-tui process (it replaces the file: a new inode).
    open_cryptfile(path, PASSPHRASE).delete_password(credentials.SERVICE,
                                                     f"{org(7)}:password")
    assert ours.get_password(credentials.SERVICE, f"{org(7)}:password") is None
    assert ours.get_password(credentials.SERVICE, f"{org(2)}:access_token") == "token-2"


def test_many_secrets_are_one_atomic_rewrite(path: Path, writes: list[int]) -> None:
    creds = open_credentials("cryptfile", passphrase=PASSPHRASE)
    before = path.stat()
    writes.clear()
    creds.set_many({(org(i), kind): f"{kind}-{i}" for i in range(100)
                    for kind in ("access_token", "refresh_token")})
    assert writes == [1]  # one rewrite for 200 secrets, not 200
    after = path.stat()
    assert after.st_ino != before.st_ino  # replaced by rename, never rewritten in place
    assert stat.S_IMODE(after.st_mode) == 0o600
    assert not [p.name for p in path.parent.iterdir() if p.name.endswith(".tmp")]
    again = open_credentials("cryptfile", passphrase=PASSPHRASE)
    assert again.get(org(42), "refresh_token") == "refresh_token-42"
    assert again._backend.derivations == 1


def test_set_many_is_readable_by_stock_and_the_reverse(path: Path) -> None:
    secrets = fill(30)
    reader = stock(path)
    for i in (0, 17, 29):
        assert reader.get_password(credentials.SERVICE, f"{org(i)}:access_token") == f"token-{i}"
    for i in range(3):
        reader.set_password(credentials.SERVICE, f"{org(100 + i)}:password", f"stock-{i}")
    ours = open_credentials("cryptfile", passphrase=PASSPHRASE)
    assert [ours.get(org(100 + i), "password") for i in range(3)] == ["stock-0", "stock-1",
                                                                         "stock-2"]
    assert all(ours.get(o, k) == v for (o, k), v in secrets.items())
    # ours rewrites the file holding stock's entries; stock still reads them all.
    ours.set_many({(org(200), "access_token"): "ours-after-stock"})
    reader = stock(path)
    assert reader.get_password(credentials.SERVICE, f"{org(200)}:access_token") == \
        "ours-after-stock"
    assert reader.get_password(credentials.SERVICE, f"{org(101)}:password") == "stock-1"
    assert reader.get_password(credentials.SERVICE, f"{org(5)}:access_token") == "token-5"


def test_a_failed_write_leaves_the_old_file(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    secrets = fill(20)
    creds = open_credentials("cryptfile", passphrase=PASSPHRASE)
    original = configparser.RawConfigParser.write

    def dies_halfway(self: Any, fp: Any, space_around_delimiters: bool = True) -> None:
        whole = io.StringIO()
        original(self, whole, space_around_delimiters)
        fp.write(whole.getvalue()[: len(whole.getvalue()) // 2])
        raise KeyboardInterrupt  # as a kill between the first byte and the last would

    monkeypatch.setattr(configparser.RawConfigParser, "write", dies_halfway)
    with pytest.raises(KeyboardInterrupt):
        creds.set_many({(org(500), "access_token"): "never-stored"})
    monkeypatch.setattr(configparser.RawConfigParser, "write", original)
    assert not [p.name for p in path.parent.iterdir() if p.name.endswith(".tmp")]
    again = open_credentials("cryptfile", passphrase=PASSPHRASE)
    assert all(again.get(o, k) == v for (o, k), v in secrets.items())
    assert again.get(org(500), "access_token") is None
    # The backend whose write failed reads the file again rather than what it meant to write.
    assert creds._backend.get_password(credentials.SERVICE, f"{org(500)}:access_token") is None


def test_a_write_waits_for_another_writer(path: Path) -> None:
    fill(2)
    ours = open_cryptfile(path, PASSPHRASE)
    lock = Path(f"{path}.lock")
    fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(fd, fcntl.LOCK_EX)  # another process in the middle of its write
    writer = threading.Thread(
        target=ours.set_password, args=(credentials.SERVICE, f"{org(9)}:password", "waited"))
    try:
        writer.start()
        writer.join(timeout=0.3)
        assert writer.is_alive()  # blocked on the lock, nothing written yet
        assert stock(path).get_password(credentials.SERVICE, f"{org(9)}:password") is None
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)
    writer.join(timeout=30)
    assert not writer.is_alive()
    assert stat.S_IMODE(lock.stat().st_mode) == 0o600
    assert stock(path).get_password(credentials.SERVICE, f"{org(9)}:password") == "waited"


def test_concurrent_reads_from_many_threads(path: Path) -> None:
    secrets = fill(200)
    backend = open_cryptfile(path, PASSPHRASE)
    creds = CredentialStore(backend, open_credentials("memory").info)
    wrong: list[str] = []

    def read(part: int) -> None:
        for i in range(part, 200, 8):
            if creds.get(org(i), "access_token") != secrets[(org(i), "access_token")]:
                wrong.append(org(i))

    threads = [threading.Thread(target=read, args=(p,)) for p in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert wrong == []
    assert backend.derivations == 1
