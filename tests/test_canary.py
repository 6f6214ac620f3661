"""Secrets canary: run every flow with distinctive fake secrets, then grep everything for them.

The simulator's orgs get canary credentials (one org per auth method), the CLI runs every
command as a user would (subprocesses, encrypted-file keyring), the TUI opens every screen,
an org's detail, its edit form and its credentials form under Pilot with the Textual log
and Python logging written to files, and screenshots are exported. Then the store, its
backups, the keyring file's raw bytes, every export, log, screenshot and captured
stdout/stderr must contain none of the secrets (nor any session token the simulator issued).
"""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import logging
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from system_support.common import JUSTON, clean_env, grep_tree, require_juston
from ui_helpers import settle
from ui_helpers import until as wait_until

PASSPHRASE = "CANARY-passphrase-91d2e0"
SECRETS = {
    "token": {"access_token": "CANARY-token-3c9e1a77b0"},
    "password": {"password": "CANARY-pw-7f3a", "security_token": "CANARYsectok5e21d"},
    "client-credentials": {"consumer_secret": "CANARY-consumer-secret-a4b8c2"},
    "jwt": {},  # the private key PEM itself is the secret (see `_pem_needles`)
}
REFRESH = "CANARY-refresh-0d6f33"
WRONG_TOKEN = "CANARY-wrong-token-88aa01"
TYPED_IN_FORM = "CANARY-typed-in-form-4411"

# keyrings.cryptfile derives an Argon2id key (t=15, m=64 MiB) for every single get and set,
# about 0.5-1 s each here; this test makes ~40 of them. It checks where secrets go, not the
# KDF's strength, so its processes use a cheap Argon2 setting (same code path, same AES-GCM).
CHEAP_ARGON2 = """\
from keyrings.cryptfile.cryptfile import ArgonAESEncryption
ArgonAESEncryption.time_cost = 1
ArgonAESEncryption.memory_cost = 1024
ArgonAESEncryption.parallelism = 1
"""


def _pem_needles(pem: str) -> list[str]:
    """Distinctive pieces of the key: two 40-character runs of its base64 body."""
    body = "".join(line for line in pem.splitlines() if not line.startswith("-----"))
    return [body[100:140], body[-140:-100]]


@dataclasses.dataclass
class Lab:
    tmp: Path
    sim: Any
    orgs: dict[str, Any]  # auth method -> SimOrg
    env: dict[str, str]
    outputs: Path
    needles: list[str]
    runs: int = 0

    def cli(self, *args: str, stdin: str | None = None, ok: tuple[int, ...] = (0,)
            ) -> subprocess.CompletedProcess[str]:
        """Run juston-tui as a user would; keep stdout/stderr as files for the grep."""
        self.runs += 1
        proc = subprocess.run([str(JUSTON), *args], env=self.env, input=stdin,
                              capture_output=True, text=True, timeout=90, cwd=self.tmp)
        stem = self.outputs / f"{self.runs:02d}-{args[0]}"
        stem.with_suffix(".out").write_text(proc.stdout)
        stem.with_suffix(".err").write_text(proc.stderr)
        assert "Traceback" not in proc.stderr, (args, proc.stderr)
        assert proc.returncode in ok, (args, proc.returncode, proc.stdout, proc.stderr)
        return proc


