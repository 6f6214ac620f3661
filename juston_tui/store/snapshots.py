"""Probe results beside the store, never inside it: each org's latest snapshot and its history.

What people edit (orgs, contacts, checklist, pushes) and what sweeps write every second at
scale live in different files, so neither slows the other down (issue 16: one snapshot per org
tripled the store, and every batch of a 2,000-org sweep rewrote all of it):

- `<name>.snapshots.jsonl` (`store.json.snapshots.jsonl`): a header line, then one line per
  saved snapshot, appended and fsynced once per batch; an org's last line is its latest
  snapshot. Once the file is twice the size it had after its last compaction (plus 1 MB), it
  is rewritten with one line per org (atomic replace). Readers that want every org (the
  registry) stream it newest line first and keep what they show, not every snapshot's facts.
- `<name>.history/<org>.jsonl`: one short line per check of that org (time, verdicts), newest
  last; cut back to the newest `HISTORY_LIMIT` by an atomic rewrite when it grows.

Both are written under the store's lock. A kill mid-append leaves an unterminated last line:
that snapshot was never acknowledged, readers skip it and the next writer cuts it off. The
history line of a snapshot is written after the snapshot itself; a history that lacks the
latest snapshot (a kill in between) shows it anyway (`history`). Nothing here is a backup's
concern: probe results are read again from the org by the next check.
"""

from __future__ import annotations

import contextlib
import glob
import hashlib
import os
import re
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import orjson

from juston_tui.paths import ensure_private_dir
from juston_tui.store.errors import SnapshotsCorruptError, StoreError, StoreWriteError
from juston_tui.store.files import (
    atomic_write_bytes,
    fsync_dir,
    identity,
    open_for_reading,
    refuse_odd_file,
)
from juston_tui.store.schema import HISTORY_LIMIT
from juston_tui.store.shape import snapshot_problem

HEADER_KIND = "juston-tui snapshots"
_LINE_START = b'{"org_id":"'
COMPACT_SLACK = 1_000_000
HISTORY_CUT_BYTES = 3 * HISTORY_LIMIT * 400  # a history file this big is cut back to the limit
_SAFE_NAME = re.compile(r"^[A-Za-z0-9]{1,40}$")


def history_entry(doc: Mapping[str, Any]) -> dict[str, Any]:
    """The short line a snapshot leaves in its org's history."""
    checks = doc.get("checks") or ()
    verdicts = {c.get("id"): c.get("verdict") for c in checks if isinstance(c, dict)}
    return {"checked_at": doc.get("checked_at"), "verdict": overall(doc),
            "error": doc.get("error"), "verdicts": verdicts}


def overall(doc: Mapping[str, Any]) -> str:
    """The worst verdict of a stored snapshot (as `model.Snapshot.verdict` says it)."""
    if doc.get("error"):
        return "unknown"
    order = {"fail": 3, "warn": 2, "unknown": 1, "ok": 0}
    checks = [c for c in doc.get("checks") or () if isinstance(c, dict)]
    if not checks:
        return "unknown"
    return max((str(c.get("verdict")) for c in checks), key=lambda v: order.get(v, 1))


def latest_doc(doc: Mapping[str, Any]) -> dict[str, Any]:
    """A snapshot document as its line holds it: org_id first (readers find lines by it)."""
    out = {"org_id": doc["org_id"]}
    out.update((k, v) for k, v in doc.items() if k not in ("org_id", "history"))
    return out


