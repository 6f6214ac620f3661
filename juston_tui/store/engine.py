"""TinyDB underneath: a journaled atomic storage with a parsed cache, tables that edit in place.

Stock TinyDB's JSONStorage rewrites its file in place (a kill mid-write corrupts it) and its
Table copies the whole table twice per write. Here the file is a *base* line (every table, one
JSON object, written whole by an atomic replace) followed by *journal* lines, one per committed
transaction (`{"j": [[table, doc_id, document or null], ...]}`), appended and fsynced:

- an edit costs the bytes it changes, not the size of the store (bench/store_bench.py: ~1 ms
  at 10,000 orgs + 10,000 contacts, where rewriting the 6 MB file took 18-40 ms);
- a process that sees another one's append reads only the new lines, not the whole file;
- a kill mid-append leaves an unterminated last line: that transaction never happened, readers
  ignore it and the next writer (holding the lock) cuts it off;
- once the journal outgrows half the base, the next commit writes a fresh base (atomic replace),
  so re-reading stays proportional to the data.

A file without journal lines is plain JSON that stock TinyDB reads (what schema 1 wrote).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import orjson
from tinydb import TinyDB
from tinydb.storages import Storage
from tinydb.table import Document, Table

from juston_tui.gc_pause import paused_gc
from juston_tui.store import schema
from juston_tui.store.errors import ReadOnlyError, StoreCorruptError, StoreWriteError
from juston_tui.store.files import atomic_write_bytes, identity, open_for_reading
from juston_tui.store.shape import Op, apply_ops, journal_ops, ops_problem, parse_journaled

# The journal is folded into a fresh base once it is larger than this or half the base.
JOURNAL_MIN_BYTES = 256 * 1024
_PROBE = 64  # bytes before the committed end, compared before reading only the new lines


class AtomicJSONStorage(Storage):
    """TinyDB storage: orjson, a journal of atomic appends, a parsed cache (see above).

    Inside a batch (see `Store.transaction`) writes only update the cache and are committed
    once at the end, which makes several TinyDB operations one journal line.
    """

    def __init__(self, path: str, read_only: bool = False) -> None:
        self.path = Path(path)
        self.read_only = read_only
        self._cache: dict[str, dict[str, Any]] | None = None
        self._ident: tuple[int, int, int, int] | None = None
        self._consumed = 0  # the end of the last complete line read or written
        self._base_size = 0
        self._probe = b""  # the bytes just before `_consumed`: an in-place rewrite changes them
        self._one_line_base = False  # a pretty-printed base (by hand) takes no journal lines
        # Documents written since the last commit (table -> doc ids); None: write a new base.
        self._touched: dict[str, set[str]] | None = {}
        self._batch = False
        self._dirty = False
        self.disk_generation = 0  # bumps only when data is (re)loaded whole from disk or dropped
        # Another process's journal lines applied to the cache since the Store last looked:
        # (table, doc id, document before, document after), so its indexes follow cheaply.
        self.tail_ops: list[tuple[str, str, Any, Any]] = []
        # Set by Store: the identity of the file as juston-tui last wrote it (a file with that
        # identity has a known good shape and is not checked again; the same file grown
        # shorter has lost committed lines), and what to do after a write.
        self.recorded: Callable[[], tuple[int, ...] | None] | None = None
        self.on_commit: Callable[[os.stat_result], None] | None = None

    # -- reading -------------------------------------------------------------------------------
    def read(self) -> dict[str, dict[str, Any]] | None:
        if self._batch and self._cache is not None:
            return self._cache
        opened = open_for_reading(self.path)
        if opened is None:
            return None
        fd, st = opened
        try:
            ident = identity(st)
            if self._cache is not None and ident == self._ident:
                return self._cache
            if self._cache is not None and self._read_tail(fd, st):
                return self._cache
            # Before the bytes: every commit it names is in them (a writer may commit between
            # our fstat and our read, so `ident`'s size says nothing about what was lost).
            recorded = self.recorded() if self.recorded is not None else None
            with os.fdopen(fd, "rb", closefd=False) as handle:
                payload = handle.read()
        finally:
            os.close(fd)
        parsed = parse_journaled(self.path, payload, check_shape=recorded != ident)
        if (parsed.consumed < len(payload) and recorded is not None
                and recorded[:2] == ident[:2] and parsed.consumed < recorded[3]):
            # An unterminated last line is a killed writer's transaction only past the end of
            # the last commit; a file cut short of that has lost committed lines.
            raise StoreCorruptError(self.path, f"it is shorter than juston-tui last wrote it "
                                    f"({len(payload)} of {recorded[3]} bytes: truncated?)")
        self._cache = parsed.data
        self._consumed, self._base_size = parsed.consumed, parsed.base_size
        self._probe = payload[max(0, parsed.consumed - _PROBE):parsed.consumed]
        self._one_line_base = payload.find(b"\n") + 1 == parsed.base_size
        self._ident = ident
        self.tail_ops.clear()
        self.disk_generation += 1
        return self._cache

    def _read_tail(self, fd: int, st: os.stat_result) -> bool:
        """Apply only the lines another process appended; False when the file is another one."""
        assert self._cache is not None and self._ident is not None
        if (st.st_dev, st.st_ino) != self._ident[:2] or st.st_size < self._consumed:
            return False
        start = self._consumed - len(self._probe)
        chunk = os.pread(fd, st.st_size - start, start)
        if chunk[:len(self._probe)] != self._probe:
            return False  # rewritten in place (an editor): parse it whole
        tail = chunk[len(self._probe):]
        end = tail.rfind(b"\n")
        if end >= 0:
            ours = self.recorded is not None and self.recorded() == identity(st)
            first = 1 + self._consumed  # a rough line number for the message (bytes, not lines)
            batches = [journal_ops(self.path, line, first) for line in tail[:end].split(b"\n")]
            with paused_gc():
                for ops in batches:
                    if not ours:
                        problem = ops_problem(self._cache, ops)
                        if problem is not None:
                            raise StoreCorruptError(self.path, problem)
                    self._apply_tail(ops)
            self._consumed += end + 1
            self._probe = (self._probe + tail[:end + 1])[-_PROBE:]
        self._ident = identity(st)
        return True

    def _apply_tail(self, ops: list[Op]) -> None:
        assert self._cache is not None
        for table, doc_id, doc in ops:
            before = self._cache.get(table, {}).get(doc_id)
            self.tail_ops.append((table, doc_id, before, doc))
        apply_ops(self._cache, ops)

    def changed_on_disk(self) -> bool:
        try:
            return identity(os.stat(self.path)) != self._ident
        except FileNotFoundError:
            return True

    # -- writing -------------------------------------------------------------------------------
    def touched(self, table: str) -> set[str] | None:
        """Where a table records the documents it writes (None: a new base is due anyway)."""
        if self._touched is None:
            return None
        return self._touched.setdefault(table, set())

    def rewrite_whole(self) -> None:
        """The next commit writes a new base (migrations, truncates: no per-document log)."""
        self._touched = None

    def write(self, data: dict[str, dict[str, Any]]) -> None:
        if self.read_only:
            raise ReadOnlyError(f"the store {self.path} is open read-only")
        if data is not self._cache:
            self._touched = None
        self._cache = data
        if self._batch:
            self._dirty = True
            return
        self._commit()

    def _commit(self) -> None:
        assert self._cache is not None
        try:
            journal = self._consumed - self._base_size
            if (self._touched is None or self._ident is None
                    or not self._probe.endswith(b"\n")  # a schema-1 file: no line to follow
                    or not self._one_line_base  # pretty-printed: a line after it is unreadable
                    or journal > max(JOURNAL_MIN_BYTES, self._base_size // 2)):
                st = self._write_base()
            elif any(self._touched.values()):
                st = self._append()
            else:
                return  # nothing changed (an update that matched nothing)
        except OSError as exc:  # disk full, quota, permissions: name the file, say it is intact
            self.invalidate()
            raise StoreWriteError(self.path, exc) from None
        except BaseException:
            self.invalidate()
            raise
        finally:
            self._touched = {}
        self._ident = identity(st)
        if self.on_commit is not None:
            self.on_commit(st)

    def _write_base(self) -> os.stat_result:
        assert self._cache is not None
        with paused_gc():
            # The newline by orjson: `+ b"\n"` would copy the whole base once more.
            payload = orjson.dumps(self._cache, option=orjson.OPT_APPEND_NEWLINE)
        st = atomic_write_bytes(self.path, payload)
        self._consumed = self._base_size = len(payload)
        self._probe = payload[-_PROBE:]
        self._one_line_base = True
        return st

    def _append(self) -> os.stat_result:
        assert self._cache is not None and self._touched is not None and self._ident is not None
        ops = [[table, doc_id, self._cache.get(table, {}).get(doc_id)]
               for table, ids in self._touched.items() for doc_id in sorted(ids)]
        line = orjson.dumps({"j": ops}) + b"\n"
        fd = os.open(self.path, os.O_RDWR | os.O_NONBLOCK)
        try:
            st = os.fstat(fd)
            if (st.st_dev, st.st_ino) != self._ident[:2] or st.st_size < self._consumed:
                return self._write_base()  # not the file we read: never append to a stranger
            if st.st_size > self._consumed:
                # Under the lock, bytes past the last complete line are a killed writer's
                # unterminated transaction: cut off, so ours starts on a line of its own.
                os.ftruncate(fd, self._consumed)
            try:
                view, at = memoryview(line), self._consumed
                while view:  # a short write (a size limit) ends in the error on the next try
                    done = os.pwrite(fd, view, at)
                    view, at = view[done:], at + done
                os.fsync(fd)
            except BaseException:
                with contextlib.suppress(OSError):  # leave the file as the last commit left it
                    os.ftruncate(fd, self._consumed)
                raise
            st = os.fstat(fd)
        finally:
            os.close(fd)
        self._consumed += len(line)
        self._probe = (self._probe + line)[-_PROBE:]
        return st

    def begin(self) -> None:
        self._batch = True
        self._dirty = False

    def end(self, commit: bool) -> None:
        self._batch = False
        try:
            if commit and self._dirty:
                self._commit()
            elif not commit:
                self.invalidate()
        finally:
            self._dirty = False
            self._touched = {}

    def invalidate(self) -> None:
        self._cache = None
        self._ident = None
        self._consumed = self._base_size = 0
        self._probe = b""
        self._one_line_base = False
        self._touched = {}
        self.tail_ops.clear()
        self.disk_generation += 1

    def close(self) -> None:
        pass


class IntKeyView(dict):  # type: ignore[type-arg]
    """TinyDB's updaters want int doc ids; view the raw str-keyed table without copying it."""

    def __init__(self, raw: dict[str, Any], touched: set[str] | None, on_clear: Callable[[], None]
                 ) -> None:
        super().__init__()
        self.raw = raw
        self._touched = touched if touched is not None else set()
        self._on_clear = on_clear

    def __getitem__(self, key: int) -> Any:
        # Updaters change the document they get in place: getting one for writing touches it,
        # and gets a copy that replaces it (copy on write): a cached document is never
        # changed in place, so the bulk readers may share them (`Store.org_docs`).
        name = str(key)
        self._touched.add(name)
        doc = self.raw[name] = dict(self.raw[name])
        return doc

    def __setitem__(self, key: int, value: Any) -> None:
        self._touched.add(str(key))
        self.raw[str(key)] = value

    def __delitem__(self, key: int) -> None:
        self._touched.add(str(key))
        del self.raw[str(key)]

    def __contains__(self, key: object) -> bool:
        return str(key) in self.raw

    def __iter__(self) -> Iterator[int]:  # type: ignore[override]
        return (int(k) for k in self.raw)

    def __len__(self) -> int:
        return len(self.raw)

    def keys(self) -> Any:  # type: ignore[override]
        return [int(k) for k in self.raw]

    def items(self) -> Any:  # type: ignore[override]
        return [(int(k), v) for k, v in self.raw.items()]

    def values(self) -> Any:  # type: ignore[override]
        return self.raw.values()

    def pop(self, key: int, *default: Any) -> Any:  # type: ignore[override]
        self._touched.add(str(key))
        return self.raw.pop(str(key), *default)

    def get(self, key: int, default: Any = None) -> Any:  # type: ignore[override]
        if key not in self:
            return default
        return self[key]  # for writing, as above

    def clear(self) -> None:
        self._on_clear()
        self.raw.clear()


class FastTable(Table):
    """TinyDB Table whose writes mutate the cached tables in place.

    Stock `_update_table` copies the whole table twice (str -> int keys and back) on every
    write: 9 ms of a 10,000-document edit. The updaters only need int-keyed access; the view
    records which documents they wrote, which is what the journal line holds.
    """

    def _update_table(self, updater: Callable[[dict[int, Any]], None]) -> None:
        storage: AtomicJSONStorage = self._storage  # type: ignore[assignment]
        tables = storage.read() or {}
        raw = tables.setdefault(self.name, {})
        updater(IntKeyView(raw, storage.touched(self.name), storage.rewrite_whole))
        storage.write(tables)
        self.clear_cache()


class StoreTinyDB(TinyDB):
    table_class = FastTable


def initial_data() -> dict[str, dict[str, Any]]:
    data: dict[str, dict[str, Any]] = {name: {} for name in schema.TABLES}
    data["meta"]["1"] = {"key": "schema", "version": schema.SCHEMA_VERSION}
    return data


def with_id(doc: Mapping[str, Any], doc_id: int) -> Any:
    return Document(dict(doc), doc_id=doc_id)