@pytest.fixture
def lab(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Lab]:
    require_juston()
    from juston_tui.simulator import Simulator, make_org

    home = tmp_path / "home"
    outputs = tmp_path / "outputs"
    outputs.mkdir()
    settings = {
        "HOME": str(home),
        "XDG_DATA_HOME": str(home / "data"),
        "XDG_CONFIG_HOME": str(home / "config"),
        "XDG_STATE_HOME": str(home / "state"),
        "XDG_CACHE_HOME": str(home / "cache"),
        "JUSTON_TUI_DB": str(tmp_path / "store" / "store.json"),
        "JUSTON_TUI_KEYRING": "cryptfile",
        "JUSTON_TUI_KEYRING_PASSPHRASE": PASSPHRASE,
        "JUSTON_TUI_KEYRING_FILE": str(tmp_path / "keyring" / "credentials.cfg"),
        "TEXTUAL_ANIMATIONS": "none",
    }
    for key, value in settings.items():
        monkeypatch.setenv(key, value)
    hooks = tmp_path / "pyhooks"
    hooks.mkdir()
    (hooks / "sitecustomize.py").write_text(CHEAP_ARGON2)
    from keyrings.cryptfile.cryptfile import ArgonAESEncryption

    for attr, value in (("time_cost", 1), ("memory_cost", 1024), ("parallelism", 1)):
        monkeypatch.setattr(ArgonAESEncryption, attr, value)
    sim = Simulator(scenario_set="empty").start()
    orgs = {}
    needles = [PASSPHRASE, REFRESH, WRONG_TOKEN, TYPED_IN_FORM]
    for index, method in enumerate(SECRETS):
        base = make_org("healthy", 700 + index, name=f"Canary {method} GmbH")
        secrets = dict(SECRETS[method])
        changes: dict[str, str] = {"refresh_token": f"{REFRESH}-{index}"}
        for kind, value in secrets.items():
            changes[kind] = value
        org = sim.add_org(dataclasses.replace(base, **changes))
        orgs[method] = org
        needles += list(secrets.values())
        if method == "jwt":
            needles += _pem_needles(org.private_key_pem)
        needles.append(f"{REFRESH}-{index}")
    env = clean_env(**settings, PYTHONPATH=str(hooks))
    try:
        yield Lab(tmp_path, sim, orgs, env, outputs, needles)
    finally:
        sim.stop()


def _stdin_for(method: str, org: Any) -> str:
    if method == "jwt":
        return org.private_key_pem
    if method == "password":
        return f"{org.password}\n{org.security_token}\n"
    return "\n".join(SECRETS[method].values()) + "\n"


def run_cli_flows(lab: Lab) -> None:
    sim = lab.sim
    for method, org in lab.orgs.items():
        lab.cli("org", "add", org.org_id, "--name", org.name, "--method", method,
                "--instance-url", sim.url, "--ca-bundle", sim.ca_path,
                "--username", org.username, "--consumer-key", org.consumer_key,
                "--product", "billing", "--product", "cash")
    token_org = lab.orgs["token"]
    # A refused secret first: the error must not repeat it.
    refused = lab.cli("login", token_org.org_id, "--secret-stdin", stdin=WRONG_TOKEN + "\n",
                      ok=(1, 2))
    assert refused.stderr.strip(), "a refused login says why"
    for method, org in lab.orgs.items():
        done = lab.cli("login", org.org_id, "--secret-stdin", stdin=_stdin_for(method, org))
        assert "Traceback" not in done.stdout
    lab.cli("status", ok=(0, 1))
    lab.cli("status", "--all-checks", ok=(0, 1))
    report = json.loads(lab.cli("status", "--json", ok=(0, 1)).stdout)
    assert {o["org_id"] for o in report["orgs"]} == {o.org_id for o in lab.orgs.values()}
    assert all(o["error"] is None for o in report["orgs"]), report
    for method in ("password", "jwt"):
        lab.cli("checklist", lab.orgs[method].org_id, "--markdown", "--verify", ok=(0, 1))
    lab.cli("checklist", token_org.org_id, "--json", ok=(0, 1))
    exports = lab.tmp / "exports"
    exports.mkdir()
    lab.cli("calendar", "--ics", str(exports / "pushes.ics"))
    lab.cli("calendar", "--json")
    lab.cli("contacts", "add", "--name", "Anna Canary", "--email", "anna@canary.example",
            "--title", "Head of Finance", "--org", token_org.org_id)
    for name in ("contacts.csv", "contacts.vcf", "notify.txt"):
        lab.cli("contacts", "export", str(exports / name))
    lab.cli("contacts", "list", "--json")
    lab.cli("org", "list")
    lab.cli("org", "list", "--json")
    lab.cli("org", "show", token_org.org_id)
    lab.cli("org", "show", lab.orgs["jwt"].org_id, "--json")
    lab.cli("doctor")
    lab.cli("doctor", "--json")
    lab.cli("db", "backup")
    lab.cli("db", "backups")


