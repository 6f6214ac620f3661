"""Connections to one org: a safe requests session, the four login methods, one re-login.

simple-salesforce has no default timeout, lets REQUESTS_CA_BUNDLE override a session's CA,
always logs in at https://{domain}.salesforce.com and, when it may refresh a session itself,
retries up to three times (the SObject path forever). So: every request goes through
`OrgSession` (default timeout, per-org deadline, cancellation, the org's CA only, request
counting); logins happen here and the client is built in "direct" mode, which raises on an
expired session instead of looping; `OrgConnection.call` then logs in again exactly once.
One connection belongs to one org and one thread.

The per-org deadline is a hard budget: requests' read timeout restarts with every byte, so a
server trickling a byte every half second would never time out (requests/requests#4276: no
total timeout). A watchdog thread shuts a request's sockets down when its time is up (its
timeout from when it was sent, never later than the org's deadline), also in the middle of
reading a response. Redirects to another origin are refused before anything is sent there (a
307 would re-post the login body); Salesforce's REST API answers with no redirect to follow
(its status codes: developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/
errorcodes.htm). JSON answers lose terminal control characters on arrival (text.py).
"""

from __future__ import annotations

import os
import re
import socket
import threading
import time
import warnings
import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urljoin, urlparse

import certifi
import orjson
import requests
from requests.adapters import HTTPAdapter
from urllib3 import HTTPConnectionPool, HTTPSConnectionPool, PoolManager

from juston_tui.salesforce.auth_help import SOAP_RETIREMENT_WARNING
from juston_tui.salesforce.errors import (
    AccessError,
    AuthError,
    Cancelled,
    SessionExpired,
    describe_error,
)
from juston_tui.text import strip_controls_deep

if TYPE_CHECKING:
    from simple_salesforce import Salesforce

    from juston_tui.credentials import CredentialStore
    from juston_tui.model import Org

__all__ = [
    "API_VERSION",
    "DEFAULT_TIMEOUT",
    "SOAP_RETIREMENT_WARNING",
    "LoginHostAdapter",
    "OrgConnection",
    "OrgSession",
    "connect",
    "login_domain",
    "needs_login_rewrite",
    "required_secrets",
]

# <= 64.0 so SOAP login() still exists for the password method (gone from 65.0 on).
API_VERSION = "62.0"
DEFAULT_TIMEOUT = 30.0

T = TypeVar("T")


def required_secrets(method: str) -> tuple[str, ...]:
    """Keyring kinds each auth method needs, in the order `login --secret-stdin` reads them."""
    return {
        "jwt": ("private_key",),
        "client-credentials": ("consumer_secret",),
        "password": ("password", "security_token"),
        "token": ("access_token",),
    }[method]


class RedirectRefused(AccessError):
    """The server redirected an API call to another origin; it was not followed."""


def _origin(url: str) -> tuple[str, str, int | None]:
    parsed = urlparse(url)
    scheme = parsed.scheme.lower()
    try:
        port = parsed.port
    except ValueError:
        port = -1
    default = {"https": 443, "http": 80}.get(scheme)
    return scheme, (parsed.hostname or "").lower(), port if port is not None else default


class _Guard:
    """The connections of one session, which the watchdog shuts down when a request's time is up.

    Each request is a new generation: a watchdog that fires late (the request already done, the
    next one sent) must not cut the next one.
    """

    def __init__(self) -> None:
        self.generation = 0
        self._fired = -1
        self._connections: weakref.WeakSet[Any] = weakref.WeakSet()
        self._lock = threading.Lock()

    def watch(self, connection: Any) -> None:
        with self._lock:
            self._connections.add(connection)

    def start(self) -> int:
        with self._lock:
            self.generation += 1
            return self.generation

    def fired(self, generation: int) -> bool:
        return self._fired == generation

    def fire(self, generation: int) -> None:
        with self._lock:
            if generation != self.generation:
                return
            self._fired = generation
            for connection in list(self._connections):
                sock = getattr(connection, "sock", None)
                if sock is None:
                    continue
                try:  # the plain socket's shutdown: a read blocked in another thread returns
                    socket.socket.shutdown(sock, socket.SHUT_RDWR)
                except OSError:
                    pass


