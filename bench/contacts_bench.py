"""Contacts benchmark: 10,000 contacts on screen 5, against Textual's stock DataTable.

Run:  .venv/bin/python bench/contacts_bench.py [--contacts 10000] [--orgs 10000]

Prints, in one run:
- first render of the contacts screen (screen mount -> first table line drawn with rows: the
  first screenful is sent ahead), when all rows are in the table, from app start, the same
  screen with no contacts, and when the search strings are ready (built in a worker);
- a filter keystroke (the screen's Input.Changed work: search 10,000 contacts, hand the
  subset to the table, draw one full frame of table lines): median and p95 over a typed query
  and its backspaces;
- one add persisted (store.add_contact: duplicate check + one fsynced journal line) and one
  edit (update_contact) on the 10,000 orgs + 10,000 contacts store, median and p95, next to
  the floor of one atomic write of the store file's bytes (what a whole-file write costs);
- the same rows loaded into the stock DataTable (add_rows + first frame) and one filter done
  the DataTable way (clear + add_rows), with the ratios.
Goals: first render < 250 ms, keystroke < 50 ms median, add < 40 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from _common import frame_drawer, ms, pct, time_keystrokes  # noqa: E402

from juston_tui.credentials import open_credentials  # noqa: E402
from juston_tui.model import Contact, Org, normalize_org_id  # noqa: E402
from juston_tui.store import Store  # noqa: E402

FIRST = ("Anna", "Jürgen", "Sophie", "Lukas", "Renée", "Matthias", "Katharina", "Stefan", "Eva",
         "Niklas", "Lena", "Thomas", "Marie", "Florian", "Hannah", "Dominik", "Julia", "Max",
         "Claudia", "Tobias", "Sabine", "Andreas", "Verena", "Patrick", "Jörg", "Björn")
LAST = ("Müller", "Weiß", "Gruber", "Hofer", "Bächli", "Schönberger", "Öztürk", "Maier",
        "Zwölfer", "Brändli", "Fuchs", "Küng", "Eßer", "Pichler", "Steiner", "Wüthrich",
        "Lehner", "Größl", "Bürgi", "Kärcher", "Moser", "Hübner", "Egger", "Schätzle")
TITLES = ("Salesforce-Administratorin", "Salesforce-Administrator", "Head of Finance", "CFO",
          "Leiterin Debitorenbuchhaltung", "IT-Leiter", "Billing Specialist", "Controlling",
          "Release Manager", "Head of Revenue Operations", "Buchhalterin", "Geschäftsführer")
ROLES = ("Admin", "Finance", "IT", "Billing", "Accounting", "")
COMPANIES = ("Alpen", "Donau", "Rhein", "Boden", "Tirol", "Wiener", "Zürcher", "Berliner")


def build_store(path: Path, contacts: int, orgs: int) -> tuple[Store, list[Contact]]:
    store = Store.open(path)
    org_docs = []
    for i in range(orgs):
        org_docs.append(Org(org_id=normalize_org_id(f"00D5g{i:010d}"),
                            name=f"{COMPANIES[i % 8]} {('GmbH', 'AG', 'KG')[i % 3]} {i:03d}"
                            ).to_doc())
    store.put_many("orgs", org_docs)
    org_ids = [d["org_id"] for d in org_docs]
    rows = []
    for i in range(contacts):
        first, last = FIRST[i % len(FIRST)], LAST[(i // len(FIRST)) % len(LAST)]
        linked = [org_ids[i % orgs]] + ([org_ids[(i * 7) % orgs]] if i % 4 == 0 else [])
        rows.append(Contact(
            id=f"c{i:06d}", full_name=f"{first} {last} {i}", email=f"p{i}@{COMPANIES[i % 8]}"
            ".example".lower(), title=TITLES[i % len(TITLES)], role=ROLES[i % len(ROLES)],
            org_ids=tuple(dict.fromkeys(linked)), eligible=i % 9 != 0,
            notes="" if i % 5 else "Ansprechpartner für Push-Upgrades"))
    store.put_many("contacts", [c.to_doc() for c in rows])
    return store, rows


async def bench_screen(store: Store) -> dict[str, Any]:
    from juston_tui.app import JustOnApp
    from juston_tui.screens import contacts as contacts_module
    from juston_tui.screens.widgets.fast_table import FastTable

    marks: dict[str, float] = {}
    original = FastTable.render_line

    total = len(store.all_docs("contacts"))

    def render_line(self: FastTable, y: int) -> Any:
        if y > 0 and self.id == "contacts-table":
            if "first_line" not in marks:
                marks["first_line"] = time.perf_counter()
            if self.row_count and "first_row_line" not in marks:
                marks["first_row_line"] = time.perf_counter()
            if self.row_count >= total and "all_rows_line" not in marks:
                marks["all_rows_line"] = time.perf_counter()
        return original(self, y)

    mount = contacts_module.ContactsScreen.on_mount

    def on_mount(self: Any) -> None:
        marks.setdefault("mount", time.perf_counter())
        mount(self)

    FastTable.render_line = render_line  # type: ignore[method-assign]
    contacts_module.ContactsScreen.on_mount = on_mount  # type: ignore[method-assign]
    out: dict[str, Any] = {}
    app = JustOnApp(store=store, credentials=open_credentials("memory"), start_mode="contacts")
    start = time.perf_counter()
    try:
        async with app.run_test(size=(140, 40)) as pilot:
            if total == 0:
                while "first_line" not in marks or not app.screen.loaded:
                    await asyncio.sleep(0.002)
                await pilot.pause()
                return {"first_line_from_mount": marks["first_line"] - marks["mount"]}
            while "first_row_line" not in marks:
                await asyncio.sleep(0.002)
            out["first_render_from_mount"] = marks["first_row_line"] - marks["mount"]
            out["first_render_from_start"] = marks["first_row_line"] - start
            out["first_line_from_mount"] = marks["first_line"] - marks["mount"]
            while "all_rows_line" not in marks:
                await asyncio.sleep(0.002)
            out["all_rows_from_mount"] = marks["all_rows_line"] - marks["mount"]
            screen = app.screen
            while screen.index._haystacks is None:
                await asyncio.sleep(0.002)
            out["search_ready_from_mount"] = time.perf_counter() - marks["mount"]
            await pilot.pause()
            table = screen.table
            out["rows"] = table.row_count
            frame = frame_drawer(table)
            keystrokes = time_keystrokes(screen, 'müller fin', frame)
            out["keystrokes"] = keystrokes
            # The UI side of an add: one contact into the index and the table, one frame.
            new = Contact.create(full_name="Zoë Bench", email="zoe.bench@example.at",
                                 title="CFO")
            t0 = time.perf_counter()
            screen._changed(contacts_module.ContactsChanged([new], focus=new.id))
            frame()
            out["ui_add"] = time.perf_counter() - t0
            await pilot.pause()
            out["cells"] = [tuple(table.get_row(k).cells) for k in table.row_keys]
    finally:
        FastTable.render_line = original  # type: ignore[method-assign]
        contacts_module.ContactsScreen.on_mount = mount  # type: ignore[method-assign]
    return out


def bench_writes(store: Store, runs: int = 15) -> dict[str, list[float]]:
    from juston_tui.store import atomic_write_bytes

    adds, edits, floor = [], [], []
    for i in range(runs):
        contact = Contact.create(full_name=f"Bench Person {i}", email=f"bench{i}@example.de",
                                 title="Head of Finance")
        t0 = time.perf_counter()
        store.add_contact(contact)
        adds.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        store.update_contact(contact.id, eligible=False)
        edits.append(time.perf_counter() - t0)
    payload = store.path.read_bytes()
    target = store.path.with_name("floor.json")
    for _ in range(runs):
        t0 = time.perf_counter()
        atomic_write_bytes(target, payload)
        floor.append(time.perf_counter() - t0)
    return {"add": adds, "edit": edits, "floor": floor, "bytes": [len(payload)]}


async def bench_stock(cells: list[tuple[Any, ...]]) -> dict[str, float]:
    """The baseline: the same rows in Textual's DataTable, loaded and filtered its way."""
    from textual.app import App, ComposeResult
    from textual.widgets import DataTable

    from juston_tui.screens.contacts import COLUMNS

    class StockApp(App[None]):
        def compose(self) -> ComposeResult:
            table: DataTable[Any] = DataTable()
            for column in COLUMNS:
                table.add_column(column.label, width=column.width, key=column.key)
            yield table

    out: dict[str, float] = {}
    stock = StockApp()
    async with stock.run_test(size=(140, 40)) as pilot:
        table = stock.query_one(DataTable)
        t0 = time.perf_counter()
        table.add_rows(cells)
        await pilot.pause()
        out["stock_load_render"] = time.perf_counter() - t0
        subset = [c for c in cells if "Müller" in str(c[0])]
        t0 = time.perf_counter()
        table.clear()
        table.add_rows(subset)
        await pilot.pause()
        out["stock_filter"] = time.perf_counter() - t0
    return out


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=10_000)
    parser.add_argument("--orgs", type=int, default=10_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        store, _ = build_store(Path(tmp) / "bench.json", args.contacts, args.orgs)
        built = time.perf_counter() - t0
        screen = await bench_screen(store)
        empty = await bench_screen(Store.open(Path(tmp) / "empty.json"))
        writes = bench_writes(store)
        stock = await bench_stock(screen["cells"])
    keys = screen["keystrokes"]
    key_median = statistics.median(keys)
    add_median = statistics.median(writes["add"])
    floor_median = statistics.median(writes["floor"])
    first = screen["first_render_from_mount"]
    print(f"contacts benchmark: {args.contacts} contacts, {args.orgs} orgs, 140x40, store built "
          f"in {built:.1f} s ({writes['bytes'][0] / 1e6:.1f} MB)")
    print(f"  first render of the contacts screen (mount -> rows drawn)   {ms(first)}"
          f"   goal < 250 ms  {'OK' if first < 0.25 else 'MISSED'}")
    print(f"  all {args.contacts} rows in the table and drawn (from mount)            "
          f"{ms(screen['all_rows_from_mount'])}")
    print(f"  first render from app start (incl. Textual start-up)        "
          f"{ms(screen['first_render_from_start'])}")
    print(f"  same screen with 0 contacts (mount -> first table line)     "
          f"{ms(empty['first_line_from_mount'])}   (Textual's own cost of the screen)")
    print(f"  search strings ready (load worker, from mount)               "
          f"{ms(screen['search_ready_from_mount'])}")
    print(f"  filter keystroke ({len(keys)} keys): median {ms(key_median)}, "
          f"p95 {ms(pct(keys, 0.95))}, max {ms(max(keys))}"
          f"   goal < 50 ms median  {'OK' if key_median < 0.05 else 'MISSED'}")
    print(f"  add persisted (duplicate check + atomic write): median {ms(add_median)}, "
          f"p95 {ms(pct(writes['add'], 0.95))}   goal < 40 ms  "
          f"{'OK' if add_median < 0.04 else 'MISSED'}")
    print(f"  edit persisted (update_contact):                median "
          f"{ms(statistics.median(writes['edit']))}, p95 {ms(pct(writes['edit'], 0.95))}")
    print(f"  floor: one atomic write of the same bytes:      median {ms(floor_median)}   "
          f"add/floor {add_median / floor_median:.1f}x")
    print(f"  add shown on screen (index + row + frame)                    "
          f"{ms(screen['ui_add'])}")
    print("  baseline, same rows in the stock DataTable:")
    print(f"    load + first frame   {ms(stock['stock_load_render'])}   ratio to our first render "
          f"{stock['stock_load_render'] / first:.1f}x")
    print(f"    filter (clear + add_rows of the 'Müller' rows) {ms(stock['stock_filter'])}   "
          f"ratio to our keystroke median {stock['stock_filter'] / key_median:.1f}x")
    print(json.dumps({
        "bench": "contacts", "contacts": args.contacts, "orgs": args.orgs,
        "first_render_ms": round(first * 1000, 1),
        "keystroke_ms_median": round(key_median * 1000, 2),
        "keystroke_ms_p95": round(pct(keys, 0.95) * 1000, 2),
        "add_ms_median": round(add_median * 1000, 2),
        "edit_ms_median": round(statistics.median(writes["edit"]) * 1000, 2),
        "floor_ms_median": round(floor_median * 1000, 2),
    }))


if __name__ == "__main__":
    asyncio.run(main())
