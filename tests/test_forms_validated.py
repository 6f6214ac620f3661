"""The shared form base: one error class, the message at the field, cleared while corrected."""

from __future__ import annotations

from pathlib import Path

from registry_fixtures import make_app, org_id, table
from textual.widgets import Input, Static
from ui_helpers import settle

from juston_tui.screens.credentials_form import CredentialsFormScreen
from juston_tui.screens.form_base import ERROR_CLASS, ValidatedForm
from juston_tui.screens.org_form import OrgFormScreen


def message(form: ValidatedForm, name: str) -> str:
    return str(form.query_one(f"#error-{name}", Static).render())


async def test_org_form_marks_the_field_and_clears_it_while_corrected(tmp_path: Path) -> None:
    app = make_app(tmp_path / "s.json")
    async with app.run_test(size=(100, 40)) as pilot:
        await settle(pilot)
        await pilot.press("a")
        await pilot.pause()
        form = app.screen
        assert isinstance(form, OrgFormScreen)
        field = form.query_one("#field-org_id", Input)
        await pilot.press(*"00Dnope", "tab")  # leaving the field checks it
        await pilot.pause()
        assert field.has_class(ERROR_CLASS) and message(form, "org_id")
        assert app.focused is form.query_one("#field-name", Input)
        await pilot.press("shift+tab", "ctrl+u", *org_id(7)[:15])
        await pilot.pause()
        assert not field.has_class(ERROR_CLASS) and message(form, "org_id") == ""
        await pilot.press("ctrl+s")  # the name is missing: focus goes there
        await pilot.pause()
        assert app.focused is form.query_one("#field-name", Input)
        assert form.query_one("#field-name", Input).has_class(ERROR_CLASS)
        assert field.value == org_id(7)[:15]  # kept
        await pilot.press(*"Seven AG", "ctrl+s")
        await settle(pilot)
        assert app.store.get_org(org_id(7)).name == "Seven AG"


async def test_credentials_form_uses_the_same_error_class(tmp_path: Path) -> None:
    app = make_app(tmp_path / "s.json")
    async with app.run_test(size=(120, 60)) as pilot:
        await settle(pilot)
        table(app).move_to_key(org_id(3))
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("c")
        await pilot.pause()
        form = app.screen
        assert isinstance(form, CredentialsFormScreen)
        secret = form.query_one("#secret-access_token", Input)
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert secret.has_class(ERROR_CLASS)
        assert "access token is required" in message(form, "access_token")
        assert app.focused is secret
        await pilot.press(*"tok")
        await pilot.pause()
        assert not secret.has_class(ERROR_CLASS) and message(form, "access_token") == ""
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.get_credentials().get(org_id(3), "access_token") == "tok"
