"""The one org picker (screens/org_picker.py): its matcher, both modes, and its styles."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from ui_helpers import make_app as app_on
from ui_helpers import settle

from juston_tui.app import JustOnApp
from juston_tui.model import Org
from juston_tui.screens.org_picker import OrgMatcher, OrgPickerScreen
from juston_tui.store import Store
from juston_tui.text import fold

REPO = Path(__file__).resolve().parent.parent
ZUERCHER = Org.create(org_id="00D5g000006Sbx1", name="Zürcher Kantonalbank", tags=("bank",))
BASLER = Org.create(org_id="00D5g000004Xyz1", name="Basler Versicherung", kind="sandbox",
                    tags=("insurance", "Großkunde"))
GONE = "00D5g000009Gon1EAC"


def test_fold_finds_what_people_type() -> None:
    hay = fold("Zürcher Kantonalbank AG")
    for typed in ("zurch", "zuerch", "zürch", "ZÜRCH".casefold(), "kantonalbank ag"):
        assert typed in hay, typed
    assert "zurich" not in hay
    assert fold("Plain ASCII") == "plain ascii"  # nothing added where nothing folds
    assert "grosskunde" in fold("Großkunde")  # casefold: ß is ss
    assert "bankzu" not in fold("Zürcherbank")  # a term never spans two of the forms


def test_matcher_needs_every_term_in_name_id_type_or_tags() -> None:
    matcher = OrgMatcher.build([ZUERCHER, BASLER], unregistered=[GONE])
    keys = [row.key for row in matcher.rows]
    assert keys == [GONE, BASLER.org_id, ZUERCHER.org_id]  # unregistered first, then names

    def found(query: str) -> list[str]:
        return [row.key for row in matcher.matching(query)]

    assert found("") == keys
    assert found("   ") == keys
    assert found("zurch") == [ZUERCHER.org_id]
    assert found("ZUERCH bank") == [ZUERCHER.org_id]  # terms: all of them, any case
    assert found("zurch sandbox") == []
    assert found("sandbox grosskunde") == [BASLER.org_id]  # type and tags
    assert found("00d5g000004") == [BASLER.org_id]  # the org ID
    assert found(GONE[:12].lower()) == [GONE]


def make_app(tmp_path: Path) -> JustOnApp:
    store = Store.open(tmp_path / "s.json")
    for org in (ZUERCHER, BASLER):
        store.add_org(org)
    return app_on(store)


async def test_several_marks_keep_unregistered_links_and_fold_accents(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    answers: list[list[str] | None] = []
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        app.push_screen(OrgPickerScreen([GONE, BASLER.org_id], title="Link orgs"),
                        answers.append)
        await settle(pilot)
        picker = app.screen
        assert isinstance(picker, OrgPickerScreen) and picker.multiple
        assert picker.table.has_focus
        assert picker.table.row_keys == [GONE, BASLER.org_id, ZUERCHER.org_id]
        assert picker.table.selected_keys == {GONE, BASLER.org_id}
        await pilot.press("slash", *"zurch")
        assert picker.table.row_keys == [ZUERCHER.org_id]
        await pilot.press("enter", "space")  # back to the list, mark Zürcher
        await pilot.press("enter")  # take the marked ones
        await settle(pilot)
    assert answers == [[GONE, BASLER.org_id, ZUERCHER.org_id]]  # the lost link stays


async def test_one_org_answers_a_list_of_one_or_none(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    answers: list[list[str] | None] = []
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        app.push_screen(OrgPickerScreen([ZUERCHER.org_id, GONE], multiple=False),
                        answers.append)
        await settle(pilot)
        picker = app.screen
        assert isinstance(picker, OrgPickerScreen)
        assert picker.search.has_focus  # type at once
        assert picker.table.row_keys == [BASLER.org_id, ZUERCHER.org_id]  # none unregistered
        assert picker.table.selected_keys == frozenset()
        assert picker.table.cursor_key == ZUERCHER.org_id
        await pilot.press("up", "enter")
        await settle(pilot)
        app.push_screen(OrgPickerScreen(multiple=False), answers.append)
        await settle(pilot)
        await pilot.press("escape")
        await settle(pilot)
    assert answers == [[BASLER.org_id], None]


def test_one_picker_class_and_styles_that_match_only_it() -> None:
    """Two classes named OrgPickerScreen once styled each other; each .tcss rule of the
    picker and the checklist starts with a class defined by that screen's own modules."""
    named = []
    for path in sorted((REPO / "screens").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        named += [f"{path.name}:{n.name}" for n in ast.walk(tree)
                  if isinstance(n, ast.ClassDef) and n.name == "OrgPickerScreen"]
    assert named == ["org_picker.py:OrgPickerScreen"]
    owners = {
        "org_picker.tcss": {"OrgPickerScreen"},
        "checklist.tcss": {"ChecklistScreen", "TextPromptScreen", "StepDetailScreen"},
    }
    for name, classes in owners.items():
        css = re.sub(r"/\*.*?\*/", "", (REPO / "styles" / name).read_text(), flags=re.S)
        selectors = [s.strip() for block in re.findall(r"([^{}]+)\{", css)
                     for s in block.split(",")]
        assert selectors
        strays = [s for s in selectors if s.split()[0] not in classes]
        assert not strays, (name, strays)
    for module in ("org_picker.py", "checklist.py", "checklist_modals.py"):
        assert "DEFAULT_CSS" not in (REPO / "screens" / module).read_text(), module
