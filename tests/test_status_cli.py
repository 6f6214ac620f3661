"""`status`, `login`, `org import-sf` and `org import --from-vendor` against the simulator."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import certifi
import pytest

from juston_tui.cli import main
from juston_tui.credentials import CredentialStore, open_credentials
from juston_tui.model import CHECK_IDS
from juston_tui.simulator import Simulator, make_org
from juston_tui.store import Store

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def sim() -> Iterator[Simulator]:
    simulator = Simulator(scenario_set="all").start()
    yield simulator
    simulator.stop()


@pytest.fixture
def keyring(monkeypatch: pytest.MonkeyPatch) -> CredentialStore:
    """One memory keyring shared by every `main()` call of a test (as one OS keyring would be)."""
    shared = open_credentials("memory")
    monkeypatch.setattr("juston_tui.commands.open_credentials", lambda *a, **k: shared)
    return shared


def by_scenario(sim: Simulator, scenario: str):
    return next(o for o in sim.orgs if o.scenario == scenario)


def cli(capsys: pytest.CaptureFixture[str], db: Path, *argv: str,
        stdin: str | None = None, monkeypatch: pytest.MonkeyPatch | None = None
        ) -> tuple[int, str, str]:
    if stdin is not None:
        assert monkeypatch is not None
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    code = main(["--db", str(db), *argv])
    out, err = capsys.readouterr()
    return code, out, err


def add_token_org(capsys, db: Path, sim: Simulator, so, monkeypatch, check: bool = True) -> None:
    code, _, err = cli(capsys, db, "org", "add", so.org_id, "--name", so.name, "--type",
                       so.kind, "--instance-url", sim.url, "--method", "token", "--ca-bundle",
                       sim.ca_path)
    assert code == 0, err
    extra = () if check else ("--no-check",)
    code, out, err = cli(capsys, db, "login", so.org_id, "--secret-stdin", *extra,
                         stdin=so.access_token + "\n", monkeypatch=monkeypatch)
    assert code == 0, err
    assert so.access_token not in out + err


# -- the end-to-end path a support engineer types --------------------------------------------------
def test_end_to_end_from_the_command_line(sim: Simulator, tmp_path: Path) -> None:
    """org add -> login from stdin -> status --json, in fresh processes with the encrypted file
    keyring, and REQUESTS_CA_BUNDLE pointing at a bundle that does not know the simulator."""
    so = by_scenario(sim, "healthy")
    env = {k: v for k, v in os.environ.items() if not k.startswith("JUSTON_TUI_")}
    env.update(
        JUSTON_TUI_DB=str(tmp_path / "store.json"),
        JUSTON_TUI_KEYRING="cryptfile",
        JUSTON_TUI_KEYRING_PASSPHRASE="correct horse battery staple",
        JUSTON_TUI_KEYRING_FILE=str(tmp_path / "credentials.cfg"),
        REQUESTS_CA_BUNDLE=certifi.where(),
        CURL_CA_BUNDLE=certifi.where(),
        PYTHONPATH=str(REPO),
    )

    def run(*argv: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "juston_tui", *argv], env=env, input=stdin,
                              capture_output=True, text=True, timeout=60, cwd=tmp_path)

    added = run("org", "add", so.org_id, "--name", "X", "--type", "production",
                "--instance-url", sim.url, "--method", "token", "--ca-bundle", sim.ca_path)
    assert added.returncode == 0, added.stderr
    login = run("login", so.org_id, "--method", "token", "--secret-stdin",
                stdin=so.access_token + "\n")
    assert login.returncode == 0, login.stderr
    assert "ok: logged in to" in login.stdout
    status = run("status", so.org_id, "--json")
    assert status.returncode == 0, status.stderr
    payload = json.loads(status.stdout)
    (entry,) = payload["orgs"]
    assert entry["org_id"] == so.org_id and entry["name"] == "X" and entry["error"] is None
    assert entry["checked_at"].endswith("Z")
    assert [c["id"] for c in entry["checks"]] == list(CHECK_IDS)
    assert {c["verdict"] for c in entry["checks"]} == {"ok"}
    assert all(set(c) >= {"id", "verdict", "reason", "fix"} for c in entry["checks"])
    everything = added.stdout + login.stdout + login.stderr + status.stdout + status.stderr
    assert so.access_token not in everything
    assert so.access_token not in (tmp_path / "store.json").read_text()
    assert so.access_token.encode() not in (tmp_path / "credentials.cfg").read_bytes()


# -- status ---------------------------------------------------------------------------------------
def test_status_exit_codes_and_json(sim: Simulator, tmp_path: Path, keyring: CredentialStore,
                                    capsys, monkeypatch) -> None:
    db = tmp_path / "s.json"
    healthy, outdated, broken = (by_scenario(sim, s) for s in
                                 ("healthy", "outdated", "api_disabled"))
    for so in (healthy, outdated, broken):
        add_token_org(capsys, db, sim, so, monkeypatch, check=so is not broken)
    code, out, _ = cli(capsys, db, "status", healthy.org_id, "--json")
    assert code == 0
    code, out, _ = cli(capsys, db, "status", healthy.org_id, outdated.org_id, "--json")
    assert code == 1
    orgs = json.loads(out)["orgs"]
    assert [o["org_id"] for o in orgs] == [healthy.org_id, outdated.org_id]
    billing = next(c for c in orgs[1]["checks"] if c["id"] == "package.billing")
    assert billing["verdict"] == "warn" and "push upgrades" in billing["fix"]
    code, out, err = cli(capsys, db, "status")
    assert code == 2
    # Not a terminal: tab-separated values, one whole line per org, the summary on stderr.
    rows = [line.split("\t") for line in out.splitlines()]
    assert rows[0] == ["Org", "Name", "Status", "Billing", "What needs attention"]
    assert {len(r) for r in rows} == {5} and len(rows) == 4
    by_id = {r[0]: r for r in rows[1:]}
    assert by_id[broken.org_id][2] == "error" and "API" in by_id[broken.org_id][4]
    assert by_id[outdated.org_id][1] == "[bold red]Evil[/] AG"  # shown as typed, not as markup
    assert by_id[outdated.org_id][4].startswith("warn billing: ")  # the verdict in words
    assert "3 org(s)" in err
    store = Store.open(db, read_only=True)
    assert store.latest_snapshot(outdated.org_id).verdict == "warn"
    assert len(store.snapshot_history(healthy.org_id)) == 3


def test_status_read_only_saves_nothing(sim: Simulator, tmp_path: Path,
                                        keyring: CredentialStore, capsys, monkeypatch) -> None:
    db = tmp_path / "s.json"
    so = by_scenario(sim, "healthy")
    add_token_org(capsys, db, sim, so, monkeypatch)
    before = db.read_bytes()
    code, out, _ = cli(capsys, db, "--read-only", "status", "--all-checks")
    assert code == 0 and "api:" in out and "licences:" in out
    assert db.read_bytes() == before


@pytest.mark.parametrize(
    ("argv", "words"),
    [((), "no orgs registered yet"),
     (("00D5g000004Xyz1EAC",), "is not registered"),
     (("garbage",), "org ID")],
)
def test_status_usage_errors(tmp_path: Path, keyring: CredentialStore, capsys, argv,
                             words) -> None:
    code, _out, err = cli(capsys, tmp_path / "s.json", "status", *argv)
    assert code == 2 and words in err and "Traceback" not in err


def test_status_bad_option_values(tmp_path: Path, capsys) -> None:
    for argv, words in ((("--concurrency", "0"), "between 1 and 64"),
                        (("--timeout", "soon"), "not a number")):
        with pytest.raises(SystemExit) as exc:
            main(["--db", str(tmp_path / "s.json"), "status", *argv])
        assert exc.value.code == 2 and words in capsys.readouterr().err


# -- login ----------------------------------------------------------------------------------------
def test_login_methods_from_stdin(sim: Simulator, tmp_path: Path, keyring: CredentialStore,
                                  capsys, monkeypatch) -> None:
    db = tmp_path / "s.json"
    so = sim.add_org(make_org("healthy", 61))
    code, _, err = cli(capsys, db, "org", "add", so.org_id, "--name", "Acme", "--instance-url",
                       sim.url, "--domain", so.my_domain, "--username", so.username,
                       "--consumer-key", so.consumer_key, "--ca-bundle", sim.ca_path)
    assert code == 0, err
    code, out, err = cli(capsys, db, "login", so.org_id, "--method", "password",
                         "--secret-stdin", stdin=f"{so.password}\n{so.security_token}\n",
                         monkeypatch=monkeypatch)
    assert code == 0, err
    assert "stored password, security token" in out and "ok: logged in to" in out
    assert "Summer '27" in err
    assert keyring.get(so.org_id, "security_token") == so.security_token
    key_file = tmp_path / "key.pem"
    key_file.write_text(so.private_key_pem)
    code, out, err = cli(capsys, db, "login", so.org_id, "--method", "jwt", "--secret-stdin",
                         stdin=f"{key_file}\n", monkeypatch=monkeypatch)
    assert code == 0, err
    code, out, err = cli(capsys, db, "login", so.org_id, "--secret-stdin",
                         stdin=so.private_key_pem, monkeypatch=monkeypatch)
    assert code == 0, err
    assert keyring.get(so.org_id, "private_key").startswith("-----BEGIN")
    code, out, err = cli(capsys, db, "login", so.org_id, "--method", "client-credentials",
                         "--secret-stdin", stdin=so.consumer_secret + "\n",
                         monkeypatch=monkeypatch)
    assert code == 0, err
    for secret in (so.password, so.security_token, so.consumer_secret, "PRIVATE KEY"):
        assert secret not in out + err


def test_login_mistakes(sim: Simulator, tmp_path: Path, keyring: CredentialStore, capsys,
                        monkeypatch) -> None:
    db = tmp_path / "s.json"
    so = by_scenario(sim, "no_package")
    add_token_org(capsys, db, sim, so, monkeypatch)
    code, _, err = cli(capsys, db, "login", so.org_id, "--secret-stdin",
                       stdin="not-a-valid-token\n", monkeypatch=monkeypatch)
    assert code == 1 and "login failed: the access token was refused" in err
    assert "not-a-valid-token" not in err
    code, _, err = cli(capsys, db, "login", so.org_id, "--secret-stdin", stdin="\n",
                       monkeypatch=monkeypatch)
    assert code == 2 and "access-token: the access token is empty" in err
    code, _, err = cli(capsys, db, "login", so.org_id, "--method", "jwt", "--secret-stdin",
                       stdin="x\n", monkeypatch=monkeypatch)
    assert code == 2 and "username" in err  # jwt needs a username first: said at the field
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))  # not a terminal
    code, _, err = cli(capsys, db, "login", so.org_id)
    assert code == 2 and "--secret-stdin" in err
    other = by_scenario(sim, "healthy")
    code, _, err = cli(capsys, db, "login", so.org_id, "--secret-stdin",
                       stdin=other.access_token + "\n", monkeypatch=monkeypatch)
    assert code == 1 and f"not {so.org_id}" in err


# -- org import-sf --------------------------------------------------------------------------------
def test_import_sf_registers_a_token_org(sim: Simulator, tmp_path: Path,
                                         keyring: CredentialStore, capsys) -> None:
    db = tmp_path / "s.json"
    so = by_scenario(sim, "licences_full")
    display = {"status": 0, "result": {
        "id": so.org_id[:15], "apiVersion": "62.0", "accessToken": so.access_token,
        "instanceUrl": sim.url, "username": so.username, "clientId": "PlatformCLI",
        "connectedStatus": "Connected", "alias": "acme-prod"}}
    path = tmp_path / "display.json"
    path.write_text(json.dumps(display))
    code, out, err = cli(capsys, db, "org", "import-sf", str(path), "--ca-bundle", sim.ca_path)
    assert code == 0, err
    assert "added" in out and "acme-prod" in out and so.access_token not in out
    org = Store.open(db).get_org(so.org_id)
    assert org.auth_method == "token" and org.instance_url == sim.url
    assert keyring.get(so.org_id, "access_token") == so.access_token
    code, out, _ = cli(capsys, db, "status", "--json")
    assert code == 1
    verdicts = {c["id"]: c["verdict"] for c in json.loads(out)["orgs"][0]["checks"]}
    assert verdicts["licenses"] == "warn"
    code, out, _ = cli(capsys, db, "org", "import-sf", str(path), "--name", "Renamed")
    assert code == 0 and "updated" in out
    path.write_text(json.dumps({"status": 1, "name": "NoOrgFound", "message": "No org"}))
    code, _, err = cli(capsys, db, "org", "import-sf", str(path))
    assert code == 2 and "No org" in err
    path.write_text(json.dumps({"status": 0, "result": {"id": so.org_id}}))
    code, _, err = cli(capsys, db, "org", "import-sf", str(path))
    assert code == 2 and "result.instanceUrl" in err and "result.accessToken" in err


def test_import_sf_with_a_redacted_token_says_what_to_run_and_takes_its_output(
        sim: Simulator, tmp_path: Path, keyring: CredentialStore, capsys,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Current sf prints "[REDACTED] Use 'sf org auth show-access-token' to view" for the token
    (plugin-org); `sf org auth show-access-token --json` gives {"result": {"accessToken"}}."""
    db = tmp_path / "s.json"
    so = by_scenario(sim, "no_task_type")
    display = {"status": 0, "result": {
        "id": so.org_id, "apiVersion": "62.0", "instanceUrl": sim.url, "username": so.username,
        "accessToken": "[REDACTED] Use 'sf org auth show-access-token' to view",
        "clientId": "PlatformCLI", "connectedStatus": "Connected", "alias": "acme-prod"}}
    shown = tmp_path / "display.json"
    shown.write_text(json.dumps(display))
    code, out, err = cli(capsys, db, "org", "import-sf", str(shown), "--ca-bundle", sim.ca_path)
    assert code == 2 and "hidden by the Salesforce CLI" in err
    assert "sf org auth show-access-token --target-org acme-prod --json > token.json" in err
    assert f"import-sf {shown} --token token.json" in err
    assert keyring.get(so.org_id, "access_token") is None and not db.exists()

    token = tmp_path / "token.json"
    token.write_text(json.dumps({"status": 0, "result": {"accessToken": so.access_token},
                                 "warnings": ["This command exposes a sensitive Access Token"]}))
    code, out, err = cli(capsys, db, "org", "import-sf", str(shown), "--token", str(token),
                         "--ca-bundle", sim.ca_path)
    assert code == 0, err
    assert "added" in out and f"ok: logged in to {so.name}" in out  # tried at once
    assert so.access_token not in out + err
    assert keyring.get(so.org_id, "access_token") == so.access_token

    # The token file alone renews a registered org's token (and is tested right away).
    code, _, err = cli(capsys, db, "org", "import-sf", str(token))
    assert code == 2 and "--org ORG" in err
    fresh = sim.issue_token(so.org_id)
    code, out, err = cli(capsys, db, "org", "import-sf", "-", "--org", so.org_id,
                         stdin=json.dumps({"status": 0, "result": {"accessToken": fresh}}),
                         monkeypatch=monkeypatch)
    assert code == 0 and "renewed" in out and "ok: logged in" in out, err
    assert keyring.get(so.org_id, "access_token") == fresh
    sim.revoke_token(fresh)
    code, out, err = cli(capsys, db, "org", "import-sf", "-", "--org", so.org_id,
                         stdin=json.dumps({"status": 0, "result": {"accessToken": fresh}}),
                         monkeypatch=monkeypatch)
    assert code == 1 and "login failed" in err and "refused" in err
    assert "sf org auth show-access-token" in err and fresh not in out + err


