"""The demo's simulator as a background process: `python -P -m juston_tui.simulator.daemon DIR`.

The demo is a place to work in: the TUI with `--demo` and `juston-tui --demo status` in another
terminal must reach the same simulated orgs at the same URL. So the simulator runs in a process
of its own, started on demand by the first demo command (juston_tui/demo.py) and shared by all
of them, instead of inside whichever process happened to start first.

In DIR it keeps:
- `ca.pem` (+ the server's certificate and key): the CA its clients trust, at a stable path;
- `orgs.json` (0600): every simulated org's credentials, which the demo copies into its
  demo-only credentials file;
- `state.json`: pid, URL, and an `instance` id that changes with every start (new keys, new
  CA), so clients know when to copy the credentials again;
- `clients/<pid>`: long-running clients (the TUI, `serve`); the process ends once it has been
  idle for JUSTON_TUI_DEMO_IDLE seconds (default 900) and no client is alive, or on SIGTERM;
- `push-state.json` (0600): what the push API created or changed in the packaging org
  (requests, jobs, errors, upgraded versions) and the simulator's time, written before the
  answer to each such change and restored at the next start, so the demo store never points
  at vanished push requests. One that does not fit is moved aside (`.damaged-<µs>`), never
  overwritten.

Its clock follows wall time, JUSTON_TUI_DEMO_SPEED times as fast (default 1; 60 = a simulated
minute a second), and never runs back behind the time it had saved. It prefers the port it had
last time (`last-port`), so the stored orgs' URLs stay valid.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import secrets
import signal
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from juston_tui import __version__

if TYPE_CHECKING:  # demo.py imports this module on its start-up path: the simulator lazily
    from juston_tui.simulator import Simulator
    from juston_tui.simulator.clock import SimClock

IDLE_ENV = "JUSTON_TUI_DEMO_IDLE"
SPEED_ENV = "JUSTON_TUI_DEMO_SPEED"
DEFAULT_IDLE = 900.0
STATE = "state.json"
PUSH_STATE = "push-state.json"
LAST_PORT = "last-port"
CLIENTS = "clients"
LOCK = "daemon.lock"


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, someone else's
        return True
    return True


def live_clients(folder: Path) -> list[int]:
    """Pids registered in `folder/clients` that are still running (stale entries removed)."""
    alive = []
    for entry in (folder / CLIENTS).glob("*"):
        try:
            pid = int(entry.name)
        except ValueError:
            continue
        if pid_alive(pid):
            alive.append(pid)
        else:
            with contextlib.suppress(OSError):
                entry.unlink()
    return alive


def write_json(path: Path, payload: dict[str, object]) -> None:
    """Replace `path` with `payload` as JSON (0600) in one rename."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(payload, fh)
    os.replace(tmp, path)


def _preferred_port(folder: Path) -> int:
    try:
        port = int((folder / LAST_PORT).read_text().strip())
    except (OSError, ValueError):
        return 0
    return port if 1024 <= port <= 65535 else 0


def _read_push_state(path: Path) -> dict[str, object] | None:
    """The saved push state, or None (none yet, or moved aside because it is not readable)."""
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(doc, dict):
            raise ValueError("not a JSON object")
        return doc
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        _set_aside(path, f"unreadable ({exc})")
        return None


def _set_aside(path: Path, why: str) -> None:
    aside = path.with_name(f"{path.name}.damaged-{time.time_ns() // 1000}")
    with contextlib.suppress(OSError):
        os.replace(path, aside)
    print(f"juston-tui simulator: {path.name} {why}; moved to {aside.name}, starting afresh",
          file=sys.stderr, flush=True)


class _PushSaver:
    """Writes the push state (0600, fsynced, one rename), one writer at a time, newest last."""

    def __init__(self, sim: Simulator, path: Path) -> None:
        self.sim = sim
        self.path = path
        self.lock = threading.Lock()

    def __call__(self) -> None:
        with self.lock:
            doc = self.sim.push_state()
            doc["clock"] = self.sim.now.isoformat()
            tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(doc, fh)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, self.path)


def _speed() -> float:
    try:
        speed = float(os.environ.get(SPEED_ENV) or 1.0)
    except ValueError:
        return 1.0
    return speed if speed > 0 else 1.0


def _clock(saved: dict[str, object] | None) -> SimClock:
    # the simulator (http.server, ssl, its data): only where it runs
    from juston_tui.simulator.clock import SimClock

    start = datetime.now(UTC)
    with contextlib.suppress(TypeError, ValueError):
        before = datetime.fromisoformat(str((saved or {}).get("clock")))
        if before.tzinfo is not None and before > start:
            start = before
    return SimClock(start, speed=_speed())


def serve(folder: Path, *, idle: float, stop: threading.Event) -> int:
    # the simulator (http.server, ssl, its data): only where it runs
    from juston_tui.simulator import Simulator

    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    (folder / CLIENTS).mkdir(exist_ok=True, mode=0o700)
    lock = os.open(folder / LOCK, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return 0  # another one serves this folder already; its clients will find it
    port = _preferred_port(folder)
    saved = _read_push_state(folder / PUSH_STATE)
    clock = _clock(saved)
    try:
        sim = Simulator(scenario_set="demo", port=port, ca_dir=folder, clock=clock).start()
    except OSError as exc:
        if exc.errno != errno.EADDRINUSE or port == 0:
            raise
        sim = Simulator(scenario_set="demo", port=0, ca_dir=folder, clock=clock).start()
    if saved is not None:
        try:
            sim.restore_push_state(saved)
        except ValueError as exc:
            _set_aside(folder / PUSH_STATE, f"does not fit ({exc})")
    else:  # a first start: the demo shows a push mid-flight (saved from the next change on)
        sim.seed_demo_push()
    sim.on_push_change = _PushSaver(sim, folder / PUSH_STATE)
    instance = secrets.token_hex(8)
    try:
        sim.write_credentials(folder / "orgs.json")
        (folder / LAST_PORT).write_text(str(sim.port))
        write_json(folder / STATE, {
            "pid": os.getpid(), "url": sim.url, "port": sim.port, "ca_path": sim.ca_path,
            "instance": instance, "version": __version__,
        })
        while not stop.wait(1.0):
            sim.tick()  # pushes run on the clock, whether or not anyone asks
            idle_for = time.monotonic() - sim.last_request_at
            if idle_for >= idle and not live_clients(folder):
                break
    finally:
        with contextlib.suppress(OSError, ValueError):
            state = json.loads((folder / STATE).read_text())
            if state.get("instance") == instance:
                (folder / STATE).unlink()
        sim.stop()
        os.close(lock)
    return 0


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m juston_tui.simulator.daemon DIR", file=sys.stderr)
        return 2
    os.umask(0o077)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    try:
        idle = float(os.environ.get(IDLE_ENV) or DEFAULT_IDLE)
    except ValueError:
        idle = DEFAULT_IDLE
    return serve(Path(args[0]), idle=idle, stop=stop)


if __name__ == "__main__":
    raise SystemExit(main())
