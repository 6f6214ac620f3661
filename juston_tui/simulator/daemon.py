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
  idle for JUSTON_TUI_DEMO_IDLE seconds (default 900) and no client is alive, or on SIGTERM.

It prefers the port it had last time (`last-port`), so the stored orgs' URLs stay valid.
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
from pathlib import Path

from juston_tui import __version__

IDLE_ENV = "JUSTON_TUI_DEMO_IDLE"
DEFAULT_IDLE = 900.0
STATE = "state.json"
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


def serve(folder: Path, *, idle: float, stop: threading.Event) -> int:
    from juston_tui.simulator import Simulator

    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    (folder / CLIENTS).mkdir(exist_ok=True, mode=0o700)
    lock = os.open(folder / LOCK, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return 0  # another one serves this folder already; its clients will find it
    port = _preferred_port(folder)
    try:
        sim = Simulator(scenario_set="demo", port=port, ca_dir=folder).start()
    except OSError as exc:
        if exc.errno != errno.EADDRINUSE or port == 0:
            raise
        sim = Simulator(scenario_set="demo", port=0, ca_dir=folder).start()
    instance = secrets.token_hex(8)
    try:
        sim.write_credentials(folder / "orgs.json")
        (folder / LAST_PORT).write_text(str(sim.port))
        write_json(folder / STATE, {
            "pid": os.getpid(), "url": sim.url, "port": sim.port, "ca_path": sim.ca_path,
            "instance": instance, "version": __version__,
        })
        while not stop.wait(1.0):
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
