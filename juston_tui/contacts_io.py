"""Contacts in and out: CSV / vCard import with a preview, exports, search, demo data.

Seed 000: JustOn keeps a list of contacts eligible for push-upgrade notifications and asks for
each one's full name, e-mail address and title. People keep those contacts in Outlook, Google
Contacts or a vCard address book, so import reads those layouts; nothing is written until the
preview has been looked at, a bad row never aborts the others (it is reported with its line
number), and applying a preview is one atomic store write, so nothing is ever half-imported.

No Textual here (the screen and the CLI both use this module); vobject is imported lazily.
"""

from __future__ import annotations

import bisect
import csv
import io
import re
import threading
import unicodedata
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from juston_tui.model import Contact, Org, ValidationError, normalize_org_id, validate_email
from juston_tui.text import clean, strip_controls

if TYPE_CHECKING:
    from juston_tui.store import Store

__all__ = [
    "CSV_COLUMNS",
    "MAX_CELL_CHARS",
    "MAX_FILE_BYTES",
    "ContactIndex",
    "ImportPreview",
    "ImportRejected",
    "ParsedRecord",
    "RowOutcome",
    "apply_import",
    "decode_bytes",
    "detect_format",
    "export_csv",
    "export_vcard",
    "mutt_query_lines",
    "notification_list",
    "parse_file",
    "preview_import",
    "preview_text",
    "seed_demo",
]

Format = Literal["csv", "vcard"]
Action = Literal["add", "update", "unchanged", "error"]

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
# Our own CSV layout (export writes it, import reads it back losslessly).
CSV_COLUMNS = ("full_name", "email", "title", "role", "org_ids", "org_names", "eligible", "notes",
               "id")


class ImportRejected(ValueError):
    """The whole file cannot be imported (binary, unknown encoding, missing columns)."""


# -- reading bytes --------------------------------------------------------------------------

_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"PK\x03\x04", "a ZIP archive or Excel workbook (.xlsx): save it as CSV (UTF-8) first"),
    (b"\xd0\xcf\x11\xe0", "an old Excel/Office file (.xls): save it as CSV (UTF-8) first"),
    (b"%PDF", "a PDF document"),
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"\x7fELF", "a program (ELF binary)"),
    (b"SQLite format 3", "an SQLite database"),
)
_BINARY_CONTROLS = re.compile(r"[\x00-\x08\x0b\x0e-\x1a\x1c-\x1f]")


