"""contacts_io: CSV / vCard import with preview, exports, notification list, search, demo."""

from __future__ import annotations

import csv
import uuid

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from juston_tui import contacts_io as cio
from juston_tui.demo import contacts as demo_contacts
from juston_tui.model import Contact, Org
from juston_tui.store import Store

ACME = Org.create(org_id="00D000000000001", name="Acme GmbH")
ALPEN = Org.create(org_id="00D5g000000abcd", name="Alpenbank AG")
VENDOR = Org.create(org_id="00D000000000009", name="JustOn Packaging", vendor=True)


@pytest.fixture
def store(tmp_path):
    s = Store.open(tmp_path / "s.json")
    s.add_org(ACME)
    s.add_org(ALPEN)
    return s


def tricky_contacts() -> list[Contact]:
    """Every field filled, non-ASCII, separators, formulas, markup, newlines."""
    return [
        Contact.create(full_name="Jürgen Weiß-Öztürk", email="juergen@acme.de",
                       title="Head of Finance, DACH; Billing", role="Finance",
                       org_ids=[ACME.org_id, ALPEN.org_id], eligible=True,
                       notes='Zeile 1\nZeile 2 with "quotes", commas; and \\ backslash'),
        Contact.create(full_name="Renée Bächli", email="renee@alpen.ch",
                       title="=SUM(A1:A2)", role="-admin", org_ids=[ALPEN.org_id],
                       eligible=False, notes=""),
        Contact.create(full_name="Test [red]x[/] Markup", email="markup@acme.de",
                       title="Salesforce-Administratorin", role="", org_ids=[], eligible=True,
                       notes="@mention +plus 'quoted"),
        Contact.create(full_name="Zoë O'Brien 日本", email="zoe@example.com",
                       title="'=not a formula", role="Ops", org_ids=[ACME.org_id],
                       eligible=True, notes="ünïcödé"),
    ]


def docs_by_id(store: Store) -> dict[str, dict]:
    return {c.id: c.to_doc() for c in store.list_contacts()}


def import_bytes(store: Store, name: str, data: bytes, **kw) -> cio.ImportPreview:
    preview = cio.preview_import(store, name, data, **kw)
    return cio.apply_import(store, preview)


# -- round trips -----------------------------------------------------------------------------


def test_csv_round_trip_preserves_every_field(store, tmp_path):
    store.put_many("contacts", [c.to_doc() for c in tricky_contacts()])
    text = cio.export_csv(store.list_contacts(), {o.org_id: o.name for o in store.list_orgs()})
    other = Store.open(tmp_path / "other.json")
    other.add_org(ACME)
    other.add_org(ALPEN)
    result = import_bytes(other, "contacts.csv", text.encode("utf-8"))
    assert result.errors == 0 and result.added == 4
    assert docs_by_id(other) == docs_by_id(store)
    # ... and out again gives the same bytes.
    again = cio.export_csv(other.list_contacts(), {o.org_id: o.name for o in other.list_orgs()})
    assert again == text


def test_csv_export_neutralises_spreadsheet_formulas(store):
    text = cio.export_csv(tricky_contacts())
    rows = list(csv.DictReader(text.splitlines()))
    by_mail = {r["email"]: r for r in rows}
    assert by_mail["renee@alpen.ch"]["title"] == "'=SUM(A1:A2)"
    assert by_mail["renee@alpen.ch"]["role"] == "'-admin"
    assert by_mail["zoe@example.com"]["title"] == "''=not a formula"


@pytest.mark.parametrize("version", ["3.0", "4.0"])
def test_vcard_round_trip_preserves_every_field(store, tmp_path, version):
    store.put_many("contacts", [c.to_doc() for c in tricky_contacts()])
    text = cio.export_vcard(store.list_contacts(), version)
    assert text.count("BEGIN:VCARD") == 4 and f"VERSION:{version}" in text
    assert all(len(line.encode()) <= 75 for line in text.split("\r\n"))
    other = Store.open(tmp_path / "other.json")
    result = import_bytes(other, "c.vcf", text.encode("utf-8"))
    assert result.errors == 0, cio.preview_text(result)
    assert docs_by_id(other) == docs_by_id(store)
    assert cio.export_vcard(other.list_contacts(), version) == text


