#!/usr/bin/env python3
"""Start-up benchmark: process start to first frame, juston-tui vs a bare Textual app.

juston-tui starts on the org registry with a store of 10,000 orgs and 10,000 contacts; the
baseline is a bare Textual app with one Static, measured the same way in the same run. Both
run headless and exit right after their first frame is drawn. Goal: at most 1.3x.

    python bench/startup_bench.py [--orgs 10000] [--contacts 10000] [--runs 7]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

BARE = """
import time
t0 = time.perf_counter()
from textual.app import App
from textual.widgets import Static
class Bare(App):
    def compose(self):
        yield Static("hello")
    def on_mount(self):
        self.call_after_refresh(self.exit)
Bare().run(headless=True, size=(120, 40))
"""

# The same chrome as juston-tui's registry (header, tab strip, table, footer with the same
# number of keys) with no data and no juston-tui code: what Textual itself costs for it.
CHROME = """
from textual.app import App
from textual.binding import Binding
from textual.widgets import DataTable, Footer, Header, Input, Static
class Chrome(App):
    BINDINGS = [Binding(k, "bell", k.upper()) for k in "aedurRpvs/"] + [
        Binding("ctrl+q", "quit", "Quit")]
    def compose(self):
        yield Header()
        yield Static("1 Orgs  2 Checklist  3 Access  4 Calendar  5 Contacts")
        yield Static("status line")
        yield Input(placeholder="filter")
        yield DataTable()
        yield Footer()
    def on_mount(self):
        self.call_after_refresh(lambda: self.call_after_refresh(self.exit))
Chrome().run(headless=True, size=(120, 40))
"""

OURS = """
import sys
from juston_tui import app as app_module
from juston_tui.screens import registry

# First frame = the first refresh after the registry screen (with its rows) has mounted,
# the same moment the bare app measures with call_after_refresh in its on_mount.
mount = registry.RegistryScreen.on_mount
def on_mount(self):
    mount(self)
    self.call_after_refresh(self.app.exit)
registry.RegistryScreen.on_mount = on_mount
run = app_module.JustOnApp.run
app_module.JustOnApp.run = lambda self, **kw: run(self, headless=True, size=(120, 40))
from juston_tui.cli import main
raise SystemExit(main(["--db", sys.argv[1], "--read-only"]))
"""


def measure(code: str, *argv: str, runs: int) -> list[float]:
    times = []
    env = {**os.environ, "TEXTUAL_ANIMATIONS": "none"}
    for _ in range(runs):
        t0 = time.perf_counter()
        proc = subprocess.run([sys.executable, "-c", code, *argv], capture_output=True,
                              text=True, env=env, timeout=120)
        elapsed = (time.perf_counter() - t0) * 1000
        if proc.returncode != 0:
            raise SystemExit(f"run failed:\n{proc.stderr[-3000:]}")
        times.append(elapsed)
    return times


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--orgs", type=int, default=10_000)
    ap.add_argument("--contacts", type=int, default=10_000)
    ap.add_argument("--runs", type=int, default=7)
    args = ap.parse_args()
    from store_bench import build

    path = Path(tempfile.mkdtemp(prefix="juston-startup-")) / "store.json"
    build(path, args.orgs, args.contacts)
    measure(BARE, runs=1)  # warm the OS file cache for both
    measure(OURS, str(path), runs=1)
    bare = measure(BARE, runs=args.runs)
    chrome = measure(CHROME, runs=args.runs)
    ours = measure(OURS, str(path), runs=args.runs)
    empty = Path(tempfile.mkdtemp(prefix="juston-startup-empty-")) / "store.json"
    build(empty, 0, 0)
    ours_empty = measure(OURS, str(empty), runs=args.runs)
    med = statistics.median
    print(f"start-up to first frame (headless, 120x40), median of {args.runs} runs")
    print(f"  bare Textual app                       {med(bare):7.0f} ms "
          f"(min {min(bare):.0f})")
    print(f"  juston-tui, {args.orgs} orgs + {args.contacts} contacts {med(ours):7.0f} ms "
          f"(min {min(ours):.0f})")
    print(f"  Textual app with the same chrome       {med(chrome):7.0f} ms "
          f"(min {min(chrome):.0f})  header, tabs, filter, table, footer; no data")
    print(f"  juston-tui, empty store                {med(ours_empty):7.0f} ms "
          f"(min {min(ours_empty):.0f})")
    ratio = med(ours) / med(bare)
    print(f"  ratio to the bare app                  {ratio:7.2f}x  (goal <= 1.3x: "
          f"{'PASS' if ratio <= 1.3 else 'MISS'})")
    print(f"  ratio to the same chrome               {med(ours) / med(chrome):7.2f}x  "
          "(what juston-tui and 10k+10k records add)")
    print(f"  10k+10k records vs empty store         {med(ours) / med(ours_empty):7.2f}x")
    shutil.rmtree(path.parent, ignore_errors=True)
    shutil.rmtree(empty.parent, ignore_errors=True)


if __name__ == "__main__":
    main()
