"""Writes from the UI apply to what is stored *now*, not to what a screen read earlier.

Another Store instance on the same file plays "another juston-tui / the CLI" changing records
behind an open form or screen; the UI must keep those changes (keys only through Pilot).
"""

from __future__ import annotations

from pathlib import Path

from registry_fixtures import make_app as make_registry_app
from registry_fixtures import org_id
from test_contacts_screen import ALPEN, type_text
from test_contacts_screen import make_app as make_contacts_app
from test_contacts_screen import settle as contacts_settle
from test_registry import settle, table

from juston_tui.model import PushRegistration
from juston_tui.screens.contact_form import ContactFormScreen
from juston_tui.screens.org_form import OrgFormScreen
from juston_tui.store import Store


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
        await contacts_settle(app, pilot)
        await pilot.press("e")  # Anna, first row
        await pilot.pause()
        assert isinstance(app.screen, ContactFormScreen)
        other.update_contact(anna.id, eligible=False, org_ids=[ALPEN.org_id],
                             role="Finance")
        await pilot.press("tab", "tab", "end")  # to the title
        await type_text(pilot, " DACH")
        await pilot.press("ctrl+s")
        await contacts_settle(app, pilot)
        assert not isinstance(app.screen, ContactFormScreen)
        saved = other.get_contact(anna.id)
        assert saved.title == "Salesforce-Administratorin DACH"
        assert saved.eligible is False
        assert saved.org_ids == (ALPEN.org_id,)
        assert saved.role == "Finance"
    other.close()
