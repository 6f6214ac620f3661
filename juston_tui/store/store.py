"""The local store: TinyDB on an atomic, locked, versioned, journaled JSON file.

Stock TinyDB rewrites its file in place and has no locking, so a kill mid-write or a second
process corrupts it. Here every commit is one fsynced journal line appended to the file, or a
new base written to a temp file, fsynced and renamed over the store (engine.py); every
read-modify-write holds an exclusive `flock` on a sidecar lock file, so two app instances never
lose each other's edits. A file that cannot be read is reported with its path and never
written to.

`Store` owns the `orgs`, `contacts` and `meta` tables and the snapshot files beside the store
(store/snapshots.py: probe history never shares a file with what people edit); the
schedule package owns `pushes`, the checklist package `checklist`. Only a table's owner reads or
writes its raw documents (tests/test_layering.py).

Why one module of ~700 lines: the open/load/transaction core and the typed methods of its four
tables share the lock, the parsed data and the key index; the mechanics beside them are split
out already (engine, files, schema, shape, snapshots, backups).
"""

from __future__ import annotations

import contextlib
import fcntl
import glob
import os
import stat
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from juston_tui.model import Contact, Org, Snapshot, ValidationError
from juston_tui.paths import ensure_private_dir
from juston_tui.store import schema
from juston_tui.store.backups import backup_dir, list_backups
from juston_tui.store.engine import AtomicJSONStorage, StoreTinyDB, initial_data, with_id
from juston_tui.store.errors import (
    NotFoundError,
    ReadOnlyError,
    StoreCorruptError,
    StoreError,
    StoreMissingError,
    StoreNewerError,
)
from juston_tui.store.files import (
    atomic_write_bytes,
    damaged_beside,
    identity,
    keep_aside,
    looks_like_store,
    refuse_odd_file,
)
from juston_tui.store.first_page import Stamp, stamp_of
from juston_tui.store.shape import parse_store, schema_version_of, snapshot_problem
from juston_tui.store.snapshots import LineRef, SnapshotFiles, latest_doc
from juston_tui.text import strip_controls_deep


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
    beside: tuple[str, ...] = ()  # the snapshot files beside the store, in words