# -- org import --from-vendor ---------------------------------------------------------------------
def test_import_from_vendor_previews_then_applies(sim: Simulator, tmp_path: Path,
                                                  keyring: CredentialStore, capsys,
                                                  monkeypatch) -> None:
    db = tmp_path / "s.json"
    vendor = sim.vendor_org
    code, _, err = cli(capsys, db, "org", "add", vendor.org_id, "--name", "Vendor",
                       "--instance-url", sim.url, "--method", "client-credentials",
                       "--consumer-key", vendor.consumer_key, "--ca-bundle", sim.ca_path,
                       "--vendor")
    assert code == 0, err
    code, _, err = cli(capsys, db, "login", vendor.org_id, "--secret-stdin",
                       stdin=vendor.consumer_secret + "\n", monkeypatch=monkeypatch)
    assert code == 0, err
    healthy = by_scenario(sim, "healthy")
    code, _, _ = cli(capsys, db, "org", "add", healthy.org_id, "--name", "Old name")
    before = db.read_bytes()
    code, out, err = cli(capsys, db, "org", "import", "--from-vendor", vendor.org_id, "--json")
    assert code == 0, err
    plan = json.loads(out)
    assert plan["applied"] is False and db.read_bytes() == before
    items = {i["org_id"]: i for i in plan["orgs"]}
    assert items[healthy.org_id]["action"] == "update"
    assert items[healthy.org_id]["changes"]["name"] == healthy.name
    sandbox = by_scenario(sim, "sandbox")
    assert items[sandbox.org_id]["action"] == "add"
    assert items[sandbox.org_id]["parent_org_id"] == sandbox.parent_org_id
    assert items[sandbox.org_id]["versions"]["billing"] == "2.80.2"
    code, out, _ = cli(capsys, db, "org", "import", "--from-vendor", vendor.org_id)
    assert code == 0 and "would add" in out and "--yes" in out
    code, out, _ = cli(capsys, db, "org", "import", "--from-vendor", vendor.org_id, "--yes")
    assert code == 0 and f"added {plan['counts']['add']}, updated 1" in out
    store = Store.open(db)
    cached = store.get_setting("vendor_current_versions")  # applied: "current" is the vendor's
    assert {p: v["version"] for p, v in cached["versions"].items()} == {
        "billing": "2.80.2", "cash": "1.14.1"}
    assert store.get_org(healthy.org_id).name == healthy.name
    assert store.get_org(sandbox.org_id).kind == "sandbox"
    assert store.get_org(sandbox.org_id).parent_org_id == sandbox.parent_org_id
    code, out, _ = cli(capsys, db, "org", "import", "--from-vendor", vendor.org_id, "--json")
    assert {i["action"] for i in json.loads(out)["orgs"]} == {"same"}
    code, _, err = cli(capsys, db, "org", "import", "--from-vendor", healthy.org_id)
    assert code == 2 and "cannot read the vendor org" in err


def test_status_says_when_snapshots_could_not_be_saved(sim: Simulator, tmp_path: Path,
                                                       keyring: CredentialStore, capsys,
                                                       monkeypatch, full_disk) -> None:
    """A full disk must not pass for a clean run: the checks print, the failure is said, exit 2."""
    db = tmp_path / "s.json"
    so = by_scenario(sim, "healthy")
    add_token_org(capsys, db, sim, so, monkeypatch)

    full_disk.on()  # the disk is full
    code, out, err = cli(capsys, db, "status", "--json")
    assert code == 2
    assert json.loads(out)["orgs"][0]["org_id"] == so.org_id
    assert "snapshots not saved" in err and "No space left" in err
