"""The wheel ships screens/ and styles/ inside the juston_tui namespace, never top level.

Installing and running the wheel is tests/test_installed.py."""

from __future__ import annotations

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