def _beside(path: Path) -> tuple[str, ...]:
    files = SnapshotFiles(path)
    out = []
    with contextlib.suppress(OSError):
        out.append(f"{files.path} ({files.path.stat().st_size:,} bytes)")
    with contextlib.suppress(OSError):
        count = sum(1 for _ in os.scandir(files.history_dir))
        out.append(f"{files.history_dir}/ ({count:,} history files)")
    return tuple(out)


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
        self._db = StoreTinyDB(str(self.path), storage=AtomicJSONStorage, read_only=read_only)
        self._snaps = SnapshotFiles(self.path, read_only=read_only)
        self._storage: AtomicJSONStorage = self._db.storage  # type: ignore[assignment]
        self._storage.recorded = self._recorded
        self._storage.on_commit = self._record_write
        self._index_gen = -1
        self._indexes: dict[str, dict[str, int]] = {}
        self._seen_gen = -1
        # Another process's write that a transaction of ours read in (`changed_on_disk`).
        self._unreported = False
        # Whole-file writes this Store made (each one atomic rename): tests and benches count
        # them ("the import is one write", "a sweep writes in batches").
        self.write_count = 0

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
            refuse_odd_file(path, st.st_mode)
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
                    atomic_write_bytes(path, orjson.dumps(initial_data()) + b"\n",
                                       overwrite=False)
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
        leftovers = list(self.path.parent.glob(f".{glob.escape(self.path.name)}.*.tmp"))
        # A backup killed half-way (before a migration, say) leaves its temp file there.
        leftovers += backup_dir(self.path).glob(f".{glob.escape(self.path.stem)}-*.json.*.tmp")
        for tmp in leftovers:
            with contextlib.suppress(OSError):
                tmp.unlink()
        self._snaps.sweep_temp_files()

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
        version = schema_version_of(self._raw()["meta"])
        return version if isinstance(version, int) else 0

    def _migrate(self) -> None:
        version = self.schema_version()
        if version > schema.SCHEMA_VERSION:
            if self.read_only:
                self.warnings.append(f"written by a newer juston-tui (schema {version})")
                return
            raise StoreNewerError(
                f"the store {self.path} has schema {version}, newer than this juston-tui "
                f"understands ({schema.SCHEMA_VERSION}); upgrade juston-tui or open it with "
                "--read-only"
            )
        if version == schema.SCHEMA_VERSION or self.read_only:
            return
        self.backup(f"pre-migration-v{version}")
        with self.transaction():
            data = self._storage.read()
            assert data is not None
            current = self.schema_version()
            if current < 2:
                self._move_snapshots_out(data)
            while current < schema.SCHEMA_VERSION:
                schema.MIGRATIONS[current](data)
                current += 1
            for name in schema.TABLES:
                data.setdefault(name, {})
            for doc in data["meta"].values():
                if doc.get("key") == "schema":
                    doc["version"] = current
            self._storage.rewrite_whole()
            self._storage.write(data)
            self._index_gen = -1  # migrations may rewrite anything

    def _move_snapshots_out(self, data: dict[str, dict[str, Any]]) -> None:
        """Schema 1 -> 2, first half: the snapshots table into its own files (merged with any a
        killed earlier attempt wrote); the store file is rewritten without it only after."""
        docs = list((data.get("snapshots") or {}).values())
        for number, doc in enumerate(docs, start=1):
            problem = snapshot_problem(doc, f"document {number}")
            if problem is not None:
                raise StoreCorruptError(self.path, problem)
        self._snaps.merge(docs)

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
        self.write_count += 1
        if self._lock_fd is None:
            return
        # Padded to one width: a kill between the write and the truncate must not leave the
        # tail of a longer earlier record glued to this one (a wrong size: "truncated?").
        record = " ".join(str(v) for v in identity(st)).encode().ljust(100)
        with contextlib.suppress(OSError):  # only a shortcut: without it the next parse checks
            os.pwrite(self._lock_fd, record, 0)
            os.ftruncate(self._lock_fd, len(record))

    def _recorded(self) -> tuple[int, ...] | None:
        """The identity of the store file as juston-tui last wrote it (from the lock file)."""
        try:
            fd = os.open(self.lock_path, os.O_RDONLY | os.O_NONBLOCK)
        except OSError:
            return None
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                return None
            record = os.read(fd, 200)
        except OSError:
            return None
        finally:
            os.close(fd)
        try:
            values = tuple(int(v) for v in record.split())
        except ValueError:
            return None
        return values if len(values) == 4 else None

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
        if self._storage._cache is not None and self._storage.changed_on_disk():
            self._unreported = True  # read in for our write, but still news to the screens
        self._raw()
        if self._storage.disk_generation != self._seen_gen:
            self._db.clear_cache()
            for table in self._db._tables.values():
                table._next_id = None  # TinyDB caches the next id; another process moved it
            self._seen_gen = self._storage.disk_generation

    def _raw(self) -> dict[str, dict[str, Any]]:
        data = self._storage.read()
        if data is None:
            raise StoreCorruptError(self.path, "the file has disappeared")
        if self._storage.tail_ops:
            self._follow_tail()
        return data

    def _follow_tail(self) -> None:
        """Another process appended: keep the key indexes and TinyDB's caches current.

        Per changed document, not per table: an edit right after another process's edit costs
        what that edit changed (bench/store_bench.py, cross-process edit).
        """
        ops = self._storage.tail_ops[:]
        self._storage.tail_ops.clear()
        self._db.clear_cache()
        for table, doc_id, before, after in ops:
            index = self._indexes.get(table) if self._index_gen == self._storage.disk_generation \
                else None
            if index is not None:
                key = schema.TABLES.get(table)
                if isinstance(before, dict) and index.get(before.get(key)) == int(doc_id):
                    index.pop(before.get(key), None)
                if isinstance(after, dict) and key in after:
                    index[after[key]] = int(doc_id)
            tbl = self._db._tables.get(table)
            if tbl is not None and tbl._next_id is not None:
                tbl._next_id = max(tbl._next_id, int(doc_id) + 1)

    def changed_on_disk(self) -> bool:
        """True when another process wrote since we last read (cheap: two stats): the store
        file, or the snapshot file beside it (a `status` run in another terminal)."""
        if self._unreported:
            self._unreported = False
            return True
        return self._storage.changed_on_disk() or self._snaps.changed()

    @property
    def snapshots_path(self) -> Path:
        """The snapshot file beside the store (store/snapshots.py)."""
        return self._snaps.path

    def disk_stamp(self) -> Stamp:
        """The store file's and the snapshot file's identities now (two stats): equal stamps
        mean neither was written in between (a first page is valid for one stamp)."""
        return stamp_of([self.path, self._snaps.path])

    # -- generic keyed documents -------------------------------------------------------------
    def _index(self, table: str, data: dict[str, dict[str, Any]] | None = None
               ) -> dict[str, int]:
        """key -> TinyDB doc id; rebuilt after a load from disk, kept current by our writes.

        Pass the `data` (from `_raw`) the ids will be looked up in: a second read could take in
        another process's lines in between, and the id would name a document no longer there.
        """
        if data is None:
            data = self._raw()
        if self._index_gen != self._storage.disk_generation:
            self._indexes = {}
            self._index_gen = self._storage.disk_generation
        index = self._indexes.get(table)
        if index is None:
            key = schema.TABLES[table]
            index = {doc[key]: int(doc_id) for doc_id, doc in data.get(table, {}).items()}
            self._indexes[table] = index
        return index

    def all_docs(self, table: str) -> list[dict[str, Any]]:
        if table not in schema.TABLES:  # e.g. "snapshots", which lives beside the store now
            raise ValueError(f"the store has no table {table!r}")
        with self._thread_lock:
            return [dict(doc) for doc in self._raw().get(table, {}).values()]

    def get_doc(self, table: str, key: str) -> dict[str, Any] | None:
        with self._thread_lock:
            data = self._raw()
            doc_id = self._index(table, data).get(key)
            if doc_id is None:
                return None
            return dict(data[table][str(doc_id)])

    def put_doc(self, table: str, doc: Mapping[str, Any]) -> None:
        """Insert or replace the document with this key."""
        doc = strip_controls_deep(doc)
        key = doc[schema.TABLES[table]]
        with self.transaction():
            index = self._index(table)
            doc_id = index.get(key)
            tbl = self._db.table(table)
            if doc_id is None:
                index[key] = tbl.insert(dict(doc))
            else:
                tbl.remove(doc_ids=[doc_id])
                tbl.insert(with_id(doc, doc_id))

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
            key_field = schema.TABLES[table]
            tbl = self._db.table(table)
            # Replacements first: TinyDB may work out a new document's id from the highest id
            # in the table, which may be one just removed here for its replacement.
            docs.sort(key=lambda d: d[key_field] not in index)
            replace_ids = [index[d[key_field]] for d in docs if d[key_field] in index]
            if replace_ids:
                tbl.remove(doc_ids=replace_ids)
            new_ids = tbl.insert_multiple(
                with_id(d, index[d[key_field]]) if d[key_field] in index else dict(d) for d in docs
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

    def remove_orgs(self, org_ids: list[str]) -> list[Org]:
        """Remove several orgs in one write; returns them as they were (for an undo)."""
        with self.transaction():
            return [self.remove_org(org_id) for org_id in org_ids]

    def restore_orgs(self, orgs: list[Org]) -> list[Org]:
        """Undo a removal in one write: the orgs not registered again meanwhile come back."""
        with self.transaction():
            restored = [org for org in orgs if self.find_org(org.org_id) is None]
            for org in restored:
                self.add_org(org)
            return restored

    def put_orgs(self, orgs: list[Org]) -> None:
        """Add or replace many orgs in one write (the demo, imports)."""
        self.put_many("orgs", [o.to_doc() for o in orgs])

    def org_docs(self) -> list[dict[str, Any]]:
        """Every org as its stored document, for bulk display: 10,000 rows without building
        10,000 Org objects (~0.2 s). Read-only, and shared with the store's cache (not
        copied: 60 MB at 100,000 orgs), which never changes a document in place (a write
        replaces it); changes go through the typed methods."""
        return self._shared_docs("orgs")

    def org_names(self) -> dict[str, str]:
        """Org ID -> name of every org, without building the Org objects."""
        with self._thread_lock:
            return {d["org_id"]: d.get("name", "") for d in self._raw().get("orgs", {}).values()}

    def _shared_docs(self, table: str) -> list[dict[str, Any]]:
        with self._thread_lock:
            return list(self._raw().get(table, {}).values())

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

    def put_contacts(self, contacts: list[Contact]) -> None:
        """Add or replace many contacts in one write (imports, the demo); the caller has
        checked that no e-mail address belongs to two of them."""
        self.put_many("contacts", [c.to_doc() for c in contacts])

    def contact_docs(self) -> list[dict[str, Any]]:
        """Every contact as its stored document, for bulk display: read-only and shared with
        the store's cache, as `org_docs`."""
        return self._shared_docs("contacts")

    # -- snapshots (beside the store: store/snapshots.py) ------------------------------------
    def save_snapshot(self, snapshot: Snapshot) -> None:
        self.save_snapshots([snapshot])

    def save_snapshots(self, snapshots: list[Snapshot]) -> None:
        """Save checks' results: one append and one fsync for all of them (a sweep's batch),
        each org's latest plus a line in its history. Never touches the store file."""
        docs = [strip_controls_deep(s.to_doc()) for s in snapshots]
        if not docs:
            return
        with self.transaction():  # the store's lock: one writer of the snapshot files at a time
            self._snaps.append(docs)
            self.write_count += 1

    def _legacy_snapshots(self) -> list[dict[str, Any]] | None:
        """A schema-1 store opened read-only (never migrated) still has its snapshots inside."""
        with self._thread_lock:
            raw = self._raw()
            if self.schema_version() >= 2:
                return None
            return [dict(d) for d in raw.get("snapshots", {}).values() if isinstance(d, dict)]

    def latest_snapshot(self, org_id: str) -> Snapshot | None:
        doc = self.snapshot_doc(org_id)
        return Snapshot.from_doc(doc) if doc else None

    def snapshot_history(self, org_id: str) -> list[dict[str, Any]]:
        """The org's last checks, newest first (time, overall verdict, error, verdicts)."""
        legacy = self._legacy_snapshots()
        if legacy is not None:
            doc = next((d for d in legacy if d.get("org_id") == org_id), {})
            return list(doc.get("history") or [])
        return self._snaps.history(org_id)

    def snapshot_doc(self, org_id: str) -> dict[str, Any] | None:
        """The org's latest snapshot as stored, read-only."""
        legacy = self._legacy_snapshots()
        if legacy is not None:
            return next((latest_doc(d) for d in legacy if d.get("org_id") == org_id), None)
        return self._snaps.latest(org_id)

    def iter_snapshot_docs(self) -> Iterator[dict[str, Any]]:
        """Every org's latest snapshot as stored, one at a time: callers that show a few
        values per org keep those, not 10,000 snapshots' facts (the registry)."""
        legacy = self._legacy_snapshots()
        if legacy is not None:
            yield from (latest_doc(d) for d in legacy)
            return
        yield from self._snaps.iter_latest()

    def iter_snapshot_lines(self) -> Iterator[tuple[str, bytes | LineRef]]:
        """Every org's latest snapshot as (org ID, where its stored line is), unread: for a
        screen that reads and parses each where it is needed (`parse_snapshot_line`)."""
        legacy = self._legacy_snapshots()
        if legacy is not None:
            yield from ((str(d.get("org_id")), orjson.dumps(latest_doc(d))) for d in legacy)
            return
        yield from self._snaps.iter_latest_lines()

    def parse_snapshot_line(self, line: bytes | LineRef) -> dict[str, Any]:
        """A line of `iter_snapshot_lines` as a document; SnapshotsCorruptError if damaged."""
        return self._snaps.parse_line(line)

    def snapshot_docs(self) -> list[dict[str, Any]]:
        """Every org's latest snapshot as stored, for bulk display (read-only)."""
        return list(self.iter_snapshot_docs())

    def all_snapshots(self) -> dict[str, Snapshot]:
        return {d["org_id"]: Snapshot.from_doc(d) for d in self.iter_snapshot_docs()}

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
        for old in list_backups(self.path)[schema.BACKUPS_KEPT:]:
            with contextlib.suppress(OSError):
                old.unlink()
        return target

    def counts(self) -> dict[str, int]:
        with self._thread_lock:
            raw = self._raw()
            counts = {name: len(raw.get(name, {})) for name in schema.TABLES if name != "meta"}
        counts["snapshots"] = sum(1 for _ in self.iter_snapshot_docs())
        return counts

    def companion_paths(self) -> list[Path]:
        """The files beside the store that belong to it (the snapshots and their history):
        what moves with the store file when it is built aside and moved into place."""
        return [self._snaps.path, self._snaps.history_dir]

    def close(self) -> None:
        self._db.close()


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
    parse_store(Path(backup), payload)  # refuse to restore a backup that is itself unreadable
    try:
        st: os.stat_result | None = path.stat()
    except FileNotFoundError:
        st = None
    if st is not None:
        refuse_odd_file(path, st.st_mode)
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
            kept = keep_aside(path)
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
        refuse_odd_file(path, st.st_mode)
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
    return StoreHealth(path, True, st.st_size, mode, version, counts, backups, problem,
                       _beside(path))
