"""The demo-only credentials file: the simulator's secrets, and never any other org's."""

from __future__ import annotations

import contextlib
import fcntl
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from juston_tui.credentials import CredentialsUnavailable
from juston_tui.store import atomic_write_bytes

if TYPE_CHECKING:
    pass



class DemoFileBackend:
    """A keyring-shaped JSON file that holds the simulator's secrets and nothing else."""

    priority = 0  # never offered to keyring's discovery

    def __init__(self, path: Path, orgs_path: Path) -> None:
        self.path = path
        self.orgs_path = orgs_path  # the simulator's orgs: the only ones allowed in here
        self._lock = threading.Lock()

    def allowed(self) -> set[str]:
        try:
            payload = json.loads(self.orgs_path.read_text(encoding="utf-8"))
            return {str(o["org_id"])[:15] for o in payload["orgs"]}
        except (OSError, ValueError, KeyError, TypeError):
            return set()

    def _read(self) -> dict[str, str]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except ValueError:
            raise CredentialsUnavailable(
                "the demo's credentials file is damaged",
                f"{self.path} is not readable JSON; `juston-tui --demo reset` starts the demo "
                "afresh.") from None
        return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}

    def _write(self, data: dict[str, str]) -> None:

        atomic_write_bytes(self.path, json.dumps(data, indent=1, sort_keys=True).encode())

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        with self._lock, open(self.path.with_name(self.path.name + ".lock"), "a") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            yield

    def get_password(self, service: str, username: str) -> str | None:
        return self._read().get(f"{service}/{username}")

    def set_password(self, service: str, username: str, password: str) -> None:
        org_id = username.split(":", 1)[0]
        if org_id[:15] not in self.allowed():
            raise CredentialsUnavailable(
                "the demo keeps only the simulator's secrets",
                f"{org_id} is not one of the demo's simulated orgs, so its secret is not stored "
                f"in the demo's plain credentials file ({self.path}). Register real orgs "
                "without --demo: their secrets go to the OS keyring.")
        with self._locked():
            data = self._read()
            data[f"{service}/{username}"] = password
            self._write(data)

    def set_many(self, service: str, entries: dict[str, str]) -> None:
        """Several secrets in one write (seeding and re-syncing the demo)."""
        with self._locked():
            data = self._read()
            data.update({f"{service}/{k}": v for k, v in entries.items()})
            self._write(data)

    def delete_password(self, service: str, username: str) -> None:
        # keyring: ~0.14 s and a backend probe, only when a secret is needed
        from keyring.errors import PasswordDeleteError

        with self._locked():
            data = self._read()
            if data.pop(f"{service}/{username}", None) is None:
                raise PasswordDeleteError("no such secret")
            self._write(data)

