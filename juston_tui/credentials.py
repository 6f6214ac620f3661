"""Secrets live in the OS keyring only, one entry per org and secret kind.

On a headless SSH session there is usually no Secret Service, and keyring would quietly pick
a plaintext file (keyrings.alt) or an encrypted file that prompts with getpass in the middle
of the TUI. We never let it choose: either a real OS keyring is reachable, or the user opts
in to the encrypted file (keyrings.cryptfile) whose passphrase is asked before the UI starts
or read from JUSTON_TUI_KEYRING_PASSPHRASE. Nothing is ever stored in plaintext.
"""

from __future__ import annotations

import getpass
import os
import sys
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from juston_tui import APP_NAME
from juston_tui.paths import data_dir, ensure_private_dir

SERVICE = APP_NAME
SECRET_KINDS = (
    "password",
    "security_token",
    "consumer_secret",
    "private_key",
    "access_token",
    "refresh_token",
)
MODE_ENV = "JUSTON_TUI_KEYRING"  # auto | cryptfile | memory
PASSPHRASE_ENV = "JUSTON_TUI_KEYRING_PASSPHRASE"
FILE_ENV = "JUSTON_TUI_KEYRING_FILE"
MODES = ("auto", "cryptfile", "memory")

# Backends that are files or no-ops: never chosen automatically.
_NOT_SYSTEM = ("keyrings.alt.", "keyrings.cryptfile.", "juston_tui.cryptfile.",
               "keyring.backends.fail", "keyring.backends.null", "keyring.backends.chainer")

HEADLESS_EXPLANATION = """\
No OS keyring is reachable from this session, so juston-tui cannot store or read org secrets
(passwords, tokens, keys) yet. This is normal over SSH on a server: the keyring (GNOME Keyring
or KWallet through the Secret Service) runs inside a desktop login, and an SSH session has no
D-Bus session bus to reach it{why}.

Everything that needs no secret still works: the registry, contacts, calendar and the last
known status of every org. To check orgs from here, pick one:

  1. Use juston-tui's encrypted credentials file (AES-GCM with a key derived from your
     passphrase by Argon2; nothing is written in plaintext):
         export JUSTON_TUI_KEYRING=cryptfile
         export JUSTON_TUI_KEYRING_PASSPHRASE=...   # or leave it unset to be asked once
     The file is {file}.
  2. Start a Secret Service for this session:
         dbus-run-session -- bash
         echo -n "$KEYRING_PASSWORD" | gnome-keyring-daemon --unlock
     and run juston-tui inside that shell.
"""


class CredentialsUnavailable(RuntimeError):
    """No secure backend; `explanation` tells a support engineer what to do."""

    def __init__(self, summary: str, explanation: str) -> None:
        self.summary = summary
        self.explanation = explanation
        super().__init__(summary)


@dataclass(frozen=True)
class BackendInfo:
    mode: str
    name: str
    secure: bool
    persistent: bool
    detail: str
    path: str | None = None


def default_cryptfile_path() -> Path:

    return Path(os.environ.get(FILE_ENV) or data_dir() / "credentials.cfg")


def _class_path(backend: Any) -> str:
    return f"{type(backend).__module__}.{type(backend).__qualname__}"


def _why_no_system_keyring() -> str:
    if not os.environ.get("DBUS_SESSION_BUS_ADDRESS") and os.name == "posix":
        return " (DBUS_SESSION_BUS_ADDRESS is not set)"
    return ""


