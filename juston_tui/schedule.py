"""Push-upgrade calendar rules (seeds 000 and 002) and their small store layer.

The rules are pure functions over dates and plain data: no Textual, no I/O, so they are easy to
test across year ends, leap years and daylight-saving changes. The store helpers at the end
(`load_view`, `save_push`, ...) are the only part that touches a `Store`.

Rules, in the words of the seeds and of Salesforce's push-upgrade best practices:
- Salesforce ships three major releases a year: Spring (February), Summer (June) and Winter
  (October; "Winter '27" ships in autumn 2026). Sandbox-preview instances get it four to five
  weeks earlier. Known dates come from the store (setting `release_dates`); otherwise they are
  *projected*: the first production wave on the second Saturday of the month, the final wave one
  week later, the sandbox preview four weeks before the first wave.
- JustOn ships a feature release two to four weeks after each Salesforce production release.
- JustOn pushes upgrades quarterly (cadence and anchor are settings); the announcement e-mail is
  due seven days before each push. Pushes reach registered production orgs, sandboxes only on
  request (`Org.push_eligible`).
- A projected push starts off-peak (default Saturday 01:00 in Europe/Berlin, stored in UTC), never
  on a Salesforce release weekend, never in the last days of a month (3) or quarter (7), never
  within three weeks after a Salesforce production release (pushes carry major versions), and
  never at a local time that does not exist (a daylight-saving gap skips that Saturday).
- A push entered from an announcement e-mail is *confirmed* and replaces the projected push of
  the same product in the same cadence window.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from juston_tui.model import Contact, Org, ValidationError

if TYPE_CHECKING:
    from juston_tui.store import Store

__all__ = [
    "ANNOUNCEMENT_DAYS",
    "EVENT_KINDS",
    "PRODUCTS",
    "Action",
    "CalendarView",
    "Event",
    "Push",
    "PushPlan",
    "SalesforceRelease",
    "ScheduleSettings",
    "add_months",
    "blackout_reason",
    "build_view",
    "clear_release_date",
    "contacts_to_notify",
    "countdown",
    "delete_push",
    "import_release_dates",
    "included_orgs",
    "load_view",
    "local_slot",
    "parse_push",
    "parse_release_file",
    "projected_pushes",
    "push_form_values",
    "release_for",
    "releases_between",
    "save_push",
    "save_settings",
    "seed_demo",
    "set_release_date",
    "settings_from_store",
    "toggle_action",
    "window_of",
]

ANNOUNCEMENT_DAYS = 7  # seed 000: "One week before the upgrade, we will send an email"
PRODUCTS = ("billing", "cash")
PRODUCT_LABELS = {
    "billing": "JustOn Billing & Invoice Management",
    "cash": "JustOn Cash Management",
}
PUSH_KINDS = ("major", "patch")
ACTION_PHASES = ("before", "after")

# season -> (production month, label-year offset from the calendar year it ships in)
SEASONS: dict[str, tuple[int, int]] = {"spring": (2, 0), "summer": (6, 0), "winter": (10, 1)}
PREVIEW_WEEKS_BEFORE = 4  # sandbox preview: "four to five weeks earlier"
FINAL_WAVE_DAYS = 7  # the last production instances follow one weekend later
JUSTON_RELEASE_AFTER = (14, 28)  # seed 002: "two to four weeks after"

# Event kinds, the letter that marks them without colour, and a human label.
# A lower-case letter means "projected"; upper case means known or confirmed.
EVENT_KINDS: dict[str, tuple[str, str]] = {
    "sf_preview": ("B", "Salesforce sandbox preview"),
    "sf_release": ("S", "Salesforce release"),
    "juston_release": ("J", "JustOn feature release window"),
    "announcement": ("A", "Push announcement due"),
    "push": ("P", "Push upgrade"),
    "vendor_push": ("V", "Push scheduled in the packaging org"),
}

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
RELEASE_DATES_KEY = "release_dates"
VENDOR_CACHE_KEY = "vendor_push_jobs"

_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_RELEASE_NAME = re.compile(r"^\s*(spring|summer|winter)\s*'?\s*(\d{2}|\d{4})\s*$", re.I)
_VERSION = re.compile(r"^\d{1,3}\.\d{1,4}(\.\d{1,4})?$")
_TIME = re.compile(r"^(\d{1,2}):(\d{2})$")


# -- small date helpers -----------------------------------------------------------------------
def add_months(day: date, months: int) -> date:
    """`day` moved by whole months, the day clamped to the month's length (Jan 31 -> Feb 28/29)."""
    index = day.year * 12 + (day.month - 1) + months
    year, month = divmod(index, 12)
    return date(year, month + 1, min(day.day, _days_in_month(year, month + 1)))


def _days_in_month(year: int, month: int) -> int:
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
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def parse_zone(value: Any, field_name: str = "timezone") -> str:
    name = str(value or "").strip()
    if not name:
        raise ValidationError.single(field_name, "a time zone is required, e.g. Europe/Berlin")
    try:
        _zone(name)
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
    zone = _zone(zone_name)
    local = datetime.combine(day, at, tzinfo=zone)
    utc = local.astimezone(UTC)
    back = utc.astimezone(zone)
    if (back.date(), back.time()) != (day, at):
        return None
    return utc


