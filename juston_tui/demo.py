"""`juston-tui --demo`: a seeded temporary store backed by the built-in org simulator.

Every screen should look like a real installation: the simulator's demo orgs are registered
with a mix of auth methods (all pointing at the simulator and trusting its CA), their secrets
go into a memory keyring, a few production orgs are registered for push upgrades, one real
sweep fills the snapshots, and the contacts, calendar and checklist modules add their data.
Nothing outside the temporary directory (or the `--db` file, when given and new) is touched.
"""

from __future__ import annotations

import importlib
import logging
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from juston_tui.commands import UserError
from juston_tui.credentials import CredentialStore, open_credentials
from juston_tui.model import Org, PushRegistration, now_utc

if TYPE_CHECKING:
    from juston_tui.simulator import SimOrg, Simulator
    from juston_tui.store import Store

__all__ = ["SEED_MODULES", "DemoEnv", "register_simulator_orgs", "start_demo"]

log = logging.getLogger(__name__)

# Modules that add their demo data through `seed_demo(store, orgs)`.
SEED_MODULES = ("juston_tui.contacts_io", "juston_tui.schedule", "juston_tui.checklist")
_METHODS = ("jwt", "client-credentials", "password", "token")
# Scenarios whose behaviour needs a method that can log in again.
_NEEDS_LOGIN = {"session_expiring": "jwt", "vendor": "jwt"}


@dataclass
class DemoEnv:
    """What a demo run needs: the store file, the keyring, the simulator; `stop()` cleans up."""

    store_path: Path
    credentials: CredentialStore
    simulator: Simulator
    temp_dir: Path | None = None
    orgs: list[Org] = field(default_factory=list)
    seeded: list[str] = field(default_factory=list)  # modules whose seed_demo ran
    timings: dict[str, float] = field(default_factory=dict)

    def stop(self) -> None:
        self.simulator.stop()
        if self.temp_dir is not None:
            shutil.rmtree(self.temp_dir, ignore_errors=True)
            self.temp_dir = None


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
    simulator: Simulator,
    sim_orgs: list[SimOrg] | None = None,
    *,
    method: str | None = None,
) -> list[Org]:
    """Register simulator orgs (one store write, if a store is given); secrets to `credentials`.

    Methods rotate through jwt, client-credentials, password and token unless `method` is
    given; every org points at the simulator (instance URL, My Domain, CA bundle).
    """
    orgs: list[Org] = []
    for index, so in enumerate(sim_orgs if sim_orgs is not None else simulator.orgs):
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
        for kind, value in secrets.items():
            credentials.set(so.org_id, kind, value)
    if store is not None:
        store.put_many("orgs", [o.to_doc() for o in orgs])
    return orgs


def _push_registrations(store: Store, orgs: list[Org]) -> list[Org]:
    """A realistic spread: two production orgs registered, one requested, one sandbox by ticket."""
    today = now_utc().date()
    production = [o for o in orgs if o.is_production and not o.vendor
                  and "billing" in o.products and "no-package" not in o.tags]
    sandboxes = [o for o in orgs if o.kind == "sandbox"]
    changes: dict[str, dict[str, Any]] = {}
    for i, org in enumerate(production[:2]):
        push = PushRegistration().transition(
            "requested", on=today - timedelta(days=60 + 14 * i), ticket=f"JO-{48210 + i}")
        changes[org.org_id] = {"push": push.transition("registered",
                                                       on=today - timedelta(days=50 + 14 * i))}
    if len(production) > 2:
        changes[production[2].org_id] = {"push": PushRegistration().transition(
            "requested", on=today - timedelta(days=3), ticket="JO-48377")}
    if len(production) > 3:
        changes[production[3].org_id] = {"push": PushRegistration().transition(
            "request_drafted", on=today)}
    if sandboxes:
        parent = sandboxes[0]
        changes[parent.org_id] = {
            "sandbox_push_ticket": "JO-48302",
            "push": PushRegistration().transition("requested", on=today - timedelta(days=40),
                                                  ticket="JO-48302").transition(
                "registered", on=today - timedelta(days=35)),
        }
    updated = {o.org_id: o for o in orgs}
    with store.transaction():
        for org_id, change in changes.items():
            updated[org_id] = store.update_org(org_id, **change)
    return [updated[o.org_id] for o in orgs]


def _seed_others(env: DemoEnv, store: Store, orgs: list[Org]) -> None:
    """Let each screen's core module add its demo data (contacts, pushes, checklist)."""
    for module_name in SEED_MODULES:
        started = time.perf_counter()
        importlib.import_module(module_name).seed_demo(store, orgs)
        env.seeded.append(module_name)
        env.timings[module_name] = time.perf_counter() - started
    # The packaging org's real push requests/jobs, so the calendar shows them at once.
    from juston_tui.push_jobs import refresh_push_jobs

    started = time.perf_counter()
    refresh_push_jobs(store, env.credentials, timeout=5)
    env.timings["push_jobs"] = time.perf_counter() - started


def start_demo(db: str | Path | None = None, *, sweep_orgs: bool = True) -> DemoEnv:
    """Start the simulator and build a seeded store (at `db` only if that file is new)."""
    from juston_tui.salesforce import sweep
    from juston_tui.simulator import Simulator
    from juston_tui.store import Store

    started = time.perf_counter()
    temp_dir: Path | None = None
    if db:
        store_path = Path(db).expanduser()
        if store_path.exists():
            raise UserError(f"--demo --db {store_path}: the file exists; the demo only creates "
                            "a new store (give a new path, or leave out --db)")
    else:
        temp_dir = Path(tempfile.mkdtemp(prefix="juston-demo-"))
        store_path = temp_dir / "demo.json"
    simulator = Simulator(scenario_set="demo").start()
    env = DemoEnv(store_path, open_credentials("memory"), simulator, temp_dir)
    env.timings["simulator"] = time.perf_counter() - started
    try:
        store = Store.open(store_path)
        try:
            orgs = register_simulator_orgs(store, env.credentials, simulator)
            orgs = _push_registrations(store, orgs)
            env.orgs = orgs
            if sweep_orgs:
                t = time.perf_counter()
                sweep([o for o in orgs if not o.vendor], env.credentials, concurrency=16,
                      timeout=10.0, store=store)
                env.timings["sweep"] = time.perf_counter() - t
            _seed_others(env, store, orgs)
        finally:
            store.close()
    except BaseException:
        env.stop()
        raise
    env.timings["total"] = time.perf_counter() - started
    return env
