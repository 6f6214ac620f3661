"""One matcher for every filter (issue 17 item 10): the registry, access and contacts filters
and the org picker all fold with `text.fold` and match with `text.search_terms` /
`text.matches`, so "zurch" finds "Zürcher" everywhere. Keys only on each screen."""

from __future__ import annotations

import ast
from pathlib import Path

from registry_fixtures import make_app as registry_app
from ui_helpers import screen_text, settle

from juston_tui.contacts_io import ContactIndex, fold_text
from juston_tui.model import Contact, Org
from juston_tui.screens.org_picker import OrgMatcher, OrgPickerScreen
from juston_tui.screens.registry_data import OrgEntry, matcher
from juston_tui.screens.widgets.fast_table import FastTable
from juston_tui.text import fold, matches, search_terms

REPO = Path(__file__).resolve().parent.parent
ZUERCHER = Org.create(org_id="00D5g000006Zkb1", name="Zürcher Kantonalbank", tags=["bank"])
STRASSE = Org.create(org_id="00D5g000006Grh2", name="Großhandel Weiß KG")
NAMES = ["Zürcher Kantonalbank", "Zurcher Treuhand", "Großhandel Weiß KG", "Müller AG",
         "Genève Horlogerie SA", "Plain Org"]
QUERIES = ["zurch", "zuerch", "ZÜRCH", "weiss", "weiß", "strasse", "grosshandel", "mul",
           "muel", "geneve", "genève", "plain org", "kantonal bank", "nothing"]


def test_search_terms_and_matches() -> None:
    assert search_terms("  ZÜRCH\tbank \x1b[31m") == ["zürch", "bank"]  # no escape left
    assert search_terms("   ") == []
    hay = fold("Zürcher Kantonalbank")
    for query in ("zurch", "zuerch", "zürch", "ZÜRCH kantonal"):
        assert matches(search_terms(query), hay), query
    assert not matches(search_terms("zurich"), hay)
    assert matches([], hay)
    assert fold_text is fold  # the contacts module's name for the same function


def test_every_filter_gives_the_same_answer() -> None:
    """The registry's matcher, the picker's and the contacts index agree with the core."""
    orgs = [Org.create(org_id=f"00D5g00000{n:05d}", name=name) for n, name in enumerate(NAMES)]
    entries = [OrgEntry(org.to_doc()) for org in orgs]
    picker = OrgMatcher.build(orgs)
    contacts = ContactIndex([Contact.create(full_name=name, email=f"c{n}@x.example",
                                            title="CFO") for n, name in enumerate(NAMES)], {})
    for query in QUERIES:
        core = {name for name in NAMES if matches(search_terms(query), fold(name))}
        match = matcher(query)
        registry = {e.name for e in entries if match is None or match(e)}
        picked = {row.cells[0].plain for row in picker.matching(query)}
        found = {c.full_name for c in contacts.search(query)}
        assert registry == picked == found == core, query
    assert {n for n in NAMES if matches(search_terms("zurch"), fold(n))} == {
        "Zürcher Kantonalbank", "Zurcher Treuhand"}


def test_the_filters_use_the_core_matcher() -> None:
    """No screen splits and case-folds a query on its own any more."""
    for module in ("screens/registry_data.py", "screens/org_picker.py", "screens/access.py",
                   "juston_tui/contacts_io/search.py"):
        source = (REPO / module).read_text(encoding="utf-8")
        names = {n.id for n in ast.walk(ast.parse(source)) if isinstance(n, ast.Name)}
        assert "search_terms" in names and "fold" in names, module
        assert ".casefold().split()" not in source, module


async def test_registry_filter_folds_accents(tmp_path: Path) -> None:
    app = registry_app(tmp_path / "s.json")
    app.store.add_org(ZUERCHER)
    app.store.add_org(STRASSE)
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        table = app.screen.query_one("#registry-table", FastTable)
        await pilot.press("slash", *"zurch")
        await settle(pilot)
        assert table.row_keys == [ZUERCHER.org_id]
        await pilot.press("escape", "slash", *"weiss")
        await settle(pilot)
        assert table.row_keys == [STRASSE.org_id]
        await pilot.press("escape", "slash", *"sbx")  # what the Name column shows
        await settle(pilot)
        assert len(table.row_keys) == 1 and "Acme GmbH (UAT)" in screen_text(app)


async def test_access_filter_folds_accents(tmp_path: Path) -> None:
    app = registry_app(tmp_path / "s.json", start_mode="access")
    app.store.add_org(ZUERCHER)
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        await pilot.press("slash", *"zuerch")
        await settle(pilot)
        assert app.screen.query_one("#access-table", FastTable).row_keys == [ZUERCHER.org_id]


async def test_contacts_filter_folds_accents(tmp_path: Path) -> None:
    app = registry_app(tmp_path / "s.json", start_mode="contacts")
    app.store.add_org(ZUERCHER)
    app.store.put_many("contacts", [
        Contact.create(full_name="Ute Bauer", email="ute@zkb.example", title="CFO",
                       org_ids=[ZUERCHER.org_id]).to_doc(),
        Contact.create(full_name="Jörg Zürcher", email="joerg@x.example", title="CEO").to_doc(),
        Contact.create(full_name="Anna Other", email="anna@x.example", title="CTO").to_doc(),
    ])
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        await pilot.press("slash", *"zurch")
        await settle(pilot)
        screen = app.screen
        found = [screen.index.get(k).full_name  # type: ignore[attr-defined]
                 for k in screen.query_one("#contacts-table", FastTable).row_keys]
        assert found == ["Jörg Zürcher", "Ute Bauer"]  # by name, and by the linked org


async def test_org_picker_o_finds_zuercher_typing_zurch(tmp_path: Path) -> None:
    app = registry_app(tmp_path / "s.json", start_mode="checklist")
    app.store.add_org(ZUERCHER)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("o")
        await settle(pilot)
        picker = app.screen
        assert isinstance(picker, OrgPickerScreen)
        await pilot.press(*"zurch")
        assert picker.table.row_keys == [ZUERCHER.org_id]
        await pilot.press("escape", "escape")
