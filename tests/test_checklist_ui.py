"""The checklist screen, driven by keys only at 80x24, against simulator orgs."""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import Input, Label, OptionList, Static
from ui_helpers import make_app as app_on
from ui_helpers import screen_text, settle

from juston_tui.app import JustOnApp
from juston_tui.checklist import load_checklist, load_states, next_open, progress, toggle_done
from juston_tui.credentials import CredentialStore, open_credentials
from juston_tui.model import Org
from juston_tui.screens.checklist import ChecklistScreen
from juston_tui.screens.checklist_modals import StepDetailScreen, TextPromptScreen
from juston_tui.screens.messages import OrgsChanged, StoreChanged
from juston_tui.screens.org_picker import OrgPickerScreen
from juston_tui.simulator import Simulator, make_org
from juston_tui.store import Store

SIZE = (80, 24)
_index = itertools.count(900)
API_STEPS = [s.id for s in load_checklist().steps if s.api_checked]


@pytest.fixture(scope="module")
def sim() -> Iterator[Simulator]:
    simulator = Simulator(scenario_set="empty").start()
    yield simulator
    simulator.stop()


@pytest.fixture
def creds() -> CredentialStore:
    return open_credentials("memory")


def add_sim_org(sim: Simulator, creds: CredentialStore, store: Store, scenario: str) -> Org:
    """A fresh simulator org registered with the token method (access token, URL, CA)."""
    so = sim.add_org(make_org(scenario, next(_index)))
    org = Org.create(org_id=so.org_id, name=so.name, kind=so.kind,
                     parent_org_id=so.parent_org_id, instance_url=sim.url, auth_method="token",
                     ca_bundle=sim.ca_path)
    creds.set(org.org_id, "access_token", so.access_token)
    store.add_org(org)
    return org


def sim_store(tmp_path: Path, sim: Simulator, creds: CredentialStore,
              scenario: str) -> tuple[Path, Org]:
    """A store file with one fresh simulator org of `scenario`."""
    path = tmp_path / "s.json"
    setup = Store.open(path)
    org = add_sim_org(sim, creds, setup, scenario)
    setup.close()
    return path, org


def make_app(path: Path, creds: CredentialStore, *, read_only: bool = False) -> JustOnApp:
    return app_on(path, read_only=read_only, credentials=creds, start_mode="checklist")


async def until(pilot: Any, condition: Callable[[], bool], seconds: float = 10.0) -> None:
    """Let the app run until `condition` holds (a worker posts from its thread), or fail."""
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "the screen never got there"
        await pilot.pause()


def screen_of(app: JustOnApp) -> ChecklistScreen:
    screen = app.screen
    assert isinstance(screen, ChecklistScreen), type(screen)
    return screen


def overall(app: JustOnApp) -> str:
    return str(screen_of(app).query_one("#cl-overall-label", Label).render())


def detail(app: JustOnApp) -> str:
    return str(screen_of(app).query_one("#cl-detail", Static).render())


async def verify(app: JustOnApp, pilot: Any) -> None:
    await pilot.press("v")
    await settle(pilot)
    assert not screen_of(app).query_one("#cl-verify").display


async def walk(app: JustOnApp, pilot: Any, limit: int) -> int:
    """`space` on the current open step (the cursor moves on to the next open one by itself);
    returns steps marked."""
    marked = 0
    for _ in range(limit):
        screen = screen_of(app)
        step_id = screen.current_step_id
        assert step_id is not None
        if progress(screen.checklist, screen.states).complete == len(screen.checklist.steps):
            break
        await pilot.press("space")  # mark: the cursor is then on the next open step
        await settle(pilot)
        assert screen.states[step_id].state == "done"
        marked += 1
    return marked


