"""Registry screen flows, keys only: list, filter, sort, marks, form, delete/undo, detail,
credentials, push registration, read-only, literal display of hostile org names."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from registry_fixtures import NOW, make_app, org_id, table
from textual import events
from ui_helpers import screen_text, settle

from juston_tui.model import Contact
from juston_tui.store import Store


async def test_registry_lists_every_org_with_facts(tmp_path: Path) -> None:
    app = make_app(tmp_path / "s.json")
    async with app.run_test(size=(130, 30)) as pilot:
        await settle(pilot)
        assert table(app).row_count == 6
        text = screen_text(app)
        acme = next(line for line in text.splitlines() if "Acme GmbH  " in line)
        assert org_id(1) in acme and "2.80.3" in acme and "17/25" in acme
        assert "registered" in acme and "ok" in acme and " 2h" in acme
        uat = next(line for line in text.splitlines() if "Acme GmbH (UAT)" in line)
        assert "sbx ← Acme GmbH" in uat and "30h!" in uat  # stale, visibly marked
        initech = next(line for line in text.splitlines() if "Initech" in line)
        assert "3d!" in initech and "unknown" in initech
        assert "2 stale (!: >24 h)" in text


async def test_hostile_names_are_shown_literally(tmp_path: Path) -> None:
    app = make_app(tmp_path / "s.json")
    async with app.run_test(size=(130, 30)) as pilot:
        await settle(pilot)
        text = screen_text(app)
        assert "[bold red]x[/] evil" in text
        assert "pwned" not in text and "\x1b" not in text and "\x07" not in text
        row = table(app).get_row(org_id(5))
        assert row is not None
        name_cell = row.cells[0]
        assert name_cell.plain == "[bold red]x[/] evil"
        assert not any(ch in name_cell.plain for ch in "\x1b\x07")
        assert not name_cell.spans  # no markup was interpreted
        # the detail view too
        table(app).move_to_key(org_id(5))
        await pilot.press("enter")
        await settle(pilot)
        text = screen_text(app)
        assert "[bold red]x[/] evil" in text and "pwned" not in text


async def test_filter_as_you_type_and_escape_clears(tmp_path: Path) -> None:
    app = make_app(tmp_path / "s.json")
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        await pilot.press("slash", *"acme")
        assert table(app).row_count == 2
        await pilot.press(*" uat")
        assert table(app).row_keys == [org_id(2)]
        await pilot.press("enter")  # back to the table, filter kept
        assert app.focused is table(app)
        assert table(app).row_count == 1
        await pilot.press("escape")
        assert table(app).row_count == 6
        # tags, state words and IDs
        for query, expected in (("dach", {org_id(1)}), ("registered", {org_id(1)}),
                                ("fail", {org_id(2), org_id(3)}), ("vendor", {org_id(6)}),
                                ("4eaa", {org_id(4)}),
                                ("unchecked", {org_id(5), org_id(6)})):
            await pilot.press("slash", *query)
            assert set(table(app).row_keys) == expected, query
            await pilot.press("escape")


async def test_a_filter_that_matches_nothing_says_so(tmp_path: Path) -> None:
    """Six orgs are registered: an empty result is the filter's doing, and must say so."""
    app = make_app(tmp_path / "s.json")
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        await pilot.press("slash", *"zzz")
        await settle(pilot)
        assert table(app).row_count == 0
        text = screen_text(app)
        assert "No orgs registered yet" not in text
        assert re.search(r"(?i)(no org\w* match|nothing matches)", text), text


async def test_sort_marks_and_j_k(tmp_path: Path) -> None:
    app = make_app(tmp_path / "s.json")
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        t = table(app)
        assert t.sort_column == "name"
        await pilot.press("s")
        assert t.sort_column == "name" and t.sort_reverse
        await pilot.press("s")
        assert t.sort_column == "org_id"
        assert t.row_keys == sorted(t.row_keys)
        t.sort_by("verdict")
        assert t.row_keys[:2] in ([org_id(2), org_id(3)], [org_id(3), org_id(2)])
        await pilot.press("home", "space", "j", "space", "j", "k")
        assert len(t.selected_keys) == 2
        assert t.cursor_row == 1
        await pilot.pause()
        assert "2 marked" in screen_text(app)


