"""Import planning: what a file would add, update or skip (and why), then applying it.

Nothing is written until the preview has been looked at; a bad row never aborts the others
(it is reported with its line number); empty cells never overwrite what is stored; applying
re-plans against the store as it is now, inside one transaction, so nothing is half-imported
and an edit made since the preview is neither lost nor duplicated.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from juston_tui.contacts_io.csv_import import parse_csv
from juston_tui.contacts_io.decoding import decode_bytes, detect_format
from juston_tui.contacts_io.records import (
    FIELD_LABELS,
    FIELD_LIMITS,
    MAX_FILE_BYTES,
    ImportRejected,
    ParsedRecord,
)
from juston_tui.contacts_io.vcard_import import parse_vcard
from juston_tui.model import Contact, Org, ValidationError, normalize_org_id, validate_email
from juston_tui.store import Store
from juston_tui.text import clean, strip_controls

Action = Literal["add", "update", "unchanged", "error"]


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
        writes = [r.contact for r in rows if r.action in ("add", "update") and r.contact]
        if writes:
            store.put_contacts(writes)  # _plan gave each e-mail address one contact
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
