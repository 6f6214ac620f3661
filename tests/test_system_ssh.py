"""Over SSH, as a support engineer on a jump host: no D-Bus, no Secret Service, a real pty.

A throwaway sshd on 127.0.0.1 (key-only, our child process), `ssh -tt` into it with the
environment stripped, then: `doctor` explains the keyring situation, `status --json` works
with the encrypted-file fallback unlocked by its environment variable (against the simulator
running in this process), and the TUI starts read-only, quits on ctrl+q and restores the
terminal (leaves the alternate screen).
"""

from __future__ import annotations

import importlib.util
import json
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from system_support.common import JUSTON, clean_env, require_juston, require_tool, wait_for
from system_support.sshd import SshServer

PASSPHRASE = "CANARY-ssh-passphrase-5be1"
ALT_SCREEN_ENTER = b"\x1b[?1049h"
ALT_SCREEN_LEAVE = b"\x1b[?1049l"
CSI = re.compile(r"\x1b\[[0-9;?<>=]*[ -/]*[@-~]")

pytestmark = pytest.mark.system


@dataclass
class Remote:
    server: SshServer
    folder: Path
    store: Path
    org_id: str
    org_name: str
    access_token: str
    cryptfile: Path

    def env(self, **extra: str) -> dict[str, str]:
        """What the remote command line sets: private folders, no keyring unless asked."""
        home = self.folder / "remote-home"
        return {
            "HOME": str(home),
            "XDG_DATA_HOME": str(home / "data"),
            "XDG_CONFIG_HOME": str(home / "config"),
            "XDG_STATE_HOME": str(home / "state"),
            "JUSTON_TUI_KEYRING_FILE": str(self.cryptfile),
            "TEXTUAL_ANIMATIONS": "none",
            **extra,
        }


@pytest.fixture(scope="module")
def remote(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Remote]:
    sshd = require_tool("sshd", "openssh-server")
    ssh = require_tool("ssh", "openssh-client")
    keygen = require_tool("ssh-keygen", "openssh-client")
    require_juston()
    from juston_tui.credentials import open_cryptfile
    from juston_tui.simulator import Simulator

    folder = tmp_path_factory.mktemp("ssh")
    (folder / "remote-home").mkdir(mode=0o700)
    sim = Simulator(scenario_set="demo").start()
    server = SshServer(folder / "sshd", sshd=sshd, ssh=ssh, keygen=keygen)
    try:
        healthy = next(o for o in sim.orgs if o.scenario == "healthy")
        store = folder / "store.json"
        env = clean_env()
        subprocess.run(
            [str(JUSTON), "--db", str(store), "org", "add", healthy.org_id,
             "--name", "SSH Smoke GmbH", "--method", "token", "--instance-url", sim.url,
             "--ca-bundle", sim.ca_path],
            env=env, check=True, capture_output=True, timeout=30,
        )
        cryptfile = folder / "credentials.cfg"
        open_cryptfile(cryptfile, PASSPHRASE).set_password(
            "juston-tui", f"{healthy.org_id}:access_token", healthy.access_token)
        server.start()
        yield Remote(server, folder, store, healthy.org_id, "SSH Smoke GmbH",
                     healthy.access_token, cryptfile)
    finally:
        server.stop()
        sim.stop()


def test_doctor_over_ssh_explains_the_missing_keyring(remote: Remote) -> None:
    code, out, elapsed = remote.server.run(
        [str(JUSTON), "--db", str(remote.store), "doctor"], remote.env())
    assert code == 0, out
    assert "backend: none" in out
    assert "usable:  no" in out
    assert "No OS keyring is reachable from this session" in out
    assert "(DBUS_SESSION_BUS_ADDRESS is not set)" in out
    assert "export JUSTON_TUI_KEYRING=cryptfile" in out
    assert "(over SSH)" in out  # SSH_CONNECTION was seen: the hint is about SSH
    assert "Traceback" not in out

    code, out, _ = remote.server.run(
        [str(JUSTON), "--db", str(remote.store), "doctor", "--json"], remote.env())
    doctor = json.loads(out)
    assert doctor["keyring"]["usable"] is False
    assert doctor["environment"]["SSH"] is True
    assert doctor["environment"]["DBUS_SESSION_BUS_ADDRESS"] is False
    print(f"doctor over ssh: {elapsed:.2f} s")


