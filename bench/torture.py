#!/usr/bin/env python3
"""Torture: crashes, concurrent editors, and random org faults during sweeps (CLI core and UI).

    python bench/torture.py                      # 500 kills, 1,000 fault steps (a few minutes)
    python bench/torture.py --quick              # 50 kills, 200 fault steps (what CI runs)
    python bench/torture.py --restore-kills 300 --trickle-sweeps 0 --kills 0
    python bench/torture.py --kills 100 --fault-steps 0 --seed 7

What must hold, or the run fails (exit 1) with what broke:
- kills: a store writer SIGKILLed at random instants (mixed writes: single documents, field
  patches and multi-document transactions) never leaves a store that fails to open, and every
  write it acknowledged is there afterwards;
- sweep kills: a batched sweep SIGKILLed at random instants loses no snapshot whose batch it
  acknowledged, and has at most one batch on disk it had not acknowledged yet;
- editors: two processes writing at once lose nothing, also when both change different
  fields of the same org (a watcher sees no field go back to an older value);
- faults: a random sequence of simulator faults (latency, hang, expire_session,
  limit_exceeded, server_error, malformed, trickle, redirect) injected while sweeps run,
  with a second writer editing the same store: no unhandled exception, every org ends with
  a verdict or a clear one-line error, every snapshot is saved and every acknowledged edit
  survives;
- migration: the schema 1 -> 2 migration (snapshots out of the store file) SIGKILLed at random
  instants: the file is the old one or the migrated one, and after the next open every org,
  contact, snapshot and history entry is there, none doubled;
- restores: `db restore` SIGKILLed at random instants: a store is at the path after every kill
  and opens (the old one or the restored one), and every file a restore displaced is kept, a
  readable store under its own `.damaged-*` name;
- trickle: sweeps where some orgs send their answers one byte at a time: every sweep ends
  within its per-org budget (plus the time to notice), those orgs with "timed out";
- pilot: the same faults while the registry screen's "check all" (`R`) runs under Textual's
  Pilot: the app keeps running, no worker fails, every row ends with a verdict or an error.

Figures and times are printed; `run(argv)` returns them as a dict (tests/test_torture.py).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import multiprocessing
import os
import random
import select
import shutil
import signal
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from juston_tui.model import CHECK_IDS, Contact, Org
from juston_tui.store import Store

ORG = "00D5g000004Xyz1EAC"
VERDICTS = ("ok", "warn", "fail", "unknown")


class TortureFailure(AssertionError):
    """A promise broke: a lost write, a store that does not open, an unhandled exception."""


def check(condition: object, message: str) -> None:
    if not condition:
        raise TortureFailure(message)


def _contact(key: str) -> dict[str, Any]:
    return Contact.create(id=key, full_name=f"Person {key}", email=f"{key}@example.de",
                          title="Admin").to_doc()


# -- 1. random SIGKILLs of a store writer --------------------------------------------------------

def _kill_writer(path: str, start: int, ack_fd: int) -> None:
    """Write forever in a mix of shapes, acknowledging each write after it returned; `b `
    before each write says one has begun (a kill after it and before the ack landed inside)."""
    store = Store.open(path)
    i = start
    while True:
        os.write(ack_fd, b"b ")
        shape = i % 7
        if shape == 3:  # a multi-document transaction
            with store.transaction():
                store.put_doc("pushes", {"id": f"p{i}", "start_utc": "2027-01-23T00:00:00Z",
                                         "n": i})
                store.put_doc("contacts", _contact(f"c{i}"))
                store.patch_doc("orgs", ORG, {"notes": f"n{i}"})
            os.write(ack_fd, f"t{i}\n".encode())
        elif shape == 5:  # a field patch of one org
            store.update_org(ORG, notes=f"n{i}")
            os.write(ack_fd, f"n{i}\n".encode())
        elif shape == 6:  # one big document: long appends, and the journal soon asks for a base
            store.put_doc("contacts", {**_contact("scratch"), "notes": "x" * 100_000,
                                       "title": str(i)})
        else:
            store.put_doc("contacts", _contact(f"c{i}"))
            os.write(ack_fd, f"c{i}\n".encode())
        i += 1


def _read_all(fd: int) -> bytes:
    chunks = []
    while chunk := os.read(fd, 65536):
        chunks.append(chunk)
    return b"".join(chunks)


def _kill_at_random(ctx: Any, target: Callable[..., None], args: tuple[Any, ...],
                    rng: random.Random, *, after_first_ack: bool = False,
                    max_delay: float = 0.08) -> list[bytes]:
    """Start `target(*args, ack_fd)` in a child, SIGKILL it 0-80 ms (`max_delay`) later; its
    acknowledgements.

    `after_first_ack`: the 0-80 ms start once the child acknowledged its first write, so a
    loaded machine (a child still opening the store) cannot make a trial without any write.
    """
    r, w = os.pipe()
    proc = ctx.Process(target=target, args=(*args, w), daemon=True)
    proc.start()
    os.close(w)
    first = b""
    if after_first_ack:
        deadline = time.monotonic() + 30
        while b"\n" not in first and time.monotonic() < deadline:
            ready, _, _ = select.select([r], [], [], max(0.0, deadline - time.monotonic()))
            chunk = os.read(r, 1) if ready else b""
            if not chunk:
                break
            first += chunk
    time.sleep(rng.uniform(0.0, max_delay))
    os.kill(proc.pid, signal.SIGKILL)
    proc.join()
    acks = (first + _read_all(r)).split()
    os.close(r)
    return acks


def kill_trials(folder: Path, kills: int, seed: int, *,
                log: Callable[[str], None] = print) -> dict[str, Any]:
    ctx = multiprocessing.get_context("fork")
    path = folder / "kills.json"
    base = Store.open(path)
    base.add_org(Org.create(org_id=ORG, name="Kill Target GmbH"))
    base.put_many("contacts", [_contact(f"base{i}") for i in range(800)])  # writes take a while
    base.close()
    rng = random.Random(seed)
    contacts: set[str] = set()
    pushes: set[str] = set()
    last_note = -1
    next_id = 0
    mid_write = left_temp = unterminated = 0
    open_ms: list[float] = []
    started = time.perf_counter()
    for trial in range(kills):
        acks = _kill_at_random(ctx, _kill_writer, (str(path), next_id), rng,
                               after_first_ack=True)
        next_id += 1_000_000
        if acks and acks[-1] == b"b":
            mid_write += 1  # killed after a write began, before it was acknowledged
        if any(p.name.endswith(".tmp") for p in folder.iterdir()):
            left_temp += 1  # killed between creating a new base's temp file and the rename
        elif not path.read_bytes().endswith(b"\n"):
            unterminated += 1  # killed inside a journal append: an unterminated last line
        for ack in acks:
            if ack == b"b":
                continue
            kind, number = ack[:1], int(ack[1:])
            if kind == b"c":
                contacts.add(f"c{number}")
            elif kind == b"n":
                last_note = max(last_note, number)
            else:
                contacts.add(f"c{number}")
                pushes.add(f"p{number}")
                last_note = max(last_note, number)
        t0 = time.perf_counter()
        try:
            store = Store.open(path)
        except Exception as exc:
            raise TortureFailure(f"trial {trial}: the store does not open after a kill: "
                                 f"{type(exc).__name__}: {exc}") from exc
        open_ms.append((time.perf_counter() - t0) * 1000)
        have_contacts = {d["id"] for d in store.all_docs("contacts")}
        have_pushes = {d["id"] for d in store.all_docs("pushes")}
        lost = (contacts - have_contacts) | (pushes - have_pushes)
        check(not lost, f"trial {trial}: lost acknowledged writes {sorted(lost)[:5]}")
        note = store.get_org(ORG).notes
        note_index = int(note[1:]) if note else -1
        check(note_index >= last_note,
              f"trial {trial}: org notes went back to {note!r} after n{last_note} was acked")
        store.close()
    Store.open(path).close()  # opening under the lock sweeps a killed writer's temp file
    leftovers = [p.name for p in folder.iterdir() if p.name.endswith(".tmp")]
    check(not leftovers, f"temp files left after a clean open: {leftovers}")
    check(len(contacts) > kills, "the writers acknowledged almost nothing: the trial is void")
    elapsed = time.perf_counter() - started
    figures = {
        "kills": kills,
        "acknowledged_writes": len(contacts) + len(pushes),
        "kills_inside_a_write": mid_write,
        "kills_leaving_a_temp_file": left_temp,
        "kills_leaving_an_unterminated_line": unterminated,
        "open_after_kill_ms_median": round(statistics.median(open_ms), 2),
        "open_after_kill_ms_max": round(max(open_ms), 2),
        "seconds": round(elapsed, 2),
    }
    log(f"kills: {kills} SIGKILLs, {figures['acknowledged_writes']} acknowledged writes all "
        f"present, {mid_write} kills landed inside a write ({left_temp} left a new base's temp "
        f"file, {unterminated} an unfinished journal line), store opened every time "
        f"(median {figures['open_after_kill_ms_median']} ms, max "
        f"{figures['open_after_kill_ms_max']} ms); {elapsed:.1f} s")
    return figures


# -- 1b. random SIGKILLs of a batched sweep ----------------------------------------------------

SWEEP_KILL_ORGS = 4000


def _sweep_kill_writer(path: str, trial: int, ack_fd: int) -> None:
    """A sweep of quick fake orgs saving in small batches; acknowledges each batch on disk."""
    import types

    from juston_tui.credentials import open_credentials
    from juston_tui.model import Snapshot
    from juston_tui.salesforce import sweeper
    from juston_tui.simulator.ids import make_org_id

    def probe(org: Any, credentials: Any, **kwargs: Any) -> Snapshot:
        time.sleep(0.001)
        return Snapshot(org.org_id, "2026-12-01T12:00:00Z", (), None, {})

    def acknowledge(batch: list[Snapshot]) -> None:
        os.write(ack_fd, "".join(f"{s.org_id}\n" for s in batch).encode())

    sweeper.probe_org = probe  # type: ignore[assignment]  # no network: the saving is tested
    sweeper.SAVE_INTERVAL = 0.02  # many batches, so kills land before, inside and after writes
    store = Store.open(path)
    orgs = [types.SimpleNamespace(org_id=make_org_id(f"sweep-kill-{trial}-{i}"))
            for i in range(SWEEP_KILL_ORGS)]
    sweeper.sweep(orgs, open_credentials("memory"), concurrency=4, store=store,  # type: ignore[arg-type]
                  on_saved=acknowledge)
    os.write(ack_fd, b"END\n")


def sweep_kills(folder: Path, kills: int, seed: int, *,
                log: Callable[[str], None] = print) -> dict[str, Any]:
    """SIGKILL batched sweeps at random instants: every acknowledged snapshot is on disk, and
    what is on disk beyond the acknowledged is at most the batch being written."""
    from juston_tui.salesforce.sweeper import SAVE_BATCH

    ctx = multiprocessing.get_context("fork")
    rng = random.Random(seed)
    acknowledged = 0
    unacknowledged_on_disk: list[int] = []
    finished = 0
    started = time.perf_counter()
    for trial in range(kills):
        path = folder / f"sweep-{trial}.json"
        Store.open(path).close()
        acks = _kill_at_random(ctx, _sweep_kill_writer, (str(path), trial), rng,
                               after_first_ack=True, max_delay=0.4)
        if b"END" in acks:
            finished += 1
        acked = {a.decode() for a in acks if a != b"END"}
        try:
            store = Store.open(path, read_only=True)
        except Exception as exc:
            raise TortureFailure(f"sweep kill {trial}: the store does not open after a kill: "
                                 f"{type(exc).__name__}: {exc}") from exc
        try:
            on_disk = set(store.all_snapshots())
        finally:
            store.close()
        lost = acked - on_disk
        check(not lost, f"sweep kill {trial}: lost {len(lost)} acknowledged snapshots, e.g. "
              f"{sorted(lost)[:3]}")
        extra = len(on_disk - acked)
        check(extra <= SAVE_BATCH, f"sweep kill {trial}: {extra} snapshots on disk were never "
              f"acknowledged (more than one batch of {SAVE_BATCH})")
        acknowledged += len(acked)
        unacknowledged_on_disk.append(extra)
        for leftover in folder.glob(f"sweep-{trial}.json*"):  # the store, its lock, snapshots
            if leftover.is_dir():
                shutil.rmtree(leftover)
            else:
                leftover.unlink()
    # Each trial waits for its first acknowledged batch (a single snapshot: the first result is
    # saved at once), so a loaded machine can give one a trial and no more.
    check(acknowledged >= kills, "the sweeps acknowledged almost nothing: the trial is void")
    elapsed = time.perf_counter() - started
    figures = {
        "sweep_kills": kills,
        "acknowledged_snapshots": acknowledged,
        "lost": 0,
        "on_disk_unacknowledged_max": max(unacknowledged_on_disk, default=0),
        "sweeps_finished_before_the_kill": finished,
        "seconds": round(elapsed, 2),
    }
    log(f"sweep kills: {kills} SIGKILLs of batched sweeps, {acknowledged} acknowledged "
        f"snapshots all present (0 lost), at most {figures['on_disk_unacknowledged_max']} "
        f"saved but not yet acknowledged; {elapsed:.1f} s")
    return figures


# -- 2. two concurrent editors ------------------------------------------------------------------

def _editor(path: str, who: str, count: int, ack_fd: int) -> None:
    store = Store.open(path)
    for i in range(count):
        store.put_doc("contacts", _contact(f"{who}{i}"))
        if who == "a":
            store.update_org(ORG, notes=f"a{i}")
        else:
            store.update_org(ORG, tags=[f"b{i}"])
        os.write(ack_fd, f"{i}\n".encode())
    os._exit(0)


def concurrent_editors(folder: Path, writes: int, *,
                       log: Callable[[str], None] = print) -> dict[str, Any]:
    ctx = multiprocessing.get_context("fork")
    path = folder / "editors.json"
    Store.open(path).add_org(Org.create(org_id=ORG, name="Shared Org AG"))
    pipes = {who: os.pipe() for who in ("a", "b")}
    started = time.perf_counter()
    procs = {who: ctx.Process(target=_editor, args=(str(path), who, writes, pipes[who][1]))
             for who in ("a", "b")}
    for proc in procs.values():
        proc.start()
    for _, w in pipes.values():
        os.close(w)
    # Watch from a third process's point of view: neither field may ever go back in time.
    seen = {"notes": -1, "tags": -1}
    regressions: list[str] = []
    reads = 0
    while any(p.is_alive() for p in procs.values()):
        org = Store.open(path, read_only=True).get_org(ORG)
        reads += 1
        now = {"notes": int(org.notes[1:]) if org.notes else -1,
               "tags": int(org.tags[0][1:]) if org.tags else -1}
        for key, value in now.items():
            if value < seen[key]:
                regressions.append(f"{key} went from {seen[key]} back to {value}")
            seen[key] = max(seen[key], value)
        time.sleep(0.002)
    acks = {who: _read_all(r).split() for who, (r, _) in pipes.items()}
    for who, proc in procs.items():
        proc.join(60)
        check(proc.exitcode == 0, f"editor {who} failed (exit {proc.exitcode})")
    elapsed = time.perf_counter() - started
    for r, _ in pipes.values():
        os.close(r)
    check(all(len(a) == writes for a in acks.values()), f"missing acks: {acks}")
    check(not regressions, f"an edit was lost: {regressions[:3]}")
    store = Store.open(path)
    ids = {d["id"] for d in store.all_docs("contacts")}
    expected = {f"{who}{i}" for who in ("a", "b") for i in range(writes)}
    check(ids == expected, f"lost contacts: {sorted(expected - ids)[:5]}")
    final = store.get_org(ORG)
    check(final.notes == f"a{writes - 1}" and final.tags == (f"b{writes - 1}",),
          f"the two editors' fields did not both survive: notes={final.notes!r} "
          f"tags={final.tags!r}")
    figures = {"writes_per_editor": writes * 2, "watcher_reads": reads,
               "seconds": round(elapsed, 2),
               "writes_per_second": round(writes * 4 / elapsed, 1)}
    log(f"editors: 2 processes x {writes * 2} writes (contacts + different fields of one org), "
        f"nothing lost, no field went back in {reads} reads; {elapsed:.1f} s "
        f"({figures['writes_per_second']} writes/s)")
    return figures


# -- 2b. db restore killed at random instants -----------------------------------------------------

def _schema_1_store(n_orgs: int) -> tuple[bytes, dict[str, dict[str, Any]]]:
    """A store as schema 1 wrote it (snapshots and their history inside), and its snapshots."""
    from juston_tui.model import normalize_org_id

    orgs, contacts, snapshots = {}, {}, {}
    for i in range(n_orgs):
        oid = normalize_org_id(f"00D{i:012d}")
        orgs[str(i + 1)] = Org.create(org_id=oid, name=f"Migrated {i} GmbH").to_doc()
        contacts[str(i + 1)] = _contact(f"m{i}")
        history = [{"checked_at": f"2026-11-{day:02d}T06:00:00Z", "verdict": "ok", "error": None,
                    "verdicts": {"package.billing": "ok"}} for day in range(20, 15, -1)]
        snapshots[str(i + 1)] = {
            "org_id": oid, "checked_at": history[0]["checked_at"], "error": None,
            "checks": [{"id": "package.billing", "verdict": "ok", "reason": "2.80.2",
                        "detail": "x" * 400}],
            "facts": {"organization": {"instance": f"EU{i % 60}"}}, "history": history}
    data = {"meta": {"1": {"key": "schema", "version": 1}}, "orgs": orgs, "contacts": contacts,
            "checklist": {}, "pushes": {}, "snapshots": snapshots, "push_plans": {},
            "push_audit": {}}
    import orjson

    return orjson.dumps(data), {d["org_id"]: d for d in snapshots.values()}


def _migrator(path: str, ack_fd: int) -> None:
    os.write(ack_fd, b"start\n")  # the kill is timed from here: inside the migration
    Store.open(path).close()
    os.write(ack_fd, b"migrated\n")
    os._exit(0)


def migration_kills(folder: Path, kills: int, seed: int, *, n_orgs: int = 1500,
                    log: Callable[[str], None] = print) -> dict[str, Any]:
    """SIGKILL the schema 1 -> 2 migration at random instants: the store file is the old one
    byte for byte or the migrated one, and once a later open has finished the migration every
    org, contact, snapshot and history entry is there, none doubled."""
    from juston_tui.store import SCHEMA_VERSION
    from juston_tui.store.shape import schema_version_of

    ctx = multiprocessing.get_context("fork")
    old, snapshots = _schema_1_store(n_orgs)
    rng = random.Random(seed)
    probe = folder / "probe"
    probe.mkdir()
    (probe / "store.json").write_bytes(old)
    r, w = os.pipe()  # one migration in a child, as the trials run it: how long it takes there
    child = ctx.Process(target=_migrator, args=(str(probe / "store.json"), w), daemon=True)
    child.start()
    os.close(w)
    with os.fdopen(r, "rb") as pipe:
        pipe.readline()
        t0 = time.perf_counter()
        pipe.readline()
        duration = time.perf_counter() - t0
    child.join()
    mid = 0
    started = time.perf_counter()
    for trial in range(kills):
        place = folder / f"t{trial}"
        place.mkdir()
        path = place / "store.json"
        path.write_bytes(old)
        acks = _kill_at_random(ctx, _migrator, (str(path),), rng, after_first_ack=True,
                               max_delay=duration)
        import orjson

        from juston_tui.store.shape import parse_store

        if b"migrated" not in acks:
            mid += 1
        payload = path.read_bytes()
        version = schema_version_of(parse_store(path, payload, check_shape=False)["meta"])
        check(version == SCHEMA_VERSION or payload == old,
              f"trial {trial}: the store is neither the old file nor a migrated one")
        store = Store.open(path)  # finishes the migration if the kill came first
        check(len(store.org_docs()) == n_orgs and len(store.contact_docs()) == n_orgs,
              f"trial {trial}: orgs or contacts lost in the migration")
        docs = {d["org_id"]: d for d in store.iter_snapshot_docs()}
        check(set(docs) == set(snapshots), f"trial {trial}: {len(set(snapshots) - set(docs))} "
              "orgs' snapshots lost in the migration")
        for oid in rng.sample(sorted(snapshots), 25):
            check(docs[oid]["checked_at"] == snapshots[oid]["checked_at"],
                  f"trial {trial}: {oid}'s latest snapshot changed")
            check(store.snapshot_history(oid) == snapshots[oid]["history"],
                  f"trial {trial}: {oid}'s history lost or doubled in the migration")
        check("snapshots" not in orjson.loads(path.read_bytes().split(b"\n")[0]),
              f"trial {trial}: the migrated store file still holds the snapshots")
        store.close()
        leftovers = [t.name for t in place.rglob("*.tmp")]
        check(not leftovers, f"trial {trial}: temp files left after the next open: {leftovers[:3]}")
        shutil.rmtree(place)
    elapsed = time.perf_counter() - started
    figures = {"kills": kills, "orgs": n_orgs, "kills_inside_the_migration": mid,
               "migration_s": round(duration, 2), "lost": 0, "seconds": round(elapsed, 2)}
    log(f"migration kills: {kills} SIGKILLs during the schema 1 -> 2 migration of {n_orgs} "
        f"orgs ({duration:.2f} s each), {mid} inside it; every org, contact, snapshot and "
        f"history entry there afterwards, none doubled; {elapsed:.1f} s")
    return figures


def _restorer(path: str, backups: list[str], ack_fd: int) -> None:
    """Restore the two backups in turn forever, acknowledging each finished restore."""
    from juston_tui.store import restore_backup

    i = 0
    while True:
        kept = restore_backup(Path(path), Path(backups[i % 2]))
        os.write(ack_fd, f"{kept.name}\n".encode())
        i += 1


def restore_kills(folder: Path, kills: int, seed: int, *,
                  log: Callable[[str], None] = print) -> dict[str, Any]:
    from juston_tui.store import damaged_beside

    ctx = multiprocessing.get_context("fork")
    path = folder / "restore.json"
    store = Store.open(path)
    store.add_org(Org.create(org_id=ORG, name="Restore Target GmbH", notes="original"))
    store.put_many("contacts", [_contact(f"r{i}") for i in range(200)])
    backups = []
    for note in ("a", "b"):
        store.update_org(ORG, notes=note)
        backups.append(str(store.backup(f"restore-{note}")))
    store.update_org(ORG, notes="original")
    store.close()
    rng = random.Random(seed)
    restores = kept_files = 0
    started = time.perf_counter()
    for trial in range(kills):
        acked = _kill_at_random(ctx, _restorer, (str(path), backups), rng)
        restores += len(acked)
        check(path.exists(), f"trial {trial}: no store at the path after a kill mid-restore")
        try:
            notes = Store.open(path).get_org(ORG).notes
        except Exception as exc:
            raise TortureFailure(f"trial {trial}: the store does not open after a kill in a "
                                 f"restore: {type(exc).__name__}: {exc}") from exc
        check(notes in ("original", "a", "b"), f"trial {trial}: the store holds {notes!r}")
        kept = damaged_beside(path)
        names = {p.name for p in kept}
        lost = [a.decode() for a in acked if a.decode() not in names]
        check(not lost, f"trial {trial}: displaced files not kept: {lost[:3]}")
        for item in kept:  # every displaced file is a whole store, not half of one
            try:
                Store.open(item, read_only=True).get_org(ORG)
            except Exception as exc:
                raise TortureFailure(f"trial {trial}: the kept file {item.name} is not a "
                                     f"readable store: {exc}") from exc
            item.unlink()  # checked: keep the folder small
        kept_files += len(kept)
    elapsed = time.perf_counter() - started
    check(restores > kills // 2, "the restores acknowledged almost nothing: the trial is void")
    figures = {"kills": kills, "acknowledged_restores": restores,
               "displaced_files_kept": kept_files, "seconds": round(elapsed, 2)}
    log(f"restores: {kills} SIGKILLs during db restore, {restores} acknowledged restores, a store "
        f"at the path after every kill, {kept_files} displaced files kept (each a readable "
        f"store); {elapsed:.1f} s")
    return figures


# -- 3. random simulator faults during sweeps ---------------------------------------------------

class _Problems(logging.Handler):
    """Collects logged exceptions and uncaught thread exceptions: each one is a failure."""

    def __init__(self) -> None:
        super().__init__(level=logging.ERROR)
        self.items: list[str] = []
        self._old_hook = threading.excepthook

    def emit(self, record: logging.LogRecord) -> None:
        self.items.append(f"{record.name}: {record.getMessage()}")

    def __enter__(self) -> _Problems:
        logging.getLogger("juston_tui").addHandler(self)

        def hook(args: threading.ExceptHookArgs) -> None:
            self.items.append(f"thread {args.thread.name if args.thread else '?'}: "
                              f"{args.exc_type.__name__}: {args.exc_value}")

        threading.excepthook = hook
        return self

    def __exit__(self, *exc: object) -> None:
        logging.getLogger("juston_tui").removeHandler(self)
        threading.excepthook = self._old_hook


class FaultLab:
    """The simulator, its orgs registered with all four auth methods, and the fault dice."""

    METHODS = ("token", "password", "jwt", "client-credentials")

    def __init__(self, folder: Path, seed: int, *, max_hang: float, extra_orgs: int = 16) -> None:
        from juston_tui.credentials import open_credentials
        from juston_tui.salesforce.connection import required_secrets
        from juston_tui.simulator import FAULT_KINDS, Simulator

        self.kinds = FAULT_KINDS
        self.rng = random.Random(seed)
        self.max_hang = max_hang
        self.sim = Simulator(scenario_set="demo").start()
        for i in range(extra_orgs):  # more healthy orgs, so faults hit a minority per sweep
            self.sim.make_org("healthy", 100 + i)
        self.credentials = open_credentials("memory")
        self.path = folder / "faults.json"
        store = Store.open(self.path)
        self.orgs: list[Org] = []
        for i, so in enumerate(o for o in self.sim.orgs if o.scenario != "vendor"):
            method = self.METHODS[i % len(self.METHODS)]
            org = Org.create(org_id=so.org_id, name=so.name, kind=so.kind,
                             instance_url=self.sim.url, ca_bundle=self.sim.ca_path,
                             auth_method=method, username=so.username,
                             consumer_key=so.consumer_key)
            for kind in required_secrets(method):
                value = so.private_key_pem if kind == "private_key" else getattr(so, kind)
                self.credentials.set(org.org_id, kind, value)
            store.add_org(org)
            self.orgs.append(org)
        store.close()
        self.applied: Counter[str] = Counter()

    def step(self) -> None:
        """One random fault on one random org."""
        org = self.rng.choice(self.orgs)
        kind = self.rng.choice(self.kinds)
        count = self.rng.randint(1, 3)
        seconds = None
        if kind == "latency":
            seconds = self.rng.uniform(0.02, 0.4)
        elif kind == "hang":
            seconds = self.rng.uniform(0.1, self.max_hang)
        self.sim.set_fault(org.org_id, kind, count=count, seconds=seconds)
        self.applied[kind] += 1

    def inject(self, steps: int, stop: threading.Event) -> threading.Thread:
        """Apply `steps` faults from another thread, spread over the time a sweep takes."""

        def run() -> None:
            for _ in range(steps):
                self.step()
                stop.wait(self.rng.uniform(0.0, 0.03))

        thread = threading.Thread(target=run, name="fault-injector", daemon=True)
        thread.start()
        return thread

    def close(self) -> None:
        self.sim.stop()


def check_snapshot(snapshot: Any, where: str) -> str:
    """A verdict for every check, or a clear one-line error; returns 'error' or the verdict."""
    if snapshot.error:
        error = str(snapshot.error)
        check("\n" not in error and "Traceback" not in error and len(error) >= 10,
              f"{where}: unclear error {error!r}")
        check("internal error" not in error, f"{where}: a probe raised: {error!r}")
        check(all(c.verdict == "unknown" for c in snapshot.checks),
              f"{where}: error {error!r} but checks with verdicts")
        return "error"
    ids = [c.id for c in snapshot.checks]
    check(sorted(ids) == sorted(CHECK_IDS), f"{where}: checks {ids}")
    for c in snapshot.checks:
        check(c.verdict in VERDICTS and c.reason, f"{where}: check {c.id} has no verdict")
    return str(snapshot.verdict)


def _error_family(error: str) -> str:
    return " ".join(error.split(":")[0].split()[:4])


def fault_storm(folder: Path, steps: int, seed: int, *, per_sweep: int = 25,
                timeout: float = 1.5, log: Callable[[str], None] = print) -> dict[str, Any]:
    from juston_tui.salesforce.sweeper import sweep

    lab = FaultLab(folder, seed, max_hang=timeout * 1.25)
    editor_store = Store.open(lab.path)  # a second writer: a person editing during the sweep
    acked_notes: dict[str, str] = {}
    acked_contacts: list[str] = []
    outcomes: Counter[str] = Counter()
    errors: Counter[str] = Counter()
    sweeps = 0
    sweep_seconds: list[float] = []
    started = time.perf_counter()
    edit_rng = random.Random(seed + 1)
    try:
        with _Problems() as problems:
            remaining = steps
            while remaining > 0:
                quota = min(per_sweep, remaining)
                remaining -= quota
                stop = threading.Event()
                injector = lab.inject(quota, stop)
                editing = threading.Event()

                def edit(n: int = sweeps, stop_editing: threading.Event = editing) -> None:
                    i = 0
                    while not stop_editing.is_set():
                        org = edit_rng.choice(lab.orgs)
                        note = f"sweep {n} edit {i}"
                        editor_store.update_org(org.org_id, notes=note)
                        acked_notes[org.org_id] = note
                        key = f"s{n}e{i}"
                        editor_store.put_doc("contacts", _contact(key))
                        acked_contacts.append(key)
                        i += 1
                        stop_editing.wait(0.01)

                editor = threading.Thread(target=edit, name="editor", daemon=True)
                editor.start()
                store = Store.open(lab.path)
                t0 = time.perf_counter()
                snapshots = sweep(lab.orgs, lab.credentials, concurrency=8, timeout=timeout,
                                  store=store)
                sweep_seconds.append(time.perf_counter() - t0)
                injector.join()
                lab.sim.clear_faults()  # each sweep meets the faults injected while it ran
                editing.set()
                editor.join()
                sweeps += 1
                check(len(snapshots) == len(lab.orgs),
                      f"sweep {sweeps}: {len(snapshots)} of {len(lab.orgs)} orgs came back")
                for snap in snapshots:
                    outcome = check_snapshot(snap, f"sweep {sweeps} org {snap.org_id}")
                    outcomes[outcome] += 1
                    if snap.error:
                        errors[_error_family(snap.error)] += 1
                try:
                    fresh = Store.open(lab.path)
                except Exception as exc:
                    raise TortureFailure(f"sweep {sweeps}: store does not open: {exc}") from exc
                for snap in snapshots:
                    saved = fresh.latest_snapshot(snap.org_id)
                    check(saved is not None and saved.checked_at == snap.checked_at,
                          f"sweep {sweeps}: snapshot of {snap.org_id} not saved")
                for org_id, note in acked_notes.items():
                    check(fresh.get_org(org_id).notes == note,
                          f"sweep {sweeps}: acknowledged edit of {org_id} lost")
                have = {d["id"] for d in fresh.all_docs("contacts")}
                lost = [k for k in acked_contacts if k not in have]
                check(not lost, f"sweep {sweeps}: acknowledged contacts lost: {lost[:5]}")
                fresh.close()
                store.close()
                check(not problems.items, f"unhandled exceptions: {problems.items[:3]}")
    finally:
        lab.close()
    elapsed = time.perf_counter() - started
    figures = {
        "fault_steps": steps,
        "faults": dict(lab.applied),
        "sweeps": sweeps,
        "orgs_per_sweep": len(lab.orgs),
        "outcomes": dict(outcomes),
        "errors": dict(errors.most_common()),
        "acknowledged_edits": len(acked_contacts) * 2,
        "sweep_seconds_median": round(statistics.median(sweep_seconds), 2),
        "sweep_seconds_max": round(max(sweep_seconds), 2),
        "seconds": round(elapsed, 2),
    }
    log(f"faults: {steps} random faults ({', '.join(f'{k} {v}' for k, v in lab.applied.items())})"
        f" over {sweeps} sweeps of {len(lab.orgs)} orgs with a concurrent editor: outcomes "
        f"{dict(outcomes)}, {figures['acknowledged_edits']} acknowledged edits all present, "
        f"every snapshot saved; sweep median {figures['sweep_seconds_median']} s, max "
        f"{figures['sweep_seconds_max']} s; {elapsed:.1f} s")
    log(f"        errors seen: {dict(errors.most_common())}")
    return figures


# -- 3b. trickling servers against the per-org budget --------------------------------------------

def trickle_sweeps(folder: Path, sweeps: int, seed: int, *, timeout: float = 1.5,
                   log: Callable[[str], None] = print) -> dict[str, Any]:
    """Sweeps where a random third of the orgs trickle (0.05-0.5 s a byte), against the budget."""
    from juston_tui.salesforce.sweeper import sweep

    lab = FaultLab(folder, seed, max_hang=timeout)
    rng = random.Random(seed)
    seconds: list[float] = []
    slowest: list[float] = []
    trickled = 0
    try:
        with _Problems() as problems:
            for n in range(sweeps):
                chosen = rng.sample(lab.orgs, max(1, len(lab.orgs) // 3))
                for org in chosen:
                    lab.sim.set_fault(org.org_id, "trickle", seconds=rng.uniform(0.05, 0.5))
                t0 = time.perf_counter()
                snapshots = sweep(lab.orgs, lab.credentials, concurrency=len(lab.orgs),
                                  timeout=timeout)
                seconds.append(time.perf_counter() - t0)
                lab.sim.clear_faults()
                by_id = {s.org_id: s for s in snapshots}
                for org in chosen:
                    error = by_id[org.org_id].error or ""
                    check("timed out" in error, f"sweep {n}: trickling org {org.org_id} ended "
                          f"with {error!r}, not a time-out")
                for snap in snapshots:
                    check_snapshot(snap, f"trickle sweep {n} org {snap.org_id}")
                slowest.append(max(s.facts.get("duration_ms", 0) for s in snapshots) / 1000)
                trickled += len(chosen)
                # Without the hard budget one trickling answer takes minutes; the slack is for
                # a loaded machine (35 probes at once on 2 cores).
                check(slowest[-1] < timeout + 2.5, f"sweep {n}: a probe took {slowest[-1]:.1f} s "
                      f"with a {timeout} s budget: a trickle outlasted it")
                check(seconds[-1] < 2 * timeout + 5, f"sweep {n} took {seconds[-1]:.1f} s with a "
                      f"{timeout} s budget per org")
            check(not problems.items, f"unhandled exceptions: {problems.items[:3]}")
    finally:
        lab.close()
    figures = {"sweeps": sweeps, "orgs_per_sweep": len(lab.orgs), "trickling_orgs": trickled,
               "budget_s": timeout, "sweep_seconds_max": round(max(seconds), 2),
               "slowest_probe_s": round(max(slowest), 2)}
    log(f"trickle: {sweeps} sweeps of {len(lab.orgs)} orgs at once, {trickled} orgs trickling one "
        f"byte every 0.05-0.5 s: each stopped at its {timeout} s budget with a time-out (slowest "
        f"probe {figures['slowest_probe_s']} s, slowest sweep {figures['sweep_seconds_max']} s)")
    return figures


# -- 4. the same faults while the registry screen checks all orgs (Pilot) ------------------------

async def _pilot_storm(folder: Path, steps: int, seed: int, per_round: int,
                       log: Callable[[str], None]) -> dict[str, Any]:
    from textual import on
    from textual.worker import Worker, WorkerState

    from juston_tui.app import JustOnApp

    failures: list[str] = []

    class TortureApp(JustOnApp):
        @on(Worker.StateChanged)
        def _record_failure(self, event: Worker.StateChanged) -> None:
            if event.state == WorkerState.ERROR:
                failures.append(f"{event.worker.name}: {event.worker.error!r}")

    lab = FaultLab(folder, seed, max_hang=1.0, extra_orgs=0)
    rounds = 0
    outcomes: Counter[str] = Counter()
    started = time.perf_counter()
    try:
        with _Problems() as problems:
            app = TortureApp(store=Store.open(lab.path), credentials=lab.credentials)
            async with app.run_test(size=(140, 40)) as pilot:
                await pilot.pause()
                screen = app.screen
                check(type(screen).__name__ == "RegistryScreen",
                      f"the app opened {type(screen).__name__}, not the registry")
                await _until(pilot, lambda: screen.loaded and len(screen.entries) == len(lab.orgs),
                             30, "the registry to load the orgs")
                finished: list[Any] = []
                original_post = screen.post_message

                def post(message: Any) -> bool:
                    # The refresh worker posts through screen.post_message: watch its endings.
                    if type(message).__name__ == "RefreshFinished":
                        finished.append(message)
                    return original_post(message)

                screen.post_message = post  # type: ignore[method-assign]
                remaining = steps
                while remaining > 0:
                    quota = min(per_round, remaining)
                    remaining -= quota
                    injector = lab.inject(quota, threading.Event())
                    await pilot.press("R")
                    await _until(pilot,
                                 lambda n=rounds: len(finished) > n and not screen.refreshing,
                                 90, f"round {rounds}'s check to finish")
                    injector.join()
                    lab.sim.clear_faults()
                    done = finished[rounds]
                    rounds += 1
                    check(done.error is None and not done.cancelled
                          and done.count == done.total == len(lab.orgs),
                          f"round {rounds}: check ended with {done.count}/{done.total} "
                          f"error={done.error!r} cancelled={done.cancelled}")
                    check(app.is_running, f"round {rounds}: the app stopped")
                    check(not failures, f"round {rounds}: worker failed: {failures[:3]}")
                    for org_id, entry in screen.entries.items():
                        info = entry.info
                        if info.error:
                            check("internal error" not in info.error and len(info.error) >= 10,
                                  f"round {rounds}: row {org_id} shows {info.error!r}")
                            outcomes["error"] += 1
                        else:
                            check(info.verdict in VERDICTS,
                                  f"round {rounds}: row {org_id} has no verdict")
                            outcomes[info.verdict] += 1
                    errors = [n.message for n in app._notifications
                              if n.severity == "error"]
                    check(not errors, f"round {rounds}: error notifications {errors[:3]}")
                    check(not problems.items, f"unhandled exceptions: {problems.items[:3]}")
            Store.open(lab.path).close()
    finally:
        lab.close()
    elapsed = time.perf_counter() - started
    figures = {"pilot_rounds": rounds, "fault_steps": steps, "outcomes": dict(outcomes),
               "seconds": round(elapsed, 2)}
    log(f"pilot: {rounds} rounds of R (check all) under Pilot with {steps} faults injected "
        f"meanwhile: app kept running, no worker failed, rows {dict(outcomes)}; {elapsed:.1f} s")
    return figures


async def _until(pilot: Any, predicate: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TortureFailure(f"timed out after {timeout:.0f} s waiting for {what}")
        await pilot.pause(0.05)


def pilot_storm(folder: Path, steps: int, seed: int, *, per_round: int = 25,
                log: Callable[[str], None] = print) -> dict[str, Any]:
    import importlib.util

    if importlib.util.find_spec("juston_tui.screens.registry") is None:
        raise TortureFailure("the registry screen is not installed: no UI to torture")
    return asyncio.run(_pilot_storm(folder, steps, seed, per_round, log))


# -- command line -------------------------------------------------------------------------------

def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--kills", type=int, default=None, help="SIGKILL trials (default 500)")
    ap.add_argument("--fault-steps", type=int, default=None,
                    help="random faults during sweeps (default 1000)")
    ap.add_argument("--pilot-steps", type=int, default=None,
                    help="random faults during the UI's check-all (default: fault-steps / 4)")
    ap.add_argument("--sweep-kills", type=int, default=None,
                    help="SIGKILLs of batched sweeps (default 100)")
    ap.add_argument("--editor-writes", type=int, default=None,
                    help="writes per concurrent editor (default 200)")
    ap.add_argument("--migration-kills", type=int, default=None,
                    help="SIGKILLs during the schema 1 -> 2 migration (default 40)")
    ap.add_argument("--restore-kills", type=int, default=None,
                    help="SIGKILLs during db restore (default 200)")
    ap.add_argument("--trickle-sweeps", type=int, default=None,
                    help="sweeps with trickling orgs (default 10)")
    ap.add_argument("--quick", action="store_true",
                    help="short run: 50 kills, 10 sweep kills, 200 fault steps, 100 editor "
                    "writes, 30 restore kills, 3 trickle sweeps")
    ap.add_argument("--seed", type=int, default=20261122)
    ap.add_argument("--timeout", type=float, default=1.5, help="per-org sweep time limit")
    ap.add_argument("--dir", type=Path, default=None, help="work folder (default: a temp dir)")
    args = ap.parse_args(argv)
    quick = args.quick
    args.kills = args.kills if args.kills is not None else (50 if quick else 500)
    args.fault_steps = (args.fault_steps if args.fault_steps is not None
                        else (200 if quick else 1000))
    args.pilot_steps = (args.pilot_steps if args.pilot_steps is not None
                        else args.fault_steps // 4)
    args.sweep_kills = (args.sweep_kills if args.sweep_kills is not None
                        else (10 if quick else 100))
    args.editor_writes = (args.editor_writes if args.editor_writes is not None
                          else (100 if quick else 200))
    args.restore_kills = (args.restore_kills if args.restore_kills is not None
                          else (30 if quick else 200))
    args.migration_kills = (args.migration_kills if args.migration_kills is not None
                            else (8 if quick else 40))
    args.trickle_sweeps = (args.trickle_sweeps if args.trickle_sweeps is not None
                           else (3 if quick else 10))
    return args


def run(argv: Sequence[str] | None = None, *, log: Callable[[str], None] = print
        ) -> dict[str, Any]:
    args = parse(argv)
    os.environ.setdefault("TEXTUAL_ANIMATIONS", "none")
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="juston-torture-") as tmp:
        folder = args.dir or Path(tmp)
        started = time.perf_counter()
        parts: list[tuple[str, Callable[[Path], dict[str, Any]]]] = []
        if args.kills:
            parts.append(("kills", lambda f: kill_trials(f, args.kills, args.seed, log=log)))
        if args.sweep_kills:
            parts.append(("sweep_kills", lambda f: sweep_kills(f, args.sweep_kills, args.seed,
                                                               log=log)))
        if args.editor_writes:
            parts.append(("editors", lambda f: concurrent_editors(f, args.editor_writes, log=log)))
        if args.restore_kills:
            parts.append(("restores", lambda f: restore_kills(f, args.restore_kills, args.seed,
                                                              log=log)))
        if args.migration_kills:
            parts.append(("migration", lambda f: migration_kills(f, args.migration_kills,
                                                                 args.seed, log=log)))
        if args.fault_steps:
            parts.append(("faults", lambda f: fault_storm(f, args.fault_steps, args.seed,
                                                          timeout=args.timeout, log=log)))
        if args.trickle_sweeps:
            parts.append(("trickle", lambda f: trickle_sweeps(f, args.trickle_sweeps, args.seed,
                                                              timeout=args.timeout, log=log)))
        if args.pilot_steps:
            parts.append(("pilot", lambda f: pilot_storm(f, args.pilot_steps, args.seed,
                                                         log=log)))
        for name, part in parts:
            sub = folder / name
            sub.mkdir(parents=True, exist_ok=True)
            results[name] = part(sub)
        results["seconds"] = round(time.perf_counter() - started, 2)
    log(f"torture passed in {results['seconds']:.1f} s")
    return results


def main(argv: Sequence[str] | None = None) -> int:
    try:
        run(argv)
    except TortureFailure as exc:
        print(f"torture FAILED: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
