"""`juston-tui --demo`: a place to try everything, on the built-in org simulator.

The demo lives in one folder under the user's cache directory (`~/.cache/juston-tui/demo`, or
JUSTON_TUI_DEMO_DIR), clearly apart from the real store and the real keyring:

- `demo-store.json`: a store seeded once from the simulator's orgs (push registrations, one real
  check of every org, contacts, pushes, checklist progress), then kept, so the TUI with `--demo`
  and `juston-tui --demo status` in another terminal see and change the same data;
- `demo-credentials.json` (0600): the simulated orgs' secrets. It is a plain file on purpose
  (no passphrase to type in a demo) and therefore refuses any org that is not one of the
  simulator's: a real org's secret can never land in it;
- `simulator/`: the simulator, a background process of its own (simulator/daemon.py) started
  on demand by the first demo command that needs it and shared by all of them.

`juston-tui --demo reset` stops the simulator and starts the demo afresh. Nothing outside the
folder is touched, and a folder that is not recognised as a demo is never changed or removed.
"""

from __future__ import annotations

import contextlib
import fcntl
import http.client
import importlib
import json
import logging
import os
import shutil
import signal
import ssl
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from juston_tui import APP_NAME, __version__
from juston_tui.credentials import BackendInfo, CredentialStore, CredentialsUnavailable
from juston_tui.errors import UserError
from juston_tui.model import Org, PushRegistration, now_utc
from juston_tui.simulator import daemon

if TYPE_CHECKING:
    from juston_tui.simulator import SimOrg, Simulator
    from juston_tui.store import Store

__all__ = [
    "DEMO_DIR_ENV",
    "SEED_MODULES",
    "DemoEnv",
    "DemoPlace",
    "SimulatorInfo",
    "open_demo",
    "register_simulator_orgs",
]

log = logging.getLogger(__name__)

DEMO_DIR_ENV = "JUSTON_TUI_DEMO_DIR"
MARKER = "juston-tui-demo.json"
MARKER_KIND = "juston-tui demo"
# How to reach the demo from the command line (the first screen says it too).
CLI_HINT = "juston-tui --demo status"
# Modules that add their demo data through `seed_demo(store, orgs)`.
SEED_MODULES = ("juston_tui.contacts_io", "juston_tui.schedule", "juston_tui.checklist")
_METHODS = ("jwt", "client-credentials", "password", "token")
# Scenarios whose behaviour needs a method that can log in again.
_NEEDS_LOGIN = {"session_expiring": "jwt", "vendor": "jwt"}
# Every secret a simulated org has, by credential kind (whichever method the org uses).
_SECRET_FIELDS = {"private_key": "private_key_pem", "consumer_secret": "consumer_secret",
                  "password": "password", "security_token": "security_token",
                  "access_token": "access_token", "refresh_token": "refresh_token"}
_START_TIMEOUT = 30.0


# -- the simulator process ------------------------------------------------------------------------
@dataclass(frozen=True)
class SimulatorInfo:
    """A running demo simulator: where it listens, the CA to trust, its orgs' credentials."""

    url: str
    ca_path: str
    pid: int
    instance: str
    orgs_path: Path

    @property
    def orgs(self) -> list[SimOrg]:
        from juston_tui.simulator import SimOrg

        payload = json.loads(self.orgs_path.read_text(encoding="utf-8"))
        return [SimOrg(**entry) for entry in payload["orgs"]]

    @property
    def vendor_org(self) -> SimOrg | None:
        return next((o for o in self.orgs if o.spec.vendor), None)


def _ping(url: str, ca_path: str, timeout: float = 3.0) -> bool:
    """Whether `url` is a simulator we trust: TLS verified with its CA, and Salesforce's
    versions list at /services/data/ (what every client asks first)."""
    host, _, port = url.removeprefix("https://").partition(":")
    try:
        context = ssl.create_default_context(cafile=ca_path)
        conn = http.client.HTTPSConnection(host, int(port or 443), context=context,
                                           timeout=timeout)
        try:
            conn.request("GET", "/services/data/")
            response = conn.getresponse()
            body = response.read()
        finally:
            conn.close()
    except (OSError, ValueError, ssl.SSLError, http.client.HTTPException):
        return False
    if response.status != 200:
        return False
    try:
        return isinstance(json.loads(body), list)
    except ValueError:
        return False


# -- the demo-only credentials file ---------------------------------------------------------------
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
        from juston_tui.store import atomic_write_bytes

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
        from keyring.errors import PasswordDeleteError

        with self._locked():
            data = self._read()
            if data.pop(f"{service}/{username}", None) is None:
                raise PasswordDeleteError("no such secret")
            self._write(data)


