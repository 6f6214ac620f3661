"""Unit tests of the push-calendar rules: year ends, leap years, time zones and DST."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest

from juston_tui import schedule as s
from juston_tui.demo import pushes as demo_pushes
from juston_tui.model import Contact, Org, PushRegistration, ValidationError
from juston_tui.store import ReadOnlyError, Store

BERLIN = "Europe/Berlin"
SETTINGS = s.ScheduleSettings()

# Valid 18-character org ids (checksums computed by the model).
PROD = "00D5g000004Xyz1EAC"
PROD2 = "00D000000000001EAA"
SANDBOX = "00D5g000006Sbx1EAC"


def _org(org_id: str, name: str, **kw) -> Org:
    return Org.create(org_id=org_id, name=name, **kw)


def _registered() -> PushRegistration:
    return PushRegistration("registered", registered_on="2026-01-01")


# -- dates -------------------------------------------------------------------------------------
@pytest.mark.parametrize(("day", "months", "expected"), [
    (date(2027, 1, 31), 1, date(2027, 2, 28)),
    (date(2028, 1, 31), 1, date(2028, 2, 29)),  # leap year
    (date(2026, 11, 15), 3, date(2027, 2, 15)),  # across the year end
    (date(2027, 2, 15), -3, date(2026, 11, 15)),
    (date(2026, 12, 31), 2, date(2027, 2, 28)),
    (date(2024, 2, 29), 12, date(2025, 2, 28)),
])
def test_add_months_clamps_and_crosses_years(day, months, expected):
    assert s.add_months(day, months) == expected


def test_local_slot_dst_gap_and_fold_in_berlin():
    # Clocks jump 02:00 -> 03:00 on 28 March 2027: 02:30 does not exist.
    assert s.local_slot(date(2027, 3, 28), time(2, 30), BERLIN) is None
    # Clocks go back 03:00 -> 02:00 on 25 October 2026: 02:30 means the first (summer) one.
    assert s.local_slot(date(2026, 10, 25), time(2, 30), BERLIN) == datetime(
        2026, 10, 25, 0, 30, tzinfo=UTC)
    # Saturday 01:00 is 00:00 UTC in winter and 23:00 UTC the day before in summer.
    assert s.local_slot(date(2027, 3, 27), time(1), BERLIN) == datetime(2027, 3, 27, 0, tzinfo=UTC)
    assert s.local_slot(date(2027, 4, 3), time(1), BERLIN) == datetime(2027, 4, 2, 23, tzinfo=UTC)


def test_local_slot_gap_in_other_zones():
    # Chile moves its clocks at midnight: Sunday 00:30 does not exist on 6 September 2026.
    assert s.local_slot(date(2026, 9, 6), time(0, 30), "America/Santiago") is None
    assert s.local_slot(date(2026, 9, 5), time(23, 30), "America/Santiago") is not None


# -- Salesforce releases -----------------------------------------------------------------------
def test_winter_ships_the_autumn_before_its_label_year():
    rel = s.release_for("winter", 2027)
    assert rel.name == "Winter '27"
    assert rel.projected
    assert rel.production == date(2026, 10, 10)  # second Saturday of October 2026
    assert rel.final == date(2026, 10, 17)
    assert rel.preview == date(2026, 9, 12)  # four weeks earlier
    assert 4 <= (rel.production - rel.preview).days / 7 <= 5


def test_spring_in_a_leap_year_and_summer():
    assert s.release_for("spring", 2028).production == date(2028, 2, 12)
    assert s.release_for("summer", 2027).production == date(2027, 6, 12)
    for rel in (s.release_for("spring", 2028), s.release_for("summer", 2027)):
        assert rel.production.weekday() == 5


def test_known_release_dates_beat_projection():
    known = {"Spring '27": {"production": "2027-02-06", "final": "2027-02-13"}}
    rel = s.release_for("spring", 2027, known)
    assert not rel.projected
    assert (rel.production, rel.final) == (date(2027, 2, 6), date(2027, 2, 13))
    assert rel.preview == date(2027, 1, 9)


@pytest.mark.parametrize("text", ["Winter '27", "winter 27", "WINTER 2027", "Winter'27"])
def test_parse_release_name(text):
    assert s.parse_release_name(text) == ("winter", 2027)


def test_release_entry_validation_names_fields():
    assert s.validate_release_entry("winter 27", "2026-10-09") == (
        "Winter '27", {"production": "2026-10-09"})
    with pytest.raises(ValidationError) as err:
        s.validate_release_entry("Winter '27", "2027-10-09", final="2027-09-01",
                                 preview="nope")
    assert set(err.value.errors) == {"production", "final", "preview"}
    assert "October 2026" in err.value.errors["production"]
    with pytest.raises(ValidationError) as err:
        s.validate_release_entry("Autumn 27", "2026-10-09")
    assert "release" in err.value.errors


def test_releases_between_spans_year_end():
    rels = s.releases_between(date(2026, 11, 1), date(2027, 3, 1))
    assert [r.name for r in rels] == ["Winter '27", "Spring '27"]
    assert rels[1].juston_window == (date(2027, 3, 6), date(2027, 3, 20))


# -- windows and blackouts ---------------------------------------------------------------------
def test_windows_quarterly_across_year_end():
    assert s.window_of(SETTINGS, date(2027, 1, 14)) == (date(2026, 10, 15), date(2027, 1, 15))
    assert s.window_of(SETTINGS, date(2027, 1, 15)) == (date(2027, 1, 15), date(2027, 4, 15))
    assert s.window_of(SETTINGS, date(2019, 12, 31)) == (date(2019, 10, 15), date(2020, 1, 15))
    wins = s.windows_between(SETTINGS, date(2026, 12, 1), date(2027, 8, 1))
    assert [w[0] for w in wins] == [date(2026, 10, 15), date(2027, 1, 15), date(2027, 4, 15),
                                    date(2027, 7, 15)]


def test_window_monthly_anchor_on_31st_clamps_in_leap_february():
    st = s.ScheduleSettings(cadence_months=1, anchor=date(2027, 1, 31))
    assert s.window_of(st, date(2028, 2, 29)) == (date(2028, 2, 29), date(2028, 3, 31))
    assert s.window_of(st, date(2028, 2, 28)) == (date(2028, 1, 31), date(2028, 2, 29))


def test_blackout_month_and_quarter_end_leap_year():
    # Saturday 26 Feb 2028 is allowed (February has 29 days); Friday 26 Feb 2027 is not.
    assert s.blackout_reason(date(2028, 2, 26), SETTINGS, [], major=False) is None
    assert "month" in s.blackout_reason(date(2027, 2, 26), SETTINGS, [], major=False)
    # 27 March 2027 is in the last 7 days of the quarter (but not of a plain month).
    assert "quarter" in s.blackout_reason(date(2027, 3, 27), SETTINGS, [])
    assert s.blackout_reason(date(2027, 4, 24), SETTINGS, []) is None
    assert "month" in s.blackout_reason(date(2027, 4, 28), SETTINGS, [])


def test_blackout_release_weekend_and_major_gap():
    rel = s.release_for("spring", 2027)  # preview 16 Jan, waves 13 and 20 Feb 2027
    assert "release weekend" in s.blackout_reason(date(2027, 1, 16), SETTINGS, [rel])
    assert "release weekend" in s.blackout_reason(date(2027, 2, 14), SETTINGS, [rel],
                                                  major=False)
    # Major versions wait three weeks after the final wave; a patch may go.
    assert "weeks after" in s.blackout_reason(date(2027, 3, 6), SETTINGS, [rel])
    assert s.blackout_reason(date(2027, 3, 6), SETTINGS, [rel], major=False) is None
    assert s.blackout_reason(date(2027, 3, 13), SETTINGS, [rel]) is None
    freeze = s.ScheduleSettings(blackouts=((date(2026, 12, 19), date(2027, 1, 6), "freeze"),))
    assert s.blackout_reason(date(2027, 1, 2), freeze, []) == "freeze"


def test_projected_pushes_skip_blackouts_and_stagger_products():
    window = (date(2027, 1, 15), date(2027, 4, 15))
    rels = s.releases_between(*window)
    pushes = s.projected_pushes(SETTINGS, window, rels)
    # 16 Jan is the Spring '27 preview weekend, so billing goes on 23 Jan; 30 Jan is in the
    # last three days of January, so cash follows on the next allowed Saturday, 6 Feb.
    assert [(p.product, p.local_day) for p in pushes] == [
        ("billing", date(2027, 1, 23)), ("cash", date(2027, 2, 6))]
    assert all(p.local_start.time() == time(1) and p.local_day.weekday() == 5 for p in pushes)
    assert pushes[0].start_utc == datetime(2027, 1, 23, 0, tzinfo=UTC)


def test_projected_push_on_a_dst_gap_saturday_is_skipped():
    # Gaza moved its clocks at Saturday 02:00 on 29 April 2023.
    st = s.ScheduleSettings(timezone="Asia/Gaza", start_time=time(2), anchor=date(2023, 4, 29),
                            products=("billing",), month_end_days=0, quarter_end_days=0)
    [push] = s.projected_pushes(st, (date(2023, 4, 29), date(2023, 7, 29)), [])
    assert push.local_day == date(2023, 5, 6)
    assert push.local_start.time() == time(2)


def test_projected_pushes_across_berlin_dst_keep_local_time():
    st = s.ScheduleSettings(anchor=date(2027, 3, 20), cadence_months=1, products=("billing",),
                            month_end_days=0, quarter_end_days=0, major_gap_days=0)
    [before] = s.projected_pushes(st, (date(2027, 3, 20), date(2027, 3, 27)), [])
    [after] = s.projected_pushes(st, (date(2027, 4, 3), date(2027, 4, 10)), [])
    assert before.start_utc.hour == 0 and after.start_utc.hour == 23
    assert before.local_start.hour == after.local_start.hour == 1


# -- confirmed pushes from an announcement -----------------------------------------------------
FORM = {"date": "2027-02-06", "time": "01:00", "timezone": BERLIN, "product": "billing",
        "version": "2.81", "before": "- Deactivate invoice runs\n\n* Tell the users",
        "after": "Re-activate invoice runs", "announced_on": "2027-01-30"}


def test_parse_push_builds_a_confirmed_push():
    push = s.parse_push(FORM)
    assert push.status == "confirmed" and push.kind == "major"
    assert push.start_utc == datetime(2027, 2, 6, 0, tzinfo=UTC)
    assert [(a.phase, a.text) for a in push.actions] == [
        ("before", "Deactivate invoice runs"), ("before", "Tell the users"),
        ("after", "Re-activate invoice runs")]
    assert push.announcement_due == date(2027, 1, 30)
    assert s.Push.from_doc(push.to_doc()) == push
    assert s.push_form_values(push)["before"] == "Deactivate invoice runs\nTell the users"
    assert s.parse_push({**FORM, "version": "2.81.3"}).kind == "patch"


def test_parse_push_reports_every_field_and_dst_gap():
    with pytest.raises(ValidationError) as err:
        s.parse_push({"date": "2027-02-30", "time": "25:00", "timezone": "Mars/Base",
                      "product": "crm", "version": "v2"})
    assert set(err.value.errors) == {"date", "time", "timezone", "product", "version"}
    with pytest.raises(ValidationError) as err:
        s.parse_push({**FORM, "date": "2027-03-28", "time": "02:30"})
    assert "does not exist" in err.value.errors["time"]
    with pytest.raises(ValidationError) as err:
        s.parse_push({**FORM, "announced_on": "2027-02-07"})
    assert set(err.value.errors) == {"announced_on"}


def test_editing_keeps_id_and_ticks_of_unchanged_actions():
    first = s.parse_push(FORM)
    ticked = s.Push(**{**first.__dict__, "actions": tuple(
        s.Action(a.id, a.phase, a.text, done=True) for a in first.actions)})
    edited = s.parse_push({**FORM, "before": "Deactivate invoice runs\nNew step"},
                          previous=ticked)
    assert edited.id == first.id
    assert [(a.text, a.done) for a in edited.actions] == [
        ("Deactivate invoice runs", True), ("New step", False),
        ("Re-activate invoice runs", True)]


# -- who is included ---------------------------------------------------------------------------
def _orgs() -> list[Org]:
    return [
        _org(PROD, "Acme GmbH", push=_registered(), products=["billing", "cash"]),
        _org(PROD2, "Beta AG", push=PushRegistration("requested", "2026-01-01", "T-1")),
        _org(SANDBOX, "Acme UAT", kind="sandbox", parent_org_id=PROD, push=_registered()),
        _org("00D5g000007Ven1EAC", "Vendor", push=_registered(), vendor=True),
    ]


def test_included_orgs_follow_seed_000():
    push = s.parse_push(FORM)
    assert [o.name for o in s.included_orgs(push, _orgs())] == ["Acme GmbH"]
    with_ticket = [*_orgs()[:2], _orgs()[2].with_changes(sandbox_push_ticket="T-42")]
    assert [o.name for o in s.included_orgs(push, with_ticket)] == ["Acme GmbH", "Acme UAT"]
    beta_cash = [_org(PROD2, "Beta AG", push=_registered())]  # no products recorded: Billing
    cash = s.parse_push({**FORM, "product": "cash"})
    assert s.included_orgs(cash, beta_cash) == []
    assert [o.name for o in s.included_orgs(cash, _orgs())] == ["Acme GmbH"]


def test_contacts_to_notify_are_eligible_and_linked():
    people = [
        Contact.create(full_name="Ann Admin", email="ann@acme.example", title="Admin",
                       org_ids=[PROD]),
        Contact.create(full_name="Bob Quiet", email="bob@acme.example", title="CFO",
                       org_ids=[PROD], eligible=False),
        Contact.create(full_name="Cy Other", email="cy@beta.example", title="Admin",
                       org_ids=[PROD2]),
    ]
    sandbox = _orgs()[2].with_changes(sandbox_push_ticket="T-42")
    assert [c.full_name for c in s.contacts_to_notify([sandbox], people)] == ["Ann Admin"]
    assert s.contacts_to_notify([], people) == []


# -- the assembled view ------------------------------------------------------------------------
def test_confirmed_beats_projected_in_its_window_and_keeps_the_uid():
    start = date(2026, 12, 20)  # spans the year end
    before = s.build_view(settings=SETTINGS, start=start, months=3, orgs=_orgs())
    projected = [p for p in before.plans if p.push.product == "billing"
                 and p.window[0] == date(2027, 1, 15)]
    assert len(projected) == 1 and projected[0].push.projected
    confirmed = s.parse_push(FORM)
    after = s.build_view(settings=SETTINGS, start=start, months=3, orgs=_orgs(),
                         push_docs=[confirmed.to_doc()])
    billing = [p for p in after.plans if p.push.product == "billing"
               and p.window[0] == date(2027, 1, 15)]
    assert [p.push.id for p in billing] == [confirmed.id]
    assert billing[0].uid == projected[0].uid  # re-exporting updates the same event
    assert any(p.push.product == "cash" and p.push.projected for p in after.plans)
    assert [o.name for o in billing[0].orgs] == ["Acme GmbH"]


def test_view_events_have_letters_and_announcements():
    view = s.build_view(settings=SETTINGS, start=date(2026, 12, 20), months=3,
                        push_docs=[s.parse_push(FORM).to_doc()])
    kinds = {e.kind for e in view.events}
    assert {"sf_preview", "sf_release", "juston_release", "push", "announcement"} <= kinds
    push_event = next(e for e in view.events if e.kind == "push" and not e.projected)
    ann = next(e for e in view.events if e.kind == "announcement" and not e.projected)
    assert (push_event.letter, ann.letter) == ("P", "A")
    assert ann.day == push_event.day - timedelta(days=7)
    assert all(e.day < view.end and e.last_day >= view.start for e in view.events)
    assert [e.day for e in view.events] == sorted(e.day for e in view.events)


def test_confirmed_push_in_blackout_is_warned():
    rule_breaker = s.parse_push({**FORM, "date": "2027-02-13"})  # Spring '27 release weekend
    view = s.build_view(settings=SETTINGS, start=date(2027, 1, 1), months=3,
                        push_docs=[rule_breaker.to_doc()])
    plan = view.plan(rule_breaker.id)
    assert plan is not None and any("release weekend" in w for w in plan.warnings)


def test_settings_validation_and_store_round_trip(tmp_path):
    with pytest.raises(ValidationError) as err:
        s.ScheduleSettings.from_mapping({"cadence_months": "0", "timezone": "Nowhere/X",
                                         "weekday": "caturday", "products": ["crm"]})
    assert set(err.value.errors) == {"cadence_months", "timezone", "weekday", "products"}
    store = Store.open(tmp_path / "s.json")
    saved = s.save_settings(store, {"cadence_months": 4, "timezone": "America/New_York",
                                    "weekday": "sunday", "start_time": "02:00"})
    assert s.settings_from_store(store) == saved
    assert saved.weekday == 6 and saved.cadence_months == 4
    store.set_setting("push_cadence_months", "garbage")
    assert s.settings_from_store(store).cadence_months == 3  # bad stored value -> default


def test_store_helpers_tick_delete_and_release_dates(tmp_path):
    store = Store.open(tmp_path / "s.json")
    orgs = _orgs()
    demo_pushes.seed(store, orgs, today=date(2026, 11, 22))
    view = s.load_view(store, today=date(2026, 11, 22), months=6)
    confirmed = [p for p in view.plans if not p.push.projected]
    assert len(confirmed) == 1 and confirmed[0].push.actions
    assert any(p.push.projected for p in view.plans)
    push = confirmed[0].push
    assert push.local_day > date(2026, 12, 1)
    assert s.toggle_action(store, push.id, push.actions[0].id) is True
    assert s.toggle_action(store, push.id, push.actions[0].id) is False
    projected = next(p.push for p in view.plans if p.push.projected)
    assert s.toggle_action(store, projected.id, "announce") is True
    again = s.load_view(store, today=date(2026, 11, 22), months=6).plan(projected.id)
    assert again is not None and [a.done for a in again.push.actions] == [False, True, False]
    assert s.delete_push(store, projected.id) is None  # projected pushes cannot be deleted
    doc = s.delete_push(store, push.id)
    assert doc is not None and store.get_doc("pushes", push.id) is None
    assert s.set_release_date(store, "spring 27", "2027-02-06") == "Spring '27"
    rel = next(r for r in s.load_view(store, today=date(2026, 11, 22)).releases
               if r.name == "Spring '27")
    assert not rel.projected and rel.production == date(2027, 2, 6)
    assert s.clear_release_date(store, "Spring '27")


def test_packaging_org_push_beats_projected_and_attaches_to_confirmed():
    orgs = _orgs()
    vendor = {"requests": [
        {"id": "0DV000000000001", "product": "billing", "version": "2.81",
         "scheduled_start": "2027-01-23T00:00:00.000+0000", "status": "Pending",
         "jobs": [{"id": "0DX1", "org_id": PROD, "status": "Pending", "errors": []},
                  {"id": "0DX2", "org_id": "00D000000000009EAA", "status": "Pending",
                   "errors": []}]},
        {"id": "0DV000000000002", "product": "cash", "version": "1.15",
         "scheduled_start": "2027-02-06T00:00:00Z", "status": "Canceled", "jobs": []},
    ]}
    view = s.build_view(settings=SETTINGS, start=date(2026, 12, 20), months=3, orgs=orgs,
                        vendor=vendor)
    billing = [p for p in view.plans if p.push.product == "billing"
               and p.window[0] == date(2027, 1, 15)]
    assert [p.push.status for p in billing] == ["scheduled"]
    assert [o.name for o in billing[0].orgs] == ["Acme GmbH"]
    assert billing[0].unknown_org_ids == ("00D000000000009EAA",)
    assert billing[0].jobs_by_org()[PROD]["status"] == "Pending"
    assert any(e.kind == "vendor_push" and e.letter == "V" for e in view.events)
    # A canceled request does not replace the projected cash push.
    assert any(p.push.product == "cash" and p.push.projected for p in view.plans)
    confirmed = s.parse_push(FORM | {"date": "2027-01-23", "announced_on": ""})
    view = s.build_view(settings=SETTINGS, start=date(2026, 12, 20), months=3, orgs=orgs,
                        vendor=vendor, push_docs=[confirmed.to_doc()])
    billing = [p for p in view.plans if p.push.product == "billing"
               and p.window[0] == date(2027, 1, 15)]
    assert [p.push.status for p in billing] == ["confirmed"]
    assert billing[0].requests[0]["id"] == "0DV000000000001"


def test_an_absurd_time_zone_is_a_field_error_not_a_crash() -> None:
    """ZoneInfo raises OSError ('File name too long') for very long names; found by fuzzing."""
    for name in ("x" * 5000, "../../etc/passwd", "Europe/Nowhere"):
        with pytest.raises(ValidationError) as info:
            s.parse_zone(name)
        assert "timezone" in info.value.errors


@pytest.mark.parametrize(("days", "words"), [
    (0, "today"), (1, "tomorrow"), (-1, "yesterday"), (2, "in 2 days"), (-3, "3 days ago"),
    (400, "in 400 days")])
def test_countdown_words(days, words):
    assert s.countdown(days) == words


def test_delete_push_checks_and_deletes_in_one_transaction(tmp_path):
    store = Store.open(tmp_path / "s.json")
    demo_pushes.seed(store, _orgs(), today=date(2026, 11, 22))
    push_id = next(d["id"] for d in store.all_docs("pushes") if d.get("status") == "confirmed")
    depths = []
    for name in ("get_doc", "delete_doc"):
        original = getattr(store, name)

        def spy(*args, _name=name, _original=original):
            depths.append((_name, store._depth))
            return _original(*args)

        setattr(store, name, spy)
    assert s.delete_push(store, push_id) is not None
    assert depths == [("get_doc", 1), ("delete_doc", 1)]  # both under the same lock
    read_only = Store.open(store.path, read_only=True)
    with pytest.raises(ReadOnlyError):
        s.delete_push(read_only, push_id)