async def test_add_org_validates_in_place_and_keeps_input(tmp_path: Path) -> None:
    app = make_app(tmp_path / "s.json")
    async with app.run_test(size=(100, 40)) as pilot:
        await settle(pilot)
        await pilot.press("a")
        await pilot.pause()
        good = org_id(77)
        bad = good[:15] + "AAB" if good[15:] != "AAB" else good[:15] + "AAC"
        await pilot.press(*bad, "tab", *"New Org", "ctrl+s")
        await pilot.pause()
        form = app.screen
        assert type(form).__name__ == "OrgFormScreen"
        error = str(form.query_one("#error-org_id").render())
        assert "checksum mismatch" in error
        assert form.query_one("#field-org_id").value == bad  # what was typed is kept
        assert form.query_one("#field-name").value == "New Org"
        assert app.focused is form.query_one("#field-org_id")  # focus goes to the bad field
        # bad URL: message at the URL field
        await pilot.press("end", *(["backspace"] * 3), *good[15:])
        form.query_one("#field-instance_url").focus()
        await pilot.press(*"http://x", "ctrl+s")
        await pilot.pause()
        assert "https://" in str(form.query_one("#error-instance_url").render())
        assert str(form.query_one("#error-org_id").render()) == ""
        await pilot.press("ctrl+u", *"https://n.io", "ctrl+s")
        await settle(pilot)
        assert type(app.screen).__name__ == "RegistryScreen"
        saved = app.store.get_org(good)
        assert saved.name == "New Org" and saved.instance_url == "https://n.io"
        assert table(app).cursor_key == good


async def test_add_duplicate_org_is_refused_at_the_field(tmp_path: Path) -> None:
    app = make_app(tmp_path / "s.json")
    async with app.run_test(size=(100, 40)) as pilot:
        await settle(pilot)
        await pilot.press("a", *org_id(1), "tab", *"Again", "ctrl+s")
        await settle(pilot)
        form = app.screen
        assert "already registered" in str(form.query_one("#error-org_id").render())
        assert form.query_one("#field-name").value == "Again"
        await pilot.press("escape")
        assert app.store.get_org(org_id(1)).name == "Acme GmbH"


async def test_edit_org(tmp_path: Path) -> None:
    app = make_app(tmp_path / "s.json")
    async with app.run_test(size=(100, 40)) as pilot:
        await settle(pilot)
        table(app).move_to_key(org_id(3))
        await pilot.press("e")
        await pilot.pause()
        form = app.screen
        assert form.query_one("#field-org_id").disabled
        assert app.focused is form.query_one("#field-name")
        await pilot.press("ctrl+u", *"Globex Intl", "ctrl+s")
        await settle(pilot)
        assert app.store.get_org(org_id(3)).name == "Globex Intl"
        assert app.store.get_org(org_id(3)).tags == ("us",)
        assert "Globex Intl" in screen_text(app)


async def test_delete_confirm_then_undo(tmp_path: Path) -> None:
    app = make_app(tmp_path / "s.json")
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        table(app).move_to_key(org_id(3))
        await pilot.press("d")
        await pilot.pause()
        await pilot.press("n")  # no: nothing happens
        await settle(pilot)
        assert app.store.find_org(org_id(3)) is not None
        await pilot.press("d")
        await pilot.pause()
        await pilot.press("y")
        await settle(pilot)
        assert app.store.find_org(org_id(3)) is None
        assert org_id(3) not in table(app).row_keys
        await pilot.press("u")
        await settle(pilot)
        assert app.store.get_org(org_id(3)).name == "Globex Corp"
        assert org_id(3) in table(app).row_keys


async def test_delete_marked_orgs(tmp_path: Path) -> None:
    app = make_app(tmp_path / "s.json")
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        table(app).move_to_key(org_id(3))
        await pilot.press("space")
        table(app).move_to_key(org_id(4))
        await pilot.press("space", "d")
        await pilot.pause()
        await pilot.press("y")
        await settle(pilot)
        assert {o.org_id for o in app.store.list_orgs()}.isdisjoint({org_id(3), org_id(4)})
        await pilot.press("u")
        await settle(pilot)
        assert app.store.find_org(org_id(4)) is not None


async def test_read_only_hides_and_refuses_edits(tmp_path: Path) -> None:
    app = make_app(tmp_path / "s.json", read_only=True)
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        footer = screen_text(app).splitlines()[-1]
        assert "Add" not in footer and "Delete" not in footer
        await pilot.press("a", "d", "p")
        await pilot.pause()
        assert type(app.screen).__name__ == "RegistryScreen"
        assert len(app.store.list_orgs()) == 6


