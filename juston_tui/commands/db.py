"""`juston-tui db backup|restore|path`: the way on when a store is damaged."""

from __future__ import annotations

import argparse
from pathlib import Path

from juston_tui.commands import Context, UserError
from juston_tui.store import StoreCorruptError, list_backups, restore_backup


def register(sub: argparse._SubParsersAction) -> None:
    db = sub.add_parser("db", help="store backups and restore")
    db_sub = db.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    db_sub.add_parser("path", help="print the store path").set_defaults(func=run_path)
    db_sub.add_parser("backup", help="copy the store into its backups folder").set_defaults(
        func=run_backup
    )
    lst = db_sub.add_parser("backups", help="list backups, newest first")
    lst.set_defaults(func=run_backups)
    restore = db_sub.add_parser(
        "restore", help="put a backup in place of the store (the old file is kept)"
    )
    restore.add_argument("backup", help="backup file (see `juston-tui db backups`)")
    restore.set_defaults(func=run_restore)


def run_path(args: argparse.Namespace, ctx: Context) -> int:
    print(ctx.db_path(), file=ctx.out)
    return 0


def run_backup(args: argparse.Namespace, ctx: Context) -> int:
    print(ctx.store().backup("manual"), file=ctx.out)
    return 0


def run_backups(args: argparse.Namespace, ctx: Context) -> int:

    for path in list_backups(ctx.db_path()):
        print(path, file=ctx.out)
    return 0


def run_restore(args: argparse.Namespace, ctx: Context) -> int:

    if ctx.read_only:
        raise UserError("restore changes the store, but --read-only was given")
    backup = Path(args.backup).expanduser()
    if not backup.exists():
        raise UserError(f"no such backup: {backup}")
    if not backup.is_file():
        raise UserError(f"the backup {backup} is not a regular file")
    target = ctx.db_path()
    try:
        kept = restore_backup(target, backup)
    except StoreCorruptError as exc:
        raise UserError(f"{backup} is not a usable backup: {exc.detail}") from None
    print(f"restored {backup} to {target}", file=ctx.out)
    if kept != target:
        print(f"the previous file is kept as {kept}", file=ctx.out)
    return 0
