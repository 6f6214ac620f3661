"""The local store: TinyDB on an atomic, locked, versioned JSON file.

Stock TinyDB rewrites its file in place and has no locking, so a kill mid-write or a second
process corrupts it. Here every write goes to a temp file in the same directory, is fsynced,
renamed over the store and the directory fsynced; every read-modify-write holds an exclusive
`flock` on a sidecar lock file, so two app instances never lose each other's edits. A file
that cannot be read is reported with its path and never written to.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import glob
import os
import re
import stat
import tempfile
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from operator import itemgetter
from pathlib import Path
from typing import Any

import orjson
from tinydb import TinyDB
from tinydb.storages import Storage
from tinydb.table import Table

from juston_tui.gc_pause import paused_gc
from juston_tui.model import Contact, Org, Snapshot, ValidationError
from juston_tui.paths import ensure_private_dir
from juston_tui.text import strip_controls_deep

__all__ = [
    "SCHEMA_VERSION",
    "TABLES",
    "NotFoundError",
    "ReadOnlyError",
    "Store",
    "StoreCorruptError",
    "StoreError",
    "StoreMissingError",
    "StoreNewerError",
    "StoreWriteError",
]

SCHEMA_VERSION = 1
# Our own keys, never TinyDB doc ids.
TABLES: dict[str, str] = {
    "meta": "key",
    "orgs": "org_id",
    "contacts": "id",
    "checklist": "key",
    "pushes": "id",
    "snapshots": "org_id",
}
HISTORY_LIMIT = 20
BACKUPS_KEPT = 10

# version -> function that upgrades the raw tables dict from `version` to `version + 1`.
Migration = Callable[[dict[str, dict[str, Any]]], None]
MIGRATIONS: dict[int, Migration] = {}


class StoreError(Exception):
    """Base class for store problems the user must see."""


class ReadOnlyError(StoreError):
    pass


class NotFoundError(StoreError, KeyError):
    def __str__(self) -> str:
        return str(self.args[0]) if self.args else "not found"


class StoreNewerError(StoreError):
    pass


class StoreWriteError(StoreError, OSError):
    """A store write failed (disk full, quota, permissions); the file on disk is unchanged."""

    def __init__(self, path: Path, exc: OSError) -> None:
        super().__init__(exc.errno, exc.strerror or str(exc), str(path))
        self.message = (f"cannot write the store {path}: {exc.strerror or exc}; the file on "
                        "disk is unchanged")

    def __str__(self) -> str:
        return self.message


class StoreMissingError(StoreError):
    """The store is gone but a file it was displaced to is beside it: never start afresh."""

    def __init__(self, path: Path, kept: list[Path]) -> None:
        self.path = path
        self.kept = kept
        backups = list_backups(path)
        way = (f"put the last backup in place with  juston-tui --db {path} db restore "
               f"{backups[0]}" if backups else
               f"look at it with  juston-tui --read-only --db {kept[0]}")
        super().__init__(
            f"the store {path} is missing, but {kept[0]} is beside it (a restore or a move "
            f"did not finish); {way}, or move that file away to start a new, empty store"
        )


class StoreCorruptError(StoreError):
    """The file exists but is not a readable juston-tui store. It is never touched."""

    def __init__(self, path: Path, detail: str) -> None:
        self.path = path
        self.detail = detail
        self.backups = list_backups(path)
        super().__init__(self.describe())

    def describe(self) -> str:
        lines = [
            f"The store {self.path} cannot be read: {self.detail}.",
            "It has been left exactly as it is; nothing was written to it.",
            "Ways on:",
        ]
        if self.backups:
            last = self.backups[0]
            lines.append(
                f"  - look at the last backup read-only:  juston-tui --read-only --db {last}"
            )
            lines.append(
                f"  - restore it (the damaged file is kept beside it):  "
                f"juston-tui --db {self.path} db restore {last}"
            )
        else:
            lines.append("  - there is no backup of this store yet")
        lines.append(
            "  - start a new store elsewhere:  juston-tui --db NEW_PATH (or JUSTON_TUI_DB)"
        )
        return "\n".join(lines)


def backup_dir(path: Path) -> Path:
    return path.parent / "backups"


def list_backups(path: Path) -> list[Path]:
    """Backups of the store at `path`, newest first."""
    folder = backup_dir(path)
    if not folder.is_dir():
        return []
    found = [p for p in folder.glob(f"{path.stem}-*.json") if p.is_file()]
    return sorted(found, key=lambda p: p.name, reverse=True)


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _naming(exc: OSError, path: Path) -> OSError:
    """The same error, naming the file the user asked for (not our temp file, not nothing)."""
    return OSError(exc.errno, exc.strerror or str(exc), str(path))


def _link_new(tmp: str, path: Path) -> None:
    """Give the finished temp file the name `path`, failing if that name exists."""
    try:
        os.link(tmp, path)
    except FileExistsError:
        raise
    except OSError as exc:  # a file system without hard links: exclusive create instead
        if exc.errno not in (errno.EPERM, errno.EOPNOTSUPP, errno.ENOTSUP, errno.EXDEV,
                             errno.EMLINK):
            raise
        with open(tmp, "rb") as src:
            payload = src.read()
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
    os.unlink(tmp)


def atomic_write_bytes(path: Path, payload: bytes, *, overwrite: bool = True) -> os.stat_result:
    """Replace `path` with `payload` so that a kill at any instant leaves old or new, never half.

    With `overwrite=False` an existing file is never replaced: the finished temp file is
    hard-linked into place, which fails with FileExistsError if the name is taken (no window
    between a check and the write). Errors name `path`.
    """
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as exc:
        raise _naming(exc, path) from None
    try:
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(payload)
                handle.flush()
                os.fsync(handle.fileno())
            if overwrite:
                os.replace(tmp, path)
            else:
                _link_new(tmp, path)
        except OSError as exc:
            raise _naming(exc, path) from None
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    _fsync_dir(path.parent)
    return os.stat(path)


def _kind_of(mode: int) -> str | None:
    """What a non-regular file is, in words; None for a regular file."""
    if stat.S_ISREG(mode):
        return None
    for test, word in ((stat.S_ISFIFO, "a named pipe (FIFO)"), (stat.S_ISSOCK, "a socket"),
                       (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
                       (stat.S_ISDIR, "a directory")):
        if test(mode):
            return word
    return "not a regular file"


def _refuse_odd_file(path: Path, mode: int) -> None:
    kind = _kind_of(mode)
    if kind is not None:
        raise StoreError(f"the store {path} is not a regular file but {kind}; give the path of "
                         "a juston-tui store file")


def damaged_beside(path: Path) -> list[Path]:
    """Files a restore displaced the store at `path` to (`<name>.damaged-<time>`), newest first."""
    found = [p for p in path.parent.glob(f"{glob.escape(path.name)}.damaged-*") if p.is_file()]
    return sorted(found, key=lambda p: p.name, reverse=True)


# The first key our files start with (orjson keeps the order _initial_data gives).
_STORE_START = re.compile(rb'^\s*\{\s*"(?:' + b"|".join(t.encode() for t in TABLES) + rb')"')


def looks_like_store(path: Path) -> bool:
    """Whether the file at `path` is (the remains of) a juston-tui store, not someone's file.

    A store, even a damaged one, starts like one of ours (`{"meta": ...`) or has backups made
    by us; anything else (`/etc/group`) is never moved, locked or chmodded.
    """
    try:
        with open(path, "rb") as handle:
            head = handle.read(4096)
    except OSError:
        return False
    return bool(_STORE_START.match(head)) or bool(list_backups(path))


def _identity(st: os.stat_result) -> tuple[int, int, int, int]:
    return (st.st_dev, st.st_ino, st.st_mtime_ns, st.st_size)


def _parse(path: Path, payload: bytes, *, check_shape: bool = True
           ) -> dict[str, dict[str, Any]]:
    if not payload.strip():
        raise StoreCorruptError(path, "the file is empty (truncated?)")
    try:
        with paused_gc():
            data = orjson.loads(payload)
    except orjson.JSONDecodeError as exc:
        raise StoreCorruptError(path, f"it is not valid JSON ({exc})") from None
    if not isinstance(data, dict) or not all(isinstance(v, dict) for v in data.values()):
        raise StoreCorruptError(path, "it is JSON but not a juston-tui store (unexpected layout)")
    meta = data.get("meta")
    if not meta or not any(d.get("key") == "schema" for d in meta.values() if isinstance(d, dict)):
        raise StoreCorruptError(path, "it has no schema version (not a juston-tui store?)")
    problem = shape_problem(data) if check_shape else None
    if problem is not None:
        raise StoreCorruptError(path, problem)
    return data


# -- the shape of a loaded store ----------------------------------------------------------------
# A store edited by hand (or by an old version) must give one clear line naming the first bad
# document, not a traceback from deep inside the first screen that reads it. Only the types
# the code relies on are checked; a missing field takes its default.
_TEXT = (str,)
_TEXT_OR_NONE = (str, type(None))
_FieldSpec = tuple[tuple[str, tuple[type, ...], str], ...]
_FIELD_TYPES: dict[str, _FieldSpec] = {
    "orgs": (
        *((f, _TEXT, "text") for f in (
            "name", "kind", "instance_url", "domain", "auth_method", "username",
            "consumer_key", "ca_bundle", "sandbox_push_ticket", "notes")),
        ("parent_org_id", _TEXT_OR_NONE, "text or null"),
        ("products", (list,), "a list of text"),
        ("tags", (list,), "a list of text"),
        ("push", (dict, type(None)), "an object (state, requested_on, ticket, registered_on)"),
        ("vendor", (bool,), "true or false"),
    ),
    "contacts": (
        *((f, _TEXT, "text") for f in ("full_name", "email", "title", "role", "notes")),
        ("org_ids", (list,), "a list of org IDs"),
        ("eligible", (bool,), "true or false"),
    ),
    "snapshots": (
        ("checked_at", _TEXT, "an ISO-8601 time"),
        ("error", _TEXT_OR_NONE, "text or null"),
        ("checks", (list,), "a list of checks"),
        ("facts", (dict,), "an object"),
        ("history", (list,), "a list"),
    ),
    "pushes": (
        *((f, _TEXT, "text") for f in (
            "status", "product", "timezone", "version", "kind", "notes", "start_utc")),
        ("announced_on", _TEXT_OR_NONE, "an ISO date or null"),
        ("actions", (list,), "a list of actions"),
    ),
    "checklist": (("verification", (dict, type(None)), "an object or null"),),
}
_LIST_ITEMS: dict[tuple[str, str], tuple[type, str]] = {
    ("orgs", "products"): (str, "a list of text"),
    ("orgs", "tags"): (str, "a list of text"),
    ("contacts", "org_ids"): (str, "a list of org IDs"),
    ("snapshots", "checks"): (dict, "a list of checks (objects with an id)"),
    ("pushes", "actions"): (dict, "a list of actions (objects)"),
}
_REQUIRED = {"snapshots": ("checked_at",), "pushes": ("start_utc",)}


def _shown(value: Any) -> str:
    text = repr(value) if isinstance(value, str) else orjson.dumps(value).decode()
    return text if len(text) <= 40 else text[:39] + "…"


def _schema_version(meta: Mapping[str, Any]) -> Any:
    for doc in meta.values():
        if isinstance(doc, dict) and doc.get("key") == "schema":
            return doc.get("version")
    return None


def _doc_problem(table: str, doc_id: str, doc: Any) -> str | None:
    key_field = TABLES[table]
    if not isinstance(doc, dict):
        return f"{table} document {doc_id}: {_shown(doc)} is not an object"
    key = doc.get(key_field)
    if not isinstance(key, str) or not key:
        return f"{table} document {doc_id}: no {key_field} (its key)"
    for name in _REQUIRED.get(table, ()):
        if name not in doc:
            return f"{table} {key}: {name} is missing"
    for name, types, expected in _FIELD_TYPES.get(table, ()):
        if name not in doc:
            continue
        value = doc[name]
        if not isinstance(value, types):
            return f"{table} {key}: {name} is {_shown(value)}, expected {expected}"
        item = _LIST_ITEMS.get((table, name))
        if item is not None and not all(isinstance(v, item[0]) for v in value):
            return f"{table} {key}: {name} is {_shown(value)}, expected {item[1]}"
    if table == "orgs" and isinstance(doc.get("push"), dict):
        for name, value in doc["push"].items():
            if not isinstance(value, _TEXT_OR_NONE):
                return f"orgs {key}: push.{name} is {_shown(value)}, expected text or null"
    elif table == "snapshots":
        if any(not isinstance(c.get("id"), str) for c in doc.get("checks") or ()):
            return f"snapshots {key}: a check has no id"
    elif table == "pushes":
        parsers = (("start_utc", datetime.fromisoformat), ("announced_on", date.fromisoformat))
        for name, parse in parsers:
            value = doc.get(name)
            if not value:
                continue
            try:
                parse(value.replace("Z", "+00:00"))
            except ValueError:
                return f"pushes {key}: {name} is {_shown(value)}, expected an ISO-8601 date/time"
    return None


def _fast_check(table: str) -> Callable[[dict[str, Any]], bool]:
    """A quick yes for a document of `table` our code wrote (every field there, right types).

    Most of the work runs in C (itemgetter, map, set): about 1 µs per document, where the
    field-by-field `_doc_problem` takes 4. A no (or a missing field) falls back to
    `_doc_problem`, which knows the defaults and says what is wrong.
    """
    spec = _FIELD_TYPES.get(table, ())
    texts = (TABLES[table], *(name for name, types, _ in spec if types == _TEXT))
    get_texts = itemgetter(*texts)
    others = [(name, frozenset(types)) for name, types, _ in spec if types != _TEXT]
    items = [(name, item) for (t, name), (item, _) in _LIST_ITEMS.items() if t == table]
    only_text = {str}
    key_field = TABLES[table]
    push_values = {str, type(None)}

    def check(doc: dict[str, Any]) -> bool:
        if set(map(type, get_texts(doc))) != only_text or not doc[key_field]:
            return False
        for name, types in others:
            if type(doc[name]) not in types:
                return False
        for name, item in items:
            value = doc[name]
            if value and set(map(type, value)) != {item}:
                return False
        push = doc.get("push") if table == "orgs" else None
        return push is None or set(map(type, push.values())) <= push_values

    return check


_FAST_TABLES = ("orgs", "contacts")  # the big ones; the others go field by field


def shape_problem(data: Mapping[str, Mapping[str, Any]]) -> str | None:
    """The first thing in a parsed store this version cannot use, as `table key: what`."""
    version = _schema_version(data["meta"])
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        return (f"meta: schema version {_shown(version)} is not one juston-tui has written "
                f"(1 to {SCHEMA_VERSION})")
    if version != SCHEMA_VERSION:
        return None  # older: the migrations reshape it; newer: read-only, its shape is not ours
    for table in TABLES:
        docs = data.get(table) or {}
        fast = _fast_check(table) if table in _FAST_TABLES else None
        for doc_id, doc in docs.items():
            if fast is not None and type(doc) is dict:
                try:
                    if fast(doc):
                        continue
                except KeyError:
                    pass
            problem = _doc_problem(table, doc_id, doc)
            if problem is not None:
                return problem
    return None


class AtomicJSONStorage(Storage):
    """TinyDB storage: orjson, atomic replace, a parsed cache keyed by the file's identity.

    Inside a batch (see `Store.transaction`) writes only update the cache and are committed
    once at the end, which makes several TinyDB operations one atomic write.
    """

    def __init__(self, path: str, read_only: bool = False) -> None:
        self.path = Path(path)
        self.read_only = read_only
        self._cache: dict[str, dict[str, Any]] | None = None
        self._ident: tuple[int, int, int, int] | None = None
        self._batch = False
        self._dirty = False
        self.generation = 0  # bumps whenever the data may have changed
        self.disk_generation = 0  # bumps only when data is (re)loaded from disk or dropped
        # Set by Store: whether a file identity is that of our own last write (its shape is
        # then known good and not checked again), and what to do after a write.
        self.written_by_us: Callable[[tuple[int, int, int, int]], bool] | None = None
        self.on_commit: Callable[[os.stat_result], None] | None = None

    def read(self) -> dict[str, dict[str, Any]] | None:
        if self._batch and self._cache is not None:
            return self._cache
        try:
            # O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer forever.
            fd = os.open(self.path, os.O_RDONLY | os.O_NONBLOCK)
        except FileNotFoundError:
            return None
        try:
            st = os.fstat(fd)
            _refuse_odd_file(self.path, st.st_mode)
            ident = _identity(st)
            if self._cache is not None and ident == self._ident:
                return self._cache
            with os.fdopen(fd, "rb", closefd=False) as handle:
                payload = handle.read()
        finally:
            os.close(fd)
        ours = self.written_by_us is not None and self.written_by_us(ident)
        self._cache = _parse(self.path, payload, check_shape=not ours)
        self._ident = ident
        self.generation += 1
        self.disk_generation += 1
        return self._cache

    def changed_on_disk(self) -> bool:
        try:
            return _identity(os.stat(self.path)) != self._ident
        except FileNotFoundError:
            return True

    def write(self, data: dict[str, dict[str, Any]]) -> None:
        if self.read_only:
            raise ReadOnlyError(f"the store {self.path} is open read-only")
        self._cache = data
        self.generation += 1
        if self._batch:
            self._dirty = True
            return
        self._commit()

    def _commit(self) -> None:
        assert self._cache is not None
        try:
            st = atomic_write_bytes(self.path, orjson.dumps(self._cache))
        except OSError as exc:  # disk full, quota, permissions: name the file, say it is intact
            self.invalidate()
            raise StoreWriteError(self.path, exc) from None
        except BaseException:
            self.invalidate()
            raise
        self._ident = _identity(st)
        if self.on_commit is not None:
            self.on_commit(st)

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

    def invalidate(self) -> None:
        self._cache = None
        self._ident = None
        self.generation += 1
        self.disk_generation += 1

    def close(self) -> None:
        pass


class _IntKeyView(dict):  # type: ignore[type-arg]
    """TinyDB's updaters want int doc ids; view the raw str-keyed table without copying it."""

    def __init__(self, raw: dict[str, Any]) -> None:
        super().__init__()
        self.raw = raw

    def __getitem__(self, key: int) -> Any:
        return self.raw[str(key)]

    def __setitem__(self, key: int, value: Any) -> None:
        self.raw[str(key)] = value

    def __delitem__(self, key: int) -> None:
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
        return self.raw.pop(str(key), *default)

    def get(self, key: int, default: Any = None) -> Any:  # type: ignore[override]
        return self.raw.get(str(key), default)

    def clear(self) -> None:
        self.raw.clear()


