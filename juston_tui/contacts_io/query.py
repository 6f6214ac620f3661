"""Address completion for mail clients: mutt's query_command and aerc's address-book-cmd."""

from __future__ import annotations

from collections.abc import Sequence

from juston_tui.model import Contact
from juston_tui.text import clean


def mutt_query_lines(contacts: Sequence[Contact], query: str, *, header: bool = True) -> list[str]:
    """mutt's query_command format: one free-text line, then `email<TAB>name<TAB>title`.

    aerc's address-book-cmd wants the same lines without the first one (`header=False`).
    Tabs and control characters in fields are flattened so every line has three columns.
    """
    lines = []
    if header:
        noun = "contact" if len(contacts) == 1 else "contacts"
        lines.append(f"juston-tui: {len(contacts)} {noun} matching {clean(query)!r}")
    for c in contacts:
        lines.append("\t".join(clean(v) for v in (c.email, c.full_name, c.title)))
    return lines

