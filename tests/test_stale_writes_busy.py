"""A failing worker leaves the screen usable: busy flags drop, undo entries are kept."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from contacts_fixtures import make_app as make_contacts_app
from registry_fixtures import make_app as make_registry_app
from registry_fixtures import org_id, table
from textual.widgets import Static
from ui_helpers import settle, type_text

from juston_tui.screens.contacts_import import ImportScreen


def _notes(app: Any) -> str:
    return "\n".join(str(n.message) for n in app._notifications)


def _fail_once(monkeypatch: pytest.MonkeyPatch, obj: Any, name: str) -> None:
    """The next call of obj.name raises OSError (a full disk, a vanished folder)."""
    original = getattr(obj, name)

    def failing(*args: Any, **kwargs: Any) -> Any:
        monkeypatch.setattr(obj, name, original)
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(obj, name, failing)


async def test_contacts_undo_that_fails_can_be_tried_again(tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch
                                                           ) -> None:
    app = make_contacts_app(tmp_path)
    async with app.run_test(size=(100, 32)) as pilot:
        await settle(pilot)
        await pilot.press("d")
        await pilot.pause()
        await pilot.press("y")
        await settle(pilot)
        assert app.store.find_contact_by_email("anna@acme.de") is None
        _fail_once(monkeypatch, app.store, "put_doc")
        await pilot.press("u")
        await settle(pilot)
        assert "Not undone" in _notes(app) and "No space left" in _notes(app)
        assert app.store.find_contact_by_email("anna@acme.de") is None
        await pilot.press("u")  # the entry is still there
        await settle(pilot)
        assert app.store.find_contact_by_email("anna@acme.de") is not None


async def test_registry_undo_that_fails_can_be_tried_again(tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch
                                                           ) -> None:
    app = make_registry_app(tmp_path / "s.json")
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        table(app).move_to_key(org_id(3))
        await pilot.press("d")
        await pilot.pause()
        await pilot.press("y")
        await settle(pilot)
        assert app.store.find_org(org_id(3)) is None
        _fail_once(monkeypatch, app.store, "add_org")
        await pilot.press("u")
        await settle(pilot)
        assert "Not restored" in _notes(app)
        assert app.store.find_org(org_id(3)) is None
        await pilot.press("u")
        await settle(pilot)
        assert app.store.find_org(org_id(3)) is not None


async def test_import_preview_that_fails_leaves_the_dialog_usable(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import juston_tui.screens.contacts_import as module

    monkeypatch.chdir(tmp_path)
    (tmp_path / "g.csv").write_text("Name,E-mail 1 - Value,Organization 1 - Title\n"
                                    "Frida Nägele,frida@x.de,Controlling\n", encoding="utf-8")
    app = make_contacts_app(tmp_path)
    async with app.run_test(size=(110, 40)) as pilot:
        await settle(pilot)
        await pilot.press("i")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, ImportScreen)
        _fail_once(monkeypatch, module, "preview_import")
        await type_text(pilot, "g.csv")
        await pilot.press("enter")
        await settle(pilot)
        assert "No space left" in str(dialog.query_one("#import-error", Static).render())
        assert not dialog.busy
        await pilot.press("enter")  # again, the read works now
        await settle(pilot)
        assert "1 would be added" in str(dialog.query_one("#import-summary", Static).render())
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.store.find_contact_by_email("frida@x.de") is not None
