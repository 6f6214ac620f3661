"""The installed `juston-tui --demo` in a real terminal (tmux), driven by keys only.

A person's session: every screen on 1-5, filter the registry, check all orgs, open one, walk
three checklist steps, add a contact and find it, open the next push, quit with ctrl+q and
get the shell prompt back (exit 0). Once more at 80x24 with TERM=screen, where only the 16
basic colours may be used.
"""

from __future__ import annotations

import os
import re
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from system_support.common import JUSTON, require_juston, require_tool
from system_support.tmux_driver import PROMPT, Tmux

pytestmark = pytest.mark.system

# Colour escapes in `capture-pane -e`: 256-colour and truecolour forms.
EXTENDED_COLOUR = re.compile(r"\x1b\[[0-9;]*(?:38|48);(?:2;\d+;\d+;\d+|5;(\d+))")


EXIT_LINE = re.compile(r"^EXIT=(\d+)$", re.M)  # the shell's echo after the app ended


def _env(tmp: Path, term: str) -> dict[str, str]:
    home = tmp / "home"
    home.mkdir(exist_ok=True)
    return {
        "PATH": f"{JUSTON.parent}:/usr/local/bin:/usr/bin:/bin",
        "HOME": str(home),
        "XDG_DATA_HOME": str(home / "data"),
        "XDG_CONFIG_HOME": str(home / "config"),
        "XDG_STATE_HOME": str(home / "state"),
        "XDG_CACHE_HOME": str(home / "cache"),  # the demo lives here
        "JUSTON_TUI_DEMO_IDLE": "20",
        "LANG": "C.UTF-8",
        "TERM": term,
    }


@pytest.fixture
def tmux_session(tmp_path: Path) -> Iterator[tuple[Tmux, Path]]:
    tmux = require_tool("tmux")
    require_juston()
    drivers: list[Tmux] = []

    def make(width: int, height: int, term: str) -> Tmux:
        driver = Tmux(tmux, tmp_path, width=width, height=height)
        drivers.append(driver)
        return driver.start(_env(tmp_path, term))

    try:
        yield make, tmp_path  # type: ignore[misc]
    finally:
        for driver in drivers:
            driver.close()


def open_filter(term: Tmux) -> None:
    """`/`, then wait until the filter box shows: it takes focus on the next refresh, so
    keys typed in the same instant would still go to the table (see the report)."""
    term.keys("/")
    term.wait_for("filter: ")
    term.settle()


def _quit_and_expect_prompt(term: Tmux) -> str:
    term.keys("C-q")
    screen = term.wait_for(EXIT_LINE, timeout=20)
    assert EXIT_LINE.search(screen).group(1) == "0", screen  # type: ignore[union-attr]
    after = screen.split("\nEXIT=0", 1)[1]
    assert PROMPT.strip() in after, f"no shell prompt after the app exited:\n{screen}"
    assert "Traceback" not in screen
    assert term.pane_alive()
    return screen


