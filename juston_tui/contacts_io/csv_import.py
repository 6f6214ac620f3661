"""CSV in: our own layout (what export writes), Outlook's and Google's (old and new).

Columns are found by their header (English and German spellings); the delimiter is
`csv.Sniffer`'s guess from the header line (comma, semicolon or tab). A bad row never stops
the others: it becomes a record with an error and its line number.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence

from juston_tui.contacts_io.records import (
    FORMULA_START,
    MAX_CELL_CHARS,
    MAX_FILE_BYTES,
    ImportRejected,
    ParsedRecord,
)
from juston_tui.text import clean

DELIMITERS = ",;\t"
# csv.Sniffer's quote regex takes quadratic time on hostile text (about 1 s for 4 KB of
# `,"a` repeated): the header line is enough to find the delimiter, and this bounds the cost.
SNIFF_CHARS = 2048


def _norm_header(header: str) -> str:
    return re.sub(r"[^0-9a-zß]+", " ", clean(header).casefold()).strip()


# Normalised header -> our field. Outlook, Google (old and new layout), German spellings, ours.
_HEADER_ALIASES: dict[str, tuple[str, ...]] = {
    "full_name": ("full name", "name", "display name", "fn", "formatted name",
                  "vollstandiger name", "anzeigename"),
    "first": ("first name", "given name", "vorname"),
    "middle": ("middle name", "additional name", "weitere vornamen"),
    "last": ("last name", "family name", "surname", "nachname"),
    "prefix": ("name prefix", "anrede"),
    "suffix": ("suffix", "name suffix"),
    "email": ("email", "e mail", "email address", "e mail address", "e mail 1 value",
              "email 1 value", "e mail adresse", "primary email", "mail"),
    "email2": ("e mail 2 address", "e mail 2 value", "email 2 value", "e mail 3 address",
               "e mail 3 value"),
    "title": ("job title", "organization 1 title", "organization title", "position",
              "title", "titel", "funktion"),
    "role": ("role", "rolle"),
    "org_ids": ("org ids", "org id", "orgs", "org", "salesforce org ids", "salesforce org id"),
    "eligible": ("eligible", "eligible for notifications", "notify", "notifications"),
    "notes": ("notes", "note", "notizen"),
    "id": ("id", "uuid", "contact id"),
    # Outlook "Company", Google "Organization 1 - Name" / "Organization Name": linked to the
    # registered org of that name (vCard: ORG).
    "company": ("company", "organization 1 name", "organization name", "organization",
                "organisation", "firma", "unternehmen"),
}
_IGNORED_HEADERS = {"org names"}


def _map_headers(headers: Sequence[str]) -> tuple[dict[str, int], list[str]]:
    """Column index per field; the Outlook 'Title' column is the name prefix (Dr., Mr.)."""
    normalised = [_norm_header(h) for h in headers]
    mapping: dict[str, int] = {}
    for fieldname, aliases in _HEADER_ALIASES.items():
        for alias in aliases:  # aliases are in priority order
            if alias in normalised:
                mapping[fieldname] = normalised.index(alias)
                break
    if "title" in mapping and normalised[mapping["title"]] != "title" and "title" in normalised:
        mapping.setdefault("prefix", normalised.index("title"))
    used = set(mapping.values())
    unknown = [
        clean(headers[i], limit=40) for i, n in enumerate(normalised)
        if i not in used and n and n not in _IGNORED_HEADERS
    ]
    return mapping, unknown


def _sniff_delimiter(first_line: str) -> str:
    """The header line's delimiter; a comma when the header has no delimiter at all."""
    try:
        return csv.Sniffer().sniff(first_line[:SNIFF_CHARS], delimiters=DELIMITERS).delimiter
    except csv.Error:  # one column, or nothing that looks like a delimiter
        return ","


def _unformula(value: str) -> str:
    """Undo the apostrophe that export puts before cells spreadsheets would run as formulas."""
    if len(value) >= 2 and value[0] == "'" and (
        value[1] in FORMULA_START or (value[1] == "'" and value[2:3] in FORMULA_START)
    ):
        return value[1:]
    return value


