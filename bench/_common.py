"""What the benches share: percentiles, ms formatting, a FastTable frame, keystroke timing."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any


def frame_drawer(table: Any) -> Callable[[], None]:
    """A function that draws every visible line of `table` from scratch (one full frame)."""
    region = table.scrollable_content_region

    def frame() -> None:
        table._cache.clear()
        for y in range(region.height):
            table.render_line(y)

    return frame


def time_keystrokes(screen: Any, typed: str, frame: Callable[[], None]) -> list[float]:
    """Type `typed` into the screen's filter one key at a time, then delete it again; the
    time of each keystroke is the screen's filter handler plus one full frame."""
    timings: list[float] = []
    queries = [typed[: i + 1] for i in range(len(typed))]
    queries += [typed[:i] for i in range(len(typed) - 1, -1, -1)]
    for query in queries:
        t0 = time.perf_counter()
        screen.query_text = query
        screen.apply_filter()
        frame()
        timings.append(time.perf_counter() - t0)
    return timings


def pct(values: list[float], q: float) -> float:
    """The q-quantile (0..1) of `values`, nearest rank."""
    values = sorted(values)
    return values[min(len(values) - 1, round(q * (len(values) - 1)))]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:8.1f} ms"
