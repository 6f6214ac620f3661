#!/usr/bin/env python3
"""Command-line listings at scale: `org list --json`, `org list` piped, `contacts list --json`.

Each is a new process on a store of 10,000 orgs + 10,000 contacts, as a script would run it.
Baselines in the same run: `juston-tui --version` (interpreter start and our imports, no store)
and the floor of reading the store (parsing the file with orjson in a new process). Goal:
`org list --json` well under a second (it took 1.7-2.8 s with the stdlib JSON encoder and
dataclasses.asdict).

    python bench/cli_bench.py [--orgs 10000] [--contacts 10000] [--runs 7]
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from store_bench import build

JUSTON = Path(sys.executable).with_name("juston-tui")


def timed(argv: list[str], runs: int) -> float:
    """Median wall time of `argv` in ms, output thrown away (as a pipe to a script would)."""
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--orgs", type=int, default=10_000)
    ap.add_argument("--contacts", type=int, default=10_000)
    ap.add_argument("--runs", type=int, default=7)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="juston-cli-bench-"))
    try:
        db = tmp / "store.json"
        build(db, args.orgs, args.contacts)
        base = [str(JUSTON), "--db", str(db), "--read-only"]
        floor = [sys.executable, "-c",
                 f"import orjson; orjson.loads(open({str(db)!r}, 'rb').read())"]
        figures = {
            "version_ms": timed([str(JUSTON), "--version"], args.runs),
            "parse_floor_ms": timed(floor, args.runs),
            "org_list_json_ms": timed([*base, "org", "list", "--json"], args.runs),
            "org_list_tsv_ms": timed([*base, "org", "list"], args.runs),
            "contacts_list_json_ms": timed([*base, "contacts", "list", "--json"], args.runs),
        }
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"store: {args.orgs:,} orgs + {args.contacts:,} contacts; medians of {args.runs} runs")
    for name, value in figures.items():
        print(f"  {name.removesuffix('_ms').replace('_', ' '):<22} {value:7.0f} ms")
    work = figures["org_list_json_ms"] - figures["version_ms"]
    print(f"  org list --json beyond start-up: {work:.0f} ms "
          f"({work / max(1.0, figures['parse_floor_ms']):.1f}x the parse floor process)")
    print(json.dumps({"bench": "cli", "orgs": args.orgs, **{k: round(v) for k, v in
                                                            figures.items()}}))


if __name__ == "__main__":
    main()
