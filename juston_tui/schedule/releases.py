"""Salesforce's three major releases a year, entered or projected, and the dates the user
entered for them (store setting `release_dates`).

Spring ships in February, Summer in June and Winter in October ("Winter '27" ships in autumn
2026); sandbox-preview instances get it four to five weeks earlier. Without entered dates a
release is *projected*: the first production wave on the second Saturday of the month, the
final wave one week later, the sandbox preview four weeks before the first wave. JustOn ships
a feature release two to four weeks after each production release (seed 002).
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from juston_tui.model import ValidationError
from juston_tui.schedule.dates import nth_weekday, parse_date

if TYPE_CHECKING:
    from juston_tui.store import Store

__all__ = ["FINAL_WAVE_DAYS", "JUSTON_RELEASE_AFTER", "PREVIEW_WEEKS_BEFORE",
           "RELEASE_DATES_KEY", "SEASONS", "SalesforceRelease", "clear_release_date",
           "import_release_dates", "parse_release_file", "parse_release_name",
           "release_dates", "release_for", "release_name", "release_weekend",
           "releases_around", "releases_between", "set_release_date",
           "validate_release_entry"]

# season -> (production month, label-year offset from the calendar year it ships in)
SEASONS: dict[str, tuple[int, int]] = {"spring": (2, 0), "summer": (6, 0), "winter": (10, 1)}
PREVIEW_WEEKS_BEFORE = 4  # sandbox preview: "four to five weeks earlier"
FINAL_WAVE_DAYS = 7  # the last production instances follow one weekend later
JUSTON_RELEASE_AFTER = (14, 28)  # seed 002: "two to four weeks after"
RELEASE_DATES_KEY = "release_dates"
# How far around a period releases still matter (a preview before it, a gap after it).
_AROUND = timedelta(days=70)

_RELEASE_NAME = re.compile(r"^\s*(spring|summer|winter)\s*'?\s*(\d{2}|\d{4})\s*$", re.I)


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


def releases_around(start: date, end: date, known: Mapping[str, Any] | None
                    ) -> list[SalesforceRelease]:
    """The releases whose weekends or major-version gap can block a push in [start, end)."""
    return releases_between(start - _AROUND, end + _AROUND, known)


def validate_release_entry(name: str, production: Any, final: Any = None, preview: Any = None
                           ) -> tuple[str, dict[str, str]]:
    """Check entered release dates against the season; return (canonical name, entry)."""
    errors: dict[str, str] = {}
    season, label_year = parse_release_name(name)
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


def parse_release_file(text: str) -> dict[str, dict[str, str]]:
    """Known release dates from JSON or CSV text, every entry validated.

    JSON: {"Winter '27": {"production": "2026-10-09", "final": ..., "preview": ...}} or a
    list of {"release": ..., "production": ...}. CSV: a header row with release, production
    and optionally final, preview. Errors name the line or entry they belong to.
    """
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


# -- the entered dates in the store --------------------------------------------------------
def release_dates(store: Store) -> dict[str, Any]:
    """The entered release dates by canonical name ("Winter '27" -> {production, ...})."""
    return dict(store.get_setting(RELEASE_DATES_KEY) or {})


def set_release_date(store: Store, name: str, production: Any, final: Any = None,
                     preview: Any = None) -> str:
    canonical, entry = validate_release_entry(name, production, final, preview)
    with store.transaction():
        dates = release_dates(store)
        dates[canonical] = entry
        store.set_setting(RELEASE_DATES_KEY, dates)
    return canonical


def import_release_dates(store: Store, dates: Mapping[str, Mapping[str, str]]) -> int:
    """Merge validated release dates into the store in one write."""
    with store.transaction():
        current = release_dates(store)
        current.update({k: dict(v) for k, v in dates.items()})
        store.set_setting(RELEASE_DATES_KEY, current)
    return len(dates)


def clear_release_date(store: Store, name: str) -> bool:
    season, year = parse_release_name(name)
    canonical = release_name(season, year)
    with store.transaction():
        dates = release_dates(store)
        found = dates.pop(canonical, None) is not None
        store.set_setting(RELEASE_DATES_KEY, dates)
    return found
