"""Terminal escapes and bidi controls from people and servers (issue 15, item 3).

Control characters are cleaned where text enters (CLI arguments, imports, Salesforce responses
incl. vendor sync, the store) and again where it leaves (every widget incl. the org form's
inputs, every export). Bidi embedding/override/isolate controls are shown as visible marks on
screen and never reorder a line; stored and exported data keeps them.
"""

from __future__ import annotations

import dataclasses
import itertools
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from store_files import stored_tables

from juston_tui.cli import main
from juston_tui.credentials import CredentialStore, open_credentials
from juston_tui.demo import register_simulator_orgs
from juston_tui.model import Contact, Org
from juston_tui.simulator import Simulator, make_org
from juston_tui.store import Store
from juston_tui.text import clean, strip_controls

ORG15 = "00D5g000004Xyz1"
ORG = "00D5g000004Xyz1EAC"
# OSC 52 writes the clipboard, OSC 0 retitles the terminal, CSI 2J blanks the screen, BEL rings.
EVIL = "Evil\x1b]52;c;ZXZpbA==\x07\x1b]0;pwned\x07\x1b[2J AG\x07\x9b"
ACME = "Acme\x1b]0;pwned\x07\x1b[2J AG\x07"  # shown and exported as "Acme AG"
BIDI = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_index = itertools.count(800)


def strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings(item)


def assert_clean_file(path: Path, *, allow: str = "\t\n") -> None:
    text = path.read_bytes().decode("utf-8")
    bad = {ch for ch in CONTROL.findall(text) if ch not in allow}
    assert not bad, f"{path.name} holds control characters {sorted(bad)!r}"
    if path.suffix == ".json":
        assert not re.search(r"\\u00(?:0[0-8bcef]|1[0-9a-f]|7f|[89][0-9a-f])", text,
                             re.IGNORECASE), f"{path.name} holds escaped control characters"


def legacy_store(path: Path, name: str) -> None:
    """A store written by an older juston-tui, which stored whatever it was given."""
    store = Store.open(path)
    store.add_org(Org.create(org_id=ORG, name="placeholder", tags=["eu"], notes="n"))
    store.add_contact(Contact.create(id="c1", full_name="Anna Muster", email="anna@x.de",
                                     title="CFO", org_ids=[ORG]))
    data = stored_tables(path)
    next(iter(data["orgs"].values()))["name"] = name
    next(iter(data["contacts"].values()))["title"] = "CFO" + EVIL
    path.write_bytes(orjson.dumps(data))


# -- the two helpers ----------------------------------------------------------------------------

def test_strip_controls_keeps_text_and_lines_where_allowed() -> None:
    assert strip_controls(EVIL) == "Evil AG"
    assert strip_controls("a\tb\r\nc\rd") == "a b c d"
    assert strip_controls("a\tb\r\nc\x1b[31m\rd", multiline=True) == "a\tb\nc\nd"
    assert strip_controls("abc" + BIDI) == "abc" + BIDI  # data, kept


def test_clean_shows_every_bidi_control_visibly() -> None:
    shown = clean("user" + BIDI + "fdp.exe")
    assert not any(ch in shown for ch in BIDI)
    assert shown == ("user<U+202A><U+202B><U+202C><U+202D><U+202E><U+2066><U+2067><U+2068>"
                     "<U+2069>fdp.exe")
    assert clean("a\u202eb\nc", single_line=False) == "a<U+202E>b\nc"


# -- where text enters ---------------------------------------------------------------------------

def test_the_model_cleans_every_field_it_is_given() -> None:
    org = Org.create(org_id=ORG15, name=EVIL, notes="line 1\nline 2\x1b[2J\x07", tags=["eu\x07"],
                     username="admin\x1b[31m@acme.de", sandbox_push_ticket="", kind="production")
    assert (org.name, org.notes, org.tags, org.username) == (
        "Evil AG", "line 1\nline 2", ("eu",), "admin@acme.de")
    contact = Contact.create(full_name=EVIL, email="eve@x.de", title="CFO\x1b]0;x\x07",
                             role="R\x9b", notes="a\r\nb\x1b[2J")
    assert (contact.full_name, contact.title, contact.role, contact.notes) == (
        "Evil AG", "CFO", "R", "a\nb")