class _Watchdog:
    """One thread for the process: fires the guard of every request still running at its time.

    A request's time is its timeout from when it was sent, and never later than its session's
    deadline (the per-org budget): a response read byte by byte cannot outlast either.
    """

    def __init__(self) -> None:
        self._reset()
        # A forked child has no watchdog thread (and maybe a lock held by another thread).
        os.register_at_fork(after_in_child=self._reset)

    def _reset(self) -> None:
        self._cond = threading.Condition()
        self._due: dict[int, tuple[float, _Guard, int]] = {}
        self._thread: threading.Thread | None = None

    def arm(self, guard: _Guard, generation: int, when: float) -> None:
        with self._cond:
            self._due[id(guard)] = (when, guard, generation)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="juston-watchdog",
                                                daemon=True)
                self._thread.start()
            self._cond.notify()

    def disarm(self, guard: _Guard) -> None:
        with self._cond:
            self._due.pop(id(guard), None)

    def _run(self) -> None:
        while True:
            with self._cond:
                if not self._due:
                    self._cond.wait()
                    continue
                key, (when, guard, generation) = min(self._due.items(),
                                                     key=lambda item: item[1][0])
                now = time.monotonic()
                if when > now:
                    self._cond.wait(when - now)
                    continue
                # Fire again every 0.1 s until the request ends (disarm): a connection still in
                # its TLS handshake has no socket to shut down yet at the first firing.
                self._due[key] = (now + REFIRE_SECONDS, guard, generation)
            guard.fire(generation)


REFIRE_SECONDS = 0.1
WATCHDOG = _Watchdog()


class _WatchedPool:
    """Pool mixin: every new connection is watched by the session's guard."""

    guard: _Guard | None = None

    def _new_conn(self) -> Any:
        connection = super()._new_conn()  # type: ignore[misc]
        if self.guard is not None:
            self.guard.watch(connection)
        return connection


class _WatchedHTTPPool(_WatchedPool, HTTPConnectionPool):
    pass


class _WatchedHTTPSPool(_WatchedPool, HTTPSConnectionPool):
    pass


