"""Review of the journaled store (r19): each test is a scenario that went wrong."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import orjson
import pytest
from store_files import stored_tables

from juston_tui.model import Org, normalize_org_id
from juston_tui.store import Store


def org_id(i: int) -> str:
    return normalize_org_id(f"00D{i:012d}")


def test_an_edit_to_a_pretty_printed_store_ending_in_a_newline_keeps_it_readable(
        tmp_path: Path) -> None:
    store = Store.open(tmp_path / "s.json")
    store.put_orgs([Org.create(org_id=org_id(i), name=f"Org {i}") for i in range(3)])
    data = stored_tables(store.path)
    # Edited by hand: an editor writes the JSON indented, with a final newline.
    store.path.write_bytes(orjson.dumps(data, option=orjson.OPT_INDENT_2) + b"\n")
    edited = Store.open(store.path)
    edited.update_org(org_id(1), notes="after the hand edit")
    assert Store.open(store.path).get_org(org_id(1)).notes == "after the hand edit"


def test_a_killed_writers_partial_history_line_does_not_swallow_the_next_check(
        tmp_path: Path) -> None:
    from juston_tui.model import Check, Snapshot

    def snap(at: str) -> Snapshot:
        return Snapshot(org_id(1), at, (Check("package.billing", "ok", "2.80"),), facts={})

    store = Store.open(tmp_path / "s.json")
    store.put_orgs([Org.create(org_id=org_id(1), name="Org 1")])
    store.save_snapshots([snap("2026-11-01T10:00:00Z")])
    history = store._snaps._history_path(org_id(1))
    with open(history, "ab") as handle:  # a kill in the middle of the history append
        handle.write(b'{"checked_at":"2026-11-02T10:00:00Z","verd')
    store.save_snapshots([snap("2026-11-03T10:00:00Z")])
    store.save_snapshots([snap("2026-11-04T10:00:00Z")])
    times = [e["checked_at"] for e in store.snapshot_history(org_id(1))]
    assert times == ["2026-11-04T10:00:00Z", "2026-11-03T10:00:00Z", "2026-11-01T10:00:00Z"]


def test_a_lock_free_reader_racing_two_commits_does_not_call_the_store_truncated(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = Store.open(tmp_path / "s.json")
    store.put_orgs([Org.create(org_id=org_id(i), name=f"Org {i}") for i in range(3)])
    writer = Store.open(store.path)
    writer.get_org(org_id(1))
    reader = Store(store.path)
    real_fdopen = os.fdopen
    done: list[bool] = []

    def between_stat_and_read(fd: int, *args: Any, **kwargs: Any) -> Any:
        if not done and args[:1] == ("rb",):
            done.append(True)
            writer.update_org(org_id(1), notes="one")  # committed after the reader's fstat
            with open(store.path, "ab") as handle:  # the next writer, still appending
                handle.write(b'{"j":[["orgs","2",{"org_id"')
        return real_fdopen(fd, *args, **kwargs)

    monkeypatch.setattr(os, "fdopen", between_stat_and_read)
    reader.load()
    assert done and reader.get_org(org_id(1)).notes == "one"


def test_a_lookup_racing_another_processs_removal_does_not_crash(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = Store.open(tmp_path / "s.json")
    store.put_orgs([Org.create(org_id=org_id(i), name=f"Org {i}") for i in range(3)])
    other = Store.open(store.path)
    store.get_org(org_id(1))  # index built
    real_read = store._storage.read
    reads: list[int] = []

    def read() -> Any:
        reads.append(1)
        if len(reads) == 2:  # between the index lookup and the document's read
            other.remove_org(org_id(1))
        return real_read()

    monkeypatch.setattr(store._storage, "read", read)
    found = store.find_org(org_id(1))
    assert found is None or found.org_id == org_id(1)
    assert store.find_org(org_id(1)) is None


def test_our_snapshot_save_does_not_hide_another_processs_saved_just_before(
        tmp_path: Path) -> None:
    from juston_tui.model import Check, Snapshot

    def snap(i: int) -> Snapshot:
        return Snapshot(org_id(i), "2026-11-01T10:00:00Z",
                        (Check("package.billing", "ok", "2.80"),), facts={})

    store = Store.open(tmp_path / "s.json")
    store.put_orgs([Org.create(org_id=org_id(i), name=f"Org {i}") for i in range(3)])
    store.save_snapshots([snap(0)])
    other = Store.open(store.path)
    assert len(store.snapshot_docs()) == 1 and not store.changed_on_disk()
    other.save_snapshots([snap(2)])  # a `status` run in another terminal
    store.save_snapshots([snap(1)])  # then a sweep batch here, before the next poll
    assert store.changed_on_disk()  # org 2's snapshot is news to this process
    assert not store.changed_on_disk()


def test_our_edit_does_not_hide_another_processs_edit_made_just_before(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "s.json")
    store.put_orgs([Org.create(org_id=org_id(i), name=f"Org {i}") for i in range(3)])
    other = Store.open(store.path)
    assert not store.changed_on_disk()
    other.update_org(org_id(2), notes="elsewhere")  # another instance or a script
    store.update_org(org_id(1), notes="here")  # an edit here before the app's next poll
    assert store.changed_on_disk()  # org 2's edit is news to the screens of this process
    assert not store.changed_on_disk()


def test_an_import_of_new_and_existing_orgs_in_a_freshly_opened_store(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "s.json")
    store.put_orgs([Org.create(org_id=org_id(i), name=f"Org {i}") for i in range(2)])
    fresh = Store.open(store.path)  # a new CLI run: TinyDB has not worked out its next id yet
    # A new org listed before one that holds the highest doc id: that id, just removed for
    # the replacement, must not be handed to the new org.
    fresh.put_orgs([Org.create(org_id=org_id(5), name="New"),
                    Org.create(org_id=org_id(1), name="Org 1 again")])
    again = Store.open(store.path)
    assert {o.org_id: o.name for o in again.list_orgs()} == {
        org_id(0): "Org 0", org_id(1): "Org 1 again", org_id(5): "New"}


@pytest.mark.parametrize("where", ["journal", "base"])
def test_a_document_id_that_is_not_a_number_is_reported_not_a_traceback(
        tmp_path: Path, where: str) -> None:
    from juston_tui.store import StoreCorruptError

    store = Store.open(tmp_path / "s.json")
    store.put_orgs([Org.create(org_id=org_id(i), name=f"Org {i}") for i in range(2)])
    doc = Org.create(org_id=org_id(7), name="By hand").to_doc()
    if where == "journal":
        with open(store.path, "ab") as handle:
            handle.write(orjson.dumps({"j": [["orgs", "x7", doc]]}) + b"\n")
    else:
        data = stored_tables(store.path)
        data["orgs"]["x7"] = doc
        store.path.write_bytes(orjson.dumps(data) + b"\n")
    with pytest.raises(StoreCorruptError, match="x7"):
        Store.open(store.path).find_org(org_id(7))
    with pytest.raises(StoreCorruptError, match="x7"):
        store.find_org(org_id(7))  # the instance that was open: the lines it follows


def test_a_kill_while_the_lock_file_record_is_rewritten_leaves_no_wrong_record(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from juston_tui.store.files import identity

    store = Store.open(tmp_path / "s.json")
    store.put_orgs([Org.create(org_id=org_id(i), name=f"Org {i}") for i in range(2)])
    # The record of an earlier, bigger file (longer than the one written next).
    store.lock_path.write_bytes(b"2049 123456789 1764604800123456789 99999999")
    real_ftruncate = os.ftruncate
    lock_inode = store.lock_path.stat().st_ino

    def killed_before_truncating_the_lock_file(fd: int, length: int) -> None:
        if os.fstat(fd).st_ino == lock_inode:
            raise SystemExit("killed")  # the record was written, the truncate never came
        real_ftruncate(fd, length)

    monkeypatch.setattr(os, "ftruncate", killed_before_truncating_the_lock_file)
    with pytest.raises(SystemExit):
        store.update_org(org_id(1), notes="one")
    monkeypatch.undo()
    assert store._recorded() in (None, identity(os.stat(store.path)))
