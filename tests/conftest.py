"""Shared fixtures: an isolated store, an in-memory keyring, no real keyring, no network."""

from __future__ import annotations

import configparser
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from store_files import FullDisk

from juston_tui.credentials import CredentialStore, open_credentials
from juston_tui.store import Store

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def _isolated_environment(tmp_path_factory: pytest.TempPathFactory,
                          monkeypatch: pytest.MonkeyPatch,
                          request: pytest.FixtureRequest) -> Iterator[None]:
    """Every test gets its own home for data/config/cache (so its own demo); nothing reaches a
    real keyring or CA env. A demo simulator a test started is stopped after it."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("XDG_DATA_HOME", str(home / "data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / "config"))
    monkeypatch.setenv("XDG_STATE_HOME", str(home / "state"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / "cache"))
    monkeypatch.setenv("JUSTON_TUI_DEMO_DIR", str(home / "demo"))
    # A demo simulator left behind by a crashed test ends on its own soon.
    monkeypatch.setenv("JUSTON_TUI_DEMO_IDLE", "20")
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.null.Keyring")
    monkeypatch.delenv("JUSTON_TUI_DB", raising=False)
    monkeypatch.delenv("JUSTON_TUI_KEYRING", raising=False)
    monkeypatch.delenv("JUSTON_TUI_KEYRING_PASSPHRASE", raising=False)
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
    monkeypatch.setenv("TEXTUAL_ANIMATIONS", "none")
    os.umask(0o077)
    # Subprocess tests keep their homes (and so their demos) in tmp_path.
    own = request.getfixturevalue("tmp_path") if "tmp_path" in request.fixturenames else None
    yield
    stop_demo_simulators(home)
    if own is not None:
        stop_demo_simulators(own)


def stop_demo_simulators(folder: Path) -> None:
    """Stop every demo simulator whose demo folder lies under `folder` (subprocess tests put
    theirs in a home of their own under it)."""
    from juston_tui.demo import DemoPlace

    for state in folder.rglob("simulator/state.json"):
        DemoPlace(state.parent.parent).stop_simulator()


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store.open(tmp_path / "store.json")
    yield s
    s.close()


@pytest.fixture
def credentials() -> CredentialStore:
    return open_credentials("memory")


@pytest.fixture
def writes(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """Every configparser write: each is one rewrite of the encrypted credentials file."""
    seen: list[int] = []
    original = configparser.RawConfigParser.write

    def counting(self: Any, fp: Any, space_around_delimiters: bool = True) -> None:
        seen.append(1)
        original(self, fp, space_around_delimiters)

    monkeypatch.setattr(configparser.RawConfigParser, "write", counting)
    yield seen


@pytest.fixture
def full_disk(monkeypatch: pytest.MonkeyPatch) -> FullDisk:
    return FullDisk(monkeypatch)
