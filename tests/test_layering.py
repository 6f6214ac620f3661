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


# -- one owner per table -------------------------------------------------------------------------
# The store's raw document methods take a table name; only a table's owner calls them with it.
RAW_METHODS = {"all_docs", "get_doc", "put_doc", "patch_doc", "delete_doc", "put_many"}
# Table -> the one module that reads and writes its documents (Store's typed methods own the rest).
OWNERS = {
    "meta": "juston_tui/store/store.py",
    "orgs": "juston_tui/store/store.py",
    "contacts": "juston_tui/store/store.py",
    "checklist": "juston_tui/checklist/state.py",
    "pushes": "juston_tui/schedule/store.py",
    "push_plans": "juston_tui/push_ops/plans.py",
    "push_audit": "juston_tui/push_ops/audit.py",
}


def _module_constants(tree: ast.Module) -> dict[str, str]:
    found = {}
    for node in tree.body:
        if (isinstance(node, ast.Assign) and len(node.targets) == 1
                and isinstance(node.targets[0], ast.Name)
                and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)):
            found[node.targets[0].id] = node.value.value
    return found


def raw_table_calls(path: Path) -> list[tuple[int, str | None]]:
    """(line, table) of each raw store call in `path`; table None when it is not a constant."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    constants = _module_constants(tree)
    calls = []
    for node in ast.walk(tree):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and node.func.attr in RAW_METHODS and node.args):
            first = node.args[0]
            table = (first.value if isinstance(first, ast.Constant) and isinstance(first.value, str)
                     else constants.get(first.id) if isinstance(first, ast.Name) else None)
            calls.append((node.lineno, table))
    return calls


def test_each_table_has_one_owner_and_screens_touch_no_documents() -> None:
    offenders = []
    for folder in ("juston_tui", "screens"):
        for path in sorted((REPO / folder).rglob("*.py")):
            rel = path.relative_to(REPO).as_posix()
            if rel.startswith("juston_tui/store/") and rel != "juston_tui/store/store.py":
                continue  # the engine below Store
            for line, table in raw_table_calls(path):
                if rel == "juston_tui/store/store.py" and table is None:
                    continue  # Store's own generic methods pass their `table` argument on
                if table is None or OWNERS.get(table) != rel:
                    offenders.append(f"{rel}:{line} touches {table or 'a table'} documents "
                                     f"(owner: {OWNERS.get(table or '', 'none')})")
    assert not offenders, "\n".join(offenders)


# -- screens talk by messages ----------------------------------------------------------------------
SCREEN_SHARED = {"base", "messages", "form_base", "stylesheet", "confirm", "registry_data",
                 "registry_refresh", "checklist_modals"}


def screen_imports() -> dict[str, set[str]]:
    """Screen module -> the screen modules it imports (anywhere, TYPE_CHECKING included)."""
    graph: dict[str, set[str]] = {}
    for path in sorted((REPO / "screens").glob("*.py")):
        graph[path.stem] = {
            m.removeprefix("juston_tui.screens.").split(".")[0]
            for m in imported_modules(path) if m.startswith("juston_tui.screens.")
            and not m.startswith("juston_tui.screens.widgets")
        } - {path.stem}
    return graph


def test_no_screen_imports_back_up_the_stack() -> None:
    """A screen imports another only to show it (a child): never its parent to call it. So the
    imports among screens form no cycle, and shared modules import no screen at all."""
    graph = screen_imports()
    cycles = []

    def visit(node: str, trail: list[str]) -> None:
        for nxt in sorted(graph.get(node, ())):
            if nxt in trail:
                cycles.append(" -> ".join([*trail[trail.index(nxt):], nxt]))
            elif len(trail) < len(graph):
                visit(nxt, [*trail, nxt])

    for start in sorted(graph):
        visit(start, [start])
    assert not cycles, "\n".join(sorted(set(cycles)))
    shared = {m: sorted(graph[m] - SCREEN_SHARED) for m in SCREEN_SHARED if m in graph}
    assert not any(shared.values()), shared


def test_screens_never_reach_into_other_screens() -> None:
    """No screen reads the stack or the app's screens to call one: results go up by message."""
    offenders = []
    for path in sorted((REPO / "screens").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and node.attr in ("screen_stack", "get_screen",
                                                                 "call_from_thread"):
                offenders.append(f"{path.relative_to(REPO)}:{node.lineno} uses {node.attr}")
    assert not offenders, "\n".join(offenders)


# -- lazy imports only at named seams -------------------------------------------------------------
LAZY_FOLDERS = ("juston_tui", "screens")


def test_every_import_in_a_function_says_what_it_saves() -> None:
    """Imports belong at the top; one inside a function is a start-up or heavy-library seam and
    carries a comment (on it or on the import block) saying what it saves."""
    offenders = []
    for folder in LAZY_FOLDERS:
        for path in sorted((REPO / folder).rglob("*.py")):
            lines = path.read_text(encoding="utf-8").splitlines()
            tree = ast.parse("\n".join(lines), filename=str(path))
            for func in ast.walk(tree):
                if not isinstance(func, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    continue
                for node in ast.walk(func):
                    if not isinstance(node, (ast.Import, ast.ImportFrom)):
                        continue
                    first = node.lineno - 1
                    while first > 0 and lines[first - 1].strip().startswith(("import ", "from ")):
                        first -= 1
                    block = lines[max(first - 1, 0):node.end_lineno]
                    if not any("#" in line for line in block):
                        offenders.append(f"{path.relative_to(REPO)}:{node.lineno}: "
                                         f"{lines[node.lineno - 1].strip()}")
    assert not offenders, "\n".join(sorted(set(offenders)))