class MemoryBackend:
    """A process-local keyring for the demo and tests: nothing is persisted anywhere."""

    priority = 1

    def __init__(self) -> None:
        self._data: dict[tuple[str, str], str] = {}
        self._lock = threading.Lock()

    def get_password(self, service: str, username: str) -> str | None:
        with self._lock:
            return self._data.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        with self._lock:
            self._data[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        with self._lock:
            if self._data.pop((service, username), None) is None:
                # keyring: ~0.14 s and a backend probe, only when a secret is needed
                from keyring.errors import PasswordDeleteError

                raise PasswordDeleteError("no such secret")


def find_system_backend() -> Any | None:
    """The best real OS keyring (Secret Service, macOS, Windows), or None. Never a file."""
    # keyring: ~0.14 s and a backend probe, only when a secret is needed
    import keyring.backend

    explicit = os.environ.get("PYTHON_KEYRING_BACKEND")
    if explicit:
        # keyring: ~0.14 s and a backend probe, only when a secret is needed
        import keyring

        backend = keyring.get_keyring()
        return None if _class_path(backend).startswith(_NOT_SYSTEM) else backend
    candidates = []
    for backend in keyring.backend.get_all_keyring():
        if _class_path(backend).startswith(_NOT_SYSTEM):
            continue
        try:
            priority = float(backend.priority)
        except Exception:  # a backend that raises here is not viable
            continue
        if priority > 0:
            candidates.append((priority, backend))
    if not candidates:
        return None
    return max(candidates, key=lambda pair: pair[0])[1]


def open_cryptfile(path: Path, passphrase: str) -> Any:
    """The encrypted-file backend, unlocked; a wrong passphrase is refused here, not later."""
    # the encrypted file's crypto: only when that backend is chosen
    from juston_tui.cryptfile import SharedSaltCryptFileKeyring

    ensure_private_dir(path.parent)
    backend = SharedSaltCryptFileKeyring()
    backend.file_path = str(path)
    try:
        backend.keyring_key = passphrase  # unlocks (and checks) an existing file
        # Reading forces the key check; a fresh file is created with this passphrase.
        backend.get_password(SERVICE, "__unlock_check__")
        if not path.exists():
            backend.set_password(SERVICE, "__unlock_check__", "ok")
    except ValueError as exc:
        raise CredentialsUnavailable(
            "wrong passphrase for the encrypted credentials file",
            f"The passphrase does not unlock {path} ({exc}). Check {PASSPHRASE_ENV}.",
        ) from None
    if path.exists():
        os.chmod(path, 0o600)
    return backend


class CredentialStore:
    """Per-org secrets. Methods raise CredentialsUnavailable when no secure backend exists."""

    def __init__(self, backend: Any | None, info: BackendInfo, *, cache: bool = False) -> None:
        self._backend = backend
        self.info = info
        # The encrypted file: remember what this process has read or written (a read is a
        # file parse and a decryption; Argon2 itself runs once, see cryptfile.py).
        self._cache: dict[tuple[str, str], str | None] | None = {} if cache else None
        self._cache_lock = threading.Lock()

    @property
    def available(self) -> bool:
        return self._backend is not None

    def _require(self) -> Any:
        if self._backend is None:
            raise CredentialsUnavailable(
                "no secure keyring in this session", explain_unavailable()
            )
        return self._backend

    @staticmethod
    def _entry(org_id: str, kind: str) -> str:
        if kind not in SECRET_KINDS:
            raise ValueError(f"unknown secret kind {kind!r}")
        return f"{org_id}:{kind}"

    def get(self, org_id: str, kind: str) -> str | None:
        entry = self._entry(org_id, kind)
        if self._cache is not None:
            with self._cache_lock:
                if (org_id, kind) in self._cache:
                    return self._cache[(org_id, kind)]
        value = self._require().get_password(SERVICE, entry)
        if self._cache is not None:
            with self._cache_lock:
                self._cache[(org_id, kind)] = value
        return value

    def set(self, org_id: str, kind: str, secret: str) -> None:
        if not secret:
            raise ValueError("an empty secret is not stored")
        self._require().set_password(SERVICE, self._entry(org_id, kind), secret)
        if self._cache is not None:
            with self._cache_lock:
                self._cache[(org_id, kind)] = secret

    def set_many(self, secrets: Mapping[tuple[str, str], str]) -> None:
        """Several secrets, `{(org_id, kind): secret}`, in one write where the backend can."""
        entries = {self._entry(org_id, kind): value for (org_id, kind), value in secrets.items()
                   if value}
        backend = self._require()
        if hasattr(backend, "set_many"):
            backend.set_many(SERVICE, entries)
        else:
            for entry, value in entries.items():
                backend.set_password(SERVICE, entry, value)
        if self._cache is not None:
            with self._cache_lock:
                self._cache.update({k: v for k, v in secrets.items() if v})

    def delete(self, org_id: str, kind: str) -> None:
        # keyring: ~0.14 s and a backend probe, only when a secret is needed
        from keyring.errors import PasswordDeleteError

        try:
            self._require().delete_password(SERVICE, self._entry(org_id, kind))
        except PasswordDeleteError:
            pass
        if self._cache is not None:
            with self._cache_lock:
                self._cache[(org_id, kind)] = None

    def delete_all(self, org_id: str) -> None:
        for kind in SECRET_KINDS:
            self.delete(org_id, kind)

    def status(self, org_id: str) -> dict[str, bool]:
        """Which secrets are set for an org: presence only, never the values."""
        if self._backend is None:
            return {}
        return {kind: self.get(org_id, kind) is not None for kind in SECRET_KINDS}


def ask_on_terminal(prompt: str) -> str:
    """Ask for a passphrase without echo, before any UI runs; "" when stdin is no terminal."""

    if not sys.stdin.isatty():
        return ""
    return getpass.getpass(prompt)


def explain_unavailable() -> str:
    return HEADLESS_EXPLANATION.format(why=_why_no_system_keyring(), file=default_cryptfile_path())


def open_credentials(
    mode: str | None = None,
    *,
    passphrase: str | None = None,
    ask_passphrase: Callable[[str], str] | None = None,
    memory: MemoryBackend | None = None,
) -> CredentialStore:
    """Resolve the backend once, before any UI runs.

    `auto` takes a real OS keyring or none (explained, never a silent fallback); `cryptfile`
    is the explicit encrypted-file fallback; `memory` is for the demo and tests.
    """
    mode = (mode or os.environ.get(MODE_ENV) or "auto").lower()
    if mode not in MODES:
        raise CredentialsUnavailable(
            f"unknown keyring mode {mode!r}", f"{MODE_ENV} takes one of: {', '.join(MODES)}"
        )
    if mode == "memory":
        backend = memory or MemoryBackend()
        return CredentialStore(
            backend, BackendInfo("memory", "in-memory (demo/tests)", True, False,
                                 "secrets vanish when the program exits")
        )
    if mode == "cryptfile":
        path = default_cryptfile_path()
        secret = passphrase or os.environ.get(PASSPHRASE_ENV)
        if not secret and ask_passphrase is not None:
            secret = ask_passphrase(f"Passphrase for the juston-tui credentials file {path}: ")
        if not secret:
            raise CredentialsUnavailable(
                "the encrypted credentials file needs a passphrase",
                f"Set {PASSPHRASE_ENV}, or run juston-tui in a terminal to be asked for it.",
            )
        backend = open_cryptfile(path, secret)
        return CredentialStore(
            backend,
            BackendInfo("cryptfile", "encrypted file (keyrings.cryptfile)", True, True,
                        "Argon2id + AES-GCM, unlocked by your passphrase", str(path)),
            cache=True,
        )
    try:
        backend = find_system_backend()
    except Exception as exc:  # a broken keyring installation must not stop the app
        backend = None
        detail = f"keyring failed to start: {type(exc).__name__}"
    else:
        detail = "no OS keyring reachable" + _why_no_system_keyring()
    if backend is None:
        return CredentialStore(None, BackendInfo("auto", "none", False, False, detail))
    name = _class_path(backend)
    return CredentialStore(
        backend, BackendInfo("auto", name, True, True, f"OS keyring ({name})")
    )
