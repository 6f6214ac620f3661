"""Helpers shared by the Pilot tests (not collected: the name does not start with test_)."""

from __future__ import annotations

import io
from typing import Any

from rich.console import Console
from textual.worker import WorkerCancelled


async def settle(pilot: Any, rounds: int = 30) -> None:
    """Wait until every worker but the store poller is done and its messages are handled."""
    app = pilot.app
    for _ in range(rounds):
        await pilot.pause()
        busy = [w for w in app.workers if w.group != "store-watch" and not w.is_finished]
        if not busy:
            await pilot.pause()
            return
        try:
            await app.workers.wait_for_complete(busy)
        except WorkerCancelled:
            pass  # an exclusive worker replaced by a newer one: look again
    raise AssertionError("workers did not finish")


def screen_text(app: Any) -> str:
    """The screen as plain text (what a person would read)."""
    width, height = app.size
    console = Console(width=width, height=height, file=io.StringIO(), force_terminal=True,
                      color_system="truecolor", record=True, legacy_windows=False)
    console.print(app.screen._compositor.render_update(full=True))
    return console.export_text()
