"""Headless Debian Chromium driven over the Chrome DevTools Protocol (aiohttp websocket).

Chromium runs in its own process group with a throwaway profile and every host but the
loopback resolved to "not found" (the textual-serve page links a web font; nothing may
leave the machine). `Cdp.call` sends one command and waits for its answer.
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
import os
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

# Capture what the app sends to the page's terminal: textual-serve keeps its xterm.js
# instance private, so record the websocket's binary frames (the terminal byte stream).
RECORD_TERMINAL = """
(() => {
  const Native = window.WebSocket;
  const decoder = new TextDecoder("utf-8");
  window.__terminalText = "";
  window.__frames = 0;
  function Recording(url, protocols) {
    const ws = protocols === undefined ? new Native(url) : new Native(url, protocols);
    ws.addEventListener("message", (event) => {
      if (event.data instanceof ArrayBuffer) {
        window.__frames += 1;
        window.__terminalText += decoder.decode(new Uint8Array(event.data), {stream: true});
      }
    });
    return ws;
  }
  Recording.prototype = Native.prototype;
  for (const key of ["CONNECTING", "OPEN", "CLOSING", "CLOSED"]) Recording[key] = Native[key];
  window.WebSocket = Recording;
})();
"""

CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--disable-default-apps",
    "--mute-audio",
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1, EXCLUDE localhost",
)


class Chromium:
    def __init__(self, binary: str, folder: Path, *, width: int = 1400, height: int = 900) -> None:
        self.binary = binary
        self.profile = folder / "chromium-profile"
        self.log = folder / "chromium.log"
        self.width = width
        self.height = height
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 30) -> int:
        """Start Chromium; returns its DevTools port (read from DevToolsActivePort)."""
        self.profile.mkdir(parents=True, exist_ok=True)
        log = self.log.open("wb")
        self.proc = subprocess.Popen(
            [self.binary, *CHROMIUM_FLAGS, f"--user-data-dir={self.profile}",
             "--remote-debugging-address=127.0.0.1", "--remote-debugging-port=0",
             f"--window-size={self.width},{self.height}", "about:blank"],
            stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True,
        )
        log.close()
        marker = self.profile / "DevToolsActivePort"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"chromium exited: {self.log.read_text()[-2000:]}")
            if marker.exists():
                lines = marker.read_text().split()
                if lines:
                    return int(lines[0])
            time.sleep(0.05)
        raise AssertionError(f"chromium did not open DevTools: {self.log.read_text()[-2000:]}")

    def stop(self) -> None:
        """Kill Chromium and its helpers: the process group we created for it."""
        if self.proc is None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=5)
        self.proc = None


class Cdp:
    """One page's DevTools session."""

    def __init__(self, ws: Any) -> None:
        self.ws = ws
        self.ids = itertools.count(1)

    @classmethod
    async def connect(cls, session: Any, port: int) -> Cdp:
        async with session.get(f"http://127.0.0.1:{port}/json/list") as response:
            targets = await response.json()
        page = next(t for t in targets if t.get("type") == "page")
        ws = await session.ws_connect(page["webSocketDebuggerUrl"], max_msg_size=0)
        return cls(ws)

    async def call(self, method: str, timeout: float = 20, **params: Any) -> dict[str, Any]:
        ident = next(self.ids)
        await self.ws.send_str(json.dumps({"id": ident, "method": method, "params": params}))
        async with asyncio.timeout(timeout):
            while True:
                message = await self.ws.receive()
                if message.type.name != "TEXT":
                    raise AssertionError(f"DevTools connection ended: {message.type.name}")
                data = json.loads(message.data)
                if data.get("id") == ident:
                    if "error" in data:
                        raise AssertionError(f"{method} failed: {data['error']}")
                    return dict(data.get("result") or {})

    async def evaluate(self, expression: str) -> Any:
        result = await self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        return (result.get("result") or {}).get("value")

    async def screenshot(self, path: Path) -> Path:
        result = await self.call("Page.captureScreenshot", format="png", timeout=30)
        path.write_bytes(base64.b64decode(result["data"]))
        return path

    async def close(self) -> None:
        await self.ws.close()