# -- settings ---------------------------------------------------------------------------------
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
        return _zone(self.timezone)

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


# -- Salesforce releases ----------------------------------------------------------------------
@dataclass(frozen=True)
class SalesforceRelease:
    """One Salesforce major release with its three weekends; `projected` when not entered."""

    season: str
    label_year: int
    preview: date
    production: date
    final: date
    projected: bool

    @property
    def name(self) -> str:
        return release_name(self.season, self.label_year)

    @property
    def key(self) -> str:
        return f"{self.season}-{self.label_year % 100:02d}"

    def blackout_days(self) -> set[date]:
        """The weekends on which instances are upgraded (sandbox preview and both waves)."""
        days: set[date] = set()
        for day in (self.preview, self.production, self.final):
            days.update(release_weekend(day))
        return days

    @property
    def juston_window(self) -> tuple[date, date]:
        """Seed 002: JustOn feature releases follow two to four weeks after Salesforce's."""
        return (
            self.final + timedelta(days=JUSTON_RELEASE_AFTER[0]),
            self.final + timedelta(days=JUSTON_RELEASE_AFTER[1]),
        )


def release_weekend(day: date) -> list[date]:
    """Friday to Sunday around a release date (a weekday date blocks itself and its neighbours)."""
    if day.weekday() >= 4:
        friday = day - timedelta(days=day.weekday() - 4)
        return [friday + timedelta(days=i) for i in range(3)]
    return [day - timedelta(days=1), day, day + timedelta(days=1)]


def release_name(season: str, label_year: int) -> str:
    return f"{season.capitalize()} '{label_year % 100:02d}"


def parse_release_name(text: str, field_name: str = "release") -> tuple[str, int]:
    """`Winter '27`, `winter 27` or `Winter 2027` -> ("winter", 2027)."""
    match = _RELEASE_NAME.match(text or "")
    if not match:
        raise ValidationError.single(
            field_name, f"{(text or '')[:40]!r} is not a release name; use e.g. \"Winter '27\""
        )
    year = int(match[2])
    return match[1].lower(), year if year >= 100 else 2000 + year


def release_for(season: str, label_year: int, known: Mapping[str, Any] | None = None
                ) -> SalesforceRelease:
    """The release from entered dates when known, else projected (second Saturday rule)."""
    month, offset = SEASONS[season]
    year = label_year - offset
    entry = (known or {}).get(release_name(season, label_year))
    if entry and entry.get("production"):
        production = date.fromisoformat(entry["production"])
        final = (date.fromisoformat(entry["final"]) if entry.get("final")
                 else production + timedelta(days=FINAL_WAVE_DAYS))
        preview = (date.fromisoformat(entry["preview"]) if entry.get("preview")
                   else production - timedelta(weeks=PREVIEW_WEEKS_BEFORE))
        return SalesforceRelease(season, label_year, preview, production, final, False)
    production = nth_weekday(year, month, 5, 2)
    return SalesforceRelease(
        season, label_year,
        preview=production - timedelta(weeks=PREVIEW_WEEKS_BEFORE),
        production=production,
        final=production + timedelta(days=FINAL_WAVE_DAYS),
        projected=True,
    )


def releases_between(start: date, end: date, known: Mapping[str, Any] | None = None
                     ) -> list[SalesforceRelease]:
    """Releases whose preview..JustOn window touches [start, end], oldest first."""
    out = []
    for year in range(start.year - 1, end.year + 2):
        for season, (_month, offset) in SEASONS.items():
            rel = release_for(season, year + offset, known)
            if rel.preview <= end and rel.juston_window[1] >= start:
                out.append(rel)
    return sorted(out, key=lambda r: r.production)


def validate_release_entry(name: str, production: Any, final: Any = None, preview: Any = None
                           ) -> tuple[str, dict[str, str]]:
    """Check entered release dates against the season; return (canonical name, entry)."""
    errors: dict[str, str] = {}
    try:
        season, label_year = parse_release_name(name)
    except ValidationError as exc:
        raise exc from None
    month, offset = SEASONS[season]
    expected = date(label_year - offset, month, 15)
    entry: dict[str, str] = {}
    prod = None
    try:
        prod = parse_date(production, "production", "the production release date")
        if abs((prod - expected).days) > 45:
            errors["production"] = (
                f"{release_name(season, label_year)} ships around "
                f"{expected.strftime('%B %Y')}, not {prod.isoformat()}"
            )
        entry["production"] = prod.isoformat()
    except ValidationError as exc:
        errors.update(exc.errors)
    for field_name, value in (("final", final), ("preview", preview)):
        if not value:
            continue
        try:
            day = parse_date(value, field_name)
        except ValidationError as exc:
            errors.update(exc.errors)
            continue
        if prod is not None and field_name == "final" and not 0 <= (day - prod).days <= 28:
            errors["final"] = "the final wave is within four weeks after the production date"
        if prod is not None and field_name == "preview" and not 14 <= (prod - day).days <= 56:
            errors["preview"] = "the sandbox preview is two to eight weeks before production"
        entry[field_name] = day.isoformat()
    if errors:
        raise ValidationError(errors)
    return release_name(season, label_year), entry


