#!/usr/bin/env python3
"""Start-up benchmark: process start to first frame, juston-tui vs a bare Textual app.

juston-tui starts on the org registry with a store of 10,000 orgs and 10,000 contacts; the
baseline is a bare Textual app with one Static, measured the same way in the same run. Both
run headless and exit right after the frame is drawn. Goal (DESIGN.md 9): first frame at most
1.3x the bare app.

Two juston-tui figures are printed:
- first frame: the registry drawn and taking keys, its status line saying "Reading the
  store (6.0 MB)…" (the store is parsed in a worker after this frame);
- rows on screen: the frame after the worker's rows have arrived (what a person waits for
  to read the first org).

Runs are interleaved (bare, ours, bare, ours, …) so that a change in the machine's load hits
every variant alike; medians are compared.

    python bench/startup_bench.py [--orgs 10000] [--contacts 10000] [--runs 11]
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

# Every variant calls frame_drawn() in its first refresh after the moment measured: it
# records the wall-clock time there (so interpreter teardown, and a worker still parsing,
# are not counted) and exits.
PRELUDE = """
import os, time
def frame_drawn(app):
    with open(os.environ["JUSTON_BENCH_MARK"], "w") as mark:
        mark.write(repr(time.time()))
    app.exit()
"""

BARE = PRELUDE + """
from textual.app import App
from textual.widgets import Static
class Bare(App):
    def compose(self):
        yield Static("hello")
    def on_mount(self):
        self.call_after_refresh(frame_drawn, self)
Bare().run(headless=True, size=(120, 40))
"""

# The same chrome as juston-tui's registry (header, tab strip, table, footer with the same
# number of keys) with no data and no juston-tui code: what Textual itself costs for it.
CHROME = PRELUDE + """
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
        self.call_after_refresh(frame_drawn, self)
Chrome().run(headless=True, size=(120, 40))
"""

# juston-tui through its real entry point; argv[2] names the moment measured.
OURS = PRELUDE + """
import sys
from juston_tui import app as app_module
from juston_tui.screens import registry

if sys.argv[2] == "first-frame":
    # The first refresh after the registry screen has mounted: the moment the bare app
    # measures with call_after_refresh in its on_mount.
    mount = registry.RegistryScreen.on_mount
    def on_mount(self):
        mount(self)
        self.call_after_refresh(frame_drawn, self.app)
    registry.RegistryScreen.on_mount = on_mount
else:
    # The first refresh after the store's rows have reached the table.
    apply_filter = registry.RegistryScreen.apply_filter
    def filtered(self, *args, **kwargs):
        apply_filter(self, *args, **kwargs)
        if self.loaded and self.table.row_count:
            self.call_after_refresh(frame_drawn, self.app)
    registry.RegistryScreen.apply_filter = filtered