class SnapshotFiles:
    """The latest-snapshot log and the per-org history files of one store."""

    def __init__(self, store_path: Path, *, read_only: bool = False) -> None:
        # Named after the store's whole file name, as its lock is: `a.json` and `a.db` in one
        # folder are two stores with two sets of snapshots.
        self.path = store_path.with_name(f"{store_path.name}.snapshots.jsonl")
        self.history_dir = store_path.with_name(f"{store_path.name}.history")
        self.read_only = read_only
        self.writes = 0
        # (file identity, org -> where its latest line is: offset << 32 | length)
        self._index: tuple[tuple[int, int, int, int], dict[str, int]] | None = None
        # (file identity, org, where its latest line is or None): one org looked up by a scan
        self._one: tuple[tuple[int, int, int, int], str, int | None] | None = None
        # The snapshot file as this process last read or wrote it (`changed`).
        self.seen: tuple[int, int, int, int] | None = None

    def changed(self) -> bool:
        """True, once, when another process saved snapshots since we last read, wrote or were
        told (one stat): a screen that reads no snapshots is not told again every poll."""
        try:
            now = identity(os.stat(self.path))
        except FileNotFoundError:
            return False
        seen, self.seen = self.seen, now
        return seen is not None and now != seen  # nothing read yet: a first read gets it all

    # -- reading -------------------------------------------------------------------------------
    def _check_header(self, payload: bytes) -> int:
        """The size the file had after its last compaction; refuse a file that is not ours."""
        if not payload:
            return 0
        end = payload.find(b"\n")
        try:
            header = orjson.loads(payload[:end if end >= 0 else len(payload)])
        except orjson.JSONDecodeError:
            header = None
        if not isinstance(header, dict) or header.get("kind") != HEADER_KIND:
            raise StoreError(f"{self.path} is not a juston-tui snapshot file (its first line "
                             "says otherwise); move it away: it was left untouched")
        size = header.get("compacted_bytes")
        return size if isinstance(size, int) else 0

    def _parse(self, line: bytes, number: int | str) -> dict[str, Any]:
        where = f"line {number}" if isinstance(number, int) else number
        try:
            doc = orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            raise SnapshotsCorruptError(self.path, f"{where} is not valid JSON ({exc})"
                                        ) from None
        problem = snapshot_problem(doc, where)
        if problem is not None:
            raise SnapshotsCorruptError(self.path, problem)
        return doc

    def iter_latest(self) -> Iterator[dict[str, Any]]:
        """Each org's latest snapshot, newest line first, one at a time: the file is read
        backwards in 1 MB blocks, so neither it nor 10,000 parsed snapshots (~95 MB of
        Python objects) are ever in memory at once; callers keep what they show."""
        for _org, line, counted in self._latest_lines():
            yield self._parse(line, _from_end(counted))

    def iter_latest_lines(self) -> Iterator[tuple[str, LineRef]]:
        """Each org's latest snapshot as where its line is (org ID, `LineRef`), unread: the
        registry keeps 100,000 small references (~10 MB), not 130 MB of lines, and reads and
        parses each where it is needed (`parse_line`), not 95 MB of objects per 10,000 orgs
        before its first rows. The references read the file as it was when listed (its
        descriptor stays open while any of them lives): lines are only ever appended, and a
        compaction by another process replaces the file rather than rewriting it."""
        opened = open_for_reading(self.path)
        if opened is None:
            return
        fd, st = opened
        try:
            source = _LineSource(fd, self.path)
        except BaseException:
            os.close(fd)
            raise
        for org, start, line, counted in self._latest_spans(fd, st):
            yield org, LineRef(source, start, len(line), counted)

    def parse_line(self, line: bytes | LineRef) -> dict[str, Any]:
        """A line from `iter_latest_lines` (or its bytes) as a document."""
        if isinstance(line, LineRef):
            return self._parse(line.read(), _from_end(line.counted))
        return self._parse(line, "a line")

    def _latest_lines(self) -> Iterator[tuple[str, bytes, int]]:
        opened = open_for_reading(self.path)
        if opened is None:
            return
        fd, st = opened
        try:
            for org, _start, line, counted in self._latest_spans(fd, st):
                yield org, line, counted
        finally:
            os.close(fd)

    def _latest_spans(self, fd: int, st: os.stat_result) -> Iterator[tuple[str, int, bytes, int]]:
        """Each org's latest line, newest first: (org ID, its offset, the line, which line
        from the end it is)."""
        self.seen = identity(st)
        head = os.pread(fd, 65536, 0)
        self._check_header(head)
        first = head.find(b"\n") + 1
        end = _committed_end(fd, st.st_size)
        seen: set[bytes] = set()
        for counted, start, line in _lines_backwards(fd, first, end):
            key = _org_key(line)
            if key is None:  # a line not written by us (org_id not first): parse to know
                key = str(self._parse(line, _from_end(counted)).get("org_id")).encode()
            if key in seen:
                continue
            seen.add(key)
            yield key.decode(), start, line, counted

    def latest(self, org_id: str) -> dict[str, Any] | None:
        """One org's latest snapshot. The first org asked of a version of the file is found by
        reading it backwards to that org's last line (an org detail: no index of 100,000 orgs,
        13 MB); a second one builds an index of the file (org -> where its last line is), so
        loops over orgs (announcements, push registration) pay one scan, not one per org."""
        opened = open_for_reading(self.path)
        if opened is None:
            return None
        fd, st = opened
        try:
            ident = identity(st)
            cached, one = self._index, self._one
            if cached is not None and cached[0] == ident:
                where = cached[1].get(org_id)
            elif one is not None and one[0] == ident and one[1] == org_id:
                where = one[2]
            elif one is not None and one[0] == ident:
                self._check_header(os.pread(fd, 65536, 0))
                cached = self._index = (ident, self._build_index(fd, st.st_size))
                self._one = None
                where = cached[1].get(org_id)
            else:
                where = self._find_backwards(fd, st, org_id)
                self._one = (ident, org_id, where)
            if where is None:
                return None
            start, length = where >> 32, where & 0xFFFFFFFF
            line = os.pread(fd, length, start)
            try:
                return self._parse(line, "a line")
            except SnapshotsCorruptError:  # say which line: count the lines before it
                self._parse(line, _line_number(fd, start))
                raise
        finally:
            os.close(fd)

    def _find_backwards(self, fd: int, st: os.stat_result, org_id: str) -> int | None:
        """Where the org's last complete line is (as `_build_index` says it), or None."""
        head = os.pread(fd, 65536, 0)
        self._check_header(head)
        wanted = org_id.encode()
        for counted, start, line in _lines_backwards(fd, head.find(b"\n") + 1,
                                                     _committed_end(fd, st.st_size)):
            key = _org_key(line)
            if key is None:  # a line not written by us (org_id not first): parse to know
                key = str(self._parse(line, _from_end(counted)).get("org_id")).encode()
            if key == wanted:
                if len(line) > 0xFFFFFFFF:
                    raise SnapshotsCorruptError(self.path, f"{_from_end(counted)} is over 4 GB")
                return start << 32 | len(line)
        return None

    def _build_index(self, fd: int, size: int, block: int = 1 << 20) -> dict[str, int]:
        """org -> where its last complete line is (offset << 32 | length: one int, ~13 MB for
        100,000 orgs where tuples took 23), read in 1 MB blocks: never the whole file (300 MB
        at 100,000 orgs with their history) at once."""
        index: dict[str, int] = {}
        number = 2
        at = 0  # the file offset of buf[0]
        buf = b""
        pos = -1  # where the next line starts in buf (-1: the header line is not passed yet)
        while at + len(buf) < size:
            chunk = os.pread(fd, min(block, size - at - len(buf)), at + len(buf))
            if not chunk:
                break
            buf += chunk
            if pos < 0:
                newline = buf.find(b"\n")
                if newline < 0:
                    continue
                pos = newline + 1
            while True:
                stop = buf.find(b"\n", pos)
                if stop < 0:
                    break
                key = _org_key(buf, pos, stop)
                if key is None:
                    org = str(self._parse(buf[pos:stop], number).get("org_id"))
                else:
                    org = key.decode()
                if stop - pos > 0xFFFFFFFF:
                    raise SnapshotsCorruptError(self.path, f"line {number} is over 4 GB")
                index[org] = (at + pos) << 32 | (stop - pos)
                pos, number = stop + 1, number + 1
            buf, at, pos = buf[pos:], at + pos, 0
        return index

    def history(self, org_id: str) -> list[dict[str, Any]]:
        """The org's checks, newest first, at most `HISTORY_LIMIT`."""
        entries = self._history_entries(self._history_path(org_id))
        latest = self.latest(org_id)
        if latest is not None and not any(e.get("checked_at") == latest.get("checked_at")
                                          for e in entries[:1]):
            entries.insert(0, history_entry(latest))  # a kill came between the two writes
        return entries[:HISTORY_LIMIT]

    def _history_entries(self, path: Path) -> list[dict[str, Any]]:
        try:
            payload = path.read_bytes()
        except FileNotFoundError:
            return []
        except OSError as exc:
            raise StoreError(f"cannot read {path}: {exc.strerror or exc}") from None
        entries: list[dict[str, Any]] = []
        end = payload.rfind(b"\n")
        for line in payload[:end].split(b"\n") if end >= 0 else ():
            try:
                entry = orjson.loads(line)
            except orjson.JSONDecodeError:
                continue  # one damaged history line costs that line, not the org's history
            if isinstance(entry, dict):
                entries.append(entry)
        entries.reverse()
        return entries

    def _history_path(self, org_id: str) -> Path:
        name = org_id if _SAFE_NAME.match(org_id) else "_" + hashlib.sha256(
            org_id.encode()).hexdigest()[:32]
        return self.history_dir / f"{name}.jsonl"

    # -- writing (the caller holds the store's lock) ---------------------------------------------
    def sweep_temp_files(self) -> None:
        """Remove temp files a killed writer left (called under the store's lock)."""
        leftovers = list(self.path.parent.glob(f".{glob.escape(self.path.name)}.*.tmp"))
        if self.history_dir.is_dir() and not self.history_dir.is_symlink():
            leftovers += self.history_dir.glob(".*.tmp")
        for tmp in leftovers:
            with contextlib.suppress(OSError):
                tmp.unlink()

    def append(self, docs: Iterable[Mapping[str, Any]]) -> None:
        """Save snapshots: one append and one fsync for all of them, then their history lines."""
        docs = [latest_doc(d) for d in docs]
        if not docs:
            return
        try:
            self._append(docs)
        except StoreError:
            raise
        except OSError as exc:  # disk full, quota, permissions: name the file
            raise StoreWriteError(self.path, exc, "the snapshot file") from None

    def _append(self, docs: list[dict[str, Any]]) -> None:
        payload = b"".join(orjson.dumps(d) + b"\n" for d in docs)
        fd = self._open_for_append()
        seen_before = self.seen
        try:
            st = os.fstat(fd)
            size = st.st_size
            news = identity(st) != seen_before  # another process saved since we last looked
            end = _committed_end(fd, size)
            if end < size:
                os.ftruncate(fd, end)  # a killed writer's unterminated line
            try:
                _write_all(fd, payload, end)
                os.fsync(fd)
            except BaseException:
                with contextlib.suppress(OSError):  # leave the file as it was
                    os.ftruncate(fd, end)
                raise
            self.seen = identity(os.fstat(fd))  # our own write is no news to us
            compacted = self._check_header(os.pread(fd, 4096, 0))
            grown = end + len(payload)
        finally:
            os.close(fd)
        self.writes += 1
        self._append_history(docs)
        if grown > 2 * compacted + COMPACT_SLACK:
            self.compact()
        if news:  # our own write is no news to us, but what came before it still is
            self.seen = seen_before

    def _open_for_append(self) -> int:
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_NOFOLLOW | os.O_NONBLOCK)
        except FileNotFoundError:
            ensure_private_dir(self.path.parent)
            header = orjson.dumps({"kind": HEADER_KIND, "version": 1, "compacted_bytes": 0})
            with contextlib.suppress(FileExistsError):
                atomic_write_bytes(self.path, header + b"\n", overwrite=False)
            fd = os.open(self.path, os.O_RDWR | os.O_NOFOLLOW | os.O_NONBLOCK)
        try:
            refuse_odd_file(self.path, os.fstat(fd).st_mode)
            self._check_header(os.pread(fd, 4096, 0))
        except BaseException:
            os.close(fd)
            raise
        return fd

    def _append_history(self, docs: list[dict[str, Any]]) -> None:
        ensure_private_dir(self.history_dir)
        for doc in docs:
            path = self._history_path(str(doc["org_id"]))
            line = orjson.dumps(history_entry(doc)) + b"\n"
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
            try:
                size = os.fstat(fd).st_size
                end = _committed_end(fd, size)
                if end < size:
                    os.ftruncate(fd, end)  # a killed writer's unterminated line
                _write_all(fd, line, end)
                size = end + len(line)
            finally:
                os.close(fd)
            if size > HISTORY_CUT_BYTES:
                self._write_history(path, self._history_entries(path))

    def _write_history(self, path: Path, entries: list[dict[str, Any]], *,
                       fsync: bool = True) -> None:
        """Replace a history file with its newest entries (oldest first), atomically.

        `fsync=False` (the migration's thousands of files): a rename of a finished temp file
        survives a kill all the same; the folder is synced once at the end, and the
        pre-migration backup holds every entry should power fail before the disk has them.
        """
        kept = list(reversed(entries[:HISTORY_LIMIT]))
        payload = b"".join(orjson.dumps(e) + b"\n" for e in kept)
        if fsync:
            atomic_write_bytes(path, payload)
            return
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
        try:
            _write_all(fd, payload, None)
        finally:
            os.close(fd)
        os.replace(tmp, path)

    def compact(self) -> None:
        """One line per org (its latest), by an atomic replace of the whole file."""
        docs = list(self.iter_latest())
        docs.reverse()
        self._write_log(docs)

    def _write_log(self, docs: list[dict[str, Any]]) -> None:
        body = b"".join(orjson.dumps(latest_doc(d)) + b"\n" for d in docs)
        header = orjson.dumps({"kind": HEADER_KIND, "version": 1,
                               "compacted_bytes": len(body) + 80})
        ensure_private_dir(self.path.parent)
        self.seen = identity(atomic_write_bytes(self.path, header + b"\n" + body))
        self.writes += 1

    def merge(self, docs: Iterable[Mapping[str, Any]]) -> None:
        """Bring in snapshots from elsewhere (a schema-1 store's table, with their history):
        an org's newer snapshot on file wins; histories are merged by time. Safe to repeat."""
        on_file = {d["org_id"]: d for d in self.iter_latest()}
        histories: dict[str, list[dict[str, Any]]] = {}
        for doc in docs:
            org_id = str(doc["org_id"])
            mine = on_file.get(org_id)
            if mine is None or str(mine.get("checked_at")) < str(doc.get("checked_at")):
                on_file[org_id] = latest_doc(doc)
            moved = [e for e in doc.get("history") or () if isinstance(e, dict)]
            histories[org_id] = moved or [history_entry(doc)]
        self._write_log(list(on_file.values()))
        if histories:
            ensure_private_dir(self.history_dir)
        for org_id, moved in histories.items():
            path = self._history_path(org_id)
            by_time = {str(e.get("checked_at")): e for e in self._history_entries(path)}
            for entry in moved:
                by_time.setdefault(str(entry.get("checked_at")), entry)
            newest_first = [by_time[k] for k in sorted(by_time, reverse=True)]
            self._write_history(path, newest_first, fsync=False)
        if histories:
            fsync_dir(self.history_dir)


