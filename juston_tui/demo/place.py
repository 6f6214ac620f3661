"""The demo's folder (`~/.cache/juston-tui/demo` or JUSTON_TUI_DEMO_DIR): recognised by its
marker before anything in it is changed; starts, finds and stops the simulator daemon."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from platformdirs import user_cache_path

from juston_tui import APP_NAME, __version__
from juston_tui.demo.simulator import SimulatorInfo, ping
from juston_tui.errors import UserError
from juston_tui.model import now_utc
from juston_tui.simulator import daemon

if TYPE_CHECKING:
    pass

DEMO_DIR_ENV = "JUSTON_TUI_DEMO_DIR"
MARKER = "juston-tui-demo.json"
MARKER_KIND = "juston-tui demo"
START_TIMEOUT = 30.0  # seconds for a new simulator daemon to answer


class DemoPlace:
    """The demo's folder: its store, credentials and simulator; recognised by a marker file."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.store_path = root / "demo-store.json"
        self.credentials_path = root / "demo-credentials.json"
        self.simulator_dir = root / "simulator"
        self.marker = root / MARKER
        self._lock = threading.RLock()
        self._lock_depth = 0
        self._lock_fd: int | None = None

    @classmethod
    def default(cls) -> DemoPlace:
        env = os.environ.get(DEMO_DIR_ENV)
        if env:
            return cls(Path(env).expanduser())

        return cls(user_cache_path(APP_NAME, appauthor=False) / "demo")

    # -- recognising and creating --------------------------------------------------------------
    def _marker(self) -> dict[str, Any] | None:
        try:
            data = json.loads(self.marker.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return data if isinstance(data, dict) and data.get("kind") == MARKER_KIND else None

    def is_ours(self) -> bool:
        return self._marker() is not None

    def ensure(self) -> None:
        """Create the folder (0700) with its marker; refuse a folder that is someone else's."""
        if self.is_ours():
            return
        if self.root.exists() and (not self.root.is_dir() or any(self.root.iterdir())):
            raise UserError(f"{self.root} exists and is not a juston-tui demo folder; the demo "
                            f"leaves it alone (set {DEMO_DIR_ENV} to another folder)")
        self.root.mkdir(parents=True, exist_ok=True, mode=0o700)
        os.chmod(self.root, 0o700)
        self.set_marker(synced_instance=None)

    def set_marker(self, **values: Any) -> None:
        data = self._marker() or {"kind": MARKER_KIND, "created": now_utc().isoformat()}
        data.update(values)
        daemon.write_json(self.marker, data)

    @contextlib.contextmanager
    def lock(self) -> Iterator[None]:
        """One demo command at a time sets up or syncs the place (re-entrant in a process)."""
        with self._lock:
            if self._lock_depth == 0:
                fd = os.open(self.root / ".lock", os.O_RDWR | os.O_CREAT, 0o600)
                fcntl.flock(fd, fcntl.LOCK_EX)
                self._lock_fd = fd
            self._lock_depth += 1
            try:
                yield
            finally:
                self._lock_depth -= 1
                if self._lock_depth == 0 and self._lock_fd is not None:
                    os.close(self._lock_fd)
                    self._lock_fd = None

    # -- the simulator ------------------------------------------------------------------------
    def running_simulator(self) -> SimulatorInfo | None:
        """The simulator serving this place, if one is up, of this version, and answering."""
        try:
            state = json.loads((self.simulator_dir / daemon.STATE).read_text(encoding="utf-8"))
            info = SimulatorInfo(str(state["url"]), str(state["ca_path"]), int(state["pid"]),
                                 str(state["instance"]), self.simulator_dir / "orgs.json")
        except (OSError, ValueError, KeyError, TypeError):
            return None
        if state.get("version") != __version__ or not daemon.pid_alive(info.pid):
            return None
        return info if ping(info.url, info.ca_path) else None

    def start_simulator(self) -> SimulatorInfo:
        """Start the simulator process (or find the one just started) and wait until it
        answers."""
        running = self.running_simulator()
        if running is not None:
            return running
        old = self._state_pid()
        if old is not None and daemon.pid_alive(old):  # another version, or stuck: replace it
            self.stop_simulator()
        self.simulator_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        log_path = self.simulator_dir / "daemon.log"
        with open(log_path, "ab") as log_file:
            proc = subprocess.Popen(
                [sys.executable, "-P", "-m", "juston_tui.simulator.daemon",
                 str(self.simulator_dir)],
                stdin=subprocess.DEVNULL, stdout=log_file, stderr=log_file,
                start_new_session=True, close_fds=True,
            )
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            info = self.running_simulator()
            if info is not None:
                return info
            if proc.poll() is not None and self._state_pid() is None:
                break
            time.sleep(0.05)
        tail = log_path.read_text(encoding="utf-8", errors="replace")[-600:].strip()
        raise UserError("the demo's simulator did not start"
                        + (f": {tail.splitlines()[-1]}" if tail else f" (see {log_path})"))

    def _state_pid(self) -> int | None:
        try:
            state = json.loads((self.simulator_dir / daemon.STATE).read_text(encoding="utf-8"))
            return int(state["pid"])
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def stop_simulator(self, timeout: float = 10.0) -> bool:
        """Stop this place's simulator process, if one runs; True when one was stopped."""
        pid = self._state_pid()
        if pid is None or not daemon.pid_alive(pid):
            return False
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and daemon.pid_alive(pid):
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, os.WNOHANG)  # our own child: reap it, or it stays a zombie
            time.sleep(0.05)
        return True

    def register_client(self, pid: int) -> None:
        """A long-running client (the TUI, `serve`): the simulator stays while it lives."""
        folder = self.simulator_dir / daemon.CLIENTS
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        (folder / str(pid)).touch()

    def unregister_client(self, pid: int) -> None:
        with contextlib.suppress(OSError):
            (self.simulator_dir / daemon.CLIENTS / str(pid)).unlink()

    # -- reset --------------------------------------------------------------------------------
    def reset(self) -> bool:
        """Stop the simulator and remove the folder; True when there was a demo to remove."""
        if not self.root.exists():
            return False
        if not self.is_ours():
            raise UserError(f"{self.root} is not a juston-tui demo folder; not removing it")
        with self.lock():
            self.stop_simulator()
            for child in self.root.iterdir():
                if child.name == ".lock":
                    continue
                if child.is_dir() and not child.is_symlink():
                    shutil.rmtree(child)
                else:
                    child.unlink()
        with contextlib.suppress(OSError):
            (self.root / ".lock").unlink()
            self.root.rmdir()
        return True

    def synced_instance(self) -> str | None:
        marker = self._marker() or {}
        value = marker.get("synced_instance")
        return str(value) if value else None

