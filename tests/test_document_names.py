"""User-facing text names JustOn's documents, never the seeds they came from ("seed 001").

Code comments and docstrings may cite seeds; help texts, screens, CLI output and event
descriptions may not. Scanned three ways: every string literal of the code that is not a
docstring, every CLI help page, and the TUI's screens and `?` pages as a person reads them.
"""

from __future__ import annotations

import argparse
import ast
import re
import tomllib
from pathlib import Path

import pytest
from registry_fixtures import make_app, org_id
from ui_helpers import screen_text, settle

from juston_tui.cli import build_parser

ROOT = Path(__file__).resolve().parent.parent
SEED = re.compile(r"seeds? 0\d\d", re.IGNORECASE)


def docstring_nodes(tree: ast.AST) -> set[int]:
    found: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                found.add(id(body[0].value))
    return found


def user_strings(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skip = docstring_nodes(tree)
    return [node.value for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str)
            and id(node) not in skip]


def toml_strings(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in toml_strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in toml_strings(v)]
    return []


def test_the_scan_finds_a_seed_number() -> None:
    assert SEED.search("upgrade first (seed 000)") and SEED.search("Seeds 000 and 002")
    assert not SEED.search("seed a fresh demo")


def test_no_string_in_the_code_names_a_seed() -> None:
    sources = [p for d in ("juston_tui", "screens") for p in (ROOT / d).rglob("*.py")]
    assert len(sources) > 50
    bad = [f"{p.relative_to(ROOT)}: {s!r}" for p in sources for s in user_strings(p)
           if SEED.search(s)]
    assert not bad, bad


def test_no_data_file_value_names_a_seed() -> None:
    files = sorted((ROOT / "juston_tui" / "data").glob("*.toml"))
    assert files
    bad = [f"{p.name}: {s!r}" for p in files
           for s in toml_strings(tomllib.loads(p.read_text(encoding="utf-8"))) if SEED.search(s)]
    assert not bad, bad


def all_parsers(parser: argparse.ArgumentParser) -> list[argparse.ArgumentParser]:
    out = [parser]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                out.extend(all_parsers(sub))
    return out


def test_no_cli_help_names_a_seed() -> None:
    parsers = all_parsers(build_parser())
    assert len(parsers) > 10
    helps = [" ".join(p.format_help().split()) for p in parsers]
    assert any("JustOn installation guide" in h for h in helps)  # `checklist --help`
    assert not [h for h in helps if SEED.search(h)]


def test_readme_names_no_seed() -> None:
    assert not SEED.search((ROOT / "README.md").read_text(encoding="utf-8"))


@pytest.mark.parametrize("size", [(120, 60), (80, 24)])
async def test_no_screen_or_key_page_names_a_seed(tmp_path: Path, size: tuple[int, int]) -> None:
    app = make_app(tmp_path / "s.json", start_mode="access")
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        pages: list[str] = []
        app.screen.query_one("#access-table").move_to_key(org_id(2))  # a misconfigured org
        await pilot.pause()
        pages.append(screen_text(app) + str(app.screen.query_one("#access-detail").render()))
        for key in "12345":
            await pilot.press(key)
            await settle(pilot)
            pages.append(screen_text(app))
            await pilot.press("question_mark")
            await settle(pilot)
            pages.append(screen_text(app))
            await pilot.press("escape")
        assert "installation guide" in pages[0]
        assert not [p for p in pages if SEED.search(p)]
