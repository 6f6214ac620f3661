"""The simulator's HTTPS plumbing: the threading server, the request handler, the answer type.

The server is the stdlib ThreadingHTTPServer with TLS from a CA generated at start, so there are
no extra dependencies and latency injected with `time.sleep` in one handler thread never blocks
the others. Every request is handed to `Simulator.handle` (server.py), which routes it to the
module of its API (oauth, soap, rest, composite, vendor).
"""

from __future__ import annotations

import re
import socket
import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

import orjson

from .faults import TRICKLE_SECONDS, Fault

if TYPE_CHECKING:
    from .server import Simulator

__all__ = [
    "API_DISABLED",
    "INVALID_SESSION",
    "JSON",
    "LIMIT_EXCEEDED",
    "NOT_FOUND",
    "VERSION_PATH",
    "XML",
    "Response",
    "Server",
    "err",
    "json_response",
    "redirect",
    "trickle_of",
]

JSON = "application/json;charset=UTF-8"
XML = "text/xml;charset=UTF-8"
# /services/data/v62.0/<rest>: the REST and Tooling APIs (and composite subrequest URLs).
VERSION_PATH = re.compile(r"^/services/data/v(\d{2})\.(\d)(/.*)?$")


def err(status: int, code: str, message: str) -> tuple[int, Any]:
    """A REST error: Salesforce answers a JSON list of {message, errorCode} (api_rest
    errorcodes.htm)."""
    return status, [{"message": message, "errorCode": code}]


INVALID_SESSION = err(401, "INVALID_SESSION_ID", "Session expired or invalid")
LIMIT_EXCEEDED = err(403, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.")
API_DISABLED = err(403, "API_DISABLED_FOR_ORG",
                   "The REST API is not enabled for this Organization.")
NOT_FOUND = err(404, "NOT_FOUND", "The requested resource does not exist")


class Response:
    """What a handler sends: status, body bytes, content type, extra headers."""

    __slots__ = ("body", "content_type", "headers", "status", "trickle")

    def __init__(self, status: int, body: bytes, content_type: str = JSON,
                 headers: dict[str, str] | None = None) -> None:
        self.status = status
        self.body = body
        self.content_type = content_type
        self.headers = headers or {}
        self.trickle: float | None = None  # seconds between bytes (the trickle fault)


def json_response(status: int, payload: Any) -> Response:
    return Response(status, orjson.dumps(payload))


def trickle_of(fault: Fault | None) -> float | None:
    """Seconds between bytes when `fault` is the trickle fault, else None."""
    if fault is None or fault.kind != "trickle":
        return None
    return fault.seconds or TRICKLE_SECONDS


def redirect(fault: Fault, port: int, path: str, query: dict[str, list[str]]) -> Response:
    """307 to another origin: the same path on `target` (default: this server as localhost)."""
    target = (fault.target or f"https://localhost:{port}").rstrip("/")
    tail = f"?{urlencode(query, doseq=True)}" if query else ""
    return Response(307, b"", headers={"Location": f"{target}{path}{tail}"})


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 1024
    allow_reuse_address = True

    def __init__(self, addr: tuple[str, int], sim: Simulator, ctx: ssl.SSLContext) -> None:
        self.sim = sim
        self.ssl_ctx = ctx
        self.live: set[socket.socket] = set()
        self.live_lock = threading.Lock()
        super().__init__(addr, _Handler)

    def get_request(self) -> tuple[socket.socket, Any]:
        sock, addr = self.socket.accept()
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        # The handshake runs in the handler thread (finish_request), never in the accept loop.
        return self.ssl_ctx.wrap_socket(sock, server_side=True,
                                        do_handshake_on_connect=False), addr

    def finish_request(self, request: Any, client_address: Any) -> None:
        with self.live_lock:
            self.live.add(request)
        try:
            request.settimeout(10)
            request.do_handshake()
            request.settimeout(None)
            super().finish_request(request, client_address)
        except (OSError, ssl.SSLError):
            pass
        finally:
            with self.live_lock:
                self.live.discard(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Client disconnects and bad handshakes are routine here; stay quiet."""

    def close_connections(self) -> None:
        with self.live_lock:
            socks = list(self.live)
        for s in socks:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "sfdcedge"
    sys_version = ""
    timeout = 60  # idle keep-alive connections are dropped after a minute
    server: Server

    def log_message(self, format: str, *args: Any) -> None:
        """Silent: a benchmark makes thousands of requests."""

    def _dispatch(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        try:
            resp = self.server.sim._handle(self.command, self.path, self.headers, body)
        except Exception as exc:
            resp = json_response(500, [{"message": f"simulator error: {exc!r}",
                                        "errorCode": "UNKNOWN_EXCEPTION"}])
        if resp is None:  # hang released by stop(): drop the connection without an answer
            self.close_connection = True
            return
        self.send_response(resp.status)
        self.send_header("Content-Type", resp.content_type)
        self.send_header("Content-Length", str(len(resp.body)))
        for k, v in resp.headers.items():
            self.send_header(k, v)
        # Headers and body in one write: separate small writes stall ~40 ms per response on
        # Nagle + delayed ACK, which would swamp the latency the benchmarks measure.
        self._headers_buffer.append(b"\r\n" + resp.body)  # type: ignore[attr-defined]
        if resp.trickle is not None:
            self._trickle(resp.trickle)
            return
        self.flush_headers()

    def _trickle(self, seconds: float) -> None:
        """The trickle fault: the whole answer one byte at a time, until stop() or a hang-up."""
        payload = b"".join(self._headers_buffer)  # type: ignore[attr-defined]
        self._headers_buffer = []  # type: ignore[attr-defined]
        stop = self.server.sim._stop
        try:
            for i in range(len(payload)):
                if stop.wait(seconds):
                    break
                self.wfile.write(payload[i:i + 1])
                self.wfile.flush()
        except OSError:
            pass  # the client gave up (its deadline): that is the point
        self.close_connection = True

    do_GET = do_POST = do_PATCH = do_DELETE = do_PUT = do_HEAD = _dispatch
