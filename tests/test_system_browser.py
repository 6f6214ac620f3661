"""The TUI in a browser: `juston-tui --demo serve` opened by headless Chromium.

Chromium (Debian's package) loads the textual-serve page on 127.0.0.1, the app starts for
that browser session, and the registry with the demo orgs arrives in the page's terminal.
The terminal's byte stream is read from the page (its websocket frames) and a screenshot is
saved; the server and Chromium are always killed, everything is bounded in time.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import struct
import subprocess
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from system_support.browser import RECORD_TERMINAL, Cdp, Chromium
from system_support.common import (
    JUSTON,
    clean_env,
    free_port,
    require_juston,
    require_tool,
    wait_for_port,
)

pytestmark = pytest.mark.system
CSI = re.compile(r"\x1b\[[0-9;?<>=]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)")


def _png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    return struct.unpack(">II", data[16:24])


def _stop_group(proc: subprocess.Popen[bytes]) -> None:
    """Stop the server and the app sessions it spawned: the process group we created."""
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=10)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            pass
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait(timeout=5)


async def _drive(cdp_port: int, url: str, shot: Path) -> tuple[str, dict[str, float]]:
    import aiohttp

    times: dict[str, float] = {}
    started = time.monotonic()
    async with aiohttp.ClientSession() as session:
        cdp = await Cdp.connect(session, cdp_port)
        try:
            await cdp.call("Page.enable")
            await cdp.call("Page.addScriptToEvaluateOnNewDocument", source=RECORD_TERMINAL)
            await cdp.call("Page.navigate", url=url)
            text = ""
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                raw = await cdp.evaluate("window.__terminalText || ''")
                text = CSI.sub("", raw or "")
                if (re.search(r"\d+ orgs · \d+ shown", text) and "Zürcher Treuhand AG" in text
                        and "5 Contacts" in text):
                    break
                await asyncio.sleep(0.25)
            else:
                raise AssertionError(f"the registry never reached the page; it got: {text[-800:]}")
            times["registry in the page"] = time.monotonic() - started
            connected = await cdp.evaluate(
                "document.body.classList.contains('-first-byte')")
            assert connected, "textual-serve never showed the terminal"
            await asyncio.sleep(1.0)  # let xterm.js paint the last frames
            await cdp.screenshot(shot)
            times["screenshot"] = time.monotonic() - started
        finally:
            await cdp.close()
    return text, times


def _printed_url(log: Path, timeout: float = 20) -> str:
    """The address `juston-tui serve` printed (the page refuses any other)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = re.search(r"http://127\.0\.0\.1:\d+/\?token=[A-Za-z0-9_-]+",
                          log.read_text(errors="replace"))
        if found:
            return found.group(0)
        time.sleep(0.1)
    raise AssertionError(f"serve printed no URL: {log.read_text(errors='replace')[-2000:]}")


def test_registry_with_demo_data_in_headless_chromium(tmp_path: Path) -> None:
    chromium_bin = require_tool("chromium")
    require_juston()
    port = free_port()
    env = clean_env(HOME=str(tmp_path / "home"), XDG_DATA_HOME=str(tmp_path / "home" / "data"),
                    XDG_CONFIG_HOME=str(tmp_path / "home" / "config"), TERM="xterm-256color")
    server_log = (tmp_path / "serve.log").open("wb")
    started = time.monotonic()
    server = subprocess.Popen([str(JUSTON), "--demo", "serve", "--port", str(port)],
                              env=env, stdin=subprocess.DEVNULL, stdout=server_log,
                              stderr=server_log, start_new_session=True)
    server_log.close()
    browser = Chromium(chromium_bin, tmp_path)
    try:
        wait_for_port(port, timeout=20)
        url = _printed_url(tmp_path / "serve.log")  # with this start's token
        cdp_port = browser.start()
        shot = tmp_path / "registry.png"
        text, times = asyncio.run(asyncio.wait_for(_drive(cdp_port, url, shot), timeout=120))
    finally:
        browser.stop()
        _stop_group(server)
    log = (tmp_path / "serve.log").read_text(errors="replace")
    assert "Traceback" not in log, log[-3000:]
    assert "1 Orgs" in text and "5 Contacts" in text
    assert "[bold red]Evil[/] AG" in text  # the hostile demo name, literally
    width, height = _png_size(shot)
    assert width >= 800 and height >= 500, (width, height)  # the page's viewport
    assert shot.stat().st_size > 20_000, "the screenshot is (nearly) blank"
    print(f"browser: server up to registry in the page {times['registry in the page']:.1f} s, "
          f"screenshot {shot} ({shot.stat().st_size} bytes); total "
          f"{time.monotonic() - started:.1f} s")