def test_vcard_lines_fit_75_octets_with_umlauts():
    """vobject leaves a line of fewer than 75 characters alone, whatever its octets."""
    note = "Bitte Rückruf über die Zentrale. Grüße an Frau Müller-Lüdenscheidt"
    anna = Contact.create(full_name="Anna Müller", email="anna@acme.de", title="CFO",
                          notes=note)
    assert len(f"NOTE:{note}") < 75 < len(f"NOTE:{note}".encode())
    for version in ("3.0", "4.0"):
        text = cio.export_vcard([anna], version)
        assert all(len(line.encode()) <= 75 for line in text.split("\r\n"))
        import vobject

        assert vobject.readOne(text).note.value == note


def test_vcard_export_is_readable_by_vobject():
    import vobject

    text = cio.export_vcard(tricky_contacts(), "3.0")
    cards = list(vobject.readComponents(text))
    jurgen = next(c for c in cards if c.fn.value.startswith("Jürgen"))
    assert jurgen.title.value == "Head of Finance, DACH; Billing"
    assert jurgen.n.value.family == "Weiß-Öztürk"
    assert jurgen.email.value == "juergen@acme.de"


# -- foreign layouts --------------------------------------------------------------------------

OUTLOOK_HEADER = (
    '"Title","First Name","Middle Name","Last Name","Suffix","Company","Department",'
    '"Job Title","Business Street","Business Phone","E-mail Address","E-mail Type",'
    '"E-mail Display Name","E-mail 2 Address","Notes"'
)


def test_outlook_csv_layout(store):
    data = (
        OUTLOOK_HEADER + "\r\n"
        '"Dr.","Anna","","Müller","","Acme GmbH","IT","Salesforce-Administratorin","Weg 1",'
        '"+49 1","anna.mueller@acme.de","SMTP","Anna Müller","","Ansprechpartnerin"\r\n'
        '"","Lukas","","Hofer","","Acme","","Head of Finance","","","","SMTP","",'
        '"lh@acme.de",""\r\n'
    ).encode("utf-8")
    result = import_bytes(store, "outlook.csv", data)
    assert (result.added, result.errors) == (2, 0)
    anna = store.find_contact_by_email("anna.mueller@acme.de")
    assert anna is not None
    assert anna.full_name == "Dr. Anna Müller"  # Outlook's "Title" is the name prefix
    assert anna.title == "Salesforce-Administratorin"
    assert anna.notes == "Ansprechpartnerin"
    assert store.find_contact_by_email("lh@acme.de").full_name == "Lukas Hofer"  # E-mail 2
    assert any("Department" in w for w in result.warnings)  # unused columns are named
    assert not any("Company" in w for w in result.warnings)  # Company links orgs (below)
    assert anna.org_ids == (ACME.org_id,)  # "Acme GmbH" is a registered org
    assert store.find_contact_by_email("lh@acme.de").org_ids == ()  # "Acme" is not


def test_google_csv_layouts(store):
    old = (
        "Name,Given Name,Additional Name,Family Name,E-mail 1 - Type,E-mail 1 - Value,"
        "Organization 1 - Name,Organization 1 - Title\n"
        "Sophie Gruber,Sophie,,Gruber,* Work,sophie@alpen.at,Alpenbank,Head of Finance\n"
    )
    new = (
        "First Name,Middle Name,Last Name,Organization Name,Organization Title,"
        "E-mail 1 - Label,E-mail 1 - Value\n"
        "Niklas,,Brändli,Acme,CFO,* work,niklas@acme.ch\n"
    )
    assert import_bytes(store, "google.csv", old.encode()).added == 1
    assert import_bytes(store, "google2.csv", new.encode()).added == 1
    sophie = store.find_contact_by_email("sophie@alpen.at")
    assert (sophie.full_name, sophie.title) == ("Sophie Gruber", "Head of Finance")
    niklas = store.find_contact_by_email("niklas@acme.ch")
    assert (niklas.full_name, niklas.title) == ("Niklas Brändli", "CFO")