def test_org_add_name_from_the_command_line_is_stored_clean(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "s.json"
    assert main(["--db", str(db), "org", "add", ORG15, "--name", EVIL, "--notes",
                 "one\ntwo\x1b[2J"]) == 0
    out = capsys.readouterr().out
    assert not CONTROL.search(out)
    assert_clean_file(db)
    org = Store.open(db).get_org(ORG)
    assert org.name == "Evil AG" and org.notes == "one\ntwo"


def test_the_store_never_holds_a_control_character(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "s.json")
    store.put_doc("pushes", {"id": "p1", "start_utc": "2027-01-23T00:00:00Z", "notes": EVIL,
                             "actions": [{"id": "a", "text": EVIL + "\nsecond line"}]})
    store.put_many("checklist", [{"key": f"{ORG}/s{i}", "note": EVIL} for i in range(3)])
    store.patch_doc("pushes", "p1", {"version": "2.81\x1b[2J"})
    store.set_setting("timezone", "Europe/Berlin\x07")
    assert_clean_file(store.path)
    push = store.get_doc("pushes", "p1")
    assert push is not None
    assert push["actions"][0]["text"] == "Evil AG\nsecond line"  # the line break is data
    assert push["version"] == "2.81"


def test_a_contact_import_is_stored_clean(tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "s.json"
    source = tmp_path / "in.csv"
    source.write_bytes(f'name,email,title,notes\n"Evil\x1b]0;pwned\x07 AG",eve@x.de,"CFO{BIDI}",'
                       f'"a\nb\x07"\n'.encode())
    assert main(["--db", str(db), "contacts", "import", str(source), "--yes"]) == 0
    out = capsys.readouterr().out
    assert not CONTROL.search(out) and not any(ch in out for ch in BIDI)
    assert_clean_file(db)
    contact = Store.open(db).find_contact_by_email("eve@x.de")
    assert contact is not None and contact.title == "CFO" + BIDI and contact.notes == "a\nb"


@pytest.fixture(scope="module")
def sim() -> Iterator[Simulator]:
    simulator = Simulator(scenario_set="demo").start()
    yield simulator
    simulator.stop()


@pytest.fixture
def creds() -> CredentialStore:
    return open_credentials("memory")


def hostile_sim_org(sim: Simulator) -> Any:
    base = make_org("healthy", next(_index))
    return sim.add_org(dataclasses.replace(base, name=EVIL + " " + BIDI))


def test_salesforce_answers_are_cleaned_where_they_arrive(sim: Simulator,
                                                          creds: CredentialStore) -> None:
    """A name with ESC/BEL in Salesforce's JSON (as \\u001b escapes) never reaches us raw."""
    from juston_tui.salesforce.probe import probe_org
    from juston_tui.salesforce.vendor import fetch_subscribers

    evil = hostile_sim_org(sim)
    org = register_simulator_orgs(None, creds, sim, [evil], method="token")[0]
    snapshot = probe_org(org, creds)
    assert snapshot.error is None, snapshot.error
    name = snapshot.facts["organization"]["name"]
    assert name == "Evil AG " + BIDI
    assert not any(CONTROL.search(s) for s in strings(snapshot.to_doc()))
    vendor = register_simulator_orgs(None, creds, sim, [sim.vendor_org], method="jwt")[0]
    subscribers = {s["org_id"]: s for s in fetch_subscribers(vendor, creds)}
    assert subscribers[evil.org_id]["name"] == "Evil AG " + BIDI


def test_vendor_sync_stores_clean_names(sim: Simulator, tmp_path: Path,
                                       capsys: pytest.CaptureFixture[str],
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    evil = hostile_sim_org(sim)
    db = tmp_path / "s.json"
    store = Store.open(db)
    shared = open_credentials("memory")
    monkeypatch.setattr("juston_tui.commands.open_credentials", lambda *a, **k: shared)
    register_simulator_orgs(store, shared, sim, [sim.vendor_org], method="jwt")
    store.update_org(sim.vendor_org.org_id, vendor=True)
    code = main(["--db", str(db), "org", "import", "--from-vendor", sim.vendor_org.org_id,
                 "--yes"])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert not CONTROL.search(out + err) and not any(ch in out for ch in BIDI)
    assert_clean_file(db)
    assert Store.open(db).get_org(evil.org_id).name == "Evil AG " + BIDI


# -- where text leaves ---------------------------------------------------------------------------

@pytest.mark.parametrize("fmt", ["csv", "vcard", "notify"])
def test_every_export_is_clean_even_from_an_old_store(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], fmt: str) -> None:
    db = tmp_path / "s.json"
    legacy_store(db, ACME)
    target = tmp_path / f"out.{fmt}"
    assert main(["--db", str(db), "contacts", "export", str(target), "--format", fmt]) == 0
    capsys.readouterr()
    text = target.read_text(encoding="utf-8").replace("\r\n", "\n")
    assert not CONTROL.search(text.replace("\n", "")), text
    if fmt == "csv":
        row = text.splitlines()[1]
        assert "Acme AG" in row  # the org_names column
    if fmt != "notify":
        assert "Evil AG" in text


def test_lists_on_the_command_line_are_clean_and_bidi_is_visible(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "s.json"
    legacy_store(db, ACME + "\u202eGmbH")
    for argv in (["org", "list"], ["org", "show", ORG], ["contacts", "list"]):
        assert main(["--db", str(db), *argv]) == 0
        out = capsys.readouterr().out
        assert not CONTROL.search(out), argv
        assert "\u202e" not in out
    assert main(["--db", str(db), "org", "list"]) == 0
    assert "<U+202E>GmbH" in capsys.readouterr().out


async def test_the_org_form_and_the_registry_show_stored_text_without_controls(
        tmp_path: Path) -> None:
    from textual.widgets import Input
    from ui_helpers import screen_text, settle

    from juston_tui.app import JustOnApp
    from juston_tui.screens.widgets.fast_table import FastTable

    db = tmp_path / "s.json"
    legacy_store(db, ACME + "\u202eGmbH")
    store = Store.open(db)
    data = stored_tables(db)
    next(iter(data["orgs"].values()))["notes"] = "note\x1b]52;c;eA==\x07 end"
    db.write_bytes(orjson.dumps(data))
    app = JustOnApp(store=store, credentials=open_credentials("memory"))
    async with app.run_test(size=(130, 40)) as pilot:
        await settle(pilot)
        cell = app.screen.query_one("#registry-table", FastTable).get_row(ORG).cells[0].plain
        assert cell == "Acme AG<U+202E>GmbH"
        await pilot.press("e")
        await settle(pilot)
        assert type(app.screen).__name__ == "OrgFormScreen"
        values = {w.id: w.value for w in app.screen.query(Input)}
        assert values["field-name"] == "Acme AG<U+202E>GmbH"
        assert values["field-notes"] == "note end"
        assert not any(CONTROL.search(v) for v in values.values())
        assert not CONTROL.search(screen_text(app).replace("\n", ""))
        await pilot.press("ctrl+s")  # nothing typed: saved as stored, minus the controls
        await settle(pilot)
        assert type(app.screen).__name__ != "OrgFormScreen"
    org = Store.open(db).get_org(ORG)
    assert org.name == "Acme AG\u202eGmbH"  # the bidi character, not the mark shown for it
    assert org.notes == "note end" and org.tags == ("eu",)


async def test_an_edited_org_form_field_is_stored_clean(tmp_path: Path) -> None:
    from ui_helpers import settle

    from juston_tui.app import JustOnApp

    db = tmp_path / "s.json"
    legacy_store(db, ACME)
    app = JustOnApp(store=Store.open(db), credentials=open_credentials("memory"))
    async with app.run_test(size=(130, 40)) as pilot:
        await settle(pilot)
        await pilot.press("e")
        await settle(pilot)
        await pilot.press("end", *" Holding", "ctrl+s")
        await settle(pilot)
    assert Store.open(db).get_org(ORG).name == "Acme AG Holding"
    stored = next(iter(stored_tables(db)["orgs"].values()))
    assert not any(CONTROL.search(s) for s in strings(stored))
