"""The registry's first page: kept by one start, shown by the next one's first frame while
the store is read, only while the store and snapshot files are unchanged, never a file that
is not ours replaced, and nothing acted on until the whole store is read."""

from __future__ import annotations

import gc
import os
import stat
from pathlib import Path

import pytest
from registry_fixtures import NOW, build_store, facts, org_id, snapshot, table
from startup_helpers import headless_run, hold_the_parse, launch_args
from ui_helpers import make_app, screen_text, settle, until

from juston_tui.app import JustOnApp
from juston_tui.model import Org
from juston_tui.paths import first_page_dir
from juston_tui.screens.registry_data import build_entries_from_lines, line_bytes, page_of
from juston_tui.store import Store, first_page
from juston_tui.store.first_page import (
    KEEP,
    PAGE_ROWS,
    FirstPage,
    PageRow,
    page_path,
    read_page,
    save_page,
)


def a_page(n: int = 2) -> FirstPage:
    rows = tuple(PageRow({"org_id": org_id(i), "name": f"Org {i}"}, "", None, i == 1)
                 for i in range(1, n + 1))
    return FirstPage(rows, n, ("name", False))


def test_a_page_is_read_back_only_at_the_stamp_it_was_written_for(tmp_path: Path) -> None:
    store = build_store(tmp_path / "s.json")
    folder = tmp_path / "pages"
    stamp = store.disk_stamp()
    assert save_page(folder, store.path, stamp, a_page())
    page = read_page(folder, store.path, stamp)
    assert page is not None and [r.doc["name"] for r in page.rows] == ["Org 1", "Org 2"]
    assert page.rows[0].failed_twice and not page.rows[1].failed_twice
    store.add_org(Org.create(org_id=org_id(9), name="Written since"))
    assert read_page(folder, store.path, store.disk_stamp()) is None
    store.save_snapshots([])  # nothing to save: the snapshot file is not touched
    other = tmp_path / "other.json"
    Store.open(other)
    assert read_page(folder, other, stamp) is None  # another store's page is not this one's


def test_a_page_is_private_and_a_foreign_file_is_never_replaced(tmp_path: Path) -> None:
    store = build_store(tmp_path / "s.json")
    folder = tmp_path / "cache" / "pages"
    assert save_page(folder, store.path, store.disk_stamp(), a_page())
    path = page_path(folder, store.path)
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    path.write_bytes(b"somebody else's notes\n")
    assert not save_page(folder, store.path, store.disk_stamp(), a_page())
    assert path.read_bytes() == b"somebody else's notes\n"
    assert read_page(folder, store.path, store.disk_stamp()) is None


def test_a_fifo_or_a_link_at_the_page_is_neither_read_nor_replaced(tmp_path: Path) -> None:
    store = build_store(tmp_path / "s.json")
    folder = tmp_path / "pages"
    folder.mkdir()
    path = page_path(folder, store.path)
    os.mkfifo(path)  # reading would wait for a writer forever
    assert read_page(folder, store.path, store.disk_stamp()) is None
    assert not save_page(folder, store.path, store.disk_stamp(), a_page())
    assert stat.S_ISFIFO(os.lstat(path).st_mode)
    path.unlink()
    target = tmp_path / "elsewhere.txt"
    target.write_text("keep me")
    path.symlink_to(target)
    assert not save_page(folder, store.path, store.disk_stamp(), a_page())
    assert target.read_text() == "keep me" and path.is_symlink()


@pytest.mark.parametrize("damage", [b"", b'{"kind":"juston-tui first page","format":1,',
                                    b'{"kind":"juston-tui first page","format":1,"rows":7}',
                                    b"[1, 2]"])
def test_a_damaged_page_is_no_page(tmp_path: Path, damage: bytes) -> None:
    store = build_store(tmp_path / "s.json")
    folder = tmp_path / "pages"
    save_page(folder, store.path, store.disk_stamp(), a_page())
    page_path(folder, store.path).write_bytes(damage)
    assert read_page(folder, store.path, store.disk_stamp()) is None


def test_only_the_newest_pages_are_kept(tmp_path: Path) -> None:
    folder = tmp_path / "pages"
    folder.mkdir()
    (folder / "notes.json").write_text("mine")  # not a page name: left alone
    for i in range(KEEP + 3):
        store_path = tmp_path / f"s{i}.json"
        assert save_page(folder, store_path, ((1, 2, 3, 4), None), a_page())
        os.utime(page_path(folder, store_path), (1_000_000 + i, 1_000_000 + i))
    pages = [p for p in folder.iterdir() if p.name != "notes.json"]
    assert len(pages) == KEEP and (folder / "notes.json").read_text() == "mine"
    assert not page_path(folder, tmp_path / "s0.json").exists()