def test_demo_end_to_end_in_tmux_256_colours(tmux_session) -> None:  # type: ignore[no-untyped-def]
    make, _tmp = tmux_session
    term: Tmux = make(120, 40, "xterm-256color")
    times: dict[str, float] = {}
    started = time.monotonic()
    term.run_command([str(JUSTON), "--demo"])
    first = term.wait_for(re.compile(r"\d+ orgs · \d+ shown"), timeout=40)
    times["first frame with demo data"] = time.monotonic() - started
    first = term.wait_for("5 Contacts")  # the screen tabs
    assert "1 Orgs" in first
    assert "[bold red]Evil[/] AG" in first  # hostile demo name shown literally

    # Every screen by its number.
    t0 = time.monotonic()
    for key, marker in (("2", re.compile(r"\d+/\d+ complete")), ("3", "misconfigured"),
                        ("4", "Next push"), ("5", re.compile(r"\d+ contacts · \d+ shown")),
                        ("1", re.compile(r"\d+ orgs · \d+ shown"))):
        term.keys(key)
        term.wait_for(marker, timeout=15)
    times["screens 2-5 and back"] = time.monotonic() - t0

    # Filter the registry as you type, then clear it.
    total = int(re.search(r"(\d+) orgs ·", term.screen()).group(1))  # type: ignore[union-attr]
    open_filter(term)
    term.type("Zürcher")
    screen = term.wait_for(re.compile(r"\d+ orgs · 2 shown"))
    assert "Zürcher Treuhand AG" in screen and "Müller Logistik GmbH" not in screen
    term.keys("Escape")
    term.wait_for(f"{total} orgs · {total} shown")

    # Check every org now (R) and wait for the sweep to finish.
    t0 = time.monotonic()
    term.keys("R")
    term.wait_for(re.compile(r"Checked \d+ org\(s\)"), timeout=60)
    times["check all"] = time.monotonic() - t0

    # Open the org under the cursor, then back.
    term.keys("Enter")
    detail = term.wait_for("Check now", timeout=15)
    assert "Credentials" in detail
    term.keys("Escape")
    term.wait_for("R Check all")

    # Walk three checklist steps: mark, next open, mark, next open, mark.
    term.keys("2")
    screen = term.wait_for(re.compile(r"(\d+)/(\d+) complete"))
    done_before = int(re.search(r"(\d+)/\d+ complete", screen).group(1))  # type: ignore[union-attr]
    term.keys("Space", "]", "Space", "]", "Space")
    term.wait_for(re.compile(rf"\b{done_before + 3}/\d+ complete"))

    # Open the next push from the calendar.
    term.keys("4")
    term.wait_for("Next push")
    term.keys("Enter")
    push = term.wait_for("Orgs included")
    assert "Push" in push and "Contacts to notify" in push
    term.keys("Escape")
    term.wait_for("Next push")

    # Add a contact with the form, then find it with the filter.
    term.keys("5")
    screen = term.wait_for(re.compile(r"(\d+) contacts · \d+ shown"))
    contacts = int(re.search(r"(\d+) contacts ·", screen).group(1))  # type: ignore[union-attr]
    term.keys("a")
    term.wait_for("Add a contact")
    term.settle()
    # A field selects its text on the refresh after it gains focus: pause like a person
    # moving to the next field, or the first keys typed get selected and replaced (report).
    for value in ("Zacharias Tmux-Probe", "zacharias@tmux.example", "QA Lead"):
        term.type(value)
        term.wait_for(value)
        term.keys("Tab")
        term.settle()
    form = term.screen()
    assert "Zacharias Tmux-Probe" in form and "zacharias@tmux.example" in form
    term.keys("C-s")
    # The "Added ..." notice is drawn just after the new row; wait for it (or the crash).
    # (It once crashed the app right here: notify() with a rich Text; now fixed.)
    term.wait_for(re.compile(r"Added Zacharias Tmux-Probe|^EXIT=\d", re.M), timeout=15)
    screen = term.settle(quiet=0.5)
    assert not EXIT_LINE.search(screen) and "Traceback" not in screen, screen
    term.wait_for(f"{contacts + 1} contacts ·")
    open_filter(term)
    term.type("Zacharias")
    found = term.wait_for(f"{contacts + 1} contacts · 1 shown")
    assert "zacharias@tmux.example" in found and "QA Lead" in found
    term.keys("Escape")

    colours = term._run("capture-pane", "-p", "-e", "-t", term.target)
    assert EXTENDED_COLOUR.search(colours), "no 256-colour output on a 256-colour terminal"
    t0 = time.monotonic()
    _quit_and_expect_prompt(term)
    times["quit"] = time.monotonic() - t0
    times["total"] = time.monotonic() - started
    print("tmux 120x40 xterm-256color: " + ", ".join(f"{k} {v:.1f} s" for k, v in times.items()))


