"""Messages that travel between screens and the app (attributes down, messages up)."""

from __future__ import annotations

from textual.message import Message


class StoreChanged(Message):
    """Another process changed the store file; reload what you show."""