# -- windows and blackouts --------------------------------------------------------------------
def window_of(settings: ScheduleSettings, day: date) -> tuple[date, date]:
    """The cadence window [start, end) containing `day` (windows repeat from the anchor)."""
    months = (day.year - settings.anchor.year) * 12 + day.month - settings.anchor.month
    k = months // settings.cadence_months
    while add_months(settings.anchor, k * settings.cadence_months) > day:
        k -= 1
    while add_months(settings.anchor, (k + 1) * settings.cadence_months) <= day:
        k += 1
    return (add_months(settings.anchor, k * settings.cadence_months),
            add_months(settings.anchor, (k + 1) * settings.cadence_months))


def windows_between(settings: ScheduleSettings, start: date, end: date
                    ) -> list[tuple[date, date]]:
    """Every cadence window that overlaps [start, end)."""
    out = []
    current = window_of(settings, start)
    while current[0] < end:
        out.append(current)
        current = window_of(settings, current[1])
    return out


def blackout_reason(day: date, settings: ScheduleSettings,
                    releases: Sequence[SalesforceRelease], *, major: bool = True) -> str | None:
    """Why no push may start on this local date, or None when it may."""
    dim = _days_in_month(day.year, day.month)
    if day.month % 3 == 0 and day.day > dim - settings.quarter_end_days:
        return f"last {settings.quarter_end_days} days of the quarter"
    if day.day > dim - settings.month_end_days:
        return f"last {settings.month_end_days} days of the month"
    for rel in releases:
        if day in rel.blackout_days():
            return f"{rel.name} release weekend"
        if major and rel.production <= day < rel.final + timedelta(
                days=settings.major_gap_days):
            return (f"within {settings.major_gap_days // 7} weeks after {rel.name} "
                    "(major versions wait)")
    for first, last, reason in settings.blackouts:
        if first <= day <= last:
            return reason
    return None


def _releases_around(start: date, end: date, known: Mapping[str, Any] | None
                     ) -> list[SalesforceRelease]:
    return releases_between(start - timedelta(days=70), end + timedelta(days=70), known)


# -- pushes -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Action:
    """Something to do before or after a push (from the announcement e-mail); tickable."""

    id: str
    phase: str
    text: str
    done: bool = False

    def to_doc(self) -> dict[str, Any]:
        return {"id": self.id, "phase": self.phase, "text": self.text, "done": self.done}

    @classmethod
    def from_doc(cls, doc: Mapping[str, Any]) -> Action:
        phase = doc.get("phase", "before")
        return cls(str(doc.get("id", "")), phase if phase in ACTION_PHASES else "before",
                   str(doc.get("text", "")), bool(doc.get("done", False)))


# The default checklist of a projected push: what JustOn's release team does for every push.
PROJECTED_ACTIONS = (
    ("plan", "before", "Fix the version and the actions for this push"),
    ("announce", "before", "Send the announcement e-mail to the contacts below"),
    ("verify", "after", "Check the pushed orgs' versions (juston-tui status)"),
)


@dataclass(frozen=True)
class Push:
    """A push upgrade: confirmed (from an announcement) or projected (by the rules)."""

    id: str
    status: str  # confirmed | projected
    product: str
    start_utc: datetime
    timezone: str
    version: str = ""
    kind: str = "major"
    actions: tuple[Action, ...] = ()
    notes: str = ""
    announced_on: date | None = None

    @property
    def projected(self) -> bool:
        return self.status == "projected"

    @property
    def editable(self) -> bool:
        """Only pushes entered from an announcement can be edited or deleted here."""
        return self.status == "confirmed"

    @property
    def local_start(self) -> datetime:
        return self.start_utc.astimezone(_zone(self.timezone))

    @property
    def local_day(self) -> date:
        return self.local_start.date()

    @property
    def announcement_due(self) -> date:
        """Seed 000: the e-mail goes out one week before the push."""
        return self.local_day - timedelta(days=ANNOUNCEMENT_DAYS)

    @property
    def label(self) -> str:
        version = f" {self.version}" if self.version else ""
        return f"{PRODUCT_LABELS[self.product]}{version}"

    def to_doc(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "status": self.status,
            "product": self.product,
            "start_utc": self.start_utc.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "timezone": self.timezone,
            "version": self.version,
            "kind": self.kind,
            "actions": [a.to_doc() for a in self.actions],
            "notes": self.notes,
            "announced_on": self.announced_on.isoformat() if self.announced_on else None,
        }

    @classmethod
    def from_doc(cls, doc: Mapping[str, Any]) -> Push:
        start = datetime.fromisoformat(str(doc["start_utc"]).replace("Z", "+00:00"))
        announced = doc.get("announced_on")
        product = doc.get("product", "billing")
        return cls(
            id=str(doc["id"]),
            status=doc.get("status", "confirmed"),
            product=product if product in PRODUCTS else "billing",
            start_utc=start.astimezone(UTC),
            timezone=doc.get("timezone") or "UTC",
            version=doc.get("version", ""),
            kind=doc.get("kind", "major") if doc.get("kind") in PUSH_KINDS else "major",
            actions=tuple(Action.from_doc(a) for a in doc.get("actions") or ()),
            notes=doc.get("notes", ""),
            announced_on=date.fromisoformat(announced) if announced else None,
        )


