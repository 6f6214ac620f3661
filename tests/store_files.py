"""Reading a store file's tables the way juston-tui does (its base line plus the journal)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from juston_tui.store.shape import parse_store


def stored_tables(path: Path) -> dict[str, dict[str, Any]]:
    return parse_store(path, path.read_bytes(), check_shape=False)