def test_semicolon_cp1252_excel_file_with_warning(store):
    data = "Name;E-Mail;Titel\r\nJörg Größl;joerg@acme.de;Geschäftsführer\r\n".encode("cp1252")
    preview = cio.preview_import(store, "excel.csv", data)
    assert preview.encoding == "cp1252"
    assert any("Windows-1252" in w for w in preview.warnings)
    result = cio.apply_import(store, preview)
    joerg = store.find_contact_by_email("joerg@acme.de")
    assert result.added == 1 and joerg.full_name == "Jörg Größl"
    assert joerg.title == "Geschäftsführer"


@pytest.mark.parametrize("encoding", ["utf-16", "utf-8-sig", "utf-16-le", "utf-16-be",
                                      "utf-32"])
def test_unicode_encodings(store, encoding):
    text = "full_name\temail\ttitle\nÅsa Bäckström\tasa@example.se\tCFO\n"
    data = text.encode(encoding)
    result = import_bytes(store, "x.csv", data)
    assert result.added == 1, cio.preview_text(result)
    assert store.find_contact_by_email("asa@example.se").full_name == "Åsa Bäckström"
    bom = data[:4] != text.encode(encoding)[:4] or encoding in ("utf-16", "utf-8-sig", "utf-32")
    assert bom == (not any("byte-order mark" in w for w in result.warnings))


def test_utf8_is_utf8_even_when_a_guess_says_otherwise(store, tmp_path):
    """charset-normalizer reads this (our own export) as Korean cp949: 'FN:힇체kr체 횜휓체t'."""
    sukru = Contact.create(full_name="Şükrü Öğüt", email="sukru@firma.com.tr", title="CFO")
    for version in ("3.0", "4.0"):
        other = Store.open(tmp_path / f"{version}.json")
        result = import_bytes(other, "x.vcf", cio.export_vcard([sukru], version).encode())
        assert result.encoding == "utf-8" and not result.warnings
        assert other.get_contact(sukru.id) == sukru


def test_windows_1252_french_and_spanish_names(store):
    """A guess alone says Windows-1250 here and reads 'Frčre', 'Muńoz'."""
    data = ("Name;E-Mail;Titel\r\nPierre Frère;pierre@acme.fr;Directeur général\r\n"
            "José Muñoz;jose@acme.es;Jefe de ventas\r\n").encode("cp1252")
    result = import_bytes(store, "excel.csv", data)
    assert result.encoding == "cp1252" and result.added == 2
    assert any("Windows-1252" in w for w in result.warnings)
    assert store.find_contact_by_email("pierre@acme.fr").full_name == "Pierre Frère"
    assert store.find_contact_by_email("jose@acme.es").full_name == "José Muñoz"


def test_other_legacy_code_pages_are_guessed_with_a_warning(store):
    data = ("Name;E-Mail;Titel\r\nИван Петров;ivan@firma.ru;Главный бухгалтер\r\n"  # noqa: RUF001
            "Ольга Смирнова;olga@firma.ru;Директор\r\n").encode("cp1251")
    result = import_bytes(store, "x.csv", data)
    assert result.encoding == "cp1251" and result.added == 2
    assert any("not UTF-8" in w and "cp1251" in w for w in result.warnings)
    assert store.find_contact_by_email("ivan@firma.ru").title == "Главный бухгалтер"


def test_org_column_accepts_ids_and_names_and_warns_about_unknown(store):
    data = (
        "full_name,email,title,org_ids\n"
        f'A,a@x.de,T,"{ACME.id15} Alpenbank AG"\n'  # a 15-char ID, then a name: not split
        "B,b@x.de,T,Alpenbank AG; Nowhere Ltd\n"
        "C,c@x.de,T,00D000000000002\n"
    ).encode()
    result = import_bytes(store, "o.csv", data)
    assert result.errors == 0
    assert store.find_contact_by_email("b@x.de").org_ids == (ALPEN.org_id,)
    notes = [w for r in result.rows for w in r.warnings]
    assert any("Nowhere Ltd" in w for w in notes)
    assert any("00D000000000002" in w and "not registered" in w for w in notes)
    assert any("Alpenbank AG" in w for w in notes)  # "00D… Alpenbank AG" was not understood


