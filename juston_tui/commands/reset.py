"""`juston-tui --demo reset`: stop the demo's simulator and start the demo afresh."""

from __future__ import annotations

import argparse

from juston_tui.commands import Context, UserError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("reset", help="with --demo: throw the demo's data away and seed it anew",
                       description="Stop the demo's simulator, remove the demo folder (store, "
                       "credentials, simulator files) and seed a fresh demo. Only the demo: "
                       "without --demo this refuses.")
    p.add_argument("--no-seed", action="store_true",
                   help="only remove the demo; the next demo command seeds it")
    p.set_defaults(func=run)


def run(args: argparse.Namespace, ctx: Context) -> int:
    # the demo and its seeding modules: only with --demo
    from juston_tui.demo import DemoPlace

    if not ctx.is_demo:
        raise UserError("reset only applies to the demo: juston-tui --demo reset")
    place = DemoPlace.default()
    removed = place.reset()
    print(f"removed the demo in {place.root}" if removed else f"no demo in {place.root}",
          file=ctx.out)
    if not args.no_seed:
        ctx.demo()  # seeds it (and says where)
        print("seeded a fresh demo; try: juston-tui --demo status", file=ctx.out)
    return 0
