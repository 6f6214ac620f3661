"""Every modal has the key bar and `?`; the contacts export shows its file field and the path
it wrote (issue 17, items 13 and 14). Keys only, at 120x40 and 80x24."""

from __future__ import annotations

from pathlib import Path

import pytest
from registry_fixtures import make_app as make_registry_app
from textual.widgets import Input
from ui_helpers import screen_text, settle

from juston_tui.app import JustOnApp
from juston_tui.credentials import open_credentials
from juston_tui.model import Contact, Org
from juston_tui.screens.base import JustOnModal
from juston_tui.screens.contacts_export import ExportScreen
from juston_tui.screens.help import HelpScreen
from juston_tui.screens.linked_contacts import LinkedContactsScreen
from juston_tui.screens.widgets.key_bar import KeyBar
from juston_tui.store import Store

SIZES = [(120, 40), (80, 24)]
ACME = Org.create(org_id="00D000000000001", name="Acme GmbH")


def contacts_app(tmp_path: Path) -> JustOnApp:
    store = Store.open(tmp_path / "s.json")
    store.add_org(ACME)
    store.put_many("contacts", [
        Contact.create(full_name="Anna Müller", email="anna@acme.de", title="CFO",
                       org_ids=[ACME.org_id]).to_doc(),
        Contact.create(full_name="Carla Weiß", email="carla@acme.de", title="Head of Finance",
                       org_ids=[ACME.org_id]).to_doc(),
    ])
    return JustOnApp(store=store, credentials=open_credentials("memory"), start_mode="contacts")


def key_bar_text(app: JustOnApp) -> str:
    bars = list(app.screen.query(KeyBar))
    assert len(bars) == 1, bars
    return bars[0].render().plain


def visible(app: JustOnApp, widget: object) -> bool:
    """The widget is on screen: it has a region inside the terminal and some height."""
    region = widget.region  # type: ignore[attr-defined]
    height = app.size.height
    return region.height > 0 and region.width > 0 and region.y >= 0 and \
        region.bottom <= height and widget in app.screen._compositor.visible_widgets


@pytest.mark.parametrize("size", SIZES)
async def test_linked_contacts_has_the_key_bar_and_help(tmp_path: Path,
                                                        size: tuple[int, int]) -> None:
    app = make_registry_app(tmp_path / "s.json")
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        await pilot.press("enter")  # org detail
        await settle(pilot)
        await pilot.press("l")
        await settle(pilot)
        assert isinstance(app.screen, LinkedContactsScreen)
        bar = key_bar_text(app)
        assert "? Keys" in bar and "Filter" in bar
        assert "? Keys" in screen_text(app).splitlines()[-1]
        await pilot.press("question_mark")
        await settle(pilot)
        assert isinstance(app.screen, HelpScreen)
        assert "Copy notification list" in [e[1] for e in app.screen.entries]
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, LinkedContactsScreen)
        await pilot.press("escape")
        await settle(pilot)
        assert not isinstance(app.screen, JustOnModal)


@pytest.mark.parametrize("keys", [("x",), ("a",), ("d",), ("i",)],
                         ids=["export", "add form", "confirm delete", "import"])
async def test_contacts_modals_have_the_key_bar(tmp_path: Path, keys: tuple[str, ...]) -> None:
    app = contacts_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press(*keys)
        await settle(pilot)
        modal = app.screen
        assert isinstance(modal, JustOnModal), modal
        bar = key_bar_text(app)
        assert "? Keys" in bar or "f1 Keys" in bar
        await pilot.press("f1")  # works in a text field too, where `?` is typed
        await settle(pilot)
        assert isinstance(app.screen, HelpScreen)
        assert app.screen.target is modal
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is modal


@pytest.mark.parametrize("size", SIZES)
async def test_export_file_field_visible_and_toast_names_the_full_path(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, size: tuple[int, int]) -> None:
    monkeypatch.chdir(tmp_path)
    app = contacts_app(tmp_path)
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        await pilot.press("x")
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, ExportScreen)
        box = dialog.query_one("#export-path", Input)
        assert visible(app, box)
        assert "juston-contacts.csv" in screen_text(app)
        assert "? Keys" in key_bar_text(app)
        await pilot.press("question_mark")  # the format list has the focus, not a text field
        await settle(pilot)
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape")
        await settle(pilot)
        for _ in range(6):  # tab to the file field, as a person would
            if app.focused is box:
                break
            await pilot.press("tab")
        assert app.focused is box
        assert visible(app, box)
        await pilot.press("ctrl+a", "ctrl+k", *"out.csv", "ctrl+s")
        await settle(pilot)
        written = tmp_path / "out.csv"
        assert written.read_text(encoding="utf-8").startswith("full_name,email")
        toasts = [str(n.message) for n in app._notifications]
        assert any(f"to {written}" in t for t in toasts), toasts
