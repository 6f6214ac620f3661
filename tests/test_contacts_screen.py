"""Contacts screen (5) and its modals, driven by the keyboard through Pilot."""

from __future__ import annotations

from pathlib import Path

import pytest
from contacts_fixtures import ACME, ALPEN, make_app, seeded_store
from textual.widgets import Input, Static
from ui_helpers import settle, type_text

from juston_tui.app import JustOnApp
from juston_tui.demo import contacts as demo_contacts
from juston_tui.model import Contact
from juston_tui.screens.contact_form import ContactFormScreen
from juston_tui.screens.contacts import ContactsScreen
from juston_tui.screens.contacts_export import ExportScreen
from juston_tui.screens.contacts_import import ImportScreen
from juston_tui.screens.linked_contacts import LinkedContactsScreen
from juston_tui.screens.messages import StoreChanged
from juston_tui.screens.org_picker import OrgPickerScreen
from juston_tui.store import Store


def screen(app: JustOnApp) -> ContactsScreen:
    assert isinstance(app.screen, ContactsScreen), type(app.screen)
    return app.screen


def table_lines(app: JustOnApp) -> list[str]:
    table = screen(app).table
    return [table.render_line(y).text for y in range(table.size.height)]


def emails_shown(app: JustOnApp) -> list[str]:
    s = screen(app)
    return [s.index.get(k).email for k in s.table.row_keys]


async def test_list_loads_and_filters_as_you_type(tmp_path):
    app = make_app(tmp_path)
    async with app.run_test(size=(140, 30)) as pilot:
        await settle(pilot)
        assert emails_shown(app) == ["anna@acme.de", "bruno@alpen.at", "carla@acme.de"]
        status = str(app.screen.query_one("#contacts-status", Static).render())
        assert "3 contacts" in status and "2 eligible" in status
        assert any("Acme GmbH, Alpenbank AG" in line for line in table_lines(app))
        await pilot.press("slash")
        await type_text(pilot, "weiss")  # ß folds to ss
        assert emails_shown(app) == ["carla@acme.de"]
        await pilot.press("ctrl+a", "ctrl+k")
        await type_text(pilot, "alpenb")  # org names are searchable
        assert emails_shown(app) == ["bruno@alpen.at", "carla@acme.de"]
        await pilot.press("enter")  # back to the table, filter kept
        assert app.focused is screen(app).table
        await pilot.press("escape")
        assert len(emails_shown(app)) == 3


async def test_markup_and_escape_sequences_are_shown_literally(tmp_path):
    store = seeded_store(tmp_path / "s.json")
    # Straight into the store, as another tool might have written it.
    store.put_doc("contacts", {"id": "evil", "full_name": "[red]x[/] \x1b[31mEvil\x1b]0;t\x07",
                               "email": "evil@x.de", "title": "[bold]Boss[/bold]\x07",
                               "role": "", "org_ids": [], "eligible": True, "notes": ""})
    app = make_app(tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        table = screen(app).table
        row = next(
            table.render_line(y) for y in range(1, table.size.height)
            if "evil@x.de" in table.render_line(y).text
        )
        text = row.text
        assert "[red]x[/] Evil" in text and "[bold]Boss[/bold]" in text
        assert not any(ord(ch) < 32 or 0x7F <= ord(ch) < 0xA0 for ch in text)
        for segment in row:  # the markup did not turn into styles
            if "[red]" in segment.text:
                assert segment.style is None or segment.style.color is None or \
                    segment.style.color.name != "red"
        await pilot.press("slash")
        await type_text(pilot, "[red]")
        assert emails_shown(app) == ["evil@x.de"]


async def test_add_validates_in_place_and_keeps_what_was_typed(tmp_path):
    app = make_app(tmp_path)
    async with app.run_test(size=(100, 32)) as pilot:
        await settle(pilot)
        await pilot.press("a")
        await pilot.pause()
        form = app.screen
        assert isinstance(form, ContactFormScreen)
        await type_text(pilot, "Dora Ö")
        await pilot.press("tab")
        await type_text(pilot, "dora")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is form
        assert "not an e-mail address" in str(form.query_one("#error-email", Static).render())
        assert "title is required" in str(form.query_one("#error-title", Static).render())
        assert form.query_one("#field-full_name", Input).value == "Dora Ö"
        assert app.focused is form.query_one("#field-email", Input)
        await pilot.press("ctrl+a", "ctrl+k")  # clear the e-mail field, then retype
        await type_text(pilot, "d@x.at")
        await pilot.press("tab")
        await type_text(pilot, "CFO")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, ContactsScreen)
        saved = app.store.find_contact_by_email("d@x.at")
        assert saved is not None and saved.full_name == "Dora Ö" and saved.eligible
        assert screen(app).table.cursor_key == saved.id
        await pilot.press("u")  # undo the add
        await settle(pilot)
        assert app.store.find_contact_by_email("d@x.at") is None


