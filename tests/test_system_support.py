"""The system tests' own rule: a missing tool skips on a laptop but fails under CI."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from system_support import common

MISSING = "juston-no-such-tool-4f1c"


def test_missing_tool_skips_without_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="not installed"):
        common.require_tool(MISSING, "juston-pkg")


def test_missing_tool_fails_under_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI must run every system test"):
        common.require_tool(MISSING, "juston-pkg")


def test_tools_outside_path_are_found(monkeypatch: pytest.MonkeyPatch) -> None:
    """sshd lives in /usr/sbin, which a non-root PATH often lacks."""
    monkeypatch.setenv("PATH", "/nonexistent")
    assert common.find_tool("sh") in ("/usr/sbin/sh", "/sbin/sh", "/usr/bin/sh")
    assert common.find_tool(MISSING) is None


def test_clean_env_strips_the_session() -> None:
    env = common.clean_env({"DBUS_SESSION_BUS_ADDRESS": "unix:x", "PYTHON_KEYRING_BACKEND": "n",
                            "KEEP": "1"}, EXTRA="2")
    assert env == {"KEEP": "1", "EXTRA": "2"}


def test_every_system_tool_is_installed_by_the_ci_script() -> None:
    """Each tool the system tests require appears in .ci/system-deps.sh's list."""
    script = (common.REPO / ".ci" / "system-deps.sh").read_text()
    for tool in ("tmux", "sshd", "ssh", "ssh-keygen", "dbus-run-session",
                 "gnome-keyring-daemon", "chromium"):
        assert f"[{tool}]=" in script, tool