async def run_tui_flows(lab: Lab, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every screen, an org's detail, its edit and credentials forms; screenshots exported."""
    import textual.constants

    from juston_tui.app import JustOnApp
    from juston_tui.credentials import open_credentials
    from juston_tui.store import Store

    logs = lab.tmp / "logs"
    shots = lab.tmp / "screenshots"
    logs.mkdir()
    shots.mkdir()
    monkeypatch.setattr(textual.constants, "LOG_FILE", str(logs / "textual.log"))
    handler = logging.FileHandler(logs / "python.log")
    handler.setLevel(logging.DEBUG)
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    seen: list[str] = []
    try:
        store = Store.open(os.environ["JUSTON_TUI_DB"])
        app = JustOnApp(store=store, credentials=open_credentials("cryptfile"),
                        keyring_mode="cryptfile")
        async with app.run_test(size=(140, 45)) as pilot:

            async def shot(name: str) -> None:
                await pilot.pause()
                (shots / f"{name}.svg").write_text(app.export_screenshot(title=name))
                seen.append(name)

            async def until(predicate: Any, what: str, timeout: float = 30) -> None:
                await wait_until(pilot, predicate, what, timeout)

            registry = app.screen
            await until(lambda: getattr(registry, "loaded", False), "the registry")
            await shot("registry")
            await pilot.press("R")  # check every org with the stored secrets
            await until(lambda: not registry.refreshing, "check all")
            await shot("registry-checked")
            await pilot.press("enter")
            await until(lambda: type(app.screen).__name__ == "OrgDetailScreen", "org detail")
            await settle(pilot)
            await shot("org-detail")
            await pilot.press("e")
            await until(lambda: type(app.screen).__name__ == "OrgFormScreen", "org form")
            await shot("org-form")
            await pilot.press("escape")
            await until(lambda: type(app.screen).__name__ == "OrgDetailScreen", "back")
            await pilot.press("c")
            await until(lambda: type(app.screen).__name__ == "CredentialsFormScreen",
                        "credentials form")
            await pilot.press(*TYPED_IN_FORM)  # typed, masked, never shown or logged
            await shot("credentials-form-typed")
            await pilot.press("tab")  # leaving the field: Input.Blurred carries the value
            await pilot.press("ctrl+s")  # the keyring write runs in a worker
            await until(lambda: type(app.screen).__name__ == "OrgDetailScreen", "saved")
            await pilot.press("escape")
            for key, mode in (("2", "checklist"), ("3", "access"), ("4", "calendar"),
                              ("5", "contacts"), ("1", "registry")):
                if mode not in app.MODES:
                    continue
                await pilot.press(key)
                await until(lambda m=mode: app.current_mode == m, f"the {mode} screen")
                await settle(pilot)
                await shot(mode)
            await pilot.press("question_mark")
            await shot("help")
            await pilot.press("escape")
            assert app.is_running
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)
        handler.close()
    return seen


