"""The store's layout for growth: a journaled store file, snapshots and history beside it.

Issue 16: an edit must cost what it changes, another process's edit must be read as the lines
it added, and probe history must never share a file with what people edit. The migration from
schema 1 is tested on a store written by the release before this layout
(tests/data/store-v1-demo.json: `juston-tui --demo status`, run twice, by that release).
"""

from __future__ import annotations

import os
import shutil
import stat
from pathlib import Path

import orjson
import pytest
from store_files import stored_tables

from juston_tui.model import Check, Contact, Org, Snapshot, normalize_org_id
from juston_tui.store import Store, StoreCorruptError, StoreError, list_backups, schema
from juston_tui.store.errors import SnapshotsCorruptError
from juston_tui.store.snapshots import SnapshotFiles

V1_STORE = Path(__file__).parent / "data" / "store-v1-demo.json"


def org_id(i: int) -> str:
    return normalize_org_id(f"00D{i:012d}")


def snap(i: int, at: str, verdict: str = "ok") -> Snapshot:
    return Snapshot(org_id(i), at, (Check("package.billing", verdict, "billing 2.80.2"),),
                    facts={"organization": {"instance": "EU44"}})


@pytest.fixture
def filled(tmp_path: Path) -> Store:
    store = Store.open(tmp_path / "s.json")
    store.put_orgs([Org.create(org_id=org_id(i), name=f"Org {i}") for i in range(50)])
    store.put_contacts([Contact.create(full_name=f"P {i}", email=f"p{i}@x.de", title="CFO")
                        for i in range(50)])
    return store


# -- the journal ---------------------------------------------------------------------------------
def test_an_edit_appends_one_line_and_keeps_the_base(filled: Store) -> None:
    before = filled.path.read_bytes()
    inode = filled.path.stat().st_ino
    filled.update_org(org_id(7), notes="called the admin")
    after = filled.path.read_bytes()
    assert after.startswith(before)  # the base and earlier lines are never rewritten
    line = after[len(before):]
    assert line.endswith(b"\n") and line.count(b"\n") == 1 and len(line) < 1000
    assert filled.path.stat().st_ino == inode
    assert Store.open(filled.path).get_org(org_id(7)).notes == "called the admin"


def test_another_instances_edits_are_followed_line_by_line(filled: Store) -> None:
    other = Store.open(filled.path)
    other.add_org(Org.create(org_id=org_id(100), name="Added elsewhere"))
    other.update_org(org_id(3), notes="elsewhere")
    assert filled.get_org(org_id(100)).name == "Added elsewhere"  # the key index followed
    assert filled.get_org(org_id(3)).notes == "elsewhere"
    filled.add_org(Org.create(org_id=org_id(101), name="Added here"))  # no doc id collision
    other.remove_org(org_id(5))
    assert filled.find_org(org_id(5)) is None
    fresh = Store.open(filled.path)
    assert {o.org_id for o in fresh.list_orgs()} >= {org_id(100), org_id(101)}
    assert len(stored_tables(filled.path)["orgs"]) == 51


def test_a_killed_writers_unterminated_line_is_ignored_then_cut(filled: Store) -> None:
    filled.update_org(org_id(1), notes="acknowledged")
    with open(filled.path, "ab") as handle:
        handle.write(b'{"j":[["orgs","2",{"org_id":"x"')  # a kill in the middle of an append
    reader = Store.open(filled.path)
    assert reader.get_org(org_id(1)).notes == "acknowledged"
    reader.update_org(org_id(2), notes="next")
    data = filled.path.read_bytes()
    assert b'"org_id":"x"' not in data and data.endswith(b"\n")
    assert Store.open(filled.path).get_org(org_id(2)).notes == "next"
    assert filled.get_org(org_id(2)).notes == "next"


def test_a_bad_complete_journal_line_is_reported_and_left_alone(filled: Store) -> None:
    filled.update_org(org_id(1), notes="one")
    with open(filled.path, "ab") as handle:
        handle.write(b"not json at all\n")
    bad = filled.path.read_bytes()
    with pytest.raises(StoreCorruptError, match="journal line"):
        Store.open(filled.path)
    assert filled.path.read_bytes() == bad


