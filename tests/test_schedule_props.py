"""Property tests: whatever the settings, projected pushes obey every rule."""

from __future__ import annotations

from datetime import UTC, date, time, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from juston_tui import schedule as s

# Zones with DST at unusual hours (Gaza on Saturdays, Chile at midnight, Lord Howe by 30 min).
ZONES = ["Europe/Berlin", "America/New_York", "Australia/Sydney", "Pacific/Auckland",
         "America/Santiago", "Asia/Gaza", "Australia/Lord_Howe", "Asia/Kolkata", "UTC",
         "America/Sao_Paulo", "Europe/London", "Pacific/Chatham"]

days = st.dates(min_value=date(2019, 1, 1), max_value=date(2036, 12, 31))

schedule_settings = st.builds(
    s.ScheduleSettings,
    cadence_months=st.integers(1, 6),
    anchor=days,
    weekday=st.integers(0, 6),
    start_time=st.builds(time, st.integers(0, 23), st.sampled_from([0, 15, 30, 45])),
    timezone=st.sampled_from(ZONES),
    month_end_days=st.integers(0, 5),
    quarter_end_days=st.integers(0, 10),
    major_gap_days=st.integers(0, 35),
    products=st.sampled_from([("billing",), ("billing", "cash"), ("cash", "billing")]),
)

FAST = settings(max_examples=120, deadline=None,
                suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(cfg=schedule_settings, start=days, months=st.integers(1, 14))
def test_every_projected_push_obeys_the_rules(cfg, start, months):
    view = s.build_view(settings=cfg, start=start, months=months)
    releases = s.releases_between(start - timedelta(days=70),
                                  view.end + timedelta(days=70))
    seen = set()
    for plan in view.plans:
        push = plan.push
        assert push.projected
        local = push.local_start
        assert push.start_utc.tzinfo is UTC
        assert local.weekday() == cfg.weekday
        assert (local.hour, local.minute) == (cfg.start_time.hour, cfg.start_time.minute)
        assert s.blackout_reason(local.date(), cfg, releases) is None
        assert push.announcement_due == local.date() - timedelta(days=7)
        assert plan.window[0] <= local.date() < plan.window[1]
        assert plan.window == s.window_of(cfg, local.date())
        assert start <= local.date() < view.end
        key = (plan.window[0], push.product)
        assert key not in seen  # one push per product and window
        seen.add(key)
    starts = [p.push.start_utc for p in view.plans]
    assert starts == sorted(starts)


@FAST
@given(cfg=schedule_settings, day=days, offset=st.integers(0, 90),
       hour=st.integers(0, 23))
def test_confirmed_push_replaces_projected_of_its_window(cfg, day, offset, hour):
    start = day
    push_day = day + timedelta(days=offset)
    slot = s.local_slot(push_day, time(hour), cfg.timezone)
    if slot is None:
        return
    confirmed = s.Push("push-x", "confirmed", "billing", slot, cfg.timezone, version="2.81")
    view = s.build_view(settings=cfg, start=start, months=4, push_docs=[confirmed.to_doc()])
    window = s.window_of(cfg, push_day)
    billing = [p for p in view.plans if p.window == window and p.push.product == "billing"]
    assert all(not p.push.projected for p in billing)
    uids = [e.uid for e in view.events]
    assert len(uids) == len(set(uids))


@given(day=days, months=st.integers(-60, 60))
def test_add_months_round_trip_and_clamp(day, months):
    moved = s.add_months(day, months)
    assert (moved.year * 12 + moved.month) - (day.year * 12 + day.month) == months
    assert moved.day <= day.day
    if moved.day < day.day:  # clamped: it is the last day of its month
        assert (moved + timedelta(days=1)).month != moved.month


@given(cfg=schedule_settings, day=days)
def test_windows_tile_the_calendar(cfg, day):
    first, end = s.window_of(cfg, day)
    assert first <= day < end
    assert s.window_of(cfg, end)[0] == end
    assert s.window_of(cfg, first - timedelta(days=1))[1] == first


@given(day=days, at=st.builds(time, st.integers(0, 23), st.integers(0, 59)),
       zone=st.sampled_from(ZONES))
def test_local_slot_round_trips_or_is_a_gap(day, at, zone):
    slot = s.local_slot(day, at, zone)
    if slot is None:
        return
    back = slot.astimezone(s.zone_named(zone))
    assert (back.date(), back.time()) == (day, at)
    assert slot.tzinfo is UTC


@given(season=st.sampled_from(list(s.SEASONS)), year=st.integers(2000, 2099))
def test_projected_releases_are_saturdays_in_their_month(season, year):
    rel = s.release_for(season, year)
    month, offset = s.SEASONS[season]
    assert (rel.production.year, rel.production.month) == (year - offset, month)
    assert rel.production.weekday() == rel.preview.weekday() == rel.final.weekday() == 5
    assert 28 <= (rel.production - rel.preview).days <= 35
    first, last = rel.juston_window
    assert (first - rel.final).days == 14 and (last - rel.final).days == 28
    assert s.parse_release_name(rel.name) == (season, year)
