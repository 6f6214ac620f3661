"""Dates, times and time zones of the push calendar: month arithmetic, parsing what was typed
(each mistake named at its field) and local wall times turned into UTC instants."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from juston_tui.model import ValidationError

__all__ = ["add_months", "days_in_month", "local_slot", "nth_weekday", "parse_date",
           "parse_time", "parse_zone", "zone_named"]

_TIME = re.compile(r"^(\d{1,2}):(\d{2})$")


def add_months(day: date, months: int) -> date:
    """`day` moved by whole months, the day clamped to the month's length (Jan 31 -> Feb 28/29)."""
    index = day.year * 12 + (day.month - 1) + months
    year, month = divmod(index, 12)
    return date(year, month + 1, min(day.day, days_in_month(year, month + 1)))


def days_in_month(year: int, month: int) -> int:
    nxt = date(year + (month == 12), month % 12 + 1, 1)
    return (nxt - timedelta(days=1)).day


def nth_weekday(year: int, month: int, weekday: int, n: int) -> date:
    """The n-th (1-based) given weekday of a month."""
    first = date(year, month, 1)
    return first + timedelta(days=(weekday - first.weekday()) % 7 + 7 * (n - 1))


def parse_date(value: Any, field_name: str, label: str = "the date") -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = str(value or "").strip()
    if not text:
        raise ValidationError.single(field_name, f"{label} is required (YYYY-MM-DD)")
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValidationError.single(
            field_name, f"{text[:40]!r} is not a date; use YYYY-MM-DD, e.g. 2027-01-16"
        ) from None


def parse_time(value: Any, field_name: str) -> time:
    if isinstance(value, time):
        return value
    text = str(value or "").strip()
    match = _TIME.match(text)
    if not match or int(match[1]) > 23 or int(match[2]) > 59:
        raise ValidationError.single(
            field_name, f"{text[:20]!r} is not a time; use HH:MM (24 hours), e.g. 01:00"
        )
    return time(int(match[1]), int(match[2]))


@lru_cache(maxsize=64)
def zone_named(name: str) -> ZoneInfo:
    """The IANA zone `name` (cached: the calendar asks for the same one thousands of times)."""
    return ZoneInfo(name)


def parse_zone(value: Any, field_name: str = "timezone") -> str:
    name = str(value or "").strip()
    if not name:
        raise ValidationError.single(field_name, "a time zone is required, e.g. Europe/Berlin")
    try:
        zone_named(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: a name too long for a path
        raise ValidationError.single(
            field_name, f"{name[:40]!r} is not a time zone; use an IANA name like Europe/Berlin"
        ) from None
    return name


def local_slot(day: date, at: time, zone_name: str) -> datetime | None:
    """The UTC instant of `at` local time on `day`, or None when that wall time does not exist.

    Clocks that jump forward leave a gap (e.g. 02:30 on the last Sunday of March in Berlin);
    an ambiguous time (clocks going back) means its first occurrence.
    """
    zone = zone_named(zone_name)
    local = datetime.combine(day, at, tzinfo=zone)
    utc = local.astimezone(UTC)
    back = utc.astimezone(zone)
    if (back.date(), back.time()) != (day, at):
        return None
    return utc