async def test_walk_healthy_checklist_by_keys_and_resume_after_restart(
        tmp_path: Path, sim: Simulator, creds: CredentialStore) -> None:
    path, org = sim_store(tmp_path, sim, creds, "healthy")
    app = make_app(path, creds)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = screen_of(app)
        assert screen.org is not None and screen.org.org_id == org.org_id
        assert screen.query_one("#cl-steps", OptionList).size.height >= 10  # fits 80x24
        assert overall(app).startswith("0/25")
        await verify(app, pilot)
        assert overall(app).startswith(f"{len(API_STEPS)}/25")
        assert screen.current_step_id == "requirements.edition"  # the cursor stays put
        assert "Verified ok" in detail(app) and "Edition" in detail(app)
        await pilot.press("right_square_bracket")  # the next step still open
        await settle(pilot)
        assert screen.current_step_id == "requirements.browsers"
        assert "confirmed by the admin" in detail(app)
        await pilot.press("n", *"Chrome 126 everywhere", "enter")
        await settle(pilot)
        marked = await walk(app, pilot, 6)
        assert marked == 6
        assert overall(app).startswith(f"{len(API_STEPS) + 6}/25")
    # a new app on the same store resumes exactly there
    app = make_app(path, creds)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = screen_of(app)
        assert overall(app).startswith(f"{len(API_STEPS) + 6}/25")
        assert screen.states["requirements.browsers"].note == "Chrome 126 everywhere"
        first_open = screen.current_step_id
        assert first_open is not None and screen.states.get(first_open) is None
        await walk(app, pilot, 30)
        assert overall(app).startswith("25/25")
        await pilot.press("right_square_bracket")  # nothing left: says so, stays put
        await settle(pilot)
    states = load_states(Store.open(path), org.org_id)
    assert len(states) == 25
    manual = [s for s in states.values() if s.state == "done"]
    assert len(manual) == 25 - len(API_STEPS)
    assert all(s.by and s.at for s in manual)
    assert all(states[s].verification.verdict == "ok" for s in API_STEPS)  # type: ignore[union-attr]


async def test_self_authorize_failing_verify_keeps_the_manual_mark(
        tmp_path: Path, sim: Simulator, creds: CredentialStore) -> None:
    path, org = sim_store(tmp_path, sim, creds, "self_authorize")
    app = make_app(path, creds)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.open_screen("checklist", org_id=org.org_id, step_id="app_access.permitted_users")
        await settle(pilot)
        screen = screen_of(app)
        assert screen.current_step_id == "app_access.permitted_users"
        await pilot.press("space")  # the admin believes it is done
        await settle(pilot)
        sim.set_latency(0.4, org.org_id)  # a slow org: the progress must show meanwhile
        try:
            await pilot.press("v")
            label = screen.query_one("#cl-verify-label", Label)
            await until(pilot, lambda: "Verifying" in str(label.render()))
            assert screen.query_one("#cl-verify").display
            assert "Verifying 1/2" in str(label.render())
            await pilot.press("v")  # a second request while running is refused, not doubled
            await settle(pilot)
        finally:
            sim.set_latency(0.0, org.org_id)
        assert not screen.query_one("#cl-verify").display
        assert screen.current_step_id != "app_access.permitted_users"  # moved on after space
        await pilot.press("left_square_bracket")  # back to it: still failing, so still open
        await settle(pilot)
        assert screen.current_step_id == "app_access.permitted_users"
        state = screen.states["app_access.permitted_users"]
        assert state.state == "done" and state.verification is not None
        assert state.verification.verdict == "fail"
        assert "failing" in overall(app)
        assert "All users may self-authorize" in detail(app)
        assert "Fix:" in detail(app)
        await pilot.press("enter")
        await settle(pilot)
        modal = app.screen
        assert isinstance(modal, StepDetailScreen)
        text = str(modal.details)
        assert "Last verification" in text and "Admin approved users are pre-authorized" in text
        assert "Manage Connected Apps" in text and "Marked\ndone by" in text
        await pilot.press("escape")
        await settle(pilot)
        assert screen.states["preparing.browser_caching"].verification.verdict == "fail"  # type: ignore[union-attr]
    saved = load_states(Store.open(path), org.org_id)["app_access.permitted_users"]
    assert saved.state == "done" and saved.verification.verdict == "fail"  # type: ignore[union-attr]


