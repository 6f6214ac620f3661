"""Helpers shared by the Pilot tests (not collected: the name does not start with test_)."""

from __future__ import annotations

import html
import re
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from textual.worker import WorkerCancelled

from juston_tui.app import JustOnApp
from juston_tui.credentials import CredentialStore, open_credentials
from juston_tui.store import Store


def make_app(store: Store | Path | str, *, read_only: bool = False,
             credentials: CredentialStore | None = None,
             clock: Callable[[], datetime] | None = None, **kwargs: Any) -> JustOnApp:
    """The one way the tests build the app: on `store` (a Store, or a path opened here with
    `read_only`), with in-memory credentials unless given, a recording clipboard (`app.copied`:
    no OSC 52 into the test runner's terminal) and, if given, a fixed clock."""
    if not isinstance(store, Store):
        store = Store.open(store, read_only=read_only)
    app = JustOnApp(store=store, credentials=credentials or open_credentials("memory"),
                    read_only=read_only, **kwargs)
    app.copied = []  # type: ignore[attr-defined]
    app.copy_to_clipboard = app.copied.append  # type: ignore[method-assign,attr-defined]
    if clock is not None:
        app.clock = clock
    return app


async def type_text(pilot: Any, text: str) -> None:
    """Type `text` key by key, as a person would."""
    await pilot.press(*[{" ": "space"}.get(ch, ch) for ch in text])


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


async def until(pilot: Any, predicate: Callable[[], object], what: str,
                timeout: float = 30) -> None:
    """Let the app run until `predicate()` holds (instead of a fixed pause that guesses)."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        await pilot.pause(0.02)


# One <text> element of Textual's SVG screenshot (rich's export_svg): its column comes from x,
# its row from the clip path of its line. All-blank runs have no element.
_SVG_TEXT = re.compile(r'<text class="[^"]*" x="([\d.]+)" y="[\d.]+" textLength="([\d.]+)" '
                       r'clip-path="url\(#[^)]*-line-(\d+)\)">(.*?)</text>')


def screen_text(app: Any) -> str:
    """The screen as plain text (what a person would read), from Textual's public
    `export_screenshot`: the same frame a user sees, no private compositor read."""
    width, height = app.size
    rows = [[" "] * width for _ in range(height)]
    for x, length, row, raw in _SVG_TEXT.findall(app.export_screenshot()):
        text = html.unescape(raw).replace("\xa0", " ")
        column = round(float(x) / (float(length) / len(text)))
        line = rows[int(row)]
        for offset, char in enumerate(text[: max(0, width - column)]):
            line[column + offset] = char
    return "\n".join("".join(r).rstrip() for r in rows) + "\n"
