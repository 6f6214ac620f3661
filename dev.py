#!/usr/bin/env python3
"""One entry point for newcomers: sets everything up, then runs what you asked for.

    python3 dev.py demo   # create .venv, install, run the app on the demo (simulator + store)
    python3 dev.py test   # create .venv, install test extras, run ruff, import contracts, pytest
    python3 dev.py bench    # run every benchmark in bench/ and print the figures

Only the Python standard library is used here, so it runs on a fresh machine with Python 3.11+.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = Path(os.environ.get("JUSTON_TUI_VENV", ROOT / ".venv"))
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PY = BIN / "python"


def run(*cmd: str | Path, env: dict[str, str] | None = None) -> int:
    return subprocess.call([str(c) for c in cmd], cwd=ROOT, env=env)


def run_pip(*cmd: str | Path) -> int:
    """pip, minus the 'Location ... is ignored' noise some machines' pip.conf produces."""
    proc = subprocess.run([str(c) for c in cmd], cwd=ROOT, stderr=subprocess.PIPE, text=True)
    for line in proc.stderr.splitlines():
        if not (line.startswith("WARNING: Location ") and "is ignored" in line):
            print(line, file=sys.stderr)
    return proc.returncode


def ensure_venv(extra: str) -> None:
    """Create the venv and (re)install when the packaging files changed since the last install."""
    if not PY.exists():
        print(f"dev.py: creating {VENV}", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    stamp = VENV / f".juston-installed-{extra}"
    digest = hashlib.sha256(b"".join((ROOT / name).read_bytes()
                                     for name in ("pyproject.toml", "setup.py"))).hexdigest()
    if stamp.exists() and stamp.read_text() == digest:
        return
    print(f"dev.py: installing juston-tui[{extra}] into {VENV}", flush=True)
    pip = [PY, "-m", "pip", "install", "--disable-pip-version-check", "-q"]
    if run_pip(*pip, "-e", f".[{extra}]") != 0:
        sys.exit("dev.py: installation failed (see pip's message above)")
    stamp.write_text(digest)


def main(argv: list[str]) -> int:
    if sys.version_info < (3, 11):  # noqa: UP036 - dev.py may be run by an older python3
        sys.exit("juston-tui needs Python 3.11 or newer")
    command = argv[0] if argv else "help"
    rest = argv[1:]
    if command == "demo":
        ensure_venv("dev")
        return run(BIN / "juston-tui", "--demo", *rest)
    if command == "test":
        ensure_venv("dev")
        env = dict(os.environ)
        # Nothing in the tests may reach a real keyring or a real display.
        env.setdefault("PYTHON_KEYRING_BACKEND", "keyring.backends.null.Keyring")
        env.pop("REQUESTS_CA_BUNDLE", None)
        env.pop("CURL_CA_BUNDLE", None)
        for step in (
            [BIN / "ruff", "check", "."],
            [BIN / "lint-imports"],
            [BIN / "pytest", "-n", os.environ.get("JUSTON_TUI_TEST_WORKERS", "2"), *rest],
        ):
            print("dev.py: " + " ".join(str(s.name if isinstance(s, Path) else s) for s in step),
                  flush=True)
            code = run(*step, env=env)
            if code != 0:
                return code
        return 0
    if command == "bench":
        ensure_venv("dev")
        code = 0
        for script in sorted((ROOT / "bench").glob("*_bench.py")):
            print(f"\n== {script.name}", flush=True)
            code |= run(PY, script, *rest)
        return code
    print(__doc__)
    return 0 if command in ("help", "-h", "--help") else 2


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
