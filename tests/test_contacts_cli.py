"""`juston-tui contacts ...`: the command-line contract (DESIGN.md section 7)."""

from __future__ import annotations

import json

import pytest

from juston_tui.cli import main
from juston_tui.model import Org
from juston_tui.store import Store

ACME = Org.create(org_id="00D000000000001", name="Acme GmbH")
ALPEN = Org.create(org_id="00D5g000000abcd", name="Alpenbank AG")


@pytest.fixture
def db(tmp_path):
    path = tmp_path / "s.json"
    store = Store.open(path)
    store.add_org(ACME)
    store.add_org(ALPEN)
    return path


@pytest.fixture
def cli(db, capsys):
    def run(*argv: str) -> tuple[int, str, str]:
        code = main(["--db", str(db), *argv])
        out, err = capsys.readouterr()
        return code, out, err

    return run


def add_anna(cli) -> None:
    code, out, _ = cli("contacts", "add", "--name", "Anna Müller", "--email", "anna@acme.de",
                       "--title", "Salesforce-Administratorin", "--org", "Acme GmbH",
                       "--role", "Admin")
    assert code == 0 and "added Anna Müller <anna@acme.de>" in out


def test_add_list_json_and_filters(cli):
    add_anna(cli)
    assert cli("contacts", "add", "--name", "Bob", "--email", "bob@alpen.at", "--title", "CFO",
               "--org", ALPEN.id15, "--not-eligible")[0] == 0
    code, out, _ = cli("contacts", "list", "--json")
    data = json.loads(out)["contacts"]
    assert code == 0 and [c["email"] for c in data] == ["anna@acme.de", "bob@alpen.at"]
    assert data[0]["org_ids"] == [ACME.org_id] and data[0]["org_names"] == ["Acme GmbH"]
    assert data[1]["eligible"] is False
    _, out, _ = cli("contacts", "list", "--json", "--org", ALPEN.org_id)
    assert [c["email"] for c in json.loads(out)["contacts"]] == ["bob@alpen.at"]
    _, out, _ = cli("contacts", "list", "--json", "--eligible")
    assert [c["email"] for c in json.loads(out)["contacts"]] == ["anna@acme.de"]
    code, out, err = cli("contacts", "list")
    assert code == 0 and "2 contact(s)" in err
    assert out.splitlines() == [  # not a terminal: whole values, tab-separated, a header
        "Name\tE-mail\tTitle\tRole\tOrgs\tEligible",
        "Anna Müller\tanna@acme.de\tSalesforce-Administratorin\tAdmin\tAcme GmbH\tyes",
        "Bob\tbob@alpen.at\tCFO\t\tAlpenbank AG\tno",
    ]


def test_add_refuses_duplicate_email_and_bad_input(cli):
    add_anna(cli)
    code, _, err = cli("contacts", "add", "--name", "X", "--email", "ANNA@acme.de",
                       "--title", "T")
    assert code == 2 and "already belongs to Anna Müller" in err and "Traceback" not in err
    code, _, err = cli("contacts", "add", "--name", "X", "--email", "nope", "--title", " ")
    assert code == 2 and "email:" in err and "title:" in err
    code, _, err = cli("contacts", "add", "--name", "X", "--email", "x@y.de", "--title", "T",
                       "--org", "Nowhere")
    assert code == 2 and "no org 'Nowhere'" in err


def test_edit_show_and_remove(cli):
    add_anna(cli)
    code, out, _ = cli("contacts", "edit", "ANNA@ACME.DE", "--title", "Head of IT",
                       "--add-org", "Alpenbank AG", "--not-eligible", "--json")
    doc = json.loads(out)
    assert code == 0 and doc["title"] == "Head of IT" and doc["eligible"] is False
    assert doc["org_ids"] == [ACME.org_id, ALPEN.org_id]
    code, out, _ = cli("contacts", "edit", doc["id"][:8], "--remove-org", ACME.org_id)
    assert code == 0
    _, out, _ = cli("contacts", "show", "anna@acme.de", "--json")
    assert json.loads(out)["org_ids"] == [ALPEN.org_id]
    assert cli("contacts", "edit", "anna@acme.de")[0] == 2  # nothing to change
    code, out, _ = cli("contacts", "remove", doc["id"])
    assert code == 0 and "removed Anna Müller" in out
    code, _, err = cli("contacts", "remove", "anna@acme.de")
    assert code == 2 and "no contact with the e-mail" in err


def test_import_without_yes_changes_nothing(cli, db, tmp_path):
    add_anna(cli)
    source = tmp_path / "outlook.csv"
    source.write_text(
        '"First Name","Last Name","E-mail Address","Job Title"\n'
        '"Anna","Müller","anna@acme.de","Head of Finance"\n'
        '"Lukas","Hofer","lukas@acme.de","Salesforce Developer"\n'
        '"Broken","Row","not-an-email","CFO"\n',
        encoding="utf-8",
    )
    before = db.read_bytes()
    code, out, _ = cli("contacts", "import", str(source))
    assert code == 1  # a bad row
    assert db.read_bytes() == before
    assert "1 would be added, 1 would be updated, 1 skipped" in out
    assert "line 4: ERROR: Broken Row <not-an-email>: e-mail:" in out
    assert "changes title ('Salesforce-Administratorin' -> 'Head of Finance')" in out
    assert "Nothing was changed" in out
    code, out, _ = cli("contacts", "import", str(source), "--yes", "--org", "Alpenbank AG")
    assert code == 1 and "1 added, 1 updated, 1 skipped" in out
    store = Store.open(db, read_only=True)
    lukas = store.find_contact_by_email("lukas@acme.de")
    assert lukas.title == "Salesforce Developer" and lukas.org_ids == (ALPEN.org_id,)
    assert store.find_contact_by_email("anna@acme.de").title == "Head of Finance"