def started(tmp_path: Path) -> tuple[Path, Path, JustOnApp]:
    """The registry fixture's store, and an app on it that keeps its pages in `pages/`."""
    path = tmp_path / "s.json"
    build_store(path).close()
    folder = tmp_path / "pages"
    return path, folder, make_app(Store.open(path, load=False), clock=lambda: NOW,
                                  first_page_dir=folder)


async def test_the_next_start_shows_the_page_before_the_store_is_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path, folder, app = started(tmp_path)
    async with app.run_test(size=(130, 30)) as pilot:
        await settle(pilot)
        shown = screen_text(app)
    store = Store.open(path, load=False)
    page = read_page(folder, path, store.disk_stamp())
    assert page is not None and len(page.rows) == 6 and page.total == 6

    release = hold_the_parse(monkeypatch)
    app = make_app(store, clock=lambda: NOW, first_page=page, first_page_dir=folder)
    async with app.run_test(size=(130, 30)) as pilot:
        await pilot.pause()
        first = screen_text(app)
        assert not store.loaded and not app.screen.loaded
        assert "Reading the store" in first and "showing the first 6 of 6 orgs" in first
        # The same rows as a full read draws (only the status line differs).
        assert first.splitlines()[3:] == shown.splitlines()[3:]
        await pilot.press("e")  # acting keys wait for the whole store
        await pilot.pause()
        assert [str(n.message) for n in app._notifications] == [
            "Still reading the store: try again in a moment."]
        assert len(app.screen_stack) == 1  # no form opened
        await pilot.press("slash", "g", "l", "o")  # a filter applies once all are read
        await pilot.pause()
        assert table(app).row_count == 6
        assert "filter (once all are read): glo" in screen_text(app)
        release.set()
        await until(pilot, lambda: app.screen.loaded, "the store read")
        await settle(pilot)
        assert table(app).row_count == 1 and "Globex Corp" in screen_text(app)


async def test_no_page_after_a_write_and_the_page_is_first_in_name_order(
    tmp_path: Path,
) -> None:
    path = tmp_path / "s.json"
    store = Store.open(path)
    store.put_orgs([Org.create(org_id=org_id(i), name=f"Org {i:04d}")
                    for i in range(PAGE_ROWS + 50, 0, -1)])
    store.close()
    folder = tmp_path / "pages"
    app = make_app(Store.open(path, load=False), first_page_dir=folder)
    async with app.run_test(size=(130, 30)) as pilot:
        await settle(pilot)
        assert app.screen.loaded
    page = read_page(folder, path, Store.open(path, load=False).disk_stamp())
    assert page is not None and page.total == PAGE_ROWS + 50
    assert [r.doc["name"] for r in page.rows] == [f"Org {i:04d}" for i in range(1, PAGE_ROWS + 1)]
    Store.open(path).add_org(Org.create(org_id=org_id(999), name="Aaa first now"))
    assert read_page(folder, path, Store.open(path, load=False).disk_stamp()) is None


def test_a_read_only_start_keeps_its_page_in_the_cache_folder_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """launch.py: the page folder is the user cache folder; a read-only store's folder
    gets nothing new."""
    from juston_tui.launch import run_tui

    path = tmp_path / "store" / "s.json"
    path.parent.mkdir()
    build_store(path).close()
    before = sorted(p.name for p in path.parent.iterdir())
    seen = headless_run(monkeypatch)
    args = launch_args(path)
    args.read_only = True
    try:
        assert run_tui(args) == 0 and seen[-1]["rows"] == 6
    finally:
        gc.unfreeze()  # what the launched app froze would otherwise outlive this test
    assert sorted(p.name for p in path.parent.iterdir()) == before
    page = read_page(first_page_dir(), path, Store.open(path, load=False).disk_stamp())
    assert page is not None and {r.doc["org_id"] for r in page.rows} == {
        org_id(i) for i in range(1, 7)}
    # The test's cache folder (conftest points XDG_CACHE_HOME at a temporary home).
    assert str(first_page_dir()).startswith(os.environ["XDG_CACHE_HOME"])


