"""The store's schema: its tables and their key fields, the version, its migrations."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

SCHEMA_VERSION = 1
# Our own keys, never TinyDB doc ids.
TABLES: dict[str, str] = {
    "meta": "key",
    "orgs": "org_id",
    "contacts": "id",
    "checklist": "key",
    "pushes": "id",
    "snapshots": "org_id",
    "push_plans": "id",
    "push_audit": "id",
}
HISTORY_LIMIT = 20
BACKUPS_KEPT = 10

# version -> function that upgrades the raw tables dict from `version` to `version + 1`.
Migration = Callable[[dict[str, dict[str, Any]]], None]
MIGRATIONS: dict[int, Migration] = {}