def test_link_all_imported_contacts_to_an_org(store):
    data = b"name,email,title\nA,a@x.de,T\n"
    import_bytes(store, "x.csv", data, link_org_ids=[ACME.org_id])
    assert store.find_contact_by_email("a@x.de").org_ids == (ACME.org_id,)


# -- preview semantics ----------------------------------------------------------------------


def test_preview_writes_nothing_and_matches_email_case_insensitively(store):
    existing = Contact.create(full_name="Anna Müller", email="anna@acme.de", title="Admin",
                              org_ids=[ACME.org_id])
    same = Contact.create(full_name="Bob", email="bob@acme.de", title="CFO")
    store.put_many("contacts", [existing.to_doc(), same.to_doc()])
    before = store.path.read_bytes()
    data = (
        "full_name,email,title\n"
        "Anna Müller,ANNA@ACME.DE,Salesforce-Administratorin\n"
        "Bob,Bob@Acme.de,CFO\n"
        "Carla,carla@acme.de,CTO\n"
        "Dora,,CTO\n"
    ).encode()
    preview = cio.preview_import(store, "x.csv", data)
    assert store.path.read_bytes() == before
    actions = {r.line: r.action for r in preview.rows}
    assert actions == {2: "update", 3: "unchanged", 4: "add", 5: "error"}
    update = preview.rows[0]
    assert update.contact.id == existing.id and update.changes == ("title",)
    assert update.contact.org_ids == (ACME.org_id,)  # no org column: links kept
    assert "e-mail address is required" in preview.rows[3].reason
    assert preview.has_problems
    text = "\n".join(cio.preview_text(preview))
    assert "line 5: ERROR" in text and "1 would be added, 1 would be updated, 2 skipped" in text
    cio.apply_import(store, preview)
    assert store.get_contact(existing.id).title == "Salesforce-Administratorin"
    assert store.find_contact_by_email("carla@acme.de") is not None
    assert len(store.list_contacts()) == 3


def test_empty_cells_never_overwrite_stored_values(store):
    """An Outlook export with an empty Notes cell must not erase her notes (issue 15)."""
    anna = Contact.create(full_name="Anna Müller", email="anna@acme.de", title="Admin",
                          role="Finance", notes="Prefers calls after 10:00\nDeputy: Bruno",
                          org_ids=[ACME.org_id], eligible=False)
    store.put_many("contacts", [anna.to_doc()])
    data = ("name,email,title,role,notes,org_ids,eligible\n"
            "Anna Müller,anna@acme.de,,,,,\n"       # every other cell empty: nothing changes
            ",ANNA@acme.de,,,  ,,\n").encode()       # a second row for her: a duplicate
    preview = cio.preview_import(store, "outlook.csv", data)
    assert [r.action for r in preview.rows] == ["unchanged", "error"]
    cio.apply_import(store, preview)
    assert store.get_contact(anna.id) == anna
    only_title = b"name,email,title,notes\n,anna@acme.de,Head of Finance,\n"
    result = import_bytes(store, "x.csv", only_title)
    assert result.updated == 1 and result.rows[0].changes == ("title",)
    kept = store.get_contact(anna.id)
    assert kept.title == "Head of Finance"
    assert (kept.full_name, kept.notes, kept.role, kept.org_ids, kept.eligible) == (
        anna.full_name, anna.notes, anna.role, anna.org_ids, anna.eligible)


def test_the_preview_shows_every_changed_field_old_to_new(store):
    anna = Contact.create(full_name="Anna Müller", email="anna@acme.de", title="Admin",
                          notes="Likes tea", org_ids=[ACME.org_id])
    store.put_many("contacts", [anna.to_doc()])
    data = ("full_name,email,title,role,notes,org_ids,eligible\n"
            "Anna Maria Müller,anna@acme.de,CFO,Finance,Likes coffee,Alpenbank AG,no\n"
            ).encode()
    preview = cio.preview_import(store, "x.csv", data)
    row = preview.rows[0]
    assert row.action == "update"
    assert row.reason == (
        "changes full name ('Anna Müller' -> 'Anna Maria Müller'), title ('Admin' -> 'CFO'), "
        "role ('' -> 'Finance'), orgs ('Acme GmbH' -> 'Alpenbank AG'), "
        "eligible ('yes' -> 'no'), notes ('Likes tea' -> 'Likes coffee')")
    assert row.reason in "\n".join(cio.preview_text(preview))