async def test_no_balance_permset_skip_needs_a_reason(
        tmp_path: Path, sim: Simulator, creds: CredentialStore) -> None:
    path, org = sim_store(tmp_path, sim, creds, "no_balance_permset")
    app = make_app(path, creds)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await verify(app, pilot)
        screen = screen_of(app)
        balance = screen.states["post_install.balance"].verification
        assert balance is not None and balance.verdict == "fail"
        others = [screen.states[s].verification.verdict for s in API_STEPS  # type: ignore[union-attr]
                  if s != "post_install.balance"]
        assert set(others) == {"ok"}
        # from the last step, `[` goes back over verified steps to the open ones
        await pilot.press("end", "left_square_bracket")
        await settle(pilot)
        assert screen.current_step_id == "post_install.project_permissions"
        await pilot.press("left_square_bracket")  # task_type is verified: skipped over
        await settle(pilot)
        assert screen.current_step_id == "post_install.balance"
        await pilot.press("s")
        await settle(pilot)
        assert isinstance(app.screen, TextPromptScreen)
        await pilot.press("enter")  # empty: refused at the field, the modal stays
        await settle(pilot)
        assert isinstance(app.screen, TextPromptScreen)
        assert "say why" in str(app.screen.query_one("#prompt-error", Static).render())
        await pilot.press(*"Balances not used in phase 1", "enter")
        await settle(pilot)
        assert isinstance(app.screen, ChecklistScreen)
        state = screen.states["post_install.balance"]
        assert state.state == "skipped" and state.skip_reason == "Balances not used in phase 1"
        assert state.verification is not None and state.verification.verdict == "fail"
        assert "1 skipped" in overall(app) and "failing" not in overall(app)
        assert screen.current_step_id == "post_install.project_permissions"  # the next open
        await pilot.press("k", "k")  # back over the verified task_type step
        await settle(pilot)
        assert screen.current_step_id == "post_install.balance"
        await pilot.press("s")  # skipped again: reopens without asking
        await settle(pilot)
        assert screen.states["post_install.balance"].state == "open"
    assert load_states(Store.open(path), org.org_id)["post_install.balance"].state == "open"


async def test_no_package_fails_the_install_and_what_depends_on_it(
        tmp_path: Path, sim: Simulator, creds: CredentialStore) -> None:
    path, _org = sim_store(tmp_path, sim, creds, "no_package")
    app = make_app(path, creds)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await verify(app, pilot)
        screen = screen_of(app)
        verdicts = {s: screen.states[s].verification.verdict for s in API_STEPS}  # type: ignore[union-attr]
        assert verdicts["installing.follow"] == "fail"
        assert verdicts["requirements.edition"] == "ok"
        # What depends on the package cannot be judged without it: unknown, as in `status`.
        assert verdicts["app_access.sysadmin"] == "unknown"
        assert verdicts["post_install.licences"] == "unknown"
        assert "not installed" in screen.states["installing.follow"].verification.reason  # type: ignore[union-attr]
        assert "package not installed" in screen.states["post_install.licences"].verification.reason  # type: ignore[union-attr]
        assert overall(app).startswith("1/25")


async def test_unreachable_org_leaves_marks_and_reports_unknown(
        tmp_path: Path, sim: Simulator, creds: CredentialStore) -> None:
    path = tmp_path / "s.json"
    setup = Store.open(path)
    org = add_sim_org(sim, creds, setup, "healthy")
    toggle_done(setup, org.org_id, "requirements.edition", by="alice")
    setup.close()
    sim.set_fault(org.org_id, "server_error")
    app = make_app(path, creds)
    try:
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await verify(app, pilot)
            state = screen_of(app).states["requirements.edition"]
            assert state.state == "done" and state.by == "alice"
            assert state.verification is not None and state.verification.verdict == "unknown"
            caching = screen_of(app).states["preparing.browser_caching"].verification
            assert caching is not None  # a separate Metadata API read, not a REST query
            # the manual mark still counts; nothing the probe could not read counts as done
            expected = 1 + (caching.verdict == "ok")
            assert overall(app).startswith(f"{expected}/25")
    finally:
        sim.clear_faults(org.org_id)


