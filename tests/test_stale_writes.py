"""Writes from the UI apply to what is stored *now*, not to what a screen read earlier.

Another Store instance on the same file plays "another juston-tui / the CLI" changing records
behind an open form or screen; the UI must keep those changes (keys only through Pilot).
"""

from __future__ import annotations

from pathlib import Path

from contacts_fixtures import ALPEN
from contacts_fixtures import make_app as make_contacts_app
from registry_fixtures import make_app as make_registry_app
from registry_fixtures import org_id, table
from ui_helpers import settle, type_text

from juston_tui.model import PushRegistration
from juston_tui.screens.contact_form import ContactFormScreen
from juston_tui.screens.org_form import OrgFormScreen
from juston_tui.store import Store
from juston_tui.vendor_import import apply_plan, plan_vendor_import


async def test_org_form_keeps_changes_made_while_it_was_open(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    app = make_registry_app(path)
    other = Store.open(path)
    async with app.run_test(size=(100, 40)) as pilot:
        await settle(pilot)
        table(app).move_to_key(org_id(3))
        await pilot.press("e")
        await pilot.pause()
        assert isinstance(app.screen, OrgFormScreen)
        # Meanwhile: push registration recorded, vendor sync adds a product, notes edited.
        other.update_org(org_id(3), push=PushRegistration("requested", "2026-05-01", "SUP-9"),
                         products=["billing"], notes="call before the push")
        await pilot.press("ctrl+u", *"Globex Intl", "ctrl+s")
        await settle(pilot)
        assert not isinstance(app.screen, OrgFormScreen)
        saved = other.get_org(org_id(3))
        assert saved.name == "Globex Intl"
        assert saved.push.state == "requested" and saved.push.ticket == "SUP-9"
        assert saved.products == ("billing",)
        assert saved.notes == "call before the push"
        assert saved.tags == ("us",)
    other.close()


async def test_org_form_without_edits_writes_nothing_back(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    app = make_registry_app(path)
    other = Store.open(path)
    async with app.run_test(size=(100, 40)) as pilot:
        await settle(pilot)
        table(app).move_to_key(org_id(1))
        await pilot.press("e")
        await pilot.pause()
        other.update_org(org_id(1), name="Acme Renamed", tags=["x"])
        await pilot.press("ctrl+s")
        await settle(pilot)
        saved = other.get_org(org_id(1))
        assert saved.name == "Acme Renamed" and saved.tags == ("x",)
        assert saved.push.state == "registered"
    other.close()


async def test_contact_form_keeps_changes_made_while_it_was_open(tmp_path: Path) -> None:
    app = make_contacts_app(tmp_path)
    other = Store.open(tmp_path / "s.json")
    anna = other.find_contact_by_email("anna@acme.de")
    assert anna is not None and anna.eligible
    async with app.run_test(size=(100, 32)) as pilot:
        await settle(pilot)
        await pilot.press("e")  # Anna, first row
        await pilot.pause()
        assert isinstance(app.screen, ContactFormScreen)
        other.update_contact(anna.id, eligible=False, org_ids=[ALPEN.org_id],
                             role="Finance")
        await pilot.press("tab", "tab", "end")  # to the title
        await type_text(pilot, " DACH")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert not isinstance(app.screen, ContactFormScreen)
        saved = other.get_contact(anna.id)
        assert saved.title == "Salesforce-Administratorin DACH"
        assert saved.eligible is False
        assert saved.org_ids == (ALPEN.org_id,)
        assert saved.role == "Finance"
    other.close()


# -- push registration: the new state comes from the stored org -------------------------------
async def _open_push_request(app, pilot, n: int) -> None:
    await settle(pilot)
    table(app).move_to_key(org_id(n))
    await pilot.press("p")
    await settle(pilot)
    assert type(app.screen).__name__ == "PushRequestScreen"


def _notes(app) -> str:
    return "\n".join(str(n.message) for n in app._notifications)


async def test_push_transition_starts_from_the_stored_state(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    app = make_registry_app(path)
    other = Store.open(path)
    async with app.run_test(size=(120, 50)) as pilot:
        await _open_push_request(app, pilot, 3)  # Globex: not registered when loaded
        other.update_org(org_id(3), push=PushRegistration("requested", "2026-05-01", "SUP-1"))
        await pilot.press("g")  # registered: legal from what is stored now
        await settle(pilot)
        push = other.get_org(org_id(3)).push
        assert push.state == "registered"
        assert push.ticket == "SUP-1" and push.requested_on == "2026-05-01"
        assert "registered" in str(app.screen.query_one("#push-summary").render())
    other.close()


async def test_push_transition_illegal_now_is_refused_with_its_message(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    app = make_registry_app(path)
    other = Store.open(path)
    async with app.run_test(size=(120, 50)) as pilot:
        await _open_push_request(app, pilot, 3)  # not registered when loaded
        other.update_org(org_id(3), push=PushRegistration("registered", "2026-04-01", "SUP-2",
                                                          "2026-04-10"))
        await pilot.press("m")
        await pilot.pause()
        await pilot.press(*"SUP-3", "enter")
        await settle(pilot)
        push = other.get_org(org_id(3)).push
        assert push.state == "registered" and push.ticket == "SUP-2"
        assert "cannot go from registered to requested" in _notes(app)
    other.close()


async def test_push_request_export_is_atomic_and_private(tmp_path: Path) -> None:
    app = make_registry_app(tmp_path / "s.json")
    target = tmp_path / "request.txt"
    target.write_text("old request\n")
    target.chmod(0o644)
    async with app.run_test(size=(120, 50)) as pilot:
        await _open_push_request(app, pilot, 1)
        await pilot.press("w")
        await pilot.pause()
        await pilot.press("ctrl+u", *str(target), "enter")
        await settle(pilot)
        assert type(app.screen).__name__ == "ConfirmScreen"  # it exists: asked first
        await pilot.press("y")
        await settle(pilot)
        assert target.read_text() == app.screen.text
    assert target.stat().st_mode & 0o777 == 0o600  # a new file (mkstemp), not rewritten in place
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".request")] == []


# -- vendor import plan applied against the stored orgs --------------------------------------
def test_apply_plan_recomputes_against_the_stored_orgs(tmp_path: Path) -> None:
    from juston_tui.model import Org

    path = tmp_path / "s.json"
    store = Store.open(path)
    store.add_org(Org.create(org_id=org_id(1), name="Acme", products=["billing"]))
    subscribers = [
        {"org_id": org_id(1), "name": "Acme GmbH", "kind": "production",
         "products": {"billing": "2.80", "cash": "1.14"}},
        {"org_id": org_id(2), "name": "Beta AG", "kind": "production",
         "products": {"billing": "2.80"}},
        {"org_id": org_id(3), "name": "Gamma AG", "kind": "production",
         "products": {"billing": "2.79"}},
    ]
    plan = plan_vendor_import(store, subscribers, org_id(9))
    assert [p["action"] for p in plan] == ["update", "add", "add"]
    # Meanwhile, another instance: Acme gets a product and notes, Beta is registered by hand.
    other = Store.open(path)
    other.update_org(org_id(1), products=["billing", "dunning"], notes="keep me")
    other.add_org(Org.create(org_id=org_id(2), name="Beta (manual)", products=["einvoice"],
                             tags=["manual"]))
    added, updated = apply_plan(store, plan)
    assert (added, updated) == (1, 2)
    acme = other.get_org(org_id(1))
    assert acme.name == "Acme GmbH" and acme.notes == "keep me"
    assert acme.products == ("billing", "cash", "dunning")
    beta = other.get_org(org_id(2))
    assert beta.name == "Beta AG" and beta.tags == ("manual",)
    assert beta.products == ("billing", "einvoice")
    assert other.get_org(org_id(3)).products == ("billing",)
    other.close()
    store.close()


def test_apply_plan_leaves_an_org_removed_meanwhile_removed(tmp_path: Path) -> None:
    from juston_tui.model import Org

    store = Store.open(tmp_path / "s.json")
    store.add_org(Org.create(org_id=org_id(1), name="Acme"))
    plan = plan_vendor_import(store, [{"org_id": org_id(1), "name": "Acme GmbH",
                                       "products": {"billing": "2.80"}}], org_id(9))
    store.remove_org(org_id(1))
    assert apply_plan(store, plan) == (0, 0)
    assert store.find_org(org_id(1)) is None
    store.close()


# -- contacts: read for undo and write in one go, toggles flip what is stored ---------------
async def test_contact_toggle_flips_the_stored_flag_and_undo_restores_it(
        tmp_path: Path) -> None:
    app = make_contacts_app(tmp_path)
    other = Store.open(tmp_path / "s.json")
    anna = other.find_contact_by_email("anna@acme.de")
    assert anna is not None and anna.eligible
    async with app.run_test(size=(100, 32)) as pilot:
        await settle(pilot)
        # Another instance turns notifications off (and edits the notes) behind the row.
        other.update_contact(anna.id, eligible=False, notes="from the CLI")
        await pilot.press("space")
        await settle(pilot)
        now = other.get_contact(anna.id)
        assert now.eligible is True and now.notes == "from the CLI"
        await pilot.press("u")
        await settle(pilot)
        back = other.get_contact(anna.id)
        assert back.eligible is False and back.notes == "from the CLI"
    other.close()