# -- the place ------------------------------------------------------------------------------------
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
        from platformdirs import user_cache_path

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
        self._set_marker(synced_instance=None)

    def _set_marker(self, **values: Any) -> None:
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
        return info if _ping(info.url, info.ca_path) else None

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
        deadline = time.monotonic() + _START_TIMEOUT
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


# -- the environment a demo run works in ----------------------------------------------------------
@dataclass
class DemoEnv:
    """The demo as one command or the TUI sees it; `stop()` when done."""

    place: DemoPlace
    read_only: bool = False
    created: bool = False  # this run seeded the store
    simulator: SimulatorInfo | None = None
    orgs: list[Org] = field(default_factory=list)
    seeded: list[str] = field(default_factory=list)  # modules whose seed_demo ran
    timings: dict[str, float] = field(default_factory=dict)
    _credentials: CredentialStore | None = None
    _client: int | None = None

    @property
    def store_path(self) -> Path:
        return self.place.store_path

    @property
    def credentials(self) -> CredentialStore:
        """The demo-only credentials file (holds the simulator's secrets and nothing else)."""
        if self._credentials is None:
            place = self.place
            backend = DemoFileBackend(place.credentials_path, place.simulator_dir / "orgs.json")
            self._credentials = CredentialStore(backend, BackendInfo(
                "demo", "demo credentials file", False, True,
                "plain JSON holding only the built-in simulator's secrets; refuses any other "
                "org", str(place.credentials_path)))
        return self._credentials

    def ensure_simulator(self) -> SimulatorInfo:
        """The simulator, started if needed; a new simulator's URL and secrets are copied into
        the demo store and credentials file first."""
        with self.place.lock():
            info = self.place.start_simulator()
            if self.simulator != info:
                self.simulator = info
                if self.place.store_path.exists() and self.place.synced_instance() != \
                        info.instance:
                    _sync(self.place, info, self.credentials)
            return info

    def hold_simulator(self) -> None:
        """Keep the simulator running while this process lives (the TUI, `serve`)."""
        self.ensure_simulator()
        self._client = os.getpid()
        self.place.register_client(self._client)

    def stop(self) -> None:
        if self._client is not None:
            self.place.unregister_client(self._client)
            self._client = None


def _secrets_of(sim_org: SimOrg) -> dict[str, str]:
    return {kind: str(getattr(sim_org, attr)) for kind, attr in _SECRET_FIELDS.items()
            if getattr(sim_org, attr, "")}


def _store_secrets(credentials: CredentialStore, sim_orgs: list[SimOrg]) -> None:
    """Every simulated org's secrets in one write, whichever method the org uses now."""
    credentials.set_many({(o.org_id, kind): value for o in sim_orgs
                          for kind, value in _secrets_of(o).items()})


def _sync(place: DemoPlace, info: SimulatorInfo, credentials: CredentialStore) -> None:
    """A new simulator process has new keys and maybe a new port: point the demo orgs at it
    and copy its secrets (the orgs' other fields, edited or not, are left as they are)."""
    from juston_tui.store import Store

    sim_orgs = info.orgs
    ids = {o.org_id for o in sim_orgs}
    _store_secrets(credentials, sim_orgs)
    store = Store.open(place.store_path)
    try:
        with store.transaction():
            for org in store.list_orgs():
                if org.org_id in ids and (org.instance_url != info.url
                                          or org.ca_bundle != info.ca_path):
                    store.update_org(org.org_id, instance_url=info.url, ca_bundle=info.ca_path)
    finally:
        store.close()
    place._set_marker(synced_instance=info.instance)


# -- seeding --------------------------------------------------------------------------------------
def _method_for(sim_org: SimOrg, index: int) -> str:
    return _NEEDS_LOGIN.get(sim_org.scenario) or _METHODS[index % len(_METHODS)]


def _products(sim_org: SimOrg) -> list[str]:
    spec = sim_org.spec
    if spec.vendor:
        return []
    return ["billing", "cash"] if spec.cash else ["billing"]


def register_simulator_orgs(
    store: Store | None,
    credentials: CredentialStore,
    simulator: Simulator | SimulatorInfo,
    sim_orgs: list[SimOrg] | None = None,
    *,
    method: str | None = None,
) -> list[Org]:
    """Register simulator orgs (one store write, if a store is given); secrets to `credentials`.

    Methods rotate through jwt, client-credentials, password and token unless `method` is
    given; every org points at the simulator (instance URL, My Domain, CA bundle).
    """
    orgs: list[Org] = []
    chosen_orgs = sim_orgs if sim_orgs is not None else simulator.orgs
    for index, so in enumerate(chosen_orgs):
        chosen = method or _method_for(so, index)
        orgs.append(Org.create(
            org_id=so.org_id, name=so.name, kind=so.kind, parent_org_id=so.parent_org_id,
            instance_url=simulator.url, domain=so.my_domain, auth_method=chosen,
            username=so.username, consumer_key=so.consumer_key, ca_bundle=simulator.ca_path,
            products=_products(so), vendor=so.spec.vendor,
            tags=["demo", so.scenario.replace("_", "-")],
            notes=f"Simulated org ({so.spec.description})",
        ))
        secrets = {
            "jwt": {"private_key": so.private_key_pem},
            "client-credentials": {"consumer_secret": so.consumer_secret},
            "password": {"password": so.password, "security_token": so.security_token},
            "token": {"access_token": so.access_token},
        }[chosen]
        credentials.set_many({(so.org_id, kind): value for kind, value in secrets.items()})
    if store is not None:
        store.put_orgs(orgs)
    return orgs