def test_status_json_over_ssh_with_the_encrypted_file(remote: Remote) -> None:
    # Without opting in, status refuses with the explanation (no silent plaintext fallback).
    code, out, _ = remote.server.run(
        [str(JUSTON), "--db", str(remote.store), "status", "--json"], remote.env())
    assert code == 2, out
    assert "juston-tui: error: no secure keyring in this session" in out
    assert "Traceback" not in out

    code, out, elapsed = remote.server.run(
        [str(JUSTON), "--db", str(remote.store), "status", "--json"],
        remote.env(JUSTON_TUI_KEYRING="cryptfile", JUSTON_TUI_KEYRING_PASSPHRASE=PASSPHRASE))
    assert code in (0, 1), out
    report = json.loads(out)
    [org] = report["orgs"]
    assert org["org_id"] == remote.org_id and org["error"] is None
    assert {c["id"] for c in org["checks"]} >= {"organization", "package.billing", "licenses"}
    assert all(c["verdict"] == "ok" for c in org["checks"]), org["checks"]
    assert remote.access_token not in out

    # A wrong passphrase is one clear line, not a traceback.
    code, out, _ = remote.server.run(
        [str(JUSTON), "--db", str(remote.store), "status", "--json"],
        remote.env(JUSTON_TUI_KEYRING="cryptfile", JUSTON_TUI_KEYRING_PASSPHRASE="wrong"))
    assert code == 2 and "wrong passphrase" in out and "Traceback" not in out
    # The token never sat in the encrypted file in clear.
    assert remote.access_token.encode() not in remote.cryptfile.read_bytes()
    print(f"status --json over ssh: {elapsed:.2f} s")


def _plain(output: bytes) -> str:
    """Terminal output without CSI sequences (enough to find a label in a frame)."""
    return CSI.sub("", output.decode("utf-8", "replace"))


class _Reader(threading.Thread):
    """Collect a child's output without blocking the test."""

    def __init__(self, stream: object) -> None:
        super().__init__(daemon=True)
        self.stream = stream
        self.data = bytearray()
        self.lock = threading.Lock()

    def run(self) -> None:
        read = self.stream.read1  # type: ignore[attr-defined]
        while chunk := read(65536):
            with self.lock:
                self.data.extend(chunk)

    def snapshot(self) -> bytes:
        with self.lock:
            return bytes(self.data)


def test_tui_read_only_over_ssh_starts_and_restores_the_terminal(remote: Remote) -> None:
    server = remote.server
    argv = [str(JUSTON), "--read-only", "--no-mouse", "--db", str(remote.store)]
    command = server.command(argv, remote.env(TERM="xterm-256color"), cols=110, rows=30)
    started = time.monotonic()
    proc = subprocess.Popen([*server.ssh_args(tty=True), command],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT)
    reader = _Reader(proc.stdout)
    reader.start()
    try:
        wait_for(lambda: ALT_SCREEN_ENTER in reader.snapshot()
                 and b"READ-ONLY" in reader.snapshot(),
                 timeout=30, what="the TUI's first frame over ssh")
        first_frame = time.monotonic() - started
        if importlib.util.find_spec("juston_tui.screens.registry") is not None:
            wait_for(lambda: remote.org_name in _plain(reader.snapshot()), timeout=15,
                     what="the registry to list the org over ssh")
        time.sleep(0.3)  # let the screen settle, as a person would glance at it
        assert proc.stdin is not None
        proc.stdin.write(b"\x11")  # ctrl+q
        proc.stdin.flush()
        code = proc.wait(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(5)
    reader.join(5)
    output = reader.snapshot()
    text = output.decode("utf-8", "replace")
    assert code == 0, text[-2000:]
    assert ALT_SCREEN_LEAVE in output, "the terminal was not restored (alternate screen kept)"
    assert output.rfind(ALT_SCREEN_LEAVE) > output.rfind(ALT_SCREEN_ENTER)
    assert "Traceback" not in text
    print(f"TUI over ssh: first frame {first_frame:.2f} s, "
          f"total {time.monotonic() - started:.2f} s")