async def test_detail_shows_checks_history_and_credentials(tmp_path: Path) -> None:
    app = make_app(tmp_path / "s.json")
    async with app.run_test(size=(120, 60)) as pilot:
        await settle(pilot)
        table(app).move_to_key(org_id(3))
        await pilot.press("enter")
        await settle(pilot)
        text = screen_text(app)
        assert "Globex Corp" in text
        assert "System Administrator is not pre-authorized for JustOn Platform" in text
        assert "fix: Setup > Apps > Connected Apps > Manage Connected Apps" in text
        assert "2.71.0 is outdated (assumed current 2.80" in text
        assert "History (newest first)" in text
        assert "Credentials: missing" in text and "access token" in text
        await pilot.press("c")
        await pilot.pause()
        assert type(app.screen).__name__ == "CredentialsFormScreen"
        await pilot.press("ctrl+s")  # required field empty: message, nothing stored
        await pilot.pause()
        assert "required" in str(app.screen.query_one("#error-access_token").render())
        await pilot.press(*"tok!sec", "ctrl+s")
        await settle(pilot)
        assert type(app.screen).__name__ == "OrgDetailScreen"
        assert app.get_credentials().get(org_id(3), "access_token") == "tok!sec"
        text = screen_text(app)
        assert "Credentials: set" in text
        assert "tok!sec" not in text
        await pilot.press("escape")
        assert type(app.screen).__name__ == "RegistryScreen"


async def test_detail_password_method_warns_about_soap_retirement(tmp_path: Path) -> None:
    app = make_app(tmp_path / "s.json")
    async with app.run_test(size=(120, 60)) as pilot:
        await settle(pilot)
        table(app).move_to_key(org_id(4))
        await pilot.press("enter")
        await settle(pilot)
        text = screen_text(app)
        assert "Summer '27" in text
        assert "Credentials: missing" in text  # no password stored
        await pilot.press("c")
        await pilot.pause()
        assert "Summer '27" in screen_text(app)
        password = app.screen.query_one("#secret-password")
        assert password.password  # masked input
        await pilot.press(*"hunter2", "ctrl+s")
        await settle(pilot)
        text = screen_text(app)
        assert "hunter2" not in text
        # stored, but the last check failed to log in: "failing"
        assert "Credentials: failing" in text and "INVALID_LOGIN" in text


async def test_detail_linked_contacts_and_checklist_keys(tmp_path: Path) -> None:
    app = make_app(tmp_path / "s.json")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        table(app).move_to_key(org_id(1))
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("l")
        await settle(pilot)
        try:
            import juston_tui.screens.linked_contacts  # noqa: F401
        except ImportError:
            assert type(app.screen).__name__ == "OrgDetailScreen"
        else:
            assert type(app.screen).__name__ == "LinkedContactsScreen"
            await pilot.press("escape")
            await settle(pilot)
        await pilot.press("i")
        await settle(pilot)
        if "checklist" in app.MODES:
            assert app.current_mode == "checklist"
        else:
            assert type(app.screen).__name__ == "OrgDetailScreen"


def _add_contacts(app) -> None:
    app.store.add_contact(Contact.create(full_name="Jane Admin", email="jane@acme.example",
                                         title="Salesforce Administrator",
                                         org_ids=[org_id(1)]))
    app.store.add_contact(Contact.create(full_name="Opted Out", email="out@acme.example",
                                         title="CFO", org_ids=[org_id(1)], eligible=False))
    app.store.add_contact(Contact.create(full_name="Gus Globex", email="gus@globex.example",
                                         title="IT lead", org_ids=[org_id(3)]))
    app.store.add_contact(Contact.create(full_name="Uma UAT", email="uma@acme.example",
                                         title="Tester", org_ids=[org_id(2)]))