async def test_read_only_shows_but_does_not_change(
        tmp_path: Path, sim: Simulator, creds: CredentialStore) -> None:
    path, _org = sim_store(tmp_path, sim, creds, "no_balance_permset")
    before = path.read_bytes()
    app = make_app(path, creds, read_only=True)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = screen_of(app)
        step_id = screen.current_step_id
        await pilot.press("space", "s", "n")
        await settle(pilot)
        assert isinstance(app.screen, ChecklistScreen)  # no modal opened
        assert screen.states == {}
        footer_keys = {b.binding.action for b in screen.active_bindings.values()
                       if b.enabled}
        assert "toggle" not in footer_keys and "verify" in footer_keys
        await verify(app, pilot)  # verification is shown, never saved
        assert screen.states["post_install.balance"].verification.verdict == "fail"  # type: ignore[union-attr]
        assert screen.current_step_id == step_id
    assert path.read_bytes() == before


async def test_org_picker_filters_and_open_screen_focuses(
        tmp_path: Path, creds: CredentialStore) -> None:
    path = tmp_path / "s.json"
    setup = Store.open(path)
    for org_id, name in (("00D5g000004Xyz1", "Alpha [b]AG"), ("00D5g000006Sbx1", "Beta GmbH"),
                         ("00D5g000007Abc1", "Gamma KG")):
        setup.add_org(Org.create(org_id=org_id, name=name))
    beta = setup.find_org("00D5g000006Sbx1EAC")
    assert beta is not None
    toggle_done(setup, beta.org_id, "requirements.edition", by="bob")
    setup.close()
    app = make_app(path, creds)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = screen_of(app)
        assert screen.org is not None and screen.org.name == "Alpha [b]AG"
        assert "Alpha [b]AG" in str(screen.query_one("#cl-org", Static).render())
        await pilot.press("o")
        await settle(pilot)
        assert isinstance(app.screen, OrgPickerScreen)
        await pilot.press(*"gmb")
        await settle(pilot)
        picker = app.screen
        assert isinstance(picker, OrgPickerScreen)
        assert picker.query_one("#picker-filter", Input).value == "gmb"
        assert picker.table.row_keys == [beta.org_id]
        await pilot.press("enter")
        await settle(pilot)
        assert screen_of(app).org.org_id == beta.org_id  # type: ignore[union-attr]
        assert screen.states["requirements.edition"].by == "bob"
        assert overall(app).startswith("1/25")
        await pilot.press("o", "escape")  # cancel keeps the org
        await settle(pilot)
        assert screen_of(app).org.org_id == beta.org_id  # type: ignore[union-attr]
        app.open_screen("checklist", org_id="00D5g000007Abc1AAA")  # not registered: warns
        await settle(pilot)
        assert screen_of(app).org.org_id == beta.org_id  # type: ignore[union-attr]
        app.open_screen("checklist", org_id="00D5g000004Xyz1", step_id="post_install.licences")
        await settle(pilot)
        assert screen_of(app).org.name == "Alpha [b]AG"  # type: ignore[union-attr]
        assert screen_of(app).current_step_id == "post_install.licences"
        await pilot.press("j", "k", "k")
        await settle(pilot)
        assert screen_of(app).current_step_id == "post_install.project_permissions"
        await pilot.press("left_square_bracket")
        await settle(pilot)
        assert screen_of(app).current_step_id == "post_install.task_type"


