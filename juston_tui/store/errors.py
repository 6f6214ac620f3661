"""What can go wrong with a store, each with the way on."""

from __future__ import annotations

from pathlib import Path

from juston_tui.store.backups import list_backups


class StoreError(Exception):
    """Base class for store problems the user must see."""


class ReadOnlyError(StoreError):
    pass


class NotFoundError(StoreError, KeyError):
    def __str__(self) -> str:
        return str(self.args[0]) if self.args else "not found"


class StoreNewerError(StoreError):
    pass


class StoreWriteError(StoreError, OSError):
    """A store write failed (disk full, quota, permissions); the file on disk is unchanged."""

    def __init__(self, path: Path, exc: OSError, what: str = "the store") -> None:
        super().__init__(exc.errno, exc.strerror or str(exc), str(path))
        self.message = (f"cannot write {what} {path}: {exc.strerror or exc}; the file on "
                        "disk is unchanged")

    def __str__(self) -> str:
        return self.message


class StoreMissingError(StoreError):
    """The store is gone but a file it was displaced to is beside it: never start afresh."""

    def __init__(self, path: Path, kept: list[Path]) -> None:
        self.path = path
        self.kept = kept
        backups = list_backups(path)
        way = (f"put the last backup in place with  juston-tui --db {path} db restore "
               f"{backups[0]}" if backups else
               f"look at it with  juston-tui --read-only --db {kept[0]}")
        super().__init__(
            f"the store {path} is missing, but {kept[0]} is beside it (a restore or a move "
            f"did not finish); {way}, or move that file away to start a new, empty store"
        )


class StoreCorruptError(StoreError):
    """The file exists but is not a readable juston-tui store. It is never touched."""

    def __init__(self, path: Path, detail: str) -> None:
        self.path = path
        self.detail = detail
        self.backups = list_backups(path)
        super().__init__(self.describe())

    def describe(self) -> str:
        lines = [
            f"The store {self.path} cannot be read: {self.detail}.",
            "It has been left exactly as it is; nothing was written to it.",
            "Ways on:",
        ]
        if self.backups:
            last = self.backups[0]
            lines.append(
                f"  - look at the last backup read-only:  juston-tui --read-only --db {last}"
            )
            lines.append(
                f"  - restore it (the damaged file is kept beside it):  "
                f"juston-tui --db {self.path} db restore {last}"
            )
        else:
            lines.append("  - there is no backup of this store yet")
        lines.append(
            "  - start a new store elsewhere:  juston-tui --db NEW_PATH (or JUSTON_TUI_DB)"
        )
        return "\n".join(lines)


class SnapshotsCorruptError(StoreError):
    """The snapshot file beside the store cannot be read; it is never touched."""

    def __init__(self, path: Path, detail: str) -> None:
        self.path = path
        self.detail = detail
        super().__init__(
            f"the snapshot file {path} cannot be read: {detail}; it was left exactly as it is "
            f"(the store itself is fine: move that file away and the next check of each org "
            f"writes a new one)"
        )
