"""Registry benchmark: 10,000 orgs with snapshots, FastTable against Textual's stock DataTable.

Run:  .venv/bin/python bench/registry_bench.py [--orgs 10000]

Prints, in one run:
- time to first render of the registry screen (mount -> first table line drawn with rows),
  and from app start;
- a filter keystroke (the screen's Input.Changed work: filter 10,000 entries, hand the subset
  to the table, draw one full frame of table lines): median and p95 over a typed query;
- a sort by each column (sort + one frame of lines);
- the same rows loaded into FastTable and into the stock DataTable, measured the same way
  (load + wait for the first frame), and a filter keystroke done the DataTable way
  (clear + add_rows), with the ratios.
Goals (DESIGN.md 9): first render < 250 ms, keystroke < 50 ms median.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from rich.text import Text

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from _common import frame_drawer, ms, pct, time_keystrokes  # noqa: E402

from juston_tui.credentials import open_credentials  # noqa: E402
from juston_tui.model import Check, Org, PushRegistration, Snapshot, normalize_org_id  # noqa: E402
from juston_tui.store import Store  # noqa: E402

NOW = datetime(2026, 5, 4, 9, 30, tzinfo=UTC)
WORDS = ("Acme", "Globex", "Initech", "Umbrella", "Hooli", "Stark", "Wayne", "Tyrell", "Cyberdyne",
         "Soylent", "Vandelay", "Wonka", "Gringotts", "Oceanic", "Monarch", "Massive")
SUFFIX = ("GmbH", "AG", "Ltd", "Inc", "SE", "KG", "BV", "SARL")


def build_store(path: Path, n: int) -> Store:
    store = Store.open(path)
    orgs, snaps = [], []
    for i in range(n):
        org_id = normalize_org_id(f"00D5g{i:010d}")
        sandbox = i % 5 == 4
        parent = normalize_org_id(f"00D5g{i - 1:010d}") if sandbox else None
        org = Org(org_id=org_id, name=f"{WORDS[i % 16]} {SUFFIX[i % 8]} {i:05d}"
                  + (" (UAT)" if sandbox else ""),
                  kind="sandbox" if sandbox else "production", parent_org_id=parent,
                  instance_url=f"https://org{i}.my.salesforce.com",
                  tags=(("dach",) if i % 3 == 0 else ("us",)),
                  push=PushRegistration("registered" if i % 4 == 0 else "not_registered"))
        orgs.append(org.to_doc())
        if i % 10 == 9:
            continue  # some orgs were never checked
        verdicts = ["ok"] * 9
        if i % 7 == 0:
            verdicts[4] = "fail"
        if i % 11 == 0:
            verdicts[1] = "warn"
        checks = [Check(cid, v, f"{cid}: {v}", "" if v == "ok" else "Fix it in Setup.").to_doc()
                  for cid, v in zip(("organization", "package.billing", "package.cash",
                                     "licenses", "connected_app.permitted_users",
                                     "connected_app.sysadmin", "permissions.balance",
                                     "permissions.task_type", "api_usage"), verdicts,
                                    strict=True)]
        checked = NOW - timedelta(minutes=(i * 37) % (60 * 72))
        snaps.append({
            "org_id": org_id, "checked_at": checked.isoformat().replace("+00:00", "Z"),
            "error": None, "checks": checks,
            "facts": {
                "packages": {"billing": {"name": "JustOn Billing & Invoice Management",
                                         "namespace": "ONB2",
                                         "version": "2.80.3" if i % 6 else "2.71.0"},
                             "cash": {"name": "JustOn Cash Management", "namespace": "JCM",
                                      "version": "1.14.0"} if i % 2 else None},
                "current_versions": {"billing": "2.80", "cash": "1.14"},
                "licenses": [{"namespace": "ONB2", "status": "Active", "allowed": 25,
                              "used": i % 26, "expires": None}],
                "connected_app": {"found": True, "name": "JustOn Platform",
                                  "admin_approved": i % 7 != 0,
                                  "profiles": ["System Administrator"],
                                  "permission_sets": [], "sysadmin": True},
            },
            "history": [],
        })
    store.put_many("orgs", orgs)
    store.save_snapshots([Snapshot.from_doc(d) for d in snaps])
    return store


async def bench_registry(store: Store) -> dict[str, Any]:
    from juston_tui.app import JustOnApp
    from juston_tui.screens.widgets.fast_table import FastTable

    marks: dict[str, float] = {}
    original = FastTable.render_line

    def render_line(self: FastTable, y: int) -> Any:
        if self.row_count and "first_row_line" not in marks and y > 0:
            marks["first_row_line"] = time.perf_counter()
        return original(self, y)

    FastTable.render_line = render_line  # type: ignore[method-assign]
    from juston_tui.screens import registry as registry_module

    mount = registry_module.RegistryScreen.on_mount

    def on_mount(self: Any) -> None:
        marks.setdefault("mount", time.perf_counter())
        mount(self)

    registry_module.RegistryScreen.on_mount = on_mount  # type: ignore[method-assign]
    out: dict[str, Any] = {}
    app = JustOnApp(store=store, credentials=open_credentials("memory"))
    app.clock = lambda: NOW  # type: ignore[attr-defined]
    start = time.perf_counter()
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            while "first_row_line" not in marks:
                await asyncio.sleep(0.002)
            out["first_render_from_mount"] = marks["first_row_line"] - marks["mount"]
            out["first_render_from_start"] = marks["first_row_line"] - start
            screen = app.screen
            while not screen.indexed:
                await asyncio.sleep(0.002)
            out["indexed_from_mount"] = time.perf_counter() - marks["mount"]
            await pilot.pause()
            table = screen.query_one("#registry-table", FastTable)
            out["rows"] = table.row_count
            frame = frame_drawer(table)
            keystrokes = time_keystrokes(screen, 'acme gmbh 0', frame)
            out["keystrokes"] = keystrokes
            sorts: dict[str, float] = {}
            for column in table.columns:
                t0 = time.perf_counter()
                table.sort_by(column.key, reverse=True)
                frame()
                sorts[column.key] = time.perf_counter() - t0
            out["sorts"] = sorts
            rows = [table.get_row(k) for k in table.row_keys]
            out["cells"] = [tuple(Text(c.plain, style=c.style) for c in r.cells)
                            for r in rows if r is not None]
    finally:
        FastTable.render_line = original  # type: ignore[method-assign]
        registry_module.RegistryScreen.on_mount = mount  # type: ignore[method-assign]
    return out


async def bench_tables(cells: list[tuple[Text, ...]]) -> dict[str, float]:
    """FastTable and DataTable, same rows, same method: load, then wait for the first frame."""
    from textual.app import App, ComposeResult
    from textual.widgets import DataTable

    from juston_tui.screens.registry_data import COLUMNS
    from juston_tui.screens.widgets.fast_table import FastTable, Row

    out: dict[str, float] = {}

    class FastApp(App[None]):
        def compose(self) -> ComposeResult:
            yield FastTable(COLUMNS)

    class StockApp(App[None]):
        def compose(self) -> ComposeResult:
            table: DataTable[Any] = DataTable()
            for column in COLUMNS:
                table.add_column(column.label, width=column.width, key=column.key)
            yield table

    rows = [Row(str(i), c) for i, c in enumerate(cells)]
    app = FastApp()
    async with app.run_test(size=(120, 40)) as pilot:
        table = app.query_one(FastTable)
        t0 = time.perf_counter()
        table.set_rows(rows)
        await pilot.pause()
        out["fast_load_render"] = time.perf_counter() - t0
        subset = rows[::7]
        t0 = time.perf_counter()
        table.set_rows(subset)
        await pilot.pause()
        out["fast_filter"] = time.perf_counter() - t0

    stock = StockApp()
    async with stock.run_test(size=(120, 40)) as pilot:
        data_table = stock.query_one(DataTable)
        t0 = time.perf_counter()
        data_table.add_rows(cells)
        await pilot.pause()
        out["stock_load_render"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        data_table.clear()
        data_table.add_rows(cells[::7])
        await pilot.pause()
        out["stock_filter"] = time.perf_counter() - t0
    return out


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orgs", type=int, default=10_000)
    parser.add_argument("--gc-freeze", action="store_true",
                        help="gc.collect(); gc.freeze() after opening the store (what the "
                             "launcher could do) to show the cost of full collections")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        store = build_store(Path(tmp) / "bench.json", args.orgs)
        built = time.perf_counter() - t0
        if args.gc_freeze:
            import gc

            gc.collect()
            gc.freeze()
        registry = await bench_registry(store)
        tables = await bench_tables(registry["cells"])
    keys = registry["keystrokes"]
    print(f"registry benchmark: {args.orgs} orgs (+ snapshots), 120x40, store built in "
          f"{built:.1f} s{', gc frozen after open' if args.gc_freeze else ''}")
    print(f"  first render of the registry (screen mount -> rows drawn) "
          f"{ms(registry['first_render_from_mount'])}   goal < 250 ms")
    print(f"  first render from app start (incl. Textual start-up)       "
          f"{ms(registry['first_render_from_start'])}")
    print(f"  filter index and verdict counts ready (worker, from mount)  "
          f"{ms(registry['indexed_from_mount'])}")
    print(f"  filter keystroke ({len(keys)} keys): median {ms(statistics.median(keys))}, "
          f"p95 {ms(pct(keys, 0.95))}, max {ms(max(keys))}   goal < 50 ms median")
    sorts = registry["sorts"]
    print(f"  sort by column (sort + frame): median {ms(statistics.median(sorts.values()))}, "
          f"max {ms(max(sorts.values()))} ({max(sorts, key=sorts.get)})")
    print("  same rows, load + first frame:")
    print(f"    FastTable          {ms(tables['fast_load_render'])}")
    print(f"    stock DataTable    {ms(tables['stock_load_render'])}   ratio "
          f"{tables['stock_load_render'] / tables['fast_load_render']:.1f}x")
    print("  filter to 1/7 of the rows + frame:")
    print(f"    FastTable          {ms(tables['fast_filter'])}")
    print(f"    stock DataTable    {ms(tables['stock_filter'])}   ratio "
          f"{tables['stock_filter'] / tables['fast_filter']:.1f}x   (clear + add_rows)")


if __name__ == "__main__":
    asyncio.run(main())
