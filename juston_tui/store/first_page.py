"""The registry's first screenful, kept between runs so the next start shows rows at once.

Parsing the store and building 10,000 entries takes ~300 ms after the first frame (bench/
registry_bench.py); a person waits for the first rows, not for the rest. So after a start-up
read the first `PAGE_ROWS` orgs in name order are written, with the stored documents they were
built from, to a small file in the user's cache folder, together with the *stamp* of the store
and snapshot files they were read from (device, inode, mtime, size of each). The next start
reads that file before its first frame and shows those rows only if both files still have that
stamp: any write since (ours, another process's, a restore) changes it, and the page is
ignored. The full read replaces the page a moment later either way.

The page holds what the store holds (org documents and snapshot lines; never a secret: those
live in the keyring only). It lives in the user cache folder, not beside the store, so that a
`--read-only` look at a backup or a shared store writes nothing beside it; one file per store
path (`<sha256 of the path>.json`, 0600 in a 0700 folder), the newest `KEEP` kept. A file there
that is not a page (its first key says what it is) is never replaced.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import stat
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import orjson

from juston_tui.store.errors import StoreError
from juston_tui.store.files import atomic_write_bytes, identity, open_for_reading
from juston_tui.store.snapshots import _org_key  # the snapshot line's org, without a parse

KIND = "juston-tui first page"
FORMAT = 1
PAGE_ROWS = 100  # taller than any terminal the registry is drawn on
KEEP = 20  # pages of other stores kept in the folder
MAX_BYTES = 8 * 1024 * 1024  # a page is ~200 KB; anything far larger is not read at start-up
MAX_TAIL = 4 * 1024 * 1024  # snapshots appended since the page, read before the first frame
_PROBE = 64  # bytes before the snapshot file's end the page saw: an append leaves them be
_HEAD = b'{"kind":"' + KIND.encode() + b'"'  # how a page begins (orjson keeps key order)

Stamp = tuple[tuple[int, int, int, int] | None, ...]


@dataclass(frozen=True, slots=True)
class PageRow:
    """One org as the registry builds its entry: the stored org document, its parent's name
    (a sandbox names it), its latest snapshot's stored line (None: never checked) and whether
    it failed its last two pushes (push_ops.outcomes)."""

    doc: Mapping[str, Any]
    parent_name: str
    snapshot_line: bytes | None
    failed_twice: bool


@dataclass(frozen=True, slots=True)
class FirstPage:
    rows: tuple[PageRow, ...]
    total: int  # orgs in the store when the page was written
    sort: tuple[str, bool]  # the column and direction the rows are in


def stamp_of(paths: Sequence[Path]) -> Stamp:
    """Each file's identity (None: absent); equal stamps mean nothing was written between."""
    out: list[tuple[int, int, int, int] | None] = []
    for path in paths:
        try:
            out.append(identity(os.stat(path)))
        except FileNotFoundError:
            out.append(None)
    return tuple(out)


def page_path(folder: Path, store_path: Path) -> Path:
    key = hashlib.sha256(os.fsencode(os.path.abspath(store_path))).hexdigest()[:24]
    return folder / f"{key}.json"


def _stamp_json(stamp: Stamp) -> list[list[int] | None]:
    return [list(s) if s is not None else None for s in stamp]


@contextlib.contextmanager
def _regular(path: Path) -> Iterator[tuple[int, os.stat_result] | None]:
    """The regular file at `path` opened (fd, stat), else None: absent, or not a regular
    file (a FIFO planted there must not hold up the start)."""
    try:
        opened = open_for_reading(path)
    except StoreError:
        opened = None
    try:
        yield opened
    finally:
        if opened is not None:
            os.close(opened[0])


def _read(path: Path, limit: int) -> bytes | None:
    """Up to `limit` bytes of the regular file at `path` (None: none there, or too large)."""
    with _regular(path) as opened:
        if opened is None or opened[1].st_size > MAX_BYTES:
            return None
        return os.read(opened[0], min(limit, opened[1].st_size))


