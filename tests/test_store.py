"""The store's promises: atomic, locked, private, versioned, and never overwrites a bad file."""

from __future__ import annotations

import multiprocessing
import os
import random
import select
import signal
import stat
import time
from pathlib import Path

import orjson
import pytest
from store_files import stored_tables

from juston_tui import store as store_module
from juston_tui.model import Check, Contact, Org, Snapshot, ValidationError
from juston_tui.store import (
    ReadOnlyError,
    Store,
    StoreCorruptError,
    StoreNewerError,
    list_backups,
    restore_backup,
)

ORG = "00D5g000004Xyz1EAC"


def _org(org_id: str = ORG, name: str = "Acme GmbH") -> Org:
    return Org.create(org_id=org_id, name=name)


def _contact(i: int) -> dict[str, object]:
    return Contact.create(id=f"c{i}", full_name=f"Person {i}", email=f"p{i}@example.de",
                          title="Admin").to_doc()


def test_crud_and_our_own_keys(store: Store) -> None:
    store.add_org(_org())
    with pytest.raises(ValidationError) as info:
        store.add_org(_org())
    assert "already registered" in info.value.errors["org_id"]
    updated = store.update_org(ORG, notes="call Anna", tags=["vip"])
    assert updated.notes == "call Anna" and updated.tags == ("vip",)
    assert store.get_org(ORG).notes == "call Anna"
    removed = store.remove_org(ORG)
    assert removed.name == "Acme GmbH"
    assert store.find_org(ORG) is None
    store.add_org(removed)  # undo is a plain re-add
    assert store.get_org(ORG) == updated


def test_update_validates_against_current_state(store: Store) -> None:
    store.add_org(_org())
    with pytest.raises(ValidationError) as info:
        store.update_org(ORG, instance_url="ftp://nope")
    assert "instance_url" in info.value.errors
    assert store.get_org(ORG).instance_url == ""


def test_duplicate_email_is_refused_with_a_pointer(store: Store) -> None:
    store.add_contact(Contact.create(full_name="Anna Huber", email="anna@x.de", title="CFO"))
    with pytest.raises(ValidationError) as info:
        store.add_contact(Contact.create(full_name="A. H.", email="ANNA@x.de", title="CFO"))
    assert "Anna Huber" in info.value.errors["email"]


def test_transaction_is_all_or_nothing(store: Store) -> None:
    store.add_org(_org())
    with pytest.raises(RuntimeError), store.transaction():
        store.update_org(ORG, notes="half")
        store.put_doc("contacts", _contact(1))
        raise RuntimeError("boom")
    assert store.get_org(ORG).notes == ""
    assert store.get_doc("contacts", "c1") is None
    reopened = Store.open(store.path)
    assert reopened.get_org(ORG).notes == "" and reopened.counts()["contacts"] == 0


def test_patch_keeps_concurrent_edits_of_other_fields(tmp_path: Path) -> None:
    a = Store.open(tmp_path / "s.json")
    b = Store.open(tmp_path / "s.json")
    a.add_org(_org())
    b.get_org(ORG)  # b has an older view cached
    a.update_org(ORG, notes="from a")
    b.update_org(ORG, tags=["from-b"])
    final = Store.open(tmp_path / "s.json").get_org(ORG)
    assert final.notes == "from a" and final.tags == ("from-b",)


def test_snapshots_keep_latest_and_history(store: Store) -> None:
    for i in range(25):
        store.save_snapshot(Snapshot(ORG, f"2026-11-{i % 28 + 1:02d}T00:00:00+00:00",
                                     checks=(Check("organization", "ok", "fine"),)))
    assert len(store.snapshot_history(ORG)) == store_module.HISTORY_LIMIT
    assert store.latest_snapshot(ORG).checks[0].reason == "fine"


