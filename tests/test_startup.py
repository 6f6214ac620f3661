"""Start-up: the first frame comes before the store is parsed, and nothing is lost by that.

launch.py opens the store without parsing it (`Store.open(load=False)`); the app draws the
registry ("Reading the store…"), parses in a worker, and only then shows rows. A damaged
store still ends in the one-line message with the way on, on the plain terminal.
"""

from __future__ import annotations

import gc
from pathlib import Path

import pytest
from startup_helpers import headless_run, hold_the_parse, launch_args
from ui_helpers import screen_text, settle

from juston_tui.app import JustOnApp
from juston_tui.credentials import open_credentials
from juston_tui.model import Contact, Org
from juston_tui.screens.widgets.fast_table import FastTable
from juston_tui.store import Store, StoreCorruptError

ORG = "00D000000000001"


def seeded(tmp_path: Path, count: int = 3) -> Path:
    path = tmp_path / "s.json"
    store = Store.open(path)
    for i in range(count):
        store.add_org(Org.create(org_id=ORG[:-1] + str(i), name=f"Org {i}"))
    return path


def test_open_without_load_parses_nothing_until_asked(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    path.write_bytes(b'{"orgs": {"1": ')  # damaged: only the parse can tell
    store = Store.open(path, read_only=True, load=False)
    assert not store.loaded
    with pytest.raises(StoreCorruptError):
        store.load()
    assert not store.loaded
    assert path.read_bytes() == b'{"orgs": {"1": '  # never written


def test_load_is_done_once_and_migrates(tmp_path: Path) -> None:
    path = seeded(tmp_path)
    store = Store.open(path, load=False)
    store.load()
    store.load()
    assert store.loaded and len(store.all_docs("orgs")) == 3


async def test_first_frame_shows_loading_then_rows_arrive(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = seeded(tmp_path)
    release = hold_the_parse(monkeypatch)
    app = JustOnApp(store=Store.open(path, read_only=True, load=False),
                    credentials=open_credentials("memory"))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        first = screen_text(app)
        assert "Reading the store" in first and "Loading orgs" in first
        assert "Org 0" not in first
        release.set()
        await settle(pilot)
        text = screen_text(app)
        assert app.screen.query_one("#registry-table", FastTable).row_count == 3
        assert "Org 0" in text and "3 orgs" in text


async def test_a_screen_key_pressed_while_loading_switches_at_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every screen reads the store in its worker: it shows at once and fills in after."""
    path = seeded(tmp_path)
    ada = Contact.create(full_name="Ada Admin", email="ada@example.com", title="Admin")
    Store.open(path).add_contact(ada)
    release = hold_the_parse(monkeypatch)
    app = JustOnApp(store=Store.open(path, load=False), credentials=open_credentials("memory"))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("5")
        await pilot.pause()
        assert app.current_mode == "contacts" and "Ada Admin" not in screen_text(app)
        release.set()
        await settle(pilot)
        assert "Ada Admin" in screen_text(app)


async def test_a_damaged_store_ends_the_app_with_its_message(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    path.write_bytes(b'{"orgs": {"1": ')
    app = JustOnApp(store=Store.open(path, read_only=True, load=False),
                    credentials=open_credentials("memory"))
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
    assert isinstance(app.startup_error, StoreCorruptError)
    assert app.return_code == 2


def test_launch_reports_a_damaged_store_after_the_ui(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    from juston_tui.cli import main

    path = tmp_path / "s.json"
    path.write_bytes(b'{"orgs": {"1": ')
    headless_run(monkeypatch)
    code = main(["--db", str(path), "--keyring", "memory"])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("juston-tui: error:") and "left exactly as it is" in err
    assert "Traceback" not in err
    assert path.read_bytes() == b'{"orgs": {"1": '
    assert gc.isenabled()


def test_launch_shows_the_rows_and_leaves_the_gc_on(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    from juston_tui.launch import run_tui

    path = seeded(tmp_path)
    seen = headless_run(monkeypatch)
    try:
        assert run_tui(launch_args(path)) == 0
    finally:
        gc.unfreeze()  # what the launched app froze would otherwise outlive this test
    assert seen == [{"rows": 3, "own_process": True, "gc": True}]
    assert gc.isenabled()


HEAVY = ("simple_salesforce", "requests", "keyring", "icalendar", "vobject", "cryptography",
         "argon2", "juston_tui.commands.status", "juston_tui.simulator")

PROBE = """
import json, sys
from pathlib import Path
from juston_tui import app as app_module
from juston_tui.screens import registry

apply_filter = registry.RegistryScreen.apply_filter
def filtered(self):
    apply_filter(self)
    if self.loaded:
        heavy = json.loads(sys.argv[2])
        Path(sys.argv[3]).write_text(json.dumps([m for m in heavy if m in sys.modules]))
        self.app.exit()
registry.RegistryScreen.apply_filter = filtered
run = app_module.JustOnApp.run
app_module.JustOnApp.run = lambda self, **kwargs: run(self, headless=True, size=(100, 30))
from juston_tui.cli import main
raise SystemExit(main(["--db", sys.argv[1], "--read-only"]))
"""


def test_start_up_keeps_heavy_imports_off_the_path(tmp_path: Path) -> None:
    """Until the registry shows its rows, no Salesforce client, keyring, iCalendar or command
    module is imported (each costs 50-200 ms of start-up)."""
    import json
    import subprocess
    import sys

    path, found = seeded(tmp_path), tmp_path / "imported.json"
    proc = subprocess.run([sys.executable, "-c", PROBE, str(path), json.dumps(HEAVY), str(found)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert json.loads(found.read_text()) == []
