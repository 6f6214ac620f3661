"""The real Secret Service: gnome-keyring inside a private D-Bus session.

`open_credentials("auto")` must pick the SecretService backend by itself (no
PYTHON_KEYRING_BACKEND), store an org's secrets there, read them back from another process,
and `juston-tui doctor --json` must call the backend usable. The secrets must not be in the
store file, nor in gnome-keyring's own files in plain text.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from system_support.common import (
    PYTHON,
    clean_env,
    grep_tree,
    require_juston,
    require_tool,
)

ORG = "00D5g000004Xyz1EAC"
PASSWORD = "CANARY-ss-pw-7f3a91"
TOKEN = "CANARY-ss-token-c0ffee42"

STORE_SECRETS = textwrap.dedent(f"""
    from juston_tui.credentials import open_credentials
    creds = open_credentials("auto")
    assert creds.available, creds.info
    creds.set("{ORG}", "password", "{PASSWORD}")
    creds.set("{ORG}", "security_token", "{TOKEN}")
    print(creds.info.name)
""")

READ_SECRETS = textwrap.dedent(f"""
    import json
    from juston_tui.credentials import open_credentials
    creds = open_credentials("auto")
    print(json.dumps({{"backend": creds.info.name,
                      "password": creds.get("{ORG}", "password"),
                      "token": creds.get("{ORG}", "security_token"),
                      "status": creds.status("{ORG}")}}))
""")

SESSION_SCRIPT = """\
set -euo pipefail
cd "$WORK"
# Unlock (and on first use create) the login keyring with a throwaway password.
eval "$(printf pw | gnome-keyring-daemon --unlock --components=secrets)" > /dev/null
"$JUSTON" --db "$WORK/store.json" org add {org} --name "Secret Service GmbH" \\
    --method password --username admin@ss.example > out/org_add.txt 2> out/org_add.err
"$PY" -c "$STORE_SECRETS" > out/store.txt 2> out/store.err
"$PY" -c "$READ_SECRETS" > out/read.json 2> out/read.err
"$JUSTON" --db "$WORK/store.json" doctor --json > out/doctor.json 2> out/doctor.err || true
"$JUSTON" --db "$WORK/store.json" org show {org} --json > out/show.json 2> out/show.err
"""


@pytest.mark.system
def test_secret_service_stores_and_reads_back_org_secrets(tmp_path: Path) -> None:
    dbus_run = require_tool("dbus-run-session", "dbus")
    require_tool("gnome-keyring-daemon", "gnome-keyring")
    juston = require_juston()
    home = tmp_path / "home"
    runtime = tmp_path / "run"
    for folder in (home, runtime, tmp_path / "out"):
        folder.mkdir(mode=0o700)
    env = clean_env(
        HOME=str(home),
        XDG_DATA_HOME=str(home / "data"),
        XDG_CONFIG_HOME=str(home / "config"),
        XDG_RUNTIME_DIR=str(runtime),
        WORK=str(tmp_path),
        JUSTON=str(juston),
        PY=str(PYTHON),
        STORE_SECRETS=STORE_SECRETS,
        READ_SECRETS=READ_SECRETS,
    )
    assert "PYTHON_KEYRING_BACKEND" not in env  # keyring must choose the backend itself
    started = time.monotonic()
    proc = subprocess.run(
        [dbus_run, "--", "bash", "-c", SESSION_SCRIPT.format(org=ORG)],
        env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60,
    )
    elapsed = time.monotonic() - started
    outputs = {p.name: p.read_text() for p in (tmp_path / "out").iterdir()}
    assert proc.returncode == 0, (proc.stdout, proc.stderr, outputs)

    # The app's own resolution picked the Secret Service, and it persisted across processes.
    assert outputs["store.txt"].strip() == "keyring.backends.SecretService.Keyring"
    read = json.loads(outputs["read.json"])
    assert read["backend"] == "keyring.backends.SecretService.Keyring"
    assert read["password"] == PASSWORD and read["token"] == TOKEN
    assert read["status"]["password"] and read["status"]["security_token"]
    assert not read["status"]["private_key"]

    doctor = json.loads(outputs["doctor.json"])
    assert doctor["keyring"]["backend"] == "keyring.backends.SecretService.Keyring"
    assert doctor["keyring"]["usable"] is True and doctor["keyring"]["secure"] is True
    assert "explanation" not in doctor["keyring"]
    assert doctor["environment"]["DBUS_SESSION_BUS_ADDRESS"] is True

    # The secrets are nowhere in plain text: not in the store, its backups, our outputs, nor
    # gnome-keyring's own files (which it encrypts with the login password).
    show = json.loads(outputs["show.json"])
    assert show["org_id"] == ORG
    keyring_files = list((home / "data" / "keyrings").glob("*"))
    assert keyring_files, "gnome-keyring wrote no keyring file: the secrets went elsewhere"
    hits = [h for h in grep_tree(tmp_path, [PASSWORD, TOKEN])
            if not h.startswith(str(tmp_path / "out" / "read.json"))]
    assert hits == []
    assert PASSWORD not in proc.stdout + proc.stderr
    print(f"secret service round trip: {elapsed:.2f} s")