async def test_push_request_draft_and_transitions(tmp_path: Path) -> None:
    app = make_app(tmp_path / "s.json")
    _add_contacts(app)
    async with app.run_test(size=(120, 50)) as pilot:
        await settle(pilot)
        for n in (1, 2, 3):
            table(app).move_to_key(org_id(n))
            await pilot.press("space")
        await pilot.press("p")
        await settle(pilot)
        screen = app.screen
        assert type(screen).__name__ == "PushRequestScreen"
        draft = screen.text
        assert "JustOn Upgrade request" in draft
        assert org_id(1)[:15] in draft and org_id(3)[:15] in draft
        assert org_id(2)[:15] not in draft  # sandbox without a ticket is left out
        assert "Current version: JustOn Billing & Invoice Management 2.80.3" in draft
        assert "Jane Admin, jane@acme.example, Salesforce Administrator" in draft
        assert "Gus Globex" in draft
        assert "Opted Out" not in draft and "Uma UAT" not in draft
        text = screen_text(app)
        assert "production orgs only" in text
        assert ("not on a current release: JustOn Billing & Invoice Management 2.71.0 is "
                "outdated (assumed current 2.80") in text
        assert "sandbox: not included" in text
        # copy goes through OSC 52
        copied: list[str] = []
        app.copy_to_clipboard = copied.append  # type: ignore[method-assign]
        await pilot.press("c")
        assert copied == [draft]
        # save to a file
        target = tmp_path / "request.txt"
        await pilot.press("w")
        await pilot.pause()
        await pilot.press("ctrl+u", *str(target), "enter")
        await settle(pilot)
        assert target.read_text() == draft
        # saving again asks before replacing the file (n keeps it, y replaces it)
        target.write_text("mine")
        for answer, expected in (("n", "mine"), ("y", draft)):
            await pilot.press("w")
            await pilot.pause()
            await pilot.press("ctrl+u", *str(target), "enter")
            await settle(pilot)
            assert type(app.screen).__name__ == "ConfirmScreen"
            await pilot.press(answer)
            await settle(pilot)
            assert type(app.screen).__name__ == "PushRequestScreen"
            assert target.read_text() == expected
        # mark requested: Acme is registered (illegal move, message), Globex moves
        await pilot.press("m")
        await pilot.pause()
        await pilot.press("enter")  # empty ticket: error at the field
        await pilot.pause()
        assert "required" in str(app.screen.query_one("#error-ticket").render())
        await pilot.press(*"SUP-4711", "enter")
        await settle(pilot)
        globex = app.store.get_org(org_id(3))
        assert globex.push.state == "requested" and globex.push.ticket == "SUP-4711"
        assert globex.push.requested_on == NOW.date().isoformat()
        assert app.store.get_org(org_id(1)).push.state == "registered"
        assert app.store.get_org(org_id(2)).push.state == "not_registered"
        await pilot.press("g")
        await settle(pilot)
        assert app.store.get_org(org_id(3)).push.state == "registered"
        await pilot.press("escape")
        await settle(pilot)
        row = table(app).get_row(org_id(3))
        assert row is not None and row.cells[7].plain == "registered"


async def test_push_request_includes_sandbox_with_ticket(tmp_path: Path) -> None:
    app = make_app(tmp_path / "s.json")
    app.store.update_org(org_id(2), sandbox_push_ticket="SUP-9")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        table(app).move_to_key(org_id(2))
        await pilot.press("p")
        await settle(pilot)
        assert "sandbox push requested by ticket SUP-9" in app.screen.text
        assert org_id(2)[:15] in app.screen.text


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
async def test_registry_fits_small_terminals(tmp_path: Path, size: tuple[int, int]) -> None:
    app = make_app(tmp_path / "s.json")
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        text = screen_text(app)
        assert "Acme GmbH" in text and "Open" in text.splitlines()[-1]


# -- run_sweep: settings from the store, save failures reported --------------------------------
class _FakeApp:
    def __init__(self, store: Store, read_only: bool) -> None:
        self.store = store
        self.read_only = read_only

    def get_credentials(self) -> object:
        return object()


@pytest.mark.parametrize("read_only", [False, True])
def test_run_sweep_uses_the_stores_settings_and_reports_save_errors(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, read_only: bool) -> None:
    """Read-only or not, the probe judges by the store's current versions; a failed save is
    the refresh's error (the checks themselves still count)."""
    import threading

    import juston_tui.salesforce.sweeper as sweeper
    from juston_tui.salesforce.sweeper import SweepResult
    from juston_tui.screens.registry_refresh import RefreshFinished, run_sweep

    path = tmp_path / "s.json"
    writable = Store.open(path)
    writable.set_setting("current_versions", {"billing": "9.9.9"})
    store = Store.open(path, read_only=True) if read_only else writable
    calls: list[dict] = []

    def fake_sweep(orgs, credentials, **kwargs):
        calls.append(kwargs)
        return SweepResult([], save_errors=["snapshots not saved: No space left on device"])

    monkeypatch.setattr(sweeper, "sweep", fake_sweep)
    posted: list = []
    run_sweep(_FakeApp(store, read_only), [], cancel=threading.Event(), post=posted.append)
    assert calls[0]["settings"].current_versions["billing"] == "9.9.9"
    assert calls[0]["store"] is (None if read_only else store)
    finished = posted[-1]
    assert isinstance(finished, RefreshFinished)
    assert finished.error == "checked 0 org(s), but snapshots not saved: No space left on device"