def _push_registrations(store: Store, orgs: list[Org], sim_orgs: list[SimOrg]) -> list[Org]:
    """Each org's push registration as its demo facts say (registered, requested with a
    ticket, a drafted request, a sandbox pushed on ticket): the packaging org's push
    requests reach exactly the registered ones."""
    today = now_utc().date()
    changes: dict[str, dict[str, Any]] = {}
    for index, so in enumerate(sim_orgs):
        state = so.extra.get("push")
        ticket = str(so.extra.get("sandbox_ticket") or f"JO-{48210 + index}")
        requested = PushRegistration().transition(
            "requested", on=today - timedelta(days=40 + 9 * index), ticket=ticket)
        if state == "registered":
            push = requested.transition("registered", on=today - timedelta(days=30 + 9 * index))
        elif state == "requested":
            push = PushRegistration().transition("requested", on=today - timedelta(days=3),
                                                 ticket=ticket)
        elif state == "request_drafted":
            push = PushRegistration().transition("request_drafted", on=today)
        else:
            continue
        changes[so.org_id] = {"push": push}
        if so.extra.get("sandbox_ticket"):
            changes[so.org_id]["sandbox_push_ticket"] = ticket
    updated = {o.org_id: o for o in orgs}
    with store.transaction():
        for org_id, change in changes.items():
            updated[org_id] = store.update_org(org_id, **change)
    return [updated[o.org_id] for o in orgs]


def _seed(env: DemoEnv, info: SimulatorInfo, *, sweep_orgs: bool) -> None:
    """Build the demo store in a temporary file and move it into place whole, so a failed or
    interrupted seeding never leaves a half-made demo behind."""
    from juston_tui.push_jobs import refresh_push_jobs
    from juston_tui.salesforce.sweeper import sweep
    from juston_tui.store import Store

    place = env.place
    seeding = place.root / ".seeding"
    shutil.rmtree(seeding, ignore_errors=True)
    seeding.mkdir(mode=0o700)
    credentials = env.credentials
    try:
        store = Store.open(seeding / place.store_path.name)
        try:
            sim_orgs = info.orgs
            orgs = register_simulator_orgs(store, credentials, info, sim_orgs)
            _store_secrets(credentials, sim_orgs)  # all of them: any method can be tried
            orgs = _push_registrations(store, orgs, sim_orgs)
            if sweep_orgs:
                started = time.perf_counter()
                sweep([o for o in orgs if not o.vendor], credentials, concurrency=16,
                      timeout=10.0, store=store)
                env.timings["sweep"] = time.perf_counter() - started
            for module_name in SEED_MODULES:
                started = time.perf_counter()
                importlib.import_module(module_name).seed_demo(store, orgs)
                env.seeded.append(module_name)
                env.timings[module_name] = time.perf_counter() - started
            # The packaging org's push requests and jobs, so the calendar shows them at once.
            started = time.perf_counter()
            refresh_push_jobs(store, credentials, timeout=10)
            env.timings["push_jobs"] = time.perf_counter() - started
            env.orgs = store.list_orgs()
        finally:
            store.close()
        os.replace(seeding / place.store_path.name, place.store_path)
        place._set_marker(synced_instance=info.instance)
    finally:
        shutil.rmtree(seeding, ignore_errors=True)


def open_demo(*, read_only: bool = False, sweep_orgs: bool = True,
              need_simulator: bool = False) -> DemoEnv:
    """The demo place, seeded on first use (which starts the simulator).

    Later runs start the simulator only when asked (`need_simulator`, or through
    `env.credentials`), so `--demo org list` or `--demo contacts list` cost no process.
    """
    started = time.perf_counter()
    place = DemoPlace.default()
    place.ensure()
    env = DemoEnv(place, read_only=read_only)
    with place.lock():
        if not place.store_path.exists():
            info = env.ensure_simulator()
            env.timings["simulator"] = time.perf_counter() - started
            _seed(env, info, sweep_orgs=sweep_orgs)
            env.created = True
        elif need_simulator:
            env.ensure_simulator()
    env.timings["total"] = time.perf_counter() - started
    return env
