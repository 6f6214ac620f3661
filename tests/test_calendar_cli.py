"""`juston-tui calendar`: agenda, --json, --ics, editing commands and their mistakes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import vobject

from juston_tui.cli import main
from juston_tui.model import Contact, PushRegistration
from juston_tui.store import Store

ORG = "00D5g000004Xyz1EAC"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def db(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> str:
    path = str(tmp_path / "s.json")
    assert main(["--db", path, "org", "add", ORG, "--name", "Acme [b]GmbH[/b]"]) == 0
    store = Store.open(path)
    store.update_org(ORG, push=PushRegistration("registered", registered_on="2026-01-01"))
    store.add_contact(Contact.create(full_name="Ann Admin", email="ann@acme.example",
                                     title="Admin", org_ids=[ORG]))
    store.close()
    capsys.readouterr()
    return path


def test_json_agenda_with_a_confirmed_push(db: str, capsys: pytest.CaptureFixture[str]):
    code, out, err = run(capsys, "--db", db, "calendar", "push", "add", "--date", "2027-01-23",
                         "--version", "2.81", "--before", "Stop invoice runs", "--after",
                         "Start invoice runs", "--announced-on", "2027-01-15")
    assert code == 0, err
    push_id = out.split()[1]
    code, out, _ = run(capsys, "--db", db, "calendar", "--json", "--from", "2026-11-22",
                       "--months", "4")
    data = json.loads(out)
    assert data["start"] == "2026-11-22" and data["end"] == "2027-03-22"
    assert data["next_push"] == {"id": push_id, "start_utc": "2027-01-23T00:00:00Z",
                                 "days": 62, "announcement_due": "2027-01-16",
                                 "announcement_days": 55}
    push = next(p for p in data["pushes"] if p["id"] == push_id)
    assert push["status"] == "confirmed" and push["start_local"].startswith("2027-01-23T01:00")
    assert [o["name"] for o in push["orgs"]] == ["Acme [b]GmbH[/b]"]
    assert push["contacts"] == [{"full_name": "Ann Admin", "email": "ann@acme.example",
                                 "title": "Admin"}]
    assert [a["text"] for a in push["actions"]] == ["Stop invoice runs", "Start invoice runs"]
    assert not any(p["status"] == "projected" and p["product"] == "billing"
                   and p["window"] == push["window"] for p in data["pushes"])
    assert {"sf_preview", "sf_release", "push", "announcement"} <= {
        e["kind"] for e in data["events"]}
    assert all(r["name"] for r in data["releases"])

    code, out, _ = run(capsys, "--db", db, "calendar", "push", "tick", push_id, "before-1")
    assert code == 0 and "done" in out
    code, out, _ = run(capsys, "--db", db, "calendar", "push", "edit", push_id, "--time",
                       "02:00")
    assert code == 0
    code, out, _ = run(capsys, "--db", db, "calendar", "--json", "--from", "2026-11-22")
    push = next(p for p in json.loads(out)["pushes"] if p["id"] == push_id)
    assert push["start_utc"] == "2027-01-23T01:00:00Z"
    assert push["actions"][0]["done"] is True  # the tick survived the edit

    code, out, _ = run(capsys, "--db", db, "calendar", "--from", "2026-11-22")
    assert code == 0
    assert "Next push: Sat 2027-01-23 02:00 CET" in out and "in 62 days" in out
    assert "P  02:00 Push JustOn Billing & Invoice Management 2.81 (confirmed)" in out
    assert "1 org(s), 1 contact(s)" in out

    code, out, _ = run(capsys, "--db", db, "calendar", "push", "remove", push_id)
    assert code == 0
    code, out, _ = run(capsys, "--db", db, "calendar", "--json", "--from", "2026-11-22")
    assert all(p["id"] != push_id for p in json.loads(out)["pushes"])


def test_ics_export_is_parseable_and_stable(db: str, tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]):
    first, second = tmp_path / "a.ics", tmp_path / "b.ics"
    for target in (first, second):
        code, _, err = run(capsys, "--db", db, "calendar", "--ics", str(target), "--from",
                           "2026-11-22")
        assert code == 0 and "wrote" in err
    cals = [vobject.readOne(p.read_text()) for p in (first, second)]
    uids = [sorted(v.uid.value for v in c.vevent_list) for c in cals]
    assert uids[0] == uids[1] and len(uids[0]) > 5
    assert oct(first.stat().st_mode & 0o777) == "0o600"


def test_release_dates_and_settings(db: str, capsys: pytest.CaptureFixture[str]):
    code, out, _ = run(capsys, "--db", db, "calendar", "release", "set", "spring 27",
                       "--production", "2027-02-06")
    assert code == 0 and "Spring '27" in out
    code, out, _ = run(capsys, "--db", db, "calendar", "--json", "--from", "2026-11-22")
    spring = next(r for r in json.loads(out)["releases"] if r["name"] == "Spring '27")
    assert spring["projected"] is False and spring["production"] == "2027-02-06"
    code, out, _ = run(capsys, "--db", db, "calendar", "release", "clear", "Spring '27")
    assert code == 0
    code, out, _ = run(capsys, "--db", db, "calendar", "settings", "--cadence", "2",
                       "--timezone", "America/New_York", "--json")
    assert code == 0
    assert json.loads(out)["cadence_months"] == 2
    code, out, _ = run(capsys, "--db", db, "calendar", "--json", "--from", "2026-11-22")
    assert json.loads(out)["timezone"] == "America/New_York"


@pytest.mark.parametrize(("argv", "fragment"), [
    (["calendar", "push", "add", "--date", "2027-02-30", "--version", "2.81"], "date:"),
    (["calendar", "push", "add", "--date", "2027-03-28", "--time", "02:30", "--version",
      "2.81"], "does not exist"),
    (["calendar", "push", "add", "--date", "2027-03-20", "--version", "latest"], "version"),
    (["calendar", "push", "remove", "push-nope"], "no confirmed push"),
    (["calendar", "push", "add", "--date", "2027-03-20", "--version", "2.81", "--before",
      "caf\udce9"], "UTF-8"),
    (["calendar", "release", "set", "Autumn 27", "--production", "2026-10-10"], "release"),
    (["calendar", "release", "set", "Winter 27", "--production", "2027-10-10"], "October 2026"),
    (["calendar", "settings", "--timezone", "Mars/Base"], "time zone"),
    (["calendar", "refresh"], "no vendor packaging org"),
    (["--read-only", "calendar", "push", "remove", "x"], "--read-only"),
])
def test_mistakes_are_one_line(db: str, capsys: pytest.CaptureFixture[str], argv, fragment):
    code, _out, err = run(capsys, "--db", db, *argv)
    assert code == 2
    assert fragment.lower() in err.lower()
    assert "Traceback" not in err and err.count("\n") == 1


def test_months_out_of_range(db: str, capsys: pytest.CaptureFixture[str]):
    with pytest.raises(SystemExit):
        main(["--db", db, "calendar", "--months", "0"])


def test_release_import_json_and_csv(db: str, tmp_path: Path,
                                     capsys: pytest.CaptureFixture[str]):
    good = tmp_path / "releases.json"
    good.write_text(json.dumps({"Spring '27": {"production": "2027-02-06"},
                                "summer 27": {"production": "2027-06-05",
                                              "preview": "2027-05-08"}}))
    code, out, err = run(capsys, "--db", db, "calendar", "release", "import", str(good))
    assert code == 0, err
    assert "2 release(s)" in out and "Summer '27" in out
    csv_file = tmp_path / "releases.csv"
    csv_file.write_text("release,production,final\nWinter '28,2027-10-09,2027-10-16\n")
    assert run(capsys, "--db", db, "calendar", "release", "import", str(csv_file))[0] == 0
    code, out, _ = run(capsys, "--db", db, "calendar", "--json", "--from", "2026-11-22",
                       "--months", "12")
    known = {r["name"]: r for r in json.loads(out)["releases"] if not r["projected"]}
    assert set(known) == {"Spring '27", "Summer '27", "Winter '28"}
    assert known["Winter '28"]["final"] == "2027-10-16"
    bad = tmp_path / "bad.csv"
    bad.write_text("release,production\nSpring '27,2027-02-06\nSummer '27,2027-13-01\n")
    code, _, err = run(capsys, "--db", db, "calendar", "release", "import", str(bad))
    assert code == 2 and "entry 2" in err and "Traceback" not in err
    code, _, err = run(capsys, "--db", db, "calendar", "release", "import",
                       str(tmp_path / "missing.json"))
    assert code == 2 and "cannot read" in err