class _FastTable(Table):
    """TinyDB Table whose writes mutate the cached tables in place.

    Stock `_update_table` copies the whole table twice (str -> int keys and back) on every
    write: 9 ms of a 10,000-document edit. The updaters only need int-keyed access.
    """

    def _update_table(self, updater: Callable[[dict[int, Any]], None]) -> None:
        tables = self._storage.read() or {}
        raw = tables.setdefault(self.name, {})
        updater(_IntKeyView(raw))
        self._storage.write(tables)
        self.clear_cache()


class _TinyDB(TinyDB):
    table_class = _FastTable


def _initial_data() -> dict[str, dict[str, Any]]:
    data: dict[str, dict[str, Any]] = {name: {} for name in TABLES}
    data["meta"]["1"] = {"key": "schema", "version": SCHEMA_VERSION}
    return data


@dataclass(frozen=True)
class StoreHealth:
    path: Path
    exists: bool
    size: int
    mode: str
    schema_version: int | None
    counts: Mapping[str, int]
    backups: int
    problem: str | None


class Store:
    """Domain-level access to the TinyDB store, safe across threads and processes."""

    def __init__(self, path: Path, *, read_only: bool = False) -> None:
        self.path = Path(path)
        self.read_only = read_only
        self.lock_path = self.path.with_name(self.path.name + ".lock")
        self.warnings: list[str] = []
        self.loaded = False  # parsed and migrated (see `load`)
        self._prepared = read_only  # temp files swept, permissions tightened (ours only)
        self._thread_lock = threading.RLock()
        self._depth = 0
        self._lock_fd: int | None = None
        self._db = _TinyDB(str(self.path), storage=AtomicJSONStorage, read_only=read_only)
        self._storage: AtomicJSONStorage = self._db.storage  # type: ignore[assignment]
        self._storage.written_by_us = self._written_by_us
        self._storage.on_commit = self._record_write
        self._index_gen = -1
        self._indexes: dict[str, dict[str, int]] = {}
        self._seen_gen = -1

    # -- opening -----------------------------------------------------------------------------
    @classmethod
    def open(cls, path: Path | str, *, read_only: bool = False, load: bool = True) -> Store:
        """Open (creating if absent) and migrate; raise StoreCorruptError on an unreadable file.

        With `load=False` only the cheap part runs now (path checks) and the parse and
        migration wait for `load()`: the TUI draws its first frame before reading a 6 MB file
        and does the reading in a worker. An existing file is chmodded, locked or swept only
        once the parse has recognised it as a juston-tui store. A symlinked store is used
        through its target (writes replace the target, never the link).
        """
        path = Path(path).expanduser()
        if path.is_symlink():
            path = path.resolve()
        try:
            st: os.stat_result | None = path.stat()
        except FileNotFoundError:
            st = None
        except OSError as exc:
            raise StoreError(f"cannot open the store {path}: {exc.strerror or exc}") from None
        if st is not None and stat.S_ISDIR(st.st_mode):
            raise StoreError(f"the store {path} is a directory; give a file path")
        if st is not None:
            _refuse_odd_file(path, st.st_mode)
        else:
            kept = damaged_beside(path)
            if kept:
                raise StoreMissingError(path, kept)
        try:
            store = cls._open(path, read_only=read_only, exists=st is not None)
        except OSError as exc:
            raise StoreError(f"cannot open the store {path}: {exc.strerror or exc}") from None
        if load:
            store.load()
        return store

    def load(self) -> None:
        """Parse (once) and migrate; raise StoreCorruptError on an unreadable file.

        Thread-safe: a second caller waits for the first one's parse instead of repeating it.
        """
        if self.loaded:
            return
        with self._thread_lock:
            if self.loaded:
                return
            try:
                self._raw()
                self._prepare()
                self._migrate()
            except OSError as exc:
                raise StoreError(
                    f"cannot read the store {self.path}: {exc.strerror or exc}"
                ) from None
            self.loaded = True

    @classmethod
    def _open(cls, path: Path, *, read_only: bool, exists: bool) -> Store:
        if read_only:
            if not exists:
                raise StoreError(
                    f"the store {path} does not exist (read-only mode creates nothing)"
                )
        else:
            ensure_private_dir(path.parent)
        store = cls(path, read_only=read_only)
        if not read_only and not exists:
            with store._file_lock():
                with contextlib.suppress(FileExistsError):  # another process was first
                    atomic_write_bytes(path, orjson.dumps(_initial_data()), overwrite=False)
                store._sweep_temp_files()
                store._tighten_permissions()
            store._prepared = True
        return store

    def _prepare(self) -> None:
        """After the parse recognised the file as ours: sweep temp files, tighten permissions."""
        if self._prepared:
            return
        with self._file_lock():
            self._sweep_temp_files()
            self._tighten_permissions()
        self._prepared = True

    def _sweep_temp_files(self) -> None:
        # Only called under the file lock: no other writer can own a temp file right now.
        for tmp in self.path.parent.glob(f".{self.path.name}.*.tmp"):
            with contextlib.suppress(OSError):
                tmp.unlink()

    def _tighten_permissions(self) -> None:
        for target, mode in ((self.path, 0o600), (self.lock_path, 0o600)):
            try:
                st = target.stat()
            except FileNotFoundError:
                continue
            if st.st_mode & 0o077 and st.st_uid == os.getuid():
                os.chmod(target, mode)
                self.warnings.append(f"tightened permissions of {target} to {oct(mode)}")

    def schema_version(self) -> int:
        version = _schema_version(self._raw()["meta"])
        return version if isinstance(version, int) else 0

    def _migrate(self) -> None:
        version = self.schema_version()
        if version > SCHEMA_VERSION:
            if self.read_only:
                self.warnings.append(f"written by a newer juston-tui (schema {version})")
                return
            raise StoreNewerError(
                f"the store {self.path} has schema {version}, newer than this juston-tui "
                f"understands ({SCHEMA_VERSION}); upgrade juston-tui or open it with --read-only"
            )
        if version == SCHEMA_VERSION or self.read_only:
            return
        self.backup(f"pre-migration-v{version}")
        with self.transaction():
            data = self._storage.read()
            assert data is not None
            current = self.schema_version()
            while current < SCHEMA_VERSION:
                MIGRATIONS[current](data)
                current += 1
            for name in TABLES:
                data.setdefault(name, {})
            for doc in data["meta"].values():
                if doc.get("key") == "schema":
                    doc["version"] = current
            self._storage.write(data)
            self._index_gen = -1  # migrations may rewrite anything

    # -- locking and transactions ------------------------------------------------------------
    @contextlib.contextmanager
    def _file_lock(self) -> Iterator[None]:
        fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            self._lock_fd = fd
            yield
        finally:
            self._lock_fd = None
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

    # The lock file holds the identity (device, inode, mtime, size) of the store file as this
    # code last wrote it. A file with that identity is exactly our own output, whose shape is
    # known good: its parse skips `shape_problem` (~4 µs a document, 80 ms for 10k+10k). Any
    # other file (edited by hand, restored, copied, written by an older version) is checked.
    def _record_write(self, st: os.stat_result) -> None:
        if self._lock_fd is None:
            return
        record = " ".join(str(v) for v in _identity(st)).encode()
        with contextlib.suppress(OSError):  # only a shortcut: without it the next parse checks
            os.pwrite(self._lock_fd, record, 0)
            os.ftruncate(self._lock_fd, len(record))

    def _written_by_us(self, ident: tuple[int, int, int, int]) -> bool:
        try:
            fd = os.open(self.lock_path, os.O_RDONLY | os.O_NONBLOCK)
        except OSError:
            return False
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                return False
            record = os.read(fd, 200)
        except OSError:
            return False
        finally:
            os.close(fd)
        return record == " ".join(str(v) for v in ident).encode()

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Store]:
        """One atomic read-modify-write: all TinyDB writes inside land together or not at all."""
        if self.read_only:
            raise ReadOnlyError(f"the store {self.path} is open read-only")
        with self._thread_lock:
            outer = self._depth == 0
            if outer and not self._prepared:
                self._raw()  # recognise the file as ours before creating its lock file
                self._prepare()
            if outer:
                lock = self._file_lock()
                lock.__enter__()
            self._depth += 1
            ok = False
            try:
                if outer:
                    self._sync()  # see other processes' writes before batching ours
                    self._storage.begin()
                yield self
                ok = True
            finally:
                self._depth -= 1
                if outer:
                    try:
                        self._storage.end(commit=ok)
                    finally:
                        lock.__exit__(None, None, None)

    def _sync(self) -> None:
        """Drop TinyDB's per-table caches when another process changed the file."""
        self._storage.read()
        if self._storage.disk_generation != self._seen_gen:
            self._db.clear_cache()
            for table in self._db._tables.values():
                table._next_id = None  # TinyDB caches the next id; another process moved it
            self._seen_gen = self._storage.disk_generation

    def _raw(self) -> dict[str, dict[str, Any]]:
        data = self._storage.read()
        if data is None:
            raise StoreCorruptError(self.path, "the file has disappeared")
        return data

    def changed_on_disk(self) -> bool:
        """True when another process wrote since we last read (cheap: one stat)."""
        return self._storage.changed_on_disk()

    # -- generic keyed documents -------------------------------------------------------------
    def _index(self, table: str) -> dict[str, int]:
        """key -> TinyDB doc id; rebuilt after a load from disk, kept current by our writes."""
        data = self._raw()
        if self._index_gen != self._storage.disk_generation:
            self._indexes = {}
            self._index_gen = self._storage.disk_generation
        index = self._indexes.get(table)
        if index is None:
            key = TABLES[table]
            index = {doc[key]: int(doc_id) for doc_id, doc in data.get(table, {}).items()}
            self._indexes[table] = index
        return index

    def all_docs(self, table: str) -> list[dict[str, Any]]:
        with self._thread_lock:
            return [dict(doc) for doc in self._raw().get(table, {}).values()]

    def get_doc(self, table: str, key: str) -> dict[str, Any] | None:
        with self._thread_lock:
            doc_id = self._index(table).get(key)
            if doc_id is None:
                return None
            return dict(self._raw()[table][str(doc_id)])

    def put_doc(self, table: str, doc: Mapping[str, Any]) -> None:
        """Insert or replace the document with this key."""
        doc = strip_controls_deep(doc)
        key = doc[TABLES[table]]
        with self.transaction():
            index = self._index(table)
            doc_id = index.get(key)
            tbl = self._db.table(table)
            if doc_id is None:
                index[key] = tbl.insert(dict(doc))
            else:
                tbl.remove(doc_ids=[doc_id])
                tbl.insert(_with_id(doc, doc_id))

    def patch_doc(self, table: str, key: str, changes: Mapping[str, Any]) -> dict[str, Any]:
        """Change only the given fields, so concurrent edits of other fields survive."""
        changes = strip_controls_deep(changes)
        with self.transaction():
            doc_id = self._index(table).get(key)
            if doc_id is None:
                raise NotFoundError(f"no {table[:-1]} {key!r} in {self.path}")
            self._db.table(table).update(dict(changes), doc_ids=[doc_id])
            return dict(self._raw()[table][str(doc_id)])

    def delete_doc(self, table: str, key: str) -> dict[str, Any] | None:
        with self.transaction():
            doc_id = self._index(table).get(key)
            if doc_id is None:
                return None
            doc = dict(self._raw()[table][str(doc_id)])
            self._db.table(table).remove(doc_ids=[doc_id])
            self._index(table).pop(key, None)
            return doc

    def put_many(self, table: str, docs: list[Mapping[str, Any]]) -> None:
        """Bulk upsert in one write (imports)."""
        docs = [strip_controls_deep(d) for d in docs]
        with self.transaction():
            index = self._index(table)
            key_field = TABLES[table]
            tbl = self._db.table(table)
            replace_ids = [index[d[key_field]] for d in docs if d[key_field] in index]
            if replace_ids:
                tbl.remove(doc_ids=replace_ids)
            new_ids = tbl.insert_multiple(
                _with_id(d, index[d[key_field]]) if d[key_field] in index else dict(d) for d in docs
            )
            for doc, doc_id in zip(docs, new_ids, strict=True):
                index[doc[key_field]] = doc_id

    # -- orgs --------------------------------------------------------------------------------
    def list_orgs(self) -> list[Org]:
        with self._thread_lock:
            return [Org.from_doc(d) for d in self._raw().get("orgs", {}).values()]

    def get_org(self, org_id: str) -> Org:
        doc = self.get_doc("orgs", org_id)
        if doc is None:
            raise NotFoundError(f"no org {org_id} in the store")
        return Org.from_doc(doc)

    def find_org(self, org_id: str) -> Org | None:
        doc = self.get_doc("orgs", org_id)
        return Org.from_doc(doc) if doc else None

    def add_org(self, org: Org) -> None:
        with self.transaction():
            index = self._index("orgs")
            if org.org_id in index:
                raise ValidationError.single(
                    "org_id", f"the org {org.org_id} is already registered"
                )
            index[org.org_id] = self._db.table("orgs").insert(org.to_doc())

    def update_org(self, org_id: str, **changes: Any) -> Org:
        """Validate and apply changes to the current stored org (not a stale copy)."""
        with self.transaction():
            current = self.get_org(org_id)
            updated = current.with_changes(**changes)
            doc = updated.to_doc()
            delta = {k: v for k, v in doc.items() if current.to_doc().get(k) != v}
            if delta:
                self.patch_doc("orgs", org_id, delta)
            return updated

    def remove_org(self, org_id: str) -> Org:
        doc = self.delete_doc("orgs", org_id)
        if doc is None:
            raise NotFoundError(f"no org {org_id} in the store")
        return Org.from_doc(doc)

    # -- contacts ----------------------------------------------------------------------------
    def list_contacts(self) -> list[Contact]:
        with self._thread_lock:
            return [Contact.from_doc(d) for d in self._raw().get("contacts", {}).values()]

    def get_contact(self, contact_id: str) -> Contact:
        doc = self.get_doc("contacts", contact_id)
        if doc is None:
            raise NotFoundError(f"no contact {contact_id} in the store")
        return Contact.from_doc(doc)

    def find_contact_by_email(self, email: str) -> Contact | None:
        wanted = email.strip().lower()
        with self._thread_lock:
            for doc in self._raw().get("contacts", {}).values():
                if doc.get("email", "").lower() == wanted:
                    return Contact.from_doc(doc)
        return None

    def add_contact(self, contact: Contact) -> None:
        with self.transaction():
            existing = self.find_contact_by_email(contact.email)
            if existing is not None and existing.id != contact.id:
                raise ValidationError.single(
                    "email", f"{contact.email} already belongs to {existing.full_name}"
                )
            self.put_doc("contacts", contact.to_doc())

    def update_contact(self, contact_id: str, **changes: Any) -> Contact:
        with self.transaction():
            current = self.get_contact(contact_id)
            updated = current.with_changes(**changes)
            if updated.email.lower() != current.email.lower():
                existing = self.find_contact_by_email(updated.email)
                if existing is not None and existing.id != contact_id:
                    raise ValidationError.single(
                        "email", f"{updated.email} already belongs to {existing.full_name}"
                    )
            old = current.to_doc()
            delta = {k: v for k, v in updated.to_doc().items() if old.get(k) != v}
            if delta:
                self.patch_doc("contacts", contact_id, delta)
            return updated

    def remove_contact(self, contact_id: str) -> Contact:
        doc = self.delete_doc("contacts", contact_id)
        if doc is None:
            raise NotFoundError(f"no contact {contact_id} in the store")
        return Contact.from_doc(doc)

    # -- snapshots ---------------------------------------------------------------------------
    def save_snapshot(self, snapshot: Snapshot) -> None:
        """Keep the full latest snapshot plus a short history of verdicts per org."""
        with self.transaction():
            previous = self.get_doc("snapshots", snapshot.org_id) or {}
            history = list(previous.get("history") or [])
            history.insert(
                0,
                {
                    "checked_at": snapshot.checked_at,
                    "verdict": snapshot.verdict,
                    "error": snapshot.error,
                    "verdicts": {c.id: c.verdict for c in snapshot.checks},
                },
            )
            doc = {**snapshot.to_doc(), "history": history[:HISTORY_LIMIT]}
            self.put_doc("snapshots", doc)

    def latest_snapshot(self, org_id: str) -> Snapshot | None:
        doc = self.get_doc("snapshots", org_id)
        return Snapshot.from_doc(doc) if doc else None

    def snapshot_history(self, org_id: str) -> list[dict[str, Any]]:
        doc = self.get_doc("snapshots", org_id) or {}
        return list(doc.get("history") or [])

    def all_snapshots(self) -> dict[str, Snapshot]:
        with self._thread_lock:
            return {
                d["org_id"]: Snapshot.from_doc(d) for d in self._raw().get("snapshots", {}).values()
            }

    # -- meta settings -----------------------------------------------------------------------
    def get_setting(self, key: str, default: Any = None) -> Any:
        doc = self.get_doc("meta", f"setting:{key}")
        return default if doc is None else doc.get("value", default)

    def set_setting(self, key: str, value: Any) -> None:
        self.put_doc("meta", {"key": f"setting:{key}", "value": value})

    # -- backups and health ------------------------------------------------------------------
    def backup(self, reason: str = "manual") -> Path:
        """Copy the current file into backups/ (0600), keeping the newest few."""
        folder = backup_dir(self.path)
        ensure_private_dir(folder)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
        target = folder / f"{self.path.stem}-{stamp}-{reason}.json"
        atomic_write_bytes(target, self.path.read_bytes())
        for old in list_backups(self.path)[BACKUPS_KEPT:]:
            with contextlib.suppress(OSError):
                old.unlink()
        return target

    def counts(self) -> dict[str, int]:
        with self._thread_lock:
            return {name: len(self._raw().get(name, {})) for name in TABLES if name != "meta"}

    def close(self) -> None:
        self._db.close()


