"""What the registry shows per org, computed once per org so filtering 10,000 rows stays cheap.

An `OrgEntry` holds the plain values (cleaned of control characters) for one org and its last
snapshot, a lower-case haystack for the `/` filter and sort values per column. Cells
(`rich.text.Text`) are only built for rows that are actually drawn (`LazyCells`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from rich.text import Text

from juston_tui.model import Org, Snapshot, now_utc
from juston_tui.screens.widgets.fast_table import Column, Row, verdict_style
from juston_tui.text import clean

STALE_AFTER = timedelta(hours=24)
PUSH_LABELS = {
    "not_registered": "—",
    "request_drafted": "drafted",
    "requested": "requested",
    "registered": "registered",
    "withdrawn": "withdrawn",
}
# Filter words per push state; none contains another ("registered" must not match the rest).
PUSH_WORDS = {
    "not_registered": "no-push",
    "request_drafted": "drafted",
    "requested": "requested",
    "registered": "registered",
    "withdrawn": "withdrawn",
}
VERDICT_LABELS = {"ok": "ok", "warn": "warn", "fail": "fail", "unknown": "unknown", "": "—"}
VERDICT_ORDER = {"fail": 0, "warn": 1, "unknown": 2, "ok": 3, "": 4}

COLUMNS: tuple[Column, ...] = (
    Column("name", "Name", 20, grow=True),
    Column("org_id", "Org ID", 18),
    Column("verdict", "Check", 7),
    Column("age", "Age", 5, justify="right"),
    Column("billing", "Billing", 7),
    Column("cash", "Cash", 6),
    Column("licences", "Licences", 9, justify="right"),
    Column("push", "Push", 10),
    Column("kind", "Type", 16),
    Column("instance", "Inst.", 6),
)


def app_now(app: Any) -> datetime:
    """The app's clock (tests and snapshots inject `app.clock`), else the real time."""
    clock = getattr(app, "clock", None)
    return clock() if callable(clock) else now_utc()


