"""The wheel ships screens/ and styles/ inside the juston_tui namespace, never top level."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
         "-w", str(out), str(REPO)],
        capture_output=True, text=True, timeout=300,
    )
    if proc.returncode != 0:
        pytest.fail(f"wheel build failed: {proc.stderr[-2000:]}")
    return next(out.glob("juston_tui-*.whl"))


def test_wheel_layout(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    top_level = {n.split("/")[0] for n in names if not n.endswith(".dist-info/")}
    assert "screens" not in top_level and "styles" not in top_level
    assert {n.split("/")[0] for n in names if "dist-info" not in n} == {"juston_tui"}
    assert "juston_tui/screens/base.py" in names
    assert "juston_tui/styles/app.tcss" in names
    assert "juston_tui/app.py" in names


def test_non_editable_install_runs(wheel: Path, tmp_path: Path) -> None:
    """Install the wheel alone (deps come from this venv) and start the CLI from elsewhere."""
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target",
                    str(target), str(wheel)], check=True, capture_output=True, timeout=300)
    env = {**os.environ, "PYTHONPATH": str(target), "JUSTON_TUI_DB": str(tmp_path / "s.json")}
    code = (
        "import juston_tui, juston_tui.app, juston_tui.screens.base;"
        f"assert juston_tui.__file__.startswith({str(target)!r}), juston_tui.__file__;"
        "from juston_tui.app import STYLES; assert (STYLES / 'app.tcss').is_file();"
        "from juston_tui.cli import main; raise SystemExit(main(['org', 'list', '--json']))"
    )
    # From a neutral cwd, so the repo's own folders cannot shadow the installed package.
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=tmp_path, env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert '"orgs": []' in proc.stdout