def _action_lines(value: Any) -> list[str]:
    items = value.splitlines() if isinstance(value, str) else list(value or ())
    return [" ".join(str(line).lstrip("-*• ").split()) for line in items
            if str(line).strip(" -*•")]


def parse_push(values: Mapping[str, Any], *, previous: Push | None = None) -> Push:
    """Build a confirmed push from what was typed (form or CLI), reporting every bad field.

    Fields: date, time, timezone, product, version, kind, before, after (one action per line),
    notes, announced_on. Editing keeps the id and the tick of every action whose text stayed.
    """
    errors: dict[str, str] = {}

    def run(fn: Any, *args: Any) -> Any:
        try:
            return fn(*args)
        except ValidationError as exc:
            errors.update(exc.errors)
            return None

    day = run(parse_date, values.get("date"), "date", "the push date")
    at = run(parse_time, values.get("time") or "01:00", "time")
    zone = run(parse_zone, values.get("timezone") or "Europe/Berlin", "timezone")
    product = str(values.get("product") or "").strip().lower()
    if product not in PRODUCTS:
        errors["product"] = "the product is billing or cash"
    version = str(values.get("version") or "").strip()
    if not version:
        errors["version"] = "the version from the announcement is required, e.g. 2.81"
    elif not _VERSION.match(version):
        errors["version"] = f"{version[:20]!r} is not a version; use e.g. 2.81 or 2.81.3"
    kind = str(values.get("kind") or ("patch" if version.count(".") == 2 else "major")).lower()
    if kind not in PUSH_KINDS:
        errors["kind"] = "the kind is major or patch"
    announced_raw = values.get("announced_on")
    announced = (run(parse_date, announced_raw, "announced_on", "the announcement date")
                 if str(announced_raw or "").strip() else None)
    start = None
    if day is not None and at is not None and zone is not None:
        start = local_slot(day, at, zone)
        if start is None:
            errors["time"] = (f"{at.strftime('%H:%M')} does not exist on {day.isoformat()} in "
                              f"{zone} (the clocks jump forward); pick another time")
    if announced is not None and day is not None and announced > day:
        errors["announced_on"] = "the announcement comes before the push"
    notes = str(values.get("notes") or "").strip()
    if not _is_utf8(notes):
        errors["notes"] = "this is not valid UTF-8 text (check the terminal's encoding)"
    if len(notes) > 2000:
        errors["notes"] = "notes have at most 2000 characters"
    old_done = {(a.phase, a.text): a.done for a in previous.actions} if previous else {}
    actions = []
    for phase in ACTION_PHASES:
        for text in _action_lines(values.get(phase)):
            if len(text) > 300:
                errors[phase] = "an action has at most 300 characters"
                break
            if not _is_utf8(text):
                errors[phase] = "this is not valid UTF-8 text (check the terminal's encoding)"
                break
            actions.append(Action(f"{phase}-{len(actions) + 1}", phase, text,
                                  old_done.get((phase, text), False)))
    if errors:
        raise ValidationError(errors)
    assert start is not None and zone is not None
    return Push(
        id=previous.id if previous else f"push-{uuid.uuid4().hex[:12]}",
        status="confirmed",
        product=product,
        start_utc=start,
        timezone=zone,
        version=version,
        kind=kind,
        actions=tuple(actions),
        notes=notes,
        announced_on=announced,
    )