class _WatchedPoolManager(PoolManager):
    def __init__(self, *args: Any, guard: _Guard | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.guard = guard
        self.pool_classes_by_scheme = {"http": _WatchedHTTPPool, "https": _WatchedHTTPSPool}

    def _new_pool(self, scheme: str, host: str, port: int,
                  request_context: dict[str, Any] | None = None) -> Any:
        pool = super()._new_pool(scheme, host, port, request_context)
        pool.guard = self.guard  # type: ignore[attr-defined]
        return pool


class WatchedAdapter(HTTPAdapter):
    """An HTTPAdapter whose connections the watchdog can cut (through the session's guard)."""

    def __init__(self, *args: Any, guard: _Guard | None = None, **kwargs: Any) -> None:
        self.guard = guard
        super().__init__(*args, **kwargs)

    def init_poolmanager(self, connections: int, maxsize: int, block: bool = False,
                         **pool_kwargs: Any) -> None:
        self._pool_connections = connections
        self._pool_maxsize = maxsize
        self._pool_block = block
        self.poolmanager = _WatchedPoolManager(num_pools=connections, maxsize=maxsize,
                                               block=block, guard=self.guard,
                                               **pool_kwargs)


# JSON escapes of control characters (other than tab, LF, CR), and DEL / C1 characters, which
# JSON allows unescaped: only an answer that has one is decoded, cleaned and encoded again.
_JSON_CONTROL = re.compile(
    rb"\\u00(?:0[0-8bcefBCEF]|1[0-9a-fA-F]|7[fF]|[89][0-9a-fA-F])|\\[bf]|\x7f|\xc2[\x80-\x9f]")


def _without_controls(response: requests.Response) -> None:
    """Salesforce data is untrusted text: no terminal escapes in any JSON string we read."""
    content = response._content
    if (not isinstance(content, bytes) or not _JSON_CONTROL.search(content)
            or "json" not in response.headers.get("Content-Type", "")):
        return

    try:
        data = orjson.loads(content)
    except orjson.JSONDecodeError:
        return  # malformed: the client says so
    response._content = orjson.dumps(strip_controls_deep(data))


class OrgSession(requests.Session):
    """A session that never waits forever, never trusts the environment's CA, and can stop.

    `trust_env=False` because REQUESTS_CA_BUNDLE/CURL_CA_BUNDLE would otherwise override
    `verify` (and the org's own CA); proxies from the environment are still honoured per URL.
    """

    def __init__(
        self,
        *,
        verify: str,
        timeout: float = DEFAULT_TIMEOUT,
        deadline: float | None = None,
        cancel: threading.Event | None = None,
    ) -> None:
        super().__init__()
        self.trust_env = False
        self.verify = verify
        self.default_timeout = timeout
        self.deadline = deadline  # time.monotonic(): nothing is sent or read after it
        self.cancel = cancel
        self.round_trips = 0
        self.guard = _Guard()
        for prefix in ("https://", "http://"):
            self.mount(prefix, WatchedAdapter(guard=self.guard))

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> Any:
        if self.cancel is not None and self.cancel.is_set():
            raise Cancelled()
        timeout = kwargs.get("timeout") or self.default_timeout
        if self.deadline is not None:
            remaining = self.deadline - time.monotonic()
            if remaining <= 0:
                raise self._time_limit(method, url)
            timeout = min(timeout, remaining)
        kwargs["timeout"] = timeout
        if "proxies" not in kwargs or not kwargs["proxies"]:
            kwargs["proxies"] = requests.utils.get_environ_proxies(str(url))
        self.round_trips += 1
        generation = self.guard.start()
        WATCHDOG.arm(self.guard, generation, time.monotonic() + float(timeout))
        try:
            response = super().request(method, url, *args, **kwargs)
        except requests.exceptions.RequestException:
            if self.guard.fired(generation):  # the watchdog cut the connection: the time
                raise self._time_limit(method, url) from None
            raise
        finally:
            WATCHDOG.disarm(self.guard)
        if self.guard.fired(generation):  # cut mid-body: what was read may be half an answer
            raise self._time_limit(method, url)
        _without_controls(response)
        return response

    @staticmethod
    def _time_limit(method: str | bytes, url: str | bytes) -> requests.exceptions.Timeout:
        exc = requests.exceptions.Timeout("per-org time limit reached")
        exc.request = requests.Request(str(method), str(url))  # type: ignore[assignment]
        return exc

    def get_redirect_target(self, resp: requests.Response) -> str | None:
        """Follow a redirect only within the same origin (scheme, host and port)."""
        target = super().get_redirect_target(resp)
        if target is None:
            return None
        absolute = urljoin(resp.url, target)
        if _origin(absolute) != _origin(resp.url):
            scheme, host, port = _origin(absolute)
            where = f"{scheme}://{host}" + (f":{port}" if port not in (None, 443, 80) else "")
            raise RedirectRefused(
                f"redirect refused: {urlparse(resp.url).netloc} answered with a redirect (HTTP "
                f"{resp.status_code}) to {where}: Salesforce API calls never follow a "
                "redirect to another host, so nothing was sent there; check the org's instance "
                "URL (or a proxy in between)")
        return target

    def close(self) -> None:
        WATCHDOG.disarm(self.guard)
        super().close()


class LoginHostAdapter(WatchedAdapter):
    """Send requests for the fixed login host to the org's own host (proxy, simulator)."""

    def __init__(self, source: str, target: str, *, guard: _Guard | None = None) -> None:
        super().__init__(guard=guard)
        self.source = source.rstrip("/")
        self.target = target.rstrip("/")

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> Any:
        url = request.url or ""
        if url.startswith(self.source + "/"):
            request.url = self.target + url[len(self.source):]
        return super().send(request, *args, **kwargs)


def _ca_bundle(org: Org) -> str:
    if org.ca_bundle:
        return org.ca_bundle

    return certifi.where()


def needs_login_rewrite(org: Org) -> bool:
    """True when the org lives behind a host that is not *.salesforce.com (simulator, proxy)."""
    if not org.instance_url:
        return False
    host = (urlparse(org.instance_url).hostname or "").lower()
    return not host.endswith(".salesforce.com")


def login_domain(org: Org) -> str:
    """The `domain` simple-salesforce builds the login host from (https://{domain}.salesforce.com).

    A My Domain wins; a *.my.salesforce.com instance URL gives one; client credentials need a
    My Domain, so behind a rewritten host a placeholder My Domain is used (the adapter maps it).
    """
    if org.domain and org.domain not in ("login", "test"):
        return org.domain
    host = (urlparse(org.instance_url).hostname or "").lower() if org.instance_url else ""
    if host.endswith(".my.salesforce.com"):
        return host[: -len(".salesforce.com")]
    if org.auth_method == "client-credentials" and needs_login_rewrite(org):
        return "juston-tui-login.my"
    return "test" if org.domain == "test" or org.kind == "sandbox" else "login"


class OrgConnection:
    """One org's session and client; logs in on demand and once more on an expired session."""

    def __init__(
        self,
        org: Org,
        credentials: CredentialStore,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        deadline: float | None = None,
        cancel: threading.Event | None = None,
    ) -> None:
        self.org = org
        self.credentials = credentials
        self.timeout = timeout
        self.session = OrgSession(
            verify=_ca_bundle(org), timeout=timeout, deadline=deadline, cancel=cancel
        )
        self.domain = login_domain(org)
        if needs_login_rewrite(org):
            source = f"https://{self.domain}.salesforce.com"
            self.session.mount(source + "/", LoginHostAdapter(
                source, org.instance_url, guard=self.session.guard))
        self.sf: Salesforce | None = None
        self.logins = 0
        self.login_round_trips = 0
        self.warnings: list[str] = []
        self._secrets: dict[str, str | None] = {}

    # -- secrets ---------------------------------------------------------------------------------
    def _secret(self, kind: str, *, required: bool = True) -> str | None:
        if kind not in self._secrets:
            self._secrets[kind] = self.credentials.get(self.org.org_id, kind)
        value = self._secrets[kind]
        if required and not value:
            raise AuthError(
                f"no {kind.replace('_', ' ')} stored for this org: run juston-tui login "
                f"{self.org.org_id} --method {self.org.auth_method}"
            )
        return value

    def secrets(self) -> list[str | None]:
        """Secret values read so far (to scrub them from any message)."""
        return list(self._secrets.values())

    @property
    def can_relogin(self) -> bool:
        return self.org.auth_method != "token"

    @property
    def login_hint(self) -> str:
        return f"run juston-tui login {self.org.org_id}"

    # -- login -----------------------------------------------------------------------------------
    def _login(self) -> tuple[str, str]:
        """(session_id, host[:port]) for the org's auth method."""
        org = self.org
        method = org.auth_method
        if method == "token":
            token = self._secret("access_token")
            if not org.instance_url:
                raise AuthError("the token method needs the org's instance URL "
                                "(org edit ORG --instance-url https://...)")
            parsed = urlparse(org.instance_url)
            host = parsed.hostname or ""
            if parsed.port not in (None, 443):
                host += f":{parsed.port}"
            return str(token), host
        # simple_salesforce/requests: ~0.4 s to import, only once an org is contacted
        from simple_salesforce import SalesforceLogin

        kwargs: dict[str, Any] = {"session": self.session, "sf_version": API_VERSION,
                                  "domain": self.domain}
        if method == "jwt":
            kwargs.update(username=org.username, consumer_key=org.consumer_key,
                          privatekey=self._load_private_key())
            if self.domain not in ("login", "test"):
                # aud must stay login/test; the token endpoint is the My Domain (#672, #814).
                kwargs["instance_url"] = self.domain
                kwargs["domain"] = "test" if org.kind == "sandbox" else "login"
        elif method == "client-credentials":
            kwargs.update(consumer_key=org.consumer_key,
                          consumer_secret=self._secret("consumer_secret"))
        elif method == "password":
            kwargs.update(username=org.username, password=self._secret("password"),
                          security_token=self._secret("security_token", required=False) or "")
            if SOAP_RETIREMENT_WARNING not in self.warnings:
                self.warnings.append(SOAP_RETIREMENT_WARNING)
        else:
            raise AuthError(f"unknown auth method {method!r}")
        before = self.session.round_trips
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # its approval hint goes to stderr; we explain
                session_id, host = SalesforceLogin(**kwargs)
        except (Cancelled, AuthError):
            raise
        except Exception as exc:
            raise AuthError(describe_error(exc, secrets=self.secrets(), timeout=self.timeout,
                                           login_hint=self.login_hint)) from None
        finally:
            self.login_round_trips += self.session.round_trips - before
        return session_id, host

    def _load_private_key(self) -> str:
        key = str(self._secret("private_key"))
        if "-----BEGIN" not in key:
            raise AuthError("the stored private key is not PEM text: run juston-tui login "
                            f"{self.org.org_id} --method jwt again")
        return key

    def login(self) -> Salesforce:
        """Log in now (again) and build a direct-mode client on this connection's session."""
        # simple_salesforce/requests: ~0.4 s to import, only once an org is contacted
        from simple_salesforce import Salesforce

        session_id, host = self._login()
        self.logins += 1
        self.sf = Salesforce(session_id=session_id, instance=host, session=self.session,
                             version=API_VERSION)
        return self.sf

    def client(self) -> Salesforce:
        return self.sf if self.sf is not None else self.login()

    def call(self, fn: Callable[[Salesforce], T]) -> T:
        """Run `fn(client)`; on an expired session log in once more and retry once."""
        # simple_salesforce/requests: ~0.4 s to import, only once an org is contacted
        from simple_salesforce.exceptions import SalesforceExpiredSession

        sf = self.client()
        try:
            return fn(sf)
        except SalesforceExpiredSession:
            if not self.can_relogin:
                raise SessionExpired(f"session expired: {self.login_hint}") from None
        sf = self.login()
        try:
            return fn(sf)
        except SalesforceExpiredSession:
            raise SessionExpired(
                f"session expired again right after a new login: {self.login_hint}"
            ) from None

    def close(self) -> None:
        self.session.close()

    def __enter__(self) -> OrgConnection:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def connect(org: Org, credentials: CredentialStore, *, timeout: float = DEFAULT_TIMEOUT
            ) -> Salesforce:
    """A logged-in simple-salesforce client for `org` (raises AuthError with a clean message).

    The client is in direct mode: an expired session raises SalesforceExpiredSession rather
    than looping; call `connect` again to log in anew. Use it from one thread only.
    """
    conn = OrgConnection(org, credentials, timeout=timeout)
    sf = conn.login()
    sf.juston_connection = conn  # type: ignore[attr-defined]  # keeps warnings/counters reachable
    return sf
