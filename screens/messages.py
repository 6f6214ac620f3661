"""Messages between screens and the app: attributes down, messages up.

A screen never calls into another screen. It posts one of these on itself; the message
bubbles to the app, which hands a copy to every other top-level screen (`JustOnApp._relay`),
so the registry, the access screen and an open org detail all show the same orgs and checks.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from textual.message import Message

if TYPE_CHECKING:
    from juston_tui.model import Org, Snapshot


class StoreChanged(Message):
    """Another process changed the store file; reload what you show."""


class Relayed(Message):
    """A message the app hands on to the other screens (`relayed` marks the copies).

    Post it with `screen.announce(message)`, which records the screen it came from.
    """

    relayed: bool = False
    origin: object = None

    def copy(self) -> Relayed:
        raise NotImplementedError


class OrgsChanged(Relayed):
    """Orgs were written (add, edit, delete, undo, push state): show them."""

    def __init__(self, orgs: Iterable[Org] = (), removed: Iterable[str] = ()) -> None:
        super().__init__()
        self.orgs = list(orgs)
        self.removed = list(removed)

    def copy(self) -> OrgsChanged:
        out = OrgsChanged(self.orgs, self.removed)
        out.relayed = True
        return out


class SnapshotArrived(Relayed):
    """One org has been checked (posted from a worker thread)."""

    def __init__(self, snapshot: Snapshot, done: int, total: int) -> None:
        super().__init__()
        self.snapshot = snapshot
        self.done = done
        self.total = total

    def copy(self) -> SnapshotArrived:
        out = SnapshotArrived(self.snapshot, self.done, self.total)
        out.relayed = True
        return out


class RefreshFinished(Message):
    """A check ended: `count` snapshots, `cancelled` by esc, or `error` (one clean line)."""

    def __init__(self, count: int, total: int, cancelled: bool, error: str | None = None) -> None:
        super().__init__()
        self.count = count
        self.total = total
        self.cancelled = cancelled
        self.error = error
