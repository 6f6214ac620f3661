"""The store's schema: its tables and their key fields, the version, its migrations."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

SCHEMA_VERSION = 2
# Our own keys, never TinyDB doc ids. Snapshots live beside the store since schema 2
# (store/snapshots.py); schema 1 kept them in a `snapshots` table here.
TABLES: dict[str, str] = {
    "meta": "key",
    "orgs": "org_id",
    "contacts": "id",
    "checklist": "key",
    "pushes": "id",
    "push_plans": "id",
    "push_audit": "id",
}
HISTORY_LIMIT = 20
BACKUPS_KEPT = 10

# version -> function that upgrades the raw tables dict from `version` to `version + 1`.
Migration = Callable[[dict[str, dict[str, Any]]], None]


def _drop_snapshots_table(data: dict[str, dict[str, Any]]) -> None:
    """Schema 1 -> 2: the snapshots went to their own files first (Store._migrate)."""
    data.pop("snapshots", None)


MIGRATIONS: dict[int, Migration] = {1: _drop_snapshots_table}