async def test_no_secret_reaches_any_file_output_log_or_screen(
        lab: Lab, monkeypatch: pytest.MonkeyPatch) -> None:
    run_cli_flows(lab)
    if importlib.util.find_spec("juston_tui.screens.registry") is not None:
        shots = await run_tui_flows(lab, monkeypatch)
        assert {"registry", "org-detail", "org-form", "credentials-form-typed"} <= set(shots)
        textual_log = (lab.tmp / "logs" / "textual.log")
        assert textual_log.exists() and textual_log.stat().st_size > 0
        log_text = textual_log.read_text(encoding="utf-8", errors="replace")
        assert "CredentialsFormScreen" in log_text  # the modal ran while the log was on
        assert TYPED_IN_FORM not in typed_characters(log_text)
    # Session tokens the simulator handed out during the logins are secrets too.
    issued = [t for t in getattr(lab.sim, "_tokens", {}) if len(t) > 20]
    needles = lab.needles + issued
    assert len(lab.needles) >= 10
    store_file = Path(os.environ["JUSTON_TUI_DB"])
    assert store_file.exists() and list((store_file.parent / "backups").iterdir())
    keyring_file = Path(os.environ["JUSTON_TUI_KEYRING_FILE"])
    assert keyring_file.exists()
    hits = grep_tree(lab.tmp, needles)
    assert hits == [], "secrets leaked:\n" + "\n".join(hits)
    # The secrets are really there (so the grep could have found them): the keyring has them.
    from juston_tui.credentials import open_credentials

    creds = open_credentials("cryptfile")
    assert creds.get(lab.orgs["password"].org_id, "password") == "CANARY-pw-7f3a"
    assert creds.get(lab.orgs["token"].org_id, "access_token") == "CANARY-token-3c9e1a77b0"


def typed_characters(log_text: str) -> str:
    """Every character of a key event in a Textual log, in order (a secret typed key by key)."""
    return "".join(re.findall(r"Key\(key='[^']*', character='(.)'", log_text))


async def test_a_secret_typed_into_the_credentials_form_never_reaches_textual_log(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """TEXTUAL_LOG logs every message's repr: the key events, Input.Changed/Blurred/Submitted
    and the worker that writes the keyring (its description repeats its arguments)."""
    import textual.constants

    from juston_tui.app import JustOnApp
    from juston_tui.credentials import open_credentials
    from juston_tui.model import Org
    from juston_tui.store import Store

    log = tmp_path / "textual.log"
    monkeypatch.setattr(textual.constants, "LOG_FILE", str(log))
    store = Store.open(tmp_path / "s.json")
    org = Org.create(org_id="00D5g000004Xyz1", name="Canary AG", auth_method="password",
                     username="admin@canary.example")
    store.add_org(org)
    credentials = open_credentials("memory")
    app = JustOnApp(store=store, credentials=credentials)
    secret, token = "CANARY-form-pw-5c2e", "CANARYformtok8d1"
    async with app.run_test(size=(120, 40)) as pilot:
        for _ in range(100):
            if getattr(app.screen, "loaded", False):
                break
            await pilot.pause(0.05)
        await pilot.press("enter")
        for _ in range(100):
            if type(app.screen).__name__ == "OrgDetailScreen":
                break
            await pilot.pause(0.05)
        await pilot.press("c")
        await pilot.pause()
        assert type(app.screen).__name__ == "CredentialsFormScreen"
        await pilot.press(*secret, "tab", *token, "shift+tab", "tab")  # blurs both fields
        app.screen.query_one("#secret-password").focus()
        await pilot.press("enter")  # Input.Submitted
        await pilot.press("ctrl+s")
        for _ in range(100):
            if type(app.screen).__name__ == "OrgDetailScreen":
                break
            await pilot.pause(0.05)
        await app.workers.wait_for_complete()
        await pilot.pause()
    assert credentials.get(org.org_id, "password") == secret  # it was really typed and saved
    assert credentials.get(org.org_id, "security_token") == token
    text = log.read_text(encoding="utf-8")
    assert "SecretInput" in text and "saving credentials" in text  # the log had the form
    for needle in (secret, token):
        assert needle not in text
        assert needle not in typed_characters(text)
    for fragment in (secret[:8], token[:8]):  # not even a piece of one
        assert fragment not in text


def test_the_grep_finds_a_planted_secret(tmp_path: Path) -> None:
    """The canary check can fail: a secret in any file, even binary, is found."""
    (tmp_path / "deep").mkdir()
    (tmp_path / "deep" / "x.bin").write_bytes(b"\x00\xffCANARY-pw-7f3a\x00")
    assert grep_tree(tmp_path, ["CANARY-pw-7f3a"]) == [f"{tmp_path / 'deep' / 'x.bin'}: "
                                                       "CANARY-pw-7f3a"]
