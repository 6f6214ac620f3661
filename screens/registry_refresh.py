"""Checking orgs from the registry, detail and access screens without freezing the UI.

`run_sweep` runs inside a thread worker: it calls `juston_tui.salesforce.sweeper.sweep` and
reports each snapshot as a `SnapshotArrived` message as soon as it lands (pass
`post=screen.announce`: the app hands each one to the other screens too), then one
`RefreshFinished`. Cancelling sets the
shared `threading.Event`; sweep stops starting new orgs and the screen says how many were done.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any

from textual.message import Message

from juston_tui.model import Org, Snapshot
from juston_tui.salesforce.settings import ProbeSettings
from juston_tui.screens.messages import RefreshFinished, SnapshotArrived
from juston_tui.text import clean


def run_sweep(
    app: Any,
    orgs: Sequence[Org],
    *,
    cancel: threading.Event,
    post: Callable[[Message], Any],
    save: bool = True,
    concurrency: int = 8,
) -> list[Snapshot]:
    """Check `orgs` (call from a thread worker). Saves each snapshot unless the app is read-only.

    The probe settings always come from the app's store (its `current_versions`), read-only or
    not, so this screen, the checklist and `status` give the same verdicts. Snapshots that
    could not be saved are reported in `RefreshFinished.error` (the checks still show).
    """
    total = len(orgs)
    try:
        # the Salesforce client (requests): only when an org is contacted
        from juston_tui.salesforce.sweeper import sweep
    except ImportError as exc:
        post(RefreshFinished(0, total, False, f"checking is not available here ({exc})"))
        return []
    try:
        credentials = app.get_credentials()
    except Exception as exc:  # an unusable keyring is reported, the sweep still runs
        post(RefreshFinished(0, total, False, clean(f"credentials unavailable: {exc}")))
        return []
    try:

        settings = ProbeSettings.for_store(app.store)
    except Exception as exc:  # an unreadable store: say so rather than judge by other rules
        post(RefreshFinished(0, total, False, clean(f"settings unreadable: {exc}", limit=300)))
        return []
    store = app.store if save and not getattr(app, "read_only", False) else None

    def on_result(snapshot: Snapshot, done: int, count: int) -> None:
        post(SnapshotArrived(snapshot, done, count))

    try:
        results = sweep(list(orgs), credentials, concurrency=concurrency, on_result=on_result,
                        cancel=cancel, store=store, settings=settings)
    except Exception as exc:
        post(RefreshFinished(0, total, cancel.is_set(), clean(str(exc), limit=300)))
        return []
    save_error = getattr(results, "save_error", None)
    error = clean(f"checked {len(results)} org(s), but {save_error}", limit=300) \
        if save_error else None
    post(RefreshFinished(len(results), total, cancel.is_set(), error))
    return list(results)