def _org_key(line: bytes, start: int = 0, stop: int | None = None) -> bytes | None:
    """The org ID a line of ours starts with (of `line[start:stop]`, without slicing it)."""
    if stop is None:
        stop = len(line)
    if not line.startswith(_LINE_START, start, stop):
        return None
    begin = start + len(_LINE_START)
    end = line.find(b'"', begin, stop)
    return line[begin:end] if end > 0 else None


class _LineSource:
    """An open snapshot file the `LineRef`s of one listing read; closed with the last one."""

    __slots__ = ("fd", "path")

    def __init__(self, fd: int, path: Path) -> None:
        self.fd = fd
        self.path = path

    def __del__(self) -> None:
        with contextlib.suppress(OSError):
            os.close(self.fd)


class LineRef:
    """Where one snapshot line is in the file as it was listed (`iter_latest_lines`)."""

    __slots__ = ("counted", "length", "offset", "source")

    def __init__(self, source: _LineSource, offset: int, length: int, counted: int) -> None:
        self.source = source
        self.offset = offset
        self.length = length
        self.counted = counted  # which line from the end (error messages)

    def read(self) -> bytes:
        try:
            return os.pread(self.source.fd, self.length, self.offset)
        except OSError as exc:
            raise StoreError(f"cannot read {self.source.path}: {exc.strerror or exc}") from None