async def test_after_this_process_writes_a_fresh_page_is_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An edit (or a check, or a contact) changes the files: once this process's writes
    stop, the page is kept again, read from the store, so the next start is not cold."""
    from juston_tui.screens import registry

    monkeypatch.setattr(registry, "PAGE_QUIET_S", 0.05)
    path, folder, app = started(tmp_path)
    async with app.run_test(size=(130, 30)) as pilot:
        await settle(pilot)
        app.store.add_org(Org.create(org_id=org_id(42), name="Aardvark AG"))
        assert read_page(folder, path, app.store.disk_stamp()) is None  # stale at once

        def kept() -> FirstPage | None:
            return read_page(folder, path, app.store.disk_stamp())

        await until(pilot, kept, "a fresh page")
        page = kept()
        assert page is not None and page.total == 7
        assert "Aardvark AG" in [r.doc["name"] for r in page.rows]
    loaded = make_app(Store.open(path, load=False), clock=lambda: NOW,
                      first_page_dir=tmp_path / "fresh")
    async with loaded.run_test(size=(130, 30)) as pilot:
        await settle(pilot)
    # The same rows, in the same order, as a full read keeps (the load worker's page_of).
    full = read_page(tmp_path / "fresh", path, Store.open(path, load=False).disk_stamp())
    assert full is not None and full.rows == page.rows


def org(n: int) -> Org:
    return Org.create(org_id=org_id(n), name=f"Org {n}")


def kept_for(tmp_path: Path) -> tuple[Store, Path]:
    """The registry fixture's store and the page a full read keeps for it (page_of)."""
    store = build_store(tmp_path / "s.json")
    folder = tmp_path / "pages"
    entries = build_entries_from_lines(store.org_docs(), store.iter_snapshot_lines(),
                                       store.parse_snapshot_line)
    keys = sorted(entries, key=lambda k: entries[k].name_key)
    page = page_of(entries, keys, ("name", False))
    assert page is not None
    assert save_page(folder, store.path, store.disk_stamp(), page, store.snapshots_path)
    return store, folder


def test_snapshots_added_since_keep_the_page_with_their_newer_lines(tmp_path: Path) -> None:
    """A `status` run (or a check) only appends to the snapshot file: the page stays good,
    and its rows show what was appended (later lines win)."""
    store, folder = kept_for(tmp_path)
    other = Store.open(store.path)  # another process's store object
    other.save_snapshots([snapshot(org(1), NOW, facts(billing="2.81.0")),
                          snapshot(org(1), NOW, facts(billing="2.82.0")),
                          snapshot(org(3), NOW, facts(cash=None))])
    page = read_page(folder, store.path, store.disk_stamp(), store.snapshots_path)
    assert page is not None
    lines = {r.doc["org_id"]: r.snapshot_line for r in page.rows}
    assert b'"2.82.0"' in (lines[org_id(1)] or b"") and b'"2.81.0"' not in lines[org_id(1)]
    assert lines[org_id(3)] == line_bytes(dict(other.iter_snapshot_lines())[org_id(3)])
    assert lines[org_id(5)] is None  # never checked, still
    assert read_page(folder, store.path, store.disk_stamp()) is None  # without the tail: stale


def test_a_rewritten_snapshot_file_or_a_long_tail_is_no_page(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store, folder = kept_for(tmp_path)
    path = store.snapshots_path
    data = path.read_bytes()
    # The same bytes but one, changed in place before the old end (not an append).
    at = len(data) - 10
    with open(path, "r+b") as handle:
        handle.seek(at)
        handle.write(b"X" if data[at:at + 1] != b"X" else b"Y")
    assert read_page(folder, store.path, store.disk_stamp(), path) is None

    store, folder = kept_for(tmp_path / "long")
    monkeypatch.setattr(first_page, "MAX_TAIL", 100)
    Store.open(store.path).save_snapshots([snapshot(org(1), NOW, facts())])
    assert read_page(folder, store.path, store.disk_stamp(), store.snapshots_path) is None


def test_a_half_written_snapshot_line_is_left_to_the_full_read(tmp_path: Path) -> None:
    store, folder = kept_for(tmp_path)
    Store.open(store.path).save_snapshots([snapshot(org(3), NOW, facts(cash=None))])
    with open(store.snapshots_path, "ab") as handle:  # a killed append: no newline yet
        handle.write(b'{"org_id":"' + org_id(1).encode() + b'","checked_at":"2026-05')
    page = read_page(folder, store.path, store.disk_stamp(), store.snapshots_path)
    assert page is not None
    by_org = {r.doc["org_id"]: r.snapshot_line for r in page.rows}
    def latest(org: str) -> bytes:
        return line_bytes(dict(Store.open(store.path).iter_snapshot_lines())[org])

    assert by_org[org_id(1)] == latest(org_id(1))  # as it was: the half line is not one
    assert by_org[org_id(3)] == latest(org_id(3))
    Store.open(store.path).add_org(Org.create(org_id=org_id(8), name="Edited since"))
    assert read_page(folder, store.path, store.disk_stamp(), store.snapshots_path) is None