def test_a_company_column_naming_a_registered_org_links_the_contact(store):
    anna = Contact.create(full_name="Anna Müller", email="anna@acme.de", title="Admin")
    store.put_many("contacts", [anna.to_doc()])
    data = ("First Name,Last Name,E-mail Address,Job Title,Company\n"
            "Anna,Müller,anna@acme.de,Admin,ACME gmbh\n"
            "Lukas,Hofer,lukas@alpen.at,CFO,Alpenbank AG\n"
            "Eva,Nowak,eva@nowhere.pl,CTO,Nowhere Sp. z o.o.\n").encode()
    preview = cio.preview_import(store, "outlook.csv", data)
    assert not any("Company" in w for w in preview.warnings)  # not "columns not imported"
    anna_row, lukas_row, eva_row = preview.rows
    assert anna_row.action == "update" and anna_row.contact.org_ids == (ACME.org_id,)
    assert "orgs ('' -> 'Acme GmbH')" in anna_row.reason
    assert "linked to Acme GmbH (the company column names it)" in anna_row.warnings
    assert lukas_row.action == "add" and lukas_row.contact.org_ids == (ALPEN.org_id,)
    assert "linked to Alpenbank AG (the company column names it)" in lukas_row.warnings
    assert eva_row.contact.org_ids == ()
    assert any("Nowhere Sp. z o.o." in w and "not a registered org" in w
               for w in eva_row.warnings)
    text = "\n".join(cio.preview_text(preview))
    assert "note: linked to Acme GmbH (the company column names it)" in text
    cio.apply_import(store, preview)
    assert store.get_contact(anna.id).org_ids == (ACME.org_id,)


def test_a_vcard_org_naming_a_registered_org_links_the_contact(store):
    card = ("BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Lukas Hofer\r\nN:Hofer;Lukas;;;\r\n"
            "EMAIL:lukas@alpen.at\r\nTITLE:CFO\r\nORG:Alpenbank AG;Treasury\r\n"
            "END:VCARD\r\n")
    result = import_bytes(store, "x.vcf", card.encode())
    assert result.added == 1
    assert store.find_contact_by_email("lukas@alpen.at").org_ids == (ALPEN.org_id,)


def test_duplicate_email_inside_the_file_is_reported(store):
    data = b"name,email,title\nA,a@x.de,T\nA2,A@X.DE,T2\n"
    preview = cio.preview_import(store, "x.csv", data)
    assert [r.action for r in preview.rows] == ["add", "error"]
    assert "line 2" in preview.rows[1].reason


def test_line_numbers_count_physical_lines_of_multiline_cells(store):
    data = b'name,email,title,notes\nA,a@x.de,T,"one\ntwo\nthree"\nB,broken,T,\n'
    preview = cio.preview_import(store, "x.csv", data)
    assert [(r.line, r.action) for r in preview.rows] == [(2, "add"), (5, "error")]


def test_apply_replans_against_the_store_as_it_is_now(store):
    data = b"name,email,title\nCarla,carla@acme.de,CTO\n"
    preview = cio.preview_import(store, "x.csv", data)
    assert preview.rows[0].action == "add"
    # Someone adds the same e-mail between preview and apply: no duplicate appears.
    store.add_contact(Contact.create(full_name="Carla K", email="carla@acme.de", title="CIO"))
    result = cio.apply_import(store, preview)
    assert result.rows[0].action == "update"
    assert len(store.list_contacts()) == 1
    assert store.find_contact_by_email("carla@acme.de").title == "CTO"


def test_apply_is_one_write_and_all_or_nothing(store, full_disk):
    data = b"name,email,title\nA,a@x.de,T\nB,b@x.de,T\nC,c@x.de,T\n"
    preview = cio.preview_import(store, "x.csv", data)
    before_writes = store.write_count
    cio.apply_import(store, preview)
    assert store.write_count - before_writes == 1 and len(store.list_contacts()) == 3

    more = cio.preview_import(store, "y.csv", b"name,email,title\nD,d@x.de,T\nE,e@x.de,T\n")
    before = store.path.read_bytes()
    full_disk.on()  # the OS refuses the write
    with pytest.raises(OSError):
        cio.apply_import(store, more)
    assert store.path.read_bytes() == before
    full_disk.off()
    assert {c.email for c in store.list_contacts()} == {"a@x.de", "b@x.de", "c@x.de"}