def test_files_are_private(tmp_path: Path) -> None:
    os.umask(0o022)
    s = Store.open(tmp_path / "deep" / "dir" / "s.json")
    s.add_org(_org())
    assert stat.S_IMODE((tmp_path / "deep" / "dir").stat().st_mode) == 0o700
    assert stat.S_IMODE(s.path.stat().st_mode) == 0o600
    assert stat.S_IMODE(s.lock_path.stat().st_mode) == 0o600
    backup = s.backup("test")
    assert stat.S_IMODE(backup.stat().st_mode) == 0o600
    assert stat.S_IMODE(backup.parent.stat().st_mode) == 0o700


def test_loose_permissions_are_tightened_and_reported(tmp_path: Path) -> None:
    s = Store.open(tmp_path / "s.json")
    os.chmod(s.path, 0o644)
    again = Store.open(tmp_path / "s.json")
    assert stat.S_IMODE(again.path.stat().st_mode) == 0o600
    assert any("tightened" in w for w in again.warnings)


def test_leftover_temp_files_are_swept_at_open(tmp_path: Path) -> None:
    s = Store.open(tmp_path / "s.json")
    stray = tmp_path / ".s.json.abc123.tmp"
    stray.write_bytes(b'{"half": ')
    Store.open(tmp_path / "s.json")
    assert not stray.exists()
    assert s.path.exists()


