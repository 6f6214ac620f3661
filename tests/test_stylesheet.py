"""CachedStylesheet: Textual's re-parses reuse the rules, and the rules are the stock ones."""

from __future__ import annotations

from pathlib import Path

from textual.app import App
from textual.css.stylesheet import Stylesheet

from juston_tui.app import STYLES, JustOnApp
from juston_tui.credentials import open_credentials
from juston_tui.screens.stylesheet import CachedStylesheet
from juston_tui.store import Store

CSS = "Static { color: $text; padding: 1 2; } #x { background: $panel; }"
# The variables a running app gives its stylesheets: our .tcss files use the theme's names.
VARS = App().get_css_variables()


def rules_text(sheet: Stylesheet) -> list[str]:
    return [rule.css for rule in sheet.rules]


def test_rules_equal_the_stock_stylesheets() -> None:
    stock, cached = Stylesheet(variables=VARS), CachedStylesheet(variables=VARS)
    for sheet in (stock, cached):
        sheet.read(STYLES / "registry.tcss")
        sheet.add_source(CSS, read_from=("test", "CSS"))
        sheet.parse()
    assert rules_text(cached) == rules_text(stock)


def test_reparse_and_new_variables_reuse_earlier_parses(monkeypatch) -> None:
    calls: list[str] = []
    parse = Stylesheet._parse_rules

    def counting(self, css, *args, **kwargs):  # type: ignore[no-untyped-def]
        calls.append(css)
        return parse(self, css, *args, **kwargs)

    monkeypatch.setattr(Stylesheet, "_parse_rules", counting)
    CachedStylesheet._rules_cache.clear()
    sheet = CachedStylesheet(variables=VARS)
    sheet.add_source(CSS, read_from=("test", "CSS"))
    sheet.parse()
    for _ in range(3):  # what Textual does while the first mode's screen mounts
        sheet.set_variables(dict(VARS))
        sheet.reparse()
    assert len(calls) == 1
    # Other variables (another theme) are parsed again: the values end up in the rules.
    sheet.set_variables({**VARS, "panel": "#ff0000"})
    sheet.reparse()
    assert len(calls) == 2
    assert any("#ff0000" in css.lower() or "255, 0, 0" in css for css in rules_text(sheet))


def test_a_bad_source_leaves_the_sheet_as_it_was() -> None:
    sheet = CachedStylesheet(variables=VARS)
    sheet.add_source(CSS, read_from=("test", "CSS"))
    sheet.parse()
    before = rules_text(sheet)
    sheet.add_source("Static { colour: red; }", read_from=("test", "bad"))
    try:
        sheet.reparse()
    except Exception:
        pass
    else:  # pragma: no cover - the bad rule must be refused
        raise AssertionError("an unknown property was accepted")
    assert rules_text(sheet) == before


async def test_the_app_uses_it_and_parses_each_source_once(tmp_path: Path,
                                                           monkeypatch) -> None:
    seen: dict[tuple[object, ...], int] = {}
    parse = Stylesheet._parse_rules

    def counting(self, css, read_from, *args, **kwargs):  # type: ignore[no-untyped-def]
        key = (css, read_from, args, tuple(sorted(kwargs.items())),
               tuple(sorted(self._variables.items())))
        seen[key] = seen.get(key, 0) + 1
        return parse(self, css, read_from, *args, **kwargs)

    monkeypatch.setattr(Stylesheet, "_parse_rules", counting)
    CachedStylesheet._rules_cache.clear()
    app = JustOnApp(store=Store.open(tmp_path / "s.json"),
                    credentials=open_credentials("memory"))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        assert isinstance(app.stylesheet, CachedStylesheet)
        assert seen and max(seen.values()) == 1