def test_demo_at_80x24_with_16_colours(tmux_session) -> None:  # type: ignore[no-untyped-def]
    make, _tmp = tmux_session
    term: Tmux = make(80, 24, "screen")
    started = time.monotonic()
    term.run_command([str(JUSTON), "--demo"])
    first = term.wait_for(re.compile(r"\d+ orgs · \d+ shown"), timeout=40)
    assert "Orgs — demo" in first
    first = term.wait_for("5 Contacts")  # the screen tabs fit in 80 columns too
    lines = first.splitlines()
    assert len(lines) <= 24 and all(len(line) <= 80 for line in lines)
    for key, marker in (("2", re.compile(r"\d+/\d+ complete")), ("3", "misconfigured"),
                        ("4", "Next push"), ("5", re.compile(r"\d+ contacts · \d+ shown")),
                        ("1", re.compile(r"\d+ orgs · \d+ shown"))):
        term.keys(key)
        term.wait_for(marker, timeout=15)
        screen = term._run("capture-pane", "-p", "-e", "-t", term.target)
        extended = [m.group(0) for m in EXTENDED_COLOUR.finditer(screen)
                    if m.group(1) is None or int(m.group(1)) > 15]
        assert not extended, f"screen {key} uses colours a 16-colour terminal lacks: " \
                             f"{sorted(set(extended))[:5]}"
    _quit_and_expect_prompt(term)
    print(f"tmux 80x24 TERM=screen: {time.monotonic() - started:.1f} s")


def test_driver_reports_the_screen_when_text_never_shows(tmux_session) -> None:  # type: ignore[no-untyped-def]
    """wait_for can fail, and says what was on the screen."""
    make, _tmp = tmux_session
    term: Tmux = make(60, 10, "xterm-256color")
    term.type("echo hello-from-tmux")
    term.keys("Enter")
    term.wait_for("hello-from-tmux\n")
    with pytest.raises(AssertionError, match="hello-from-tmux"):
        term.wait_for("never-printed", timeout=0.5)
    assert os.environ.get("TMUX") is None  # we drive our own server, not the developer's


def _registry_rows(screen: str) -> tuple[str, list[str]]:
    """The registry's header line and the table rows under it (up to the first blank line)."""
    lines = screen.splitlines()
    start = next(i for i, line in enumerate(lines) if re.match(r"^\s+Name", line))
    rows = []
    for line in lines[start + 1:]:
        if re.fullmatch(r"[\s\u2580-\u259f]*", line) or line.lstrip().startswith("⏎"):
            break  # past the rows: a blank line, the horizontal scroll bar or the key bar
        rows.append(line)
    return lines[start], rows


def test_registry_at_80x24_keeps_the_name_while_scrolling_right(tmux_session) -> None:  # type: ignore[no-untyped-def]
    """Issue 17: at 80x24 (TERM=screen, NO_COLOR=1) `->` scrolls the columns under a fixed
    Name column, so every row still says which org it is; sandboxes say so in the name."""
    from juston_tui.simulator.scenarios import scenario_set_orgs
    from juston_tui.text import clean

    make, _tmp = tmux_session
    term: Tmux = make(80, 24, "screen")
    term.run_command(["env", "NO_COLOR=1", str(JUSTON), "--demo"])
    term.wait_for(re.compile(r"\d+ orgs · \d+ shown"), timeout=40)
    before = term.settle(quiet=0.5)
    header, rows = _registry_rows(before)
    assert "Org ID" in header and "Type" not in header, before
    assert len(rows) >= 5, before
    names = [row[2:27].rstrip() for row in rows]  # the marker column, then Name (24 + 1)
    known = [clean(o.name) for o in scenario_set_orgs("demo")]  # as the screen shows them
    for name in names:
        plain = name.removeprefix("sbx ").rstrip("…")
        assert any(k.startswith(plain) for k in known), (name, before)
    assert any(name.startswith("sbx ") for name in names), before  # a sandbox, marked in text

    term.keys(*["Right"] * 8)
    term.wait_for(re.compile(r"^\s+Name.*Type", re.M))
    after = term.settle(quiet=0.5)
    header, rows = _registry_rows(after)
    assert "Org ID" not in header and "Type" in header, after
    assert [row[2:27].rstrip() for row in rows] == names, after  # the same names, same rows
    lines = after.splitlines()
    assert len(lines) <= 24 and all(len(line) <= 80 for line in lines)
    term.keys("Left", "Left", "Left", "Left", "Left", "Left", "Left", "Left")
    term.wait_for(re.compile(r"^\s+Name\S*\s+Org ID", re.M))
    _quit_and_expect_prompt(term)
