#!/usr/bin/env python3
"""Memory benchmark: the TUI's peak RSS on a big store, against a bare Textual app's.

A store of N orgs + N contacts with 20 snapshots of history per org (bench/_scale.py) is
opened the way `juston-tui` opens it; the app runs headless (Textual's `run_test`, 120x40)
in a fresh process until the registry has indexed every org, then the contact list is opened
and loaded (10,000 contacts), then the org detail of one org (its history). The process's
peak resident set (VmHWM) is the figure; a bare Textual app (one Label) measured the
same way in the same run is the baseline.

Goals (issue 16): <= 150 MB at 10k orgs + 10k contacts with 20 snapshots each; <= 400 MB at
100k (`--orgs 100000`: building that store takes minutes and ~1 GB of disk).

    python bench/memory_bench.py [--orgs 10000] [--contacts N] [--snapshots 20]
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _scale import cached, org_id

TUI = r"""
import asyncio, json, resource, sys, time
from pathlib import Path
from juston_tui.app import JustOnApp
from juston_tui.credentials import open_credentials
from juston_tui.store import Store

def peak_mb() -> float:
    # VmHWM: this process's own peak. ru_maxrss is not: Linux carries it over exec from
    # the parent (the bench process that built the store).
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)

async def main(path: str, org: str) -> None:
    store = Store.open(Path(path), load=False)
    app = JustOnApp(store=store, credentials=open_credentials("memory"))
    marks = {}
    start = time.perf_counter()
    async with app.run_test(size=(120, 40)) as pilot:
        while not getattr(app.screen, "indexed", False):
            await asyncio.sleep(0.01)
        marks["registry_indexed_s"] = round(time.perf_counter() - start, 2)
        marks["rss_after_registry_mb"] = peak_mb()
        await pilot.press("5")
        while not getattr(app.screen, "loaded", False):
            await asyncio.sleep(0.01)
        await pilot.pause()
        marks["contacts_loaded_s"] = round(time.perf_counter() - start, 2)
        await pilot.press("1")
        await pilot.pause()
        history = app.store.snapshot_history(org)
        marks["history_entries"] = len(history)
    print(json.dumps({"rss_mb_peak": peak_mb(), **marks}))

asyncio.run(main(sys.argv[1], sys.argv[2]))
"""

BARE = r"""
import asyncio, json, resource
from textual.app import App
from textual.widgets import Label

def peak_mb() -> float:
    # VmHWM: this process's own peak. ru_maxrss is not: Linux carries it over exec from
    # the parent (the bench process that built the store).
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)

class Bare(App):
    def compose(self):
        yield Label("bare")

async def main() -> None:
    async with Bare().run_test(size=(120, 40)) as pilot:
        await pilot.pause()
    print(json.dumps({"rss_mb_peak": peak_mb()}))

asyncio.run(main())
"""


def run(script: str, *args: str) -> dict[str, float]:
    proc = subprocess.run([sys.executable, "-c", script, *args], capture_output=True,
                          text=True, timeout=900, cwd=tempfile.gettempdir())
    if proc.returncode != 0:
        raise SystemExit(f"the measured process failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--orgs", type=int, default=10_000)
    ap.add_argument("--contacts", type=int, default=None, help="default: as many as orgs")
    ap.add_argument("--snapshots", type=int, default=20, help="snapshots of history per org")
    args = ap.parse_args()
    n_contacts = args.orgs if args.contacts is None else args.contacts
    tmp = Path(tempfile.mkdtemp(prefix="juston-bench-"))
    try:
        path = tmp / "store.json"
        t0 = time.perf_counter()
        cached(args.orgs, n_contacts, args.snapshots, tmp).close()
        built = time.perf_counter() - t0
        bare = run(BARE)
        tui = run(TUI, str(path), org_id(args.orgs // 2))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    goal = 150 if args.orgs <= 10_000 else 400
    peak = tui["rss_mb_peak"]
    print(f"memory: {args.orgs} orgs + {n_contacts} contacts, {args.snapshots} snapshots/org "
          f"(store built or copied in {built:.0f} s)")
    print(f"  bare Textual app            peak RSS {bare['rss_mb_peak']:7.1f} MB")
    print(f"  juston-tui (registry indexed {tui['registry_indexed_s']} s, contacts loaded "
          f"{tui['contacts_loaded_s']} s, {int(tui['history_entries'])} history entries)")
    print(f"    after the registry        peak RSS {tui['rss_after_registry_mb']:7.1f} MB")
    print(f"    after contacts + history  peak RSS {peak:7.1f} MB   "
          f"({peak / bare['rss_mb_peak']:.1f}x bare)")
    print(f"  goal: <= {goal} MB: {'PASS' if peak <= goal else 'MISS'}")
    print(json.dumps({"bench": "memory", "orgs": args.orgs, "contacts": n_contacts,
                      "snapshots_per_org": args.snapshots, "rss_mb_peak": peak,
                      "rss_mb_after_registry": tui["rss_after_registry_mb"],
                      "bare_textual_rss_mb": bare["rss_mb_peak"], "goal_mb": goal}))


if __name__ == "__main__":
    main()