def _is_utf8(text: str) -> bool:
    """False for lone surrogates (undecodable argv bytes), which the store cannot write."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def push_form_values(push: Push) -> dict[str, str]:
    """The form/CLI fields of a push, the inverse of `parse_push`."""
    local = push.local_start
    return {
        "date": local.date().isoformat(),
        "time": local.strftime("%H:%M"),
        "timezone": push.timezone,
        "product": push.product,
        "version": push.version,
        "kind": push.kind,
        "before": "\n".join(a.text for a in push.actions if a.phase == "before"),
        "after": "\n".join(a.text for a in push.actions if a.phase == "after"),
        "notes": push.notes,
        "announced_on": push.announced_on.isoformat() if push.announced_on else "",
    }


def projected_id(product: str, window_start: date) -> str:
    return f"projected:{product}:{window_start.isoformat()}"


def valid_slots(settings: ScheduleSettings, window: tuple[date, date],
                releases: Sequence[SalesforceRelease]) -> list[datetime]:
    """Every allowed projected start (UTC) in a window, earliest first."""
    start, end = window
    day = start + timedelta(days=(settings.weekday - start.weekday()) % 7)
    out = []
    while day < end:
        if blackout_reason(day, settings, releases) is None:
            slot = local_slot(day, settings.start_time, settings.timezone)
            if slot is not None:
                out.append(slot)
        day += timedelta(days=7)
    return out


def projected_pushes(settings: ScheduleSettings, window: tuple[date, date],
                     releases: Sequence[SalesforceRelease],
                     done: Mapping[str, Iterable[str]] | None = None) -> list[Push]:
    """One projected push per product in a window, staggered one allowed slot apart."""
    slots = valid_slots(settings, window, releases)
    out = []
    for slot, product in zip(slots, settings.products, strict=False):
        push_id = projected_id(product, window[0])
        ticked = set((done or {}).get(push_id, ()))
        actions = tuple(Action(aid, phase, text, aid in ticked)
                        for aid, phase, text in PROJECTED_ACTIONS)
        out.append(Push(push_id, "projected", product, slot, settings.timezone,
                        actions=actions))
    return out


# -- who is included ----------------------------------------------------------------------
def org_runs(org: Org, product: str) -> bool:
    """An org without recorded products is taken to run Billing (seed 000's package)."""
    return product in org.products or (not org.products and product == "billing")


def included_orgs(push: Push, orgs: Iterable[Org]) -> list[Org]:
    """Seed 000: registered production orgs; sandboxes only with a support ticket."""
    chosen = [o for o in orgs if not o.vendor and o.push_eligible and org_runs(o, push.product)]
    return sorted(chosen, key=lambda o: (o.kind != "production", o.name.lower(), o.org_id))


def contacts_to_notify(included: Iterable[Org], contacts: Iterable[Contact]) -> list[Contact]:
    """Eligible contacts linked to an included org or to the production org of a sandbox."""
    wanted: set[str] = set()
    for org in included:
        wanted.add(org.org_id)
        if org.parent_org_id:
            wanted.add(org.parent_org_id)
    chosen = [c for c in contacts if c.eligible and wanted.intersection(c.org_ids)]
    return sorted(chosen, key=lambda c: (c.full_name.lower(), c.email))


# -- the assembled calendar -------------------------------------------------------------------
@dataclass(frozen=True)
class PushPlan:
    """A push with everything the calendar shows about it."""

    push: Push
    window: tuple[date, date]
    uid: str
    orgs: tuple[Org, ...] = ()
    contacts: tuple[Contact, ...] = ()
    warnings: tuple[str, ...] = ()
    requests: tuple[Mapping[str, Any], ...] = ()  # matching PackagePushRequests (vendor org)
    unknown_org_ids: tuple[str, ...] = ()  # pushed by the packaging org but not registered here

    @property
    def done_count(self) -> int:
        return sum(a.done for a in self.push.actions)

    def jobs_by_org(self) -> dict[str, Mapping[str, Any]]:
        """org_id -> the latest PackagePushJob for it among the matching requests."""
        out: dict[str, Mapping[str, Any]] = {}
        for request in self.requests:
            for job in request.get("jobs") or ():
                if job.get("org_id"):
                    out[str(job["org_id"])] = job
        return out


@dataclass(frozen=True)
class Event:
    """One line of the agenda / one ICS event. `day` and `last_day` are local dates."""

    uid: str
    kind: str
    title: str
    day: date
    last_day: date
    projected: bool
    start_utc: datetime | None = None  # timed events (push, announcement)
    minutes: int = 0
    push_id: str | None = None
    description: str = ""

    @property
    def letter(self) -> str:
        letter = EVENT_KINDS[self.kind][0]
        return letter.lower() if self.projected else letter


@dataclass(frozen=True)
class CalendarView:
    """What the screen, the CLI and the ICS export show for a period."""

    start: date
    end: date
    settings: ScheduleSettings
    releases: tuple[SalesforceRelease, ...]
    plans: tuple[PushPlan, ...]
    events: tuple[Event, ...]
    vendor: Mapping[str, Any] = field(default_factory=dict)

    def plan(self, push_id: str) -> PushPlan | None:
        for plan in self.plans:
            if plan.push.id == push_id:
                return plan
        return None

    def next_plan(self, now: datetime) -> PushPlan | None:
        for plan in self.plans:
            if plan.push.start_utc >= now:
                return plan
        return None

    def events_on(self, day: date) -> list[Event]:
        return [e for e in self.events if e.day <= day <= e.last_day]


def _push_warnings(push: Push, settings: ScheduleSettings,
                   releases: Sequence[SalesforceRelease], today: date) -> list[str]:
    """Best-practice problems of a confirmed push (projected ones are built to have none)."""
    out = []
    reason = blackout_reason(push.local_day, settings, releases, major=push.kind == "major")
    if reason:
        out.append(f"starts in a blackout: {reason}")
    if push.announced_on and push.announced_on > push.announcement_due:
        late = (push.announced_on - push.announcement_due).days
        out.append(f"announced {late} day(s) later than one week before")
    elif not push.announced_on and push.announcement_due < today <= push.local_day:
        out.append(f"announcement was due on {push.announcement_due.isoformat()}")
    if not 0 <= push.local_start.hour < 6 and push.local_start.weekday() < 5:
        out.append("starts during business hours (push off-peak)")
    return out


def _push_description(plan: PushPlan) -> str:
    push = plan.push
    lines = [
        f"{plan.push.label} ({push.status} {push.kind} push)",
        f"Start: {push.local_start.strftime('%Y-%m-%d %H:%M %Z')} "
        f"({push.start_utc.strftime('%Y-%m-%d %H:%M')} UTC)",
        f"Announcement due: {push.announcement_due.isoformat()}",
        f"Orgs ({len(plan.orgs)}):",
    ]
    lines += [f"  {o.name} ({o.org_id}, {o.kind})" for o in plan.orgs] or ["  none registered"]
    lines += [f"  unregistered org {i}" for i in plan.unknown_org_ids]
    jobs = plan.jobs_by_org()
    for org_id, job in jobs.items():
        problems = "; ".join(f"{e.get('severity')}: {e.get('title')}" for e in
                             job.get("errors") or ())
        lines.append(f"  job {org_id}: {job.get('status')}" + (f" ({problems})" if problems
                                                               else ""))
    lines.append(f"Contacts to notify: {len(plan.contacts)}")
    for phase in ACTION_PHASES:
        items = [a for a in push.actions if a.phase == phase]
        if items:
            lines.append(f"Actions {phase} the push:")
            lines += [f"  [{'x' if a.done else ' '}] {a.text}" for a in items]
    lines += [f"Warning: {w}" for w in plan.warnings]
    return "\n".join(lines)


LIVE_REQUEST_STATES = ("Created", "Pending", "In Progress", "Succeeded")
OVERLAY_PREFIXES = ("projected:", "vendor:")


def _utc(value: Any) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00")).astimezone(UTC)
    except ValueError:
        return None


def _vendor_pushes(vendor: Mapping[str, Any], settings: ScheduleSettings,
                   done: Mapping[str, Iterable[str]]) -> list[tuple[Push, Mapping[str, Any]]]:
    """Live PackagePushRequests of the packaging org as pushes (status "scheduled")."""
    out = []
    for request in vendor.get("requests") or ():
        when = _utc(request.get("scheduled_start"))
        product = request.get("product")
        if when is None or product not in PRODUCTS or \
                request.get("status") not in LIVE_REQUEST_STATES:
            continue
        version = str(request.get("version") or "")
        push_id = f"vendor:{request.get('id')}"
        ticked = set(done.get(push_id, ()))
        out.append((Push(
            push_id, "scheduled", product, when, settings.timezone, version=version,
            kind="patch" if version.count(".") == 2 and not version.endswith(".0") else "major",
            actions=tuple(Action(aid, phase, text, aid in ticked)
                          for aid, phase, text in PROJECTED_ACTIONS[1:]),
            notes=f"PackagePushRequest {request.get('id')} ({request.get('status')})",
        ), request))
    return out


def build_view(*, settings: ScheduleSettings, start: date, months: int,
               push_docs: Iterable[Mapping[str, Any]] = (),
               release_dates: Mapping[str, Any] | None = None,
               orgs: Sequence[Org] = (), contacts: Sequence[Contact] = (),
               vendor: Mapping[str, Any] | None = None) -> CalendarView:
    """Assemble releases, pushes and events for [start, start + months).

    Per cadence window and product, a confirmed push (from an announcement) or a live push
    request of the packaging org replaces the projected push; a request that matches a
    confirmed push is attached to it. Pure: the store's documents come in as plain data;
    `start` is today's local date.
    """
    vendor = vendor or {}
    end = add_months(start, months)
    releases = _releases_around(start, end, release_dates)
    confirmed: list[Push] = []
    done: dict[str, list[str]] = {}
    for doc in push_docs:
        if doc.get("status") == "ticks":
            done[str(doc.get("id"))] = list(doc.get("done") or ())
        elif doc.get("status") == "confirmed":
            confirmed.append(Push.from_doc(doc))
    # A packaging-org request within a day and a half of a confirmed push of the same
    # product is that push: its jobs are shown there instead of as a second push.
    attached: dict[str, list[Mapping[str, Any]]] = {}
    scheduled = []
    for push, request in _vendor_pushes(vendor, settings, done):
        twin = next((c for c in confirmed if c.product == push.product and
                     abs(c.start_utc - push.start_utc) <= timedelta(hours=36)), None)
        if twin is None:
            scheduled.append((push, request))
            attached[push.id] = [request]
        else:
            attached.setdefault(twin.id, []).append(request)
    taken: set[tuple[date, str]] = set()
    pushes: list[tuple[Push, tuple[date, date], str]] = []

    def uid_for(push: Push, window: tuple[date, date]) -> str:
        key = (window[0], push.product)
        uid = f"push-{push.product}-{window[0].isoformat()}" if key not in taken else \
            f"push-{push.id.replace(':', '-')}"
        taken.add(key)
        return uid

    for push in sorted(confirmed, key=lambda p: (p.start_utc, p.id)):
        window = window_of(settings, push.local_day)
        pushes.append((push, window, uid_for(push, window)))
    for push, _request in sorted(scheduled, key=lambda t: (t[0].start_utc, t[0].id)):
        window = window_of(settings, push.local_day)
        pushes.append((push, window, uid_for(push, window)))
    for window in windows_between(settings, start - timedelta(days=7), end):
        for push in projected_pushes(settings, window, releases, done):
            if (window[0], push.product) not in taken:
                pushes.append((push, window, uid_for(push, window)))
    by_id = {o.org_id: o for o in orgs}
    plans = []
    for push, window, uid in sorted(pushes, key=lambda t: (t[0].start_utc, t[0].product)):
        if not (start - timedelta(days=ANNOUNCEMENT_DAYS) <= push.local_day < end):
            continue
        requests = tuple(attached.get(push.id, ()))
        unknown: list[str] = []
        if push.status == "scheduled":
            job_ids = [str(j.get("org_id")) for r in requests for j in r.get("jobs") or ()
                       if j.get("org_id")]
            orgs_in = tuple(sorted((by_id[i] for i in dict.fromkeys(job_ids) if i in by_id),
                                   key=lambda o: (o.kind != "production", o.name.lower())))
            unknown = [i for i in dict.fromkeys(job_ids) if i not in by_id]
        else:
            orgs_in = tuple(included_orgs(push, orgs))
        warnings = () if push.projected else tuple(
            _push_warnings(push, settings, releases, start))
        plans.append(PushPlan(push, window, uid, orgs_in,
                              tuple(contacts_to_notify(orgs_in, contacts)), warnings,
                              requests, tuple(unknown)))
    events = _events(settings, releases, plans, vendor, start, end)
    return CalendarView(start, end, settings,
                        tuple(r for r in releases
                              if r.preview < end and r.juston_window[1] >= start),
                        tuple(p for p in plans if p.push.local_day >= start),
                        events, dict(vendor))


def _events(settings: ScheduleSettings, releases: Sequence[SalesforceRelease],
            plans: Sequence[PushPlan], vendor: Mapping[str, Any], start: date, end: date
            ) -> tuple[Event, ...]:
    events: list[Event] = []
    for rel in releases:
        state = "projected" if rel.projected else "announced by Salesforce"
        for kind, day, what in (
            ("sf_preview", rel.preview, "sandbox preview"),
            ("sf_release", rel.production, "production release"),
            ("sf_release", rel.final, "final wave"),
        ):
            suffix = {"sandbox preview": "preview", "production release": "production",
                      "final wave": "final"}[what]
            events.append(Event(
                f"sf-{rel.key}-{suffix}", kind, f"Salesforce {rel.name} {what}", day, day,
                rel.projected,
                description=f"Salesforce {rel.name} {what} weekend ({state}). "
                "No push upgrades on release weekends."))
        first, last = rel.juston_window
        events.append(Event(
            f"juston-release-{rel.key}", "juston_release",
            f"JustOn feature releases after {rel.name}", first, last, True,
            description="JustOn feature releases follow two to four weeks after the "
            f"Salesforce {rel.name} production release (seed 002)."))
    for plan in plans:
        push = plan.push
        state = push.status
        local = push.local_start
        kind = "vendor_push" if push.status == "scheduled" else "push"
        events.append(Event(
            plan.uid, kind, f"Push {push.label} ({state})", local.date(), local.date(),
            push.projected, start_utc=push.start_utc, minutes=60, push_id=push.id,
            description=_push_description(plan)))
        due = push.announcement_due
        ann_start = local_slot(due, settings.announcement_time, push.timezone) or \
            local_slot(due, time(12, 0), push.timezone)
        events.append(Event(
            f"announcement-{plan.uid}", "announcement",
            f"Announce push of {push.label} ({state})", due, due, push.projected,
            start_utc=ann_start, minutes=30, push_id=push.id,
            description=f"Send the push announcement e-mail for {local.date().isoformat()} "
            f"to {len(plan.contacts)} contact(s) one week before (seed 000).\n"
            + _push_description(plan)))
    events = [e for e in events if e.last_day >= start and e.day < end]
    return tuple(sorted(events, key=lambda e: (e.day, e.start_utc or datetime.min.replace(
        tzinfo=UTC), e.kind, e.uid)))


# -- the store layer --------------------------------------------------------------------------
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


def set_release_date(store: Store, name: str, production: Any, final: Any = None,
                     preview: Any = None) -> str:
    canonical, entry = validate_release_entry(name, production, final, preview)
    with store.transaction():
        dates = dict(store.get_setting(RELEASE_DATES_KEY) or {})
        dates[canonical] = entry
        store.set_setting(RELEASE_DATES_KEY, dates)
    return canonical


def parse_release_file(text: str) -> dict[str, dict[str, str]]:
    """Known release dates from JSON or CSV text, every entry validated.

    JSON: {"Winter '27": {"production": "2026-10-09", "final": ..., "preview": ...}} or a
    list of {"release": ..., "production": ...}. CSV: a header row with release, production
    and optionally final, preview. Errors name the line or entry they belong to.
    """
    import csv
    import io
    import json

    stripped = text.lstrip()
    rows: list[tuple[str, Mapping[str, Any]]] = []
    if stripped.startswith(("{", "[")):
        try:
            data = json.loads(stripped)
        except ValueError as exc:
            raise ValidationError.single("file", f"not valid JSON: {exc}") from None
        if isinstance(data, dict):
            rows = [(str(k), v if isinstance(v, Mapping) else {}) for k, v in data.items()]
        elif isinstance(data, list):
            rows = [(str(d.get("release") or d.get("name") or ""), d) for d in data
                    if isinstance(d, Mapping)]
    else:
        reader = csv.DictReader(io.StringIO(text))
        fields = {f.strip().lower() for f in reader.fieldnames or ()}
        if not {"release", "production"} <= fields:
            raise ValidationError.single(
                "file", "a CSV needs the columns release and production (final, preview)")
        for row in reader:
            clean_row = {(k or "").strip().lower(): (v or "").strip() for k, v in row.items()}
            rows.append((clean_row.get("release", ""), clean_row))
    if not rows:
        raise ValidationError.single("file", "no release dates found")
    out: dict[str, dict[str, str]] = {}
    for index, (name, entry) in enumerate(rows, start=1):
        try:
            canonical, dates = validate_release_entry(
                name, entry.get("production"), entry.get("final"), entry.get("preview"))
        except ValidationError as exc:
            detail = "; ".join(f"{k}: {v}" for k, v in exc.errors.items())
            raise ValidationError.single("file", f"entry {index} ({name[:30]!r}): {detail}"
                                         ) from None
        out[canonical] = dates
    return out


def import_release_dates(store: Store, dates: Mapping[str, Mapping[str, str]]) -> int:
    """Merge validated release dates into the store in one write."""
    with store.transaction():
        current = dict(store.get_setting(RELEASE_DATES_KEY) or {})
        current.update({k: dict(v) for k, v in dates.items()})
        store.set_setting(RELEASE_DATES_KEY, current)
    return len(dates)


def clear_release_date(store: Store, name: str) -> bool:
    season, year = parse_release_name(name)
    canonical = release_name(season, year)
    with store.transaction():
        dates = dict(store.get_setting(RELEASE_DATES_KEY) or {})
        found = dates.pop(canonical, None) is not None
        store.set_setting(RELEASE_DATES_KEY, dates)
    return found


def load_view(store: Store, *, today: date | None = None, months: int = 6) -> CalendarView:
    """Everything the calendar needs from the store, assembled by `build_view`."""
    settings = settings_from_store(store)
    if today is None:
        today = datetime.now(_zone(settings.timezone)).date()
    return build_view(
        settings=settings, start=today, months=months,
        push_docs=store.all_docs("pushes"),
        release_dates=store.get_setting(RELEASE_DATES_KEY) or {},
        orgs=store.list_orgs(), contacts=store.list_contacts(),
        vendor=store.get_setting(VENDOR_CACHE_KEY) or {},
    )


def save_push(store: Store, push: Push) -> Push:
    """Store a confirmed push; an action that is still there keeps its *stored* tick.

    The form or CLI worked on a copy: a tick made meanwhile (another screen, another
    process) must not be undone by saving an edit of the date or version.
    """
    with store.transaction():
        current = store.get_doc("pushes", push.id)
        if current is not None and current.get("status") == "confirmed":
            stored = {(a.phase, a.text): a.done for a in Push.from_doc(current).actions}
            push = replace(push, actions=tuple(
                replace(a, done=stored.get((a.phase, a.text), a.done)) for a in push.actions))
        store.put_doc("pushes", push.to_doc())
    return push


def delete_push(store: Store, push_id: str) -> dict[str, Any] | None:
    """Remove a confirmed push; returns its document for undo.

    Check and delete are one locked transaction, so a push another process changed in
    between (e.g. no longer confirmed) is not removed on the strength of a stale read.
    """
    with store.transaction():
        doc = store.get_doc("pushes", push_id)
        if doc is None or doc.get("status") != "confirmed":
            return None
        return store.delete_doc("pushes", push_id)


def countdown(days: int) -> str:
    """How far away a day is, in words: today, tomorrow, yesterday, in 3 days, 2 days ago.

    One wording for the agenda, the push detail and the CLI (they used to disagree).
    """
    if days == 0:
        return "today"
    if days == 1:
        return "tomorrow"
    if days == -1:
        return "yesterday"
    return f"in {days} days" if days > 0 else f"{-days} days ago"


def toggle_action(store: Store, push_id: str, action_id: str) -> bool:
    """Flip one action's tick in one locked read-modify-write; returns the new state."""
    with store.transaction():
        doc = store.get_doc("pushes", push_id)
        if push_id.startswith(OVERLAY_PREFIXES):
            # Projected and packaging-org pushes are computed; only their ticks are stored.
            done = set((doc or {}).get("done") or ())
            state = action_id not in done
            done.symmetric_difference_update({action_id})
            store.put_doc("pushes", {"id": push_id, "status": "ticks", "done": sorted(done)})
            return state
        if doc is None:
            raise ValidationError.single("push", f"the push {push_id} no longer exists")
        actions = [dict(a) for a in doc.get("actions") or ()]
        for action in actions:
            if action.get("id") == action_id:
                action["done"] = not action.get("done", False)
                store.patch_doc("pushes", push_id, {"actions": actions})
                return bool(action["done"])
    raise ValidationError.single("action", f"no action {action_id} on this push")


def seed_demo(store: Store, orgs: list[Org], *, today: date | None = None) -> None:
    """Demo data: one confirmed push from an announcement e-mail, the rest projected."""
    settings = settings_from_store(store)
    today = today or datetime.now(_zone(settings.timezone)).date()
    window_start, window_end = window_of(settings, today + timedelta(days=10))
    releases = _releases_around(window_start, window_end, None)
    slot = next((s for s in valid_slots(settings, (window_start, window_end), releases)
                 if s.astimezone(_zone(settings.timezone)).date() > today + timedelta(days=9)),
                None)
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
        announced_on=min(today, slot.astimezone(_zone(settings.timezone)).date()
                         - timedelta(days=ANNOUNCEMENT_DAYS)),
    )
    store.put_doc("pushes", push.to_doc())