def _with_id(doc: Mapping[str, Any], doc_id: int) -> Any:
    from tinydb.table import Document

    return Document(dict(doc), doc_id=doc_id)


def _keep_aside(path: Path) -> Path:
    """A second name for the file at `path` (`<name>.damaged-<time>`), unique, made atomically.

    A hard link: the displaced file stays exactly as it was (bytes, mode, times) and the store
    path is never without a file. Where links are not possible, an exclusive copy.
    """
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S.%fZ")
    for attempt in range(1000):
        kept = path.with_name(f"{path.name}.damaged-{stamp}" + (f"-{attempt}" if attempt else ""))
        try:
            os.link(path, kept)
        except FileExistsError:
            continue
        except OSError as exc:
            if exc.errno not in (errno.EPERM, errno.EOPNOTSUPP, errno.ENOTSUP, errno.EMLINK):
                raise
            try:
                atomic_write_bytes(kept, path.read_bytes(), overwrite=False)
            except FileExistsError:
                continue
        return kept
    raise StoreError(f"cannot find a free name beside {path} to keep it under")


def restore_backup(path: Path, backup: Path) -> Path:
    """Put `backup` in place of the store in one atomic replace; the file it replaces is kept.

    The target must be (the remains of) a juston-tui store or absent: a file that is not ours
    is refused untouched. The displaced file keeps its bytes under a unique
    `<name>.damaged-<time>` name, linked before the replace, so a kill at any instant leaves
    the old store or the new one at the path and never loses the displaced one.
    """
    path = Path(path).expanduser()
    if path.is_symlink():
        path = path.resolve()
    payload = Path(backup).read_bytes()
    _parse(Path(backup), payload)  # refuse to restore a backup that is itself unreadable
    try:
        st: os.stat_result | None = path.stat()
    except FileNotFoundError:
        st = None
    if st is not None:
        _refuse_odd_file(path, st.st_mode)
        if not looks_like_store(path):
            raise StoreError(
                f"{path} is not a juston-tui store (it does not look like one and has no "
                "backups); restore only ever replaces a store, so it was left untouched"
            )
    ensure_private_dir(path.parent)
    kept = path
    store = Store(path)
    with store._file_lock():
        if path.exists():
            kept = _keep_aside(path)
        atomic_write_bytes(path, payload)
    return kept


def health(path: Path) -> StoreHealth:
    """What `doctor` says about a store, without ever writing to it."""
    path = Path(path)
    if path.is_symlink():
        path = path.resolve()
    backups = len(list_backups(path))
    if not path.exists():
        kept = damaged_beside(path)
        if kept:
            return StoreHealth(path, False, 0, "", None, {}, backups,
                               str(StoreMissingError(path, kept)))
        return StoreHealth(path, False, 0, "", None, {}, backups, "does not exist yet")
    st = path.stat()
    mode = oct(st.st_mode & 0o777)
    try:
        _refuse_odd_file(path, st.st_mode)
        store = Store(path, read_only=True)
        version = store.schema_version()
        counts = store.counts()
        problem = None
        if st.st_mode & 0o077:
            problem = f"readable by others ({mode}); juston-tui tightens it to 0o600 on next open"
    except StoreCorruptError as exc:
        return StoreHealth(path, True, st.st_size, mode, None, {}, backups, exc.detail)
    except StoreError as exc:
        return StoreHealth(path, True, st.st_size, mode, None, {}, backups, str(exc))
    return StoreHealth(path, True, st.st_size, mode, version, counts, backups, problem)
