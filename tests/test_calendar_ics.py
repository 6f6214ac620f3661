"""iCalendar export read back by an independent parser (vobject)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import vobject
from hypothesis import given, settings
from hypothesis import strategies as st

from juston_tui import schedule as s
from juston_tui.calendar_ics import export_ics
from juston_tui.model import Contact, Org, PushRegistration, ValidationError

PROD = "00D5g000004Xyz1EAC"
SETTINGS = s.ScheduleSettings()
START = date(2026, 11, 22)


def _view(push_docs=()) -> s.CalendarView:
    orgs = [Org.create(org_id=PROD, name="Acme \x1b[31mGmbH\x07", products=["billing"],
                       push=PushRegistration("registered", registered_on="2026-01-01"))]
    contacts = [Contact.create(full_name="Ann Admin", email="ann@acme.example", title="Admin",
                               org_ids=[PROD])]
    return s.build_view(settings=SETTINGS, start=START, months=6, push_docs=push_docs,
                        orgs=orgs, contacts=contacts)


def _parse(payload: bytes) -> list:
    cal = vobject.readOne(payload.decode("utf-8"))
    return list(cal.vevent_list)


def test_round_trip_matches_the_view():
    view = _view()
    vevents = _parse(export_ics(view, now=datetime(2026, 11, 22, 8, tzinfo=UTC)))
    assert len(vevents) == len(view.events)
    assert any(e.kind == "push" and "Billing" in e.title for e in view.events)
    by_uid = {v.uid.value: v for v in vevents}
    assert len(by_uid) == len(vevents)  # UIDs are unique
    for event in view.events:
        item = by_uid[f"{event.uid}@juston-tui"]
        assert item.summary.value == event.title
        assert item.dtstamp.value == datetime(2026, 11, 22, 8, tzinfo=UTC)
        start = item.dtstart.value
        if event.start_utc is not None:
            assert start == event.start_utc and start.utcoffset() == timedelta(0)
            assert item.dtend.value - start == timedelta(minutes=event.minutes)
        else:
            assert start == event.day and not isinstance(start, datetime)
            assert item.dtend.value == event.last_day + timedelta(days=1)
        assert item.status.value == ("TENTATIVE" if event.projected else "CONFIRMED")
        alarms = getattr(item, "valarm_list", [])
        if event.kind == "announcement":
            assert len(alarms) == 1
            assert alarms[0].trigger.value == -timedelta(days=1)
            assert alarms[0].action.value == "DISPLAY"
        else:
            assert alarms == []
        if event.kind == "push" and "Billing" in event.title:
            desc = item.description.value
            assert "Acme GmbH" in desc and PROD in desc  # escape sequences stripped
            assert "\x1b" not in desc


def test_uids_are_stable_and_confirming_updates_in_place():
    first = _parse(export_ics(_view(), now=datetime(2026, 11, 22, tzinfo=UTC)))
    second = _parse(export_ics(_view(), now=datetime(2026, 11, 23, tzinfo=UTC)))
    assert [v.uid.value for v in first] == [v.uid.value for v in second]
    projected = next(v for v in first if v.uid.value.startswith("push-billing-2027-01-15"))
    assert projected.status.value == "TENTATIVE"
    confirmed = s.parse_push({"date": "2027-01-23", "time": "02:00", "product": "billing",
                              "version": "2.81", "before": "Stop invoice runs"})
    third = _parse(export_ics(_view([confirmed.to_doc()])))
    assert {v.uid.value for v in third} == {v.uid.value for v in first}
    updated = next(v for v in third if v.uid.value == projected.uid.value)
    assert updated.status.value == "CONFIRMED"
    assert updated.dtstart.value == datetime(2027, 1, 23, 1, tzinfo=UTC)
    assert "Stop invoice runs" in updated.description.value


ZONES = ["Europe/Berlin", "America/New_York", "Australia/Sydney", "Asia/Kolkata", "UTC"]


@settings(max_examples=40, deadline=None)
@given(day=st.dates(min_value=date(2026, 12, 1), max_value=date(2027, 5, 1)),
       hour=st.integers(0, 23), zone=st.sampled_from(ZONES),
       note=st.text(max_size=40))
def test_any_confirmed_push_round_trips_in_utc(day, hour, zone, note):
    try:
        push = s.parse_push({"date": day.isoformat(), "time": f"{hour:02d}:00",
                             "timezone": zone, "product": "cash", "version": "1.15",
                             "before": note})
    except ValidationError:
        return  # a DST gap: the form refuses it, nothing to export
    view = s.build_view(settings=SETTINGS, start=START, months=6, push_docs=[push.to_doc()])
    items = {v.uid.value: v for v in _parse(export_ics(view))}
    plan = view.plan(push.id)
    assert plan is not None
    item = items[f"{plan.uid}@juston-tui"]
    assert item.dtstart.value == push.start_utc
    assert item.dtstart.value.utcoffset() == timedelta(0)
    alarm_owner = items[f"announcement-{plan.uid}@juston-tui"]
    assert len(alarm_owner.valarm_list) == 1