async def test_keys_typed_right_after_slash_reach_the_filter(tmp_path: Path) -> None:
    """`/` and the text arrive in one burst over SSH: none of it may reach the table."""
    app = make_app(tmp_path / "s.json")
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        for key in ("slash", "e", "d", "a"):  # e/d/a would open the form / delete / add
            app.post_message(events.Key(key, None if key == "slash" else key))
        await settle(pilot)
        assert app.screen is app.screen_stack[-1] and type(app.screen).__name__ == (
            "RegistryScreen")
        assert app.screen.query_one("#registry-filter").value == "eda"


async def test_a_reload_that_read_the_store_before_a_check_ended_keeps_the_newer_result(
        tmp_path: Path) -> None:
    """A reload's worker reads the store; a check result shown meanwhile is newer than what it
    read and must not be replaced by the older row when the reload lands."""
    from juston_tui.model import Check, Snapshot
    from juston_tui.screens.registry import EntriesLoaded
    from juston_tui.screens.registry_data import build_entries, entry_row
    from juston_tui.screens.registry_refresh import SnapshotArrived

    app = make_app(tmp_path / "s.json")
    async with app.run_test(size=(130, 30)) as pilot:
        await settle(pilot)
        screen = app.screen
        store = app.store
        stale = build_entries(store.all_docs("orgs"), store.snapshot_docs())  # the read
        rows = {k: entry_row(e, NOW) for k, e in stale.items()}
        assert stale[org_id(1)].info.verdict == "ok"
        fresh = Snapshot(org_id(1), "2026-05-04T09:29:00Z",  # a minute before NOW
                         tuple(Check(c, "warn", "outdated", "") for c in
                               ("organization", "package.billing")), None)
        screen.post_message(SnapshotArrived(fresh, 1, 1))
        await pilot.pause()
        assert screen.entries[org_id(1)].info.verdict == "warn"
        screen.post_message(EntriesLoaded(stale, rows, None))
        await pilot.pause()
        assert screen.entries[org_id(1)].info.verdict == "warn"
        acme = next(line for line in screen_text(app).splitlines() if "Acme GmbH  " in line)
        assert " warn " in acme


# -- 80 columns: a frozen, identifying Name column (issue 17 item 3) ---------------------------
def _table_lines(app) -> list[str]:
    """The table's rows as read on screen (the header line is the one with "Name")."""
    lines = screen_text(app).splitlines()
    header = next(i for i, line in enumerate(lines) if "Name" in line)
    return lines[header: header + 1 + table(app).row_count]


async def test_at_80_columns_the_name_stays_while_scrolling_right(tmp_path: Path) -> None:
    app = make_app(tmp_path / "s.json")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        t = table(app)
        header, *rows = _table_lines(app)
        assert "Org ID" in header and "Type" not in header  # Type is off to the right
        assert "Inst." not in header and "instance" not in {c.key for c in t.shown_columns}
        names = [row[2:27] for row in rows]
        # The org ID shows its 15-character form (no ellipsis) when the columns do not fit.
        assert any(org_id(1)[:15] + " " in row for row in rows)
        assert not any(org_id(1) in row for row in rows)
        await pilot.press("right", "right", "right", "right", "right")
        await pilot.pause()
        header, *rows = _table_lines(app)
        assert "Name" in header and "Type" in header and "Org ID" not in header
        assert [row[2:27] for row in rows] == names  # every row still says which org it is
        assert not any(org_id(1)[:15] in row for row in rows)
        await pilot.press("left", "left", "left", "left", "left")
        await pilot.pause()
        assert "Org ID" in _table_lines(app)[0]


async def test_sandboxes_are_marked_in_the_name_column(tmp_path: Path) -> None:
    """Production and sandbox rows differ in the Name column itself, even when a name is cut
    and without colour (the mark is text)."""
    app = make_app(tmp_path / "s.json")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        rows = _table_lines(app)[1:]
        uat = next(row for row in rows if "Acme GmbH (UAT)" in row)
        assert uat[2:].startswith("sbx Acme GmbH (UAT)")
        acme = next(row for row in rows if "Acme GmbH " in row and "UAT" not in row)
        assert acme[2:].startswith("Acme GmbH ")
        assert sum("sbx " in row[2:27] for row in rows) == 1


async def test_at_120_columns_every_column_shows(tmp_path: Path) -> None:
    app = make_app(tmp_path / "s.json")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        header, *rows = _table_lines(app)
        for label in ("Name", "Org ID", "Check", "Age", "Billing", "Cash", "Licences", "Push",
                      "Type", "Inst."):
            assert label in header
        assert any(org_id(1) in row for row in rows)  # the full 18-character ID
