"""Bytes to text: refuse what is no contact file, then read the text in its encoding.

UTF-8 with or without BOM and UTF-16/32 with BOM are read as such; UTF-16 without a BOM is
recognised by its zero bytes; anything else falls back to Windows-1252 (what Excel writes on
German Windows) with a warning.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

from juston_tui.contacts_io.records import MAX_FILE_BYTES, ImportRejected

Format = Literal["csv", "vcard"]

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
