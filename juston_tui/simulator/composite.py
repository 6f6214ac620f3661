"""The composite resources: `POST .../[tooling/]composite` (up to 25 subrequests,
`@{ref.path}` references, `allOrNone`) and `POST .../composite/tree/<Object>` (sObject Tree).

Strict (the default) is Salesforce's own rules: at most 5 query subrequests per composite and
only REST resources in /composite, Tooling ones in /tooling/composite
(api_rest resources_composite_composite_post.htm).

sObject Tree (api_rest resources_composite_sobject_tree.htm, requests_composite_sobject_tree
.htm, responses_composite_sobject_tree.htm): "Up to a total of 200 records across all trees";
each record's `attributes` has `type` (the object of the URI) and a `referenceId`, "unique in
the context of the request. Values must start with an alphanumeric character and contain only
letters, numbers, or underscores"; all or nothing: "If an error occurs while creating a record,
the entire request fails", the answer is 400 `{"hasErrors": true, "results": [...]}` with
"only the reference ID of the record that caused the error, error status code, error message,
and fields related to the error", and on success 201 `{"hasErrors": false, "results":
[{"referenceId", "id"}]}`. Whether every failing record is listed or only the first is not
said: `Simulator.tree_errors` is "all" (the default) or "first". Nested child trees are not
simulated (they are refused). The codes and messages of the request-level refusals (over 200
records, a bad or duplicate referenceId) are ours: UNCONFIRMED.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, unquote, urlsplit

import orjson

from . import records
from .scenarios import SimOrg
from .tooling import ApiView
from .transport import NOT_FOUND, VERSION_PATH, Response, err

if TYPE_CHECKING:
    from .server import Simulator

__all__ = ["TREE_LIMIT", "composite", "tree"]

TREE_LIMIT = 200
_REFERENCE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_]*$")

_REF = re.compile(r"@\{([^}]+)\}")
_HALTED = [{"errorCode": "PROCESSING_HALTED", "message": "The transaction was rolled back since "
            "another operation in the same transaction failed."}]

_UNPARSABLE = err(400, "JSON_PARSER_ERROR", "Unexpected character: was expecting a value")




def _listed(body: bytes, key: str, missing: str
            ) -> tuple[dict[str, Any], list[Any], tuple[int, Any] | None]:
    """The body (an object) and its non-empty list `key`, or the error Salesforce answers."""
    try:
        req = orjson.loads(body or b"null")
    except orjson.JSONDecodeError:
        return {}, [], _UNPARSABLE
    items = req.get(key) if isinstance(req, dict) else None
    if not isinstance(items, list) or not items:
        return {}, [], err(400, "INVALID_INPUT", missing)
    return req, items, None


# route(sim, org, method, version, rest, query, body, top_level) -> (status, payload)
Route = Callable[[Any, SimOrg, str, str, str, dict[str, list[str]], bytes, bool],
                 tuple[int, Any]]


def composite(sim: Simulator, org: SimOrg, version: str, tooling: bool, body: bytes,
              route: Route) -> tuple[int, Any]:
    req, subs, bad = _listed(body, "compositeRequest", "compositeRequest is required")
    if bad:
        return bad
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


def tree(sim: Simulator, org: SimOrg, obj_name: str, body: bytes) -> tuple[int, Any]:
    """sObject Tree of records without children: all of them inserted, or none."""
    view = ApiView(sim.data(org.org_id), tooling=False)
    schema = view.schema(obj_name)
    if schema is None:
        return NOT_FOUND
    obj = schema.name
    _req, items, bad = _listed(body, "records", "records is required: a list of sObject trees")
    if bad:
        return bad
    if len(items) > TREE_LIMIT:
        return err(400, "LIMIT_EXCEEDED", f"Exceeded max limit of {TREE_LIMIT} records in a "
                   "tree request")
    if sim.take_tree_glitch():
        # Salesforce's passing failure CumulusCI retries the whole batch on ("Something bad
        # has happened", push_api.py `_add_batch`, its commit 670edac70); the rest of the
        # text is ours.
        first = items[0].get("attributes", {}) if isinstance(items[0], dict) else {}
        return 400, {"hasErrors": True, "results": [{
            "referenceId": first.get("referenceId"), "errors": [{
                "statusCode": "UNKNOWN_EXCEPTION", "fields": [],
                "message": "Something bad has happened. Please try again later."}]}]}
    failed: list[dict[str, Any]] = []
    ready: list[tuple[str, dict[str, Any]]] = []
    refs: dict[str, int] = {}
    for item in items:
        attrs = item.get("attributes") if isinstance(item, dict) else None
        ref = str(attrs.get("referenceId") or "") if isinstance(attrs, dict) else ""
        refs[ref] = refs.get(ref, 0) + 1
    seen: dict[str, str] = {}
    with sim.lock:
        for item in items:
            attrs = item.get("attributes") if isinstance(item, dict) else None
            ref = str(attrs.get("referenceId") or "") if isinstance(attrs, dict) else ""
            problem = _tree_item_problem(obj, item, attrs, ref, refs)
            if problem is not None:
                failed.append({"referenceId": ref or None, "errors": [problem]})
                continue
            fields, bad = records.record_fields(obj, item)
            if bad:
                body_error = bad[1][0]
                failed.append({"referenceId": ref, "errors": [{
                    "statusCode": body_error["errorCode"], "message": body_error["message"],
                    "fields": []}]})
                continue
            errors = records.check_new(sim, obj, fields, seen, ref)
            if errors:
                failed.append({"referenceId": ref, "errors": [e.tree() for e in errors]})
                continue
            ready.append((ref, fields))
        if failed:
            return 400, {"hasErrors": True,
                         "results": failed[:1] if sim.tree_errors == "first" else failed}
        results = [{"referenceId": ref, "id": records.insert(sim, org, view.db, obj, fields)}
                   for ref, fields in ready]
    return 201, {"hasErrors": False, "results": results}


def _tree_item_problem(obj: str, item: Any, attrs: Any, ref: str,
                       refs: dict[str, int]) -> dict[str, Any] | None:
    def problem(message: str) -> dict[str, Any]:
        return {"statusCode": "INVALID_INPUT", "message": message, "fields": []}

    if not isinstance(attrs, dict) or not attrs.get("type") or not ref:
        return problem("Each record needs attributes with a type and a referenceId")
    if str(attrs["type"]).lower() != obj.lower():
        return problem(f"The root records must be {obj}, as the URI says, not {attrs['type']}")
    if not _REFERENCE_ID.match(ref):
        return problem(f"Invalid referenceId {ref}: it must start with a letter or digit and "
                       "contain only letters, digits and underscores")
    if refs.get(ref, 0) > 1:
        return problem(f"Duplicate ReferenceId provided in the request: {ref}")
    if any(isinstance(v, dict) and "records" in v for v in item.values()):
        return problem("The simulator does not create nested records (child trees)")
    return None
