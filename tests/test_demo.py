"""`--demo`: a place to work in, seeded once, shared by the TUI and every command."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest

from juston_tui.cli import main
from juston_tui.commands import UserError
from juston_tui.demo import CLI_HINT, SEED_NAMES, DemoPlace, open_demo
from juston_tui.demo import contacts as demo_contacts
from juston_tui.simulator import daemon
from juston_tui.store import Store


def cli(capsys: pytest.CaptureFixture[str], *argv: str, stdin: str | None = None,
        monkeypatch: pytest.MonkeyPatch | None = None) -> tuple[int, str, str]:
    if stdin is not None:
        import io

        assert monkeypatch is not None
        monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_the_demo_is_seeded_once_and_then_kept() -> None:
    env = open_demo()  # its time is reported by env.timings, not asserted (benches time)
    try:
        assert env.created and set(env.timings) >= {"simulator", "sweep", "push_jobs", "total"}
        place = env.place
        assert place.is_ours() and place.store_path.parent == place.root
        sim = env.simulator
        assert sim is not None and daemon.pid_alive(sim.pid)
        store = Store.open(env.store_path, read_only=True)
        orgs = store.list_orgs()
        sim_orgs = sim.orgs
        assert {o.org_id for o in orgs} == {o.org_id for o in sim_orgs}
        assert {o.auth_method for o in orgs} == {"jwt", "client-credentials", "password",
                                                 "token"}
        assert all(o.instance_url == sim.url and o.ca_bundle == sim.ca_path for o in orgs)
        (vendor,) = [o for o in orgs if o.vendor]
        assert sim.vendor_org is not None and vendor.org_id == sim.vendor_org.org_id
        states = [o.push.state for o in orgs]
        assert states.count("registered") >= 2 and "requested" in states
        assert any(o.sandbox_push_ticket for o in orgs if o.kind == "sandbox")
        # One real check: every customer org has a snapshot matching its scenario.
        snapshots = store.all_snapshots()
        for sim_org in sim_orgs:
            if sim_org.spec.vendor:
                assert sim_org.org_id not in snapshots
                continue
            got = {c.id: c.verdict for c in snapshots[sim_org.org_id].checks}
            for check_id, verdict in sim_org.expected.items():
                assert got[check_id] == verdict, (sim_org.scenario, check_id)
        # Secrets live in the demo's own credentials file, never in the store.
        raw = env.store_path.read_text()
        for sim_org in sim_orgs:
            assert env.credentials.get(sim_org.org_id, "access_token") == sim_org.access_token
            for secret in (sim_org.access_token, sim_org.password, sim_org.consumer_secret):
                assert secret not in raw
        assert oct(place.credentials_path.stat().st_mode & 0o777) == "0o600"
        assert env.seeded == list(SEED_NAMES)
        before = env.store_path.read_bytes()
    finally:
        env.stop()
    again = open_demo()
    assert not again.created and again.store_path.read_bytes() == before
    assert again.simulator is None  # reading the store needs no simulator


def test_demo_commands_work_on_the_demo(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = cli(capsys, "--demo", "status", "--json")
    assert code == 2  # one demo org has its API switched off: unreachable
    assert "the demo was set up in" in err
    orgs = json.loads(out)["orgs"]
    place = DemoPlace.default()
    store = Store.open(place.store_path, read_only=True)
    customers = {o.org_id for o in store.list_orgs() if not o.vendor}
    assert {o["org_id"] for o in orgs} == customers
    assert all(o["checks"] for o in orgs)
    code, out, _ = cli(capsys, "--demo", "contacts", "list", "--json")
    emails = [c["email"] for c in json.loads(out)["contacts"]]
    assert code == 0 and len(emails) >= 20
    code, out, err = cli(capsys, "--demo", "contacts", "list")  # a pipe: TSV, whole values
    rows = [line.split("\t") for line in out.splitlines()]
    assert rows[0][:2] == ["Name", "E-mail"] and [r[1] for r in rows[1:]] == emails
    assert f"{len(emails)} contact(s)" in err
    code, out, _ = cli(capsys, "--demo", "doctor", "--json")
    report = json.loads(out)
    assert report["store"]["path"] == str(place.store_path)
    assert report["keyring"]["path"] == str(place.credentials_path)
    assert report["demo"]["folder"] == str(place.root)


def test_the_tui_and_the_command_line_share_the_demo(capsys: pytest.CaptureFixture[str],
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """The TUI with --demo opens the same store, holds the simulator while it runs, and says
    how to reach the demo from the command line."""
    import argparse

    from juston_tui.app import JustOnApp
    from juston_tui.launch import run_tui

    assert cli(capsys, "--demo", "org", "edit", "00D5g0000xIeTssEAF", "--notes",
               "edited from the CLI")[0] == 0
    seen: dict[str, object] = {}
    run = JustOnApp.run

    def fake_run(self: JustOnApp, **kwargs: object) -> None:
        async def look(pilot: object) -> None:
            for _ in range(250):
                if getattr(self.screen, "loaded", False):
                    break
                await pilot.pause(0.02)  # type: ignore[attr-defined]
            place = DemoPlace.default()
            seen["store"] = self.store_path
            seen["subtitle"] = self.sub_title
            seen["clients"] = [p.name for p in (place.simulator_dir / "clients").iterdir()]
            seen["notes"] = self.store.get_org("00D5g0000xIeTssEAF").notes
            self.exit()

        return run(self, headless=True, size=(120, 40), auto_pilot=look)

    monkeypatch.setattr(JustOnApp, "run", fake_run)
    args = argparse.Namespace(db=None, read_only=False, demo=True, keyring=None, no_mouse=True)
    assert run_tui(args) == 0
    place = DemoPlace.default()
    assert seen["store"] == place.store_path
    assert CLI_HINT in str(seen["subtitle"])
    assert seen["notes"] == "edited from the CLI"
    assert len(seen["clients"]) == 1  # type: ignore[arg-type]
    assert not list((place.simulator_dir / "clients").iterdir())  # let go when the TUI ended


def test_a_restarted_simulator_on_another_port_is_synced(capsys: pytest.CaptureFixture[str]
                                                         ) -> None:
    """A new simulator process has new keys, a new CA and maybe another port: the next demo
    command points the demo orgs at it and copies its secrets, and checks still work."""
    env = open_demo(sweep_orgs=False)
    place = env.place
    first = env.simulator
    assert first is not None
    env.stop()
    assert place.stop_simulator()
    with socket.socket() as blocker:  # someone else took the port meanwhile
        blocker.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        blocker.bind(("127.0.0.1", int(first.url.rsplit(":", 1)[1])))
        blocker.listen()
        code, out, _ = cli(capsys, "--demo", "status", "00D5g0000xIeTssEAF", "--json")
    assert code == 0, out
    (org,) = json.loads(out)["orgs"]
    assert org["error"] is None
    second = DemoPlace.default().running_simulator()
    assert second is not None and second.url != first.url and second.instance != first.instance
    store = Store.open(place.store_path, read_only=True)
    assert {o.instance_url for o in store.list_orgs()} == {second.url}


def test_reset_starts_afresh_and_refuses_what_is_not_a_demo(
        capsys: pytest.CaptureFixture[str], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    env = open_demo(sweep_orgs=False, need_simulator=True)
    assert env.simulator is not None
    pid = env.simulator.pid
    (env.place.root / "scratch.txt").write_text("mine")
    code, out, _ = cli(capsys, "--demo", "reset", "--no-seed")
    assert code == 0 and "removed the demo" in out
    assert not env.place.root.exists() and not daemon.pid_alive(pid)
    code, _, err = cli(capsys, "reset")
    assert code == 2 and "only applies to the demo" in err
    foreign = tmp_path / "not-a-demo"
    foreign.mkdir()
    (foreign / "thesis.tex").write_text("important")
    monkeypatch.setenv("JUSTON_TUI_DEMO_DIR", str(foreign))
    code, _, err = cli(capsys, "--demo", "reset")
    assert code == 2 and "not a juston-tui demo folder" in err
    code, _, err = cli(capsys, "--demo", "org", "list")
    assert code == 2 and "not a juston-tui demo folder" in err
    assert [p.name for p in foreign.iterdir()] == ["thesis.tex"]


def test_the_demo_credentials_refuse_any_other_org(capsys: pytest.CaptureFixture[str],
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """The demo's credentials file is plain JSON: a real org's secret never goes into it."""
    real = "00D5g000004Xyz1EAC"
    assert cli(capsys, "--demo", "org", "add", real, "--name", "Acme real",
               "--instance-url", "https://acme.my.salesforce.com", "--method", "token")[0] == 0
    code, _, err = cli(capsys, "--demo", "login", real, "--method", "token", "--secret-stdin",
                       "--no-check", stdin="00Dsecret!tokenvalue\n", monkeypatch=monkeypatch)
    assert code == 2 and "the demo keeps only the simulator's secrets" in err
    assert "00Dsecret!tokenvalue" not in DemoPlace.default().credentials_path.read_text()


def test_demo_refuses_db_and_keyring(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = cli(capsys, "--demo", "--db", "x.json", "org", "list")
    assert code == 2 and "leave out --db" in err
    with pytest.raises(UserError, match="not a juston-tui demo"):
        place = DemoPlace.default()
        place.root.mkdir(parents=True)
        (place.root / "x").write_text("x")
        place.ensure()


def test_a_failing_seed_module_leaves_no_half_made_demo(monkeypatch: pytest.MonkeyPatch) -> None:
    """A broken seed is a bug to see, not to hide: the error surfaces, and the next run seeds
    again instead of finding a half-made store."""
    def broken(store, orgs) -> None:
        raise RuntimeError("boom")

    original = demo_contacts.seed
    monkeypatch.setattr(demo_contacts, "seed", broken)
    with pytest.raises(RuntimeError, match="boom"):
        open_demo(sweep_orgs=False)
    place = DemoPlace.default()
    assert not place.store_path.exists()
    assert not (place.root / ".seeding").exists()
    monkeypatch.setattr(demo_contacts, "seed", original)
    assert open_demo(sweep_orgs=False).created


def test_the_demo_data_looks_like_real_life() -> None:
    """Versions and licence counts vary, instances look like Salesforce's, people's e-mail
    domains are their company's, and the packaging org pushes exactly to the orgs that are
    registered for push upgrades and below the version."""
    from juston_tui import schedule
    from juston_tui.push_jobs import cached_push_jobs
    from juston_tui.screens.registry_data import build_entries

    env = open_demo()
    store = Store.open(env.store_path, read_only=True)
    orgs = {o.org_id: o for o in store.list_orgs()}
    snapshots = store.all_snapshots()
    versions = {((s.facts.get("packages") or {}).get("billing") or {}).get("version")
                for s in snapshots.values()} - {None}
    assert len(versions) >= 3 and "2.80.2" in versions  # some orgs behind, most current
    allowed = {lic.get("allowed") for s in snapshots.values()
               for lic in s.facts.get("licenses") or () if lic.get("namespace") == "ONB2"}
    assert len(allowed) >= 6
    entries = build_entries(store.all_docs("orgs"), store.snapshot_docs())
    for entry in entries.values():  # an instance name, or nothing: never the loopback host
        assert not entry.instance_text().startswith("127"), entry.doc["name"]
    for contact in store.list_contacts():
        company = orgs[contact.org_ids[0]]
        assert company.kind == "production"
        assert contact.email.endswith("@" + company.domain.split(".")[0] + ".example.com")
        assert all(orgs[o].org_id == company.org_id or orgs[o].parent_org_id == company.org_id
                   for o in contact.org_ids)
    pushed = {o.org_id for o in orgs.values() if o.push_eligible}
    assert pushed and {orgs[o].name for o in pushed} >= {"Müller Logistik GmbH"}
    record = cached_push_jobs(store)
    for request in record["requests"]:
        assert {j["org_id"] for j in request["jobs"]} <= pushed, request["status"]
    view = schedule.load_view(store, months=3)
    for plan in view.plans:
        if plan.push.status == "scheduled":  # the orgs listed are the ones with a job
            assert {o.org_id for o in plan.orgs} == set(plan.jobs_by_org())
