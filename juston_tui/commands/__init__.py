"""Non-interactive commands. One module per command group, each with `register(sub)`.

A command module adds its subparser in `register` and sets `func=run`, where
`run(args, ctx) -> int` returns the exit code. User mistakes raise `UserError` (one line on
stderr, exit 2, no traceback); `ctx` opens the store and credentials lazily so commands that
need neither start fast.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import orjson

from juston_tui.commands.output import is_terminal, print_table
from juston_tui.credentials import ask_on_terminal, open_credentials
from juston_tui.errors import UserError
from juston_tui.paths import resolve_db_path
from juston_tui.store import Store, atomic_write_bytes

if TYPE_CHECKING:
    from juston_tui.credentials import CredentialStore
    from juston_tui.demo import DemoEnv
    from juston_tui.store import Store


@dataclass
class Context:
    args: argparse.Namespace
    out: IO[str] = field(default_factory=lambda: sys.stdout)
    err: IO[str] = field(default_factory=lambda: sys.stderr)
    _store: Store | None = None
    _credentials: CredentialStore | None = None
    _demo: DemoEnv | None = None

    @property
    def read_only(self) -> bool:
        return bool(getattr(self.args, "read_only", False))

    @property
    def is_demo(self) -> bool:
        return bool(getattr(self.args, "demo", False))

    def demo(self) -> DemoEnv:
        """`--demo`: the demo place (seeded on first use), opened once per command."""
        if self._demo is None:
            # the demo and its seeding modules: only with --demo
            from juston_tui.demo import open_demo

            # Commands that talk to the orgs (set_defaults(online=True), checklist --verify)
            # get the simulator up and synced before they read the store.
            online = bool(getattr(self.args, "online", False) or
                          getattr(self.args, "verify", False))
            self._demo = open_demo(read_only=self.read_only, need_simulator=online)
            if self._demo.created:
                print(f"juston-tui: note: the demo was set up in {self._demo.place.root} "
                      "(`juston-tui --demo reset` starts it afresh)", file=self.err)
        return self._demo

    def db_path(self) -> Path:
        """The store this command works on: --db, JUSTON_TUI_DB, the default, or the demo's."""

        if self.is_demo:
            return self.demo().store_path
        return resolve_db_path(getattr(self.args, "db", None))

    def store(self, *, write: bool = False) -> Store:
        """Open the store once; `write=True` refuses in --read-only mode with a clear message."""

        if write and self.read_only:
            raise UserError("this command changes the store, but --read-only was given")
        if self._store is None:
            self._store = Store.open(self.db_path(), read_only=self.read_only)
            for warning in self._store.warnings:
                print(f"juston-tui: note: {warning}", file=self.err)
        return self._store

    def credentials(self) -> CredentialStore:
        """The keyring (asked for by commands that talk to Salesforce). With --demo: the
        demo's credentials file, and the simulator is started if it is not running."""

        if self._credentials is None:
            if self.is_demo:
                self._credentials = self.demo().credentials
            else:
                self._credentials = open_credentials(
                    getattr(self.args, "keyring", None), ask_passphrase=ask_on_terminal
                )
        return self._credentials

    def close(self) -> None:
        if self._store is not None:
            self._store.close()
            self._store = None
        if self._demo is not None:
            self._demo.stop()

    def print_json(self, payload: Any) -> None:
        """Indented UTF-8 JSON; orjson (the store's codec), ~20x the stdlib's speed at 10,000
        orgs. Values it has no type for (dates, paths) are written as their str()."""

        self.out.write(orjson.dumps(payload, default=str, option=orjson.OPT_INDENT_2
                                    | orjson.OPT_NON_STR_KEYS).decode())
        self.out.write("\n")

    @property
    def is_terminal(self) -> bool:
        return is_terminal(self.out)

    def console(self) -> Any:
        """A Rich console on `out`. Off a terminal nothing is wrapped or cut: a pipe gets
        every line whole (Rich would otherwise lay the text out for 80 columns)."""
        # rich console/table: ~0.1 s to import, only when a command prints for a terminal
        from rich.console import Console

        if self.is_terminal:
            return Console(file=self.out, highlight=False, soft_wrap=False)
        return Console(file=self.out, highlight=False, soft_wrap=True, width=100_000,
                       no_color=True)

    def print_table(self, headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
        """A listing: a terminal table, or tab-separated values off a terminal (output.py)."""
        print_table(self.out, headers, rows)


def write_export(path: Path, payload: bytes, *, force: bool) -> None:
    """Write an export atomically; an existing file is replaced only with `--force`.

    The no-overwrite write is atomic too (a hard link of the finished temp file), so a file
    appearing meanwhile is not clobbered either.
    """
    if path.is_dir():
        raise UserError(f"{path} is a folder; give a file name")
    if not path.parent.is_dir():
        raise UserError(f"the folder {path.parent} does not exist")
    try:
        atomic_write_bytes(path, payload, overwrite=force)
    except FileExistsError:
        raise UserError(f"{path} exists; add --force to replace it") from None
    except OSError as exc:
        raise UserError(f"cannot write {path}: {exc.strerror or exc}") from None


def port_number(*, allow_zero: bool = False) -> Any:
    """An argparse `type=` for a TCP port: a clear line for 99999 or `http`, no traceback."""
    low = 0 if allow_zero else 1

    def parse(text: str) -> int:
        try:
            port = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"{text!r} is not a TCP port ({low} to 65535)") from None
        if not low <= port <= 65535:
            raise argparse.ArgumentTypeError(f"{port} is not a TCP port ({low} to 65535)")
        return port

    parse.__name__ = "port"
    return parse
