#!/usr/bin/env python3
"""Encrypted credentials file: a new process unlocking it and reading N orgs' secrets.

This is the headless (SSH) path: `JUSTON_TUI_KEYRING=cryptfile`, then a sweep that needs one
secret per org. Baseline in the same run: stock keyrings.cryptfile, which runs Argon2id
(t=15, 64 MiB) for every entry; juston-tui's backend (juston_tui/cryptfile.py) runs it once.

    python bench/cryptfile_bench.py [--orgs 10]
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

from keyrings.cryptfile.cryptfile import CryptFileKeyring

from juston_tui.cryptfile import SharedSaltCryptFileKeyring

SERVICE = "juston-tui"
PASSPHRASE = "bench passphrase"


def fill(backend_cls: type, path: Path, orgs: int) -> float:
    backend = backend_cls()
    backend.file_path = str(path)
    t0 = time.perf_counter()
    backend.keyring_key = PASSPHRASE
    for i in range(orgs):
        backend.set_password(SERVICE, f"00D{i:015d}:access_token", f"token-{i}")
    return time.perf_counter() - t0


def unlock_and_read(backend_cls: type, path: Path, orgs: int) -> tuple[float, float]:
    """A fresh process's view: a new backend object, unlock, one read per org."""
    backend = backend_cls()
    backend.file_path = str(path)
    t0 = time.perf_counter()
    backend.keyring_key = PASSPHRASE
    t1 = time.perf_counter()
    for i in range(orgs):
        assert backend.get_password(SERVICE, f"00D{i:015d}:access_token") == f"token-{i}"
    return t1 - t0, time.perf_counter() - t1


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--orgs", type=int, default=10)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="juston-cryptfile-"))
    try:
        stock_fill = fill(CryptFileKeyring, tmp / "stock.cfg", args.orgs)
        ours_fill = fill(SharedSaltCryptFileKeyring, tmp / "ours.cfg", args.orgs)
        stock_read = unlock_and_read(CryptFileKeyring, tmp / "stock.cfg", args.orgs)
        ours_read = unlock_and_read(SharedSaltCryptFileKeyring, tmp / "ours.cfg", args.orgs)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    n = args.orgs
    print(f"encrypted credentials file, {n} orgs (one secret each)")
    print(f"  store {n} secrets:         stock {stock_fill:6.2f} s   juston-tui {ours_fill:6.2f} s"
          f"   ({ours_fill / stock_fill:.3f}x)")
    print(f"  new process, unlock:       stock {stock_read[0]:6.2f} s   "
          f"juston-tui {ours_read[0]:6.2f} s")
    print(f"  then read {n} secrets:     stock {stock_read[1]:6.2f} s   "
          f"juston-tui {ours_read[1]:6.3f} s   ({ours_read[1] / stock_read[1]:.4f}x)")

if __name__ == "__main__":
    main()
