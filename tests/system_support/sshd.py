"""A throwaway sshd on 127.0.0.1 for the over-SSH smoke test.

Host key, user key, authorized_keys and sshd_config live in a temporary folder; sshd runs in
the foreground (`-D -e`) as our child, so it dies with the test. Key-only login, no PAM,
StrictModes off (pytest's tmp folders are not owned the way sshd likes).
"""

from __future__ import annotations

import getpass
import os
import shlex
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from system_support.common import free_port, stop_process, wait_for_port


@dataclass
class SshServer:
    folder: Path
    sshd: str
    ssh: str
    keygen: str
    port: int = 0
    user: str = field(default_factory=getpass.getuser)
    proc: subprocess.Popen[bytes] | None = None

    @property
    def key(self) -> Path:
        return self.folder / "user_key"

    @property
    def log(self) -> Path:
        return self.folder / "sshd.log"

    def start(self) -> SshServer:
        self.folder.mkdir(parents=True, exist_ok=True)
        for name in ("host_key", "user_key"):
            subprocess.run([self.keygen, "-q", "-t", "ed25519", "-N", "", "-C", "juston-test",
                            "-f", str(self.folder / name)], check=True, timeout=30)
        (self.folder / "authorized_keys").write_bytes((self.folder / "user_key.pub").read_bytes())
        if os.geteuid() == 0:
            # sshd's privilege-separation folder; Debian creates it only when the service starts.
            Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)
        self.port = free_port()
        config = self.folder / "sshd_config"
        config.write_text("\n".join([
            f"Port {self.port}",
            "ListenAddress 127.0.0.1",
            f"HostKey {self.folder / 'host_key'}",
            f"PidFile {self.folder / 'sshd.pid'}",
            f"AuthorizedKeysFile {self.folder / 'authorized_keys'}",
            f"AllowUsers {self.user}",
            "PermitRootLogin prohibit-password",
            "PubkeyAuthentication yes",
            "PasswordAuthentication no",
            "KbdInteractiveAuthentication no",
            "UsePAM no",
            "StrictModes no",
            "PermitUserEnvironment no",
            "X11Forwarding no",
            "AllowTcpForwarding no",
            "PrintMotd no",
            "PrintLastLog no",
            "LogLevel INFO",
            "",
        ]))
        log = self.log.open("wb")
        self.proc = subprocess.Popen([self.sshd, "-D", "-e", "-f", str(config)],
                                     stdin=subprocess.DEVNULL, stdout=log, stderr=log)
        log.close()
        try:
            wait_for_port(self.port, timeout=10)
        except AssertionError:
            self.stop()
            raise AssertionError(f"sshd did not start: {self.log.read_text()}") from None
        return self

    def stop(self) -> None:
        if self.proc is not None:
            stop_process(self.proc)

    def ssh_args(self, *, tty: bool = True) -> list[str]:
        return [
            self.ssh, "-F", "/dev/null", "-tt" if tty else "-T",
            "-p", str(self.port), "-i", str(self.key),
            "-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes",
            "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
            "-o", "ConnectTimeout=10", "-o", "LogLevel=ERROR",
            f"{self.user}@127.0.0.1",
        ]

    def command(self, argv: list[str], env: dict[str, str], *, cols: int = 100,
                rows: int = 30) -> str:
        """The remote command line: a pty size, a stripped environment, then `argv`."""
        assignments = [f"{k}={v}" for k, v in env.items()]
        strip = ["-u", "DBUS_SESSION_BUS_ADDRESS", "-u", "PYTHON_KEYRING_BACKEND",
                 "-u", "DISPLAY", "-u", "SSH_AUTH_SOCK"]
        return (f"stty cols {cols} rows {rows} 2>/dev/null; exec env "
                + shlex.join([*strip, *assignments, *argv]))

    def run(self, argv: list[str], env: dict[str, str], *, timeout: float = 60,
            tty: bool = True) -> tuple[int, str, float]:
        """Run a command over SSH; (exit code, output with CRLF made LF, seconds)."""
        started = time.monotonic()
        proc = subprocess.run([*self.ssh_args(tty=tty), self.command(argv, env)],
                              stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout)
        text = (proc.stdout + proc.stderr).decode("utf-8", "replace").replace("\r\n", "\n")
        return proc.returncode, text, time.monotonic() - started
