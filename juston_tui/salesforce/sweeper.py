"""Check many orgs at once: bounded concurrency, per-org time limit, progress, cancellation.

Each org is probed in a worker thread with its own session and client (one client per org per
thread). One org's failure is its own snapshot's `error`, never the sweep's. Snapshots are
handed to a single writer thread that saves whatever has arrived in one store transaction, so
the UI shows the last known state even when the network goes away mid-sweep, and the workers
never wait for the disk.
"""

from __future__ import annotations

import logging
import queue
import threading
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


class SweepResult(list["Snapshot"]):
    """The snapshots of a sweep (a plain list to callers) plus what happened to saving them.

    `save_errors` holds one line per distinct failure of the store writes (disk full, store
    locked read-only by another tool ...); empty when everything was saved or nothing was to
    be saved. `saved` counts the snapshots written. A sweep never raises for a failed save:
    the checks themselves are still good, so callers show them and report the errors.
    """

    def __init__(self, snapshots: Sequence[Snapshot] = (), *, save_errors: Sequence[str] = (),
                 saved: int = 0) -> None:
        super().__init__(snapshots)
        self.save_errors: list[str] = list(save_errors)
        self.saved = saved

    @property
    def save_error(self) -> str | None:
        """All save errors as one line for a status bar or toast; None when there were none."""
        return "; ".join(self.save_errors) if self.save_errors else None


class SnapshotWriter:
    """Saves snapshots as they arrive, batching whatever queued up into one atomic write."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.errors: list[str] = []
        self.saved = 0
        self._queue: queue.Queue[object] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="snapshot-writer", daemon=True)
        self._thread.start()

    def put(self, snapshot: Snapshot) -> None:
        self._queue.put(snapshot)

    def _run(self) -> None:
        done = False
        while not done:
            batch = [self._queue.get()]
            while True:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            if _STOP in batch:
                done = True
            snapshots = [s for s in batch if s is not _STOP]
            if not snapshots:
                continue
            try:
                with self.store.transaction():
                    for snap in snapshots:
                        self.store.save_snapshot(snap)  # type: ignore[arg-type]
                self.saved += len(snapshots)
            except Exception as exc:  # a read-only or broken store must not stop the sweep
                message = clean(f"snapshots not saved: {exc}", limit=300)
                log.warning(message)
                if message not in self.errors:
                    self.errors.append(message)

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
) -> SweepResult:
    """Probe `orgs` with at most `concurrency` at a time; snapshots in the order of `orgs`.

    `on_result(snapshot, done, total)` is called from worker threads as each org finishes.
    When `cancel` is set, orgs not yet started are skipped and running probes stop before
    their next request; only finished orgs are returned (and saved). Snapshots are saved to
    a writable `store`; failed saves are in the result's `save_errors`. Without `settings`
    the store's are used (`ProbeSettings.for_store`), so pass the store even when read-only.
    """
    settings = settings or ProbeSettings.for_store(store)
    stop = cancel if cancel is not None else threading.Event()
    total = len(orgs)
    results: list[Snapshot | None] = [None] * total
    counter = {"done": 0}
    lock = threading.Lock()
    writer = SnapshotWriter(store) if store is not None and not store.read_only else None

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
    return SweepResult(done, save_errors=writer.errors, saved=writer.saved)
