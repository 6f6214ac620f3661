"""Status sweep benchmark: 500 orgs at 150 ms simulated latency, concurrency 16.

DESIGN.md section 9: a sweep must finish within 1.5x of the ideal
(round trips x latency x orgs / concurrency) with at most 2 round trips per org after login.
The same code also runs sequentially over a slice of the orgs in the same process, so the
speed-up is measured, not assumed. Orgs use the token method so logins do not dominate; a
separate small run with JWT logins reports what a login costs.

    .venv/bin/python bench/sweep_bench.py            # 500 orgs (about 30 s)
    .venv/bin/python bench/sweep_bench.py --quick    # 100 orgs, CI size
    .venv/bin/python bench/sweep_bench.py --keyring cryptfile --store --orgs 2000

The simulator runs in a process of its own (as Salesforce is not in ours);
`--simulator-here` puts it in this one, as earlier versions of this bench did.
`--keyring cryptfile` reads the secrets from the encrypted credentials file (the SSH path),
stored in one write and unlocked by a fresh backend before the timing, as a new `status`
process would; `--store` saves every snapshot to a store on disk, as `status` does. Ends with
one JSON line: {"bench": "sweep", "orgs": N, "keyring": .., "store": .., "ratio_to_ideal": ..}.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from juston_tui import credentials as credentials_module
from juston_tui.credentials import CredentialStore, open_credentials
from juston_tui.demo import register_simulator_orgs
from juston_tui.salesforce.sweeper import sweep
from juston_tui.simulator import Simulator
from juston_tui.store import Store

PASSPHRASE = "bench passphrase"


class SimulatorProcess:
    """The simulator in a process of its own (fork), driven over a pipe: the server's work
    (TLS, JSON, its own threads) is not charged to the sweep's process, as Salesforce's is
    not to a real `status` run. Only what this bench calls: make_org, data, set_latency,
    reset_counters, request_count, login_count, stop; `url` and `ca_path` as attributes."""

    def __init__(self, **kwargs: Any) -> None:
        import multiprocessing

        ctx = multiprocessing.get_context("fork")  # before this process starts any thread
        self._conn, child = ctx.Pipe()
        self._proc = ctx.Process(target=_serve_simulator, args=(child, kwargs), daemon=True)
        self._proc.start()
        self.url, self.ca_path = self._conn.recv()

    def _call(self, name: str, *args: Any) -> Any:
        self._conn.send((name, args))
        ok, value = self._conn.recv()
        if not ok:
            raise RuntimeError(f"simulator {name}: {value}")
        return value

    def make_org(self, scenario: str, index: int) -> Any:
        return self._call("make_org", scenario, index)

    def data(self, org_id: str) -> None:
        self._call("data", org_id)

    def set_latency(self, seconds: float) -> None:
        self._call("set_latency", seconds)

    def reset_counters(self) -> None:
        self._call("reset_counters")

    def request_count(self) -> int:
        return int(self._call("request_count"))

    def login_count(self) -> int:
        return int(self._call("login_count"))

    def stop(self) -> None:
        with contextlib.suppress(OSError, EOFError):
            self._call("stop")
        self._proc.join(10)


def _serve_simulator(conn: Any, kwargs: dict[str, Any]) -> None:
    sim = Simulator(**kwargs).start()
    conn.send((sim.url, sim.ca_path))
    while True:
        name, args = conn.recv()
        try:
            value = getattr(sim, name)(*args)
            conn.send((True, None if name in ("data", "stop") else value))
        except Exception as exc:  # reported in the bench's process
            conn.send((False, repr(exc)))
        if name == "stop":
            return


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="100 orgs, sequential over 10")
    parser.add_argument("--orgs", type=int, help="number of orgs (default 500, quick 100)")
    parser.add_argument("--sequential", type=int, help="orgs in the sequential run (default 50)")
    parser.add_argument("--latency", type=float, default=0.15, help="seconds per request")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--simulator-here", action="store_true",
                        help="run the simulator in this process (it then shares the sweep's "
                             "GIL and cores: the ratio measures both)")
    parser.add_argument("--keyring", choices=("memory", "cryptfile"), default="memory",
                        help="where the secrets are read from (default memory)")
    parser.add_argument("--store", action="store_true",
                        help="save the snapshots to a store on disk, as `status` does")
    args = parser.parse_args()
    n = args.orgs or (100 if args.quick else 500)
    n_seq = args.sequential or (10 if args.quick else 50)
    latency, concurrency = args.latency, args.concurrency

    tmp = Path(tempfile.mkdtemp(prefix="juston-sweep-"))
    sim: Any = (Simulator(scenario_set="empty").start() if args.simulator_here
                else SimulatorProcess(scenario_set="empty"))
    store: Store | None = None
    store_s = unlock_s = 0.0
    try:
        memory = open_credentials("memory")
        sim_orgs = [sim.make_org("healthy", i) for i in range(n)]
        for so in sim_orgs:
            sim.data(so.org_id)  # build the simulated records now, not inside the timing
        store = Store.open(tmp / "store.json") if args.store else None
        orgs = register_simulator_orgs(store, memory, sim, sim_orgs, method="token")
        creds: CredentialStore = memory
        if args.keyring == "cryptfile":
            os.environ[credentials_module.FILE_ENV] = str(tmp / "credentials.cfg")
            secrets = {(o.org_id, "access_token"): memory.get(o.org_id, "access_token")
                       for o in orgs}
            t = time.perf_counter()
            open_credentials("cryptfile", passphrase=PASSPHRASE).set_many(
                {key: value for key, value in secrets.items() if value})
            store_s = time.perf_counter() - t
            t = time.perf_counter()
            # A new process: a fresh backend unlocks the file (Argon2 once, one parse).
            creds = open_credentials("cryptfile", passphrase=PASSPHRASE)
            unlock_s = time.perf_counter() - t
        sweep(orgs[:4], creds, concurrency=4)  # warm-up: imports, TLS context, code paths
        sim.set_latency(latency)

        sim.reset_counters()
        t = time.perf_counter()
        seq = sweep(orgs[:n_seq], creds, concurrency=1, timeout=30, store=store)
        seq_wall = time.perf_counter() - t
        seq_trips = sim.request_count() / n_seq

        sim.reset_counters()
        t = time.perf_counter()
        snaps = sweep(orgs, creds, concurrency=concurrency, timeout=30, store=store)
        wall = time.perf_counter() - t
        trips = sim.request_count() / n
        logins = sim.login_count()
        errors = sum(1 for s in snaps + seq if s.error)
        not_ok = sum(1 for s in snaps if s.verdict != "ok")

        # Login cost, reported separately: a small JWT run (one token request per org).
        sample = [sim.make_org("healthy", n + i) for i in range(concurrency)]
        jwt_orgs = register_simulator_orgs(None, creds, sim, sample, method="jwt")
        sim.reset_counters()
        t = time.perf_counter()
        jwt_snaps = sweep(jwt_orgs, creds, concurrency=concurrency, timeout=30)
        jwt_wall = time.perf_counter() - t
        login_trips = sim.login_count() / len(sample)
        jwt_api = sim.request_count() / len(sample)
        errors += sum(1 for s in jwt_snaps if s.error)
        save_errors = len(snaps.save_errors) + len(seq.save_errors)
        if store is not None:
            errors += save_errors
            print(f"store: {snaps.saved} snapshots saved in {snaps.writes} writes")
            if snaps.saved != n:
                print(f"saved {snaps.saved} of {n} snapshots")
                errors += 1
    finally:
        sim.stop()
        if store is not None:
            store.close()
        shutil.rmtree(tmp, ignore_errors=True)

    ideal = trips * latency * n / concurrency
    ratio = wall / ideal
    seq_per_org = seq_wall / n_seq
    print(f"orgs {n}, latency {latency * 1000:.0f} ms, concurrency {concurrency}, keyring "
          f"{args.keyring}, store {'on' if args.store else 'off'}")
    if args.keyring == "cryptfile":
        print(f"encrypted file: {n} secrets stored in {store_s:.2f} s (one write), unlocked by a "
              f"new backend in {unlock_s:.2f} s (before the timing)")
    print(f"sequential  {n_seq:4d} orgs: {seq_wall:7.2f} s  ({seq_per_org * 1000:.0f} ms/org, "
          f"{seq_trips:.2f} round trips/org; {n} orgs would take {seq_per_org * n:.1f} s)")
    print(f"concurrent  {n:4d} orgs: {wall:7.2f} s  ({trips:.2f} round trips/org after login, "
          f"{logins} logins)")
    print(f"ideal (round trips x latency x orgs / concurrency): {ideal:.2f} s")
    print(f"ratio to ideal: {ratio:.2f}x (goal <= 1.5x)   speed-up vs sequential: "
          f"{seq_per_org * n / wall:.1f}x")
    print(f"login (JWT, {len(sample)} orgs): {login_trips:.2f} login round trips/org, "
          f"{jwt_api:.2f} API round trips/org, {jwt_wall:.2f} s for the batch")
    print(f"errors {errors}, orgs not ok {not_ok}")
    ok = ratio <= 1.5 and trips <= 2.0 and errors == 0
    print("PASS" if ok else "FAIL")
    print(json.dumps({"bench": "sweep", "orgs": n, "keyring": args.keyring,
                      "store": bool(args.store), "ratio_to_ideal": round(ratio, 3),
                      "wall_s": round(wall, 2), "ideal_s": round(ideal, 2),
                      "round_trips_per_org": round(trips, 2), "errors": errors,
                      "store_writes": snaps.writes if store is not None else 0}))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
