"""vCard in: 2.1, 3.0 and 4.0 through vobject, one card at a time so a bad card is just
skipped (and reported with the line it starts on)."""

from __future__ import annotations

import re
from typing import Any

from juston_tui.contacts_io.records import MAX_CELL_CHARS, ImportRejected, ParsedRecord
from juston_tui.text import clean

_BEGIN = re.compile(r"^BEGIN:VCARD\s*$", re.IGNORECASE)
_END = re.compile(r"^END:VCARD\s*$", re.IGNORECASE)
_ORG_IDS_LINE = re.compile(r"^(?:[\w-]+\.)?X-JUSTON-ORG-IDS(?:;[^:]*)?:(.*)$", re.IGNORECASE)


def _split_cards(text: str) -> tuple[list[tuple[int, str]], list[str]]:
    """Cut the file into (first line number, card text); parse each card on its own."""
    cards: list[tuple[int, str]] = []
    warnings: list[str] = []
    current: list[str] | None = None
    start = 0
    depth = 0
    stray = 0
    for number, line in enumerate(text.splitlines(), start=1):
        if _BEGIN.match(line):
            if current is None:
                current, start, depth = [], number, 0
            depth += 1
        if current is None:
            if line.strip():
                stray += 1
            continue
        current.append(line)
        if _END.match(line):
            depth -= 1
            if depth == 0:
                cards.append((start, "\r\n".join(current) + "\r\n"))
                current = None
    if current is not None:
        cards.append((start, "\r\n".join(current) + "\r\n"))
    if stray:
        warnings.append(f"{stray} line(s) outside BEGIN:VCARD … END:VCARD were ignored")
    return cards, warnings


def parse_vcard(text: str) -> tuple[list[ParsedRecord], list[str]]:
    """Parse vCard 2.1/3.0/4.0 with vobject, one card at a time so a bad card is just skipped."""
    import vobject  # vobject (with dateutil): ~150 ms, only when a vCard is read

    cards, warnings = _split_cards(text)
    if not cards:
        raise ImportRejected("no BEGIN:VCARD found: this is not a vCard file")
    records: list[ParsedRecord] = []
    for line, card_text in cards:
        record = ParsedRecord(line)
        records.append(record)
        if not _END.match(card_text.rstrip("\r\n").rsplit("\r\n", 1)[-1]):
            record.error = "the card has no END:VCARD (file cut off?)"
            continue
        try:
            card = vobject.readOne(card_text, ignoreUnreadable=False)
        except Exception as exc:  # vobject raises ParseError and assorted others
            detail = clean(str(exc), limit=120)
            record.error = f"unreadable vCard ({detail})"
            continue
        _vcard_values(card, card_text, record)
    return records, warnings


def _text_value(value: Any) -> str:
    if isinstance(value, list):
        return ",".join(str(v) for v in value)
    return "" if value is None else str(value)


def _vcard_values(card: Any, card_text: str, record: ParsedRecord) -> None:
    contents: dict[str, list[Any]] = card.contents

    def first(name: str) -> str | None:
        items = contents.get(name)
        return _text_value(items[0].value) if items else None

    for prop in contents.values():
        for item in prop:
            if len(_text_value(item.value)) > MAX_CELL_CHARS:
                record.error = (
                    f"{item.name} has {len(_text_value(item.value)):,} characters "
                    f"(limit {MAX_CELL_CHARS:,}); card not imported"
                )
                return
    full = (first("fn") or "").strip()
    if not full and contents.get("n"):
        n = contents["n"][0].value
        parts = [getattr(n, a, "") for a in ("prefix", "given", "additional", "family", "suffix")]
        full = " ".join(_text_value(p).strip() for p in parts if _text_value(p).strip())
    record.values["full_name"] = full
    emails = contents.get("email") or []

    def preferred(item: Any) -> int:
        types = {t.lower() for t in item.params.get("TYPE", [])}
        types |= {t.lower() for t in getattr(item, "singletonparams", ())}  # vCard 2.1
        pref = item.params.get("PREF", [])
        return 0 if ("pref" in types or pref) else 1

    emails = sorted(emails, key=preferred)
    record.values["email"] = _text_value(emails[0].value).strip() if emails else ""
    record.values["title"] = first("title") or ""
    for prop, name in (("role", "role"), ("note", "notes")):
        value = first(prop)
        if value is not None:
            record.values[name] = value
    orgs = contents.get("org")
    if orgs:  # ORG:Company;Department
        value = orgs[0].value
        record.values["company"] = _text_value(value[0] if isinstance(value, list) and value
                                               else value)
    uid = first("uid")
    if uid:
        record.values["id"] = re.sub(r"^urn:uuid:", "", uid.strip(), flags=re.IGNORECASE)
    # vobject drops everything after an unescaped comma in X- properties: read the raw line.
    unfolded = re.sub(r"\r?\n[ \t]", "", card_text)
    for raw_line in unfolded.splitlines():
        match = _ORG_IDS_LINE.match(raw_line)
        if match:
            record.values["org_refs"] = match.group(1).replace("\\,", ",").replace("\\;", ";")
            break
    record.set_eligible(first("x-juston-eligible"), "X-JUSTON-ELIGIBLE", "TRUE/FALSE")
