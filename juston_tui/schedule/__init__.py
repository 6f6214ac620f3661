"""Push-upgrade calendar rules (seeds 000 and 002) and the owner of the `pushes` table.

The rules are pure functions over dates and plain data: no Textual, no I/O, so they are easy to
test across year ends, leap years and daylight-saving changes. Only `store` (the `pushes`
table), the settings and the release dates (store settings) touch a `Store`.

Rules, in the words of the seeds and of Salesforce's push-upgrade best practices:
- Salesforce ships three major releases a year (releases.py): Spring (February), Summer (June)
  and Winter (October; "Winter '27" ships in autumn 2026). Sandbox-preview instances get it
  four to five weeks earlier. Known dates come from the store (setting `release_dates`);
  otherwise they are *projected*: the first production wave on the second Saturday of the
  month, the final wave one week later, the sandbox preview four weeks before the first wave.
- JustOn ships a feature release two to four weeks after each Salesforce production release.
- JustOn pushes upgrades quarterly (cadence and anchor are settings, settings.py); the
  announcement e-mail is due seven days before each push. Pushes reach registered production
  orgs, sandboxes only on request (`Org.push_eligible`).
- A projected push (projection.py) starts off-peak (default Saturday 01:00 in Europe/Berlin,
  stored in UTC), never on a Salesforce release weekend, never in the last days of a month (3)
  or quarter (7), never within three weeks after a Salesforce production release (pushes carry
  major versions), and never at a local time that does not exist (a daylight-saving gap skips
  that Saturday).
- A push entered from an announcement e-mail is *confirmed* (pushes.py) and replaces the
  projected push of the same product in the same cadence window (view.py).

Modules: dates (dates, times, zones), settings, releases (+ the entered release dates),
pushes (the Push/Action model and the form's parser), projection (windows, blackouts, slots,
who is included and notified), view (PushPlan, Event, CalendarView, build_view), wording
(countdown), store (the `pushes` table). Demo pushes live in juston_tui/demo/pushes.py.
This facade keeps every public name importable as `juston_tui.schedule.<name>`.
"""

from __future__ import annotations

from juston_tui.schedule.dates import (
    add_months,
    days_in_month,
    local_slot,
    nth_weekday,
    parse_date,
    parse_time,
    parse_zone,
    zone_named,
)
from juston_tui.schedule.projection import (
    blackout_reason,
    contacts_to_notify,
    included_orgs,
    org_runs,
    projected_id,
    projected_pushes,
    valid_slots,
    window_of,
    windows_between,
)
from juston_tui.schedule.pushes import (
    ACTION_PHASES,
    ANNOUNCEMENT_DAYS,
    OVERLAY_PREFIXES,
    PROJECTED_ACTIONS,
    PROJECTED_PREFIX,
    PUSH_KINDS,
    VENDOR_PREFIX,
    Action,
    Push,
    parse_push,
    push_form_values,
)
from juston_tui.schedule.releases import (
    FINAL_WAVE_DAYS,
    JUSTON_RELEASE_AFTER,
    PREVIEW_WEEKS_BEFORE,
    RELEASE_DATES_KEY,
    SEASONS,
    SalesforceRelease,
    clear_release_date,
    import_release_dates,
    parse_release_file,
    parse_release_name,
    release_dates,
    release_for,
    release_name,
    release_weekend,
    releases_around,
    releases_between,
    set_release_date,
    validate_release_entry,
)
from juston_tui.schedule.settings import (
    PRODUCT_LABELS,
    PRODUCTS,
    SETTING_KEYS,
    ScheduleSettings,
    save_settings,
    settings_from_store,
)
from juston_tui.schedule.store import (
    VENDOR_CACHE_KEY,
    confirmed_push,
    delete_push,
    load_view,
    restore_push,
    save_push,
    toggle_action,
)
from juston_tui.schedule.view import (
    EVENT_KINDS,
    LIVE_REQUEST_STATES,
    CalendarView,
    Event,
    PushPlan,
    build_view,
    events,
)
from juston_tui.schedule.wording import countdown

__all__ = [
    "ACTION_PHASES",
    "ANNOUNCEMENT_DAYS",
    "EVENT_KINDS",
    "FINAL_WAVE_DAYS",
    "JUSTON_RELEASE_AFTER",
    "LIVE_REQUEST_STATES",
    "OVERLAY_PREFIXES",
    "PREVIEW_WEEKS_BEFORE",
    "PRODUCTS",
    "PRODUCT_LABELS",
    "PROJECTED_ACTIONS",
    "PROJECTED_PREFIX",
    "PUSH_KINDS",
    "RELEASE_DATES_KEY",
    "SEASONS",
    "SETTING_KEYS",
    "VENDOR_CACHE_KEY",
    "VENDOR_PREFIX",
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
    "confirmed_push",
    "contacts_to_notify",
    "countdown",
    "days_in_month",
    "delete_push",
    "events",
    "import_release_dates",
    "included_orgs",
    "load_view",
    "local_slot",
    "nth_weekday",
    "org_runs",
    "parse_date",
    "parse_push",
    "parse_release_file",
    "parse_release_name",
    "parse_time",
    "parse_zone",
    "projected_id",
    "projected_pushes",
    "push_form_values",
    "release_dates",
    "release_for",
    "release_name",
    "release_weekend",
    "releases_around",
    "releases_between",
    "restore_push",
    "save_push",
    "save_settings",
    "set_release_date",
    "settings_from_store",
    "toggle_action",
    "valid_slots",
    "validate_release_entry",
    "window_of",
    "windows_between",
    "zone_named",
]
