"""contacts_io.edits: undo entries and the undo, through the store's own contact methods."""

from __future__ import annotations

import pytest

from juston_tui import contacts_io as cio
from juston_tui.model import Contact
from juston_tui.store import Store

ANNA = Contact.create(full_name="Anna Müller", email="anna@acme.de", title="Admin",
                      role="Finance", notes="Deputy: Bruno", org_ids=["00D000000000001"])
BRUNO = Contact.create(full_name="Bruno Gruber", email="bruno@alpen.at", title="CFO")


@pytest.fixture
def store(tmp_path):
    s = Store.open(tmp_path / "s.json")
    s.put_contacts([ANNA, BRUNO])
    return s


def test_undo_of_a_delete_puts_the_contact_back_whole(store):
    removed = store.remove_contact(ANNA.id)
    outcome = cio.undo(store, cio.UndoEntry.deleted(removed))
    assert outcome.restored == [ANNA] and outcome.blocked == []
    assert store.get_contact(ANNA.id) == ANNA


def test_undo_of_an_add_removes_it_and_a_vanished_one_is_no_error(store):
    carla = Contact.create(full_name="Carla", email="carla@acme.de", title="CTO")
    store.add_contact(carla)
    entry = cio.UndoEntry.added(carla)
    assert cio.undo(store, entry).removed == [carla.id]
    assert store.find_contact_by_email("carla@acme.de") is None
    assert cio.undo(store, entry).removed == [carla.id]  # gone already: nothing to do


def test_undo_of_an_edit_restores_every_field(store):
    before, after = cio.change_contact(store, ANNA.id, {"title": "CFO", "eligible": False,
                                                         "notes": "", "org_ids": []})
    assert before == ANNA and after.title == "CFO"
    cio.undo(store, cio.UndoEntry.changed(before, "edit"))
    assert store.get_contact(ANNA.id) == ANNA


def test_an_address_taken_meanwhile_is_reported_not_doubled(store):
    removed = store.remove_contact(ANNA.id)
    other = Contact.create(full_name="Anna Neu", email="ANNA@acme.de", title="CIO")
    store.add_contact(other)
    outcome = cio.undo(store, cio.UndoEntry.deleted(removed))
    assert outcome.restored == []
    assert outcome.blocked == ["anna@acme.de already belongs to Anna Neu"]
    assert [c.id for c in store.list_contacts() if "anna" in c.email.lower()] == [other.id]


def test_an_undo_is_one_write_and_all_or_nothing(store, full_disk):
    carla = Contact.create(full_name="Carla", email="carla@acme.de", title="CTO")
    store.add_contact(carla)
    store.remove_contact(ANNA.id)
    entry = cio.UndoEntry("two things", restore=(ANNA,), remove=(carla.id,))
    before = store.path.read_bytes()

    full_disk.on()
    with pytest.raises(OSError):
        cio.undo(store, entry)
    assert store.path.read_bytes() == before
    full_disk.off()
    writes = store.write_count
    cio.undo(store, entry)
    assert store.write_count - writes == 1
    assert store.get_contact(ANNA.id) == ANNA
    assert store.find_contact_by_email("carla@acme.de") is None


def test_change_contact_computes_against_the_stored_contact(store):
    other = Store.open(store.path)
    other.update_contact(ANNA.id, eligible=False, notes="from the CLI")
    before, after = cio.change_contact(store, ANNA.id, lambda c: {"eligible": not c.eligible})
    assert before.eligible is False and after.eligible is True
    assert after.notes == "from the CLI"


def test_the_undo_of_an_import_removes_its_adds_and_restores_its_updates(store):
    data = ("name,email,title\nAnna Müller,anna@acme.de,Head of IT\n"
            "Dora,dora@x.de,CTO\n").encode()
    result = cio.apply_import(store, cio.preview_import(store, "x.csv", data))
    entry = cio.UndoEntry.imported(result)
    dora = store.find_contact_by_email("dora@x.de")
    assert entry.restore == (ANNA,) and entry.remove == (dora.id,)
    cio.undo(store, entry)
    assert store.get_contact(ANNA.id) == ANNA
    assert store.find_contact_by_email("dora@x.de") is None
