"""Drive a program in a real terminal: tmux with send-keys in, capture-pane out.

Each driver has its own tmux server (a socket in a temp folder, `-f /dev/null` so no user
config applies), a bash pane with a known prompt, and waits by polling the screen for text
instead of sleeping. `close()` kills only that server.
"""

from __future__ import annotations

import re
import shlex
import subprocess
import time
from collections.abc import Mapping
from pathlib import Path

PROMPT = "READY$ "


class TmuxError(AssertionError):
    """The screen never showed what we waited for; carries the last screen for the report."""


class Tmux:
    def __init__(self, tmux: str, folder: Path, *, width: int = 120, height: int = 40) -> None:
        self.tmux = tmux
        self.socket = folder / "tmux.sock"
        self.width = width
        self.height = height
        self.target = "juston:0.0"
        self.started = False

    def _run(self, *args: str, check: bool = True) -> str:
        proc = subprocess.run([self.tmux, "-S", str(self.socket), *args], capture_output=True,
                              text=True, timeout=20)
        if check and proc.returncode != 0:
            raise TmuxError(f"tmux {' '.join(args)} failed: {proc.stderr.strip()}")
        return proc.stdout

    def start(self, env: Mapping[str, str]) -> Tmux:
        """A detached session running a plain bash with a recognisable prompt."""
        subprocess.run(
            [self.tmux, "-S", str(self.socket), "-f", "/dev/null", "new-session", "-d",
             "-s", "juston", "-x", str(self.width), "-y", str(self.height),
             "env", "-i", *[f"{k}={v}" for k, v in env.items()], f"PS1={PROMPT}",
             "bash", "--norc", "--noprofile"],
            check=True, capture_output=True, text=True, timeout=20,
        )
        self.started = True
        self._run("set-option", "-g", "status", "off")
        self.wait_for(PROMPT.strip(), timeout=10)  # capture-pane drops trailing blanks
        return self

    def run_command(self, argv: list[str]) -> None:
        """Type a command line at the prompt; the shell echoes `EXIT=<code>` when it ends."""
        self.type(shlex.join(argv) + '; echo "EXIT=$?"')
        self.keys("Enter")

    def type(self, text: str) -> None:
        """Literal text, as typed."""
        self._run("send-keys", "-t", self.target, "-l", text)

    def keys(self, *names: str) -> None:
        """tmux key names: Enter, Escape, Space, Tab, C-q, BSpace, j, 1, ..."""
        for name in names:
            self._run("send-keys", "-t", self.target, name)

    def screen(self) -> str:
        return self._run("capture-pane", "-p", "-t", self.target)

    def wait_for(self, pattern: str | re.Pattern[str], *, timeout: float = 15,
                 gone: bool = False) -> str:
        """Poll the screen until `pattern` (text or regex) shows (or, with gone=True, leaves)."""
        deadline = time.monotonic() + timeout
        while True:
            text = self.screen()
            found = (pattern.search(text) is not None if isinstance(pattern, re.Pattern)
                     else pattern in text)
            if found != gone:
                return text
            if time.monotonic() > deadline:
                what = pattern.pattern if isinstance(pattern, re.Pattern) else pattern
                raise TmuxError(f"timed out after {timeout:.0f} s waiting for {what!r} to "
                                f"{'disappear' if gone else 'appear'}; the screen was:\n{text}")
            time.sleep(0.1)

    def settle(self, *, quiet: float = 0.2, timeout: float = 5) -> str:
        """Wait until the screen stops changing for `quiet` seconds (a freshly opened form
        takes focus on a later refresh than the one that first draws it)."""
        deadline = time.monotonic() + timeout
        last = self.screen()
        while time.monotonic() < deadline:
            time.sleep(quiet)
            now = self.screen()
            if now == last:
                return now
            last = now
        return last

    def pane_alive(self) -> bool:
        out = self._run("list-panes", "-t", "juston", "-F", "#{pane_dead}", check=False)
        return out.strip() == "0"

    def close(self) -> None:
        if self.started:
            self._run("kill-server", check=False)
            self.started = False
