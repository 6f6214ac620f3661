#!/usr/bin/env python3
"""Store benchmark: one atomic edit and opening the store, 10,000 orgs + 10,000 contacts.

Baseline in the same run: stock TinyDB (JSONStorage, in-place rewrite, no lock, no fsync of
the directory) doing the same edit on the same data. Goal: an edit under 40 ms, and faster
than stock TinyDB despite being atomic and locked.

    python bench/store_bench.py [--orgs 10000] [--contacts 10000] [--edits 50]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from tinydb import Query, TinyDB

from juston_tui.model import Contact, Org, normalize_org_id
from juston_tui.store import Store


def make_org_id(i: int) -> str:
    return normalize_org_id(f"00D{i:012d}")


def build(path: Path, n_orgs: int, n_contacts: int) -> tuple[list[dict], list[dict]]:
    orgs = [
        Org.create(org_id=make_org_id(i), name=f"Org {i} GmbH", tags=["eu", f"t{i % 7}"],
                   instance_url=f"https://org{i}.my.salesforce.com").to_doc()
        for i in range(n_orgs)
    ]
    contacts = [
        Contact.create(full_name=f"Person {i}", email=f"p{i}@example.de", title="Admin",
                       org_ids=[orgs[i % n_orgs]["org_id"]]).to_doc()
        for i in range(n_contacts)
    ]
    store = Store.open(path)
    store.put_many("orgs", orgs)
    store.put_many("contacts", contacts)
    return orgs, contacts


def timed(fn, repeat: int) -> list[float]:
    out = []
    for i in range(repeat):
        t0 = time.perf_counter()
        fn(i)
        out.append((time.perf_counter() - t0) * 1000)
    return out


def p95(values: list[float]) -> float:
    return sorted(values)[max(0, int(len(values) * 0.95) - 1)]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--orgs", type=int, default=10_000)
    ap.add_argument("--contacts", type=int, default=10_000)
    ap.add_argument("--edits", type=int, default=50)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="juston-bench-"))
    path = tmp / "store.json"
    orgs, _ = build(path, args.orgs, args.contacts)
    size_mb = path.stat().st_size / 1e6

    opens = timed(lambda _i: Store.open(path).counts(), 10)
    store = Store.open(path)
    edits = timed(lambda i: store.update_org(orgs[(i * 37) % len(orgs)]["org_id"],
                                             notes=f"edit {i}"), args.edits)
    adds = timed(lambda i: store.add_contact(Contact.create(
        full_name=f"New {i}", email=f"new{i}@example.de", title="CFO")), args.edits)

    # Baseline: stock TinyDB with JSONStorage on a copy of the same data.
    stock_path = tmp / "stock.json"
    stock_path.write_bytes(path.read_bytes())
    stock_opens = timed(lambda _i: len(TinyDB(stock_path).table("orgs")), 10)
    db = TinyDB(stock_path)
    q = Query()
    stock_edits = timed(lambda i: db.table("orgs").update(
        {"notes": f"edit {i}"}, q.org_id == orgs[(i * 37) % len(orgs)]["org_id"]), args.edits)

    med = statistics.median
    print(f"store: {args.orgs} orgs + {args.contacts} contacts, {size_mb:.1f} MB JSON, "
          f"{args.edits} edits")
    print(f"  juston-tui open           median {med(opens):7.1f} ms")
    print(f"  juston-tui atomic edit    median {med(edits):7.1f} ms   p95 {p95(edits):7.1f} ms")
    print(f"  juston-tui contact add    median {med(adds):7.1f} ms   p95 {p95(adds):7.1f} ms")
    print(f"  stock TinyDB open         median {med(stock_opens):7.1f} ms")
    print(f"  stock TinyDB edit         median {med(stock_edits):7.1f} ms   "
          f"p95 {p95(stock_edits):7.1f} ms")
    print(f"  ratio edit  juston/stock  {med(edits) / med(stock_edits):.2f}x  (goal < 1.0x)")
    print(f"  ratio open  juston/stock  {med(opens) / med(stock_opens):.2f}x")
    verdict = "PASS" if med(edits) < 40 and med(edits) < med(stock_edits) else "MISS"
    print(f"  goal: edit < 40 ms and faster than stock: {verdict}")
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
