"""The owner of the store's `pushes` table: nothing else reads or writes its documents.

Documents there are confirmed pushes (`Push.to_doc`, key `id`) and, for computed pushes
(projected or from the packaging org), `{"id", "status": "ticks", "done": [action ids]}`.
Every write is one locked read-modify-write (`store.transaction()`), so an edit never undoes
what another screen or process changed meanwhile. Call these from worker threads in the UI.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from juston_tui.model import ValidationError
from juston_tui.schedule.dates import zone_named
from juston_tui.schedule.pushes import OVERLAY_PREFIXES, Push
from juston_tui.schedule.releases import release_dates
from juston_tui.schedule.settings import settings_from_store
from juston_tui.schedule.view import CalendarView, build_view

if TYPE_CHECKING:
    from juston_tui.store import Store

__all__ = ["VENDOR_CACHE_KEY", "confirmed_push", "delete_push", "load_view", "restore_push",
           "save_push", "toggle_action"]

TABLE = "pushes"
VENDOR_CACHE_KEY = "vendor_push_jobs"  # the packaging org's push requests (push_jobs.py)


def load_view(store: Store, *, today: date | None = None, months: int = 6) -> CalendarView:
    """Everything the calendar needs from the store, assembled by `build_view`."""
    settings = settings_from_store(store)
    if today is None:
        today = datetime.now(zone_named(settings.timezone)).date()
    return build_view(
        settings=settings, start=today, months=months,
        push_docs=store.all_docs(TABLE),
        release_dates=release_dates(store),
        orgs=store.list_orgs(), contacts=store.list_contacts(),
        vendor=store.get_setting(VENDOR_CACHE_KEY) or {},
    )


def confirmed_push(store: Store, push_id: str) -> Push | None:
    """The confirmed push `push_id` as stored, or None (unknown, or a computed push)."""
    doc = store.get_doc(TABLE, push_id)
    if doc is None or doc.get("status") != "confirmed":
        return None
    return Push.from_doc(doc)


def save_push(store: Store, push: Push) -> Push:
    """Store a confirmed push; an action that is still there keeps its *stored* tick.

    The form or CLI worked on a copy: a tick made meanwhile (another screen, another
    process) must not be undone by saving an edit of the date or version.
    """
    with store.transaction():
        current = confirmed_push(store, push.id)
        if current is not None:
            stored = {(a.phase, a.text): a.done for a in current.actions}
            push = replace(push, actions=tuple(
                replace(a, done=stored.get((a.phase, a.text), a.done)) for a in push.actions))
        store.put_doc(TABLE, push.to_doc())
    return push


def delete_push(store: Store, push_id: str) -> dict[str, Any] | None:
    """Remove a confirmed push; returns its document for undo (`restore_push`).

    Check and delete are one locked transaction, so a push another process changed in
    between (e.g. no longer confirmed) is not removed on the strength of a stale read.
    """
    with store.transaction():
        doc = store.get_doc(TABLE, push_id)
        if doc is None or doc.get("status") != "confirmed":
            return None
        return store.delete_doc(TABLE, push_id)


def restore_push(store: Store, doc: Mapping[str, Any]) -> Push:
    """Undo of `delete_push`: put the deleted document back as it was; returns its push."""
    push = Push.from_doc(doc)  # a document that is no push raises before anything is written
    store.put_doc(TABLE, dict(doc))
    return push


def toggle_action(store: Store, push_id: str, action_id: str) -> bool:
    """Flip one action's tick in one locked read-modify-write; returns the new state."""
    with store.transaction():
        doc = store.get_doc(TABLE, push_id)
        if push_id.startswith(OVERLAY_PREFIXES):
            # Projected and packaging-org pushes are computed; only their ticks are stored.
            done = set((doc or {}).get("done") or ())
            state = action_id not in done
            done.symmetric_difference_update({action_id})
            store.put_doc(TABLE, {"id": push_id, "status": "ticks", "done": sorted(done)})
            return state
        if doc is None:
            raise ValidationError.single("push", f"the push {push_id} no longer exists")
        actions = [dict(a) for a in doc.get("actions") or ()]
        for action in actions:
            if action.get("id") == action_id:
                action["done"] = not action.get("done", False)
                store.patch_doc(TABLE, push_id, {"actions": actions})
                return bool(action["done"])
    raise ValidationError.single("action", f"no action {action_id} on this push")