# -- malformed input ------------------------------------------------------------------------


def test_missing_columns_is_a_clear_fatal_report(store):
    preview = cio.preview_import(store, "x.csv", b"Vorname,Telefon\nAnna,123\n")
    assert preview.fatal is not None
    assert "e-mail" in preview.fatal and "title" in preview.fatal
    assert "'Vorname'" in preview.fatal  # says what it found
    assert cio.apply_import(store, preview).applied is False
    assert store.list_contacts() == []


def test_one_megabyte_field_is_reported_and_not_stored(store):
    huge = "x" * 1_048_576
    data = f"name,email,title,notes\nA,a@x.de,T,{huge}\nB,b@x.de,T,fine\n".encode()
    result = import_bytes(store, "x.csv", data)
    assert [(r.line, r.action) for r in result.rows] == [(2, "error"), (3, "add")]
    assert "1,048,576 characters" in result.rows[0].reason
    assert [c.email for c in store.list_contacts()] == ["b@x.de"]
    assert store.path.stat().st_size < 100_000
    assert csv.field_size_limit() == 131072  # the process-wide limit is restored


def test_overlong_name_is_a_row_error(store):
    data = ("name,email,title\n" + "N" * 300 + ",a@x.de,T\n").encode()
    result = import_bytes(store, "x.csv", data)
    assert result.errors == 1 and "full name" in result.rows[0].reason
    assert store.list_contacts() == []


def test_markup_and_escape_sequences_in_names(store):
    data = (
        b'name,email,title\n'
        b'"\x1b[31mEvil\x1b[0m [bold]Boss[/]",evil@x.de,"\x1b]0;pwned\x07CEO"\n'
    )
    result = import_bytes(store, "x.csv", data)
    assert result.added == 1
    evil = store.find_contact_by_email("evil@x.de")
    assert evil.full_name == "Evil [bold]Boss[/]"  # markup kept literally, ESC removed
    assert evil.title == "CEO"
    assert any("escape sequences removed" in w for w in result.rows[0].warnings)


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (bytes(range(256)) * 20, "binary"),
        (b"PK\x03\x04" + b"\x00" * 100, "Excel"),
        (b"%PDF-1.7\n%\xe2\xe3", "PDF"),
        (b"name,email,title\n\x00\x01\x02\x03\x04\x05\x06\x07\x08" * 50, "binary"),
        (b"", "empty"),
    ],
)
def test_binary_garbage_is_rejected_with_a_clear_report(store, data, words):
    preview = cio.preview_import(store, "x.csv", data)
    assert preview.fatal is not None and words in preview.fatal
    assert preview.summary().startswith("x.csv: not imported")
    assert cio.apply_import(store, preview).rows == []
    assert store.list_contacts() == []


def test_wrong_encoding_utf16_damaged(store):
    data = "name,email,title\n".encode("utf-16") + b"\x00\xd8"  # lone surrogate half
    preview = cio.preview_import(store, "x.csv", data)
    assert preview.fatal is not None and "UTF-16" in preview.fatal


def test_unreadable_file_path(store, tmp_path):
    preview = cio.preview_import(store, tmp_path / "missing.csv")
    assert preview.fatal is not None and "cannot read" in preview.fatal


def test_bad_eligible_value(store):
    data = b"name,email,title,eligible\nA,a@x.de,T,maybe\nB,b@x.de,T,nein\n"
    result = import_bytes(store, "x.csv", data)
    assert result.rows[0].action == "error" and "maybe" in result.rows[0].reason
    assert store.find_contact_by_email("b@x.de").eligible is False


# -- vCard specifics ------------------------------------------------------------------------


