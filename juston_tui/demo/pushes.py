"""Demo pushes for the calendar: confirmed pushes around the projected slots, written through
the schedule's `save_push` (the owner of the pushes table)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from juston_tui.model import Org
from juston_tui.schedule import (
    ANNOUNCEMENT_DAYS,
    Action,
    Push,
    local_slot,
    releases_around,
    save_push,
    settings_from_store,
    valid_slots,
    window_of,
    zone_named,
)

if TYPE_CHECKING:
    from juston_tui.store import Store

__all__ = ["seed"]


def seed(store: Store, orgs: list[Org], *, today: date | None = None) -> None:
    """Demo data: one confirmed push from an announcement e-mail, the rest projected."""
    settings = settings_from_store(store)
    zone = zone_named(settings.timezone)
    today = today or datetime.now(zone).date()
    window_start, window_end = window_of(settings, today + timedelta(days=10))
    releases = releases_around(window_start, window_end, None)
    slot = next((s for s in valid_slots(settings, (window_start, window_end), releases)
                 if s.astimezone(zone).date() > today + timedelta(days=9)), None)
    if slot is None:
        day = today + timedelta(days=(5 - today.weekday()) % 7 + 14)
        slot = local_slot(day, settings.start_time, settings.timezone)
    assert slot is not None
    push = Push(
        id="push-demo-announced",
        status="confirmed",
        product="billing",
        start_utc=slot,
        timezone=settings.timezone,
        version="2.81",
        kind="major",
        actions=(
            Action("before-1", "before",
                   "Deactivate the scheduled invoice runs during the push window"),
            Action("before-2", "before", "Assign the JustOn Platform connected app to admins"),
            Action("after-1", "after", "Re-activate the scheduled invoice runs"),
            Action("after-2", "after",
                   "Add the new Balance fields to the permission set", done=False),
        ),
        notes="From the announcement e-mail (demo).",
        announced_on=min(today, slot.astimezone(zone).date()
                         - timedelta(days=ANNOUNCEMENT_DAYS)),
    )
    save_push(store, push)
