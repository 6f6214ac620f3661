"""Where a store's backups live, and which there are (newest first)."""

from __future__ import annotations

from pathlib import Path


def backup_dir(path: Path) -> Path:
    return path.parent / "backups"


def list_backups(path: Path) -> list[Path]:
    """Backups of the store at `path`, newest first."""
    folder = backup_dir(path)
    if not folder.is_dir():
        return []
    found = [p for p in folder.glob(f"{path.stem}-*.json") if p.is_file()]
    return sorted(found, key=lambda p: p.name, reverse=True)
