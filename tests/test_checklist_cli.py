"""`juston-tui checklist ORG [--json|--markdown] [--verify]`, against the org simulator."""

from __future__ import annotations

import io
import itertools
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from juston_tui.checklist import load_states, set_note, skip, toggle_done
from juston_tui.cli import build_parser, main
from juston_tui.commands import Context
from juston_tui.credentials import CredentialStore, open_credentials
from juston_tui.model import Org
from juston_tui.simulator import Simulator, make_org
from juston_tui.store import Store

_index = itertools.count(700)


@pytest.fixture(scope="module")
def sim() -> Iterator[Simulator]:
    simulator = Simulator(scenario_set="empty").start()
    yield simulator
    simulator.stop()


def add_sim_org(sim: Simulator, creds: CredentialStore, store: Store, scenario: str,
                name: str | None = None) -> Org:
    """Register a fresh simulator org the way a user would with the token method."""
    so = sim.add_org(make_org(scenario, next(_index)))
    org = Org.create(org_id=so.org_id, name=name or so.name, kind=so.kind,
                     parent_org_id=so.parent_org_id, instance_url=sim.url, auth_method="token",
                     ca_bundle=sim.ca_path)
    creds.set(org.org_id, "access_token", so.access_token)
    store.add_org(org)
    return org


def run_cli(db: Path, creds: CredentialStore, *argv: str) -> tuple[int, str, str]:
    args = build_parser().parse_args(["--db", str(db), *argv])
    out, err = io.StringIO(), io.StringIO()
    ctx = Context(args, out=out, err=err, _credentials=creds)
    code = int(args.func(args, ctx) or 0)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "s.json"


def test_markdown_and_json_without_verify(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    store = Store.open(db)
    org = Org.create(org_id="00D5g000004Xyz1", name="Acme [b]GmbH")
    store.add_org(org)
    toggle_done(store, org.org_id, "requirements.browsers", by="alice")
    skip(store, org.org_id, "preparing.features", "already on", by="bob")
    set_note(store, org.org_id, "installing.listing", "JO-4711", by="carol")
    store.close()
    assert main(["--db", str(db), "checklist", org.org_id, "--markdown"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("# JustOn installation checklist: Acme \\[b\\]GmbH")
    assert "Progress: 2 of 25 steps complete" in out
    assert "Marked done by alice" in out and "Skipped because: already on" in out
    assert "Note (carol" in out and "JO-4711" in out
    assert main(["--db", str(db), "checklist", "acme [B]gmbh", "--json"]) == 0  # by name
    payload = json.loads(capsys.readouterr().out)
    assert payload["org"]["org_id"] == org.org_id
    assert payload["progress"]["complete"] == 2
    steps = {s["id"]: s for g in payload["groups"] for s in g["steps"]}
    assert steps["preparing.features"]["skip_reason"] == "already on"
    assert steps["installing.listing"]["note"] == "JO-4711"
    assert main(["--db", str(db), "checklist", org.org_id]) == 0
    listing = capsys.readouterr().out
    assert "Acme [b]GmbH" in listing and "2/25 complete" in listing
    assert "Post-Installation Steps" in listing


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        (["checklist", "00D5g000004Xyz1"], "no org 00D5g000004Xyz1EAC"),
        (["checklist", "Nobody Inc"], "no org with the ID or name"),
        (["checklist", "x", "--json", "--markdown"], "not allowed with"),
    ],
)
def test_user_mistakes(db: Path, capsys: pytest.CaptureFixture[str], argv: list[str],
                       fragment: str) -> None:
    try:
        code = main(["--db", str(db), *argv])
    except SystemExit as exc:  # argparse refuses conflicting options itself
        code = int(exc.code or 0)
    assert code == 2
    assert fragment in capsys.readouterr().err


def test_verify_healthy_saves_evidence(sim: Simulator, db: Path) -> None:
    creds = open_credentials("memory")
    store = Store.open(db)
    org = add_sim_org(sim, creds, store, "healthy")
    toggle_done(store, org.org_id, "requirements.browsers", by="alice")
    code, out, err = run_cli(db, creds, "checklist", org.org_id, "--verify", "--json")
    assert code == 0, err
    assert "verifying 1/2" in err
    steps = {s["id"]: s for g in json.loads(out)["groups"] for s in g["steps"]}
    follow = steps["installing.follow"]
    assert follow["status"] == "verified"
    assert follow["verification"]["evidence"]["version"].startswith("2.")
    assert steps["preparing.browser_caching"]["verification"]["verdict"] == "ok"
    assert steps["requirements.browsers"]["by"] == "alice"  # manual marks untouched
    saved = load_states(Store.open(db), org.org_id)
    assert saved["post_install.licences"].verification is not None
    assert Store.open(db).latest_snapshot(org.org_id) is not None


def test_verify_failing_exit_1_markdown_shows_reason_and_fix(sim: Simulator, db: Path) -> None:
    creds = open_credentials("memory")
    store = Store.open(db)
    org = add_sim_org(sim, creds, store, "self_authorize")
    toggle_done(store, org.org_id, "app_access.permitted_users", by="alice")
    code, out, _ = run_cli(db, creds, "checklist", org.org_id, "--verify", "--markdown")
    assert code == 1
    assert "[!] **Permitted Users: Admin approved users are pre-authorized** (failing)" in out
    assert "Marked done by alice" in out  # the manual mark survives the failed verify
    assert "All users may self-authorize" in out and "  - Fix: " in out
    assert "Enable secure and persistent browser caching" in out


def test_verify_read_only_shows_but_does_not_save(sim: Simulator, db: Path) -> None:
    creds = open_credentials("memory")
    store = Store.open(db)
    org = add_sim_org(sim, creds, store, "no_balance_permset")
    store.close()
    before = db.read_bytes()
    code, out, err = run_cli_ro(db, creds, org.org_id)
    assert code == 1
    assert "not saved" in err
    steps = {s["id"]: s for g in json.loads(out)["groups"] for s in g["steps"]}
    assert steps["post_install.balance"]["status"] == "failing"
    assert db.read_bytes() == before


def run_cli_ro(db: Path, creds: CredentialStore, org_id: str) -> tuple[int, str, str]:
    args = build_parser().parse_args(["--db", str(db), "--read-only", "checklist", org_id,
                                      "--verify", "--json"])
    out, err = io.StringIO(), io.StringIO()
    code = int(args.func(args, Context(args, out=out, err=err, _credentials=creds)) or 0)
    return code, out.getvalue(), err.getvalue()


def test_verify_unreachable_org_exit_2(sim: Simulator, db: Path) -> None:
    creds = open_credentials("memory")
    store = Store.open(db)
    org = add_sim_org(sim, creds, store, "healthy")
    sim.set_fault(org.org_id, "server_error")
    try:
        code, out, err = run_cli(db, creds, "checklist", org.org_id, "--verify")
    finally:
        sim.clear_faults(org.org_id)
    assert code == 2
    assert "could not be checked" in err
    assert creds.get(org.org_id, "access_token") not in out + err
    states = load_states(Store.open(db), org.org_id)
    probed = [s for s in states.values() if s.step_id != "preparing.browser_caching"]
    assert len(probed) == 10  # every step the probe verifies, none of them guessed
    assert {s.verification.verdict for s in probed if s.verification} == {"unknown"}