def test_a_journal_line_from_elsewhere_is_shape_checked(filled: Store) -> None:
    line = orjson.dumps({"j": [["contacts", "999", {"id": "c999", "email": None}]]})
    with open(filled.path, "ab") as handle:
        handle.write(line + b"\n")
    with pytest.raises(StoreCorruptError, match="contacts c999: email is null"):
        Store.open(filled.path)


def test_a_file_rewritten_in_place_is_read_whole(filled: Store) -> None:
    filled.get_org(org_id(1))  # cached
    data = stored_tables(filled.path)
    next(d for d in data["orgs"].values() if d["org_id"] == org_id(1))["name"] = "Edited by hand"
    with open(filled.path, "r+b") as handle:  # same inode, longer: not an append of ours
        handle.write(orjson.dumps(data, option=orjson.OPT_INDENT_2) + b"\n")
    assert filled.get_org(org_id(1)).name == "Edited by hand"


def test_the_journal_is_folded_into_a_new_base(filled: Store) -> None:
    for i in range(400):
        filled.update_org(org_id(i % 50), notes=f"note {i} " + "x" * 1000)
    lines = filled.path.read_bytes().count(b"\n")
    assert lines < 400  # new bases replaced the journal along the way
    assert Store.open(filled.path).get_org(org_id(399 % 50)).notes.startswith("note 399 ")


# -- snapshots beside the store ------------------------------------------------------------------
def test_snapshots_never_touch_the_store_file(filled: Store) -> None:
    before = filled.path.read_bytes()
    filled.save_snapshots([snap(i, "2026-12-01T10:00:00Z") for i in range(50)])
    assert filled.path.read_bytes() == before
    files = SnapshotFiles(filled.path)
    assert stat.S_IMODE(files.path.stat().st_mode) == 0o600
    assert stat.S_IMODE(files.history_dir.stat().st_mode) == 0o700
    assert "snapshots" not in stored_tables(filled.path)
    assert len(filled.snapshot_docs()) == 50
    assert filled.counts()["snapshots"] == 50


def test_latest_and_history_per_org(filled: Store) -> None:
    for day in range(1, 26):
        filled.save_snapshots([snap(i, f"2026-11-{day:02d}T10:00:00Z",
                                    "fail" if day == 25 and i == 3 else "ok")
                               for i in range(5)])
    latest = filled.latest_snapshot(org_id(3))
    assert latest is not None and latest.checked_at == "2026-11-25T10:00:00Z"
    assert latest.verdict == "fail"
    history = filled.snapshot_history(org_id(3))
    assert len(history) == schema.HISTORY_LIMIT
    assert [h["checked_at"][:10] for h in history[:2]] == ["2026-11-25", "2026-11-24"]
    assert history[0]["verdict"] == "fail" and history[1]["verdict"] == "ok"
    assert history[0]["verdicts"] == {"package.billing": "fail"}
    assert {d["org_id"]: d["checked_at"] for d in filled.snapshot_docs()} == {
        org_id(i): "2026-11-25T10:00:00Z" for i in range(5)}
    history_file = SnapshotFiles(filled.path)._history_path(org_id(3))
    assert history_file.read_bytes().count(b"\n") <= 3 * schema.HISTORY_LIMIT  # cut back


