"""One judgement of a snapshot: every surface shows the same verdict for every check id.

For every simulator scenario (one org each, probed over HTTPS by the real `status` command),
the verdict of each check id is read back from every place a person or a script sees it:
`status --json`, the `status` table, the registry's rows and counts, the org detail screen,
the access screen, the checklist's verification and its Markdown report, and the push-request
assessment. They must all equal the stored snapshot's checks, which the one rules module made.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from textual.widgets import Static
from ui_helpers import settle

from juston_tui.checklist import (
    evaluate_all,
    load_checklist,
    load_states,
    record_verifications,
    report_markdown,
)
from juston_tui.cli import main
from juston_tui.commands.status import SHORT
from juston_tui.credentials import CredentialStore, open_credentials
from juston_tui.demo import register_simulator_orgs
from juston_tui.model import CHECK_IDS, Snapshot
from juston_tui.simulator import SCENARIOS, Simulator
from juston_tui.store import Store

VERDICT = "(ok|warn|fail|unknown)"


@pytest.fixture(scope="module")
def sim() -> Iterator[Simulator]:
    simulator = Simulator(scenario_set="all").start()
    yield simulator
    simulator.stop()


@pytest.fixture
def world(sim: Simulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
          ) -> tuple[Path, CredentialStore, dict[str, str]]:
    """Every scenario's org registered (auth methods rotating, as in the demo) in one store;
    returns the store path, the keyring and {org id: scenario}."""
    keyring = open_credentials("memory")
    monkeypatch.setattr("juston_tui.commands.open_credentials", lambda *a, **k: keyring)
    path = tmp_path / "store.json"
    store = Store.open(path)
    register_simulator_orgs(store, keyring, sim)
    store.close()
    scenarios = {o.org_id: o.scenario for o in sim.orgs}
    assert set(scenarios.values()) == set(SCENARIOS)
    return path, keyring, scenarios


def verdicts(snapshot: Snapshot) -> dict[str, str]:
    return {c.id: c.verdict for c in snapshot.checks}


def status_table(text: str) -> dict[str, dict[str, str]]:
    """Per org: {check id: verdict} as the table prints them ("warn billing: reason"; off a
    terminal one tab-separated line per org), or {"error": "error"} for an org not checked."""
    by_label = {label: cid for cid, label in SHORT.items()}
    note = re.compile(rf"(?:^|; ){VERDICT} ({'|'.join(map(re.escape, by_label))}): ")
    lines = [line.split("\t") for line in text.splitlines()]
    assert lines[0] == ["Org", "Name", "Status", "Billing", "What needs attention"]
    out: dict[str, dict[str, str]] = {}
    for org_id, _name, status, _billing, notes in lines[1:]:
        if status == "error":
            out[org_id] = {"error": "error"}
        else:
            out[org_id] = {by_label[m.group(2)]: m.group(1) for m in note.finditer(notes)}
    return out


def markdown_verdicts(text: str) -> dict[str, str]:
    return dict(re.findall(rf"Verification \(`([a-z_.]+)`\): \*\*{VERDICT}\*\*", text))


async def test_every_surface_shows_the_same_verdict_for_every_check(
        world: tuple[Path, CredentialStore, dict[str, str]],
        capsys: pytest.CaptureFixture[str]) -> None:
    from juston_tui.app import JustOnApp
    from juston_tui.push_registration import assess
    from juston_tui.screens.access import AccessScreen
    from juston_tui.screens.org_detail import OrgDetailScreen
    from juston_tui.screens.registry_data import entry_row

    path, keyring, scenarios = world
    org_ids = list(scenarios)
    # 1. status --json (this run's snapshots are saved: every other surface reads them)
    code = main(["--db", str(path), "status", *org_ids, "--json"])
    out, err = capsys.readouterr()
    assert code in (1, 2), out
    # What keeps the probe from reading is said once per org: permission, user, how to grant.
    blind = next(oid for oid, name in scenarios.items() if name == "no_view_setup")
    [line] = [ln for ln in err.splitlines() if blind in ln]
    assert 'lacks the "View Setup and Configuration" permission' in line
    assert "Fix: Give " in line and "Manage Assignments" in line
    shown = {o["org_id"]: o for o in json.loads(out)["orgs"]}
    store = Store.open(path)
    snaps = {oid: store.latest_snapshot(oid) for oid in org_ids}
    assert all(s is not None for s in snaps.values())
    truth = {oid: verdicts(s) for oid, s in snaps.items() if s is not None}
    for oid, org in shown.items():
        assert {c["id"]: c["verdict"] for c in org["checks"]} == truth[oid], oid
        assert list(truth[oid]) == list(CHECK_IDS)
    # The scenarios' own expectations hold too (the rules are right, not only consistent).
    for oid, snap in snaps.items():
        assert snap is not None
        spec = SCENARIOS[scenarios[oid]]
        for cid, expected in spec.expected.items():
            assert truth[oid][cid] == expected, (spec.name, cid, snap.check(cid))

    # 2. the checklist: verification and Markdown, from the same snapshots
    checklist = load_checklist()
    for oid, snap in snaps.items():
        assert snap is not None
        results = evaluate_all(checklist, snap)
        for step_id, verification in results.items():
            kind = checklist.step(step_id).verify
            if kind != "browser_caching":
                assert verification.verdict == truth[oid][kind], (oid, step_id)
        record_verifications(store, oid, results)
        org = store.get_org(oid)
        assert org is not None
        written = markdown_verdicts(report_markdown(org, checklist, load_states(store, oid)))
        assert set(written) == checklist.checks_needed(), oid
        for kind, verdict in written.items():
            if kind != "browser_caching":
                assert verdict == truth[oid][kind], (oid, kind)

    # 3. the registry's rows and counts, the org detail, the access screen, the push request
    app = JustOnApp(store=store, credentials=keyring)
    async with app.run_test(size=(160, 60)) as pilot:
        await settle(pilot)
        registry = app.screen
        now = _now(app)
        for oid in org_ids:
            entry = registry.entries[oid]  # type: ignore[attr-defined]
            info = entry.info
            snap = snaps[oid]
            assert snap is not None
            assert info.verdict == snap.verdict, oid
            assert info.billing_verdict == truth[oid]["package.billing"], oid
            assert info.licences_verdict == truth[oid]["licenses"], oid
            cells = entry_row(entry, now).cells
            assert cells[2].plain == snap.verdict
            assert str(cells[4].style) == {"warn": "yellow", "fail": "bold red"}.get(
                truth[oid]["package.billing"], "")
            assert str(cells[6].style) == {"warn": "yellow", "fail": "bold red"}.get(
                truth[oid]["licenses"], "")
            candidate = assess(entry.org, snap)
            assert candidate.release_verdict == truth[oid]["package.billing"], oid
        counts = Counter(s.verdict for s in snaps.values() if s is not None)
        status_line = str(registry.query_one("#registry-status", Static).render())
        for verdict, n in counts.items():
            assert f"{verdict} {n}" in status_line, (verdict, status_line)

        for oid in org_ids:
            app.push_screen(OrgDetailScreen(oid))
            await settle(pilot)
            text = str(app.screen.query_one("#detail-checks", Static).render())
            seen = dict((cid, v) for v, cid in re.findall(
                rf"^\s+{VERDICT}\s+.+\(([a-z_.]+)\)$", text, re.MULTILINE))
            assert seen == truth[oid], oid
            if oid == blind:  # the TUI detail names the missing permission and the fix too
                assert 'problem the integration user' in text
                assert "View Setup and Configuration" in text and "fix: Give" in text
            app.pop_screen()
            await settle(pilot)

        await app.switch_mode("access")  # type: ignore[attr-defined]
        await settle(pilot)
        access = app.screen
        assert isinstance(access, AccessScreen)
        for oid in org_ids:
            snap = snaps[oid]
            assert snap is not None
            if oid not in access.entries:  # the vendor org has no JustOn Platform app
                assert store.get_org(oid).vendor  # type: ignore[union-attr]
                continue
            entry = access.entries[oid]
            assert {cid: v for cid, v, _ in entry.reasons} == {
                cid: truth[oid][cid] for cid in CHECK_IDS if cid.startswith("connected_app.")}
            assert entry.sysadmin == {"ok": True, "fail": False}.get(
                truth[oid]["connected_app.sysadmin"])
            assert entry.permitted_verdict == truth[oid]["connected_app.permitted_users"]

    # 4. the status table (a second run; the scenarios give the same verdicts again)
    code = main(["--db", str(path), "status", *org_ids, "--all-checks"])
    out, _err = capsys.readouterr()
    table = status_table(out)
    again = Store.open(path)
    for oid in org_ids:
        snap = again.latest_snapshot(oid)
        assert snap is not None
        if snap.error:
            assert table[oid] == {"error": "error"}, oid
            assert set(verdicts(snap).values()) == {"unknown"}
        else:
            assert table[oid] == verdicts(snap) == truth[oid], oid


def _now(app: object):
    from juston_tui.screens.registry_data import app_now

    return app_now(app)
