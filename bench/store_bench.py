#!/usr/bin/env python3
"""Store benchmark: one edit at 10,000 orgs + 10,000 contacts with 20 snapshots of history each.

Measured in one run, on the same data:
- juston-tui: an org edit (one journal line, fsynced, under the lock); the same edit right
  after *another process* edited (it reads that process's line, not the file); a contact add;
  opening the store; saving a sweep batch of 200 snapshots (beside the store, never in it).
- the floor: one atomic write (temp file, fsync, rename) of the store file's bytes: what any
  whole-file design pays per edit at least (schema 1 did);
- stock TinyDB (JSONStorage: in-place rewrite, no lock, no fsync) and TinyDB with
  CachingMiddleware (writes every 1,000 operations: no durability at all) doing the same edit.

Goals (issue 16): an edit < 15 ms at 10k and < 60 ms at 100k; the cross-process edit < 2x a
warm edit (the warm edits interleaved with the cross-process ones, so both see the same
journal and the same machine state). 100k: `--orgs 100000` (a few minutes to build, ~1 GB
of snapshot files).

    python bench/store_bench.py [--orgs 10000] [--contacts N] [--snapshots 20] [--edits 50]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import shutil
import statistics
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import orjson
from _scale import cached, org_id, snapshot
from tinydb import Query, TinyDB
from tinydb.middlewares import CachingMiddleware
from tinydb.storages import JSONStorage

from juston_tui.model import Contact
from juston_tui.store import Store, atomic_write_bytes
from juston_tui.store.shape import parse_store


def timed(fn: Any, repeat: int) -> list[float]:
    out = []
    for i in range(repeat):
        t0 = time.perf_counter()
        fn(i)
        out.append((time.perf_counter() - t0) * 1000)
    return out


def p95(values: list[float]) -> float:
    return sorted(values)[max(0, int(len(values) * 0.95) - 1)]


def _other_editor(path: str, n_orgs: int, commands: Any, acks: Any) -> None:
    store = Store.open(path)
    while True:
        i = commands.recv()
        if i is None:
            return
        store.update_org(org_id((i * 53 + 11) % n_orgs), notes=f"elsewhere {i}")
        acks.send(i)


def cross_process_edits(store: Store, n_orgs: int, edits: int
                        ) -> tuple[list[float], list[float]]:
    """Another process edits, then we do: the time of our edit (it follows theirs first);
    and, interleaved with those (same journal, same caches), a warm edit of ours with no
    other write before it: the baseline of the ratio."""
    ctx = multiprocessing.get_context("fork")
    ours, theirs = ctx.Pipe()
    acks_in, acks_out = ctx.Pipe()
    child = ctx.Process(target=_other_editor, args=(str(store.path), n_orgs, theirs, acks_out))
    child.start()
    times: list[float] = []
    warm: list[float] = []
    try:
        for i in range(edits):
            t0 = time.perf_counter()
            store.update_org(org_id((i * 41 + 7) % n_orgs), notes=f"warm {i}")
            warm.append((time.perf_counter() - t0) * 1000)
            ours.send(i)
            acks_in.recv()
            t0 = time.perf_counter()
            store.update_org(org_id((i * 37) % n_orgs), notes=f"after {i}")
            times.append((time.perf_counter() - t0) * 1000)
    finally:
        ours.send(None)
        child.join(30)
    return times, warm


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--orgs", type=int, default=10_000)
    ap.add_argument("--contacts", type=int, default=None, help="default: as many as orgs")
    ap.add_argument("--snapshots", type=int, default=20, help="snapshots of history per org")
    ap.add_argument("--edits", type=int, default=50)
    args = ap.parse_args()
    n_contacts = args.orgs if args.contacts is None else args.contacts
    tmp = Path(tempfile.mkdtemp(prefix="juston-bench-"))
    path = tmp / "store.json"
    t0 = time.perf_counter()
    store = cached(args.orgs, n_contacts, args.snapshots, tmp)
    built_s = time.perf_counter() - t0
    store_mb = path.stat().st_size / 1e6
    snap_bytes = sum(p.stat().st_size for p in tmp.rglob("*") if p.is_file()) - path.stat().st_size

    opens = timed(lambda _i: Store.open(path).find_org(org_id(0)), 5)
    store = Store.open(path)
    edits = timed(lambda i: store.update_org(org_id((i * 37) % args.orgs), notes=f"edit {i}"),
                  args.edits)
    cross, warm = cross_process_edits(store, args.orgs, args.edits)
    adds = timed(lambda i: store.add_contact(Contact.create(
        full_name=f"New {i}", email=f"new{i}@example.de", title="CFO")), args.edits)
    batch = [snapshot(i, datetime(2026, 12, 1, 8, 0)) for i in range(200)]
    sweeps = timed(lambda _i: store.save_snapshots(batch), 10)

    payload = path.read_bytes()
    floor_path = tmp / "floor.json"
    floors = timed(lambda _i: atomic_write_bytes(floor_path, payload), 10)

    # Stock TinyDB on the same data (the one JSON object it reads), with and without caching.
    tables = parse_store(path, payload, check_shape=False)
    stock_path = tmp / "stock.json"
    stock_path.write_bytes(orjson.dumps(tables))
    q = Query()
    db = TinyDB(stock_path)
    stock = timed(lambda i: db.table("orgs").update(
        {"notes": f"edit {i}"}, q.org_id == org_id((i * 37) % args.orgs)), args.edits)
    cached_db = TinyDB(stock_path, storage=CachingMiddleware(JSONStorage))
    caching = timed(lambda i: cached_db.table("orgs").update(
        {"notes": f"cached {i}"}, q.org_id == org_id((i * 37) % args.orgs)), args.edits)
    cached_db.close()

    med = statistics.median
    figures = {
        "bench": "store", "orgs": args.orgs, "contacts": n_contacts,
        "snapshots_per_org": args.snapshots,
        "edit_ms_median": round(med(edits), 2), "edit_ms_p95": round(p95(edits), 2),
        "cross_process_edit_ms_median": round(med(cross), 2),
        "cross_process_ratio": round(med(cross) / med(warm), 2),
        "warm_edit_interleaved_ms_median": round(med(warm), 2),
        "contact_add_ms_median": round(med(adds), 2),
        "open_ms_median": round(med(opens), 1),
        "snapshot_batch_200_ms_median": round(med(sweeps), 2),
        "floor_ms_median": round(med(floors), 2),
        "stock_tinydb_edit_ms_median": round(med(stock), 2),
        "caching_tinydb_edit_ms_median": round(med(caching), 3),
        "store_file_mb": round(store_mb, 1), "snapshot_files_mb": round(snap_bytes / 1e6, 1),
    }
    print(f"store: {args.orgs} orgs + {n_contacts} contacts, {args.snapshots} snapshots/org "
          f"(built or copied in {built_s:.0f} s); store file {store_mb:.1f} MB, snapshot files "
          f"{snap_bytes / 1e6:.0f} MB beside it")
    rows = [
        ("juston-tui edit (journal line)", edits),
        ("  ... right after another process", cross),
        ("  ... warm, interleaved with those", warm),
        ("juston-tui contact add", adds),
        ("juston-tui open", opens),
        ("200 snapshots saved (a batch)", sweeps),
        ("floor: one atomic write of the file", floors),
        ("stock TinyDB edit (in place)", stock),
        ("TinyDB + CachingMiddleware edit", caching),
    ]
    for label, values in rows:
        print(f"  {label:38s} median {med(values):8.2f} ms   p95 {p95(values):8.2f} ms")
    goal = 15 if args.orgs <= 10_000 else 60
    ok = med(edits) < goal and med(cross) < 2 * med(warm)
    print(f"  ratios: edit/floor {med(edits) / med(floors):.2f}x, edit/stock "
          f"{med(edits) / med(stock):.2f}x, cross-process/warm {med(cross) / med(warm):.2f}x "
          f"(CachingMiddleware writes nothing until 1,000 operations: not durable)")
    print(f"  goal: edit < {goal} ms and cross-process < 2x warm: {'PASS' if ok else 'MISS'}")
    print(json.dumps(figures))
    shutil.rmtree(tmp, ignore_errors=True)
    os._exit(0)


if __name__ == "__main__":
    main()
