"""`juston-tui simulator`: run the local org simulator in the foreground.

Prints the instance URL, the CA path and the orgs; secrets go to a 0600 JSON file next to the CA
(never to the terminal). Imports nothing heavy at module level: the main CLI imports this module
whenever it builds its parser.
"""

from __future__ import annotations

import argparse
import signal
import threading
from typing import Any

from juston_tui.commands import Context, UserError, port_number
from juston_tui.text import clean

__all__ = ["register", "run", "serve"]


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("simulator", help="run the local Salesforce org simulator (HTTPS)",
                       description="Serve simulated JustOn orgs on https://127.0.0.1:PORT until "
                       "Ctrl-C. Clients must trust the printed CA file.")
    p.add_argument("--port", type=port_number(allow_zero=True), default=0,
                   help="TCP port (default: a free one)")
    p.add_argument("--scenario", default="demo", metavar="NAME",
                   help="scenario set (demo, all, empty) or one scenario name (default: demo)")
    p.add_argument("--batch-size", type=int, default=2000, metavar="N",
                   help="records per query page before nextRecordsUrl (default: 2000)")
    p.add_argument("--latency", type=float, default=0.0, metavar="SECONDS",
                   help="added to every request (default: 0)")
    p.add_argument("--speed", type=float, default=1.0, metavar="FACTOR",
                   help="how fast the simulated clock runs (push upgrades start and run on "
                   "it; default: 1, wall time)")
    p.set_defaults(func=run)


def _start(args: argparse.Namespace) -> Any:
    # the simulator (http.server, ssl, its data): only where it runs
    from juston_tui.simulator import SCENARIO_SETS, SCENARIOS, SimClock, Simulator

    name = args.scenario
    if name not in SCENARIO_SETS and name not in SCENARIOS:
        raise UserError(f"unknown scenario {name!r}; use one of: "
                        + ", ".join((*SCENARIO_SETS, *SCENARIOS)))
    if args.batch_size < 1:
        raise UserError("--batch-size must be at least 1")
    if not 0 <= args.port <= 65535:
        raise UserError("--port must be between 0 and 65535")
    if not args.speed > 0:
        raise UserError("--speed must be more than 0")
    try:
        sim = Simulator(scenario_set=name, port=args.port, batch_size=args.batch_size,
                        clock=SimClock(speed=args.speed)).start()
    except OSError as exc:
        raise UserError(f"cannot listen on 127.0.0.1:{args.port}: {exc.strerror or exc}") from None
    if args.latency:
        sim.set_latency(args.latency)
    return sim


def serve(args: argparse.Namespace, ctx: Context, stop: threading.Event) -> int:
    """Start, print, and serve until `stop` is set (run() sets it on Ctrl-C or SIGTERM)."""

    sim = _start(args)
    try:
        creds = sim.write_credentials()
        out = ctx.out
        print(f"Simulator listening on {sim.url}", file=out)
        print(f"CA certificate:  {sim.ca_path}", file=out)
        print(f"Credentials:     {creds}  (0600; passwords, keys and tokens of every org)",
              file=out)
        print(f"Clients: trust the CA (requests: session.verify=CA, session.trust_env=False; "
              f"sf.mdapi needs REQUESTS_CA_BUNDLE={sim.ca_path})", file=out)
        print("", file=out)
        rows = [("ORG ID", "SCENARIO", "KIND", "USERNAME", "NAME")]
        rows += [(o.org_id, o.scenario, o.kind, o.username, clean(o.name, limit=40))
                 for o in sim.orgs]
        widths = [max(len(r[i]) for r in rows) for i in range(4)]
        for r in rows:
            print("  ".join(c.ljust(w) for c, w in zip(r[:4], widths, strict=True)) + "  " + r[4],
                  file=out)
        print("", file=out)
        print("Serving until Ctrl-C.", file=out)
        out.flush()
        stop.wait()
    finally:
        sim.stop()
    return 0


def run(args: argparse.Namespace, ctx: Context) -> int:
    stop = threading.Event()
    previous = None
    if threading.current_thread() is threading.main_thread():
        previous = signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        return serve(args, ctx, stop)
    except KeyboardInterrupt:
        return 0
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
