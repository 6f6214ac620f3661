"""Contacts out: our CSV layout, vCard 3.0/4.0, and the notification list for JustOn support.

Every export lists contacts in the list's order (name, then e-mail) and holds no control
characters (a store from an older version may have them).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence

from juston_tui.contacts_io.records import FORMULA_START
from juston_tui.contacts_io.search import sorted_contacts
from juston_tui.model import Contact, Org
from juston_tui.text import clean, strip_controls

# Our own CSV layout (export writes it, import reads it back losslessly).
CSV_COLUMNS = ("full_name", "email", "title", "role", "org_ids", "org_names", "eligible", "notes",
               "id")


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
    for c in sorted_contacts(contacts):
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

