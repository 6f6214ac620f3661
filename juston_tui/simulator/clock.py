"""The simulator's time: what "now" is for its orgs (record dates, push upgrades starting and
running).

Two modes. Manual (tests, the default): time stands still at `start` until `advance()` or
`set()` moves it, so a test decides exactly when a push starts and ends, without sleeping.
Wall (the demo): time follows the machine's clock from `start`, `speed` times as fast, so a
push the demo schedules for "now" runs while you watch (speed 60: a simulated minute a second).
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

__all__ = ["SimClock"]


class SimClock:
    """``SimClock(start=None, *, speed=None)``: manual when `speed` is None, else wall time
    `speed` times as fast. `now()` is an aware UTC datetime (whole seconds in manual mode)."""

    def __init__(self, start: datetime | None = None, *, speed: float | None = None) -> None:
        if speed is not None and speed <= 0:
            raise ValueError("speed must be positive (or None for a manual clock)")
        base = (start or datetime.now(UTC)).astimezone(UTC)
        self._lock = threading.Lock()
        self._base = base.replace(microsecond=0) if speed is None else base
        self._since = time.monotonic()
        self.speed = speed

    @property
    def manual(self) -> bool:
        return self.speed is None

    def now(self) -> datetime:
        with self._lock:
            if self.speed is None:
                return self._base
            return self._base + timedelta(seconds=(time.monotonic() - self._since) * self.speed)

    def advance(self, delta: timedelta) -> datetime:
        """Move time forward by `delta` (never backwards); returns the new now."""
        if delta < timedelta(0):
            raise ValueError("the simulator's clock does not run backwards")
        with self._lock:
            self._base += delta
        return self.now()

    def set(self, when: datetime) -> None:
        """Jump to `when` (an aware datetime), forwards only."""
        if when.tzinfo is None:
            raise ValueError("the simulator's clock needs an aware datetime")
        current = self.now()
        if when < current:
            raise ValueError(f"the simulator's clock does not run backwards ({when} < {current})")
        self.advance(when.astimezone(UTC) - current)
