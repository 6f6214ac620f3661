"""Push plans after `push plan`: announcements in each org's own time zone (the
Organization's TimeZoneSidKey its latest check read), and waves edited org by org
(`push wave PLAN --move ORG --to N`, `--exclude ORG --reason R`, `--include ORG`), only while
the plan is not scheduled."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from test_push_cli import NO_SANDBOX, World, make_plan, messages_in, run, saved
from test_push_cli import w as push_world

from juston_tui.model import Snapshot
from juston_tui.push_ops.announce import org_zone
from juston_tui.salesforce.probe import probe_org


@pytest.fixture
def w(tmp_path: Path) -> Iterator[World]:
    """The world of the push CLI tests (simulator, registered orgs, contacts, checks)."""
    yield from push_world.__wrapped__(tmp_path)


def _save(w: World, snapshot: Snapshot) -> None:
    store = w.store()
    try:
        store.save_snapshot(snapshot)
    finally:
        store.close()


# -- 1. the org's own time zone ------------------------------------------------------------------
def test_announcements_give_the_start_in_each_orgs_own_time_zone(w: World,
                                                                 tmp_path: Path) -> None:
    alpen, zuerich = w.ids["alpen"], w.ids["zuerich"]
    w.sim.org(alpen).extra["timezone"] = "America/New_York"  # its Organization.TimeZoneSidKey
    store = w.store()
    try:
        org = store.find_org(alpen)
        assert org is not None
        probed = probe_org(org, w.creds)  # the check reads it from the Organization record
        assert probed.facts["organization"]["timezone"] == "America/New_York"
        store.save_snapshot(probed)
        assert org_zone(store, alpen) is not None
        assert org_zone(store, zuerich) is None  # its check read no time zone
    finally:
        store.close()
    plan = make_plan(w, 10, "--pilot-share", "0", *NO_SANDBOX,
                     "--at", "2026-12-06T00:00:00Z")
    assert plan["waves"][0]["start_utc"] == "2026-12-06T00:00:00Z"
    out = tmp_path / "mail"
    code, _text, err = run(w, "push", "announce", plan["id"], "--out", str(out))
    assert code == 0, err
    messages = messages_in(out)  # parsed back by the email package
    anna = next(m for m in messages if "anna" in str(m["To"])).get_content()
    bert = next(m for m in messages if "bert" in str(m["To"])).get_content()
    line = ("Your org (Alpenblick Versicherung AG, time zone America/New_York): "
            "Sat 5 Dec 2026 19:00")
    assert line in anna and line in bert
    assert "Zürcher Treuhand AG, time zone" not in anna  # unknown: nothing said, no guess
    assert "2026-12-06 00:00 UTC" in anna and "Europe/Berlin" in anna  # still there


@pytest.mark.parametrize("zone", ["Mars/Olympus_Mons", "../../etc/passwd", "", "x" * 300,
                                  "Europe/Nowhere City"])
def test_an_unknown_or_invalid_zone_id_is_ignored(w: World, tmp_path: Path, zone: str) -> None:
    alpen = w.ids["alpen"]
    _save(w, Snapshot(alpen, "2026-11-30T10:00:00Z", (),
                      facts={"organization": {"org_id": alpen, "timezone": zone}}))
    store = w.store()
    try:
        assert org_zone(store, alpen) is None
    finally:
        store.close()
    plan = make_plan(w, 10, "--pilot-share", "0", *NO_SANDBOX)
    code, _text, err = run(w, "push", "announce", plan["id"], "--out", str(tmp_path / "m"))
    assert code == 0, err
    for message in messages_in(tmp_path / "m"):
        assert "Your org (" not in message.get_content()


def test_the_zone_of_a_valid_id_is_used_whatever_the_calendar_zone(w: World,
                                                                  tmp_path: Path) -> None:
    alpen = w.ids["alpen"]
    _save(w, Snapshot(alpen, "2026-11-30T10:00:00Z", (),
                      facts={"organization": {"org_id": alpen, "timezone": "Asia/Tokyo"}}))
    plan = make_plan(w, 10, "--pilot-share", "0", *NO_SANDBOX)
    start = datetime.fromisoformat(plan["waves"][0]["start_utc"].replace("Z", "+00:00"))
    assert run(w, "push", "announce", plan["id"], "--out", str(tmp_path / "m"))[0] == 0
    tokyo = start.astimezone(ZoneInfo("Asia/Tokyo"))
    bert = next(m for m in messages_in(tmp_path / "m") if "bert" in str(m["To"]))
    assert (f"Your org (Alpenblick Versicherung AG, time zone Asia/Tokyo): {tokyo:%a} "
            f"{tokyo.day} {tokyo:%b %Y %H:%M}") in bert.get_content()
    assert saved(w, plan["id"]).wave(1).announced_at is not None
