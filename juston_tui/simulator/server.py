"""The simulator's control facade: one HTTPS server on 127.0.0.1 serving many simulated orgs.

Every org shares the instance URL; the bearer token picks the org, as a session id picks the org
on a real instance. This module holds what a test or the demo controls (lifecycle, orgs,
sessions, faults, counters) and the entry of every request; each API answers in a module of its
own: oauth.py (token endpoint), soap.py (SOAP login, Metadata), rest.py (query, queryMore,
sobjects, limits, identity), tooling.py, composite.py, vendor.py (the packaging org's objects).
The HTTPS plumbing is transport.py.

The route modules use the methods under "for the route modules" below, never the private
state. Time is the simulator's clock (clock.py): manual in tests (`advance`), wall time in the
demo; the packaging org's push upgrades (push.py, vendor.py) move with it.
"""

from __future__ import annotations

import os
import secrets
import shutil
import ssl
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import orjson

from . import data as simdata
from . import oauth, rest, soap
from .clock import SimClock
from .data import OrgData, build_org_data, released_versions
from .faults import HANG_SECONDS, Fault, FaultBook
from .push import DEMO_WAVES, PushEngine
from .rest import Cursors
from .scenarios import API_MAX, SimOrg, Version, make_org, make_org_id, scenario_set_orgs
from .transport import (
    API_DISABLED,
    INVALID_SESSION,
    JSON,
    LIMIT_EXCEEDED,
    NOT_FOUND,
    Response,
    Server,
    err,
    json_response,
    redirect,
    trickle_of,
)

__all__ = ["Simulator"]


