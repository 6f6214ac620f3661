"""iCalendar (RFC 5545) export of the push calendar.

UIDs come from what an event *is* (release and wave, product and cadence window), not from
when it was exported, so importing a newer file updates the events already in a calendar app
instead of duplicating them. Projected events are TENTATIVE, confirmed ones CONFIRMED.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from icalendar import Alarm, Calendar
from icalendar import Event as VEvent

from juston_tui.schedule import EVENT_KINDS, CalendarView, Event
from juston_tui.text import clean

__all__ = ["UID_DOMAIN", "export_ics"]

UID_DOMAIN = "juston-tui"
ALARM_BEFORE = timedelta(days=1)  # a day's notice to prepare the announcement e-mail


def _text(value: str) -> str:
    return clean(value, single_line=False)


def _vevent(event: Event, stamp: datetime) -> VEvent:
    item = VEvent()
    item.add("uid", f"{event.uid}@{UID_DOMAIN}")
    item.add("dtstamp", stamp)
    item.add("summary", _text(event.title))
    item.add("categories", [EVENT_KINDS[event.kind][1]])
    item.add("status", "TENTATIVE" if event.projected else "CONFIRMED")
    item.add("transp", "TRANSPARENT")
    if event.start_utc is not None:
        item.add("dtstart", event.start_utc.astimezone(UTC))
        item.add("dtend", event.start_utc.astimezone(UTC) + timedelta(minutes=event.minutes))
    else:
        item.add("dtstart", event.day)
        item.add("dtend", event.last_day + timedelta(days=1))  # DTEND of a date is exclusive
    if event.description:
        item.add("description", _text(event.description))
    if event.kind == "announcement":
        alarm = Alarm()
        alarm.add("action", "DISPLAY")
        alarm.add("description", _text(event.title))
        alarm.add("trigger", -ALARM_BEFORE)
        item.add_component(alarm)
    return item


def export_ics(view: CalendarView, *, now: datetime | None = None) -> bytes:
    """The whole view as one VCALENDAR (METHOD:PUBLISH); times in UTC."""
    stamp = (now or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0)
    cal = Calendar()
    cal.add("prodid", "-//juston-tui//push calendar//EN")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", "JustOn push upgrades")
    for event in view.events:
        cal.add_component(_vevent(event, stamp))
    return cal.to_ical()

