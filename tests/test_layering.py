"""The core knows nothing of Textual or the screens; screens use the core, never the reverse."""

from __future__ import annotations

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
# Only these modules of juston_tui/ may import Textual (they are the UI entry points).
UI_MODULES = {"juston_tui/app.py"}
FORBIDDEN = ("textual", "juston_tui.screens", "juston_tui.app", "screens")


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):  # includes imports inside functions (lazy imports)
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def test_core_never_imports_textual_or_screens() -> None:
    offenders = []
    for path in sorted((REPO / "juston_tui").rglob("*.py")):
        rel = path.relative_to(REPO).as_posix()
        if rel in UI_MODULES:
            continue
        for module in imported_modules(path):
            if any(module == f or module.startswith(f + ".") for f in FORBIDDEN):
                # launch.py may hand over to the app, lazily, after the store is open
                if rel == "juston_tui/launch.py" and module == "juston_tui.app":
                    continue
                offenders.append(f"{rel} imports {module}")
    assert not offenders, "\n".join(offenders)


def test_screens_import_the_package_namespace_not_top_level() -> None:
    """Installed, screens/ is juston_tui.screens: a bare `import screens` would break."""
    offenders = []
    for path in sorted((REPO / "screens").rglob("*.py")):
        for module in imported_modules(path):
            if module == "screens" or module.startswith("screens.") or module.startswith(
                "styles"
            ):
                offenders.append(f"{path.relative_to(REPO)} imports {module}")
    assert not offenders, "\n".join(offenders)
