"""Command-line entry point: `juston-tui [global options] [command ...]`.

Without a command it starts the TUI. The commands are the contract scripts rely on
(DESIGN.md section 7): errors go to stderr as one line with a non-zero exit, never a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

from juston_tui import __version__
from juston_tui.commands import Context, UserError
from juston_tui.credentials import CredentialsUnavailable
from juston_tui.launch import run_tui
from juston_tui.model import ValidationError
from juston_tui.store import StoreCorruptError, StoreError

# Command modules under juston_tui.commands, registered in this order.
COMMAND_MODULES = (
    "org",
    "login",
    "status",
    "checklist",
    "calendar",
    "push",
    "contacts",
    "simulator",
    "doctor",
    "db",
    "serve",
    "reset",
)


# Global options that take a value (so `--db PATH` is not mistaken for a command).
_VALUED = ("--db", "--keyring")


def wants_command(argv: Sequence[str]) -> bool:
    """Whether argv names a command (or asks for help), i.e. the command parsers are needed.

    Starting the TUI skips importing every command module: ~100 ms of start-up.
    """
    skip = False
    for token in argv:
        if skip:
            skip = False
            continue
        if token in ("-h", "--help") or not token.startswith("-"):
            return True
        if token in _VALUED:
            skip = True
    return False


def build_parser(*, with_commands: bool = True) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="juston-tui",
        description="Keyboard-driven dashboard for JustOn orgs: registry, install checklist, "
        "connected-app access, push calendar and contacts.",
    )
    parser.add_argument("--version", action="version", version=f"juston-tui {__version__}")
    parser.add_argument("--db", metavar="PATH", help="store file (default: $JUSTON_TUI_DB or "
                        "the platform data dir)")
    parser.add_argument("--read-only", action="store_true", help="never change the store")
    parser.add_argument("--no-mouse", action="store_true", help="do not capture the mouse")
    parser.add_argument("--demo", action="store_true",
                        help="run on a seeded temporary store and the built-in org simulator")
    parser.add_argument("--keyring", choices=("auto", "cryptfile", "memory"), default=None,
                        help="where secrets live (default: $JUSTON_TUI_KEYRING or auto = the OS "
                        "keyring only)")
    if not with_commands:
        parser.set_defaults(command=None)
        return parser
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    # Imported here, not at the top: starting the TUI needs none of them (~100 ms).
    for name in COMMAND_MODULES:
        importlib.import_module(f"juston_tui.commands.{name}").register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    os.umask(0o077)  # everything we create (store, backups, exports) is private by default
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(with_commands=wants_command(argv))
    args = parser.parse_args(argv)
    ctx = Context(args)
    try:
        if args.demo and (args.db or args.keyring):
            raise UserError("--demo works on its own store and credentials; leave out "
                            + ("--db" if args.db else "--keyring"))
        if args.command is None:

            return run_tui(args)
        return int(args.func(args, ctx) or 0)
    except UserError as exc:
        print(f"juston-tui: error: {exc}", file=sys.stderr)
        return exc.code
    except KeyboardInterrupt:
        print("juston-tui: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except Exception as exc:
        message = _known_error(exc)
        if message is None:
            raise
        print(f"juston-tui: error: {message}", file=sys.stderr)
        return 2
    finally:
        ctx.close()


def _known_error(exc: Exception) -> str | None:
    """Turn expected failures (store, validation, keyring) into one clear line."""

    if isinstance(exc, StoreCorruptError):
        return exc.describe()
    if isinstance(exc, StoreError):
        return str(exc)
    if isinstance(exc, ValidationError):
        return "; ".join(f"{k.replace('_', '-')}: {v}" for k, v in exc.errors.items())
    if isinstance(exc, CredentialsUnavailable):
        return f"{exc.summary}\n{exc.explanation}"
    if isinstance(exc, OSError) and exc.strerror:
        # a path that cannot be created, read or written: say which and why, no traceback
        where = f": {exc.filename}" if exc.filename else ""
        return f"{exc.strerror}{where}"
    return None


if __name__ == "__main__":
    sys.exit(main())