def test_the_snapshot_log_is_compacted(filled: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    import juston_tui.store.snapshots as snapshots

    monkeypatch.setattr(snapshots, "COMPACT_SLACK", 2_000)
    for day in range(1, 29):
        filled.save_snapshots([snap(i, f"2026-11-{day:02d}T10:00:00Z") for i in range(10)])
    lines = SnapshotFiles(filled.path).path.read_bytes().count(b"\n")
    assert lines < 28 * 10 / 2  # not one line per save: compacted along the way
    assert len(filled.snapshot_docs()) == 10
    assert all(d["checked_at"].startswith("2026-11-28") for d in filled.snapshot_docs())


def test_a_kill_between_the_snapshot_and_its_history_line(filled: Store) -> None:
    filled.save_snapshots([snap(1, "2026-11-01T10:00:00Z")])
    files = SnapshotFiles(filled.path)
    history_file = files._history_path(org_id(1))
    kept = history_file.read_bytes()
    filled.save_snapshots([snap(1, "2026-11-02T10:00:00Z", "warn")])
    history_file.write_bytes(kept)  # as if killed after the snapshot's append
    history = filled.snapshot_history(org_id(1))
    assert [h["checked_at"] for h in history] == ["2026-11-02T10:00:00Z", "2026-11-01T10:00:00Z"]


def test_an_unterminated_snapshot_line_is_skipped_then_cut(filled: Store) -> None:
    filled.save_snapshots([snap(1, "2026-11-01T10:00:00Z")])
    files = SnapshotFiles(filled.path)
    with open(files.path, "ab") as handle:
        handle.write(b'{"org_id":"' + org_id(2).encode() + b'","checked_at":"2026-')
    assert [d["org_id"] for d in filled.snapshot_docs()] == [org_id(1)]
    filled.save_snapshots([snap(3, "2026-11-01T10:00:00Z")])
    assert sorted(d["org_id"] for d in filled.snapshot_docs()) == [org_id(1), org_id(3)]
    assert files.path.read_bytes().endswith(b"\n")


def test_a_damaged_snapshot_file_is_reported_and_left_alone(filled: Store) -> None:
    filled.save_snapshots([snap(1, "2026-11-01T10:00:00Z")])
    files = SnapshotFiles(filled.path)
    with open(files.path, "ab") as handle:
        handle.write(b'{"org_id":"00D000000000002AAA","checks":"none"}\n')
    bad = files.path.read_bytes()
    with pytest.raises(SnapshotsCorruptError) as info:
        filled.snapshot_docs()
    assert str(files.path) in str(info.value) and "left exactly as it is" in str(info.value)
    assert files.path.read_bytes() == bad
    assert filled.get_org(org_id(1)).name == "Org 1"  # the store itself is fine


def test_a_file_that_is_not_ours_under_the_snapshot_name_is_refused(filled: Store) -> None:
    files = SnapshotFiles(filled.path)
    files.path.write_bytes(b"my own notes\n")
    with pytest.raises(StoreError, match="not a juston-tui snapshot file"):
        filled.save_snapshots([snap(1, "2026-11-01T10:00:00Z")])
    assert files.path.read_bytes() == b"my own notes\n"


# -- the migration from schema 1 -------------------------------------------------------------------
def test_a_schema_1_store_of_the_last_release_is_migrated(tmp_path: Path) -> None:
    path = tmp_path / "demo-store.json"
    shutil.copyfile(V1_STORE, path)
    old = orjson.loads(V1_STORE.read_bytes())
    assert old["meta"]["1"]["version"] == 1 and old["snapshots"]
    store = Store.open(path)
    assert store.schema_version() == schema.SCHEMA_VERSION
    data = stored_tables(path)
    assert "snapshots" not in data
    for table in ("orgs", "contacts", "checklist", "pushes", "push_plans"):
        assert sorted(map(orjson.dumps, data[table].values())) == sorted(
            map(orjson.dumps, old[table].values())), table
    moved = {d["org_id"]: d for d in old["snapshots"].values()}
    docs = {d["org_id"]: d for d in store.snapshot_docs()}
    assert set(docs) == set(moved)
    some = next(iter(moved))
    assert docs[some]["checks"] == moved[some]["checks"]
    assert docs[some]["facts"] == moved[some]["facts"]
    assert store.snapshot_history(some) == moved[some]["history"]
    backups = list_backups(path)
    assert len(backups) == 1 and "pre-migration-v1" in backups[0].name
    assert backups[0].read_bytes() == V1_STORE.read_bytes()  # the old file, byte for byte
    again = Store.open(path)  # nothing left to migrate
    assert len(list_backups(path)) == 1 and len(again.snapshot_docs()) == len(moved)


def test_a_migration_killed_before_its_end_is_done_again(tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "demo-store.json"
    shutil.copyfile(V1_STORE, path)

    def killed(*_args: object) -> None:
        raise KeyboardInterrupt  # the snapshots are out, the store file not yet rewritten

    monkeypatch.setitem(schema.MIGRATIONS, 1, killed)
    with pytest.raises(KeyboardInterrupt):
        Store.open(path)
    assert path.read_bytes() == V1_STORE.read_bytes()
    monkeypatch.undo()
    store = Store.open(path)
    moved = orjson.loads(V1_STORE.read_bytes())["snapshots"]
    some = next(iter(moved.values()))
    assert len(store.snapshot_docs()) == len(moved)
    assert store.snapshot_history(some["org_id"]) == some["history"]  # merged, not doubled


def test_a_schema_1_store_opened_read_only_is_served_as_it_is(tmp_path: Path) -> None:
    path = tmp_path / "demo-store.json"
    shutil.copyfile(V1_STORE, path)
    store = Store.open(path, read_only=True)
    moved = orjson.loads(V1_STORE.read_bytes())["snapshots"]
    some = next(iter(moved.values()))
    assert len(store.snapshot_docs()) == len(moved)
    assert store.snapshot_history(some["org_id"]) == some["history"]
    latest = store.latest_snapshot(some["org_id"])
    assert latest is not None and latest.checked_at == some["checked_at"]
    assert path.read_bytes() == V1_STORE.read_bytes()
    assert not SnapshotFiles(path).path.exists() and not list_backups(path)
    assert sorted(os.listdir(tmp_path)) == ["demo-store.json"]


def test_reading_the_snapshot_file_backwards_in_blocks_sees_every_line(tmp_path: Path) -> None:
    import random

    from juston_tui.store.snapshots import _lines_backwards

    rng = random.Random(16)
    for trial in range(200):
        lines = [bytes(rng.choice(b"ab{") for _ in range(rng.randint(0, 30)))
                 for _ in range(rng.randint(0, 20))]
        header, body = b"HEADER\n", b"".join(line + b"\n" for line in lines)
        path = tmp_path / f"f{trial}"
        path.write_bytes(header + body)
        fd = os.open(path, os.O_RDONLY)
        try:
            spans = list(_lines_backwards(fd, len(header), len(header) + len(body),
                                          block=rng.randint(1, 40)))
        finally:
            os.close(fd)
        assert [line for _, _, line in spans] == [line for line in reversed(lines) if line], trial
        payload = header + body
        for _, offset, line in spans:  # each line's offset names where it is in the file
            assert payload[offset:offset + len(line)] == line
            assert payload[offset - 1:offset] == b"\n" and payload[offset + len(line)] == 10


def test_the_latest_index_is_built_in_blocks_and_finds_every_orgs_last_line(
        tmp_path: Path) -> None:
    import random

    rng = random.Random(21)
    for trial in range(100):
        files = SnapshotFiles(tmp_path / f"s{trial}.json")
        header = b'{"kind":"juston-tui snapshots","version":1,"compacted_bytes":0}\n'
        expected: dict[str, int] = {}
        payload = header
        for _ in range(rng.randint(0, 28)):
            org = f"00D{rng.randint(0, 5)}"
            line = b'{"org_id":"' + org.encode() + b'","pad":"' + b"x" * rng.randint(0, 50) + b'"}'
            expected[org] = len(payload) << 32 | len(line)  # where: offset, length
            payload += line + b"\n"
        payload += b'{"org_id":"00Dcut"'  # a killed writer's unterminated line: not indexed
        files.path.write_bytes(payload)
        fd = os.open(files.path, os.O_RDONLY)
        try:
            got = files._build_index(fd, len(payload), block=rng.randint(1, 60))
        finally:
            os.close(fd)
        assert got == expected, trial


def test_a_damaged_latest_line_is_named_by_its_line_number(filled: Store) -> None:
    filled.save_snapshots([snap(i, "2026-11-01T10:00:00Z") for i in range(3)])
    files = SnapshotFiles(filled.path)
    with open(files.path, "ab") as handle:
        handle.write(b'{"org_id":"' + org_id(1).encode() + b'","checks":}\n')
    with pytest.raises(SnapshotsCorruptError) as info:
        files.latest(org_id(1))
    assert "line 5" in info.value.detail, info.value.detail  # after the header and 3 lines
    assert files.latest(org_id(2))["org_id"] == org_id(2)


def test_one_orgs_latest_is_found_without_an_index_and_a_loop_builds_one(filled: Store
                                                                          ) -> None:
    for day in (1, 2, 3):
        filled.save_snapshots([snap(i, f"2026-11-0{day}T10:00:00Z") for i in range(6)])
    filled.save_snapshots([snap(4, "2026-11-04T10:00:00Z")])
    files = SnapshotFiles(filled.path)
    assert files.latest(org_id(2))["checked_at"] == "2026-11-03T10:00:00Z"
    assert files._index is None  # one org: read backwards to its line
    assert files.latest(org_id(2))["checked_at"] == "2026-11-03T10:00:00Z"
    assert files.latest(org_id(9)) is None and files._index is not None  # a second org
    assert files.latest(org_id(4))["checked_at"] == "2026-11-04T10:00:00Z"
    assert [len(filled.snapshot_history(org_id(i))) for i in (0, 4)] == [3, 4]


def test_listed_snapshot_lines_read_the_file_as_it_was_listed(filled: Store) -> None:
    """The registry keeps references to the lines, not the lines: one compacted away by
    another process is still read from the file as it was when listed."""
    filled.save_snapshots([snap(1, "2026-11-01T10:00:00Z")])
    refs = dict(filled.iter_snapshot_lines())
    before = {org: filled.parse_snapshot_line(ref) for org, ref in refs.items()}
    other = Store.open(filled.path)
    other.save_snapshots([snap(1, "2026-11-02T10:00:00Z")])
    other._snaps.compact()  # an atomic replace: a new file
    assert {org: filled.parse_snapshot_line(ref) for org, ref in refs.items()} == before
    assert filled.snapshot_doc(org_id(1))["checked_at"] == "2026-11-02T10:00:00Z"


def test_snapshots_saved_by_another_process_count_as_a_change(filled: Store) -> None:
    """The app polls `changed_on_disk` to reload: a `status` run elsewhere must show."""
    filled.save_snapshots([snap(1, "2026-11-01T10:00:00Z")])
    assert not filled.changed_on_disk()  # our own write is no news
    other = Store.open(filled.path)
    other.save_snapshots([snap(2, "2026-11-01T10:00:00Z")])
    assert filled.changed_on_disk()
    assert not filled.changed_on_disk()  # told once: a screen reading no snapshots reloads once
    assert len(filled.snapshot_docs()) == 2


def test_doctor_names_the_snapshot_files_beside_the_store(filled: Store) -> None:
    from juston_tui.store import health

    assert health(filled.path).beside == ()
    filled.save_snapshots([snap(i, "2026-11-01T10:00:00Z") for i in range(3)])
    beside = health(filled.path).beside
    assert len(beside) == 2 and "s.json.snapshots.jsonl" in beside[0]
    assert beside[1].endswith("(3 history files)")
    assert health(filled.path).counts["snapshots"] == 3


def test_two_stores_of_one_stem_keep_their_own_snapshots(tmp_path: Path) -> None:
    first, second = Store.open(tmp_path / "a.json"), Store.open(tmp_path / "a.db")
    first.save_snapshots([snap(1, "2026-11-01T10:00:00Z")])
    assert second.snapshot_docs() == [] and len(first.snapshot_docs()) == 1


def test_bulk_readers_share_documents_that_writes_never_change_in_place(filled: Store) -> None:
    """org_docs/contact_docs hand out the cached documents themselves (no 100,000 copies):
    an edit must replace a document, never change the one a screen holds."""
    orgs = {d["org_id"]: d for d in filled.org_docs()}
    contacts = {d["email"]: d for d in filled.contact_docs()}
    held_org, held_contact = orgs[org_id(7)], contacts["p3@x.de"]
    before_org, before_contact = dict(held_org), dict(held_contact)
    filled.update_org(org_id(7), notes="called the admin")
    filled.update_contact(held_contact["id"], title="CEO")
    assert held_org == before_org and held_contact == before_contact
    assert filled.get_org(org_id(7)).notes == "called the admin"
    assert filled.get_contact(held_contact["id"]).title == "CEO"
    # The cache shares unchanged documents and holds a new one for the edited.
    again = {d["org_id"]: d for d in filled.org_docs()}
    assert again[org_id(8)] is orgs[org_id(8)] and again[org_id(7)] is not held_org
    assert filled.org_names()[org_id(7)] == "Org 7"
    reopened = Store.open(filled.path)
    assert reopened.get_org(org_id(7)).notes == "called the admin"


def test_the_base_parsed_in_pieces_equals_the_whole_parse(monkeypatch: pytest.MonkeyPatch
                                                          ) -> None:
    """Pieces are cut where the bytes look like a document's end; strings and nested values
    that look like one too must never cut a document (the pieces would parse differently)."""
    import random

    from juston_tui.store import shape

    rng = random.Random(21)
    nasty = ['},"5":{', "}}", '}},"orgs":{', '"', "\\", "}", '},"12":{"a":', "{", "ü", ""]

    def value(depth: int) -> object:
        kind = rng.randint(0, 6 if depth < 3 else 3)
        if kind == 0:
            return "".join(rng.choice(nasty) for _ in range(rng.randint(0, 4)))
        if kind == 1:
            return rng.randint(-5, 5)
        if kind == 2:
            return None
        if kind == 3:
            return rng.random() < 0.5
        if kind == 4:
            return [value(depth + 1) for _ in range(rng.randint(0, 3))]
        keys = rng.sample(["12", "5", "orgs", "a", "}", '},"1":{'], rng.randint(0, 3))
        return {k: value(depth + 1) for k in keys}

    for trial in range(300):
        monkeypatch.setattr(shape, "_CHUNK", rng.choice([1, 16, 64, 1 << 20]))
        data = {name: {str(i): {"k": value(0), "last": value(1)}
                       for i in range(rng.randint(0, 12))}
                for name in rng.sample(["meta", "orgs", "contacts", "pushes"], rng.randint(1, 4))}
        payload = orjson.dumps(data)
        # Every base juston-tui writes is parsed in pieces, to what the whole parse gives.
        assert shape._loads_in_chunks(payload, len(payload)) == orjson.loads(payload), trial
    # Anything else is left to the whole parse (which accepts it or says what is wrong).
    for odd in (b'{"meta":{}} ', b"[]", b'{"meta":[]}', b'{"meta":{"1":{}},}', b'{"a":{"1":1}}',
                b'{"meta":{"1":{}}', b'{"m":{"1":{"a":"}"}}}', b'{"m":{"1":{}},"n":{"2":{}}}'):
        try:
            whole = orjson.loads(odd)
        except orjson.JSONDecodeError:
            whole = None
        parsed = shape._loads_in_chunks(odd, len(odd))
        assert parsed is None or parsed == whole, odd


def test_a_store_whose_text_looks_like_document_ends_loads_whole(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch
                                                                  ) -> None:
    from juston_tui.store import shape

    monkeypatch.setattr(shape, "_CHUNK", 32)
    store = Store.open(tmp_path / "s.json")
    notes = ['},"7":{"org_id":"x"}', '}}', '}},"contacts":{"1":{', "plain"]
    store.put_orgs([Org.create(org_id=org_id(i), name=f"Org {i}", notes=notes[i % 4])
                    for i in range(40)])
    store._storage.rewrite_whole()
    store.update_org(org_id(1), name="Org one")  # a new base with every org in it
    again = Store.open(tmp_path / "s.json")
    assert [o.notes for o in again.list_orgs()] == [notes[i % 4] for i in range(40)]
    assert again.get_org(org_id(1)).name == "Org one"
    assert again.org_docs() == store.org_docs()


def test_a_big_base_shares_repeated_values_without_changing_any_document(
        filled: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    from juston_tui.store import shape

    filled.put_contacts([Contact.create(full_name="L", email="l@x.de", title="CFO",
                                        org_ids=[org_id(2)])])
    filled._storage.rewrite_whole()
    filled.update_org(org_id(9), notes="a new base")
    monkeypatch.setattr(shape, "SHARE_ABOVE", 0)
    monkeypatch.setattr(shape, "_CHUNK", 256)
    store = Store.open(filled.path)
    assert orjson.dumps(store._raw()) == orjson.dumps(filled._raw())
    orgs, contacts = store.org_docs(), store.contact_docs()
    assert len({id(d["kind"]) for d in orgs}) == 1 and len({id(d["push"]) for d in orgs}) == 1
    assert len({id(d["title"]) for d in contacts}) == 1
    tables = store._raw()
    orgs_ids = {k: k for k in tables["orgs"]}
    assert all(k is orgs_ids[k] for k in tables["contacts"] if k in orgs_ids)  # ids alike
    linked = next(d for d in contacts if d["org_ids"])
    assert linked["org_ids"][0] is next(d for d in orgs if d["org_id"] == org_id(2))["org_id"]
    store.update_org(org_id(3), push={"state": "requested", "requested_on": "2026-11-01",
                                      "ticket": "T-1", "registered_on": None})
    assert store.get_org(org_id(4)).push.state == "not_registered"  # not a shared change
    assert store.get_org(org_id(3)).push.state == "requested"