def parse_csv(text: str) -> tuple[list[ParsedRecord], list[str]]:
    """Read our, Outlook's and Google's CSV layouts; raise ImportRejected if unusable."""
    if not text.strip():
        raise ImportRejected("the file is empty")
    first_line = text.lstrip("\ufeff").split("\n", 1)[0]
    delimiter = _sniff_delimiter(first_line)
    previous_limit = csv.field_size_limit()
    csv.field_size_limit(MAX_FILE_BYTES)  # long cells are reported per row, not by csv
    try:
        reader = csv.reader(io.StringIO(text.lstrip("\ufeff"), newline=""), delimiter=delimiter)
        try:
            headers = next(reader)
        except (StopIteration, csv.Error) as exc:
            raise ImportRejected(f"line 1: no readable header row ({exc})") from None
        mapping, unknown = _map_headers(headers)
        missing = []
        if "email" not in mapping and "email2" not in mapping:
            missing.append("e-mail (e.g. 'email', 'E-mail Address', 'E-mail 1 - Value')")
        if not ({"full_name", "first", "last"} & mapping.keys()):
            missing.append("name (e.g. 'full_name', 'Name', 'First Name' + 'Last Name')")
        if "title" not in mapping:
            missing.append("title (e.g. 'title', 'Job Title', 'Organization 1 - Title')")
        if missing:
            found = ", ".join(repr(clean(h, limit=40)) for h in headers[:12]) or "none"
            raise ImportRejected(
                "line 1: required columns missing: " + "; ".join(missing) + f". Found: {found}"
            )
        warnings = []
        if unknown:
            shown = ", ".join(unknown[:8]) + (" …" if len(unknown) > 8 else "")
            warnings.append(f"columns not imported: {shown}")
        records: list[ParsedRecord] = []
        line = 2
        while True:
            start = reader.line_num + 1
            try:
                row = next(reader)
            except StopIteration:
                break
            except csv.Error as exc:
                records.append(ParsedRecord(start, error=f"unreadable CSV ({exc})"))
                break
            line = start
            if not any(cell.strip() for cell in row):
                continue
            records.append(_csv_record(line, row, mapping, len(headers)))
    finally:
        csv.field_size_limit(previous_limit)
    return records, warnings


def _csv_record(line: int, row: list[str], mapping: dict[str, int], width: int) -> ParsedRecord:
    record = ParsedRecord(line)
    for index, cell in enumerate(row):
        if len(cell) > MAX_CELL_CHARS:
            record.error = (
                f"column {index + 1} has {len(cell):,} characters (limit {MAX_CELL_CHARS:,}); "
                "row not imported"
            )
            return record
    if len(row) > width and any(c.strip() for c in row[width:]):
        record.warnings.append(f"{len(row) - width} cell(s) beyond the header were ignored")

    def get(name: str) -> str | None:
        index = mapping.get(name)
        if index is None:
            return None
        return _unformula(row[index]) if index < len(row) else ""

    raw: dict[str, str | None] = {name: get(name) for name in _HEADER_ALIASES}
    full = (raw["full_name"] or "").strip()
    if not full:
        parts = [raw[p] or "" for p in ("prefix", "first", "middle", "last", "suffix")]
        full = " ".join(p.strip() for p in parts if p and p.strip())
    record.values["full_name"] = full
    email = (raw["email"] or "").strip() or (raw["email2"] or "").strip()
    record.values["email"] = email
    record.values["title"] = raw["title"] or ""
    for name in ("role", "notes", "id"):
        if raw[name] is not None:
            record.values[name] = raw[name]
    if raw["org_ids"] is not None:
        record.values["org_refs"] = raw["org_ids"]
    if raw["company"] is not None:
        record.values["company"] = raw["company"]
    record.set_eligible(raw["eligible"], "eligible", "yes or no")
    return record