def _from_end(counted: int) -> str:
    return f"line {counted} from the end"


def _line_number(fd: int, offset: int, block: int = 1 << 20) -> int:
    """The number of the line starting at `offset` (for an error message only)."""
    lines, at = 1, 0
    while at < offset:
        chunk = os.pread(fd, min(block, offset - at), at)
        if not chunk:
            break
        lines += chunk.count(b"\n")
        at += len(chunk)
    return lines


def _lines_backwards(fd: int, first: int, end: int, block: int = 1 << 20
                     ) -> Iterator[tuple[int, int, bytes]]:
    """The complete lines between offsets `first` and `end` (just after a newline), last
    first, each with which line from the end it is (for error messages: `_from_end`) and
    its offset in the file."""
    at = end - 1  # the newline that ends the last line
    rest = b""
    counted = 0
    while at > first:
        start = max(first, at - block)
        chunk = os.pread(fd, at - start, start) + rest
        parts = chunk.split(b"\n")
        rest = parts[0] if start > first else b""
        # The offset of each part: the chunk starts at `start`; a part ends where the next
        # one begins, one newline earlier.
        offset = start + len(chunk)
        for line in reversed(parts if start == first else parts[1:]):
            offset -= len(line)
            counted += 1
            if line:
                yield counted, offset, line
            offset -= 1
        at = start
    if rest:
        yield counted + 1, first, rest


def _committed_end(fd: int, size: int) -> int:
    """Where the last complete line of the file ends (0 for an empty file)."""
    at = size
    while at > 0:
        start = max(0, at - 65536)
        chunk = os.pread(fd, at - start, start)
        newline = chunk.rfind(b"\n")
        if newline >= 0:
            return start + newline + 1
        at = start
    return 0


def _write_all(fd: int, payload: bytes, at: int | None) -> None:
    view = memoryview(payload)
    while view:  # a short write (a size limit) ends in the error on the next try
        done = os.write(fd, view) if at is None else os.pwrite(fd, view, at)
        view = view[done:]
        if at is not None:
            at += done
