"""What the readers and writers of contact files agree on: one parsed record, the limits, the
words for yes and no, and the cells a spreadsheet would run as formulas."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from juston_tui.text import clean

MAX_FILE_BYTES = 20 * 1024 * 1024  # an address book of 100k people is a few MB
MAX_CELL_CHARS = 10_000  # any single field longer than this is reported, never stored
FIELD_LIMITS = {"full_name": 200, "email": 254, "title": 200, "role": 200, "notes": 10_000}
FIELD_LABELS = {
    "full_name": "full name",
    "email": "e-mail",
    "title": "title",
    "role": "role",
    "org_ids": "orgs",
    "eligible": "eligible",
    "notes": "notes",
    "id": "id",
}
YES_WORDS = frozenset({"yes", "y", "true", "1", "x", "ja", "j", "wahr", "on", "eligible"})
NO_WORDS = frozenset({"no", "n", "false", "0", "nein", "falsch", "off", "-"})
# A cell starting with one of these runs as a formula in a spreadsheet: export puts an
# apostrophe before it, import takes that apostrophe off again.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


class ImportRejected(ValueError):
    """The whole file cannot be imported (binary, unknown encoding, missing columns)."""


@dataclass
class ParsedRecord:
    """One row or card as read: only the fields the source actually has."""

    line: int
    values: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    error: str | None = None
    new_id: str = field(default_factory=lambda: str(uuid.uuid4()))

    def set_eligible(self, value: str | None, what: str, expected: str) -> None:
        """The eligible flag from a cell or property (`what` names it in the error): yes/no
        words; an empty one leaves the flag unset."""
        if value is None or not value.strip():
            return
        word = value.strip().casefold()
        if word in YES_WORDS:
            self.values["eligible"] = True
        elif word in NO_WORDS:
            self.values["eligible"] = False
        else:
            self.error = f"{what}: {clean(value, limit=30)!r} is not {expected}"
