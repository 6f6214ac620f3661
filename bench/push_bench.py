"""Push scheduling benchmark: a push request with jobs for 5,000 subscriber orgs at 150 ms
simulated latency, through juston_tui.salesforce.push_api over real HTTPS to the simulator's
packaging org.

What it does is what a push's "schedule" step does: create the PackagePushRequest, insert one
PackagePushJob per org in composite/tree batches of 200 (1% of the orgs refused by Salesforce:
inactive, already upgraded, uninstalled; each dropped with its reason and its batch sent again),
set the request Pending, then read its status (every job) once. The baseline in the same run is
the ideal: one round trip per call that cannot be avoided (create, ceil(orgs/200) batches,
Pending; the status read: one composite plus a page per further 2,000 jobs), each costing the
latency, the requests one after another (a push request is one sequence of writes). A second
run has the simulator name only the first failing record of a batch (Salesforce does not say
whether it names all), the worst case for drop-and-retry. A third run is the whole
`push plan` + `push schedule --yes` path (juston_tui.push_ops) over a store with the 5,000
orgs registered: read the package's versions and subscribers, plan (reasons, waves; one wave
here: pilot share 0), save, then schedule the wave (gates, request, batches, Pending, the
audit records); wall time and round trips of each part.

    .venv/bin/python bench/push_bench.py            # 5,000 orgs (about 20 s)
    .venv/bin/python bench/push_bench.py --quick    # 1,000 orgs

The last line is JSON: {"bench": "push", "orgs": N, ...}.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from juston_tui.credentials import open_credentials
from juston_tui.demo import register_simulator_orgs
from juston_tui.model import Org, PushRegistration
from juston_tui.push_ops.packaging import read_packaging
from juston_tui.push_ops.planning import make_plan
from juston_tui.push_ops.plans import save_plan, stamp, update_wave
from juston_tui.push_ops.scheduling import schedule_wave
from juston_tui.push_ops.session import packaging_connection
from juston_tui.salesforce.connection import OrgConnection
from juston_tui.salesforce.push_api import BATCH_SIZE, PushReader, PushWriter
from juston_tui.simulator import CURRENT_VERSIONS, Simulator
from juston_tui.simulator.data import version_id
from juston_tui.store import Store

PAGE = 2000  # records per query page (the simulator's batch_size, Salesforce's default)


def _subscribers(sim: Simulator, n: int, refused_share: float) -> tuple[list[str], int]:
    """n subscribers, every k-th one refused by Salesforce (three kinds, in turn)."""
    every = max(2, round(1 / refused_share)) if refused_share > 0 else 0
    orgs, refused = [], 0
    kinds = ({"status": "Inactive"}, {"version": CURRENT_VERSIONS["ONB2"]},
             {"installed": False})
    for i in range(n):
        if every and i % every == every // 2:
            orgs.append(sim.add_subscriber(**kinds[refused % len(kinds)]))  # type: ignore[arg-type]
            refused += 1
        else:
            orgs.append(sim.add_subscriber())
    return orgs, refused


def _run(n: int, latency: float, refused_share: float, first_only: bool) -> dict[str, Any]:
    sim = Simulator(scenario_set="vendor").start()
    try:
        creds = open_credentials("memory")
        assert sim.vendor_org is not None
        vendor_id = sim.vendor_org.org_id
        orgs, refused = _subscribers(sim, n, refused_share)
        vendor = register_simulator_orgs(None, creds, sim, [sim.vendor_org], method="token")[0]
        target = version_id("ONB2", CURRENT_VERSIONS["ONB2"])
        sim.tree_errors = "first" if first_only else "all"
        with OrgConnection(vendor, creds, timeout=60) as conn:
            writer, reader = PushWriter(conn), PushReader(conn)
            warm = writer.create_request(target)  # warm-up: TLS, imports, code paths
            writer.insert_jobs(warm, orgs[:2])
            writer.cancel(warm)
            sim.set_latency(latency)

            sim.reset_counters()
            t = time.perf_counter()
            request_id = writer.create_request(target)
            result = writer.insert_jobs(request_id, orgs)
            writer.start(request_id)  # no start time: it starts at once
            wall = time.perf_counter() - t
            trips = sim.request_count(vendor_id)

            sim.reset_counters()
            t = time.perf_counter()
            status = reader.request(request_id)
            read_wall = time.perf_counter() - t
            read_trips = sim.request_count(vendor_id)
    finally:
        sim.stop()
    batches = math.ceil(n / BATCH_SIZE)
    ideal_trips = 2 + batches
    pages = math.ceil(len(result.jobs) / PAGE)
    ideal_read = 1 + max(0, pages - 1)
    return {
        "orgs": n, "refused": refused, "created": len(result.jobs),
        "dropped": len(result.dropped), "batches": batches,
        "tree_round_trips": result.round_trips, "round_trips": trips,
        "ideal_round_trips": ideal_trips, "wall_s": round(wall, 3),
        "ideal_s": round(ideal_trips * latency, 3),
        "ratio": round(wall / (ideal_trips * latency), 3),
        "trips_ratio": round(trips / ideal_trips, 3),
        "status": status.status, "status_jobs": len(status.jobs),
        "read_round_trips": read_trips, "read_ideal_round_trips": ideal_read,
        "read_s": round(read_wall, 3), "read_ratio": round(read_wall / (ideal_read * latency), 3),
        "ok": len(result.jobs) == n - refused and len(result.dropped) == refused
        and len(status.jobs) == n - refused,
    }


def _plan_run(n: int, latency: float, refused_share: float) -> dict[str, Any]:
    """push plan + push schedule --yes for n subscriber orgs registered in a store."""
    sim = Simulator(scenario_set="vendor").start()
    folder = tempfile.TemporaryDirectory()
    try:
        creds = open_credentials("memory")
        assert sim.vendor_org is not None
        vendor_id = sim.vendor_org.org_id
        orgs, refused = _subscribers(sim, n, refused_share)
        store = Store.open(Path(folder.name) / "store.json")
        register_simulator_orgs(store, creds, sim, [sim.vendor_org], method="token")
        day = datetime.now(UTC).date() - timedelta(days=30)
        registered = PushRegistration().transition("requested", on=day, ticket="JO-1"
                                                   ).transition("registered", on=day)
        store.put_orgs([Org.create(org_id=o, name=f"Subscriber {i:05d}", push=registered)
                        for i, o in enumerate(orgs)])
        with packaging_connection(store, creds) as (_vendor, conn):
            read_packaging(conn, "ONB2")  # warm-up: TLS, imports, code paths
            sim.set_latency(latency)
            sim.reset_counters()
            t = time.perf_counter()
            packaging = read_packaging(conn, "ONB2")
            draft = make_plan(store, packaging, product="billing", packaging_org=vendor_id,
                              pilot_share=0.0,
                              at=datetime.now(UTC) + timedelta(days=10))
            plan = save_plan(store, draft.plan)
            plan_wall = time.perf_counter() - t
            plan_trips = sim.request_count(vendor_id)
            update_wave(store, plan.id, 1, announced_at=stamp(datetime.now(UTC)))
            sim.reset_counters()
            t = time.perf_counter()
            result = schedule_wave(store, conn, plan.id, 1)
            schedule_wall = time.perf_counter() - t
            schedule_trips = sim.request_count(vendor_id)
        store.close()
    finally:
        sim.stop()
        folder.cleanup()
    included = plan.org_count
    batches = math.ceil(included / BATCH_SIZE)
    return {"plan_orgs": included, "plan_excluded": len(plan.excluded),
            "plan_s": round(plan_wall, 3), "plan_round_trips": plan_trips,
            "plan_ideal_round_trips": 1 + math.ceil(max(0, n - PAGE) / PAGE),
            "schedule_s": round(schedule_wall, 3), "schedule_round_trips": schedule_trips,
            "schedule_ideal_round_trips": 2 + batches, "scheduled_jobs": result.jobs,
            "scheduled_dropped": len(result.dropped),
            "plan_ok": included == n - refused}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="1,000 orgs")
    parser.add_argument("--orgs", type=int, help="subscriber orgs (default 5000, quick 1000)")
    parser.add_argument("--latency", type=float, default=0.15, help="seconds per request")
    parser.add_argument("--refused", type=float, default=0.01,
                        help="share of orgs Salesforce refuses (default 0.01)")
    args = parser.parse_args()
    n = args.orgs or (1000 if args.quick else 5000)
    figures = _run(n, args.latency, args.refused, first_only=False)
    worst = _run(n, args.latency, args.refused, first_only=True)
    lat = args.latency * 1000
    print(f"orgs {n}, latency {lat:.0f} ms, {figures['refused']} refused by Salesforce")
    print(f"schedule (create, {figures['batches']} batches of {BATCH_SIZE}, Pending): "
          f"{figures['wall_s']:.2f} s, {figures['round_trips']} round trips "
          f"({figures['tree_round_trips']} composite/tree); ideal {figures['ideal_round_trips']}"
          f" round trips = {figures['ideal_s']:.2f} s; ratio {figures['ratio']:.2f}x wall, "
          f"{figures['trips_ratio']:.2f}x round trips")
    print(f"  {figures['created']} jobs created, {figures['dropped']} orgs dropped with "
          f"Salesforce's reason; every batch with a refused org goes twice (all or nothing)")
    print(f"  when Salesforce names only the first failing record: {worst['wall_s']:.2f} s, "
          f"{worst['round_trips']} round trips ({worst['trips_ratio']:.2f}x the ideal)")
    print(f"status read ({figures['status_jobs']} jobs): {figures['read_s']:.2f} s, "
          f"{figures['read_round_trips']} round trips (ideal {figures['read_ideal_round_trips']}"
          f"); ratio {figures['read_ratio']:.2f}x")
    planned = _plan_run(n, args.latency, args.refused)
    print(f"push plan ({planned['plan_orgs']} orgs in, {planned['plan_excluded']} left out "
          f"with a reason): {planned['plan_s']:.2f} s, {planned['plan_round_trips']} round "
          f"trips (ideal {planned['plan_ideal_round_trips']}: one composite + pages)")
    print(f"push schedule --yes (gates, request, batches, Pending, audit): "
          f"{planned['schedule_s']:.2f} s, {planned['schedule_round_trips']} round trips "
          f"(ideal {planned['schedule_ideal_round_trips']}), {planned['scheduled_jobs']} jobs")
    ok = figures["ok"] and worst["ok"] and planned["plan_ok"] and \
        planned["scheduled_jobs"] == planned["plan_orgs"]
    print("PASS" if ok else "FAIL")
    print(json.dumps({"bench": "push", **{k: v for k, v in figures.items() if k != "ok"},
                      "latency_ms": round(lat), "first_only_round_trips": worst["round_trips"],
                      "first_only_wall_s": worst["wall_s"],
                      **{k: v for k, v in planned.items() if k != "plan_ok"}, "ok": ok}))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