async def test_no_orgs_shows_how_to_add_one(tmp_path: Path, creds: CredentialStore) -> None:
    app = make_app(tmp_path / "s.json", creds)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert "No org registered yet" in str(screen_of(app).query_one("#cl-org", Static).render())
        await pilot.press("space", "v", "o")
        await settle(pilot)
        assert isinstance(app.screen, ChecklistScreen)


async def test_store_reads_run_off_the_event_loop(
        tmp_path: Path, creds: CredentialStore, monkeypatch: pytest.MonkeyPatch) -> None:
    """Another process's write makes the next read reparse the whole file: never on the UI."""
    path = tmp_path / "s.json"
    setup = Store.open(path)
    setup.add_org(Org.create(org_id="00D5g000004Xyz1", name="Alpha AG"))
    setup.add_org(Org.create(org_id="00D5g000006Sbx1", name="Beta GmbH"))
    app = make_app(path, creds)
    store = app.store
    ui_reads: list[str] = []
    main = threading.main_thread()
    for name in ("find_org", "list_orgs", "get_doc", "all_docs"):
        original = getattr(store, name)

        def spy(*args: Any, _name: str = name, _original: Any = original) -> Any:
            if threading.current_thread() is main:
                ui_reads.append(_name)
            return _original(*args)

        monkeypatch.setattr(store, name, spy)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = screen_of(app)
        assert screen.org is not None and screen.org.name == "Alpha AG"
        toggle_done(setup, screen.org.org_id, "requirements.edition", by="other")  # elsewhere
        screen.post_message(StoreChanged())
        await settle(pilot)
        assert screen.states["requirements.edition"].by == "other"
        await pilot.press("o")  # the picker's org list is read in a worker too
        await settle(pilot)
        assert isinstance(app.screen, OrgPickerScreen)
        await pilot.press(*"beta", "enter")
        await settle(pilot)
        assert screen.org.name == "Beta GmbH"
        assert screen.current_step_id == "requirements.edition"  # first open step of Beta
    setup.close()
    assert ui_reads == []


async def test_picker_folds_accents_and_opens_the_org(
        tmp_path: Path, creds: CredentialStore) -> None:
    path = tmp_path / "s.json"
    setup = Store.open(path)
    for org_id, name in (("00D5g000004Xyz1", "Basler Versicherung"),
                         ("00D5g000006Sbx1", "Zürcher Kantonalbank"),
                         ("00D5g000007Abc1", "Zurcher Treuhand")):
        setup.add_org(Org.create(org_id=org_id, name=name))
    setup.close()
    app = make_app(path, creds)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert screen_of(app).org.name == "Basler Versicherung"  # type: ignore[union-attr]
        await pilot.press("o")
        await settle(pilot)
        picker = app.screen
        assert isinstance(picker, OrgPickerScreen) and not picker.multiple
        assert picker.table.cursor_key == "00D5g000004Xyz1EAC"  # starts on the org shown
        await pilot.press(*"zurch")  # no umlaut typed: both Zürcher and Zurcher match
        assert picker.table.row_keys == ["00D5g000007Abc1EAC", "00D5g000006Sbx1EAC"]  # names
        assert picker.table.cursor_key == "00D5g000007Abc1EAC"  # on the first match
        await pilot.press("backspace", "backspace", "backspace", "backspace", "backspace",
                          *"zuerch")  # German transliteration: only Zürcher
        assert picker.table.row_keys == ["00D5g000006Sbx1EAC"]
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ChecklistScreen)
        assert screen_of(app).org.name == "Zürcher Kantonalbank"  # type: ignore[union-attr]
        await pilot.press("o", *"kantonal", "down", "enter")  # one match: down stays on it
        await settle(pilot)
        assert screen_of(app).org.name == "Zürcher Kantonalbank"  # type: ignore[union-attr]
        await pilot.press("o", *"nothing like it", "enter")  # no match: enter does nothing
        await settle(pilot)
        assert isinstance(app.screen, OrgPickerScreen)
        await pilot.press("escape")  # clears the search first, then cancels
        assert isinstance(app.screen, OrgPickerScreen)
        assert app.screen.search.value == ""
        await pilot.press("escape")
        await settle(pilot)
        assert screen_of(app).org.name == "Zürcher Kantonalbank"  # type: ignore[union-attr]


