"""The simulator: one HTTPS server on 127.0.0.1 serving many simulated orgs.

Every org shares the instance URL; the bearer token picks the org, as a session id picks the org
on a real instance. The server is the stdlib ThreadingHTTPServer with TLS from a CA generated at
start, so there are no extra dependencies and latency injected with `time.sleep` in one handler
thread never blocks the others.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import re
import secrets
import shutil
import socket
import ssl
import tempfile
import threading
import time
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import orjson

from . import soap
from .data import SCHEMA, TOOLING_ONLY, OrgData, build_org_data
from .faults import HANG_SECONDS, TRICKLE_SECONDS, Fault, FaultBook
from .scenarios import API_MAX, SimOrg, make_org, scenario_set_orgs
from .soql import SoqlError, execute

__all__ = ["Simulator"]

MIN_VERSION, MAX_VERSION = 31, 66
_VERSION_RE = re.compile(r"^/services/data/v(\d{2})\.(\d)(/.*)?$")
_SOAP_RE = re.compile(r"^/services/Soap/([um])/(\d{2})\.(\d)(/.*)?$")
_REF_RE = re.compile(r"@\{([^}]+)\}")
_JSON = "application/json;charset=UTF-8"
_XML = "text/xml;charset=UTF-8"


def _err(status: int, code: str, message: str) -> tuple[int, Any]:
    return status, [{"message": message, "errorCode": code}]


INVALID_SESSION = _err(401, "INVALID_SESSION_ID", "Session expired or invalid")
LIMIT_EXCEEDED = _err(403, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.")
API_DISABLED = _err(403, "API_DISABLED_FOR_ORG",
                    "The REST API is not enabled for this Organization.")
NOT_FOUND = _err(404, "NOT_FOUND", "The requested resource does not exist")


def release_label(major: int) -> str:
    """The release name of an API version: 62 → "Winter '25"."""
    k = major - 31
    return f"{('Summer', 'Winter', 'Spring')[k % 3]} '{14 + (k + 2) // 3}"


class _Response:
    """What a handler sends: status, body bytes, content type, extra headers."""

    __slots__ = ("body", "content_type", "headers", "status", "trickle")

    def __init__(self, status: int, body: bytes, content_type: str = _JSON,
                 headers: dict[str, str] | None = None) -> None:
        self.status = status
        self.body = body
        self.content_type = content_type
        self.headers = headers or {}
        self.trickle: float | None = None  # seconds between bytes (the trickle fault)


def _json(status: int, payload: Any) -> _Response:
    return _Response(status, orjson.dumps(payload))


def _trickle_of(fault: Fault | None) -> float | None:
    if fault is None or fault.kind != "trickle":
        return None
    return fault.seconds or TRICKLE_SECONDS


@dataclass
class _Cursor:
    org_id: str
    tooling: bool
    entity: str
    records: list[dict[str, Any]]


class _Server(ThreadingHTTPServer):
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
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        """Silent: a benchmark makes thousands of requests."""

    def _dispatch(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        try:
            resp = self.server.sim._handle(self.command, self.path, self.headers, body)
        except Exception as exc:
            resp = _json(500, [{"message": f"simulator error: {exc!r}",
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


class Simulator:
    """A local Salesforce for the demo, the tests and the benchmarks.

    ``Simulator(orgs=None, *, scenario_set="demo", port=0, batch_size=2000)``; ``start()``
    returns self and the object is a context manager. See the package docstring for the API.
    """

    def __init__(self, orgs: list[SimOrg] | None = None, *, scenario_set: str = "demo",
                 port: int = 0, batch_size: int = 2000, host: str = "127.0.0.1",
                 strict: bool = True, ca_dir: str | Path | None = None) -> None:
        self.host = host
        self.port = port
        self.batch_size = batch_size
        # Strict (the default, for tests and the demo) is Salesforce's own rules: at most 5 query
        # subrequests per composite and only REST resources in /composite (tooling ones in
        # /tooling/composite; api_rest resources_composite_composite_post.htm), and a JWT `aud`
        # of exactly https://login|test.salesforce.com or the org's My Domain (OAuth JWT bearer
        # flow, remoteaccess_oauth_jwt_flow.htm). `strict=False` is for experiments only.
        self.strict = strict
        self._lock = threading.RLock()
        self._orgs: dict[str, SimOrg] = {}
        self._by_username: dict[str, str] = {}
        self._tokens: dict[str, str] = {}
        self._refresh: dict[str, str] = {}
        self._data: dict[str, OrgData] = {}
        self._requests: dict[str | None, int] = {}
        self._logins: dict[str, int] = {}
        self._usage: dict[str, int] = {}
        # Requests started since the last reset_counters() and still being handled (all orgs,
        # logins included); the epoch keeps an earlier test's hung request out of the count.
        self._epoch = 0
        self._in_flight = 0
        self._peak_in_flight = 0
        self._expiry: dict[str, list[Any]] = {}  # org -> [bound token | None, calls left]
        self._server_errors: dict[str, int] = {}
        self._cursors: OrderedDict[str, _Cursor] = OrderedDict()
        self._faults = FaultBook()
        self._stop = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._tmp: str | None = None
        # Where the CA files go: a temp dir removed by stop(), or a folder of the caller's
        # (the demo's simulator keeps its CA at a stable path that its clients trust).
        self._ca_dir = Path(ca_dir) if ca_dir is not None else None
        self.last_request_at = time.monotonic()  # the demo's simulator stops when idle
        self.now = datetime.now(UTC).replace(microsecond=0)
        self.ca_path = ""
        self.url = ""
        for org in orgs if orgs is not None else scenario_set_orgs(scenario_set):
            self.add_org(org)

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> Simulator:
        """Generate the CA, bind, and serve in a daemon thread."""
        from .ca import generate_ca

        if self._server is not None:
            return self
        self._stop.clear()
        if self._ca_dir is not None:
            self._ca_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
            files = generate_ca(self._ca_dir)
        else:
            self._tmp = tempfile.mkdtemp(prefix="juston-sim-")
            files = generate_ca(self._tmp)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(files.cert_path, files.key_path)
        self._server = _Server((self.host, self.port), self, ctx)
        self.port = self._server.server_address[1]
        self.url = f"https://{self.host}:{self.port}"
        self.ca_path = files.ca_path
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        kwargs={"poll_interval": 0.2},
                                        name="juston-simulator", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, release hanging requests, close connections, remove the CA files."""
        self._stop.set()
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.close_connections()
            server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        if self._tmp:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None

    def __enter__(self) -> Simulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def temp_dir(self) -> str | None:
        """The directory holding the CA (and anything written next to it)."""
        return str(self._ca_dir) if self._ca_dir is not None else self._tmp

    def write_credentials(self, path: str | Path | None = None) -> Path:
        """Every org's credentials as JSON (mode 0600, atomically), by default `orgs.json`
        next to the CA; returns the path. For `juston-tui simulator` and the demo."""
        target = Path(path) if path is not None else Path(self.ca_path).parent / "orgs.json"
        payload = {"instance_url": self.url, "ca_path": self.ca_path,
                   "orgs": [o.credentials() for o in self.orgs]}
        tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(orjson.dumps(payload, option=orjson.OPT_INDENT_2))
        os.replace(tmp, target)
        return target

    # ------------------------------------------------------------------ orgs
    @property
    def orgs(self) -> list[SimOrg]:
        with self._lock:
            return list(self._orgs.values())

    def org(self, org_id: str) -> SimOrg:
        with self._lock:
            for key, org in self._orgs.items():
                if key[:15] == org_id[:15]:
                    return org
        raise KeyError(org_id)

    @property
    def vendor_org(self) -> SimOrg | None:
        return next((o for o in self.orgs if o.spec.vendor), None)

    def add_org(self, org: SimOrg) -> SimOrg:
        """Register an org (its pre-issued access token and refresh token become valid)."""
        with self._lock:
            if org.org_id in self._orgs:
                raise ValueError(f"org {org.org_id} already exists")
            if org.username.lower() in self._by_username:
                raise ValueError(f"username {org.username} already exists")
            self._orgs[org.org_id] = org
            self._by_username[org.username.lower()] = org.org_id
            self._tokens[org.access_token] = org.org_id
            if org.refresh_token:
                self._refresh[org.refresh_token] = org.org_id
            self._usage[org.org_id] = org.api_usage
            if org.spec.expire_after is not None:
                self._expiry[org.org_id] = [None, org.spec.expire_after]
            # The vendor org lists every subscriber: rebuild it lazily.
            for oid, o in self._orgs.items():
                if o.spec.vendor:
                    self._data.pop(oid, None)
        return org

    def make_org(self, scenario: str, index: int, name: str | None = None) -> SimOrg:
        """Generate a deterministic org for `scenario` and add it."""
        return self.add_org(make_org(scenario, index, name))

    def data(self, org_id: str) -> OrgData:
        """The org's records (built on first use)."""
        org = self.org(org_id)
        with self._lock:
            db = self._data.get(org.org_id)
            if db is None:
                db = build_org_data(org, list(self._orgs.values()), self.now)
                self._data[org.org_id] = db
            return db

    # ------------------------------------------------------------------ faults and counters
    def set_fault(self, org_id: str, kind: str, *, count: int | None = None,
                  seconds: float | None = None, target: str | None = None) -> None:
        """Inject a fault for the org's next `count` API requests (None = until cleared).

        `trickle` and `redirect` hit the org's logins too; `target` is where `redirect` points.
        """
        self._faults.set(self.org(org_id).org_id, kind, count, seconds, target)

    def clear_faults(self, org_id: str | None = None) -> None:
        self._faults.clear(self.org(org_id).org_id if org_id else None)

    def set_latency(self, seconds: float, org_id: str | None = None) -> None:
        """Latency for every request of one org, or (None) of every org."""
        self._faults.set_latency(seconds, self.org(org_id).org_id if org_id else None)

    def request_count(self, org_id: str | None = None) -> int:
        """API round trips (REST, Tooling, composite, limits, Metadata; not logins)."""
        with self._lock:
            if org_id is None:
                return sum(self._requests.values())
            return self._requests.get(self.org(org_id).org_id, 0)

    def login_count(self, org_id: str | None = None) -> int:
        """Successful logins (token endpoint and SOAP login)."""
        with self._lock:
            if org_id is None:
                return sum(self._logins.values())
            return self._logins.get(self.org(org_id).org_id, 0)

    def api_usage(self, org_id: str) -> int:
        with self._lock:
            return self._usage[self.org(org_id).org_id]

    def peak_in_flight(self) -> int:
        """Most requests handled at the same moment, counting those started since the last
        `reset_counters()`. Tests prove parallelism with it (8 slow requests overlapping)
        instead of timing it."""
        with self._lock:
            return self._peak_in_flight

    def reset_counters(self) -> None:
        with self._lock:
            self._requests.clear()
            self._logins.clear()
            self._epoch += 1
            self._in_flight = 0
            self._peak_in_flight = 0

    def issue_token(self, org_id: str) -> str:
        """A fresh valid access token for the org (what a login would return)."""
        org = self.org(org_id)
        token = f"{org.org_id[:15]}!AQ{secrets.token_urlsafe(24)}.{secrets.token_urlsafe(45)}"
        with self._lock:
            self._tokens[token] = org.org_id
        return token

    def revoke_token(self, token: str) -> None:
        with self._lock:
            self._tokens.pop(token, None)

    # ------------------------------------------------------------------ request entry
    def _handle(self, method: str, raw_path: str, headers: Any, body: bytes) -> _Response | None:
        self.last_request_at = time.monotonic()
        with self._lock:
            epoch = self._epoch
            self._in_flight += 1
            self._peak_in_flight = max(self._peak_in_flight, self._in_flight)
        try:
            return self._dispatch(method, raw_path, headers, body)
        finally:
            with self._lock:
                if epoch == self._epoch:
                    self._in_flight -= 1

    def _dispatch(self, method: str, raw_path: str, headers: Any,
                  body: bytes) -> _Response | None:
        parts = urlsplit(raw_path)
        path = unquote(parts.path)
        query = parse_qs(parts.query, keep_blank_values=True)
        if path == "/services/oauth2/token" and method == "POST":
            return self._token_endpoint(headers, body)
        m = _SOAP_RE.match(path)
        if m and method == "POST":
            if m.group(1) == "u":
                return self._soap_login(int(m.group(2)), f"{m.group(2)}.{m.group(3)}", body)
            return self._metadata(body)
        if path in ("/services/data", "/services/data/") and method == "GET":
            return _json(200, [{"label": release_label(v), "url": f"/services/data/v{v}.0",
                                "version": f"{v}.0"} for v in range(MIN_VERSION, MAX_VERSION + 1)])
        if not path.startswith("/services/data/v") and not path.startswith("/id/"):
            return _json(*NOT_FOUND)

        org_id, token = self._authenticate(headers)
        latency = self._faults.latency(org_id)
        if latency:
            time.sleep(latency)
        with self._lock:
            self._requests[org_id] = self._requests.get(org_id, 0) + 1
        if org_id is None:
            return _json(*INVALID_SESSION)
        resp = self._serve_org(self._orgs[org_id], token, method, path, query, body)
        return None if resp is None else self._limit_headers(org_id, resp)

    def _serve_org(self, org: SimOrg, token: str, method: str, path: str,
                   query: dict[str, list[str]], body: bytes) -> _Response | None:
        """An authenticated API request: faults first, then the resource itself."""
        org_id = org.org_id
        fault = self._faults.take_error(org_id)
        malformed = False
        if fault is not None:
            if fault.kind == "hang":
                self._stop.wait(fault.seconds or HANG_SECONDS)
                if self._stop.is_set():
                    return None
                return _json(*_err(503, "SERVER_UNAVAILABLE",
                                   "The server is temporarily unavailable."))
            if fault.kind == "redirect":
                return self._redirect(fault, path, query)
            if fault.kind == "expire_session":
                return _json(*INVALID_SESSION)
            if fault.kind == "limit_exceeded":
                return _json(*LIMIT_EXCEEDED)
            if fault.kind == "server_error":
                return self._server_error(org_id)
            malformed = fault.kind == "malformed"
        trickle = _trickle_of(fault)
        resp = self._answer(org, token, method, path, query, body)
        if resp is not None and malformed:
            cut = max(1, len(resp.body) // 2)
            resp = _Response(200, resp.body[:cut] if resp.body else b'{"records": [', _JSON)
        if resp is not None:
            resp.trickle = trickle
        return resp

    def _redirect(self, fault: Fault, path: str, query: dict[str, list[str]]) -> _Response:
        """307 to another origin: the same path on `target` (default: this server as localhost)."""
        from urllib.parse import urlencode

        target = (fault.target or f"https://localhost:{self.port}").rstrip("/")
        tail = f"?{urlencode(query, doseq=True)}" if query else ""
        return _Response(307, b"", headers={"Location": f"{target}{path}{tail}"})

    def _answer(self, org: SimOrg, token: str, method: str, path: str,
                query: dict[str, list[str]], body: bytes) -> _Response | None:
        org_id = org.org_id
        if not self._check_expiry(org_id, token):
            return _json(*INVALID_SESSION)
        if org.spec.api_disabled:
            return _json(*API_DISABLED)
        with self._lock:
            self._usage[org_id] += 1
        resp: _Response
        m = _VERSION_RE.match(path)
        if path.startswith("/id/"):
            resp = self._identity(org)
        elif not m or not MIN_VERSION <= int(m.group(1)) <= MAX_VERSION:
            resp = _json(*NOT_FOUND)
        else:
            version = f"{m.group(1)}.{m.group(2)}"
            status, payload = self._route(org, method, version, m.group(3) or "/", query, body,
                                          top_level=True)
            if isinstance(payload, _Response):
                resp = payload
            else:
                resp = _Response(204, b"") if status == 204 else _json(status, payload)
        return resp

    def _limit_headers(self, org_id: str, resp: _Response) -> _Response:
        resp.headers["Sforce-Limit-Info"] = f"api-usage={self._usage[org_id]}/{API_MAX}"
        return resp

    def _authenticate(self, headers: Any) -> tuple[str | None, str]:
        auth = headers.get("Authorization") or ""
        scheme, _, token = auth.partition(" ")
        if scheme.lower() not in ("bearer", "oauth") or not token:
            return None, ""
        token = token.strip()
        with self._lock:
            return self._tokens.get(token), token

    def _check_expiry(self, org_id: str, token: str) -> bool:
        """session_expiring: the first token used dies after N calls, once per org."""
        with self._lock:
            state = self._expiry.get(org_id)
            if state is None:
                return True
            if state[0] is None:
                state[0] = token
            if state[0] != token:
                return True
            if state[1] <= 0:
                self._tokens.pop(token, None)
                del self._expiry[org_id]
                return False
            state[1] -= 1
            return True

    def _server_error(self, org_id: str) -> _Response:
        with self._lock:
            n = self._server_errors.get(org_id, 0)
            self._server_errors[org_id] = n + 1
        if n % 2 == 0:
            return _json(500, [{"message": "An unexpected error occurred. Please include this "
                                           "ErrorId if you contact support: 1627499128-70115 "
                                           "(-1138023153)", "errorCode": "UNKNOWN_EXCEPTION"}])
        html = (b"<html><head><title>Service Unavailable</title></head><body><h1>Service "
                b"Unavailable</h1><p>The server is temporarily unable to service your request "
                b"due to maintenance downtime or capacity problems.</p></body></html>")
        return _Response(503, html, "text/html;charset=UTF-8")

    # ------------------------------------------------------------------ REST routing
    def _route(self, org: SimOrg, method: str, version: str, rest: str,
               query: dict[str, list[str]], body: bytes, top_level: bool
               ) -> tuple[int, Any]:
        """Serve one REST/Tooling resource below /services/data/vXX.X (composite re-enters)."""
        tooling = False
        if rest.startswith("/tooling/") or rest == "/tooling":
            tooling = True
            rest = rest[len("/tooling"):] or "/"
        segs = [s for s in rest.split("/") if s]
        base = f"/services/data/v{version}/" + ("tooling/" if tooling else "")
        if not segs:
            if method != "GET":
                return NOT_FOUND
            names = ["tooling", "metadata", "eclair", "folders", "prechatForms", "jsonxform",
                     "chatter", "tabs", "appMenu", "quickActions", "queryAll", "commerce",
                     "wave", "analytics", "search", "identity", "composite", "parameterizedSearch",
                     "theme", "nouns", "event", "serviceTemplates", "recent", "connect",
                     "licensing",
                     "limits", "process", "async-queries", "query", "match", "emailConnect",
                     "compactLayouts", "knowledgeManagement", "sobjects", "actions", "support"]
            return 200, {n: f"/services/data/v{version}/{n}" for n in names}
        head = segs[0]
        if head in ("query", "queryAll") and method == "GET":
            if len(segs) == 1:
                q = (query.get("q") or [""])[0]
                if not q:
                    return _err(400, "MALFORMED_QUERY", "A query string has to be specified")
                return self._query(org, q, version, tooling)
            if len(segs) == 2:
                return self._query_more(org, segs[1], version, tooling)
        if head == "composite" and len(segs) == 1 and method == "POST":
            if not top_level:
                return _err(400, "INVALID_OPERATION", "Composite can't be nested")
            return self._composite(org, version, tooling, body)
        if head == "limits" and len(segs) == 1 and method == "GET" and not tooling:
            return 200, self._limits(org)
        if head == "sobjects":
            return self._sobjects(org, method, version, tooling, segs[1:], body, base)
        return NOT_FOUND

    def _query(self, org: SimOrg, q: str, version: str, tooling: bool) -> tuple[int, Any]:
        db = self.data(org.org_id)
        prefix = f"/services/data/v{version}/" + ("tooling/" if tooling else "")
        view = _ApiView(db, tooling)
        try:
            result = execute(view, q, url_prefix=prefix, today=self.now.date())
        except SoqlError as exc:
            return _err(400, exc.code, exc.format(q))
        records = result.records
        total = result.total_size
        locator: str | None = None
        page = records
        if len(records) > self.batch_size:
            locator = "01g" + secrets.token_hex(8)[:12].upper() + "AAA"
            with self._lock:
                self._cursors[locator] = _Cursor(org.org_id, tooling, result.object_name, records)
                while len(self._cursors) > 10000:
                    self._cursors.popitem(last=False)
            page = records[: self.batch_size]
        return 200, self._envelope(page, total, version, tooling, result.object_name, locator,
                                   len(page))

    def _envelope(self, page: list[dict[str, Any]], total: int, version: str, tooling: bool,
                  entity: str, locator: str | None, next_offset: int) -> dict[str, Any]:
        done = locator is None
        nxt = None
        if not done:
            nxt = (f"/services/data/v{version}/" + ("tooling/" if tooling else "")
                   + f"query/{locator}-{next_offset}")
        if tooling:
            env: dict[str, Any] = {"size": len(page), "totalSize": total, "done": done}
            if nxt:
                env["nextRecordsUrl"] = nxt
            env["queryLocator"] = None if done else f"{locator}-{next_offset}"
            env["entityTypeName"] = entity
            env["records"] = page
            return env
        env = {"totalSize": total, "done": done}
        if nxt:
            env["nextRecordsUrl"] = nxt
        env["records"] = page
        return env

    def _query_more(self, org: SimOrg, ident: str, version: str, tooling: bool
                    ) -> tuple[int, Any]:
        locator, _, offset_s = ident.partition("-")
        with self._lock:
            cursor = self._cursors.get(locator)
        if cursor is None or cursor.org_id != org.org_id or not offset_s.isdigit():
            return _err(400, "INVALID_QUERY_LOCATOR", "invalid query locator")
        offset = int(offset_s)
        page = cursor.records[offset : offset + self.batch_size]
        end = offset + len(page)
        more = end < len(cursor.records)
        if not more:
            with self._lock:
                self._cursors.pop(locator, None)
        return 200, self._envelope(page, len(cursor.records), version, cursor.tooling,
                                   cursor.entity, locator if more else None, end)

    def _composite(self, org: SimOrg, version: str, tooling: bool, body: bytes
                   ) -> tuple[int, Any]:
        try:
            req = orjson.loads(body or b"null")
        except orjson.JSONDecodeError:
            return _err(400, "JSON_PARSER_ERROR", "Unexpected character: was expecting a value")
        subs = req.get("compositeRequest") if isinstance(req, dict) else None
        if not isinstance(subs, list) or not subs:
            return _err(400, "INVALID_INPUT", "compositeRequest is required")
        if len(subs) > 25:
            return 400, {"compositeResponse": [{
                "body": [{"errorCode": "LIMIT_EXCEEDED",
                          "message": "The request can\u2019t contain more than 25 operations."}],
                "httpHeaders": {}, "httpStatusCode": 400, "referenceId": None}]}
        all_or_none = bool(req.get("allOrNone"))
        results: list[dict[str, Any]] = []
        bodies: dict[str, Any] = {}
        failed = False
        queries = 0
        for sub in subs:
            ref = sub.get("referenceId")
            if failed and all_or_none:
                results.append({"body": [{"errorCode": "PROCESSING_HALTED", "message":
                                          "The transaction was rolled back since another "
                                          "operation in the same transaction failed."}],
                                "httpHeaders": {}, "httpStatusCode": 400, "referenceId": ref})
                continue
            status, payload = self._composite_sub(org, version, tooling, sub, bodies)
            if isinstance(status, int) and status < 300 and "/query" in str(sub.get("url", "")):
                queries += 1
                if self.strict and queries > 5:
                    status, payload = _err(400, "LIMIT_EXCEEDED",
                                           "Composite requests allow at most 5 queries.")
            if status >= 300:
                failed = True
            elif ref:
                bodies[ref] = payload
            results.append({"body": payload, "httpHeaders": {}, "httpStatusCode": status,
                            "referenceId": ref})
        if failed and all_or_none:
            for item in results:
                if item["httpStatusCode"] < 300:
                    item.update(httpStatusCode=400, body=[{
                        "errorCode": "PROCESSING_HALTED", "message":
                        "The transaction was rolled back since another operation in the same "
                        "transaction failed."}])
        return 200, {"compositeResponse": results}

    def _composite_sub(self, org: SimOrg, version: str, tooling: bool, sub: dict[str, Any],
                       bodies: dict[str, Any]) -> tuple[int, Any]:
        url = str(sub.get("url") or "")
        method = str(sub.get("method") or "")
        try:
            url = _REF_RE.sub(lambda m: str(_resolve_ref(m.group(1), bodies)), url)
        except LookupError as exc:
            return _err(400, "PROCESSING_HALTED", f"Invalid reference specified. No value for "
                        f"{exc.args[0]} found. Provided referenceId ids are case-sensitive.")
        parts = urlsplit(url)
        m = _VERSION_RE.match(unquote(parts.path))
        if not m or not method:
            return _err(400, "INVALID_INPUT", f"invalid subrequest url or method: {url}")
        rest = m.group(3) or "/"
        if self.strict and rest.startswith("/tooling") != tooling:
            return NOT_FOUND
        sub_body = orjson.dumps(sub["body"]) if sub.get("body") is not None else b""
        status, payload = self._route(org, method, f"{m.group(1)}.{m.group(2)}", rest,
                                      parse_qs(parts.query, keep_blank_values=True), sub_body,
                                      top_level=False)
        if isinstance(payload, _Response):
            payload = orjson.loads(payload.body) if payload.body else None
        return status, payload

    def _limits(self, org: SimOrg) -> dict[str, Any]:
        used = self._usage[org.org_id]

        def lim(mx: int, rem: int) -> dict[str, int]:
            return {"Max": mx, "Remaining": rem}

        return {
            "ConcurrentAsyncGetReportInstances": lim(200, 200),
            "ConcurrentSyncReportRuns": lim(20, 20),
            "DailyApiRequests": lim(API_MAX, max(0, API_MAX - used)),
            "DailyAsyncApexExecutions": lim(250000, 250000),
            "DailyBulkApiBatches": lim(15000, 15000),
            "DailyBulkV2QueryJobs": lim(10000, 10000),
            "DailyStreamingApiEvents": lim(1000000, 1000000),
            "DataStorageMB": lim(1024, 987),
            "FileStorageMB": lim(10240, 10100),
            "HourlyODataCallout": lim(20000, 20000),
            "SingleEmail": lim(5000, 5000),
        }

    def _sobjects(self, org: SimOrg, method: str, version: str, tooling: bool, segs: list[str],
                  body: bytes, base: str) -> tuple[int, Any]:
        view = _ApiView(self.data(org.org_id), tooling)
        if not segs:
            if method != "GET":
                return NOT_FOUND
            return 200, {"encoding": "UTF-8", "maxBatchSize": 200, "sobjects": [
                _describe_brief(view.schema_names[n], base) for n in sorted(view.schema_names)]}
        schema = view.schema(segs[0])
        if schema is None:
            return NOT_FOUND
        obj = schema.name
        if len(segs) == 1:
            if method == "GET":
                return 200, {"objectDescribe": _describe_brief(obj, base), "recentItems": []}
            if method == "POST":
                return self._create(org, view, obj, body)
            return _err(405, "METHOD_NOT_ALLOWED", f"HTTP Method '{method}' not allowed. "
                        "Allowed are GET,POST")
        if len(segs) == 2 and segs[1] == "describe" and method == "GET":
            return 200, _describe(obj, base)
        if len(segs) == 2:
            record = view.get(obj, segs[1])
            if record is None:
                return NOT_FOUND
            if method == "GET":
                out = {"attributes": {"type": obj, "url": f"{base}sobjects/{obj}/{record['Id']}"}}
                out.update(record)
                return 200, out
            if method == "PATCH":
                return self._update(org, obj, record, body)
            if method == "DELETE":
                with self._lock:
                    view.db.tables[obj].remove(record)
                return 204, None
        return NOT_FOUND

    def _fields_check(self, obj: str, values: Any) -> tuple[int, Any] | None:
        if not isinstance(values, dict):
            return _err(400, "JSON_PARSER_ERROR", "The request body must be a JSON object")
        fields = SCHEMA[obj].fields
        for key in values:
            if key == "attributes":
                continue
            if key.lower() not in fields:
                return _err(400, "INVALID_FIELD",
                            f"No such column '{key}' on sobject of type {obj}")
        return None

    def _create(self, org: SimOrg, view: _ApiView, obj: str, body: bytes) -> tuple[int, Any]:
        from .ids import make_id

        try:
            values = orjson.loads(body or b"null")
        except orjson.JSONDecodeError:
            return _err(400, "JSON_PARSER_ERROR", "Unexpected character")
        bad = self._fields_check(obj, values)
        if bad:
            return bad
        fields = SCHEMA[obj].fields
        rec = {fields[k.lower()][0]: v for k, v in values.items() if k != "attributes"}
        prefix = {"PackagePushRequest": "0DV", "PackagePushJob": "0DX"}.get(obj, "a0X")
        rec["Id"] = make_id(prefix, f"{org.org_id}|new|{secrets.token_hex(8)}")
        if obj in ("PackagePushRequest", "PackagePushJob"):
            rec.setdefault("Status", "Created")
        with self._lock:
            view.db.add(obj, rec, datetime.now(UTC))
        return 201, {"id": rec["Id"], "success": True, "errors": []}

    def _update(self, org: SimOrg, obj: str, record: dict[str, Any], body: bytes
                ) -> tuple[int, Any]:
        try:
            values = orjson.loads(body or b"null")
        except orjson.JSONDecodeError:
            return _err(400, "JSON_PARSER_ERROR", "Unexpected character")
        bad = self._fields_check(obj, values)
        if bad:
            return bad
        fields = SCHEMA[obj].fields
        with self._lock:
            for k, v in values.items():
                if k != "attributes":
                    record[fields[k.lower()][0]] = v
        return 204, None

    def _identity(self, org: SimOrg) -> _Response:
        return _json(200, {
            "id": f"{self.url}/id/{org.org_id}/{org.user_id}", "organization_id": org.org_id,
            "user_id": org.user_id, "username": org.username, "display_name": "Admin Sim",
            "active": True, "user_type": "STANDARD", "language": "de", "locale": "de_DE",
            "urls": {"rest": f"{self.url}/services/data/v{{version}}/",
                     "query": f"{self.url}/services/data/v{{version}}/query/"}})

    # ------------------------------------------------------------------ OAuth and SOAP login
    def _login_ok(self, org: SimOrg, sandbox_hint: bool = False) -> str:
        token = self.issue_token(org.org_id)
        with self._lock:
            self._logins[org.org_id] = self._logins.get(org.org_id, 0) + 1
        return token

    def _token_endpoint(self, headers: Any, body: bytes) -> _Response:
        form = {k: v[0] for k, v in parse_qs(body.decode("utf-8", "replace")).items()}
        grant = form.get("grant_type", "")
        org: SimOrg | None = None
        if grant == "urn:ietf:params:oauth:grant-type:jwt-bearer":
            org, error = self._jwt_org(form.get("assertion", ""))
        elif grant == "client_credentials":
            key, secret = form.get("client_id", ""), form.get("client_secret", "")
            auth = headers.get("Authorization") or ""
            if auth.lower().startswith("basic "):
                try:
                    key, _, secret = base64.b64decode(auth[6:]).decode().partition(":")
                except (binascii.Error, UnicodeDecodeError):
                    key = secret = ""
            org = next((o for o in self.orgs if o.consumer_key == key
                        and hmac.compare_digest(o.consumer_secret, secret)), None)
            error = None if org else ("invalid_client", "invalid client credentials")
        elif grant == "password":
            org = self._find_user(form.get("username", ""))
            if org is not None and org.consumer_key != form.get("client_id"):
                return self._oauth_error("invalid_client_id", "client identifier invalid", org)
            if org is not None and org.consumer_secret != form.get("client_secret"):
                return self._oauth_error("invalid_client", "invalid client credentials", org)
            pw = form.get("password", "")
            if org is None or pw not in (org.password, org.password + org.security_token):
                org, error = None, ("invalid_grant", "authentication failure")
            else:
                error = None
        elif grant == "refresh_token":
            with self._lock:
                oid = self._refresh.get(form.get("refresh_token", ""))
            org = self._orgs.get(oid) if oid else None
            if org is not None and form.get("client_id") not in (None, org.consumer_key):
                org = None
            error = None if org else ("invalid_grant", "expired access/refresh token")
        else:
            return self._oauth_error("unsupported_grant_type", "grant type not supported")
        if org is None:
            assert error is not None
            return self._oauth_error(*error)
        latency = self._faults.latency(org.org_id)
        if latency:
            time.sleep(latency)
        fault = self._faults.take_login(org.org_id)
        if fault is not None and fault.kind == "redirect":
            return self._redirect(fault, "/services/oauth2/token", {})
        token = self._login_ok(org)
        issued = str(int(time.time() * 1000))
        ident = f"{self.url}/id/{org.org_id}/{org.user_id}"
        sig = base64.b64encode(hmac.new(org.consumer_secret.encode(), (ident + issued).encode(),
                                        hashlib.sha256).digest()).decode()
        resp = _json(200, {"access_token": token, "instance_url": self.url, "id": ident,
                           "token_type": "Bearer", "issued_at": issued, "signature": sig,
                           "scope": "api"})
        resp.trickle = _trickle_of(fault)
        return resp

    def _oauth_error(self, code: str, description: str, org: SimOrg | None = None) -> _Response:
        return _json(400, {"error": code, "error_description": description})

    def _find_user(self, username: str) -> SimOrg | None:
        with self._lock:
            oid = self._by_username.get(username.strip().lower())
            return self._orgs.get(oid) if oid else None

    def _jwt_org(self, assertion: str) -> tuple[SimOrg | None, tuple[str, str] | None]:
        import jwt

        try:
            claims = jwt.decode(assertion, options={"verify_signature": False})
        except jwt.PyJWTError:
            return None, ("invalid_grant", "invalid assertion")
        org = self._find_user(str(claims.get("sub", "")))
        if org is None:
            return None, ("invalid_grant", "user hasn't approved this consumer")
        if claims.get("iss") != org.consumer_key:
            return None, ("invalid_grant", "invalid client identifier")
        audiences = ["https://login.salesforce.com", "https://test.salesforce.com",
                     f"https://{org.my_domain}.salesforce.com"]
        if not self.strict:
            audiences.append(self.url)
        from cryptography.hazmat.primitives import serialization

        public = serialization.load_pem_private_key(org.private_key_pem.encode(),
                                                    None).public_key()
        try:
            jwt.decode(assertion, public, algorithms=["RS256"], audience=audiences,  # type: ignore[arg-type]
                       options={"require": ["exp", "iss", "sub", "aud"]}, leeway=5)
        except jwt.ExpiredSignatureError:
            return None, ("invalid_grant", "expired authorization code")
        except jwt.InvalidAudienceError:
            return None, ("invalid_grant", "audience is invalid")
        except jwt.PyJWTError:
            return None, ("invalid_grant", "invalid assertion")
        return org, None

    def _soap_login(self, major: int, version: str, body: bytes) -> _Response:
        if major >= 65:
            # SOAP login() is gone from API 65.0 on (Help 005132110); the fault Salesforce sends
            # is INVALID_OPERATION with this text (reported in forcedotcom/wsc#363).
            return _Response(500, soap.api_fault(
                "INVALID_OPERATION", f"The SOAP Login operation is not available in the API "
                f"version specified ({version}). Refer to the documentation for supported "
                "versions."), _XML)
        try:
            op, fields, headers = soap.parse_envelope(body)
        except ValueError:
            return _Response(500, soap.login_fault("INVALID_LOGIN", "Invalid request"), _XML)
        if op != "login":
            return _Response(500, soap.login_fault("INVALID_OPERATION",
                                                   f"Unsupported operation {op}"), _XML)
        org = self._find_user((fields.get("username") or [""])[0])
        pw = (fields.get("password") or [""])[0]
        ok = org is not None and (
            pw == org.password + org.security_token
            or (pw == org.password and headers.get("organizationId", "")[:15] == org.org_id[:15]))
        if not ok or org is None:
            return _Response(500, soap.login_fault(), _XML)
        latency = self._faults.latency(org.org_id)
        if latency:
            time.sleep(latency)
        token = self._login_ok(org)
        return _Response(200, soap.login_response(
            server_url=f"{self.url}/services/Soap/u/{version}/{org.org_id[:15]}",
            metadata_url=f"{self.url}/services/Soap/m/{version}/{org.org_id[:15]}",
            session_id=token, user_id=org.user_id, org_id=org.org_id, org_name=org.name,
            username=org.username, sandbox=org.kind == "sandbox"), _XML)

    def _metadata(self, body: bytes) -> _Response | None:
        try:
            op, fields, headers = soap.parse_envelope(body)
        except ValueError:
            return _Response(500, soap.metadata_fault("INVALID_XML", "Invalid SOAP request"),
                             _XML)
        with self._lock:
            org_id = self._tokens.get(headers.get("sessionId", ""))
        latency = self._faults.latency(org_id)
        if latency:
            time.sleep(latency)
        with self._lock:
            self._requests[org_id] = self._requests.get(org_id, 0) + 1
        if org_id is None:
            return _Response(500, soap.metadata_fault(
                "INVALID_SESSION_ID", "Invalid Session ID found in SessionHeader: Illegal "
                "Session. Session not found, missing session hash"), _XML)
        org = self._orgs[org_id]
        if org.spec.api_disabled:
            return _Response(500, soap.metadata_fault(
                "API_DISABLED_FOR_ORG", "API is not enabled for this Organization or Partner"),
                _XML)
        with self._lock:
            self._usage[org_id] += 1
        if op != "readMetadata":
            return self._limit_headers(org_id, _Response(500, soap.metadata_fault(
                "INVALID_OPERATION", f"The simulator does not implement {op}"), _XML))
        type_name = (fields.get("type") or [""])[0]
        names = fields.get("fullNames") or []
        records: list[dict[str, Any]] = []
        if type_name == "MobileSettings":
            for name in names:
                if name == "Mobile":
                    records.append({"fullName": "Mobile",
                                    "enableImportContactFromDevice": False,
                                    "enableLightningOnMobile": True,
                                    "enableS1EncryptedStoragePref2": org.mobile_caching,
                                    "enableS1OfflinePref": True})
        return self._limit_headers(org_id, _Response(200, soap.read_metadata_response(
            type_name, records), _XML))


class _ApiView:
    """An org's data as one API (REST or Tooling) sees it: tooling-only objects hidden on REST."""

    def __init__(self, db: OrgData, tooling: bool) -> None:
        self.db = db
        self.tooling = tooling
        self.schema_names = {n: n for n in db.objects
                             if (tooling or n not in TOOLING_ONLY) and n not in db.hidden}

    def schema(self, name: str) -> Any:
        s = self.db.schema(name)
        if s is None or (not self.tooling and s.name in TOOLING_ONLY) or s.name in self.db.hidden:
            return None
        return s

    def rows(self, name: str) -> list[dict[str, Any]]:
        return self.db.rows(name)

    def get(self, name: str, record_id: str) -> dict[str, Any] | None:
        return self.db.get(name, record_id)


def _resolve_ref(expr: str, bodies: dict[str, Any]) -> Any:
    """Resolve a composite reference like ``app.records[0].Id``."""
    tokens = re.findall(r"[^.\[\]]+|\[\d+\]", expr)
    if not tokens or tokens[0] not in bodies:
        raise LookupError(expr)
    value: Any = bodies[tokens[0]]
    for tok in tokens[1:]:
        try:
            value = value[int(tok[1:-1])] if tok.startswith("[") else value[tok]
        except (KeyError, IndexError, TypeError):
            raise LookupError(expr) from None
    if value is None:
        raise LookupError(expr)
    return value


def _describe_brief(obj: str, base: str) -> dict[str, Any]:
    return {"name": obj, "label": obj.replace("ONB2__", "").replace("__c", ""),
            "custom": obj.endswith("__c"), "queryable": True, "createable": True,
            "keyPrefix": None, "urls": {"sobject": f"{base}sobjects/{obj}",
                                        "describe": f"{base}sobjects/{obj}/describe"}}


def _describe(obj: str, base: str) -> dict[str, Any]:
    schema = SCHEMA[obj]
    out = _describe_brief(obj, base)
    fields: Iterable[tuple[str, str]] = schema.fields.values()
    out["fields"] = [{"name": name, "label": name.replace("ONB2__", "").replace("__c", ""),
                      "type": ftype, "custom": name.endswith("__c"), "nillable": name != "Id",
                      "permissionable": name.endswith("__c")} for name, ftype in fields]
    out["childRelationships"] = [{"relationshipName": n, "childSObject": c, "field": f}
                                 for n, c, f in schema.children.values()]
    return out
