"""`juston-tui doctor`: what a support engineer needs to know about this machine."""

from __future__ import annotations

import argparse
import os
import sys

from juston_tui import __version__, credentials, paths, store
from juston_tui.commands import Context


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("doctor", help="show keyring backend, paths and store health")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=run, online=True)


def collect(args: argparse.Namespace, ctx: Context) -> dict[str, object]:

    db_path = ctx.db_path()
    health = store.health(db_path)
    try:
        # Never asks for a passphrase: doctor explains, it does not unlock.
        creds = ctx.credentials() if ctx.is_demo else credentials.open_credentials(args.keyring)
        info = creds.info
        keyring = {"mode": info.mode, "backend": info.name, "secure": info.secure,
                   "persistent": info.persistent, "detail": info.detail, "path": info.path,
                   "usable": creds.available}
    except credentials.CredentialsUnavailable as exc:
        keyring = {"mode": args.keyring or os.environ.get(credentials.MODE_ENV, "auto"),
                   "backend": "none", "secure": False, "usable": False, "detail": exc.summary}
    if not keyring["usable"]:
        keyring["explanation"] = credentials.explain_unavailable()
    report: dict[str, object] = {
        "version": __version__,
        "python": sys.version.split()[0],
        "store": {
            "path": str(health.path),
            "exists": health.exists,
            "size_bytes": health.size,
            "mode": health.mode,
            "schema_version": health.schema_version,
            "counts": dict(health.counts),
            "backups": health.backups,
            "beside": list(health.beside),
            "problem": health.problem,
        },
        "keyring": keyring,
        "paths": {"data": str(paths.data_dir()), "config": str(paths.config_dir()),
                  "credentials_file": str(credentials.default_cryptfile_path()),
                  # the registry's first rows per store, for a fast start (safe to delete)
                  "first_pages": str(paths.first_page_dir())},
        "environment": {
            "TERM": os.environ.get("TERM", ""),
            "COLORTERM": os.environ.get("COLORTERM", ""),
            "NO_COLOR": "NO_COLOR" in os.environ,
            "SSH": bool(os.environ.get("SSH_CONNECTION")),
            "DBUS_SESSION_BUS_ADDRESS": bool(os.environ.get("DBUS_SESSION_BUS_ADDRESS")),
            "REQUESTS_CA_BUNDLE": os.environ.get("REQUESTS_CA_BUNDLE", ""),
        },
    }
    if ctx.is_demo:
        demo = ctx.demo()
        sim = demo.simulator
        report["demo"] = {"folder": str(demo.place.root),
                          "simulator": None if sim is None else {
                              "url": sim.url, "pid": sim.pid, "ca_path": sim.ca_path}}
    return report


def run(args: argparse.Namespace, ctx: Context) -> int:
    report = collect(args, ctx)
    if args.json:
        ctx.print_json(report)
        return 0 if report["store"]["problem"] is None else 1  # type: ignore[index]
    store = report["store"]
    keyring = report["keyring"]
    out = ctx.out
    print(f"juston-tui {report['version']} on Python {report['python']}", file=out)
    print("\nStore", file=out)
    print(f"  path:    {store['path']}", file=out)
    if store["exists"]:
        print(f"  size:    {store['size_bytes']} bytes, mode {store['mode']}, "
              f"schema {store['schema_version']}", file=out)
        counts = ", ".join(f"{v} {k}" for k, v in store["counts"].items())
        print(f"  content: {counts or 'unreadable'}", file=out)
        for item in store.get("beside") or ():
            print(f"  beside:  {item}", file=out)
    print(f"  backups: {store['backups']}", file=out)
    print(f"  health:  {'OK' if store['problem'] is None else 'PROBLEM: ' + store['problem']}",
          file=out)
    print("\nCredentials", file=out)
    print(f"  backend: {keyring['backend']} ({keyring['detail']})", file=out)
    print(f"  usable:  {'yes' if keyring['usable'] else 'no'}", file=out)
    if keyring.get("path"):
        print(f"  file:    {keyring['path']}", file=out)
    if keyring.get("explanation"):
        print("\n" + str(keyring["explanation"]), file=out)
    demo = report.get("demo")
    if isinstance(demo, dict):
        sim = demo["simulator"]
        print("\nDemo", file=out)
        print(f"  folder:    {demo['folder']}  (juston-tui --demo reset starts afresh)", file=out)
        print(f"  simulator: {sim['url']} (pid {sim['pid']})" if sim else
              "  simulator: not running (started by the next command that needs it)", file=out)
    print("\nPaths", file=out)
    for key, value in report["paths"].items():
        print(f"  {key}: {value}", file=out)
    env = report["environment"]
    print("\nTerminal", file=out)
    print(f"  TERM={env['TERM']} COLORTERM={env['COLORTERM'] or '(unset)'}"
          f"{' NO_COLOR' if env['NO_COLOR'] else ''}{' (over SSH)' if env['SSH'] else ''}",
          file=out)
    if env["SSH"] and not env["COLORTERM"]:
        print("  hint: SSH does not forward COLORTERM; set COLORTERM=truecolor for full colour",
              file=out)
    return 0 if store["problem"] is None else 1
