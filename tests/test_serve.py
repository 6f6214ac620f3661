"""`juston-tui serve`: no web page but the one we print can drive the served TUI (issue 15).

textual-serve checks neither a secret nor Origin/Host, so any page the user opens (or a DNS
rebinding host) could connect to ws://127.0.0.1:PORT/ws, type keys and read the screen. The
guarded server needs the per-start token of the printed URL on the page and on the WebSocket,
and refuses foreign Origin and Host headers. These tests talk to the real aiohttp app.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import re
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from aiohttp.test_utils import TestClient, TestServer

from juston_tui.commands.serve import GuardedServer, serve_url

TOKEN = "t0ken-for-this-test-only-4b7c9e"


@pytest.fixture
async def client() -> AsyncIterator[TestClient]:
    # The app session would run this command; here it only has to exist and end.
    server = GuardedServer(f"{sys.executable} -c pass", host="127.0.0.1", port=0,
                           title="juston-tui", token=TOKEN)
    test_server = TestServer(await server._make_app(), host="127.0.0.1")
    async with TestClient(test_server) as http:
        server.port = test_server.port  # what the page's WebSocket address is built from
        server.public_url = f"http://127.0.0.1:{test_server.port}"
        yield http


def origin(http: TestClient) -> str:
    return f"http://127.0.0.1:{http.port}"


async def refused_websocket(http: TestClient, path: str, **headers: str) -> int:
    with pytest.raises(aiohttp.WSServerHandshakeError) as info:
        await http.ws_connect(path, headers=headers)
    return info.value.status


async def test_the_page_needs_the_token(client: TestClient) -> None:
    for query in ("", "?token=", "?token=wrong", f"?token={TOKEN[:-1]}"):
        answer = await client.get(f"/{query}")
        assert answer.status == 403, query
        assert TOKEN not in await answer.text()
    answer = await client.get(f"/?token={TOKEN}")
    assert answer.status == 200
    page = await answer.text()
    assert f'data-session-websocket-url="ws://127.0.0.1:{client.port}/ws/{TOKEN}"' in page
    assert answer.headers["Referrer-Policy"] == "no-referrer"
    assert "no-store" in answer.headers["Cache-Control"]


async def test_a_websocket_from_a_foreign_page_or_without_the_token_is_refused(
        client: TestClient) -> None:
    assert await refused_websocket(client, "/ws") == 403  # textual-serve's own door
    assert await refused_websocket(client, "/ws", Origin=origin(client)) == 403
    assert await refused_websocket(client, "/ws/wrong-token", Origin=origin(client)) == 403
    for foreign in ("http://evil.example", "https://evil.example",
                    f"http://evil.example:{client.port}", "http://127.0.0.1:1", "null"):
        assert await refused_websocket(client, f"/ws/{TOKEN}", Origin=foreign) == 403, foreign
    # A DNS-rebinding page: its own name in Host (and Origin), resolving to 127.0.0.1.
    rebinding = f"rebind.evil.example:{client.port}"
    assert await refused_websocket(client, f"/ws/{TOKEN}", Host=rebinding) == 403
    answer = await client.get(f"/?token={TOKEN}", headers={"Host": rebinding})
    assert answer.status == 403


async def test_static_files_need_no_token_but_a_local_host(client: TestClient) -> None:
    assert (await client.get("/static/js/textual.js")).status == 200
    answer = await client.get("/static/js/textual.js",
                              headers={"Host": f"evil.example:{client.port}"})
    assert answer.status == 403


def test_the_url_carries_a_fresh_token_per_start() -> None:
    args = argparse.Namespace(host="127.0.0.1", port=8123)
    first, second = serve_url(args), serve_url(args)
    assert re.fullmatch(r"http://127\.0\.0\.1:8123/\?token=[A-Za-z0-9_-]{32,}", first[0])
    assert first[1] != second[1] and first[1] in first[0]
    assert serve_url(argparse.Namespace(host="::1", port=8123))[0].startswith(
        "http://[::1]:8123/?token=")


def test_juston_tui_serve_prints_the_url_whose_token_opens_the_tui(tmp_path: Path) -> None:
    """The installed command end to end: the printed URL's page and WebSocket work (the TUI
    streams its screen), the bare address and a foreign page do not."""
    import os
    import signal
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    log = tmp_path / "serve.log"
    env = {**os.environ, "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring",
           "TEXTUAL_ANIMATIONS": "none"}
    with log.open("wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "juston_tui", "--db",
                                 str(tmp_path / "s.json"), "--keyring", "memory", "serve",
                                 "--port", str(port)], env=env, stdout=out,
                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                start_new_session=True)
    try:
        url = None
        deadline = time.monotonic() + 30
        while url is None and time.monotonic() < deadline:
            found = re.search(r"http://127\.0\.0\.1:\d+/\?token=[A-Za-z0-9_-]+",
                              log.read_text())
            url = found.group(0) if found else None
            time.sleep(0.1)
        assert url is not None, log.read_text()
        token = url.rsplit("=", 1)[1]

        async def check() -> None:
            async with aiohttp.ClientSession() as http:
                for _ in range(100):
                    try:
                        answer = await http.get(url)
                        break
                    except aiohttp.ClientConnectionError:
                        await asyncio.sleep(0.1)
                assert answer.status == 200
                assert f"/ws/{token}" in await answer.text()
                assert (await http.get(f"http://127.0.0.1:{port}/")).status == 403
                for path, page in (("/ws", f"http://127.0.0.1:{port}"),
                                   (f"/ws/{token}", "http://evil.example")):
                    with pytest.raises(aiohttp.WSServerHandshakeError) as info:
                        await http.ws_connect(f"ws://127.0.0.1:{port}{path}",
                                              headers={"Origin": page})
                    assert info.value.status == 403
                ws = await http.ws_connect(f"ws://127.0.0.1:{port}/ws/{token}?width=100&height=30",
                                           headers={"Origin": f"http://127.0.0.1:{port}"})
                received = b""
                async with asyncio.timeout(60):
                    while b"Orgs" not in received:
                        message = await ws.receive()
                        assert message.type == aiohttp.WSMsgType.BINARY, message
                        received += message.data
                await ws.close()

        asyncio.run(check())
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(5)
    assert "Traceback" not in log.read_text()


async def test_the_splash_says_the_app_opens_by_itself(client: TestClient) -> None:
    """textual-serve connects on load unless the URL asks for `delay` (then a Start button):
    the printed URL never does, and the splash says the app is on its way."""
    page = await (await client.get(f"/?token={TOKEN}")).text()
    assert "juston-tui is starting… it opens here by itself, no click needed" in page
    url, _ = serve_url(argparse.Namespace(host="127.0.0.1", port=8000))
    assert "delay" not in url
