"""How pushes are projected (cadence, weekday, time, freezes): `ScheduleSettings`, validated
field by field, and kept in the store's settings (one `meta` key per field, SETTING_KEYS)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date, time
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from juston_tui.model import ValidationError
from juston_tui.schedule.dates import parse_date, parse_time, parse_zone, zone_named

if TYPE_CHECKING:
    from juston_tui.store import Store

__all__ = ["PRODUCTS", "PRODUCT_LABELS", "SETTING_KEYS", "ScheduleSettings",
           "save_settings", "settings_from_store"]

PRODUCTS = ("billing", "cash")
PRODUCT_LABELS = {
    "billing": "JustOn Billing & Invoice Management",
    "cash": "JustOn Cash Management",
}
_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")

SETTING_KEYS: dict[str, str] = {
    "cadence_months": "push_cadence_months",
    "anchor": "push_anchor",
    "weekday": "push_weekday",
    "start_time": "push_time",
    "timezone": "push_timezone",
    "month_end_days": "push_month_end_days",
    "quarter_end_days": "push_quarter_end_days",
    "major_gap_days": "push_major_gap_days",
    "products": "push_products",
    "announcement_time": "announcement_time",
    "blackouts": "push_blackouts",
}


@dataclass(frozen=True)
class ScheduleSettings:
    """How pushes are projected; every field is a store setting (see SETTING_KEYS)."""

    cadence_months: int = 3
    anchor: date = date(2026, 1, 15)
    weekday: int = 5  # Saturday
    start_time: time = time(1, 0)
    timezone: str = "Europe/Berlin"
    month_end_days: int = 3
    quarter_end_days: int = 7
    major_gap_days: int = 21
    products: tuple[str, ...] = PRODUCTS
    announcement_time: time = time(9, 0)
    blackouts: tuple[tuple[date, date, str], ...] = ()  # extra freezes: (first, last, reason)

    @property
    def zone_info(self) -> ZoneInfo:
        return zone_named(self.timezone)

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any]) -> ScheduleSettings:
        """Validate settings given by field name; every wrong field is reported at once."""
        errors: dict[str, str] = {}
        clean: dict[str, Any] = {}
        default = cls()

        def take(name: str, fn: Any) -> None:
            if values.get(name) is None:
                return
            try:
                clean[name] = fn(values[name])
            except ValidationError as exc:
                errors.update(exc.errors)
            except (TypeError, ValueError):
                errors[name] = f"{str(values[name])[:40]!r} is not valid here"

        take("cadence_months", lambda v: _int_range(v, "cadence_months", 1, 12, "the cadence"))
        take("anchor", lambda v: parse_date(v, "anchor", "the anchor date"))
        take("weekday", lambda v: _weekday(v))
        take("start_time", lambda v: parse_time(v, "start_time"))
        take("timezone", lambda v: parse_zone(v, "timezone"))
        take("month_end_days", lambda v: _int_range(v, "month_end_days", 0, 10, "month end"))
        take("quarter_end_days", lambda v: _int_range(v, "quarter_end_days", 0, 20, "quarter"))
        take("major_gap_days", lambda v: _int_range(v, "major_gap_days", 0, 60, "the gap"))
        take("products", _products)
        take("announcement_time", lambda v: parse_time(v, "announcement_time"))
        take("blackouts", _blackouts)
        if errors:
            raise ValidationError(errors)
        return replace(default, **clean)

    def to_mapping(self) -> dict[str, Any]:
        """JSON-friendly values, as stored and printed by `calendar --json`."""
        return {
            "cadence_months": self.cadence_months,
            "anchor": self.anchor.isoformat(),
            "weekday": _WEEKDAYS[self.weekday],
            "start_time": self.start_time.strftime("%H:%M"),
            "timezone": self.timezone,
            "month_end_days": self.month_end_days,
            "quarter_end_days": self.quarter_end_days,
            "major_gap_days": self.major_gap_days,
            "products": list(self.products),
            "announcement_time": self.announcement_time.strftime("%H:%M"),
            "blackouts": [
                {"first": a.isoformat(), "last": b.isoformat(), "reason": r}
                for a, b, r in self.blackouts
            ],
        }


def _int_range(value: Any, field_name: str, low: int, high: int, label: str) -> int:
    try:
        number = int(str(value).strip())
    except ValueError:
        raise ValidationError.single(field_name, f"{label} is a whole number") from None
    if not low <= number <= high:
        raise ValidationError.single(field_name, f"{label} is between {low} and {high}")
    return number


def _weekday(value: Any) -> int:
    text = str(value).strip().lower()
    if text.isdigit() and int(text) < 7:
        return int(text)
    for index, name in enumerate(_WEEKDAYS):
        if len(text) >= 3 and name.startswith(text):
            return index
    raise ValidationError.single("weekday", "the weekday is a name such as saturday (or 0-6)")


def _products(value: Any) -> tuple[str, ...]:
    items = [value] if isinstance(value, str) else list(value)
    names = tuple(dict.fromkeys(str(v).strip().lower() for v in items if str(v).strip()))
    wrong = [n for n in names if n not in PRODUCTS]
    if wrong or not names:
        raise ValidationError.single("products", "products are billing and/or cash")
    return names


def _blackouts(value: Any) -> tuple[tuple[date, date, str], ...]:
    out = []
    for item in value or ():
        first = parse_date(item.get("first"), "blackouts", "a blackout's first day")
        last = parse_date(item.get("last") or item.get("first"), "blackouts")
        if last < first:
            raise ValidationError.single("blackouts", "a blackout ends before it starts")
        out.append((first, last, str(item.get("reason") or "blackout")))
    return tuple(out)


def settings_from_store(store: Store) -> ScheduleSettings:
    """Read the schedule settings; a bad stored value falls back to its default."""
    values = {name: store.get_setting(key) for name, key in SETTING_KEYS.items()}
    try:
        return ScheduleSettings.from_mapping(values)
    except ValidationError as exc:
        for name in exc.errors:
            values[name] = None
        return ScheduleSettings.from_mapping(values)


def save_settings(store: Store, values: Mapping[str, Any]) -> ScheduleSettings:
    """Validate the given settings (by field name) and store them in one write."""
    current = settings_from_store(store).to_mapping()
    current.update({k: v for k, v in values.items() if v is not None})
    settings = ScheduleSettings.from_mapping(current)
    stored = settings.to_mapping()
    with store.transaction():
        for name in values:
            if values[name] is not None:
                store.set_setting(SETTING_KEYS[name], stored[name])
    return settings
