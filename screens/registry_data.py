"""What the registry shows per org, computed once per org so filtering 10,000 rows stays cheap.

An `OrgEntry` holds the plain values (cleaned of control characters) for one org and its last
snapshot, a lower-case haystack for the `/` filter and sort values per column. Cells
(`rich.text.Text`) are only built for rows that are actually drawn (`LazyCells`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from rich.text import Text

from juston_tui.model import Org, Snapshot, instance_from_url, now_utc
from juston_tui.salesforce.facts import CurrentVersion
from juston_tui.screens.widgets.fast_table import Column, Row, sorted_keys, verdict_style
from juston_tui.store import LineRef, Store
from juston_tui.store.first_page import PAGE_ROWS, FirstPage, PageRow, Stamp
from juston_tui.text import clean, fold, matches, search_terms

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

# At narrow widths (issue 17, k9s-like): Name stays put while -> scrolls the rest, and names a
# sandbox itself (SANDBOX_MARK); when the columns do not fit, the org ID shows its 15-character
# form (still unique: Salesforce's case-sensitive ID); below 110 cells the instance drops, below
# 70 the push state and Cash too. The rest scroll; the detail screen (enter) shows everything.
COLUMNS: tuple[Column, ...] = (
    Column("name", "Name", 24, grow=True, frozen=True),
    Column("org_id", "Org ID", 18, min_width=15, crop=True),
    Column("verdict", "Check", 7),
    Column("age", "Age", 5, justify="right"),
    Column("billing", "Billing", 7),
    Column("cash", "Cash", 6, hide_below=70),
    Column("licences", "Licences", 9, justify="right"),
    Column("push", "Push", 10, hide_below=70),
    Column("kind", "Type", 16),
    Column("instance", "Inst.", 6, hide_below=110),
)
SANDBOX_MARK = "sbx "  # before the name: a cut name keeps it; plain text, so NO_COLOR shows it
# Before the name too: the org failed its last two pushes (push_ops.history.failed_twice, the
# core's one judgement; `/failed-twice` filters them).
FAILED_TWICE_MARK = "!! "
FAILED_TWICE_WORD = "failed-twice"


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
    """Sort key of a version text (sorting only: whether it is current is a check's verdict)."""
    parts: list[int] = []
    for piece in (version or "").split("."):
        digits = "".join(ch for ch in piece if ch.isdigit())
        if not digits:
            break
        parts.append(int(digits))
    return tuple(parts)


def fast_clean(value: Any, limit: int | None = None) -> str:
    """`text.clean`, skipping the regex work for the common all-printable string."""
    text = value if isinstance(value, str) else ("" if value is None else str(value))
    if text.isprintable() and (limit is None or len(text) <= limit):
        return text
    return clean(text, limit=limit)


# Values many rows have alike (versions, instances, verdicts, labels, check times, sort
# keys), one object each: each snapshot line parses into new objects, and 100,000 rows would
# otherwise hold 100,000 copies of "2.80.1" (~55 bytes each; ~80 MB at 100,000 orgs in all).
# Bounded: values that do not repeat are forgotten once it is full.
_SHARED: dict[Any, Any] = {}
_SHARED_MAX = 20_000


def shared(value: Any) -> Any:
    """`value`, or the equal one seen before (immutable values only: str, tuple, datetime)."""
    found = _SHARED.get(value)
    if found is not None:
        return found
    if len(_SHARED) >= _SHARED_MAX:
        _SHARED.clear()
    return _SHARED.setdefault(value, value)


def _shared_time(value: str | None) -> datetime | None:
    """`parse_time`, one datetime per distinct time (a sweep's batch saves many alike)."""
    if not value:
        return None
    key = ("time", value)  # apart from the values themselves
    found = _SHARED.get(key)
    if found is None:
        if len(_SHARED) >= _SHARED_MAX:
            _SHARED.clear()
        found = _SHARED[key] = parse_time(value)
    return found


@dataclass(frozen=True, slots=True)
class SnapInfo:
    """The few snapshot values the registry shows. Verdicts are the snapshot's checks as the
    rules made them (juston_tui.salesforce.checks); nothing here judges a fact again."""

    verdict: str = ""  # "" = never checked; else the worst check verdict
    checked_at: datetime | None = None
    billing: str = ""
    cash: str = ""
    billing_current: str = ""  # the label of the current version the check compared with
    licences_used: int | None = None
    licences_allowed: int | None = None
    error: str = ""
    instance: str = ""  # the Salesforce instance (pod) the org runs on, e.g. EU45
    billing_verdict: str = ""  # the package.billing check ("" = not in the snapshot)
    licences_verdict: str = ""  # the licenses check

    @classmethod
    def from_doc(cls, doc: Mapping[str, Any] | None) -> SnapInfo:
        if not doc:
            return cls()
        facts = doc.get("facts") or {}
        packages = facts.get("packages") or {}
        billing = packages.get("billing") or {}
        cash = packages.get("cash") or {}
        current = (facts.get("current_versions") or {}).get("billing")
        used = allowed = None
        namespace = billing.get("namespace") if isinstance(billing, dict) else None
        chosen = None
        for lic in facts.get("licenses") or ():
            if isinstance(lic, dict) and (chosen is None or lic.get("namespace") == namespace):
                chosen = lic
                if lic.get("namespace") == namespace:
                    break
        if chosen is not None:
            used, allowed = chosen.get("used"), chosen.get("allowed")
        verdict, by_id = _verdicts_of(doc)
        billing_check = by_id.get("package.billing") or {}
        return cls(
            verdict=verdict,
            checked_at=_shared_time(doc.get("checked_at")),
            billing=shared(fast_clean(billing.get("version") or "", 20)) if billing else "",
            cash=shared(fast_clean(cash.get("version") or "", 20)) if cash else "",
            billing_current=shared(fast_clean(_current_label(current), 80)),
            licences_used=used if isinstance(used, int) else None,
            licences_allowed=allowed if isinstance(allowed, int) else None,
            error=fast_clean(doc.get("error") or "", 300),
            instance=shared(fast_clean((facts.get("organization") or {}).get("instance") or "",
                                       20)),
            billing_verdict=shared(str(billing_check.get("verdict") or "")),
            licences_verdict=shared(str((by_id.get("licenses") or {}).get("verdict") or "")),
        )

    @classmethod
    def from_snapshot(cls, snapshot: Snapshot) -> SnapInfo:
        return cls.from_doc(snapshot.to_doc())


_ORDER = {"fail": 3, "warn": 2, "unknown": 1, "ok": 0}
_SHOWN = ("package.billing", "licenses")


def _current_label(current: Any) -> str:
    if not current:
        return ""
    parsed = CurrentVersion.from_doc(current)
    return parsed.label if parsed is not None else ""


def _verdicts_of(doc: Mapping[str, Any]) -> tuple[str, dict[str, Mapping[str, Any]]]:
    """The worst verdict of the snapshot and the checks the registry shows, by id."""
    shown: dict[str, Mapping[str, Any]] = {}
    worst = 0
    checks = doc.get("checks") or ()
    for check in checks:
        if not isinstance(check, dict):
            worst = max(worst, 1)
            continue
        rank = _ORDER.get(check.get("verdict"), 1)
        if rank > worst:
            worst = rank
        if check.get("id") in _SHOWN:
            shown[check["id"]] = check
    if doc.get("error") or not checks:
        return "unknown", shown
    return ("ok", "unknown", "warn", "fail")[worst], shown


class OrgEntry:
    """One org as the registry shows it: cleaned values, filter haystack, sort values.

    Built from the stored document; the `Org` object is only made when someone asks for it
    (10,000 `Org.from_doc` calls would cost more than the whole first render may).
    """

    __slots__ = ("_haystack", "_info", "_org", "_snap_doc", "_sorts", "doc", "failed_twice",
                 "name", "parent_name")

    def __init__(self, doc: Mapping[str, Any],
                 snap_doc: Mapping[str, Any] | SnapshotLine | None = None,
                 parent_name: str = "", org: Org | None = None,
                 info: SnapInfo | None = None, failed_twice: bool = False) -> None:
        self.doc = doc
        self.failed_twice = failed_twice
        self._snap_doc = snap_doc
        self._info = info
        self.parent_name = fast_clean(parent_name, 80)
        self.name = fast_clean(doc.get("name", ""), 200)
        self._org = org
        self._haystack: str | None = None
        self._sorts: list[Any] | None = None  # per column, _UNSORTED until computed

    @classmethod
    def build(cls, org: Org, info: SnapInfo, parent_name: str = "",
              failed_twice: bool = False) -> OrgEntry:
        return cls(org.to_doc(), None, parent_name, org, info, failed_twice)

    @property
    def org(self) -> Org:
        if self._org is None:
            self._org = Org.from_doc(self.doc)
        return self._org

    @property
    def info(self) -> SnapInfo:
        """Parsed on first use: the first frame only parses the rows it draws."""
        info = self._info
        if info is None:
            snap_doc = self._snap_doc
            info = _info_of(snap_doc)
            # The index worker and the UI may both get here; a newer snapshot set through
            # the setter in between wins.
            if self._info is None and self._snap_doc is snap_doc:
                self._info = info
                self._snap_doc = None  # its line or document is not needed again
            else:
                return self._info or info
        return info

    @info.setter
    def info(self, value: SnapInfo) -> None:
        self._info = value
        self._snap_doc = None
        self._haystack = None
        self._sorts = None

    def stored(self) -> PageRow | None:
        """What this entry was built from, for a first page; None once its snapshot line
        was parsed (and dropped) or its info set."""
        snap = self._snap_doc
        if isinstance(snap, tuple):
            return PageRow(self.doc, self.parent_name, line_bytes(snap[1]), self.failed_twice)
        if snap is None and self._info is _NEVER:
            return PageRow(self.doc, self.parent_name, None, self.failed_twice)
        return None

    @property
    def key(self) -> str:
        return self.doc["org_id"]

    @property
    def name_key(self) -> str:
        """The name's sort key, made when asked, not kept (~6 MB at 100,000 orgs; sorting
        them by name folds each name once, ~20 ms)."""
        return self.name.casefold()

    @property
    def push_state(self) -> str:
        return (self.doc.get("push") or {}).get("state", "not_registered")

    @property
    def vendor(self) -> bool:
        return bool(self.doc.get("vendor"))

    @property
    def haystack(self) -> str:
        """The words the `/` filter searches (name, IDs, tags, states), `text.fold`ed."""
        if self._haystack is None:
            self._haystack = self._make_haystack()
        return self._haystack

    def reindex(self) -> None:
        self._haystack = None

    def prepare(self) -> None:
        """Parse, index and compute sort values now (a worker does this after the first frame)."""
        _ = self.haystack
        for index in _CACHED_SORTS:
            self.sort_value(index)

    def _make_haystack(self) -> str:
        doc = self.doc
        info = self.info
        words = [
            self.name,
            doc["org_id"],
            " ".join(doc.get("tags") or ()),
            PUSH_WORDS.get(self.push_state, self.push_state),
            info.verdict or "unchecked",
            doc.get("kind", "production"),
            self.parent_name,
            fast_clean(doc.get("instance_url", "")),
        ]
        if self.vendor:
            words.append("vendor")
        if doc.get("kind") == "sandbox":
            words.append(SANDBOX_MARK.strip())  # what the Name column shows
        if info.error:
            words.append("error")
        if self.failed_twice:
            words.append(FAILED_TWICE_WORD)
        return fold(" ".join(words))

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
        if self.doc.get("kind") == "sandbox":
            parent = self.parent_name or (self.doc.get("parent_org_id") or "")[:15]
            return f"sbx ← {parent}" if parent else "sandbox"
        return "vendor" if self.vendor else "production"

    def instance_text(self) -> str:
        """The instance the last check read; before one, what the instance URL names."""
        if self.info.instance:
            return self.info.instance
        return fast_clean(instance_from_url(self.doc.get("instance_url") or ""), 20)

    def sort_value(self, index: int) -> Any:
        """The sort value of one column (computed when first needed, then kept). None of them
        depends on the clock: the age sorts by when the org was checked (newest first), so
        the rows need no new sort values as the ages move on."""
        if index <= 1:  # the name's and the ID's, not kept (see name_key)
            return self.name_key if index == 0 else self.key
        sorts = self._sorts
        if sorts is None:  # a list, not a dict: ~120 bytes a row, not ~360
            sorts = self._sorts = [_UNSORTED] * (len(COLUMNS) - 2)
        value = sorts[index - 2]
        if value is _UNSORTED:
            value = sorts[index - 2] = self._sort_value(index)
        return value

    def _sort_value(self, index: int) -> Any:
        info = self.info
        if index == 0:
            return self.name_key
        if index == 1:
            return self.key
        if index == 2:
            return VERDICT_ORDER.get(info.verdict, 4)
        if index == 3:
            checked = info.checked_at
            return -checked.timestamp() if checked is not None else None
        if index == 4:
            return shared(version_tuple(info.billing)) or None
        if index == 5:
            return shared(version_tuple(info.cash)) or None
        if index == 6:
            return info.licences_used
        if index == 7:
            return self.push_state
        if index == 8:
            return shared(self.kind_text().casefold())
        return shared(self.instance_text().casefold())

    def sort_values(self) -> tuple[Any, ...]:
        return tuple(self.sort_value(i) for i in range(len(COLUMNS)))

    # The entry is its row's sort values too (`entry_row`): one object less per row than a
    # view of them (LazySortValues: ~5 MB at 100,000 orgs).
    def __len__(self) -> int:
        return len(COLUMNS)

    def __getitem__(self, index: int) -> Any:
        return self.sort_value(index)

    def cells(self, now: datetime) -> tuple[Text, ...]:
        info = self.info
        stale = self.is_stale(now)
        age = format_age(info.checked_at, now) + ("!" if stale else "")
        billing_style = _CHECK_STYLES.get(info.billing_verdict, "")
        licence_style = _CHECK_STYLES.get(info.licences_verdict, "")
        name = Text(self.name)
        if self.doc.get("kind") == "sandbox":
            name = Text.assemble((SANDBOX_MARK, "dim"), self.name)
        if self.vendor:
            name.append(" (vendor)", style="dim")
        if self.failed_twice:
            name = Text.assemble((FAILED_TWICE_MARK, "bold red"), name)
        push = self.push_state
        return (
            name,
            Text(self.key),
            Text(VERDICT_LABELS.get(info.verdict, info.verdict), style=verdict_style(info.verdict)),
            Text(age, style="bold yellow" if stale else ""),
            Text(info.billing or "—", style=billing_style),
            Text(info.cash or "—"),
            Text(self.licences_text(), style=licence_style),
            Text(PUSH_LABELS.get(push, push)),
            Text(self.kind_text()),
            Text(self.instance_text()),
        )


# A cell coloured by its check's verdict (ok and unknown stay plain).
_CHECK_STYLES = {"warn": "yellow", "fail": "bold red"}
_CACHED_SORTS = (2, 3, 4, 5, 6, 7, 8, 9)  # all but name and ID (ready)
_UNSORTED = object()  # a sort value not computed yet (None is one: it sorts last)


class RowClock:
    """The time the registry's cells are drawn for, shared by all its rows.

    `advance(now)` is O(1): every row's cells notice the new epoch when they are next drawn,
    so a clock tick rebuilds only the rows on screen (and the others when they scroll in)."""

    __slots__ = ("epoch", "now")

    def __init__(self, now: datetime) -> None:
        self.now = now
        self.epoch = 0

    def advance(self, now: datetime) -> None:
        self.now = now
        self.epoch += 1


class LazyCells(Sequence[Text]):
    """Cells built on first access: only drawn rows pay for `rich.text.Text` objects; built
    again when the clock has moved on (`RowClock.advance`) and they are drawn again."""

    __slots__ = ("_cells", "_clock", "_entry", "_epoch")

    def __init__(self, entry: OrgEntry, clock: RowClock) -> None:
        self._entry = entry
        self._clock = clock
        self._cells: tuple[Text, ...] | None = None
        self._epoch = -1

    def _built(self) -> tuple[Text, ...]:
        clock = self._clock
        if self._cells is None or self._epoch != clock.epoch:
            self._epoch = clock.epoch
            self._cells = self._entry.cells(clock.now)
        return self._cells

    def __len__(self) -> int:
        return len(COLUMNS)

    def __getitem__(self, index: Any) -> Any:
        return self._built()[index]


def entry_row(entry: OrgEntry, clock: RowClock | datetime) -> Row:
    """The table row of an entry; its cells are drawn for `clock`'s time (a datetime: a fixed
    clock of its own)."""
    if isinstance(clock, datetime):
        clock = RowClock(clock)
    return Row(entry.key, LazyCells(entry, clock), entry)


# A snapshot's stored line, or where it is (`Store.iter_snapshot_lines`), and its parser.
SnapshotLine = tuple[Callable[[bytes | LineRef], Mapping[str, Any]], bytes | LineRef]


_NEVER = SnapInfo()  # an org never checked (shared: SnapInfo is never changed in place)


def _info_of(snap: Mapping[str, Any] | SnapshotLine | None) -> SnapInfo:
    """A snapshot's row values, from its document or its stored line (parsed here)."""
    if isinstance(snap, tuple):
        parse, line = snap
        try:
            snap = parse(line)
        except Exception as exc:  # a damaged line: that row says so, the others are shown
            return SnapInfo(verdict="unknown", error=fast_clean(str(exc), 300))
    return SnapInfo.from_doc(snap)


def build_entries_from_lines(
    org_docs: Iterable[Mapping[str, Any]],
    snapshot_lines: Iterable[tuple[str, bytes | LineRef]],
    parse: Callable[[bytes | LineRef], Mapping[str, Any]],
    failed_twice: frozenset[str] = frozenset(),
) -> dict[str, OrgEntry]:
    """`build_entries` from the snapshots' stored lines (`Store.iter_snapshot_lines`): each
    is parsed where its row is first drawn or by the index worker, then dropped. The first
    rows wait for no snapshot parse (~400 ms at 10,000 orgs), and memory holds where the
    lines are (~1 MB), not 13 MB of lines or 95 MB of parsed snapshots."""
    docs = list(org_docs)
    names = {d["org_id"]: d.get("name", "") for d in docs}
    lines = dict(snapshot_lines)
    entries: dict[str, OrgEntry] = {}
    for doc in docs:
        parent_id = doc.get("parent_org_id")
        parent = names.get(parent_id, "") if parent_id else ""
        entries[doc["org_id"]] = _stored_entry(doc, lines.get(doc["org_id"]), parent,
                                               doc["org_id"] in failed_twice, parse)
    return entries


def _stored_entry(doc: Mapping[str, Any], line: bytes | LineRef | None, parent: str,
                  failed: bool, parse: Callable[[bytes | LineRef], Mapping[str, Any]]
                  ) -> OrgEntry:
    return OrgEntry(doc, (parse, line) if line is not None else None, parent,
                    info=None if line is not None else _NEVER, failed_twice=failed)


def entries_from_page(page: FirstPage, parse: Callable[[bytes], Mapping[str, Any]]
                      ) -> dict[str, OrgEntry]:
    """The entries of a first page (juston_tui.store.first_page), built as a full read
    builds them (`build_entries_from_lines`): the same documents give the same rows."""
    return {row.doc["org_id"]: _stored_entry(row.doc, row.snapshot_line, row.parent_name,
                                             row.failed_twice, parse) for row in page.rows}


def line_bytes(line: bytes | LineRef) -> bytes:
    """A stored snapshot line's bytes (a `LineRef` is read: in a worker)."""
    return line.read() if isinstance(line, LineRef) else line


def name_key_of(doc: Mapping[str, Any]) -> str:
    """What the Name column sorts by (`OrgEntry.name_key`), from the stored document."""
    return fast_clean(doc.get("name", ""), 200).casefold()


def page_from_store(store: Store, failed_twice: Callable[[], frozenset[str]]
                    ) -> tuple[FirstPage, Stamp] | None:
    """The first page as a full read would keep it, read straight from the store (its
    documents in memory, one pass over the snapshot file for the page's lines), and the stamp
    it was read at; None when a file changed meanwhile. For a page kept after this process's
    own writes, which the store file's stamp no longer matches."""
    stamp = store.disk_stamp()
    docs = {d["org_id"]: d for d in store.org_docs()}  # the store's order, as a load has it
    keys = sorted_keys({}, list(docs), 0, False, lambda key: name_key_of(docs[key]))
    wanted = set(keys[:PAGE_ROWS])
    lines = {org: line_bytes(line) for org, line in store.iter_snapshot_lines()
             if org in wanted}
    failed = failed_twice()
    if store.disk_stamp() != stamp:
        return None
    rows = []
    for key in keys[:PAGE_ROWS]:
        doc = docs[key]
        parent = docs.get(doc.get("parent_org_id") or "")
        rows.append(PageRow(doc, parent.get("name", "") if parent else "", lines.get(key),
                            key in failed))
    return FirstPage(tuple(rows), len(docs), ("name", False)), stamp


def page_of(entries: Mapping[str, OrgEntry], keys: Iterable[str], sort: tuple[str, bool]
            ) -> FirstPage | None:
    """The first page of `entries` in `keys`' order (at most PAGE_ROWS), from the stored
    documents they were built from; None once a snapshot line was parsed and dropped."""
    rows: list[PageRow] = []
    for key in keys:
        if len(rows) == PAGE_ROWS:
            break
        stored = entries[key].stored()
        if stored is None:
            return None
        rows.append(stored)
    return FirstPage(tuple(rows), len(entries), sort)


def build_entries(
    org_docs: Iterable[Mapping[str, Any]], snapshot_docs: Iterable[Mapping[str, Any]],
    failed_twice: frozenset[str] = frozenset(),
) -> dict[str, OrgEntry]:
    """Entries keyed by org ID, in the store's order, from the stored documents;
    `failed_twice`: the orgs that failed their last two pushes (push_ops.history).

    Each snapshot is cut down to what the registry shows (`SnapInfo`) as it is read: pass an
    iterator (`Store.iter_snapshot_docs`) and 10,000 snapshots' facts are never in memory at
    once (95 MB at 10k orgs with a full list; issue 16's memory goal is 150 MB in all)."""
    docs = list(org_docs)
    names = {d["org_id"]: d.get("name", "") for d in docs}
    infos = {d.get("org_id"): SnapInfo.from_doc(d) for d in snapshot_docs}
    entries: dict[str, OrgEntry] = {}
    for doc in docs:
        parent_id = doc.get("parent_org_id")
        parent = names.get(parent_id, "") if parent_id else ""
        entries[doc["org_id"]] = OrgEntry(doc, None, parent,
                                          info=infos.get(doc["org_id"]) or _NEVER,
                                          failed_twice=doc["org_id"] in failed_twice)
    return entries


def matcher(query: str) -> Callable[[OrgEntry], bool] | None:
    """Every whitespace-separated term must occur in the entry's folded haystack: the one
    matcher of every filter (`text.search_terms` / `text.matches`; "zurch" finds "Zürcher").

    None when the query has no terms (everything matches: callers skip the loop). The loop
    is inlined here rather than calling `matches` (10,000 entries per keystroke).
    """
    terms = search_terms(query)
    if not terms:
        return None
    if len(terms) == 1:
        term = terms[0]
        return lambda entry: term in entry.haystack
    return lambda entry: matches(terms, entry.haystack)


def count_verdicts(entries: Iterable[OrgEntry], now: datetime) -> tuple[dict[str, int], int]:
    """Orgs per verdict ("" = never checked) and how many checks are stale (a worker's job:
    it walks every entry)."""
    counts = {"ok": 0, "warn": 0, "fail": 0, "unknown": 0, "": 0}
    stale = 0
    for entry in entries:
        verdict = entry.info.verdict
        counts[verdict if verdict in counts else "unknown"] += 1
        if entry.is_stale(now):
            stale += 1
    return counts, stale


def filter_entries(entries: Iterable[OrgEntry], query: str) -> list[OrgEntry]:
    match = matcher(query)
    return list(entries) if match is None else [e for e in entries if match(e)]
