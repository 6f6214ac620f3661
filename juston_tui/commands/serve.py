"""`juston-tui serve`: the TUI in a browser via textual-serve, bound to localhost only.

textual-serve has no authentication, so we refuse anything but a loopback address; reach it
from elsewhere with `ssh -L 8000:localhost:8000 host`.
"""

from __future__ import annotations

import argparse
import ipaddress
import shlex
import sys

from juston_tui.commands import Context, UserError, port_number

LOOPBACK_NAMES = ("localhost",)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("serve", help="serve the TUI to a browser on localhost (textual-serve)")
    p.add_argument("--host", default="127.0.0.1", help="loopback address only (default 127.0.0.1)")
    p.add_argument("--port", type=port_number(), default=8000)
    p.set_defaults(func=run, online=True)


def is_loopback(host: str) -> bool:
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def app_command(args: argparse.Namespace) -> str:
    """The command each browser session runs: this interpreter, the same global options.

    `-P` keeps the working directory off sys.path: started inside a clone, the clone's
    `juston_tui/` folder (which has no `screens`) would otherwise shadow the installed package.
    """
    parts = [sys.executable, "-P", "-m", "juston_tui"]
    if args.db:
        parts += ["--db", args.db]
    if args.read_only:
        parts.append("--read-only")
    if args.demo:
        parts.append("--demo")
    if args.keyring:
        parts += ["--keyring", args.keyring]
    return shlex.join(parts)


def run(args: argparse.Namespace, ctx: Context) -> int:
    if not is_loopback(args.host):
        raise UserError(
            f"refusing to serve on {args.host}: textual-serve has no login, so juston-tui only "
            "listens on loopback; use `ssh -L 8000:localhost:8000 HOST` to reach it"
        )
    from textual_serve.server import Server

    if args.demo:  # one simulator for every browser session, up as long as we serve
        ctx.demo().hold_simulator()
    print(f"serving juston-tui on http://{args.host}:{args.port} (Ctrl+C to stop)", file=ctx.out)
    Server(app_command(args), host=args.host, port=args.port,
           title="juston-tui").serve()
    return 0
