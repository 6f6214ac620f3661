"""Start-up helpers shared by the start-up tests (not collected): hold the store's parse,
run the launched app headless until its rows are shown."""

from __future__ import annotations

import argparse
import gc
import threading
from pathlib import Path

import pytest

from juston_tui.app import JustOnApp
from juston_tui.screens.widgets.fast_table import FastTable
from juston_tui.store import Store


def hold_the_parse(monkeypatch: pytest.MonkeyPatch) -> threading.Event:
    """Store.load waits until the returned event is set: the test sees the loading state."""
    release = threading.Event()
    load = Store.load

    def held_load(self: Store) -> None:
        release.wait(10)
        load(self)

    monkeypatch.setattr(Store, "load", held_load)
    return release


def launch_args(db: Path) -> argparse.Namespace:
    return argparse.Namespace(db=str(db), read_only=False, demo=False, keyring="memory",
                              no_mouse=True)


def headless_run(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, object]]:
    """Make JustOnApp.run headless; it exits once the registry has its rows (or gave up)."""
    seen: list[dict[str, object]] = []
    run = JustOnApp.run

    def fake_run(self: JustOnApp, **kwargs: object) -> None:
        async def stop_when_loaded(pilot: object) -> None:
            for _ in range(250):
                if self.startup_error:
                    return  # the app is already on its way out
                if getattr(self.screen, "loaded", False) and self._store.loaded:
                    break
                await pilot.pause(0.02)  # type: ignore[attr-defined]
            # Start-up is over once its workers are (the store parse may still be finishing
            # when the rows show); only then is the GC's state the one the app runs with.
            await self.workers.wait_for_complete()
            table = self.screen.query_one("#registry-table", FastTable)
            seen.append({"rows": table.row_count, "own_process": self.own_process,
                         "gc": gc.isenabled()})
            self.exit()

        return run(self, headless=True, size=(100, 30), auto_pilot=stop_when_loaded)

    monkeypatch.setattr(JustOnApp, "run", fake_run)
    return seen
