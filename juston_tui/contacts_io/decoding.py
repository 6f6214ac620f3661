"""Bytes to text: refuse what is no contact file, then read the text in its encoding.

charset-normalizer judges the encoding of everything that is not UTF-8: byte-order marks,
UTF-16/32 without one, the legacy code pages. Two rules of ours stand before and after it,
each because a test shows the library reading a real file wrong:

- UTF-8 (with or without BOM) is read as UTF-8 when it decodes as UTF-8 and has no NUL byte
  (UTF-16 text has them). charset-normalizer reads some valid UTF-8 as something else: our
  own vCard export of "Şükrü Öğüt" came back as Korean cp949, "힇체kr체 횜휓체t"
  (tests/test_contacts_io.py::test_utf8_is_utf8_even_when_a_guess_says_otherwise), and
  about one example in five of test_round_trip_property failed the same way.
- An 8-bit file that Windows-1252 reads plausibly is read as Windows-1252, what Excel writes
  on Western European Windows. On a file of a few rows the library cannot tell it from its
  look-alikes and picks Windows-1250, which turns "Frère" into "Frčre" and "Muñoz" into
  "Muńoz" (test_windows_1252_french_and_spanish_names). Other guesses (Cyrillic, Japanese, …)
  are taken as the library makes them.
"""

from __future__ import annotations

import codecs
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
# Only to say what a file that nothing can decode started out as (UTF-32 before UTF-16:
# the UTF-32 LE mark begins with the UTF-16 LE one).
_BOMS = ((codecs.BOM_UTF32_LE, "UTF-32"), (codecs.BOM_UTF32_BE, "UTF-32"),
         (codecs.BOM_UTF16_LE, "UTF-16"), (codecs.BOM_UTF16_BE, "UTF-16"))
_UNICODE = ("utf-8", "ascii", "utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-32-le",
            "utf-32-be")
WESTERN = "cp1252"


def decode_bytes(data: bytes) -> tuple[str, str, list[str]]:
    """Return (text, encoding, warnings) or raise ImportRejected with what the file seems to be.

    A guessed encoding (anything but UTF-8 and a byte-order mark) comes with a warning:
    names may then be wrong, and the preview shows them before anything is written.
    """
    if len(data) > MAX_FILE_BYTES:
        raise ImportRejected(
            f"the file has {len(data):,} bytes; the limit is {MAX_FILE_BYTES:,} "
            "(split it into smaller files)"
        )
    for magic, what in _MAGIC:
        if data.startswith(magic):
            raise ImportRejected(f"this is not a CSV or vCard file but {what}")
    warnings: list[str] = []
    text = _as_utf8(data)
    if text is not None:
        encoding = "utf-8-sig" if data.startswith(codecs.BOM_UTF8) else "utf-8"
    else:
        text, encoding = _guess(data, warnings)
    sample = text[:65536]
    controls = len(_BINARY_CONTROLS.findall(sample))
    if "\x00" in sample or controls > max(2, len(sample) // 200):
        raise ImportRejected(
            f"the file looks binary ({controls} control characters in the first "
            f"{len(sample):,} characters); expected a CSV or vCard text file"
        )
    return text, encoding, warnings


def _as_utf8(data: bytes) -> str | None:
    if b"\x00" in data:  # UTF-16/32 (or binary): charset-normalizer decides
        return None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return None


def _guess(data: bytes, warnings: list[str]) -> tuple[str, str]:
    # charset_normalizer: ~50 ms to import, only for a file that is not UTF-8.
    from charset_normalizer import from_bytes

    matches = from_bytes(data)
    best = matches.best()
    if best is None:
        raise ImportRejected(_undecodable(data))
    encoding = codecs.lookup(best.encoding).name
    if encoding in _UNICODE:
        if not best.bom:
            warnings.append(f"no byte-order mark: read as {encoding.upper()} (guessed from "
                            "the content)")
        return str(best), encoding
    text, what = str(best), f"{encoding} (guessed from the content)"
    if any(WESTERN in match.could_be_from_charset for match in matches):
        # Listed means it decodes (the library tried it), but keep the guess if it did not.
        try:
            text, encoding, what = data.decode(WESTERN), WESTERN, "Windows-1252 (cp1252)"
        except UnicodeDecodeError:
            pass
    warnings.append(
        f"the file is not UTF-8; read it as {what}. Check names with umlauts and accents "
        "in the preview; save as 'CSV UTF-8' to avoid this"
    )
    return text, encoding


def _undecodable(data: bytes) -> str:
    for bom, name in _BOMS:
        if data.startswith(bom):
            return (f"the file starts like {name} (byte-order mark) but does not decode as "
                    f"{name} (damaged or binary file)")
    return ("the file is neither UTF-8 nor text in another known encoding; it looks binary")


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