run = app_module.JustOnApp.run
app_module.JustOnApp.run = lambda self, **kw: run(self, headless=True, size=(120, 40))
from juston_tui.cli import main
raise SystemExit(main(["--db", sys.argv[1], "--read-only"]))
"""


def run_once(code: str, *argv: str, env: dict[str, str] | None = None) -> float:
    """Milliseconds from just before the process is spawned to the frame it marks; `env`
    adds to the environment (the cache folder: juston-tui's first pages). Without one, the
    process gets a fresh temporary cache folder: a bench never writes into the user's."""
    with tempfile.TemporaryDirectory() as tmp:
        mark = Path(tmp) / "mark"
        env = {**os.environ, "XDG_CACHE_HOME": str(Path(tmp) / "cache"), **(env or {}),
               "TEXTUAL_ANIMATIONS": "none", "JUSTON_BENCH_MARK": str(mark)}
        t0 = time.time()
        proc = subprocess.run([sys.executable, "-c", code, *argv], capture_output=True,
                              text=True, env=env, timeout=120)
        if proc.returncode != 0 or not mark.exists():
            raise SystemExit(f"run failed:\n{proc.stderr[-3000:]}")
        return (float(mark.read_text()) - t0) * 1000


def build(path: Path, n_orgs: int, n_contacts: int) -> None:
    """A store of `n_orgs` orgs and `n_contacts` contacts, no snapshots (bench/_scale.py)."""
    from _scale import contacts, orgs

    from juston_tui.store import Store

    store = Store.open(path)
    store.put_orgs(orgs(n_orgs))
    store.put_contacts(contacts(n_contacts, max(n_orgs, 1)))
    store.close()


def compile_package() -> None:
    """Write juston-tui's .pyc files, as a wheel install does (Textual's come from pip).

    An editable install compiles on first import, unless PYTHONDONTWRITEBYTECODE is set (it
    is on some CI machines): then every start would compile our sources, ~40 ms, and the
    bench would measure the compiler.
    """
    import compileall

    import juston_tui
    import juston_tui.screens

    for package in (juston_tui, juston_tui.screens):
        for folder in package.__path__:
            compileall.compile_dir(folder, quiet=1)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--orgs", type=int, default=10_000)
    ap.add_argument("--contacts", type=int, default=10_000)
    ap.add_argument("--runs", type=int, default=11)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="juston-startup-"))
    path, empty = tmp / "store.json", tmp / "empty.json"
    build(path, args.orgs, args.contacts)
    build(empty, 0, 0)
    # "page": a start on a store unchanged since the last one, which kept the registry's
    # first page in this cache folder; every other run gets a fresh one (a cold start).
    pages = {"XDG_CACHE_HOME": str(tmp / "cache")}
    variants: dict[str, tuple[tuple[str, ...], dict[str, str] | None]] = {
        "bare": ((BARE,), None),
        "chrome": ((CHROME,), None),
        "first": ((OURS, str(path), "first-frame"), None),
        "page": ((OURS, str(path), "first-frame"), pages),
        "rows": ((OURS, str(path), "rows"), None),
        "empty": ((OURS, str(empty), "first-frame"), None),
    }
    compile_package()
    for argv, env in variants.values():  # warm the OS file cache
        run_once(*argv, env=env)
    for _ in range(3):  # keep the first page (it is written just after the rows arrive)
        run_once(OURS, str(path), "rows", env=pages)
        if any((tmp / "cache").rglob("*.json")):
            break
    else:
        raise SystemExit("no first page was kept by three starts")
    times: dict[str, list[float]] = {name: [] for name in variants}
    for _ in range(args.runs):
        for name, (argv, env) in variants.items():
            times[name].append(run_once(*argv, env=env))
    shutil.rmtree(tmp, ignore_errors=True)

    med = {name: statistics.median(values) for name, values in times.items()}
    size = f"{args.orgs} orgs + {args.contacts} contacts"

    def line(label: str, name: str, note: str = "") -> None:
        print(f"  {label:<44}{med[name]:7.0f} ms  (min {min(times[name]):4.0f}, "
              f"{med[name] / med['bare']:4.2f}x bare){note}")

    print(f"start-up, process start to frame (headless, 120x40), median of {args.runs} "
          "interleaved runs")
    line("bare Textual app", "bare")
    line(f"juston-tui first frame, {size}", "first")
    line("  the same with its first page (rows in it)", "page")
    line(f"juston-tui rows on screen, cold, {size}", "rows")
    line("juston-tui first frame, empty store", "empty")
    line("Textual app with the same chrome, no data", "chrome",
         "  header, tabs, filter, table, footer")
    ratio = med["first"] / med["bare"]
    best = min(times["first"]) / min(times["bare"])
    print(f"  first frame / bare                          {ratio:7.2f}x  (goal <= 1.3x: "
          f"{'PASS' if ratio <= 1.3 else 'MISS'}); fastest runs: {best:.2f}x")
    print(f"  rows on screen after the first frame        {med['rows'] - med['first']:7.0f} ms "
          "(store parse + rows, in a worker)")


if __name__ == "__main__":
    main()
