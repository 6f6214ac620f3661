"""Status sweep benchmark: 500 orgs at 150 ms simulated latency, concurrency 16.

DESIGN.md section 9: a sweep must finish within 1.5x of the ideal
(round trips x latency x orgs / concurrency) with at most 2 round trips per org after login.
The same code also runs sequentially over a slice of the orgs in the same process, so the
speed-up is measured, not assumed. Orgs use the token method so logins do not dominate; a
separate small run with JWT logins reports what a login costs.

    .venv/bin/python bench/sweep_bench.py            # 500 orgs (about 30 s)
    .venv/bin/python bench/sweep_bench.py --quick    # 100 orgs, CI size
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from juston_tui.credentials import open_credentials
from juston_tui.demo import register_simulator_orgs
from juston_tui.salesforce.sweeper import sweep
from juston_tui.simulator import Simulator


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="100 orgs, sequential over 10")
    parser.add_argument("--orgs", type=int, help="number of orgs (default 500, quick 100)")
    parser.add_argument("--sequential", type=int, help="orgs in the sequential run (default 50)")
    parser.add_argument("--latency", type=float, default=0.15, help="seconds per request")
    parser.add_argument("--concurrency", type=int, default=16)
    args = parser.parse_args()
    n = args.orgs or (100 if args.quick else 500)
    n_seq = args.sequential or (10 if args.quick else 50)
    latency, concurrency = args.latency, args.concurrency

    sim = Simulator(scenario_set="empty").start()
    try:
        creds = open_credentials("memory")
        sim_orgs = [sim.make_org("healthy", i) for i in range(n)]
        for so in sim_orgs:
            sim.data(so.org_id)  # build the simulated records now, not inside the timing
        orgs = register_simulator_orgs(None, creds, sim, sim_orgs, method="token")
        sweep(orgs[:4], creds, concurrency=4)  # warm-up: imports, TLS context, code paths
        sim.set_latency(latency)

        sim.reset_counters()
        t = time.perf_counter()
        seq = sweep(orgs[:n_seq], creds, concurrency=1, timeout=30)
        seq_wall = time.perf_counter() - t
        seq_trips = sim.request_count() / n_seq

        sim.reset_counters()
        t = time.perf_counter()
        snaps = sweep(orgs, creds, concurrency=concurrency, timeout=30)
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
    finally:
        sim.stop()

    ideal = trips * latency * n / concurrency
    ratio = wall / ideal
    seq_per_org = seq_wall / n_seq
    print(f"orgs {n}, latency {latency * 1000:.0f} ms, concurrency {concurrency}")
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
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