def test_import_json_preview_and_clean_file_exit_zero(cli, tmp_path):
    source = tmp_path / "c.vcf"
    source.write_text("BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Eva Zwölfer\r\nEMAIL:eva@x.at\r\n"
                      "TITLE:Billing\r\nEND:VCARD\r\n", encoding="utf-8")
    code, out, _ = cli("contacts", "import", str(source), "--json")
    data = json.loads(out)
    assert code == 0 and data["applied"] is False and data["format"] == "vcard"
    assert data["counts"] == {"add": 1, "update": 0, "unchanged": 0, "error": 0}
    assert cli("contacts", "import", str(source), "--yes")[0] == 0
    code, out, _ = cli("contacts", "import", str(source))
    assert code == 0 and "1 skipped (1 unchanged" in out


def test_import_rejects_binary_with_exit_2(cli, db, tmp_path):
    source = tmp_path / "garbage.csv"
    source.write_bytes(bytes(range(256)) * 10)
    before = db.read_bytes()
    code, _out, err = cli("contacts", "import", str(source), "--yes")
    assert code == 2 and "not imported" in err and "binary" in err
    assert db.read_bytes() == before
    code, _, err = cli("contacts", "import", str(tmp_path / "missing.csv"))
    assert code == 2 and "cannot read the file" in err


def test_export_round_trip_between_stores(cli, db, tmp_path, capsys):
    add_anna(cli)
    cli("contacts", "add", "--name", "Jürgen [red]x[/] Weiß", "--email", "jw@alpen.at",
        "--title", "Head of Finance, DACH", "--org", ALPEN.org_id, "--org", ACME.org_id,
        "--not-eligible")
    for fmt, name in (("csv", "out.csv"), ("vcard", "out.vcf")):
        target = tmp_path / name
        code, out, _ = cli("contacts", "export", str(target))
        assert code == 0 and f"exported 2 contact(s) as {fmt}" in out
        assert target.stat().st_mode & 0o077 == 0
        other = tmp_path / f"other-{fmt}.json"
        assert main(["--db", str(other), "contacts", "import", str(target), "--yes"]) == 0
        capsys.readouterr()
        ours = {c.id: c.to_doc() for c in Store.open(db).list_contacts()}
        theirs = {c.id: c.to_doc() for c in Store.open(other).list_contacts()}
        assert ours == theirs


def test_export_to_stdout_and_notify(cli):
    add_anna(cli)
    cli("contacts", "add", "--name", "Bob", "--email", "bob@alpen.at", "--title", "CFO",
        "--org", ALPEN.org_id)
    code, out, err = cli("contacts", "export", "-", "--format", "vcard", "--vcard-version",
                         "3.0", "--org", "Acme GmbH")
    assert code == 0 and out.startswith("BEGIN:VCARD\r\nVERSION:3.0\r\n")
    assert "anna@acme.de" in out and "bob@alpen.at" not in out
    assert "exported 1 contact(s)" in err  # the summary never pollutes stdout
    code, out, _ = cli("contacts", "export", "-", "--format", "notify", "--org", ALPEN.org_id)
    assert code == 0
    assert f"Alpenbank AG (org ID {ALPEN.org_id})" in out
    assert "  Bob, bob@alpen.at, CFO" in out.splitlines() and "anna" not in out
    code, _, err = cli("contacts", "export", "/nonexistent-dir/x.csv")
    assert code == 2 and "does not exist" in err


def test_query_speaks_mutt_and_aerc(cli):
    add_anna(cli)
    cli("contacts", "add", "--name", "Bob\tTab", "--email", "bob@alpen.at", "--title", "CFO")
    code, out, _ = cli("contacts", "query", "muell")
    lines = out.splitlines()
    assert code == 0
    assert lines[0] == "juston-tui: 1 contact matching 'muell'"  # mutt's free-text line
    assert lines[1:] == ["anna@acme.de\tAnna Müller\tSalesforce-Administratorin"]
    code, out, _ = cli("contacts", "query", "--no-header", "")
    rows = [line.split("\t") for line in out.splitlines()]
    assert code == 0 and all(len(r) == 3 for r in rows)
    assert ["bob@alpen.at", "Bob Tab", "CFO"] in rows
    code, out, _ = cli("contacts", "query", "nobody-matches-this")
    assert code == 1 and out == "juston-tui: 0 contacts matching 'nobody-matches-this'\n"
    code, out, _ = cli("contacts", "query", "acme", "--json")
    assert code == 0 and json.loads(out)["contacts"][0]["email"] == "anna@acme.de"


def test_read_only_refuses_changes_but_lists(db, capsys):
    code = main(["--db", str(db), "--read-only", "contacts", "add", "--name", "A",
                 "--email", "a@x.de", "--title", "T"])
    assert code == 2 and "--read-only" in capsys.readouterr().err
    assert main(["--db", str(db), "--read-only", "contacts", "list", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {"contacts": []}


def test_non_utf8_arguments_are_refused_clearly(cli, db):
    bad = b"caf\xe9".decode("utf-8", "surrogateescape")  # what Python makes of latin-1 argv
    before = db.read_bytes()
    code, _, err = cli("contacts", "add", "--name", bad, "--email", "b@x.de", "--title", "T")
    assert code == 2 and "name: is not valid UTF-8 text" in err and "Traceback" not in err
    code, _, err = cli("contacts", "query", bad)
    assert code == 2 and "query: is not valid UTF-8 text" in err
    assert db.read_bytes() == before
