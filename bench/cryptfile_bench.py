#!/usr/bin/env python3
"""Encrypted credentials file at scale: store 2,000 secrets, then a new process reads them.

This is the headless (SSH) path: `JUSTON_TUI_KEYRING=cryptfile`, then `login --from-file` for
many orgs and a sweep that needs one secret per org. Baseline in the same run: stock
keyrings.cryptfile, which runs Argon2id (t=15, 64 MiB) for every entry it reads or writes and
parses (and, to write, rewrites) the whole file each time; juston-tui's backend
(juston_tui/cryptfile.py) derives once, parses once per change on disk and stores many
secrets in one atomic rewrite. Storing 2,000 secrets with the stock backend would take over
half an hour, so its store figure is a few writes on the full file, times the entries.

    python bench/cryptfile_bench.py [--entries 2000] [--stock-samples 3]

Ends with one JSON line: {"bench": "cryptfile", "entries": N, "store_all_s": ..,
"read_ms_median": .., "stock_read_ms_median": .., ...}
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from keyrings.cryptfile.cryptfile import CryptFileKeyring

from juston_tui.cryptfile import SharedSaltCryptFileKeyring

SERVICE = "juston-tui"
PASSPHRASE = "bench passphrase"
GOAL_STORE_S = 10.0


def entry(i: int) -> str:
    return f"00D{i:015d}:access_token"


def unlocked(backend_cls: type, path: Path) -> tuple[object, float]:
    backend = backend_cls()
    backend.file_path = str(path)
    t0 = time.perf_counter()
    backend.keyring_key = PASSPHRASE  # creates the file, or checks the passphrase
    return backend, time.perf_counter() - t0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--entries", "--orgs", type=int, default=2000,
                    help="secrets in the file (default 2000)")
    ap.add_argument("--stock-samples", type=int, default=3,
                    help="stock reads and writes timed on the full file (each ~1 s of Argon2)")
    args = ap.parse_args()
    n, k = args.entries, max(1, args.stock_samples)
    tmp = Path(tempfile.mkdtemp(prefix="juston-cryptfile-"))
    path = tmp / "credentials.cfg"
    try:
        ours, create_s = unlocked(SharedSaltCryptFileKeyring, path)
        t0 = time.perf_counter()
        ours.set_many(SERVICE, {entry(i): f"token-{i}" for i in range(n)})  # type: ignore[attr-defined]
        store_all = time.perf_counter() - t0
        t0 = time.perf_counter()
        ours.set_password(SERVICE, entry(n), "one-more")  # type: ignore[attr-defined]
        store_one = time.perf_counter() - t0
        size_kb = path.stat().st_size / 1024

        # A new process's view: a new backend object, unlock, one read per entry.
        reader, unlock_s = unlocked(SharedSaltCryptFileKeyring, path)
        reads: list[float] = []
        for i in range(n):
            t0 = time.perf_counter()
            value = reader.get_password(SERVICE, entry(i))  # type: ignore[attr-defined]
            reads.append(time.perf_counter() - t0)
            assert value == f"token-{i}"
        read_all = sum(reads)

        stock, stock_unlock_s = unlocked(CryptFileKeyring, path)
        stock_reads: list[float] = []
        for i in range(k):
            t0 = time.perf_counter()
            value = stock.get_password(SERVICE, entry(i * (n // k)))  # type: ignore[attr-defined]
            stock_reads.append(time.perf_counter() - t0)
            assert value == f"token-{i * (n // k)}"
        stock_writes: list[float] = []
        for i in range(k):
            t0 = time.perf_counter()
            stock.set_password(SERVICE, entry(n + 1 + i), "stock")  # type: ignore[attr-defined]
            stock_writes.append(time.perf_counter() - t0)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    read_median = statistics.median(reads)
    stock_read_median = statistics.median(stock_reads)
    stock_write_median = statistics.median(stock_writes)
    print(f"encrypted credentials file, {n} entries ({size_kb:.0f} KiB)")
    print(f"  create + unlock:            juston-tui {create_s:6.2f} s")
    print(f"  store {n} secrets:        juston-tui {store_all:6.2f} s (one rewrite; goal "
          f"< {GOAL_STORE_S:.0f} s)   stock ~{stock_write_median * n:6.0f} s "
          f"({stock_write_median:.2f} s a secret x {n}, estimated)")
    print(f"  store one more secret:      juston-tui {store_one * 1000:6.1f} ms   "
          f"stock {stock_write_median * 1000:6.0f} ms")
    print(f"  new process, unlock:        juston-tui {unlock_s:6.2f} s   "
          f"stock {stock_unlock_s:6.2f} s")
    print(f"  then one read (median):     juston-tui {read_median * 1000:8.4f} ms   "
          f"stock {stock_read_median * 1000:8.1f} ms   ({read_median / stock_read_median:.6f}x)")
    print(f"  then all {n} reads:        juston-tui {read_all * 1000:6.1f} ms   "
          f"stock ~{stock_read_median * n:6.0f} s (estimated)")
    ok = store_all < GOAL_STORE_S
    print("PASS" if ok else "FAIL")
    print(json.dumps({
        "bench": "cryptfile", "entries": n, "store_all_s": round(store_all, 3),
        "read_ms_median": round(read_median * 1000, 4),
        "stock_read_ms_median": round(stock_read_median * 1000, 1),
        "unlock_s": round(unlock_s, 3), "store_one_ms": round(store_one * 1000, 1),
        "stock_store_one_ms_median": round(stock_write_median * 1000, 1),
    }))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