class Simulator:
    """A local Salesforce for the demo, the tests and the benchmarks.

    ``Simulator(orgs=None, *, scenario_set="demo", port=0, batch_size=2000, clock=None)``;
    ``start()`` returns self and the object is a context manager. See the package docstring
    for the API. Without `clock` time stands still (a manual SimClock) until `advance()`.
    """

    def __init__(self, orgs: list[SimOrg] | None = None, *, scenario_set: str = "demo",
                 port: int = 0, batch_size: int = 2000, host: str = "127.0.0.1",
                 strict: bool = True, ca_dir: str | Path | None = None,
                 clock: SimClock | None = None) -> None:
        self.host = host
        self.port = port
        self.batch_size = batch_size
        # Strict (the default, for tests and the demo) is Salesforce's own rules: at most 5 query
        # subrequests per composite and only REST resources in /composite (tooling ones in
        # /tooling/composite; api_rest resources_composite_composite_post.htm), and a JWT `aud`
        # of exactly https://login|test.salesforce.com or the org's My Domain (OAuth JWT bearer
        # flow, remoteaccess_oauth_jwt_flow.htm). `strict=False` is for experiments only.
        self.strict = strict
        self.lock = threading.RLock()
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
        self.cursors = Cursors()
        self._faults = FaultBook()
        self._stop = threading.Event()
        self._server: Server | None = None
        self._thread: threading.Thread | None = None
        self._tmp: str | None = None
        # Where the CA files go: a temp dir removed by stop(), or a folder of the caller's
        # (the demo's simulator keeps its CA at a stable path that its clients trust).
        self._ca_dir = Path(ca_dir) if ca_dir is not None else None
        self.last_request_at = time.monotonic()  # the demo's simulator stops when idle
        self.clock = clock or SimClock()
        self._vendor_id: str | None = None
        self.push = PushEngine(self)
        # Whether a failed composite/tree answer lists every failing record or only the first
        # (Salesforce's documentation does not say: composite.py).
        self.tree_errors = "all"
        self._tree_glitches = 0
        # Called (outside the lock) after the push API or the clock changed a push: the demo's
        # daemon saves push_state() there.
        self.on_push_change: Callable[[], None] | None = None
        self.ca_path = ""
        self.url = ""
        for org in orgs if orgs is not None else scenario_set_orgs(scenario_set):
            self.add_org(org)

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> Simulator:
        """Generate the CA, bind, and serve in a daemon thread."""
        # cryptography: ~0.13 s to import, only when a simulator starts
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
        self._server = Server((self.host, self.port), self, ctx)
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
        with self.lock:
            return list(self._orgs.values())

    def org(self, org_id: str) -> SimOrg:
        """The org with this id (15 or 18 characters); KeyError if there is none."""
        with self.lock:
            found = self._orgs.get(org_id)
            if found is not None:
                return found
            for key, org in self._orgs.items():
                if key[:15] == org_id[:15]:
                    return org
        raise KeyError(org_id)

    @property
    def vendor_org(self) -> SimOrg | None:
        with self.lock:
            return self._orgs.get(self._vendor_id) if self._vendor_id else None

    def add_org(self, org: SimOrg) -> SimOrg:
        """Register an org (its pre-issued access token and refresh token become valid)."""
        with self.lock:
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
            if org.spec.vendor and self._vendor_id is None:
                self._vendor_id = org.org_id
            # The vendor org lists every subscriber: its rows join the records if built.
            vendor = self.built_data(self._vendor_id) if self._vendor_id else None
            if vendor is not None:
                for row in simdata.add_subscriber_rows(vendor, self._vendor_id or "", org):
                    self.push.index_subscriber(row)
        return org

    def make_org(self, scenario: str, index: int, name: str | None = None) -> SimOrg:
        """Generate a deterministic org for `scenario` and add it."""
        return self.add_org(make_org(scenario, index, name))

    def built_data(self, org_id: str) -> OrgData | None:
        """The org's records if they have been built (None: not yet used)."""
        with self.lock:
            return self._data.get(self.org(org_id).org_id)

    def data(self, org_id: str) -> OrgData:
        """The org's records (built on first use)."""
        org = self.org(org_id)
        with self.lock:
            db = self._data.get(org.org_id)
            if db is None:
                db = build_org_data(org, list(self._orgs.values()), self.now)
                self._data[org.org_id] = db
            return db

    # ------------------------------------------------------------------ time
    @property
    def now(self) -> datetime:
        """The simulator's time (its clock): record dates, SOQL's TODAY, push upgrades."""
        return self.clock.now()

    def advance(self, delta: timedelta) -> datetime:
        """Move the clock forward and everything that runs on it (push upgrades start, run,
        end, upgrade their subscribers); returns the new now."""
        self.clock.advance(delta)
        self.tick()
        return self.now

    def tick(self) -> bool:
        """Bring the push upgrades up to now (the facade does it on every request; the demo's
        daemon also every second); True when something changed."""
        with self.lock:
            changed = self.push.tick(self.now)
        self._push_changed(changed)
        return changed

    def _push_changed(self, changed: bool = False) -> None:
        with self.lock:
            changed = changed or self.push.dirty
            self.push.dirty = False
        if changed and self.on_push_change is not None:
            self.on_push_change()

    # ------------------------------------------------------------------ the packaging org
    def set_push_outcome(self, org_id: str, error_type: str | None) -> None:
        """Script how the next push jobs of an org end: an ErrorType of push.FAILURES
        (ApexTestFailure, DeployError, LimitExceeded, ...) or None (it succeeds)."""
        with self.lock:
            self.push.set_outcome(org_id, error_type)

    def block_pushes(self, org_id: str, namespace: str = "ONB2", blocked: bool = True) -> None:
        """The subscriber blocks (or no longer blocks) push upgrades of the package."""
        with self.lock:
            row = self.push.subscriber(simdata.package_id(namespace), org_id)
            vendor = self.vendor_org
            if row is None or vendor is None:
                raise KeyError(f"{org_id} is not a subscriber of {namespace}")
            simdata.set_blocked(self.data(vendor.org_id), vendor.org_id, row, blocked)

    def add_subscriber(self, org_id: str | None = None, *, name: str | None = None,
                       namespace: str = "ONB2", version: Version | str | None = None,
                       kind: str = "production", status: str = "Active",
                       installed: bool = True, beta: bool = False) -> str:
        """A subscriber of the packaging org without an org of its own here (benches: 5,000 of
        them; tests: an inactive or uninstalled one). Default version: the release before the
        current one. Returns its org id (OrgKey)."""
        vendor = self.vendor_org
        if vendor is None:
            raise KeyError("this simulator has no vendor org")
        if isinstance(version, str):
            version = Version.parse(version)
        with self.lock:
            db = self.data(vendor.org_id)
            key = org_id or make_org_id(f"subscriber|{len(db.rows('PackageSubscriber'))}")
            row = simdata.add_subscriber(
                db, vendor.org_id, namespace, key, name or f"Subscriber {key[-8:]}",
                "Sandbox" if kind == "sandbox" else "Production",
                version or released_versions(namespace)[-2], status=status,
                installed="i" if installed else "u", beta=beta)
            self.push.index_subscriber(row)
        return key

    def glitch_tree_inserts(self, count: int = 1) -> None:
        """The next `count` composite/tree requests fail as Salesforce sometimes does
        (UNKNOWN_EXCEPTION "Something bad has happened"), inserting nothing."""
        with self.lock:
            self._tree_glitches = max(0, count)

    def take_tree_glitch(self) -> bool:
        """For composite.py: should this composite/tree request fail that way?"""
        with self.lock:
            if self._tree_glitches <= 0:
                return False
            self._tree_glitches -= 1
            return True

    def seed_demo_push(self) -> list[str]:
        """The demo's push mid-flight (its daemon, on a first start): ONB2's current release
        pushed to the orgs registered for push upgrades in two waves. Wave 1 (the sandboxes
        with a push ticket and the orgs whose last push failed, which fail again) ran a week
        ago; wave 2 (the other production orgs) started 25 minutes ago and runs for hours.
        Returns the two request ids (push.DEMO_WAVES)."""
        vendor = self.vendor_org
        if vendor is None:
            return []
        now = self.now
        orgs = [o for o in self.orgs if not o.spec.vendor and o.extra.get("push") ==
                "registered" and (o.kind == "production" or o.extra.get("sandbox_ticket"))]
        first = [o for o in orgs if o.kind == "sandbox" or o.extra.get("last_push_failed")]
        second = [o for o in orgs if o not in first] or first[-1:]
        first = [o for o in first if o not in second]
        target = simdata.version_id("ONB2", released_versions("ONB2")[-1])
        week_ago = (now - timedelta(days=8)).replace(minute=0, second=0, microsecond=0)
        with self.lock:
            ids = [
                self.push.seed_request(DEMO_WAVES[0], target, week_ago, now, [
                    (o.org_id, "ApexTestFailure" if o.extra.get("last_push_failed") else None)
                    for o in first]),
                self.push.seed_request(DEMO_WAVES[1], target,
                                       now - timedelta(minutes=25), now,
                                       [(o.org_id, None) for o in second],
                                       runs_until=now + timedelta(hours=3)),
            ]
        self._push_changed()
        return ids

    def push_state(self) -> dict[str, Any]:
        """What the push API created or changed (requests, jobs, errors, upgraded versions),
        JSON-ready; restore_push_state() puts it back after a restart."""
        with self.lock:
            return self.push.export_state()

    def restore_push_state(self, doc: Any) -> None:
        """Put a push_state() back; ValueError (nothing changed) if it does not fit."""
        with self.lock:
            self.push.import_state(doc)

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
        with self.lock:
            if org_id is None:
                return sum(self._requests.values())
            return self._requests.get(self.org(org_id).org_id, 0)

    def login_count(self, org_id: str | None = None) -> int:
        """Successful logins (token endpoint and SOAP login)."""
        with self.lock:
            if org_id is None:
                return sum(self._logins.values())
            return self._logins.get(self.org(org_id).org_id, 0)

    def api_usage(self, org_id: str) -> int:
        with self.lock:
            return self._usage[self.org(org_id).org_id]

    def peak_in_flight(self) -> int:
        """Most requests handled at the same moment, counting those started since the last
        `reset_counters()`. Tests prove parallelism with it (8 slow requests overlapping)
        instead of timing it."""
        with self.lock:
            return self._peak_in_flight

    def reset_counters(self) -> None:
        with self.lock:
            self._requests.clear()
            self._logins.clear()
            self._epoch += 1
            self._in_flight = 0
            self._peak_in_flight = 0

    # ------------------------------------------------------------------ sessions
    def issue_token(self, org_id: str) -> str:
        """A fresh valid access token for the org (what a login would return)."""
        org = self.org(org_id)
        token = f"{org.org_id[:15]}!AQ{secrets.token_urlsafe(24)}.{secrets.token_urlsafe(45)}"
        with self.lock:
            self._tokens[token] = org.org_id
        return token

    def revoke_token(self, token: str) -> None:
        with self.lock:
            self._tokens.pop(token, None)

    # ------------------------------------------------------------------ for the route modules
    def find_user(self, username: str) -> SimOrg | None:
        """The org whose API user has this username (case-insensitive)."""
        with self.lock:
            oid = self._by_username.get(username.strip().lower())
            return self._orgs.get(oid) if oid else None

    def org_for_token(self, token: str) -> str | None:
        """The org id a session id (access token) belongs to."""
        with self.lock:
            return self._tokens.get(token)

    def org_for_refresh_token(self, token: str) -> SimOrg | None:
        with self.lock:
            oid = self._refresh.get(token)
            return self._orgs.get(oid) if oid else None

    def login_ok(self, org: SimOrg) -> str:
        """A successful login: a new session, counted."""
        token = self.issue_token(org.org_id)
        with self.lock:
            self._logins[org.org_id] = self._logins.get(org.org_id, 0) + 1
        return token

    def sleep_latency(self, org_id: str | None) -> None:
        """Wait the injected latency of this org (all orgs' when None)."""
        latency = self._faults.latency(org_id)
        if latency:
            time.sleep(latency)

    def take_login_fault(self, org_id: str) -> Fault | None:
        return self._faults.take_login(org_id)

    def count_request(self, org_id: str | None) -> None:
        """One API round trip (None: with a session no org has)."""
        with self.lock:
            self._requests[org_id] = self._requests.get(org_id, 0) + 1

    def count_api_use(self, org_id: str) -> None:
        """One call against the org's daily API requests (Sforce-Limit-Info, limits/)."""
        with self.lock:
            self._usage[org_id] += 1

    def limit_headers(self, org_id: str, resp: Response) -> Response:
        resp.headers["Sforce-Limit-Info"] = f"api-usage={self._usage[org_id]}/{API_MAX}"
        return resp

    # ------------------------------------------------------------------ request entry
    def _handle(self, method: str, raw_path: str, headers: Any, body: bytes) -> Response | None:
        self.last_request_at = time.monotonic()
        with self.lock:
            epoch = self._epoch
            self._in_flight += 1
            self._peak_in_flight = max(self._peak_in_flight, self._in_flight)
        try:
            return self._dispatch(method, raw_path, headers, body)
        finally:
            with self.lock:
                if epoch == self._epoch:
                    self._in_flight -= 1
            self._push_changed()

    def _dispatch(self, method: str, raw_path: str, headers: Any,
                  body: bytes) -> Response | None:
        parts = urlsplit(raw_path)
        path = unquote(parts.path)
        query = parse_qs(parts.query, keep_blank_values=True)
        if path == oauth.PATH and method == "POST":
            return oauth.token_endpoint(self, headers, body)
        m = soap.SOAP_PATH.match(path)
        if m and method == "POST":
            if m.group(1) == "u":
                return soap.login(self, int(m.group(2)), f"{m.group(2)}.{m.group(3)}", body)
            return soap.read_metadata(self, body)
        if path in ("/services/data", "/services/data/") and method == "GET":
            return rest.versions()
        if not path.startswith("/services/data/v") and not path.startswith("/id/"):
            return json_response(*NOT_FOUND)

        org_id, token = self._authenticate(headers)
        self.sleep_latency(org_id)
        self.count_request(org_id)
        if org_id is None:
            return json_response(*INVALID_SESSION)
        with self.lock:
            self.push.dirty |= self.push.tick(self.now)
        resp = self._serve_org(self._orgs[org_id], token, method, path, query, body)
        return None if resp is None else self.limit_headers(org_id, resp)

    def _serve_org(self, org: SimOrg, token: str, method: str, path: str,
                   query: dict[str, list[str]], body: bytes) -> Response | None:
        """An authenticated API request: faults first, then the resource itself."""
        org_id = org.org_id
        fault = self._faults.take_error(org_id)
        malformed = False
        if fault is not None:
            if fault.kind == "hang":
                self._stop.wait(fault.seconds or HANG_SECONDS)
                if self._stop.is_set():
                    return None
                return json_response(*err(503, "SERVER_UNAVAILABLE",
                                          "The server is temporarily unavailable."))
            if fault.kind == "redirect":
                return redirect(fault, self.port, path, query)
            if fault.kind == "expire_session":
                return json_response(*INVALID_SESSION)
            if fault.kind == "limit_exceeded":
                return json_response(*LIMIT_EXCEEDED)
            if fault.kind == "server_error":
                return self._server_error(org_id)
            malformed = fault.kind == "malformed"
        trickle = trickle_of(fault)
        resp = self._answer(org, token, method, path, query, body)
        if malformed:
            cut = max(1, len(resp.body) // 2)
            resp = Response(200, resp.body[:cut] if resp.body else b'{"records": [', JSON)
        resp.trickle = trickle
        return resp

    def _answer(self, org: SimOrg, token: str, method: str, path: str,
                query: dict[str, list[str]], body: bytes) -> Response:
        if not self._check_expiry(org.org_id, token):
            return json_response(*INVALID_SESSION)
        if org.spec.api_disabled:
            return json_response(*API_DISABLED)
        self.count_api_use(org.org_id)
        return rest.answer(self, org, method, path, query, body)

    def _authenticate(self, headers: Any) -> tuple[str | None, str]:
        auth = headers.get("Authorization") or ""
        scheme, _, token = auth.partition(" ")
        if scheme.lower() not in ("bearer", "oauth") or not token:
            return None, ""
        token = token.strip()
        return self.org_for_token(token), token

    def _check_expiry(self, org_id: str, token: str) -> bool:
        """session_expiring: the first token used dies after N calls, once per org."""
        with self.lock:
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

    def _server_error(self, org_id: str) -> Response:
        """The server_error fault: alternately a JSON 500 and an HTML 503 page."""
        with self.lock:
            n = self._server_errors.get(org_id, 0)
            self._server_errors[org_id] = n + 1
        if n % 2 == 0:
            return json_response(500, [{
                "message": "An unexpected error occurred. Please include this ErrorId if you "
                           "contact support: 1627499128-70115 (-1138023153)",
                "errorCode": "UNKNOWN_EXCEPTION"}])
        html = (b"<html><head><title>Service Unavailable</title></head><body><h1>Service "
                b"Unavailable</h1><p>The server is temporarily unable to service your request "
                b"due to maintenance downtime or capacity problems.</p></body></html>")
        return Response(503, html, "text/html;charset=UTF-8")
