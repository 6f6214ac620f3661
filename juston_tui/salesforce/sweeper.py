"""Check many orgs at once: bounded concurrency, per-org time limit, progress, cancellation.

Each org is probed in a worker thread with its own session and client (one client per org per
thread). One org's failure is its own snapshot's `error`, never the sweep's. Snapshots are
handed to a single writer thread that saves them in batches, one store transaction a batch:
at most one write a second (`SAVE_INTERVAL`), sooner only when `SAVE_BATCH` results are
waiting, and the rest when the sweep ends. A snapshot counts as saved (`saved`, `on_saved`)
only once its batch is on disk, so a kill mid-sweep loses at most the batch not yet
acknowledged; the UI still shows the last known state when the network goes away mid-sweep,
and the workers never wait for the disk. (A 2,000-org sweep used to rewrite the store once for
nearly every result: 785 times.)
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

from juston_tui.model import Snapshot
from juston_tui.salesforce.checks import unreachable
from juston_tui.salesforce.connection import DEFAULT_TIMEOUT
from juston_tui.salesforce.errors import Cancelled
from juston_tui.salesforce.probe import _stamp, probe_org
from juston_tui.salesforce.settings import ProbeSettings
from juston_tui.text import clean

if TYPE_CHECKING:
    from juston_tui.credentials import CredentialStore
    from juston_tui.model import Org, Snapshot
    from juston_tui.store import Store

__all__ = ["SnapshotWriter", "SweepResult", "sweep"]

log = logging.getLogger(__name__)
_STOP = object()
SAVE_INTERVAL = 1.0  # seconds: at most one store write this often ...
SAVE_BATCH = 200  # ... unless this many results are waiting


class SweepResult(list["Snapshot"]):
    """The snapshots of a sweep (a plain list to callers) plus what happened to saving them.

    `save_errors` holds one line per distinct failure of the store writes (disk full, store
    locked read-only by another tool ...); empty when everything was saved or nothing was to
    be saved. `saved` counts the snapshots written, `writes` the store writes that took. A
    sweep never raises for a failed save: the checks themselves are still good, so callers
    show them and report the errors.
    """

    def __init__(self, snapshots: Sequence[Snapshot] = (), *, save_errors: Sequence[str] = (),
                 saved: int = 0, writes: int = 0) -> None:
        super().__init__(snapshots)
        self.save_errors: list[str] = list(save_errors)
        self.saved = saved
        self.writes = writes

    @property
    def save_error(self) -> str | None:
        """All save errors as one line for a status bar or toast; None when there were none."""
        return "; ".join(self.save_errors) if self.save_errors else None


class SnapshotWriter:
    """Saves snapshots in batches: one atomic write at most every `interval` seconds, or as
    soon as `batch_size` are waiting, and whatever is left on `close`.

    `saved` counts the snapshots whose batch is on disk; `on_saved(batch)` is called (from the
    writer thread) with each batch once it is, never before.
    """

    def __init__(self, store: Store, *, interval: float = SAVE_INTERVAL,
                 batch_size: int = SAVE_BATCH,
                 on_saved: Callable[[list[Snapshot]], None] | None = None) -> None:
        self.store = store
        self.interval = interval
        self.batch_size = max(1, batch_size)
        self.on_saved = on_saved
        self.errors: list[str] = []
        self.saved = 0
        self.writes = 0
        self._queue: queue.Queue[object] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="snapshot-writer", daemon=True)
        self._thread.start()

    def put(self, snapshot: Snapshot) -> None:
        self._queue.put(snapshot)

    def _run(self) -> None:
        pending: list[Snapshot] = []
        last_write = float("-inf")
        done = False
        while not done:
            if pending:  # wait for more until the interval is up or the batch is full
                wait = last_write + self.interval - time.monotonic()
                timeout: float | None = max(0.0, wait)
            else:
                timeout = None
            try:
                item = self._queue.get(timeout=timeout)
            except queue.Empty:
                item = None
            if item is _STOP:
                done = True
            elif item is not None:
                pending.append(item)  # type: ignore[arg-type]
            due = time.monotonic() >= last_write + self.interval
            if pending and (done or due or len(pending) >= self.batch_size):
                self._write(pending)
                pending = []
                last_write = time.monotonic()

    def _write(self, snapshots: list[Snapshot]) -> None:
        try:
            self.store.save_snapshots(snapshots)
        except Exception as exc:  # a read-only or broken store must not stop the sweep
            message = clean(f"snapshots not saved: {exc}", limit=300)
            log.warning(message)
            if message not in self.errors:
                self.errors.append(message)
            return
        self.writes += 1
        self.saved += len(snapshots)
        if self.on_saved is not None:
            try:
                self.on_saved(snapshots)
            except Exception:  # the caller's display must not stop the saving
                log.exception("on_saved callback failed")

    def close(self) -> None:
        """Flush everything queued and stop the thread."""
        self._queue.put(_STOP)
        self._thread.join()


def sweep(
    orgs: Sequence[Org],
    credentials: CredentialStore,
    *,
    concurrency: int = 8,
    timeout: float = DEFAULT_TIMEOUT,
    settings: ProbeSettings | None = None,
    on_result: Callable[[Snapshot, int, int], None] | None = None,
    cancel: threading.Event | None = None,
    store: Store | None = None,
    on_saved: Callable[[list[Snapshot]], None] | None = None,
) -> SweepResult:
    """Probe `orgs` with at most `concurrency` at a time; snapshots in the order of `orgs`.

    `on_result(snapshot, done, total)` is called from worker threads as each org finishes.
    When `cancel` is set, orgs not yet started are skipped and running probes stop before
    their next request; only finished orgs are returned (and saved). Snapshots are saved to
    a writable `store` in batches (see SnapshotWriter); `on_saved(batch)` is called once each
    batch is on disk; failed saves are in the result's `save_errors`. Without `settings`
    the store's are used (`ProbeSettings.for_store`), so pass the store even when read-only.
    """
    settings = settings or ProbeSettings.for_store(store)
    stop = cancel if cancel is not None else threading.Event()
    total = len(orgs)
    results: list[Snapshot | None] = [None] * total
    counter = {"done": 0}
    lock = threading.Lock()
    writer = (SnapshotWriter(store, on_saved=on_saved)
              if store is not None and not store.read_only else None)

    def one(index: int, org: Org) -> None:
        if stop.is_set():
            return
        try:
            snapshot = probe_org(org, credentials, settings=settings, timeout=timeout,
                                 cancel=stop)
        except Cancelled:
            return
        except Exception as exc:  # a bug in one probe must not stop the others
            log.exception("probe of %s failed", org.org_id)
            message = f"internal error while checking: {type(exc).__name__}"
            snapshot = Snapshot(org.org_id, _stamp(), unreachable(message), message, {})
        results[index] = snapshot
        if writer is not None:
            writer.put(snapshot)
        with lock:
            counter["done"] += 1
            done = counter["done"]
        if on_result is not None:
            try:
                on_result(snapshot, done, total)
            except Exception:  # the caller's progress display must not lose results
                log.exception("on_result callback failed")

    workers = max(1, min(int(concurrency), total or 1))
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="probe")
    try:
        futures = [pool.submit(one, i, org) for i, org in enumerate(orgs)]
        for future in futures:
            future.result()
    except BaseException:  # Ctrl-C in the CLI: stop the running probes, skip the rest
        stop.set()
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        if writer is not None:
            writer.close()
    done = [s for s in results if s is not None]
    if writer is None:
        return SweepResult(done)
    return SweepResult(done, save_errors=writer.errors, saved=writer.saved, writes=writer.writes)