def test_bad_vcard_does_not_stop_the_others(store):
    text = (
        "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Good One\r\nEMAIL:good@x.de\r\nTITLE:CFO\r\n"
        "END:VCARD\r\n"
        "BEGIN:VCARD\r\nVERSION:3.0\r\nFN\r\nEMAIL:bad@x.de\r\nEND:VCARD\r\n"
        "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:No Title\r\nEMAIL:nt@x.de\r\nEND:VCARD\r\n"
        "BEGIN:VCARD\r\nVERSION:4.0\r\nFN:Cut Off\r\nEMAIL:cut@x.de\r\n"
    )
    result = import_bytes(store, "x.vcf", text.encode())
    assert [(r.line, r.action) for r in result.rows] == [
        (1, "add"), (7, "error"), (12, "error"), (17, "error")]
    assert "unreadable vCard" in result.rows[1].reason
    assert "title" in result.rows[2].reason
    assert "END:VCARD" in result.rows[3].reason
    assert [c.email for c in store.list_contacts()] == ["good@x.de"]


def test_vcard_21_quoted_printable_and_preferred_email(store):
    text = (
        "BEGIN:VCARD\r\nVERSION:2.1\r\n"
        "N;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:M=C3=BCller;Anna\r\n"
        "EMAIL;INTERNET:other@x.de\r\nEMAIL;INTERNET;PREF:anna@x.de\r\n"
        "TITLE:Leiterin IT\r\nEND:VCARD\r\n"
    )
    result = import_bytes(store, "x.vcf", text.encode())
    assert result.added == 1, cio.preview_text(result)
    anna = store.find_contact_by_email("anna@x.de")
    assert anna.full_name == "Anna Müller"


def test_vcard_org_ids_with_unescaped_commas(store):
    text = (
        "BEGIN:VCARD\r\nVERSION:4.0\r\nFN:A\r\nEMAIL:a@x.de\r\nTITLE:T\r\n"
        f"X-JUSTON-ORG-IDS:{ACME.org_id},{ALPEN.org_id}\r\nX-JUSTON-ELIGIBLE:FALSE\r\n"
        "END:VCARD\r\n"
    )
    import_bytes(store, "x.vcf", text.encode())
    contact = store.find_contact_by_email("a@x.de")
    assert contact.org_ids == (ACME.org_id, ALPEN.org_id)
    assert contact.eligible is False


def test_vcard_uid_kept_when_free(store):
    wanted = str(uuid.uuid4())
    text = (f"BEGIN:VCARD\r\nVERSION:4.0\r\nUID:urn:uuid:{wanted}\r\nFN:A\r\n"
            "EMAIL:a@x.de\r\nTITLE:T\r\nEND:VCARD\r\n")
    import_bytes(store, "x.vcf", text.encode())
    assert store.get_contact(wanted).email == "a@x.de"


# -- exports and helpers --------------------------------------------------------------------


def test_notification_list_has_eligible_contacts_of_chosen_orgs():
    contacts = tricky_contacts()
    text = cio.notification_list(contacts, [ACME, ALPEN], [ALPEN.org_id])
    lines = text.splitlines()
    assert lines[0].startswith("Contacts for JustOn push-upgrade notifications")
    assert f"Alpenbank AG (org ID {ALPEN.org_id})" in lines
    assert "  Jürgen Weiß-Öztürk, juergen@acme.de, Head of Finance, DACH; Billing" in lines
    assert "renee@alpen.ch" not in text  # not eligible
    assert "Acme GmbH" not in text  # not chosen
    everything = cio.notification_list(contacts, [ACME, ALPEN])
    assert "Not linked to an org" in everything and "markup@acme.de" in everything
    assert everything.count("juergen@acme.de") == 2  # listed under both of his orgs


def test_notification_list_strips_control_characters():
    bad = Contact.create(full_name="Eve\x1b[2J", email="eve@x.de", title="T\x07",
                         org_ids=[ACME.org_id])
    text = cio.notification_list([bad], [ACME], [ACME.org_id])
    assert "\x1b" not in text and "\x07" not in text
    assert "  Eve, eve@x.de, T" in text.splitlines()


def test_mutt_query_lines():
    contacts = [Contact.create(full_name="Anna\tMüller", email="anna@x.de", title="CFO")]
    lines = cio.mutt_query_lines(contacts, "mül")
    assert lines[0] == "juston-tui: 1 contact matching 'mül'"
    assert lines[1] == "anna@x.de\tAnna Müller\tCFO"
    assert cio.mutt_query_lines(contacts, "x", header=False) == [lines[1]]


