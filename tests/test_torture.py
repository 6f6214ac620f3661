"""Short runs of bench/torture.py: crashes, concurrent editors, faults during sweeps and in the UI.

The full counts (500 kills, 1,000 fault steps) run from `python bench/torture.py`; these keep
CI well under a minute while still killing writers mid-write and injecting every fault kind.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
import torture

pytestmark = pytest.mark.slow


def test_random_sigkills_lose_no_acknowledged_write(tmp_path: Path) -> None:
    figures = torture.kill_trials(tmp_path, kills=50, seed=7)
    assert figures["acknowledged_writes"] > 50
    assert figures["kills_inside_a_write"] > 0  # some kills really landed inside a write


def test_random_sigkills_of_batched_sweeps_lose_no_acknowledged_snapshot(
        tmp_path: Path) -> None:
    figures = torture.sweep_kills(tmp_path, kills=8, seed=9)
    assert figures["acknowledged_snapshots"] >= 8  # at least one per trial
    assert figures["lost"] == 0
    assert figures["sweeps_finished_before_the_kill"] < 8  # the kills landed mid-sweep


def test_two_editors_lose_nothing(tmp_path: Path) -> None:
    figures = torture.concurrent_editors(tmp_path, writes=100)
    assert figures["watcher_reads"] > 0


def test_db_restore_killed_at_random_instants_always_leaves_a_store(tmp_path: Path) -> None:
    figures = torture.restore_kills(tmp_path, kills=25, seed=5)
    assert figures["acknowledged_restores"] > 25
    assert figures["displaced_files_kept"] >= figures["acknowledged_restores"]


def test_trickling_orgs_never_outlast_the_budget(tmp_path: Path) -> None:
    figures = torture.trickle_sweeps(tmp_path, sweeps=2, seed=3)
    assert figures["trickling_orgs"] >= 2
    assert figures["slowest_probe_s"] < figures["budget_s"] + 2.5  # not the minutes it takes


def test_random_faults_during_sweeps(tmp_path: Path) -> None:
    started = time.monotonic()
    figures = torture.fault_storm(tmp_path, steps=200, seed=11)
    assert figures["sweeps"] == 8
    assert set(figures["faults"]) == {"latency", "hang", "expire_session", "limit_exceeded",
                                      "server_error", "malformed", "trickle", "redirect"}
    outcomes = figures["outcomes"]
    assert outcomes.get("error", 0) > 0 and outcomes.get("ok", 0) > 0
    assert sum(outcomes.values()) == 8 * figures["orgs_per_sweep"]
    # A hang guard, not a speed figure (bench/torture.py measures): a hung probe would take
    # many minutes; 8 sweeps took 44 s on a 2-core box at load 4.
    assert time.monotonic() - started < 180


def test_random_faults_while_the_registry_checks_all(tmp_path: Path) -> None:
    figures = torture.pilot_storm(tmp_path, steps=50, seed=13)
    assert figures["pilot_rounds"] == 2
    from juston_tui.simulator.scenarios import scenario_set_orgs

    demo_orgs = sum(1 for o in scenario_set_orgs("demo") if not o.spec.vendor)
    assert sum(figures["outcomes"].values()) == 2 * demo_orgs


def test_a_broken_promise_fails_the_run() -> None:
    """The checks can fail: an unclear error or a probe crash is reported, not waved through."""

    class Snap:
        error = "internal error while checking: KeyError"
        checks = ()

    with pytest.raises(torture.TortureFailure, match="a probe raised"):
        torture.check_snapshot(Snap(), "org x")
    Snap.error = "boom"
    with pytest.raises(torture.TortureFailure, match="unclear error"):
        torture.check_snapshot(Snap(), "org x")


def test_quick_flag_sets_the_short_counts() -> None:
    args = torture.parse(["--quick"])
    assert (args.kills, args.fault_steps, args.pilot_steps) == (50, 200, 50)
    assert (args.restore_kills, args.trickle_sweeps) == (30, 3)
    args = torture.parse([])
    assert (args.kills, args.fault_steps) == (500, 1000)
    assert (args.restore_kills, args.trickle_sweeps) == (200, 10)


def test_migration_killed_at_random_instants_loses_nothing(tmp_path: Path) -> None:
    figures = torture.migration_kills(tmp_path, kills=4, seed=16, n_orgs=600)
    assert figures["lost"] == 0 and figures["kills"] == 4
    assert figures["kills_inside_the_migration"] >= 1  # at least one kill landed inside