def decode_bytes(data: bytes) -> tuple[str, str, list[str]]:
    """Return (text, encoding, warnings) or raise ImportRejected with what the file seems to be.

    UTF-8 with or without BOM and UTF-16/32 with BOM are read as such; UTF-16 without a BOM
    is recognised by its zero bytes; anything else falls back to Windows-1252 (what Excel
    writes on German Windows) with a warning, because umlauts may then be wrong.
    """
    warnings: list[str] = []
    if len(data) > MAX_FILE_BYTES:
        raise ImportRejected(
            f"the file has {len(data):,} bytes; the limit is {MAX_FILE_BYTES:,} "
            "(split it into smaller files)"
        )
    for magic, what in _MAGIC:
        if data.startswith(magic):
            raise ImportRejected(f"this is not a CSV or vCard file but {what}")
    encoding: str
    if data.startswith(b"\xef\xbb\xbf"):
        encoding = "utf-8-sig"
    elif data.startswith((b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff")):
        encoding = "utf-32"
    elif data.startswith((b"\xff\xfe", b"\xfe\xff")):
        encoding = "utf-16"
    else:
        encoding = _guess_bomless_utf16(data) or "utf-8"
        if encoding != "utf-8":
            warnings.append(f"no byte-order mark: read as {encoding.upper()} from its zero bytes")
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        if encoding != "utf-8":
            raise ImportRejected(
                f"the file starts like {encoding.upper()} but byte {exc.start} is invalid "
                "(damaged or binary file)"
            ) from None
        try:
            text = data.decode("cp1252")
        except UnicodeDecodeError:
            raise ImportRejected(
                "the file is neither UTF-8 nor Windows-1252 text; it looks binary "
                f"(undecodable byte at offset {exc.start})"
            ) from None
        encoding = "cp1252"
        warnings.append(
            f"the file is not UTF-8 (invalid byte at offset {exc.start}); read it as "
            "Windows-1252 (cp1252). Check names with umlauts in the preview; save as "
            "'CSV UTF-8' to avoid this"
        )
    sample = text[:65536]
    controls = len(_BINARY_CONTROLS.findall(sample))
    if "\x00" in sample or controls > max(2, len(sample) // 200):
        raise ImportRejected(
            f"the file looks binary ({controls} control characters in the first "
            f"{len(sample):,} characters); expected a CSV or vCard text file"
        )
    return text, encoding, warnings


def _guess_bomless_utf16(data: bytes) -> str | None:
    head = data[:512]
    if len(head) < 8:
        return None
    even_zero = sum(1 for b in head[0::2] if b == 0)
    odd_zero = sum(1 for b in head[1::2] if b == 0)
    half = len(head) // 2
    if odd_zero > half * 0.7 and even_zero < half * 0.1:
        return "utf-16-le"
    if even_zero > half * 0.7 and odd_zero < half * 0.1:
        return "utf-16-be"
    return None


def detect_format(path: str | Path, text: str, explicit: str | None = None) -> Format:
    """`--format` beats the content beats the extension."""
    if explicit:
        if explicit not in ("csv", "vcard"):
            raise ImportRejected(f"unknown import format {explicit!r} (csv or vcard)")
        return explicit  # type: ignore[return-value]
    if text.lstrip()[:11].upper() == "BEGIN:VCARD":
        return "vcard"
    if Path(str(path)).suffix.lower() in (".vcf", ".vcard"):
        return "vcard"
    return "csv"


# -- parsed records -------------------------------------------------------------------------


@dataclass
class ParsedRecord:
    """One row or card as read: only the fields the source actually has."""

    line: int
    values: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    error: str | None = None
    new_id: str = field(default_factory=lambda: str(uuid.uuid4()))


@dataclass
class RowOutcome:
    """What applying the preview would do with one record, and why."""

    line: int
    action: Action
    reason: str = ""
    contact: Contact | None = None
    existing: Contact | None = None
    changes: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    name: str = ""  # as read from the file (cleaned, shortened): error rows have no contact
    email: str = ""

    @property
    def is_error(self) -> bool:
        return self.action == "error"

    @property
    def who(self) -> tuple[str, str]:
        """Name and e-mail to show for this row."""
        if self.contact is not None:
            return self.contact.full_name, self.contact.email
        return self.name, self.email


@dataclass
class ImportPreview:
    """The whole answer to "what would this import do?", before anything is written."""

    source: str
    format: str = "csv"
    encoding: str = ""
    rows: list[RowOutcome] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    fatal: str | None = None
    records: list[ParsedRecord] = field(default_factory=list, repr=False)
    link_org_ids: tuple[str, ...] = ()
    applied: bool = False

    def _count(self, action: str) -> int:
        return sum(1 for r in self.rows if r.action == action)

    @property
    def added(self) -> int:
        return self._count("add")

    @property
    def updated(self) -> int:
        return self._count("update")

    @property
    def unchanged(self) -> int:
        return self._count("unchanged")

    @property
    def errors(self) -> int:
        return self._count("error")

    @property
    def skipped(self) -> int:
        return self.unchanged + self.errors

    @property
    def has_problems(self) -> bool:
        return self.fatal is not None or self.errors > 0

    @property
    def writes(self) -> list[Contact]:
        return [r.contact for r in self.rows if r.action in ("add", "update") and r.contact]

    def summary(self) -> str:
        if self.fatal:
            return f"{self.source}: not imported: {self.fatal}"
        verb = "" if self.applied else "would be "
        return (
            f"{self.source} ({self.format}, {self.encoding}): {self.added} {verb}added, "
            f"{self.updated} {verb}updated, {self.skipped} skipped "
            f"({self.unchanged} unchanged, {self.errors} with errors)"
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "format": self.format,
            "encoding": self.encoding,
            "applied": self.applied,
            "fatal": self.fatal,
            "warnings": list(self.warnings),
            "counts": {"add": self.added, "update": self.updated,
                       "unchanged": self.unchanged, "error": self.errors},
            "rows": [
                {
                    "line": r.line,
                    "action": r.action,
                    "reason": r.reason,
                    "changes": list(r.changes),
                    "warnings": list(r.warnings),
                    "name": r.who[0],
                    "email": r.who[1],
                    "contact": r.contact.to_doc() if r.contact else None,
                }
                for r in self.rows
            ],
        }


# -- CSV --------------------------------------------------------------------------------------


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
_TRUE = {"yes", "y", "true", "1", "x", "ja", "j", "wahr", "on", "eligible"}
_FALSE = {"no", "n", "false", "0", "nein", "falsch", "off", "-"}
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


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
    counts = {d: 0 for d in (",", ";", "\t")}
    quoted = False
    for ch in first_line:
        if ch == '"':
            quoted = not quoted
        elif not quoted and ch in counts:
            counts[ch] += 1
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def _unformula(value: str) -> str:
    """Undo the apostrophe that export puts before cells spreadsheets would run as formulas."""
    if len(value) >= 2 and value[0] == "'" and (
        value[1] in _FORMULA_START or (value[1] == "'" and value[2:3] in _FORMULA_START)
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
    if raw["eligible"] is not None and raw["eligible"].strip():
        value = raw["eligible"].strip().casefold()
        if value in _TRUE:
            record.values["eligible"] = True
        elif value in _FALSE:
            record.values["eligible"] = False
        else:
            record.error = f"eligible: {clean(raw['eligible'], limit=30)!r} is not yes or no"
    return record


# -- vCard ------------------------------------------------------------------------------------

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
    import vobject

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
    eligible = first("x-juston-eligible")
    if eligible is not None and eligible.strip():
        value = eligible.strip().casefold()
        if value in _TRUE:
            record.values["eligible"] = True
        elif value in _FALSE:
            record.values["eligible"] = False
        else:
            record.error = f"X-JUSTON-ELIGIBLE: {clean(eligible, limit=30)!r} is not TRUE/FALSE"


# -- planning -------------------------------------------------------------------------------


def _uuid_or_none(value: str | None) -> str | None:
    if not value:
        return None
    try:
        return str(uuid.UUID(value.strip()))
    except ValueError:
        return None


def _resolve_org_refs(refs: str, orgs: Mapping[str, Org]) -> tuple[list[str], list[str]]:
    """Org IDs (15/18) or registered org names, separated by `;`, `,`, newlines or spaces."""
    by_name = {name: o.org_id for name, o in _by_name(orgs).items()}
    ids: list[str] = []
    warnings: list[str] = []
    for part in re.split(r"[;,\n]+", refs):
        part = part.strip()
        if not part:
            continue
        tokens = part.split()
        try:
            ids.extend(normalize_org_id(t, "org_ids") for t in tokens)
            continue
        except ValidationError:
            pass
        org_id = by_name.get(" ".join(tokens).casefold())
        if org_id:
            ids.append(org_id)
        else:
            warnings.append(f"{clean(part, limit=40)!r} is neither an org ID nor a registered "
                            "org name: not linked")
    for org_id in ids:
        if org_id not in orgs:
            warnings.append(f"org {org_id} is not registered here (link kept)")
    return list(dict.fromkeys(ids)), warnings


_UNSAFE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def _clean_field(name: str, value: str, warnings: list[str]) -> str:
    """Keep the text, drop what could drive a terminal (ESC sequences, control characters)."""
    cleaned = strip_controls(value, multiline=name == "notes")
    if _UNSAFE.search(value):
        warnings.append(
            f"{FIELD_LABELS.get(name, name)}: control characters / escape sequences removed"
        )
    return cleaned


def _by_name(orgs: Mapping[str, Org]) -> dict[str, Org]:
    return {" ".join(o.name.split()).casefold(): o for o in orgs.values()}


def _company_link(company: str, orgs: Mapping[str, Org], warnings: list[str]) -> str | None:
    """The registered org a Company/Organization cell names (same name, any case), or None."""
    name = " ".join(company.split())
    if not name:
        return None
    org = _by_name(orgs).get(name.casefold())
    if org is None:
        warnings.append(f"company {clean(name, limit=40)!r} is not a registered org: not linked")
        return None
    warnings.append(f"linked to {clean(org.name, limit=60)} (the company column names it)")
    return org.org_id


def _plan_record(
    record: ParsedRecord,
    by_email: dict[str, Contact],
    by_id: dict[str, Contact],
    orgs: Mapping[str, Org],
    link_org_ids: Sequence[str],
) -> RowOutcome:
    warnings = list(record.warnings)
    raw = {"name": clean(record.values.get("full_name", ""), limit=80),
           "email": clean(record.values.get("email", ""), limit=80)}
    if record.error:
        return RowOutcome(record.line, "error", record.error, warnings=tuple(warnings), **raw)
    values: dict[str, Any] = {}
    company = ""
    for name, value in record.values.items():
        if name in ("eligible",):
            values[name] = value
        elif name == "org_refs":
            if not str(value).strip():
                continue  # an empty cell links nothing and unlinks nothing
            ids, org_warnings = _resolve_org_refs(str(value), orgs)
            warnings.extend(org_warnings)
            values["org_ids"] = ids
        elif name == "company":
            company = _clean_field(name, str(value), warnings)
        else:
            values[name] = _clean_field(name, str(value), warnings)
    too_long = [
        f"{FIELD_LABELS[n]} has {len(values[n]):,} characters (limit {limit:,})"
        for n, limit in FIELD_LIMITS.items()
        if n in values and len(values[n]) > limit
    ]
    if too_long:
        return RowOutcome(record.line, "error", "; ".join(too_long), warnings=tuple(warnings),
                          **raw)
    try:
        key = validate_email(values.get("email", "")).lower()
    except ValidationError as exc:
        return RowOutcome(record.line, "error", _errors_text(exc), warnings=tuple(warnings),
                          **raw)
    existing = by_email.get(key)
    file_id = values.pop("id", None)
    if existing is not None:
        # Empty cells never overwrite what is stored (an Outlook export's empty Notes cell).
        values = {k: v for k, v in values.items() if not (isinstance(v, str) and not v.strip())}
    extra = list(link_org_ids)
    company_org = _company_link(company, orgs, warnings)
    if company_org is not None:
        extra.append(company_org)
    if extra:
        base = values.get("org_ids", list(existing.org_ids) if existing else [])
        values["org_ids"] = list(dict.fromkeys([*base, *extra]))
    try:
        if existing is not None:
            merged = existing.to_doc()
            merged.update(values)
            merged["email"] = existing.email  # same address up to case: keep the stored one
            merged["id"] = existing.id
            contact = Contact.create(**merged)
        else:
            wanted = _uuid_or_none(file_id)
            new_id = wanted if wanted and wanted not in by_id else record.new_id
            contact = Contact.create(**{**values, "id": new_id})
    except ValidationError as exc:
        return RowOutcome(record.line, "error", _errors_text(exc), warnings=tuple(warnings),
                          **raw)
    if existing is None:
        return RowOutcome(record.line, "add", "new contact", contact, None, (),
                          tuple(warnings))
    old, new = existing.to_doc(), contact.to_doc()
    changes = tuple(FIELD_LABELS.get(k, k) for k in new if old.get(k) != new[k])
    if not changes:
        return RowOutcome(record.line, "unchanged", f"already up to date ({existing.email})",
                          contact, existing, (), tuple(warnings))
    return RowOutcome(record.line, "update", "changes " + _describe_changes(old, new, orgs),
                      contact, existing, changes, tuple(warnings))


def _describe_changes(old: Mapping[str, Any], new: Mapping[str, Any],
                      orgs: Mapping[str, Org]) -> str:
    """`title ('Admin' -> 'Head of IT'), orgs ('' -> 'Acme GmbH')`: every changed field."""

    def shown(key: str, value: Any) -> str:
        if key == "eligible":
            return "yes" if value else "no"
        if key == "org_ids":
            return ", ".join(orgs[o].name if o in orgs else o for o in value or ())
        return str(value or "")

    parts = []
    for key, value in new.items():
        if old.get(key) == value:
            continue
        before, after = clean(shown(key, old.get(key)), limit=30), clean(shown(key, value),
                                                                         limit=30)
        parts.append(f"{FIELD_LABELS.get(key, key)} ({before!r} -> {after!r})")
    return ", ".join(parts)


def _errors_text(exc: ValidationError) -> str:
    return "; ".join(f"{FIELD_LABELS.get(k, k)}: {v}" for k, v in exc.errors.items())


def _plan(
    records: Sequence[ParsedRecord],
    contacts: Iterable[Contact],
    orgs: Mapping[str, Org],
    link_org_ids: Sequence[str],
) -> list[RowOutcome]:
    existing = list(contacts)
    by_email = {c.email.lower(): c for c in existing}
    by_id = {c.id: c for c in existing}
    seen: dict[str, int] = {}
    outcomes: list[RowOutcome] = []
    for record in records:
        outcome = _plan_record(record, by_email, by_id, orgs, link_org_ids)
        if outcome.contact is not None:
            key = outcome.contact.email.lower()
            if key in seen:
                outcome = RowOutcome(
                    record.line, "error",
                    f"the same e-mail ({outcome.contact.email}) as line {seen[key]}; skipped",
                    warnings=outcome.warnings, name=outcome.contact.full_name,
                    email=outcome.contact.email,
                )
            else:
                seen[key] = record.line
                by_id[outcome.contact.id] = outcome.contact
        outcomes.append(outcome)
    return outcomes


def parse_file(
    path: str | Path, data: bytes | None = None, *, fmt: str | None = None
) -> ImportPreview:
    """Read and parse a file into records (no store access); problems end up in the preview."""
    # A file name that is not UTF-8 (lone surrogates) must still print on a UTF-8 terminal.
    source = str(path).encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    preview = ImportPreview(source=source)
    try:
        if data is None:
            file_path = Path(path).expanduser()
            try:
                size = file_path.stat().st_size
            except OSError as exc:
                raise ImportRejected(f"cannot read the file: {exc.strerror or exc}") from None
            if not file_path.is_file():
                raise ImportRejected("not a regular file")
            if size > MAX_FILE_BYTES:
                raise ImportRejected(
                    f"the file has {size:,} bytes; the limit is {MAX_FILE_BYTES:,}"
                )
            try:
                data = file_path.read_bytes()
            except OSError as exc:
                raise ImportRejected(f"cannot read the file: {exc.strerror or exc}") from None
        text, preview.encoding, warnings = decode_bytes(data)
        preview.warnings.extend(warnings)
        preview.format = detect_format(path, text, fmt)
        parser = parse_vcard if preview.format == "vcard" else parse_csv
        records, warnings = parser(text)
        preview.warnings.extend(warnings)
        preview.records = records
        if not records:
            preview.warnings.append("the file has no contacts in it")
    except ImportRejected as exc:
        preview.fatal = str(exc)
    return preview


def preview_import(
    store: Store,
    path: str | Path,
    data: bytes | None = None,
    *,
    fmt: str | None = None,
    link_org_ids: Sequence[str] = (),
) -> ImportPreview:
    """What importing `path` would add, update or skip (and why); writes nothing."""
    preview = parse_file(path, data, fmt=fmt)
    preview.link_org_ids = tuple(link_org_ids)
    if preview.fatal is None:
        orgs = {o.org_id: o for o in store.list_orgs()}
        preview.rows = _plan(preview.records, store.list_contacts(), orgs, link_org_ids)
    return preview


def apply_import(store: Store, preview: ImportPreview) -> ImportPreview:
    """Write the preview's adds and updates in one atomic store write.

    The plan is recomputed inside the write lock against the store as it is now, so an edit
    made since the preview (here or in another process) is neither lost nor duplicated.
    """
    if preview.fatal is not None:
        return preview
    with store.transaction():
        orgs = {o.org_id: o for o in store.list_orgs()}
        rows = _plan(preview.records, store.list_contacts(), orgs, preview.link_org_ids)
        docs = [r.contact.to_doc() for r in rows if r.action in ("add", "update") and r.contact]
        if docs:
            store.put_many("contacts", docs)
    return ImportPreview(
        source=preview.source, format=preview.format, encoding=preview.encoding, rows=rows,
        warnings=list(preview.warnings), records=preview.records,
        link_org_ids=preview.link_org_ids, applied=True,
    )


def preview_text(preview: ImportPreview, *, limit: int | None = None) -> list[str]:
    """The preview as plain lines (CLI and the import dialog share the words)."""
    lines = [preview.summary()]
    lines.extend(f"warning: {w}" for w in preview.warnings)
    labels = {"add": "add", "update": "update", "unchanged": "skip", "error": "ERROR"}
    shown = preview.rows if limit is None else preview.rows[:limit]
    for row in shown:
        name, email = row.who
        who = f"{clean(name, limit=60)} <{clean(email, limit=80)}>: " if name or email else ""
        lines.append(f"line {row.line}: {labels[row.action]}: {who}{clean(row.reason)}")
        lines.extend(f"line {row.line}:   note: {clean(w)}" for w in row.warnings)
    if limit is not None and len(preview.rows) > limit:
        lines.append(f"… and {len(preview.rows) - limit} more row(s)")
    return lines


# -- export ---------------------------------------------------------------------------------


def _sort_key(contact: Contact) -> tuple[str, str]:
    return (contact.full_name.casefold(), contact.email.casefold())


def _sorted(contacts: Iterable[Contact]) -> list[Contact]:
    return sorted(contacts, key=_sort_key)


def _formula_safe(value: str, *, multiline: bool = False) -> str:
    """A cell as exported: no control characters (a store from an older version may hold
    them), and an apostrophe before what spreadsheets would run as a formula (= + - @)."""
    value = strip_controls(value, multiline=multiline)
    if value.startswith(_FORMULA_START) or (
        value.startswith("'") and value[1:2] in _FORMULA_START
    ):
        return "'" + value
    return value


def export_csv(contacts: Iterable[Contact], org_names: Mapping[str, str] | None = None) -> str:
    """Our CSV layout (CSV_COLUMNS); import reads it back field for field."""
    org_names = org_names or {}
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for c in _sorted(contacts):
        names = "; ".join(org_names.get(o, o) for o in c.org_ids)
        writer.writerow([
            _formula_safe(c.full_name), _formula_safe(c.email), _formula_safe(c.title),
            _formula_safe(c.role), " ".join(c.org_ids), _formula_safe(names),
            "yes" if c.eligible else "no", _formula_safe(c.notes, multiline=True), c.id,
        ])
    return out.getvalue()


def _vescape(value: str) -> str:
    value = strip_controls(value, multiline=True)
    return (value.replace("\\", "\\\\").replace(",", "\\,").replace(";", "\\;")
            .replace("\n", "\\n"))


def _fold(line: str) -> str:
    """Fold a content line at 75 octets without splitting a UTF-8 character (RFC 6350 3.2)."""
    encoded = line.encode("utf-8")
    if len(encoded) <= 75:
        return line
    parts: list[str] = []
    current = ""
    size = 0
    budget = 75
    for ch in line:
        width = len(ch.encode("utf-8"))
        if size + width > budget:
            parts.append(current)
            current, size, budget = "", 0, 74  # continuation lines start with a space
        current += ch
        size += width
    parts.append(current)
    return "\r\n ".join(parts)


def _split_name(full_name: str) -> tuple[str, str]:
    parts = full_name.rsplit(" ", 1)
    return (parts[1], parts[0]) if len(parts) == 2 else (parts[0], "")


def export_vcard(contacts: Iterable[Contact], version: str = "4.0") -> str:
    """vCard 3.0 or 4.0 with FN, N, EMAIL, TITLE, ROLE, NOTE, UID and X-JUSTON-* round trips."""
    if version not in ("3.0", "4.0"):
        raise ValueError("vCard version is 3.0 or 4.0")
    lines: list[str] = []
    for c in _sorted(contacts):
        family, given = _split_name(c.full_name)
        card = [
            "BEGIN:VCARD",
            f"VERSION:{version}",
            f"UID:urn:uuid:{c.id}" if version == "4.0" else f"UID:{c.id}",
            f"FN:{_vescape(c.full_name)}",
            f"N:{_vescape(family)};{_vescape(given)};;;",
            f"EMAIL;TYPE=work:{c.email}" if version == "4.0"
            else f"EMAIL;TYPE=INTERNET,WORK:{c.email}",
            f"TITLE:{_vescape(c.title)}",
        ]
        if c.role:
            card.append(f"ROLE:{_vescape(c.role)}")
        if c.notes:
            card.append(f"NOTE:{_vescape(c.notes)}")
        if c.org_ids:
            card.append("X-JUSTON-ORG-IDS:" + "\\,".join(c.org_ids))
        card.append(f"X-JUSTON-ELIGIBLE:{'TRUE' if c.eligible else 'FALSE'}")
        card.append("END:VCARD")
        lines.extend(_fold(x) for x in card)
    return "".join(f"{line}\r\n" for line in lines)


def notification_list(
    contacts: Iterable[Contact], orgs: Iterable[Org], org_ids: Sequence[str] | None = None
) -> str:
    """The eligible contacts of the chosen orgs, as the text block to send to JustOn support.

    Seed 000: "provide us with their full name, e-mail address and title". One section per
    org (support files contacts per org ID), one contact per line. Without `org_ids`, every
    org with eligible contacts, plus eligible contacts linked to no org.
    """
    org_list = list(orgs)
    by_id = {o.org_id: o for o in org_list}
    eligible = [c for c in _sorted(contacts) if c.eligible]
    chosen = list(dict.fromkeys(org_ids)) if org_ids else sorted(
        {o for c in eligible for o in c.org_ids},
        key=lambda o: (by_id[o].name.casefold() if o in by_id else "~", o),
    )
    out = ["Contacts for JustOn push-upgrade notifications (full name, e-mail, title):", ""]
    count = 0
    for org_id in chosen:
        org = by_id.get(org_id)
        heading = f"{clean(org.name)} (org ID {org_id})" if org else f"Org ID {org_id}"
        out.append(heading)
        members = [c for c in eligible if org_id in c.org_ids]
        if not members:
            out.append("  (no eligible contacts)")
        for c in members:
            out.append(f"  {clean(c.full_name)}, {clean(c.email)}, {clean(c.title)}")
            count += 1
        out.append("")
    if not org_ids:
        loose = [c for c in eligible if not c.org_ids]
        if loose:
            out.append("Not linked to an org")
            out.extend(f"  {clean(c.full_name)}, {clean(c.email)}, {clean(c.title)}"
                       for c in loose)
            out.append("")
            count += len(loose)
    if count == 0 and not chosen:
        out.append("(no eligible contacts)")
        out.append("")
    return "\n".join(out).rstrip("\n") + "\n"


# -- search ---------------------------------------------------------------------------------


_COMBINING = re.compile("[\u0300-\u036f]")


def _fold_text(text: str) -> str:
    """Case-fold plus accent-free and German-transliterated forms: "mul", "muel" find Müller."""
    folded = text.casefold()
    if folded.isascii():
        return folded
    german = (folded.replace("ä", "ae").replace("ö", "oe").replace("ü", "ue"))
    bare = _COMBINING.sub("", unicodedata.normalize("NFKD", folded))
    return f"{folded}\x00{bare}\x00{german}"


class ContactIndex:
    """Every contact with one folded search string over all its fields (incl. org names).

    The search strings are built on first use (or ahead of time by `warm()` in a worker), so
    showing a list never waits for them; a keystroke is then one substring test per contact,
    a few milliseconds for 10,000 contacts.
    """

    def __init__(self, contacts: Iterable[Contact], org_names: Mapping[str, str]) -> None:
        self.contacts = _sorted(contacts)
        self.org_names = dict(org_names)
        self._haystacks: list[str] | None = None
        self._version = 0
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self.contacts)

    def org_label(self, contact: Contact) -> str:
        return ", ".join(self.org_names.get(o, o) for o in contact.org_ids)

    @property
    def haystacks(self) -> list[str]:
        while self._haystacks is None:
            version = self._version
            built = [self._haystack(c) for c in list(self.contacts)]
            with self._lock:
                if version == self._version:  # not edited meanwhile (warm() is in a thread)
                    self._haystacks = built
        return self._haystacks

    def warm(self) -> None:
        """Build the search strings now (call from a worker thread after the first paint)."""
        _ = self.haystacks

    def get(self, contact_id: str) -> Contact | None:
        for contact in self.contacts:
            if contact.id == contact_id:
                return contact
        return None

    def find_email(self, email: str) -> Contact | None:
        wanted = email.strip().casefold()
        for contact in self.contacts:
            if contact.email.casefold() == wanted:
                return contact
        return None

    def remove(self, contact_id: str) -> Contact | None:
        """Drop one contact in place (no rebuild: an edit on a 10k list stays cheap)."""
        with self._lock:
            for position, contact in enumerate(self.contacts):
                if contact.id == contact_id:
                    self._version += 1
                    del self.contacts[position]
                    if self._haystacks is not None:
                        del self._haystacks[position]
                    return contact
        return None

    def upsert(self, contact: Contact) -> None:
        """Insert or replace one contact, keeping the name order."""
        self.remove(contact.id)
        with self._lock:
            position = bisect.bisect_left(self.contacts, _sort_key(contact), key=_sort_key)
            self._version += 1
            self.contacts.insert(position, contact)
            if self._haystacks is not None:
                self._haystacks.insert(position, self._haystack(contact))

    def _haystack(self, c: Contact) -> str:
        parts = [c.full_name, c.email, c.title, c.role, c.notes, " ".join(c.org_ids),
                 self.org_label(c), "eligible" if c.eligible else "not-eligible"]
        return _fold_text("\x01".join(parts))

    def search(self, query: str, *, org_id: str | None = None,
               eligible_only: bool = False) -> list[Contact]:
        """Contacts containing every whitespace-separated term of `query` in any field."""
        terms = [t.casefold() for t in query.split()]
        if not terms and org_id is None and not eligible_only:
            return list(self.contacts)
        found = []
        for contact, hay in zip(self.contacts, self.haystacks, strict=True):
            if org_id is not None and org_id not in contact.org_ids:
                continue
            if eligible_only and not contact.eligible:
                continue
            if all(t in hay for t in terms):
                found.append(contact)
        return found


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


# -- demo data --------------------------------------------------------------------------------

_DEMO_PEOPLE: tuple[tuple[str, str, str, str], ...] = (
    # full name, e-mail local part, title, role
    ("Anna Müller", "anna.mueller", "Salesforce-Administratorin", "Admin"),
    ("Jürgen Weiß", "juergen.weiss", "Head of Finance", "Finance"),
    ("Sophie Gruber", "sophie.gruber", "Leiterin Debitorenbuchhaltung", "Accounts receivable"),
    ("Lukas Hofer", "lukas.hofer", "Salesforce Developer", "Admin"),
    ("Renée Bächli", "renee.baechli", "CFO", "Finance"),
    ("Matthias Schönberger", "matthias.schoenberger", "IT-Leiter", "IT"),
    ("Katharina Öztürk", "katharina.oeztuerk", "Billing Specialist", "Billing"),
    ("Stefan Maier", "stefan.maier", "Salesforce-Administrator", "Admin"),
    ("Eva Zwölfer", "eva.zwoelfer", "Teamleiterin Fakturierung", "Billing"),
    ("Niklas Brändli", "niklas.braendli", "Head of Revenue Operations", "RevOps"),
    ("Lena Fuchs", "lena.fuchs", "Buchhalterin", "Accounting"),
    ("Thomas Küng", "thomas.kueng", "CRM-Verantwortlicher", "Admin"),
    ("Marie-Luise Eßer", "marie-luise.esser", "Kaufmännische Leiterin", "Finance"),
    ("Florian Pichler", "florian.pichler", "Salesforce Consultant", "Partner"),
    ("Hannah Steiner", "hannah.steiner", "Controlling", "Finance"),
    ("Dominik Wüthrich", "dominik.wuethrich", "Release Manager", "IT"),
    ("Julia Lehner", "julia.lehner", "Head of Customer Success", "Customer success"),
    ("Maximilian Größl", "maximilian.groessl", "Systemadministrator", "IT"),
    ("Claudia Bürgi", "claudia.buergi", "Leiterin Finanzen & Controlling", "Finance"),
    ("Tobias Kärcher", "tobias.kaercher", "Salesforce Platform Owner", "Admin"),
    ("Sabine Moser", "sabine.moser", "Accounting Manager", "Accounting"),
    ("Andreas Hübner", "andreas.huebner", "Geschäftsführer", "Management"),
    ("Verena Egger", "verena.egger", "Dunning & Collections Lead", "Cash management"),
    ("Patrick Schätzle", "patrick.schaetzle", "Salesforce-Administrator (Sandbox)", "Admin"),
    ("Test [red]x[/] Markup", "markup.test", "QA Engineer", "Testing"),
)


def _company_domain(org: Org) -> str:
    """The e-mail domain of the company behind an org: its My Domain's name (the sandbox
    suffix dropped) under example.com, as the simulated orgs' users have; else its name."""
    my_domain = org.domain if org.domain not in ("login", "test") else ""
    slug = my_domain.split("--")[0].split(".")[0] if my_domain else re.sub(
        r"[^a-z0-9]+", "-", _fold_text(org.name).split("\x00")[-1]).strip("-")
    return f"{slug or 'example'}.example.com"


def seed_demo(store: Store, orgs: Sequence[Org]) -> None:
    """Add ~25 realistic contacts linked to the demo orgs (called by juston_tui.demo).

    IDs are stable (uuid5 of the e-mail) and existing e-mails are left alone, so seeding twice
    changes nothing. A few are not eligible; one name carries Rich markup to prove escaping.
    """
    customers = [o for o in orgs if not o.vendor]
    # People work for a company: they get its production org (and some its sandbox too).
    targets = [o for o in customers if o.kind == "production"] or customers or list(orgs)
    sandboxes: dict[str, Org] = {}
    for org in customers:
        if org.kind == "sandbox" and org.parent_org_id:
            sandboxes.setdefault(org.parent_org_id, org)
    not_eligible = {3, 10, 17, 22}
    docs = []
    existing = {c.email.lower() for c in store.list_contacts()}
    for index, (name, local, title, role) in enumerate(_DEMO_PEOPLE):
        linked: list[str] = []
        domain = "example.com"
        if targets:
            company = targets[index % len(targets)]
            linked.append(company.org_id)
            sandbox = sandboxes.get(company.org_id)
            if sandbox is not None and (index % 3 == 0 or role == "Admin"):
                linked.append(sandbox.org_id)
            domain = _company_domain(company)
        email = f"{local}@{domain}"
        if email.lower() in existing:
            continue
        contact = Contact.create(
            id=str(uuid.uuid5(uuid.NAMESPACE_URL, f"juston-tui-demo:{email}")),
            full_name=name, email=email, title=title, role=role, org_ids=linked,
            eligible=index not in not_eligible,
            notes="Demo contact (seeded)" if index % 7 else "Bitte auch über Sandbox-Pushes "
            "informieren.",
        )
        docs.append(contact.to_doc())
    if docs:
        store.put_many("contacts", docs)
