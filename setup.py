"""Package discovery by construction (the rest of the metadata is in pyproject.toml).

`screens/` and `styles/` sit at the top of the repository (the design card) but ship inside the
`juston_tui` namespace, so no global `screens` module is installed. A hand-written package list
once missed `juston_tui.commands` and gave an installed CLI that died on import: here every
directory under the three roots is a package, and every file in it that is not Python source
ships as package data (.tcss, .toml, .json, anything a later change adds).
"""

from __future__ import annotations

from pathlib import Path

from setuptools import setup

ROOT = Path(__file__).resolve().parent
# installed package -> source directory
ROOTS = {"juston_tui": "juston_tui", "juston_tui.screens": "screens", "juston_tui.styles": "styles"}
SKIP_DIRS = {"__pycache__"}
SKIP_SUFFIXES = {".py", ".pyc", ".pyo"}


def _dirs(source: Path) -> list[Path]:
    found = [source]
    for path in sorted(source.rglob("*")):
        rel = path.relative_to(source)
        if path.is_dir() and not any(p in SKIP_DIRS or p.startswith(".") for p in rel.parts):
            found.append(path)
    return found


def discover() -> tuple[list[str], dict[str, list[str]]]:
    packages: list[str] = []
    data: dict[str, list[str]] = {}
    for package, folder in ROOTS.items():
        source = ROOT / folder
        for directory in _dirs(source):
            rel = directory.relative_to(source)
            name = ".".join((package, *rel.parts))
            if name in ROOTS and name != package:
                raise SystemExit(f"{directory} clashes with the top-level {ROOTS[name]}/ that "
                                 f"ships as {name}")
            packages.append(name)
            files = sorted(
                f.name for f in directory.iterdir()
                if f.is_file() and f.suffix not in SKIP_SUFFIXES and not f.name.startswith(".")
            )
            if files:
                data[name] = files
    return packages, data


PACKAGES, PACKAGE_DATA = discover()

setup(packages=PACKAGES, package_dir=ROOTS, package_data=PACKAGE_DATA)