def _is_page(path: Path) -> bool | None:
    """Whether the file at `path` is a page (None: there is none)."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return None
    # A link or any other kind of file is not one we wrote (atomic_write_bytes makes files).
    return stat.S_ISREG(st.st_mode) and _read(path, len(_HEAD)) == _HEAD


def read_page(folder: Path, store_path: Path, stamp: Stamp,
              snapshots_path: Path | None = None) -> FirstPage | None:
    """The page written for `store_path`, valid at `stamp`, or None (none, stale, not ours,
    damaged: a page is only ever a head start, so every doubt means no page).

    Valid: both files as the page saw them; or the store file so and the snapshot file only
    appended to since (a `status` run, a check: the same inode, the bytes before the old end
    unchanged, at most MAX_TAIL more), the page's rows then taking the newer lines."""
    try:
        raw = _read(page_path(folder, store_path), MAX_BYTES)
        if raw is None:
            return None
        data = orjson.loads(raw)
        if (not isinstance(data, dict) or data.get("kind") != KIND
                or data.get("format") != FORMAT
                or data.get("store") != os.path.abspath(store_path)):
            return None
        newer: dict[str, bytes] = {}
        if data.get("stamp") != _stamp_json(stamp):
            kept = data.get("stamp")
            if (snapshots_path is None or not isinstance(kept, list) or len(kept) != 2
                    or kept[0] != _stamp_json(stamp)[0]):
                return None
            appended = _appended(snapshots_path, kept[1], data.get("probe"), stamp[1])
            if appended is None:
                return None
            newer = appended
        rows = tuple(PageRow(r["doc"], str(r.get("parent_name") or ""),
                             r["line"].encode() if isinstance(r.get("line"), str) else None,
                             bool(r.get("failed_twice")))
                     for r in data["rows"] if isinstance(r.get("doc"), dict)
                     and isinstance(r["doc"].get("org_id"), str))
        if newer:
            rows = tuple(replace(r, snapshot_line=newer.get(r.doc["org_id"], r.snapshot_line))
                         for r in rows)
        column, reverse = data["sort"]
        return FirstPage(rows, int(data["total"]), (str(column), bool(reverse)))
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def _appended(path: Path, kept: object, probe: object,
              now: tuple[int, int, int, int] | None) -> dict[str, bytes] | None:
    """Each org's newest line appended to the snapshot file since the page's `kept` identity
    (None: not an append of at most MAX_TAIL complete lines of ours)."""
    if not (isinstance(kept, list) and len(kept) == 4 and now is not None
            and isinstance(probe, str)):
        return None
    size = kept[3]
    if tuple(kept[:2]) != now[:2] or not size <= now[3] <= size + MAX_TAIL:
        return None
    with _regular(path) as opened:
        if opened is None or identity(opened[1]) != now:
            return None
        fd = opened[0]
        if os.pread(fd, _PROBE, max(0, size - _PROBE)) != bytes.fromhex(probe):
            return None
        tail = os.pread(fd, now[3] - size, size)
    lines: dict[str, bytes] = {}
    for line in tail[:tail.rfind(b"\n") + 1].split(b"\n")[:-1]:
        key = _org_key(line)
        if key is None:  # not a line we append (or the page's end was not a line's end)
            return None
        lines[key.decode()] = line
    return lines


def _probe_of(path: Path, seen: tuple[int, int, int, int] | None) -> str | None:
    """The bytes before the end the snapshot file had at `seen`, while it is still that
    file (an append leaves them as they were); None when it is not."""
    if seen is None:
        return None
    with _regular(path) as opened:
        if opened is None:
            return None
        fd, st = opened
        if (st.st_dev, st.st_ino) != seen[:2] or st.st_size < seen[3]:
            return None
        return os.pread(fd, _PROBE, max(0, seen[3] - _PROBE)).hex()


def save_page(folder: Path, store_path: Path, stamp: Stamp, page: FirstPage,
              snapshots_path: Path | None = None) -> bool:
    """Write the page atomically (0600; the folder made 0700); False when it was not written
    (a file there that is not a page, or the folder cannot be written: a page is optional).
    With `snapshots_path`, later appends to that file keep the page valid (`read_page`)."""
    path = page_path(folder, store_path)
    try:
        if not folder.is_dir():
            folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        if _is_page(path) is False:
            return False  # not ours: never replaced
        payload = orjson.dumps({
            "kind": KIND, "format": FORMAT, "store": os.path.abspath(store_path),
            "stamp": _stamp_json(stamp), "total": page.total, "sort": list(page.sort),
            "probe": (_probe_of(snapshots_path, stamp[1]) if snapshots_path is not None
                      and len(stamp) == 2 else None),
            "rows": [{"doc": r.doc, "parent_name": r.parent_name,
                      "line": r.snapshot_line.decode() if r.snapshot_line is not None else None,
                      "failed_twice": r.failed_twice} for r in page.rows],
        })
        atomic_write_bytes(path, payload + b"\n")
        _prune(folder, keep=path)
        return True
    except (OSError, UnicodeDecodeError, TypeError):
        return False


def _prune(folder: Path, keep: Path) -> None:
    """Only the newest KEEP pages stay (pages of stores not opened for a while go first)."""
    pages: list[tuple[float, Path]] = []
    for entry in os.scandir(folder):
        if (entry.name.endswith(".json") and len(entry.name) == 29
                and entry.is_file(follow_symlinks=False)):
            with contextlib.suppress(OSError):
                pages.append((entry.stat().st_mtime, Path(entry.path)))
    pages.sort(reverse=True)
    for _, path in pages[KEEP:]:
        if path != keep and _is_page(path):
            with contextlib.suppress(OSError):
                path.unlink()
