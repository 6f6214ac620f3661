"""Start the TUI: resolve the store and (if asked) unlock credentials before any UI runs.

A corrupt store or a wrong passphrase is reported on the plain terminal with the way on:
the passphrase before the UI starts, a damaged store (found by the parse the app runs after
its first frame) after the UI has closed. Heavy imports (keyring) stay off this path unless the
encrypted-file backend needs its passphrase now.
"""

from __future__ import annotations

import argparse
import gc
import os
import sys

from juston_tui.credentials import ask_on_terminal, open_credentials
from juston_tui.gc_pause import enable_gc
from juston_tui.paths import first_page_dir, resolve_db_path
from juston_tui.store import Store
from juston_tui.store.first_page import read_page


def run_tui(args: argparse.Namespace) -> int:
    # Start-up allocates a lot and frees little: the cyclic GC's passes over it are wasted
    # (~20 ms). The app re-enables it after its first frame, freezing what exists then.
    gc.disable()

    demo = None
    credentials = None
    mode = (args.keyring or os.environ.get("JUSTON_TUI_KEYRING") or "auto").lower()
    try:
        if args.demo:
            # the demo and its seeding modules: only with --demo
            from juston_tui.demo import DemoPlace, open_demo

            if not DemoPlace.default().store_path.exists():
                print("juston-tui: setting up the demo (once: the simulated orgs are checked "
                      "for real)…", file=sys.stderr, flush=True)
            demo = open_demo(read_only=args.read_only)
            demo.hold_simulator()  # the simulator stays up while the TUI runs
            db_path = demo.store_path
            credentials = demo.credentials
        else:
            db_path = resolve_db_path(args.db)
            if mode == "cryptfile":

                credentials = open_credentials(mode, ask_passphrase=ask_on_terminal)
        # The cheap part now (path, lock, permissions); the app parses the file in a worker
        # after its first frame and hands a damaged store back as `startup_error`.
        store = Store.open(db_path, read_only=args.read_only, load=False)
        # The registry's rows as the last start left them, if the files are unchanged since
        # or snapshots were only added (stats and small reads): the first frame shows them
        # (store/first_page.py).
        pages = first_page_dir()
        page = read_page(pages, store.path, store.disk_stamp(), store.snapshots_path)
        # launch -> app seam: Textual loads only when the UI starts
        from juston_tui.app import JustOnApp

        app = JustOnApp(
            store=store,
            credentials=credentials,
            keyring_mode=mode,
            read_only=args.read_only,
            demo=demo,
            own_process=True,
            first_page=page,
            first_page_dir=pages,
        )
        app.run(mouse=not args.no_mouse)
        if app.startup_error is not None:
            raise app.startup_error  # reported by cli.main as one line with the way on
        if app.return_code:
            return app.return_code
        return 0
    finally:
        enable_gc()
        if demo is not None:
            demo.stop()