async def test_verification_reaches_the_registry_and_renames_reach_the_checklist(
        tmp_path: Path, sim: Simulator, creds: CredentialStore) -> None:
    """Messages up: the checklist announces the check it made; it reloads on OrgsChanged."""
    path, org = sim_store(tmp_path, sim, creds, "healthy")
    app = JustOnApp(store=Store.open(path), credentials=creds)  # starts on the registry
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        registry = app.screen
        assert registry.entries[org.org_id].info.verdict == ""  # type: ignore[attr-defined]
        await pilot.press("2")
        await settle(pilot)
        await verify(app, pilot)
        await pilot.press("1")
        await settle(pilot)
        assert app.screen is registry
        assert registry.entries[org.org_id].info.verdict == "ok"  # type: ignore[attr-defined]
        renamed = app.store.update_org(org.org_id, name="Renamed Holding AG")
        registry.announce(OrgsChanged([renamed]))  # as the registry's edit form does
        await settle(pilot)
        await pilot.press("2")
        await settle(pilot)
        assert "Renamed Holding AG" in str(screen_of(app).query_one("#cl-org", Static).render())


def row_line(app: JustOnApp, title: str) -> str:
    """The screen line of the step row whose title starts with `title`."""
    lines = [line for line in screen_text(app).splitlines() if title in line]
    assert len(lines) == 1, lines
    return lines[0]


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
async def test_marks_show_in_the_row_cursor_moves_on_and_notes_show_in_the_detail(
        tmp_path: Path, sim: Simulator, creds: CredentialStore, size: tuple[int, int]) -> None:
    """Issue 17 item 7: `space` on a failing step is visible in its row, done/skip move on to
    the next open step, the detail pane shows the saved note itself."""
    path, _org = sim_store(tmp_path, sim, creds, "self_authorize")
    app = make_app(path, creds)
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        await verify(app, pilot)
        screen = screen_of(app)
        for _ in range(len(screen.checklist.steps)):  # `]` over the open steps to the failing one
            if screen.current_step_id == "app_access.permitted_users":
                break
            await pilot.press("right_square_bracket")
            await settle(pilot)
        assert screen.current_step_id == "app_access.permitted_users"
        title = "Permitted Users: Admin"
        assert "FAILING" in row_line(app, title)
        await pilot.press("space")
        await settle(pilot)
        line = row_line(app, title)
        assert "done by hand · check: fail" in line and "FAILING" not in line
        after = screen.current_step_id
        assert after not in (None, "app_access.permitted_users")
        assert after == next_open(screen.checklist, screen.states, "app_access.permitted_users")
        # skip moves on too
        await pilot.press("s", *"not used here", "enter")
        await settle(pilot)
        assert screen.states[after].state == "skipped"  # type: ignore[index]
        assert screen.current_step_id not in (None, after)
        # back to the failing step (still open for `[`): a note shows in the detail pane
        await pilot.press("left_square_bracket")
        await settle(pilot)
        assert screen.current_step_id == "app_access.permitted_users"
        assert "Note" not in detail(app)
        await pilot.press("n", *"Only the two admins", "enter")
        await settle(pilot)
        assert screen.current_step_id == "app_access.permitted_users"  # a note stays put
        assert "Note: Only the two admins" in detail(app)
        assert "Done by hand by" in detail(app) and "Verified fail" in detail(app)
        text = screen_text(app)
        assert "Note: Only the two admins" in text  # on screen, not below the fold
        assert "enter: full text" in text
        # undo (space on a done step) reopens it and stays put
        await pilot.press("space")
        await settle(pilot)
        assert screen.current_step_id == "app_access.permitted_users"
        assert "FAILING" in row_line(app, title)