def parse_time(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def format_age(checked_at: datetime | None, now: datetime) -> str:
    """`5m`, `3h`, `2d`; `—` when never checked."""
    if checked_at is None:
        return "—"
    seconds = max(0, int((now - checked_at).total_seconds()))
    if seconds < 3600:
        return f"{seconds // 60}m"
    if seconds < 86400 * 2:
        return f"{seconds // 3600}h"
    return f"{seconds // 86400}d"


def version_tuple(version: str | None) -> tuple[int, ...]:
    parts: list[int] = []
    for piece in (version or "").split("."):
        digits = "".join(ch for ch in piece if ch.isdigit())
        if not digits:
            break
        parts.append(int(digits))
    return tuple(parts)


def is_current(installed: str | None, current: str | None) -> bool | None:
    """Is the installed version at least the current release (major.minor)? None: unknown."""
    if not installed or not current:
        return None
    have = version_tuple(installed)
    want = version_tuple(current)
    if not have or not want:
        return None
    return have[: len(want)] >= want


@dataclass(frozen=True, slots=True)
class SnapInfo:
    """The few snapshot facts the registry shows."""

    verdict: str = ""  # "" = never checked
    checked_at: datetime | None = None
    billing: str = ""
    cash: str = ""
    billing_current: str = ""
    licences_used: int | None = None
    licences_allowed: int | None = None
    error: str = ""

    @classmethod
    def from_doc(cls, doc: Mapping[str, Any] | None) -> SnapInfo:
        if not doc:
            return cls()
        facts = doc.get("facts") or {}
        packages = facts.get("packages") or {}
        billing = packages.get("billing") or {}
        cash = packages.get("cash") or {}
        current = facts.get("current_versions") or {}
        used = allowed = None
        licences = facts.get("licenses") or []
        namespace = billing.get("namespace") if isinstance(billing, Mapping) else None
        chosen = None
        for lic in licences:
            if isinstance(lic, Mapping) and (chosen is None or lic.get("namespace") == namespace):
                chosen = lic
                if lic.get("namespace") == namespace:
                    break
        if chosen is not None:
            used, allowed = chosen.get("used"), chosen.get("allowed")
        return cls(
            verdict=_verdict_of(doc),
            checked_at=parse_time(doc.get("checked_at")),
            billing=clean(billing.get("version") or "", limit=20) if billing else "",
            cash=clean(cash.get("version") or "", limit=20) if cash else "",
            billing_current=clean(current.get("billing") or "", limit=20),
            licences_used=used if isinstance(used, int) else None,
            licences_allowed=allowed if isinstance(allowed, int) else None,
            error=clean(doc.get("error") or "", limit=300),
        )

    @classmethod
    def from_snapshot(cls, snapshot: Snapshot) -> SnapInfo:
        return cls.from_doc(snapshot.to_doc())


def _verdict_of(doc: Mapping[str, Any]) -> str:
    if doc.get("error"):
        return "unknown"
    order = {"fail": 3, "warn": 2, "unknown": 1, "ok": 0}
    worst = "ok"
    checks = doc.get("checks") or []
    for check in checks:
        verdict = check.get("verdict", "unknown") if isinstance(check, Mapping) else "unknown"
        if order.get(verdict, 1) > order[worst]:
            worst = verdict if verdict in order else "unknown"
    return worst if checks else "unknown"


@dataclass(slots=True)
class OrgEntry:
    """One org as the registry shows it: cleaned values, filter haystack, sort values."""

    org: Org
    info: SnapInfo
    parent_name: str = ""
    name: str = ""
    haystack: str = field(default="", repr=False)

    @classmethod
    def build(cls, org: Org, info: SnapInfo, parent_name: str = "") -> OrgEntry:
        entry = cls(org, info, clean(parent_name, limit=80), clean(org.name, limit=200))
        entry.reindex()
        return entry

    def reindex(self) -> None:
        org = self.org
        words = [
            self.name,
            org.org_id,
            " ".join(org.tags),
            PUSH_WORDS.get(org.push.state, org.push.state),
            self.info.verdict or "unchecked",
            org.kind,
            self.parent_name,
            clean(org.instance_url),
        ]
        if org.vendor:
            words.append("vendor")
        if self.info.error:
            words.append("error")
        self.haystack = " ".join(words).casefold()

    @property
    def key(self) -> str:
        return self.org.org_id

    def is_stale(self, now: datetime) -> bool:
        checked = self.info.checked_at
        return checked is not None and now - checked > STALE_AFTER

    def licences_text(self) -> str:
        used, allowed = self.info.licences_used, self.info.licences_allowed
        if used is None and allowed is None:
            return "—"
        shown = "site" if allowed is not None and allowed < 0 else str(allowed)
        return f"{used if used is not None else '?'}/{shown}"

    def kind_text(self) -> str:
        if self.org.kind == "sandbox":
            parent = self.parent_name or (self.org.parent_org_id or "")[:15]
            return f"sbx ← {parent}" if parent else "sandbox"
        return "vendor" if self.org.vendor else "production"

    def instance_text(self) -> str:
        host = self.org.instance_url.removeprefix("https://").split(".")[0]
        return clean(host or self.org.domain, limit=40)

    def sort_values(self, now: datetime) -> tuple[Any, ...]:
        info = self.info
        age = (now - info.checked_at).total_seconds() if info.checked_at else None
        used = info.licences_used
        return (
            self.name.casefold(),
            self.org.org_id,
            VERDICT_ORDER.get(info.verdict, 4),
            age,
            version_tuple(info.billing) or None,
            version_tuple(info.cash) or None,
            used,
            self.org.push.state,
            self.kind_text().casefold(),
            self.instance_text().casefold(),
        )

    def cells(self, now: datetime) -> tuple[Text, ...]:
        info = self.info
        stale = self.is_stale(now)
        age = format_age(info.checked_at, now) + ("!" if stale else "")
        billing_style = ""
        if is_current(info.billing, info.billing_current) is False:
            billing_style = "yellow"
        used, allowed = info.licences_used, info.licences_allowed
        licence_style = ""
        if used is not None and allowed is not None and 0 <= allowed <= used:
            licence_style = "yellow"
        name = Text(self.name)
        if self.org.vendor:
            name.append(" (vendor)", style="dim")
        return (
            name,
            Text(self.org.org_id),
            Text(VERDICT_LABELS.get(info.verdict, info.verdict), style=verdict_style(info.verdict)),
            Text(age, style="bold yellow" if stale else ""),
            Text(info.billing or "—", style=billing_style),
            Text(info.cash or "—"),
            Text(self.licences_text(), style=licence_style),
            Text(PUSH_LABELS.get(self.org.push.state, self.org.push.state)),
            Text(self.kind_text()),
            Text(self.instance_text()),
        )


class LazyCells(Sequence[Text]):
    """Cells built on first access: only drawn rows pay for `rich.text.Text` objects."""

    __slots__ = ("_cells", "_entry", "_now")

    def __init__(self, entry: OrgEntry, now: datetime) -> None:
        self._entry = entry
        self._now = now
        self._cells: tuple[Text, ...] | None = None

    def _built(self) -> tuple[Text, ...]:
        if self._cells is None:
            self._cells = self._entry.cells(self._now)
        return self._cells

    def __len__(self) -> int:
        return len(COLUMNS)

    def __getitem__(self, index: Any) -> Any:
        return self._built()[index]


def entry_row(entry: OrgEntry, now: datetime) -> Row:
    return Row(entry.key, LazyCells(entry, now), entry.sort_values(now))


def build_entries(
    orgs: Iterable[Org], snapshot_docs: Iterable[Mapping[str, Any]]
) -> dict[str, OrgEntry]:
    """Entries keyed by org ID, in the store's order."""
    org_list = list(orgs)
    names = {o.org_id: o.name for o in org_list}
    snaps = {d.get("org_id"): d for d in snapshot_docs}
    entries: dict[str, OrgEntry] = {}
    for org in org_list:
        parent = names.get(org.parent_org_id or "", "") if org.parent_org_id else ""
        entries[org.org_id] = OrgEntry.build(org, SnapInfo.from_doc(snaps.get(org.org_id)),
                                             parent)
    return entries


def matcher(query: str) -> Callable[[OrgEntry], bool]:
    """Every whitespace-separated term must occur in the entry's haystack (case-insensitive)."""
    terms = clean(query).casefold().split()
    if not terms:
        return lambda entry: True
    if len(terms) == 1:
        term = terms[0]
        return lambda entry: term in entry.haystack
    return lambda entry: all(t in entry.haystack for t in terms)


def filter_entries(entries: Iterable[OrgEntry], query: str) -> list[OrgEntry]:
    match = matcher(query)
    return [e for e in entries if match(e)]
