"""The owner of the store's `push_audit` table: one record per write to the packaging org.

Every write a push makes (create a PackagePushRequest, insert its jobs, set it Pending, cancel
it) is recorded here with who (the local user name), when (UTC), what, the request id and a
summary of Salesforce's answer, whether it worked or not. Never a secret: summaries hold ids,
counts, statuses and Salesforce's error codes and messages (cleaned), nothing from the
credentials store. Each record is one store write (its own transaction), made right after the
write it records, so a crash between two writes still leaves the first one recorded.
"""

from __future__ import annotations

import getpass
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from juston_tui.text import clean

if TYPE_CHECKING:
    from juston_tui.store import Store

__all__ = ["ACTIONS", "TABLE", "audit_records", "current_user", "record_write"]

TABLE = "push_audit"
ACTIONS = ("create_request", "insert_jobs", "start", "cancel")


def current_user() -> str:
    """Who runs this (getpass.getuser(): LOGNAME, USER, ... or the password database)."""
    try:
        return getpass.getuser()
    except Exception:  # no user name anywhere (a container without passwd entry)
        return "unknown"


def _stamp(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def record_write(store: Store, action: str, *, request_id: str | None, ok: bool,
                 summary: Mapping[str, Any] | None = None, error: str | None = None,
                 plan_id: str | None = None, wave: int | None = None,
                 packaging_org: str | None = None, when: datetime | None = None
                 ) -> dict[str, Any]:
    """Store one audit record and return it."""
    if action not in ACTIONS:
        raise ValueError(f"unknown push write {action!r}")
    now = when or datetime.now(UTC)
    doc: dict[str, Any] = {
        "id": f"audit-{now.strftime('%Y%m%d%H%M%S%f')}-{uuid.uuid4().hex[:8]}",
        "at": _stamp(now),
        "user": clean(current_user(), limit=80),
        "action": action,
        "request_id": request_id,
        "plan_id": plan_id,
        "wave": wave,
        "packaging_org": packaging_org,
        "ok": ok,
        "summary": dict(summary or {}),
        "error": clean(error, limit=500) if error else None,
    }
    with store.transaction():
        store.put_doc(TABLE, doc)
    return doc


def audit_records(store: Store, *, plan_id: str | None = None,
                  request_id: str | None = None) -> list[dict[str, Any]]:
    """The records (oldest first), optionally of one plan or one request (15 or 18 chars)."""
    out = []
    for doc in store.all_docs(TABLE):
        if plan_id is not None and doc.get("plan_id") != plan_id:
            continue
        if request_id is not None and str(doc.get("request_id") or "")[:15] != request_id[:15]:
            continue
        out.append(doc)
    return sorted(out, key=lambda d: str(d.get("id")))  # the id starts with the µs time
