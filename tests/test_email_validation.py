"""E-mail addresses are judged by the maintained `email-validator` (syntax only, no DNS)."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from textual.widgets import Input, Static
from ui_helpers import settle

from juston_tui.app import JustOnApp
from juston_tui.credentials import open_credentials
from juston_tui.model import Contact, Org, ValidationError, validate_email
from juston_tui.screens.contact_form import ContactFormScreen
from juston_tui.screens.contacts import ContactsScreen
from juston_tui.store import Store

REFUSED = {
    "ute..x@acme.de": "two periods in a row",
    "ute@acme.d": "no top-level domain",
    ".ute@acme.de": "period",
    "ute@acme..de": "period",
    "ute@-acme.de": "ute@-acme.de",
    "ute@localhost": "period",
    "": "required",
    "anna": "@",
    "an na@example.de": "SPACE",
}
ACCEPTED = {
    " Anna.Muller@Example.DE ": "Anna.Muller@example.de",
    "ute.berger+push@acme.de": "ute.berger+push@acme.de",
    "d@x.at": "d@x.at",
    "jörg@müller.de": "jörg@müller.de",
    "jorg@MÜLLER.DE": "jorg@müller.de",
    "o'brien@firma.com.tr": "o'brien@firma.com.tr",
}


@pytest.mark.parametrize("address", sorted(REFUSED))
def test_refused_with_a_reason_at_the_field(address: str) -> None:
    with pytest.raises(ValidationError) as info:
        validate_email(address)
    assert REFUSED[address] in info.value.errors["email"]


@pytest.mark.parametrize("address", sorted(ACCEPTED))
def test_accepted_and_normalised(address: str) -> None:
    assert validate_email(address) == ACCEPTED[address]


def test_no_dns_look_up(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("validation looked something up")

    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.setattr(socket, "gethostbyname", refuse)
    assert validate_email("ute@acme-nowhere-at-all.de") == "ute@acme-nowhere-at-all.de"


def test_contact_create_uses_it() -> None:
    with pytest.raises(ValidationError) as info:
        Contact.create(full_name="Ute", email="ute..x@acme.de", title="CFO")
    assert set(info.value.errors) == {"email"}


def make_app(tmp_path: Path) -> JustOnApp:
    store = Store.open(tmp_path / "s.json")
    store.add_org(Org.create(org_id="00D000000000001", name="Acme GmbH"))
    return JustOnApp(store=store, credentials=open_credentials("memory"), start_mode="contacts")


async def type_text(pilot, text: str) -> None:
    await pilot.press(*[{" ": "space"}.get(ch, ch) for ch in text])


async def test_form_refuses_both_at_the_field_then_saves(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("a")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, ContactFormScreen)
        await type_text(pilot, "Ute Berger")
        await pilot.press("tab")
        await type_text(pilot, "ute..x@acme.de")
        await pilot.press("tab")
        await type_text(pilot, "CFO")
        for bad, reason in (("ute..x@acme.de", "two periods in a row"),
                            ("ute@acme.d", "no top-level domain")):
            await pilot.press("ctrl+s")
            await settle(pilot)
            assert app.screen is form
            error = str(form.query_one("#error-email", Static).render())
            assert bad in error and reason in error
            assert app.focused is form.query_one("#field-email", Input)
            assert not app.store.list_contacts()
            await pilot.press("ctrl+a", "ctrl+k")
            await type_text(pilot, "ute@acme.d")
        await pilot.press("ctrl+a", "ctrl+k")
        await type_text(pilot, "ute@acme.de")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, ContactsScreen)
        assert app.store.find_contact_by_email("ute@acme.de") is not None
