"""The demo as one run sees it (DemoEnv), and its seeding: the simulator's orgs registered
with their secrets, one real check each, then contacts, pushes and checklist progress
(demo/contacts.py, demo/pushes.py, demo/checklist.py), built aside and moved into place whole."""

from __future__ import annotations

import os
import shutil
import time
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from juston_tui.credentials import BackendInfo, CredentialStore
from juston_tui.demo import checklist as demo_checklist
from juston_tui.demo import contacts as demo_contacts
from juston_tui.demo import pushes as demo_pushes
from juston_tui.demo.credentials import DemoFileBackend
from juston_tui.demo.place import DemoPlace
from juston_tui.demo.simulator import SimulatorInfo
from juston_tui.model import Org, PushRegistration, now_utc
from juston_tui.push_jobs import refresh_push_jobs
from juston_tui.store import Store

if TYPE_CHECKING:
    from juston_tui.simulator import SimOrg, Simulator

# How to reach the demo from the command line (the first screen says it too).
CLI_HINT = "juston-tui --demo status"
# What seeds the demo after the orgs and their first check, in order: name -> module with
# `seed(store, orgs)`.
SEEDS = (("contacts", demo_contacts), ("pushes", demo_pushes), ("checklist", demo_checklist))
SEED_NAMES = tuple(name for name, _ in SEEDS)
_METHODS = ("jwt", "client-credentials", "password", "token")
# Scenarios whose behaviour needs a method that can log in again.
_NEEDS_LOGIN = {"session_expiring": "jwt", "vendor": "jwt"}
# Every secret a simulated org has, by credential kind (whichever method the org uses).
_SECRET_FIELDS = {"private_key": "private_key_pem", "consumer_secret": "consumer_secret",
                  "password": "password", "security_token": "security_token",
                  "access_token": "access_token", "refresh_token": "refresh_token"}


@dataclass
class DemoEnv:
    """The demo as one command or the TUI sees it; `stop()` when done."""

    place: DemoPlace
    read_only: bool = False
    created: bool = False  # this run seeded the store
    simulator: SimulatorInfo | None = None
    orgs: list[Org] = field(default_factory=list)
    seeded: list[str] = field(default_factory=list)  # the SEEDS that ran, by name
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
    place.set_marker(synced_instance=info.instance)


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
    # the Salesforce client (requests): only when an org is contacted
    from juston_tui.salesforce.sweeper import sweep

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
            # The packaging org's push requests and jobs, so the calendar shows them at once
            # (and the push plan of demo/pushes.py finds its waves' requests in it).
            started = time.perf_counter()
            refresh_push_jobs(store, credentials, timeout=10)
            env.timings["push_jobs"] = time.perf_counter() - started
            for name, module in SEEDS:
                started = time.perf_counter()
                module.seed(store, orgs)
                env.seeded.append(name)
                env.timings[name] = time.perf_counter() - started
            env.orgs = store.list_orgs()
            companions = store.companion_paths()
        finally:
            store.close()
        for built in companions:  # the snapshots first: the store file's arrival ends the seed
            if built.exists():
                target = place.root / built.name
                if target.is_dir():
                    shutil.rmtree(target)
                os.replace(built, target)
        os.replace(seeding / place.store_path.name, place.store_path)
        place.set_marker(synced_instance=info.instance)
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
