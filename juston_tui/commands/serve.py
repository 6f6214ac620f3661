"""`juston-tui serve`: the TUI in a browser via textual-serve, bound to localhost only.

textual-serve has no authentication and checks neither Origin nor Host: any web page the user
opens (or a DNS-rebinding host name that resolves to 127.0.0.1) could open its WebSocket, type
keys and read the screen. `GuardedServer` wraps its aiohttp app (no library is patched):
- a secret token, new at every start, in the URL we print (as Jupyter does): the page needs
  `?token=`, the WebSocket lives at `/ws/<token>` (textual-serve's `/ws` is refused);
- the Host header must name a loopback address (`localhost`, `127.0.0.1`, `::1`), and an
  Origin header, when sent, must be a loopback address on the same port;
- the page is sent with `Referrer-Policy: no-referrer` and `Cache-Control: no-store`.
We still refuse anything but a loopback address to listen on; reach it from elsewhere with
`ssh -L 8000:localhost:8000 host`. What this does and does not protect against: README.
"""

from __future__ import annotations

import argparse
import hmac
import ipaddress
import secrets
import shlex
import sys
from typing import Any
from urllib.parse import urlsplit

from juston_tui.commands import Context, UserError, port_number

LOOPBACK_NAMES = ("localhost",)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("serve", help="serve the TUI to a browser on localhost (textual-serve)")
    p.add_argument("--host", default="127.0.0.1", help="loopback address only (default 127.0.0.1)")
    p.add_argument("--port", type=port_number(), default=8000)
    p.set_defaults(func=run, online=True)


def is_loopback(host: str) -> bool:
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def app_command(args: argparse.Namespace) -> str:
    """The command each browser session runs: this interpreter, the same global options.

    `-P` keeps the working directory off sys.path: started inside a clone, the clone's
    `juston_tui/` folder (which has no `screens`) would otherwise shadow the installed package.
    """
    parts = [sys.executable, "-P", "-m", "juston_tui"]
    if args.db:
        parts += ["--db", args.db]
    if args.read_only:
        parts.append("--read-only")
    if args.demo:
        parts.append("--demo")
    if args.keyring:
        parts += ["--keyring", args.keyring]
    return shlex.join(parts)


def serve_url(args: argparse.Namespace) -> tuple[str, str]:
    """(the URL to open, its token): a new random token at every start."""
    token = secrets.token_urlsafe(32)
    host = f"[{args.host}]" if ":" in args.host else args.host
    return f"http://{host}:{args.port}/?token={token}", token


def _hostname(value: str) -> str | None:
    try:
        return urlsplit(f"//{value}").hostname
    except ValueError:
        return None


def _port(value: str, default: int) -> int | None:
    try:
        return urlsplit(f"//{value}").port or default
    except ValueError:
        return None


def refusal(path: str, query_token: str | None, host: str, origin: str | None,
            token: str) -> str | None:
    """Why a request to the served TUI is refused, or None to let it through."""
    name = _hostname(host)
    if name is None or not is_loopback(name):
        return "the Host header is not a loopback address"
    if origin is not None:
        parsed = urlsplit(origin) if origin.startswith(("http://", "https://")) else None
        if (parsed is None or not is_loopback(parsed.hostname or "")
                or _port(parsed.netloc, 443 if parsed.scheme == "https" else 80)
                != _port(host, 80)):
            return "the request comes from another web page (Origin)"
    if path == "/":
        given = query_token or ""
    elif path == "/ws" or path.startswith("/ws/"):
        given = path[len("/ws/"):]
    else:
        return None  # static files and downloads: public assets / unguessable keys
    if not hmac.compare_digest(given.encode(), token.encode()):
        return "open the address juston-tui serve printed: it carries the token"
    return None


STARTING = "{title} is starting… it opens here by itself, no click needed"


def _guarded_server_class() -> Any:
    """GuardedServer, built on first use: importing textual-serve costs ~100 ms."""
    # textual-serve and aiohttp: ~0.7 s to import, only for `serve`
    import aiohttp_jinja2
    from aiohttp import web
    from textual_serve.server import Server

    class GuardedServer(Server):  # type: ignore[misc]
        """textual-serve's Server, plus a per-start token and same-origin checks."""

        def __init__(self, command: str, *, host: str, port: int, title: str,
                     token: str) -> None:
            super().__init__(command, host=host, port=port, title=title)
            self.token = token

        async def _make_app(self) -> web.Application:
            app = await super()._make_app()
            app.middlewares.append(self._guard)
            app.router.add_get("/ws/{token}", self.handle_websocket)
            return app

        @web.middleware
        async def _guard(self, request: web.Request, handler: Any) -> web.StreamResponse:
            why = refusal(request.path, request.query.get("token"), request.host,
                          request.headers.get("Origin"), self.token)
            if why is not None:
                return web.Response(status=403, text=f"juston-tui serve: forbidden: {why}\n")
            response = await handler(request)
            if request.path == "/":
                response.headers["Referrer-Policy"] = "no-referrer"
                response.headers["Cache-Control"] = "no-store"
            return response

        @aiohttp_jinja2.template("app_index.html")
        async def handle_index(self, request: web.Request) -> dict[str, Any]:
            context: dict[str, Any] = await Server.handle_index.__wrapped__(self, request)
            context["app_websocket_url"] = f"{context['app_websocket_url']}/{self.token}"
            # textual-serve's page connects on load (no click: the printed URL has no
            # `delay`) and shows its splash until the app's first screen arrives; say so.
            context["application"]["name"] = STARTING.format(title=self.title)
            return context

        async def on_startup(self, app: web.Application) -> None:
            """Quiet: textual-serve would print its address without the token."""

    return GuardedServer


def __getattr__(name: str) -> Any:
    if name == "GuardedServer":
        return _guarded_server_class()
    raise AttributeError(name)


def run(args: argparse.Namespace, ctx: Context) -> int:
    if not is_loopback(args.host):
        raise UserError(
            f"refusing to serve on {args.host}: textual-serve has no login, so juston-tui only "
            "listens on loopback; use `ssh -L 8000:localhost:8000 HOST` to reach it"
        )
    if args.demo:  # one simulator for every browser session, up as long as we serve
        ctx.demo().hold_simulator()
    url, token = serve_url(args)
    print(f"serving juston-tui on {url}", file=ctx.out)
    print("open that address (it carries this start's secret token); Ctrl+C to stop",
          file=ctx.out, flush=True)
    _guarded_server_class()(app_command(args), host=args.host, port=args.port,
                            title="juston-tui", token=token).serve()
    return 0