async def test_duplicate_email_is_refused_with_a_pointer(tmp_path):
    app = make_app(tmp_path)
    async with app.run_test(size=(100, 32)) as pilot:
        await settle(pilot)
        await pilot.press("a")
        await type_text(pilot, "Z")
        await pilot.press("tab")
        await type_text(pilot, "e@x.de")
        await pilot.press("tab")
        await type_text(pilot, "T")
        # The list is stale (another process added the e-mail): the store still refuses.
        app.store.add_contact(Contact.create(full_name="Eva Erste", email="e@x.de",
                                             title="CIO"))
        await pilot.press("ctrl+s")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, ContactFormScreen)
        message = str(form.query_one("#error-email", Static).render())
        assert "already belongs to Eva Erste" in message and "ctrl+g" in message
        assert form.query_one("#field-title", Input).value == "T"  # kept
        # Against the loaded list, the check happens as soon as the field is left.
        form.query_one("#field-email", Input).focus()
        await pilot.press("ctrl+a", "ctrl+k")
        await type_text(pilot, "ANNA@acme.de")
        await pilot.press("tab")
        message = str(form.query_one("#error-email", Static).render())
        assert "already belongs to Anna Müller" in message
        assert len(app.store.list_contacts()) == 4
        await pilot.press("ctrl+g")
        await settle(pilot)
        anna = app.store.find_contact_by_email("anna@acme.de")
        assert screen(app).table.cursor_key == anna.id


async def test_edit_with_e_and_enter(tmp_path):
    app = make_app(tmp_path)
    async with app.run_test(size=(100, 32)) as pilot:
        await settle(pilot)
        await pilot.press("j")  # Bruno
        await pilot.press("e")
        await pilot.pause()
        assert isinstance(app.screen, ContactFormScreen)
        await pilot.press("tab", "tab")  # to the title
        await pilot.press("end")
        await type_text(pilot, " DE")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.store.find_contact_by_email("bruno@alpen.at").title == "CFO DE"
        assert any("CFO DE" in line for line in table_lines(app))
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, ContactFormScreen)
        await pilot.press("escape")
        await pilot.pause()
        await pilot.press("u")  # undo the edit
        await settle(pilot)
        assert app.store.find_contact_by_email("bruno@alpen.at").title == "CFO"


