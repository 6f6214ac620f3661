"""Sweeps save in batches: at most one store write a second (or per SAVE_BATCH results), a
result counts as saved only once its batch is on disk, and a kill loses at most the batch not
yet acknowledged."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

from store_files import FullDisk

from juston_tui.model import Snapshot
from juston_tui.salesforce.sweeper import SnapshotWriter
from juston_tui.simulator.ids import make_org_id
from juston_tui.store import Store

REPO = Path(__file__).resolve().parent.parent


def snap(i: int) -> Snapshot:
    return Snapshot(make_org_id(f"batch-{i}"), "2026-12-01T12:00:00Z", (), None, {})


def test_a_burst_of_results_is_a_few_writes(store: Store) -> None:
    before = store.write_count
    writer = SnapshotWriter(store, interval=60.0, batch_size=100)
    for i in range(450):
        writer.put(snap(i))
    writer.close()
    assert writer.saved == 450 and writer.errors == []
    # The first result at once, then full batches of 100, then the rest on close.
    assert writer.writes <= 1 + 450 // 100 + 1
    assert store.write_count - before == writer.writes
    assert all(store.latest_snapshot(snap(i).org_id) is not None for i in (0, 222, 449))


def test_at_most_one_write_per_interval(store: Store) -> None:
    writer = SnapshotWriter(store, interval=0.25, batch_size=10_000)
    started = time.monotonic()
    for i in range(80):  # results arriving over ~0.8 s, as a sweep's do
        writer.put(snap(i))
        time.sleep(0.01)
    elapsed = time.monotonic() - started
    writer.close()
    assert writer.saved == 80
    assert writer.writes <= int(elapsed / 0.25) + 2  # one per interval, plus the last on close
    assert writer.writes >= 2


def test_a_result_counts_as_saved_only_once_on_disk(store: Store) -> None:
    acknowledged: list[str] = []
    problems: list[str] = []
    lock = threading.Lock()

    def on_saved(batch: list[Snapshot]) -> None:
        reader = Store.open(store.path, read_only=True)  # what is on disk now
        try:
            for s in batch:
                if reader.latest_snapshot(s.org_id) is None:
                    problems.append(s.org_id)
        finally:
            reader.close()
        with lock:
            acknowledged.extend(s.org_id for s in batch)

    writer = SnapshotWriter(store, interval=0.05, batch_size=7, on_saved=on_saved)
    for i in range(40):
        writer.put(snap(i))
    writer.close()
    assert problems == []
    assert sorted(acknowledged) == sorted(snap(i).org_id for i in range(40))
    assert writer.saved == 40


def test_a_failed_batch_is_not_counted_as_saved(store: Store, full_disk: FullDisk) -> None:
    acknowledged: list[Snapshot] = []
    store.save_snapshot(snap(99))  # the snapshot file exists: the appends themselves fail
    full_disk.on()
    writer = SnapshotWriter(store, interval=0.01, batch_size=5, on_saved=acknowledged.extend)
    for i in range(12):
        writer.put(snap(i))
    writer.close()
    assert writer.saved == 0 and acknowledged == []
    assert writer.errors and "No space left on device" in writer.errors[0]


CHILD = textwrap.dedent("""
    import sys, time, types
    from juston_tui.credentials import open_credentials
    from juston_tui.model import Snapshot
    from juston_tui.salesforce import sweeper
    from juston_tui.simulator.ids import make_org_id
    from juston_tui.store import Store

    def probe(org, credentials, **kwargs):
        time.sleep(0.002)  # a quick org
        return Snapshot(org.org_id, "2026-12-01T12:00:00Z", (), None, {})

    def acknowledge(batch):
        print(" ".join(s.org_id for s in batch), flush=True)

    sweeper.probe_org = probe
    sweeper.SAVE_INTERVAL = 0.05
    store = Store.open(sys.argv[1])
    orgs = [types.SimpleNamespace(org_id=make_org_id(f"kill-{i}")) for i in range(100_000)]
    sweeper.sweep(orgs, open_credentials("memory"), concurrency=4, store=store,
                  on_saved=acknowledge)
""")


def test_a_kill_mid_sweep_loses_at_most_the_unacknowledged_batch(tmp_path: Path) -> None:
    path = tmp_path / "store.json"
    Store.open(path).close()
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(path)], stdout=subprocess.PIPE,
                             text=True, env=env, cwd=tmp_path)
    acknowledged: list[str] = []
    try:
        assert child.stdout is not None
        for _ in range(4):  # four batches on disk, then a kill at an arbitrary moment
            line = child.stdout.readline()
            assert line, "the sweep ended before it was killed"
            acknowledged.extend(line.split())
        os.kill(child.pid, signal.SIGKILL)
        rest = child.stdout.read()  # batches acknowledged before the kill landed
        acknowledged.extend(rest.split())
    finally:
        if child.poll() is None:
            child.kill()
        child.wait(timeout=30)
    assert child.returncode == -signal.SIGKILL
    store = Store.open(path, read_only=True)
    try:
        on_disk = set(store.all_snapshots())
    finally:
        store.close()
    missing = [org_id for org_id in acknowledged if org_id not in on_disk]
    assert missing == []  # every acknowledged result survived the kill
    assert len(acknowledged) >= 4
    # What is on disk but was never acknowledged is at most the batch being written.
    from juston_tui.salesforce.sweeper import SAVE_BATCH

    assert len(on_disk) - len(set(acknowledged)) <= SAVE_BATCH
