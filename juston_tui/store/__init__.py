"""The local store (see juston_tui/store/store.py); this module is its public face."""

from juston_tui.store import schema
from juston_tui.store.backups import backup_dir, list_backups
from juston_tui.store.errors import (
    NotFoundError,
    ReadOnlyError,
    StoreCorruptError,
    StoreError,
    StoreMissingError,
    StoreNewerError,
    StoreWriteError,
)
from juston_tui.store.files import atomic_write_bytes, damaged_beside, looks_like_store
from juston_tui.store.schema import HISTORY_LIMIT, SCHEMA_VERSION, TABLES
from juston_tui.store.snapshots import LineRef
from juston_tui.store.store import Store, StoreHealth, health, restore_backup

__all__ = [
    "HISTORY_LIMIT",
    "SCHEMA_VERSION",
    "TABLES",
    "LineRef",
    "NotFoundError",
    "ReadOnlyError",
    "Store",
    "StoreCorruptError",
    "StoreError",
    "StoreHealth",
    "StoreMissingError",
    "StoreNewerError",
    "StoreWriteError",
    "atomic_write_bytes",
    "backup_dir",
    "damaged_beside",
    "health",
    "list_backups",
    "looks_like_store",
    "restore_backup",
    "schema",
]
