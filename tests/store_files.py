"""Store files in tests: reading the tables as juston-tui does (base line plus journal), and a
full disk at the OS calls."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from juston_tui.store.shape import parse_store


def stored_tables(path: Path) -> dict[str, dict[str, Any]]:
    return parse_store(path, path.read_bytes(), check_shape=False)


class FullDisk:
    """Switch every way the store writes (a new base file, a journal or snapshot append) to
    fail as a full disk does, at the OS calls; `off()` lets them through again."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self._monkeypatch = monkeypatch

    def on(self) -> None:
        import errno

        from juston_tui.store import engine, snapshots

        def refuse(*args: Any, **_kwargs: Any) -> Any:
            where = args[0] if args and isinstance(args[0], (str, Path)) else ""
            raise OSError(errno.ENOSPC, "No space left on device", str(where))

        for module in (engine, snapshots):
            self._monkeypatch.setattr(module, "atomic_write_bytes", refuse)
        self._monkeypatch.setattr(engine.os, "pwrite", refuse)  # journal and snapshot appends

    def off(self) -> None:
        self._monkeypatch.undo()
