"""Runtime-injectable faults, per org, thread-safe.

Faults let tests and the demo show what the app does when an org is slow, hangs, expires a
session, hits its API limit or answers garbage, without touching the scenario data. Two are
hostile servers rather than Salesforce: `trickle` sends the whole answer (status line and
headers included) one byte every `seconds` (0.5 s by default), which a read timeout that
restarts with every byte never stops; `redirect` answers 307 with a Location on another origin
(`target`, default https://localhost:<port>, the same server under another name), which a
client following redirects would re-post the request body (a login's secrets) to.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

__all__ = ["FAULT_KINDS", "Fault", "FaultBook"]

# Order matters: at most one of the error kinds fires per request, the first that is set.
FAULT_KINDS = ("latency", "hang", "expire_session", "limit_exceeded", "server_error", "malformed",
               "trickle", "redirect")
ERROR_KINDS = FAULT_KINDS[1:]
# Faults that also hit a login (the OAuth token endpoint), not only API requests.
LOGIN_KINDS = ("trickle", "redirect")
HANG_SECONDS = 30.0
TRICKLE_SECONDS = 0.5


@dataclass
class Fault:
    kind: str
    remaining: int | None  # None = permanent
    seconds: float | None = None
    fired: int = 0
    target: str | None = None


class FaultBook:
    """Faults and latency by org id; `take` consumes one use of a counted fault."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: dict[str, dict[str, Fault]] = {}
        self._latency: dict[str, float] = {}
        self.global_latency = 0.0

    def set(self, org_id: str, kind: str, count: int | None, seconds: float | None,
            target: str | None = None) -> None:
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault {kind!r}; known: {', '.join(FAULT_KINDS)}")
        if count is not None and count < 1:
            raise ValueError("count must be at least 1 (or None for a permanent fault)")
        if kind == "latency" and seconds is None:
            raise ValueError("the latency fault needs seconds=")
        with self._lock:
            self._faults.setdefault(org_id, {})[kind] = Fault(kind, count, seconds,
                                                              target=target)

    def clear(self, org_id: str | None = None) -> None:
        with self._lock:
            if org_id is None:
                self._faults.clear()
                self._latency.clear()
                self.global_latency = 0.0
            else:
                self._faults.pop(org_id, None)
                self._latency.pop(org_id, None)

    def set_latency(self, seconds: float, org_id: str | None = None) -> None:
        with self._lock:
            if org_id is None:
                self.global_latency = max(0.0, seconds)
            else:
                self._latency[org_id] = max(0.0, seconds)

    def latency(self, org_id: str | None) -> float:
        """Seconds to sleep before answering a request of `org_id` (consumes a latency fault)."""
        with self._lock:
            total = self.global_latency
            if org_id is None:
                return total
            total += self._latency.get(org_id, 0.0)
            fault = self._consume(org_id, "latency")
            if fault is not None and fault.seconds:
                total += fault.seconds
            return total

    def take_error(self, org_id: str) -> Fault | None:
        """The error fault to apply to this request, if any (one use consumed)."""
        return self._take_first(org_id, ERROR_KINDS)

    def take_login(self, org_id: str) -> Fault | None:
        """The fault to apply to a login of this org (trickle or redirect), one use consumed."""
        return self._take_first(org_id, LOGIN_KINDS)

    def _take_first(self, org_id: str, kinds: tuple[str, ...]) -> Fault | None:
        with self._lock:
            for kind in kinds:
                fault = self._consume(org_id, kind)
                if fault is not None:
                    return fault
        return None

    def _consume(self, org_id: str, kind: str) -> Fault | None:
        faults = self._faults.get(org_id)
        fault = faults.get(kind) if faults else None
        if fault is None:
            return None
        fault.fired += 1
        if fault.remaining is not None:
            fault.remaining -= 1
            if fault.remaining <= 0:
                del faults[kind]  # type: ignore[union-attr]
        return Fault(fault.kind, fault.remaining, fault.seconds, fault.fired, fault.target)
