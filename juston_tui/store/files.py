"""Files on disk: atomic writes, backups, recognising a store before touching it.

A store file is replaced whole (temp file in the same folder, fsync, rename, folder fsync), so
a kill at any instant leaves the old file or the new one. Nothing is chmodded, locked, moved or
replaced before it is recognised as a juston-tui store.
"""

from __future__ import annotations

import contextlib
import errno
import glob
import os
import re
import stat
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from juston_tui.store.backups import list_backups
from juston_tui.store.errors import StoreError
from juston_tui.store.schema import TABLES


def fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def naming(exc: OSError, path: Path) -> OSError:
    """The same error, naming the file the user asked for (not our temp file, not nothing)."""
    return OSError(exc.errno, exc.strerror or str(exc), str(path))


def link_new(tmp: str, path: Path) -> None:
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
        raise naming(exc, path) from None
    try:
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(payload)
                handle.flush()
                os.fsync(handle.fileno())
            if overwrite:
                os.replace(tmp, path)
            else:
                link_new(tmp, path)
        except OSError as exc:
            raise naming(exc, path) from None
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    fsync_dir(path.parent)
    return os.stat(path)


def kind_of(mode: int) -> str | None:
    """What a non-regular file is, in words; None for a regular file."""
    if stat.S_ISREG(mode):
        return None
    for test, word in ((stat.S_ISFIFO, "a named pipe (FIFO)"), (stat.S_ISSOCK, "a socket"),
                       (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
                       (stat.S_ISDIR, "a directory")):
        if test(mode):
            return word
    return "not a regular file"


def refuse_odd_file(path: Path, mode: int) -> None:
    kind = kind_of(mode)
    if kind is not None:
        raise StoreError(f"the store {path} is not a regular file but {kind}; give the path of "
                         "a juston-tui store file")


def open_for_reading(path: Path) -> tuple[int, os.stat_result] | None:
    """An fd and its stat for a regular file at `path`, None when there is none; anything
    else (a FIFO, a device) refused. O_NONBLOCK: opening a FIFO would otherwise wait for a
    writer forever. The caller closes the fd."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except FileNotFoundError:
        return None
    try:
        st = os.fstat(fd)
        refuse_odd_file(path, st.st_mode)
    except BaseException:
        os.close(fd)
        raise
    return fd, st


def damaged_beside(path: Path) -> list[Path]:
    """Files a restore displaced the store at `path` to (`<name>.damaged-<time>`), newest first."""
    found = [p for p in path.parent.glob(f"{glob.escape(path.name)}.damaged-*") if p.is_file()]
    return sorted(found, key=lambda p: p.name, reverse=True)


# The first key our files start with (orjson keeps the order initial_data gives).
STORE_START = re.compile(rb'^\s*\{\s*"(?:' + b"|".join(t.encode() for t in TABLES) + rb')"')


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
    return bool(STORE_START.match(head)) or bool(list_backups(path))


def identity(st: os.stat_result) -> tuple[int, int, int, int]:
    return (st.st_dev, st.st_ino, st.st_mtime_ns, st.st_size)


def keep_aside(path: Path) -> Path:
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
