"""The real push upgrades, read (never changed) from the vendor's packaging org.

PackagePushRequest / PackagePushJob / PackagePushError only exist in the org that owns the
package (`Org.vendor=True`). The reading itself is `juston_tui.salesforce.vendor
.fetch_push_requests`; this module picks the vendor org, caches the answer in the store (setting
`vendor_push_jobs`) so the calendar shows it offline, and keeps the last good answer when a
refresh fails. Scheduling or cancelling pushes is deliberately out of scope.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from juston_tui.schedule import VENDOR_CACHE_KEY
from juston_tui.text import clean

if TYPE_CHECKING:
    from juston_tui.credentials import CredentialStore
    from juston_tui.model import Org
    from juston_tui.store import Store

__all__ = ["OPEN_REQUEST_STATES", "NoVendorOrg", "cached_push_jobs", "describe_requests",
           "find_vendor_org", "refresh_push_jobs"]

# A PackagePushRequest that has not finished: it can still start (or is running).
OPEN_REQUEST_STATES = ("Created", "Pending", "In Progress")


class NoVendorOrg(Exception):
    """No org is marked as the vendor's packaging org."""

    def __str__(self) -> str:
        return ("no vendor packaging org is registered; mark it with "
                "`juston-tui org edit ORG --vendor`")


def find_vendor_org(store: Store) -> Org | None:
    """The packaging org (the first by name when several are marked)."""
    vendors = sorted((o for o in store.list_orgs() if o.vendor),
                     key=lambda o: (o.name.lower(), o.org_id))
    return vendors[0] if vendors else None


def cached_push_jobs(store: Store) -> dict[str, Any]:
    return dict(store.get_setting(VENDOR_CACHE_KEY) or {})


def refresh_push_jobs(store: Store, credentials: CredentialStore, *, timeout: float = 30.0
                      ) -> dict[str, Any]:
    """Read the push requests of the vendor org and cache them; return the cache record.

    A failure is recorded in `error` (one clean line, never a secret) and the requests of the
    last good refresh are kept. Call from a worker thread: this does network I/O.
    """
    org = find_vendor_org(store)
    if org is None:
        raise NoVendorOrg()
    # simple-salesforce and requests: ~150 ms, kept off every command's and screen's start
    from juston_tui.salesforce.vendor import fetch_push_requests

    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    previous = cached_push_jobs(store)
    if previous.get("org_id") != org.org_id:
        previous = {}
    record: dict[str, Any] = {"org_id": org.org_id, "org_name": org.name}
    try:
        # The same read caches the packaging org's latest released versions ("current").
        requests = fetch_push_requests(org, credentials, timeout=timeout, store=store)
    except Exception as exc:  # the error is data for the screen, whatever its type
        record.update({
            "requests": previous.get("requests") or [],
            "fetched_at": previous.get("fetched_at"),
            "error": clean(str(exc) or type(exc).__name__, limit=300),
            "error_at": stamp,
        })
    else:
        record.update({"requests": requests, "fetched_at": stamp, "error": None})
    store.set_setting(VENDOR_CACHE_KEY, record)
    return record


def describe_requests(record: Mapping[str, Any]) -> str:
    """"5 push request(s) (2 open), 9 job(s)": what was read, in the words every surface uses.
    Open ones can still start; the calendar lists only those ahead."""
    requests = record.get("requests") or []
    open_count = sum(1 for r in requests if r.get("status") in OPEN_REQUEST_STATES)
    jobs = sum(len(r.get("jobs") or []) for r in requests)
    return f"{len(requests)} push request(s) ({open_count} open), {jobs} job(s)"
