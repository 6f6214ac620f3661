from __future__ import annotations

import stat
from pathlib import Path

import pytest

from juston_tui import credentials
from juston_tui.credentials import CredentialsUnavailable, open_credentials

ORG = "00D5g000004Xyz1EAC"


def test_memory_backend_roundtrip() -> None:
    creds = open_credentials("memory")
    assert creds.status(ORG) == {k: False for k in credentials.SECRET_KINDS}
    creds.set(ORG, "password", "s3cret")
    assert creds.get(ORG, "password") == "s3cret"
    assert creds.status(ORG)["password"] is True
    creds.delete_all(ORG)
    assert creds.get(ORG, "password") is None
    with pytest.raises(ValueError):
        creds.set(ORG, "favourite_colour", "blue")


def test_headless_auto_mode_never_falls_back_silently(monkeypatch: pytest.MonkeyPatch) -> None:
    """With no Secret Service, auto mode has no backend and explains itself; it does not pick
    keyrings.alt's plaintext file or a getpass-prompting encrypted file on its own."""
    monkeypatch.delenv("PYTHON_KEYRING_BACKEND", raising=False)
    monkeypatch.delenv("DBUS_SESSION_BUS_ADDRESS", raising=False)
    creds = open_credentials("auto")
    if creds.available:  # a real desktop keyring: nothing to prove here
        pytest.skip(f"a system keyring is reachable: {creds.info.name}")
    assert creds.info.secure is False
    with pytest.raises(CredentialsUnavailable) as info:
        creds.get(ORG, "password")
    text = info.value.explanation
    assert "SSH" in text and "JUSTON_TUI_KEYRING=cryptfile" in text
    assert "dbus-run-session" in text
    assert "DBUS_SESSION_BUS_ADDRESS is not set" in text


def test_file_and_null_backends_are_never_taken_for_a_system_keyring(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
    assert credentials.find_system_backend() is None

    class PlaintextKeyring:  # what keyrings.alt would offer, silently, if it were installed
        priority = 0.5

    PlaintextKeyring.__module__ = "keyrings.alt.file"
    assert credentials._class_path(PlaintextKeyring()).startswith(credentials._NOT_SYSTEM)


def test_cryptfile_is_encrypted_private_and_checks_the_passphrase(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "creds" / "credentials.cfg"
    monkeypatch.setenv(credentials.FILE_ENV, str(path))
    monkeypatch.setenv(credentials.PASSPHRASE_ENV, "correct horse")
    creds = open_credentials("cryptfile")
    creds.set(ORG, "access_token", "00Dcanary!TOKEN-do-not-leak")
    assert open_credentials("cryptfile").get(ORG, "access_token") == "00Dcanary!TOKEN-do-not-leak"
    raw = path.read_bytes()
    assert b"canary" not in raw and b"TOKEN-do-not-leak" not in raw
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    with pytest.raises(CredentialsUnavailable) as info:
        open_credentials("cryptfile", passphrase="wrong")
    assert "wrong passphrase" in info.value.summary


def test_cryptfile_without_passphrase_explains(monkeypatch: pytest.MonkeyPatch,
                                               tmp_path: Path) -> None:
    monkeypatch.setenv(credentials.FILE_ENV, str(tmp_path / "c.cfg"))
    with pytest.raises(CredentialsUnavailable) as info:
        open_credentials("cryptfile")
    assert credentials.PASSPHRASE_ENV in info.value.explanation


def test_unknown_mode_is_refused() -> None:
    with pytest.raises(CredentialsUnavailable):
        open_credentials("plaintext")


def test_cryptfile_reads_each_secret_once_per_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Argon2 runs on every keyrings.cryptfile read (~1 s): a sweep must not pay it per use."""
    monkeypatch.setenv(credentials.FILE_ENV, str(tmp_path / "c.cfg"))
    creds = open_credentials("cryptfile", passphrase="pw")
    creds.set(ORG, "access_token", "t1")
    reads: list[str] = []
    backend = creds._backend
    original = backend.get_password

    def counting(service: str, username: str) -> str | None:
        reads.append(username)
        return original(service, username)

    monkeypatch.setattr(backend, "get_password", counting)
    fresh = credentials.CredentialStore(backend, creds.info, cache=True)
    assert [fresh.get(ORG, "access_token") for _ in range(5)] == ["t1"] * 5
    assert reads == [f"{ORG}:access_token"]
    fresh.set(ORG, "access_token", "t2")
    assert fresh.get(ORG, "access_token") == "t2"
    fresh.delete(ORG, "access_token")
    assert fresh.get(ORG, "access_token") is None
    assert len(reads) == 1


def test_cryptfile_derives_the_key_once_per_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """keyrings.cryptfile runs Argon2 (~0.9 s) per entry; after unlocking, ours runs it no more."""
    monkeypatch.setenv(credentials.FILE_ENV, str(tmp_path / "c.cfg"))
    writer = open_credentials("cryptfile", passphrase="pw")
    kinds = ("access_token", "refresh_token", "password", "security_token")
    for kind in kinds:
        writer.set(ORG, kind, f"{kind}-value")
    assert writer._backend.derivations == 1
    # A later process: unlocking derives the key once; every secret then reads without it.
    reader = open_credentials("cryptfile", passphrase="pw")
    assert [reader.get(ORG, kind) for kind in kinds] == [f"{kind}-value" for kind in kinds]
    assert reader._backend.derivations == 1


def test_cryptfile_stays_readable_by_and_from_stock_keyrings_cryptfile(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from keyrings.cryptfile.cryptfile import CryptFileKeyring

    monkeypatch.setattr(CryptFileKeyring, "time_cost", 1)  # keep the stock reads quick
    path = tmp_path / "c.cfg"
    monkeypatch.setenv(credentials.FILE_ENV, str(path))
    ours = open_credentials("cryptfile", passphrase="pw")
    ours.set(ORG, "access_token", "written-by-us")
    stock = CryptFileKeyring()
    stock.file_path = str(path)
    stock.keyring_key = "pw"
    assert stock.get_password(credentials.SERVICE, f"{ORG}:access_token") == "written-by-us"
    stock.set_password(credentials.SERVICE, f"{ORG}:password", "written-by-stock")
    again = open_credentials("cryptfile", passphrase="pw")
    assert again.get(ORG, "password") == "written-by-stock"
    assert again.get(ORG, "access_token") == "written-by-us"
    assert again._backend.derivations == 2  # the shared salt, and the stock entry's own
    with pytest.raises(CredentialsUnavailable):
        open_credentials("cryptfile", passphrase="wrong")


def test_the_encrypted_file_is_never_discovered_as_an_os_keyring() -> None:
    """keyring considers every loaded backend class; once cryptfile.py is imported (after any
    cryptfile use), auto mode must still not pick the encrypted file on its own."""
    import keyring.backend

    from juston_tui.cryptfile import SharedSaltCryptFileKeyring

    assert not SharedSaltCryptFileKeyring.viable
    found = [type(b).__name__ for b in keyring.backend.get_all_keyring()]
    assert "SharedSaltCryptFileKeyring" not in found
    assert credentials._class_path(SharedSaltCryptFileKeyring()).startswith(
        credentials._NOT_SYSTEM
    )
