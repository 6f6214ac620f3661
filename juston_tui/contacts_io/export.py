"""Contacts out: our CSV layout, vCard 3.0/4.0, and the notification list for JustOn support.

Every export lists contacts in the list's order (name, then e-mail) and holds no control
characters (a store from an older version may have them). vobject writes the vCards; the
line folding is ours (see `fold_line`).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Mapping, Sequence

from juston_tui.contacts_io.records import FORMULA_START
from juston_tui.contacts_io.search import sorted_contacts
from juston_tui.model import Contact, Org
from juston_tui.text import clean, strip_controls

# Our own CSV layout (export writes it, import reads it back losslessly).
CSV_COLUMNS = ("full_name", "email", "title", "role", "org_ids", "org_names", "eligible", "notes",
               "id")
VCARD_VERSIONS = ("3.0", "4.0")
# RFC 6350 3.2: "Lines of text SHOULD NOT be longer than 75 octets, excluding the line break."
LINE_OCTETS = 75
_NO_FOLDING = 1 << 30  # a line length vobject never reaches: fold_line decides every fold


def _formula_safe(value: str, *, multiline: bool = False) -> str:
    """A cell as exported: no control characters, and an apostrophe before what spreadsheets
    would run as a formula (= + - @)."""
    value = strip_controls(value, multiline=multiline)
    if value.startswith(FORMULA_START) or (
        value.startswith("'") and value[1:2] in FORMULA_START
    ):
        return "'" + value
    return value


def export_csv(contacts: Iterable[Contact], org_names: Mapping[str, str] | None = None) -> str:
    """Our CSV layout (CSV_COLUMNS); import reads it back field for field."""
    org_names = org_names or {}
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for c in sorted_contacts(contacts):
        names = "; ".join(org_names.get(o, o) for o in c.org_ids)
        writer.writerow([
            _formula_safe(c.full_name), _formula_safe(c.email), _formula_safe(c.title),
            _formula_safe(c.role), " ".join(c.org_ids), _formula_safe(names),
            "yes" if c.eligible else "no", _formula_safe(c.notes, multiline=True), c.id,
        ])
    return out.getvalue()


def fold_line(line: str) -> str:
    """Fold a content line at 75 octets without splitting a UTF-8 character (RFC 6350 3.2).

    Ours, not vobject's: vobject 0.9.9 (`base.foldOneLine`) leaves every line shorter than 75
    *characters* alone, so a German note of 70 characters with a few umlauts went out at 80
    octets (tests/test_contacts_io.py::test_vcard_lines_fit_75_octets_with_umlauts).
    """
    if len(line.encode("utf-8")) <= LINE_OCTETS:
        return line
    parts: list[str] = []
    current = ""
    size = 0
    budget = LINE_OCTETS
    for ch in line:
        width = len(ch.encode("utf-8"))
        if size + width > budget:
            parts.append(current)
            current, size, budget = "", 0, LINE_OCTETS - 1  # continuation lines start with a space
        current += ch
        size += width
    parts.append(current)
    return "\r\n ".join(parts)


def _split_name(full_name: str) -> tuple[str, str]:
    parts = full_name.rsplit(" ", 1)
    return (parts[1], parts[0]) if len(parts) == 2 else (parts[0], "")


def export_vcard(contacts: Iterable[Contact], version: str = "4.0") -> str:
    """vCard 3.0 or 4.0 with FN, N, EMAIL, TITLE, ROLE, NOTE, UID and X-JUSTON-* round trips."""
    return "".join(iter_vcards(contacts, version))


def iter_vcards(contacts: Iterable[Contact], version: str = "4.0") -> Iterator[str]:
    """`export_vcard` one card at a time (vobject takes 1-3 ms a card: a caller with 10,000
    can show progress or stop between cards)."""
    if version not in VCARD_VERSIONS:
        raise ValueError("vCard version is 3.0 or 4.0")
    import vobject  # vobject (with dateutil): ~150 ms, only when a vCard is written
    from vobject.vcard import Name

    def text(value: str) -> str:
        return strip_controls(value, multiline=True)

    for c in sorted_contacts(contacts):
        card = vobject.vCard()
        card.add("version").value = version
        card.add("uid").value = f"urn:uuid:{c.id}" if version == "4.0" else c.id
        card.add("fn").value = text(c.full_name)
        family, given = _split_name(text(c.full_name))
        card.add("n").value = Name(family=family, given=given)
        email = card.add("email")
        email.value = text(c.email)
        email.params["TYPE"] = ["work"] if version == "4.0" else ["INTERNET", "WORK"]
        card.add("title").value = text(c.title)
        if c.role:
            card.add("role").value = text(c.role)
        if c.notes:
            card.add("note").value = text(c.notes)
        if c.org_ids:
            card.add("x-juston-org-ids").value = ",".join(c.org_ids)
        card.add("x-juston-eligible").value = "TRUE" if c.eligible else "FALSE"
        serialized = card.serialize(lineLength=_NO_FOLDING)
        yield "".join(f"{fold_line(line)}\r\n" for line in serialized.split("\r\n") if line)


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
    eligible = [c for c in sorted_contacts(contacts) if c.eligible]
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

