"""Shared helpers for the system tests (real terminal, SSH, Secret Service, browser).

Not a test module (pytest does not collect it); test modules import it after putting
`tests/` on sys.path. A missing system tool skips a test on a developer's machine, but under
CI (`CI` set) it is a failure, so CI can never pass by silently skipping the system tests.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent.parent  # the repository root
VENV_BIN = Path(sys.executable).parent
JUSTON = VENV_BIN / "juston-tui"
PYTHON = Path(sys.executable)

# Environment variables that would leak the developer's session into a system test.
SESSION_VARS = (
    "DBUS_SESSION_BUS_ADDRESS",
    "GNOME_KEYRING_CONTROL",
    "SSH_AUTH_SOCK",
    "DISPLAY",
    "WAYLAND_DISPLAY",
    "PYTHON_KEYRING_BACKEND",
    "JUSTON_TUI_KEYRING",
    "JUSTON_TUI_KEYRING_PASSPHRASE",
    "JUSTON_TUI_KEYRING_FILE",
    "JUSTON_TUI_DB",
    "TMUX",
    "TMUX_PANE",
)


def in_ci() -> bool:
    return bool(os.environ.get("CI"))


def find_tool(name: str) -> str | None:
    """A system program on PATH or in the sbin folders (sshd lives in /usr/sbin)."""
    found = shutil.which(name)
    if found:
        return found
    for folder in ("/usr/sbin", "/sbin", "/usr/bin"):
        candidate = Path(folder) / name
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    return None


def require_tool(name: str, package: str | None = None) -> str:
    """The tool's path; skip locally when missing, fail under CI (it must have been installed)."""
    path = find_tool(name)
    if path:
        return path
    message = (f"{name} is not installed (Debian package {package or name}; "
               ".ci/system-deps.sh installs it)")
    if in_ci():
        pytest.fail(f"{message}: CI must run every system test, so this is a failure")
    pytest.skip(message)
    raise AssertionError("unreachable")  # pragma: no cover - pytest.skip raises


def require_juston() -> Path:
    if not JUSTON.exists():
        pytest.fail(f"the juston-tui entry point is not installed beside {sys.executable}")
    return JUSTON


def clean_env(base: Mapping[str, str] | None = None, drop: Iterable[str] = SESSION_VARS,
              **extra: str) -> dict[str, str]:
    """A copy of the environment without the session's keyring/display/bus variables."""
    env = dict(os.environ if base is None else base)
    for key in drop:
        env.pop(key, None)
    env.update(extra)
    return env


def free_port() -> int:
    """A free TCP port on 127.0.0.1 (bound and released; the caller binds it right away)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(predicate: Callable[[], object], *, timeout: float, interval: float = 0.05,
             what: str = "condition") -> object:
    """Poll until `predicate()` is truthy; fail with `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)


def wait_for_port(port: int, *, timeout: float = 10.0, host: str = "127.0.0.1") -> None:
    def connectable() -> bool:
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return True
        except OSError:
            return False

    wait_for(connectable, timeout=timeout, what=f"{host}:{port} to accept connections")


def stop_process(proc: subprocess.Popen[bytes] | subprocess.Popen[str],
                 timeout: float = 5.0) -> None:
    """Terminate a child we started (by its own pid), then kill it if it does not go."""
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=timeout)


def grep_tree(root: Path, needles: Iterable[str]) -> list[str]:
    """Every file under `root` whose raw bytes contain one of `needles` ("path: needle")."""
    hits = []
    encoded = [n.encode() for n in needles]
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        data = path.read_bytes()
        hits.extend(f"{path}: {n.decode()}" for n in encoded if n in data)
    return hits