@pytest.mark.parametrize("damage", ["truncated", "garbage", "empty", "wrong-shape", "binary"])
def test_corrupt_file_is_reported_and_left_byte_identical(tmp_path: Path, damage: str) -> None:
    path = tmp_path / "s.json"
    s = Store.open(path)
    for i in range(20):
        s.put_doc("contacts", _contact(i))
    s.backup("before-damage")
    good = path.read_bytes()
    bad = {
        "truncated": good[: len(good) // 2],
        "garbage": b"this is not json at all",
        "empty": b"",
        "wrong-shape": b"[1, 2, 3]",
        "binary": bytes(range(256)),
    }[damage]
    path.write_bytes(bad)
    before = path.stat()
    with pytest.raises(StoreCorruptError) as info:
        Store.open(path)
    message = info.value.describe()
    assert str(path) in message
    assert "left exactly as it is" in message
    assert "--read-only --db" in message  # the way on: look at the last backup
    assert path.read_bytes() == bad
    assert path.stat().st_mtime_ns == before.st_mtime_ns


def test_restore_keeps_the_damaged_file(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    s = Store.open(path)
    s.add_org(_org())
    backup = s.backup("manual")
    path.write_bytes(b"garbage")
    kept = restore_backup(path, backup)
    assert kept.read_bytes() == b"garbage"
    assert Store.open(path).get_org(ORG).name == "Acme GmbH"


def test_read_only_never_writes_or_creates(tmp_path: Path) -> None:
    with pytest.raises(store_module.StoreError):
        Store.open(tmp_path / "missing.json", read_only=True)
    assert not (tmp_path / "missing.json").exists()
    Store.open(tmp_path / "s.json").add_org(_org())
    ro = Store.open(tmp_path / "s.json", read_only=True)
    assert ro.get_org(ORG).name == "Acme GmbH"
    with pytest.raises(ReadOnlyError):
        ro.update_org(ORG, notes="x")
    assert Store.open(tmp_path / "s.json").get_org(ORG).notes == ""


def test_migration_backs_up_first(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "s.json"
    Store.open(path).add_org(_org())
    seen: list[int] = []
    now = store_module.schema.SCHEMA_VERSION

    def to_next(data: dict[str, dict[str, object]]) -> None:
        seen.append(len(list_backups(path)))  # the backup exists before we run
        for doc in data["orgs"].values():
            doc["notes"] = "migrated"  # type: ignore[index]

    monkeypatch.setattr(store_module.schema, "SCHEMA_VERSION", now + 1)
    monkeypatch.setitem(store_module.schema.MIGRATIONS, now, to_next)
    migrated = Store.open(path)
    assert seen == [1]
    assert migrated.schema_version() == now + 1
    assert migrated.get_org(ORG).notes == "migrated"
    backup = stored_tables(list_backups(path)[0])
    assert backup["meta"]["1"]["version"] == now
    monkeypatch.setattr(store_module.schema, "SCHEMA_VERSION", now)
    with pytest.raises(StoreNewerError):
        Store.open(path)
    assert Store.open(path, read_only=True).get_org(ORG).notes == "migrated"


# -- crash safety and concurrency --------------------------------------------------------------

def _writer(path: str, start: int, count: int, ack_fd: int, bulk: bool = False) -> None:
    s = Store.open(path)
    # One big document rewritten between the acknowledged ones: appends take long enough for
    # kills to land inside one, and the journal soon asks for new bases (temp file, rename).
    scratch = {**_contact(999_999_999), "notes": "x" * 100_000}
    for i in range(start, start + count):
        s.put_doc("contacts", _contact(i))
        if bulk and i % 2:
            s.put_doc("contacts", {**scratch, "title": str(i)})
        os.write(ack_fd, f"{i}\n".encode())
    os._exit(0)


def _first_ack(fd: int, timeout: float) -> list[int]:
    """Wait for the writer's first acknowledgement (one line) and return it."""
    data = b""
    deadline = time.monotonic() + timeout
    while b"\n" not in data:
        ready, _, _ = select.select([fd], [], [], max(0.0, deadline - time.monotonic()))
        if not ready:
            raise AssertionError(f"the writer acknowledged nothing in {timeout:.0f} s")
        chunk = os.read(fd, 1)
        if not chunk:
            break
        data += chunk
    return [int(x) for x in data.split()]


def _read_acks(fd: int) -> list[int]:
    chunks = []
    while True:
        data = os.read(fd, 65536)
        if not data:
            break
        chunks.append(data)
    return [int(x) for x in b"".join(chunks).split()]


@pytest.mark.slow
def test_sigkill_at_random_instants_loses_no_acknowledged_write(tmp_path: Path) -> None:
    """100 writers killed mid-flight: the store always opens with every acknowledged write."""
    ctx = multiprocessing.get_context("fork")
    path = tmp_path / "s.json"
    base = Store.open(path)
    base.put_many("contacts", [_contact(i) for i in range(1000, 1800)])  # writes take a while
    rng = random.Random(20261122)
    acked: set[int] = set()
    next_id = 0
    kills_mid_write = 0
    for _trial in range(100):
        r, w = os.pipe()
        proc = ctx.Process(target=_writer, args=(str(path), next_id, 10_000, w, True))
        proc.start()
        os.close(w)
        # The first write acknowledged, then a kill at a random instant: on a loaded machine
        # a writer could otherwise be killed before it wrote anything, and the trial says
        # nothing (each trial then adds at least one acknowledged write).
        first = _first_ack(r, timeout=30)
        time.sleep(rng.uniform(0.0, 0.08))
        os.kill(proc.pid, signal.SIGKILL)
        proc.join()
        acks = first + _read_acks(r)
        os.close(r)
        next_id += 10_000
        acked.update(acks)
        if any(p.name.endswith(".tmp") for p in tmp_path.iterdir()):
            kills_mid_write += 1  # killed between creating a new base's temp file and the rename
        elif not path.read_bytes().endswith(b"\n"):
            kills_mid_write += 1  # killed inside a journal append: an unterminated last line
        s = Store.open(path)  # must never raise StoreCorruptError
        ids = {doc["id"] for doc in s.all_docs("contacts")}
        missing = {f"c{i}" for i in acked} - ids
        assert not missing, f"lost acknowledged writes: {sorted(missing)[:5]}"
    assert len(acked) > 100  # the writers really wrote
    assert kills_mid_write > 0  # and some kills really landed inside a write
    print(f"acknowledged writes: {len(acked)}, kills inside a write: {kills_mid_write}/100")
    # Opening with the lock swept any temp file a killed writer left behind.
    Store.open(path)
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


@pytest.mark.slow
def test_two_processes_editing_lose_nothing(tmp_path: Path) -> None:
    ctx = multiprocessing.get_context("fork")
    path = tmp_path / "s.json"
    Store.open(path).add_org(_org())
    pipes = [os.pipe() for _ in range(2)]
    procs = [
        ctx.Process(target=_writer, args=(str(path), n * 1000, 200, pipes[n][1])) for n in range(2)
    ]
    for p in procs:
        p.start()
    for _, w in pipes:
        os.close(w)
    acks = [_read_acks(r) for r, _ in pipes]
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    assert [len(a) for a in acks] == [200, 200]
    s = Store.open(path)
    docs = s.all_docs("contacts")
    assert len(docs) == 400
    assert {d["id"] for d in docs} == {f"c{i}" for i in [*range(200), *range(1000, 1200)]}
    raw = stored_tables(path)
    assert len(raw["contacts"]) == 400  # distinct TinyDB doc ids: no overwrite by a stale id
    assert s.get_org(ORG).name == "Acme GmbH"


def test_tinydb_table_operations_still_work_on_the_fast_table(store: Store) -> None:
    """Our TinyDB table class edits in place; every stock operation must behave the same."""
    from tinydb import Query

    table = store._db.table("pushes")
    with store.transaction():
        ids = table.insert_multiple({"id": f"p{i}", "n": i} for i in range(5))
        table.update({"n": 99}, Query().id == "p1")
        table.remove(Query().n == 3)
        table.upsert({"id": "p9", "n": 9}, Query().id == "p9")
    assert sorted(d["n"] for d in store.all_docs("pushes")) == [0, 2, 4, 9, 99]
    assert ids == [1, 2, 3, 4, 5]
    with store.transaction():
        table.truncate()
    assert Store.open(store.path).all_docs("pushes") == []


# -- files that are not ours, odd paths, hand-edited stores (issue 15) ---------------------------

FOREIGN = b"root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1::/usr/sbin:/usr/sbin/nologin\n"


def _foreign(tmp_path: Path, name: str = "passwd") -> Path:
    path = tmp_path / name
    path.write_bytes(FOREIGN)
    os.chmod(path, 0o644)
    return path


def test_a_foreign_file_is_neither_chmodded_nor_locked(tmp_path: Path) -> None:
    path = _foreign(tmp_path)
    with pytest.raises(StoreCorruptError) as info:
        Store.open(path)
    assert "nothing was written" in info.value.describe()
    assert stat.S_IMODE(path.stat().st_mode) == 0o644
    assert path.read_bytes() == FOREIGN
    assert sorted(p.name for p in tmp_path.iterdir()) == ["passwd"]  # no passwd.lock


def test_the_deferred_open_touches_nothing_before_the_parse(tmp_path: Path) -> None:
    path = _foreign(tmp_path)
    store = Store.open(path, load=False)  # the TUI's cheap first step
    assert stat.S_IMODE(path.stat().st_mode) == 0o644
    assert sorted(p.name for p in tmp_path.iterdir()) == ["passwd"]
    with pytest.raises(StoreCorruptError):
        store.load()
    with pytest.raises(StoreCorruptError):
        store.add_org(_org())  # a write parses (and refuses) before it locks anything
    assert sorted(p.name for p in tmp_path.iterdir()) == ["passwd"]
    assert path.read_bytes() == FOREIGN


def test_loose_permissions_of_a_real_store_are_still_tightened_after_a_deferred_open(
        tmp_path: Path) -> None:
    Store.open(tmp_path / "s.json").add_org(_org())
    os.chmod(tmp_path / "s.json", 0o644)
    store = Store.open(tmp_path / "s.json", load=False)
    assert stat.S_IMODE((tmp_path / "s.json").stat().st_mode) == 0o644
    store.load()
    assert stat.S_IMODE((tmp_path / "s.json").stat().st_mode) == 0o600


def test_restore_refuses_a_target_that_is_not_a_store(tmp_path: Path) -> None:
    good = Store.open(tmp_path / "good" / "s.json")
    good.add_org(_org())
    backup = good.backup("manual")
    target = _foreign(tmp_path, "group")
    with pytest.raises(store_module.StoreError, match="not a juston-tui store"):
        restore_backup(target, backup)
    assert target.read_bytes() == FOREIGN
    assert sorted(p.name for p in tmp_path.iterdir()) == ["good", "group"]


def test_two_restores_in_one_second_keep_both_displaced_files(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    s = Store.open(path)
    s.add_org(_org())
    backup = s.backup("manual")
    path.write_bytes(b'{"orgs": {"1": ')  # damaged once
    first = restore_backup(path, backup)
    path.write_bytes(b'{"meta": garbage')  # and again, within the same second
    second = restore_backup(path, backup)
    assert first != second
    assert first.read_bytes() == b'{"orgs": {"1": '
    assert second.read_bytes() == b'{"meta": garbage'
    assert Store.open(path).get_org(ORG).name == "Acme GmbH"


def test_restore_is_one_atomic_replace(tmp_path: Path) -> None:
    """The displaced file is kept as the very same file (a second name), never moved away
    first: at no instant is there no store at the path."""
    path = tmp_path / "s.json"
    s = Store.open(path)
    s.add_org(_org())
    backup = s.backup("manual")
    path.write_bytes(b"damaged")
    inode = path.stat().st_ino
    kept = restore_backup(path, backup)
    assert kept.stat().st_ino == inode  # the old file itself, under its new name
    assert path.stat().st_ino != inode


def test_a_missing_store_beside_a_damaged_file_is_an_error_that_points_at_it(
        tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    kept = tmp_path / "s.json.damaged-20260101T000000Z"
    kept.write_bytes(b"damaged")
    for read_only in (False, True):
        with pytest.raises(store_module.StoreError) as info:
            Store.open(path, read_only=read_only)
        assert str(kept) in str(info.value)
    assert not path.exists()  # no silent empty store
    assert store_module.health(path).problem is not None
    assert str(kept) in str(store_module.health(path).problem)


def test_a_symlinked_store_is_written_through_to_its_target(tmp_path: Path) -> None:
    target = tmp_path / "real" / "store.json"
    Store.open(target).add_org(_org())
    link = tmp_path / "link.json"
    link.symlink_to(target)
    store = Store.open(link)
    store.update_org(ORG, notes="through the link")
    assert link.is_symlink()
    assert Store.open(target).get_org(ORG).notes == "through the link"
    assert store.backup("manual").exists()


def test_a_fifo_is_refused_with_one_line_instead_of_hanging(tmp_path: Path) -> None:
    import subprocess
    import sys

    fifo = tmp_path / "pipe.json"
    os.mkfifo(fifo)
    good = Store.open(tmp_path / "good" / "s.json")
    good.add_org(_org())
    backup = good.backup("manual")
    for argv in (["org", "list"], ["--read-only", "org", "list"], ["doctor"],
                 ["db", "restore", str(backup)], ["db", "restore", str(fifo)]):
        proc = subprocess.run([sys.executable, "-m", "juston_tui", "--db", str(fifo), *argv],
                              capture_output=True, text=True, timeout=60,
                              env={**os.environ, "PYTHON_KEYRING_BACKEND":
                                   "keyring.backends.null.Keyring"})
        assert "Traceback" not in proc.stderr, (argv, proc.stderr)
        if argv[0] == "doctor":
            assert proc.returncode == 1 and "not a regular file" in proc.stdout
        else:
            assert proc.returncode == 2, (argv, proc.stdout, proc.stderr)
            assert "not a regular file" in proc.stderr, (argv, proc.stderr)
            assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert stat.S_ISFIFO(fifo.stat().st_mode)


def _hand_edit(path: Path, edit: object) -> None:
    data = stored_tables(path)
    edit(data)  # type: ignore[operator]
    path.write_bytes(orjson.dumps(data))


def _first(data: dict[str, dict[str, dict[str, object]]], table: str) -> dict[str, object]:
    return next(iter(data[table].values()))


@pytest.mark.parametrize(("edit", "where"), [
    (lambda d: _first(d, "meta").update(version=0), "schema version 0"),
    (lambda d: _first(d, "meta").update(version="abc"), "schema version 'abc'"),
    (lambda d: _first(d, "orgs").update(tags="abc"), f"orgs {ORG}: tags"),
    (lambda d: _first(d, "orgs").update(push="zzz"), f"orgs {ORG}: push"),
    (lambda d: _first(d, "contacts").update(email=None), "contacts c1: email"),
    (lambda d: _first(d, "contacts").update(org_ids="00D"), "contacts c1: org_ids"),
    (lambda d: _first(d, "orgs").pop("org_id"), "orgs document 1: no org_id"),
    (lambda d: d["pushes"].update({"1": {"id": "p1", "start_utc": "soon"}}),
     "pushes p1: start_utc"),
])
def test_a_hand_edited_store_names_its_first_bad_document(tmp_path: Path, edit: object,
                                                          where: str) -> None:
    path = tmp_path / "s.json"
    s = Store.open(path)
    s.add_org(_org())
    s.put_doc("contacts", _contact(1))
    _hand_edit(path, edit)
    before = path.read_bytes()
    with pytest.raises(StoreCorruptError) as info:
        Store.open(path)
    assert where in info.value.detail
    assert path.read_bytes() == before
    with pytest.raises(StoreCorruptError):
        Store.open(path, read_only=True)


@pytest.mark.parametrize("table", ["orgs", "contacts", "meta"])
def test_hand_edited_stores_are_one_clear_error_in_the_cli(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], table: str) -> None:
    from juston_tui.cli import main

    path = tmp_path / "s.json"
    s = Store.open(path)
    s.add_org(_org())
    s.put_doc("contacts", _contact(1))
    _hand_edit(path, {"orgs": lambda d: _first(d, "orgs").update(push="zzz"),
                      "contacts": lambda d: _first(d, "contacts").update(email=None),
                      "meta": lambda d: _first(d, "meta").update(version="abc")}[table])
    for argv in (["org", "list"], ["contacts", "list"], ["status"]):
        code = main(["--db", str(path), "--keyring", "memory", *argv])
        err = capsys.readouterr().err
        assert code == 2, argv
        assert err.startswith("juston-tui: error: The store") and table in err
        assert "Traceback" not in err


def test_a_write_error_names_the_store_file(tmp_path: Path) -> None:
    """A full disk (here: a file size limit, the same failing write) names the file."""
    import subprocess
    import sys

    path = tmp_path / "s.json"
    Store.open(path).add_org(_org())
    script = (
        "import resource, signal, sys\n"
        "signal.signal(signal.SIGXFSZ, signal.SIG_IGN)\n"
        "resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))\n"
        "from juston_tui.cli import main\n"
        "sys.exit(main(sys.argv[1:]))\n"
    )
    proc = subprocess.run([sys.executable, "-c", script, "--db", str(path), "org", "edit",
                           ORG, "--notes", "x" * 20_000], capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 2
    assert str(path) in proc.stderr and "Traceback" not in proc.stderr
    assert "File too large" in proc.stderr
    assert Store.open(path).get_org(ORG).notes == ""  # the old store is intact
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_only_a_file_we_did_not_write_last_is_shape_checked(tmp_path: Path) -> None:
    """The lock file records our last write: that exact file is not checked again (a 10k+10k
    store parses in half the time); the same bytes written by anyone else are checked."""
    path = tmp_path / "s.json"
    s = Store.open(path)
    s.add_org(_org())
    s.put_doc("contacts", {"id": "c9", "email": None})  # a bug of ours would slip through...
    assert Store.open(path).get_doc("contacts", "c9") == {"id": "c9", "email": None}
    path.write_bytes(path.read_bytes())  # ...but not once anything else has written the file
    with pytest.raises(StoreCorruptError, match="contacts c9: email is null"):
        Store.open(path)