async def test_delete_confirms_and_undo_restores(tmp_path):
    app = make_app(tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        anna = app.store.find_contact_by_email("anna@acme.de")
        await pilot.press("d")
        await pilot.pause()
        await pilot.press("n")  # no: nothing happens
        await settle(pilot)
        assert app.store.find_contact_by_email("anna@acme.de") is not None
        await pilot.press("d")
        await pilot.pause()
        await pilot.press("y")
        await settle(pilot)
        assert app.store.find_contact_by_email("anna@acme.de") is None
        assert "anna@acme.de" not in emails_shown(app)
        await pilot.press("u")
        await settle(pilot)
        assert app.store.get_contact(anna.id) == anna
        assert "anna@acme.de" in emails_shown(app)


async def test_space_toggles_eligible_and_y_copies_email(tmp_path):
    app = make_app(tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("space")
        await settle(pilot)
        assert app.store.find_contact_by_email("anna@acme.de").eligible is False
        assert "1 eligible" in str(app.screen.query_one("#contacts-status", Static).render())
        await pilot.press("u")
        await settle(pilot)
        assert app.store.find_contact_by_email("anna@acme.de").eligible is True
        await pilot.press("y")
        assert app.copied == ["anna@acme.de"]


async def test_link_orgs_with_the_searchable_picker(tmp_path):
    app = make_app(tmp_path)
    async with app.run_test(size=(140, 30)) as pilot:
        await settle(pilot)
        await pilot.press("l")
        await settle(pilot)
        picker = app.screen
        assert isinstance(picker, OrgPickerScreen)
        assert picker.table.selected_keys == {ACME.org_id}
        await pilot.press("slash")
        await type_text(pilot, "alpen")
        assert picker.table.row_keys == [ALPEN.org_id]
        await pilot.press("enter")  # back to the list
        await pilot.press("space")  # mark Alpenbank
        await pilot.press("enter")  # take the marked ones
        await settle(pilot)
        anna = app.store.find_contact_by_email("anna@acme.de")
        assert anna.org_ids == (ACME.org_id, ALPEN.org_id)
        assert any("Anna Müller" in line and "Acme GmbH, Alpenbank AG" in line
                   for line in table_lines(app))


async def test_open_screen_with_org_filters_to_linked_contacts(tmp_path):
    app = make_app(tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        app.open_screen("contacts", org_id=ALPEN.org_id)
        await settle(pilot)
        assert emails_shown(app) == ["bruno@alpen.at", "carla@acme.de"]
        assert "org: Alpenbank AG" in str(
            app.screen.query_one("#contacts-status", Static).render())
        await pilot.press("escape")
        assert len(emails_shown(app)) == 3


async def test_focus_request_before_load(tmp_path):
    seeded_store(tmp_path / "s.json")
    app = make_app(tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("1")
        await pilot.pause()
        app.open_screen("contacts", org_id=ACME.org_id)
        await settle(pilot)
        assert emails_shown(app) == ["anna@acme.de", "carla@acme.de"]


async def export_to(app, pilot, name: str):
    """Open the export dialog (x), type a file name, save (ctrl+s): (dialog, path box)."""
    await settle(pilot)
    await pilot.press("x")
    await settle(pilot)
    dialog = app.screen
    assert isinstance(dialog, ExportScreen)
    path_box = dialog.query_one("#export-path", Input)
    path_box.focus()
    await pilot.press("ctrl+a", "ctrl+k")
    await type_text(pilot, name)
    await pilot.press("ctrl+s")
    await settle(pilot)
    return dialog, path_box


async def test_export_dialog_saves_and_copies(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    app = make_app(tmp_path)
    target = tmp_path / "out.csv"
    async with app.run_test(size=(110, 40)) as pilot:
        dialog, path_box = await export_to(app, pilot, "out.csv")
        assert target.read_text(encoding="utf-8").startswith("full_name,email,title")
        assert target.stat().st_mode & 0o077 == 0
        dialog.query_one("#export-format").focus()
        await pilot.press("down", "down", "down", "enter")  # notification list
        await settle(pilot)
        assert path_box.value.endswith("out.txt")
        await pilot.press("ctrl+y")
        text = app.copied[-1]
        assert text.startswith("Contacts for JustOn push-upgrade notifications")
        assert "  Anna Müller, anna@acme.de, Salesforce-Administratorin" in text.splitlines()
        assert "bruno@alpen.at" not in text  # not eligible
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, ContactsScreen)


async def test_export_asks_before_replacing_an_existing_file(tmp_path, monkeypatch):
    from juston_tui.screens.confirm import ConfirmScreen

    monkeypatch.chdir(tmp_path)
    app = make_app(tmp_path)
    target = tmp_path / "passwd"
    target.write_bytes(b"root:x:0:0\n")
    target.chmod(0o644)
    async with app.run_test(size=(110, 40)) as pilot:
        dialog, _ = await export_to(app, pilot, "passwd")
        assert isinstance(app.screen, ConfirmScreen)
        assert "passwd already exists" in str(app.screen.query_one("Static").render())
        await pilot.press("n")  # keep it
        await settle(pilot)
        assert app.screen is dialog
        assert target.read_bytes() == b"root:x:0:0\n" and target.stat().st_mode & 0o777 == 0o644
        await pilot.press("ctrl+s")
        await settle(pilot)
        await pilot.press("y")  # replace it
        await settle(pilot)
        assert target.read_text(encoding="utf-8").startswith("full_name,email,title")


async def test_import_preview_then_apply_then_undo(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    app = make_app(tmp_path)
    source = tmp_path / "g.csv"
    source.write_text(
        "Name,E-mail 1 - Value,Organization 1 - Title\n"
        "Anna Müller,anna@acme.de,Head of IT\n"
        "Frida Nägele,frida@x.de,Controlling\n"
        "Kaputt,kaputt,CFO\n",
        encoding="utf-8",
    )
    async with app.run_test(size=(110, 40)) as pilot:
        await settle(pilot)
        await pilot.press("i")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, ImportScreen)
        await type_text(pilot, "g.csv")
        await pilot.press("enter")
        await settle(pilot)
        summary = str(dialog.query_one("#import-summary", Static).render())
        assert "1 would be added, 1 would be updated, 1 skipped" in summary
        lines = [dialog.query_one("#import-table").render_line(y).text for y in range(1, 4)]
        assert any("ERROR" in line and "kaputt" in line for line in lines)
        assert app.store.find_contact_by_email("frida@x.de") is None  # nothing written yet
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, ContactsScreen)
        assert app.store.find_contact_by_email("frida@x.de") is not None
        assert app.store.find_contact_by_email("anna@acme.de").title == "Head of IT"
        assert "frida@x.de" in emails_shown(app)
        await pilot.press("u")
        await settle(pilot)
        assert app.store.find_contact_by_email("frida@x.de") is None
        assert app.store.find_contact_by_email("anna@acme.de").title == (
            "Salesforce-Administratorin")


async def test_import_of_a_bad_file_is_explained_and_keeps_the_path(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    app = make_app(tmp_path)
    garbage = tmp_path / "b.csv"
    garbage.write_bytes(bytes(range(256)) * 8)
    before = (tmp_path / "s.json").read_bytes()
    async with app.run_test(size=(110, 40)) as pilot:
        await settle(pilot)
        await pilot.press("i")
        await type_text(pilot, "b.csv")
        await pilot.press("enter")
        await settle(pilot)
        dialog = app.screen
        assert "Not imported" in str(dialog.query_one("#import-error", Static).render())
        assert dialog.query_one("#import-path", Input).value == "b.csv"
        await pilot.press("ctrl+s")  # nothing to apply
        await settle(pilot)
        assert app.screen is dialog
        await pilot.press("escape")
    assert (tmp_path / "s.json").read_bytes() == before


async def test_read_only_allows_view_filter_copy_export_only(tmp_path):
    seeded_store(tmp_path / "s.json")
    app = make_app(tmp_path, read_only=True)
    async with app.run_test(size=(100, 32)) as pilot:
        await settle(pilot)
        for key in ("a", "e", "d", "space", "l", "i", "u"):
            await pilot.press(key)
            await settle(pilot)
            assert isinstance(app.screen, ContactsScreen), key
        assert app.store.find_contact_by_email("anna@acme.de").eligible is True
        footer_keys = {b.binding.action for b in app.screen.active_bindings.values()
                       if b.enabled}
        assert {"add", "delete", "toggle_eligible", "import_file"}.isdisjoint(footer_keys)
        await pilot.press("y")
        assert app.copied == ["anna@acme.de"]
        await pilot.press("enter")  # view, not edit
        await pilot.pause()
        form = app.screen
        assert isinstance(form, ContactFormScreen) and form.read_only
        assert form.query_one("#field-email", Input).disabled
        await pilot.press("ctrl+s")
        await pilot.press("escape")
        await pilot.pause()
        await pilot.press("x")
        await settle(pilot)  # the orgs the export needs are read in a worker
        assert isinstance(app.screen, ExportScreen)


async def test_store_changed_elsewhere_reloads(tmp_path):
    app = make_app(tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        other = Store.open(tmp_path / "s.json")
        other.add_contact(Contact.create(full_name="Gustav", email="gustav@x.de", title="CIO"))
        app.screen.post_message(StoreChanged())
        await settle(pilot)
        assert "gustav@x.de" in emails_shown(app)


async def test_linked_contacts_modal(tmp_path):
    app = make_app(tmp_path)
    async with app.run_test(size=(100, 32)) as pilot:
        await settle(pilot)
        app.push_screen(LinkedContactsScreen([ALPEN.org_id], "Contacts linked to Alpenbank AG"))
        await settle(pilot)
        modal = app.screen
        assert isinstance(modal, LinkedContactsScreen)
        assert [modal.index.get(k).email for k in modal.table.row_keys] == [
            "bruno@alpen.at", "carla@acme.de"]
        await pilot.press("y")
        assert app.copied[-1] == "bruno@alpen.at"
        await pilot.press("n")
        notify = app.copied[-1]
        assert f"Alpenbank AG (org ID {ALPEN.org_id})" in notify
        assert "carla@acme.de" in notify and "bruno@alpen.at" not in notify
        await pilot.press("o")
        await settle(pilot)
        assert emails_shown(app) == ["bruno@alpen.at", "carla@acme.de"]


@pytest.mark.parametrize("size", [(80, 24)])
async def test_demo_data_on_a_small_terminal(tmp_path, size):
    store = Store.open(tmp_path / "s.json")
    store.add_org(ACME)
    demo_contacts.seed(store, [ACME])
    app = make_app(tmp_path)
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        assert screen(app).table.row_count == 25
        await pilot.press("slash")
        await type_text(pilot, "mark")
        assert any("Test [red]x[/] Markup" in line for line in table_lines(app))


async def test_coming_back_shows_changes_made_on_other_screens(tmp_path):
    app = make_app(tmp_path)
    async with app.run_test(size=(140, 30)) as pilot:
        await settle(pilot)
        await pilot.press("1")
        await settle(pilot)
        app.store.update_org(ACME.org_id, name="Acme Holding")  # as the registry would
        await pilot.press("5")
        await settle(pilot)
        assert any("Anna Müller" in line and "Acme Holding" in line
                   for line in table_lines(app))


# -- issue 17 items 5 and 9: widths follow content; empty states say what is true -------------
def _demo_app(tmp_path: Path) -> JustOnApp:
    store = Store.open(tmp_path / "s.json")
    store.add_org(ACME)
    store.add_org(ALPEN)
    demo_contacts.seed(store, [ACME])
    store.put_contacts([Contact.create(
        full_name="Xaver Vielfach", email="xaver@orgs.example", title="CFO",
        org_ids=[ACME.org_id, ALPEN.org_id, "00D0000000000ZZ"])])
    return make_app(tmp_path)


async def test_at_120_columns_widths_follow_the_content(tmp_path):
    app = _demo_app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        s = screen(app)
        contacts = [s.index.get(k) for k in s.table.row_keys]
        lines = [line.rstrip() for line in table_lines(app)]
        assert not s.table.show_horizontal_scrollbar  # everything fits in 120 columns
        for contact in contacts:
            if contact is None or s.table.row_index(contact.id) >= len(lines) - 1:
                continue
            line = lines[1 + s.table.row_index(contact.id)]
            assert contact.email in line, line  # the e-mail is never cut
            assert line.startswith(contact.full_name), line  # Name takes what names need
        longest = max(len(c.full_name) for c in s.index.contacts)
        assert s.table.column_width("name") == longest
        assert s.table.column_width("email") == max(len(c.email) for c in s.index.contacts)
        await pilot.press("slash")
        await type_text(pilot, "xaver")
        await pilot.press("enter")
        row = next(line for line in table_lines(app) if "xaver@orgs.example" in line)
        assert "Acme GmbH,…" in row  # Linked orgs cut, with an ellipsis


async def test_a_filter_that_hides_everything_says_so_also_after_d_and_y(tmp_path):
    app = _demo_app(tmp_path)
    notes: list[str] = []
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        original = app.notify

        def notify(message, *args, **kwargs):  # type: ignore[no-untyped-def]
            notes.append(str(message))
            return original(message, *args, **kwargs)

        app.notify = notify  # type: ignore[method-assign]
        await pilot.press("slash")
        await type_text(pilot, "zzq")
        await pilot.press("enter")
        await pilot.pause()
        for key in ("", "d", "y"):
            if key:
                await pilot.press(key)
                await pilot.pause()
                assert notes and "No contact matches 'zzq'; esc clears the filter." in notes[-1]
            text = "\n".join(table_lines(app))
            assert "No contact matches 'zzq'; esc clears the filter." in text
            assert "No contacts yet" not in text
        assert not isinstance(app.screen, ContactFormScreen) and app.copied == []
        await pilot.press("escape")
        assert screen(app).table.row_count == 26


async def test_no_contacts_at_all_says_how_to_add_one(tmp_path):
    Store.open(tmp_path / "s.json").add_org(ACME)
    app = make_app(tmp_path)
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        text = "\n".join(table_lines(app))
        assert "No contacts yet: press a to add one" in text
        await pilot.press("slash")
        await type_text(pilot, "x")
        assert "No contacts yet: press a to add one" in "\n".join(table_lines(app))
