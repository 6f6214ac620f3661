"""`POST /services/data/vNN.N/[tooling/]composite`: up to 25 subrequests, `@{ref.path}`
references, `allOrNone`.

Strict (the default) is Salesforce's own rules: at most 5 query subrequests per composite and
only REST resources in /composite, Tooling ones in /tooling/composite
(api_rest resources_composite_composite_post.htm).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, unquote, urlsplit

import orjson

from .scenarios import SimOrg
from .transport import NOT_FOUND, VERSION_PATH, Response, err

if TYPE_CHECKING:
    from .server import Simulator

__all__ = ["composite"]

_REF = re.compile(r"@\{([^}]+)\}")
_HALTED = [{"errorCode": "PROCESSING_HALTED", "message": "The transaction was rolled back since "
            "another operation in the same transaction failed."}]

# route(sim, org, method, version, rest, query, body, top_level) -> (status, payload)
Route = Callable[[Any, SimOrg, str, str, str, dict[str, list[str]], bytes, bool],
                 tuple[int, Any]]


def composite(sim: Simulator, org: SimOrg, version: str, tooling: bool, body: bytes,
              route: Route) -> tuple[int, Any]:
    try:
        req = orjson.loads(body or b"null")
    except orjson.JSONDecodeError:
        return err(400, "JSON_PARSER_ERROR", "Unexpected character: was expecting a value")
    subs = req.get("compositeRequest") if isinstance(req, dict) else None
    if not isinstance(subs, list) or not subs:
        return err(400, "INVALID_INPUT", "compositeRequest is required")
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
            results.append({"body": _HALTED, "httpHeaders": {}, "httpStatusCode": 400,
                            "referenceId": ref})
            continue
        status, payload = _sub(sim, org, version, tooling, sub, bodies, route)
        if isinstance(status, int) and status < 300 and "/query" in str(sub.get("url", "")):
            queries += 1
            if sim.strict and queries > 5:
                status, payload = err(400, "LIMIT_EXCEEDED",
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
                item.update(httpStatusCode=400, body=_HALTED)
    return 200, {"compositeResponse": results}


def _sub(sim: Simulator, org: SimOrg, version: str, tooling: bool, sub: dict[str, Any],
         bodies: dict[str, Any], route: Route) -> tuple[int, Any]:
    url = str(sub.get("url") or "")
    method = str(sub.get("method") or "")
    try:
        url = _REF.sub(lambda m: str(_resolve_ref(m.group(1), bodies)), url)
    except LookupError as exc:
        return err(400, "PROCESSING_HALTED", f"Invalid reference specified. No value for "
                   f"{exc.args[0]} found. Provided referenceId ids are case-sensitive.")
    parts = urlsplit(url)
    m = VERSION_PATH.match(unquote(parts.path))
    if not m or not method:
        return err(400, "INVALID_INPUT", f"invalid subrequest url or method: {url}")
    rest = m.group(3) or "/"
    if sim.strict and rest.startswith("/tooling") != tooling:
        return NOT_FOUND
    sub_body = orjson.dumps(sub["body"]) if sub.get("body") is not None else b""
    status, payload = route(sim, org, method, f"{m.group(1)}.{m.group(2)}", rest,
                            parse_qs(parts.query, keep_blank_values=True), sub_body, False)
    if isinstance(payload, Response):
        payload = orjson.loads(payload.body) if payload.body else None
    return status, payload


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