def test_contact_index_search():
    index = cio.ContactIndex(tricky_contacts(), {ACME.org_id: ACME.name,
                                                 ALPEN.org_id: ALPEN.name})
    emails = lambda q, **kw: [c.email for c in index.search(q, **kw)]  # noqa: E731
    assert emails("weiss") == ["juergen@acme.de"]  # ß case-folds to ss
    assert emails("oztu") == ["juergen@acme.de"]  # accent-free
    assert emails("oeztue") == ["juergen@acme.de"]  # German transliteration
    assert emails("alpenbank") == ["juergen@acme.de", "renee@alpen.ch"]  # org names
    assert emails("alpenbank renée") == ["renee@alpen.ch"]  # every term must match
    assert emails("[red]") == ["markup@acme.de"]
    assert emails("", org_id=ACME.org_id) == ["juergen@acme.de", "zoe@example.com"]
    assert emails("", eligible_only=True) == [
        "juergen@acme.de", "markup@acme.de", "zoe@example.com"]
    assert len(index.search("")) == 4


def test_seed_demo(tmp_path):
    store = Store.open(tmp_path / "demo.json")
    orgs = [ACME, ALPEN, VENDOR]
    demo_contacts.seed(store, orgs)
    contacts = store.list_contacts()
    assert 20 <= len(contacts) <= 30
    assert any("[red]x[/]" in c.full_name for c in contacts)
    assert any(not c.eligible for c in contacts)
    assert any(any(ch in c.full_name for ch in "äöüßÄÖÜ") for c in contacts)
    assert all(c.org_ids and VENDOR.org_id not in c.org_ids for c in contacts)
    assert {o for c in contacts for o in c.org_ids} == {ACME.org_id, ALPEN.org_id}
    demo_contacts.seed(store, orgs)  # idempotent
    assert len(store.list_contacts()) == len(contacts)


def test_detect_format():
    assert cio.detect_format("a.csv", "BEGIN:VCARD\r\n") == "vcard"
    assert cio.detect_format("a.vcf", "name,email") == "vcard"
    assert cio.detect_format("a.txt", "name,email") == "csv"
    with pytest.raises(cio.ImportRejected):
        cio.detect_format("a.csv", "", "xml")


# -- property: any printable contact survives CSV and vCard round trips ----------------------

_TEXT = st.text(
    alphabet=st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp"),
                           blacklist_characters="\u0085"),
    min_size=1, max_size=40,
).filter(lambda s: s.strip() != "")
_NOTES = st.text(
    alphabet=st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp")) | st.just("\n"),
    max_size=80,
)


@st.composite
def contacts_strategy(draw):
    count = draw(st.integers(min_value=1, max_value=4))
    result = []
    for n in range(count):
        # dots only between characters: "a..b" and ".a" are no addresses (email-validator)
        local = draw(st.from_regex(r"[a-z0-9_%+-]{1,6}(\.[a-z0-9_%+-]{1,5})?", fullmatch=True))
        result.append(Contact.create(
            full_name=draw(_TEXT), email=f"{local}.{n}@example.de", title=draw(_TEXT),
            role=draw(st.one_of(st.just(""), _TEXT)),
            org_ids=draw(st.lists(st.sampled_from([ACME.org_id, ALPEN.org_id]),
                                  unique=True)),
            eligible=draw(st.booleans()), notes=draw(_NOTES).replace("\r", ""),
        ))
    return result


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(contacts=contacts_strategy(), version=st.sampled_from(["csv", "3.0", "4.0"]))
def test_round_trip_property(tmp_path_factory, contacts, version):
    store = Store.open(tmp_path_factory.mktemp("rt") / "s.json")
    if version == "csv":
        data, name = cio.export_csv(contacts).encode(), "x.csv"
    else:
        data, name = cio.export_vcard(contacts, version).encode(), "x.vcf"
    result = import_bytes(store, name, data)
    assert result.errors == 0, cio.preview_text(result)
    assert docs_by_id(store) == {c.id: c.to_doc() for c in contacts}
