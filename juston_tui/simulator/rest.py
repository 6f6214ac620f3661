"""The REST API below `/services/data`: versions, query/queryAll/queryMore, limits, sobjects
(describe, create, retrieve, update, delete) and the identity URL; `route` dispatches one
resource (composite.py re-enters it for each subrequest).

Shapes: query envelopes and paging (reference §2, `nextRecordsUrl` as
`/services/data/vNN.N/query/<locator>-<offset>`), create answers 201 `{"id", "success",
"errors"}` and update 204 No Content (api_rest dome_sobject_create.htm,
dome_update_fields.htm), errors are JSON lists (transport.err).
"""

from __future__ import annotations

import secrets
import threading
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import orjson

from . import composite, records, vendor
from .data import SCHEMA
from .scenarios import API_MAX, SimOrg
from .soql import SoqlError, execute
from .tooling import ApiView, envelope, split_tooling
from .transport import NOT_FOUND, VERSION_PATH, Response, err, json_response

if TYPE_CHECKING:
    from .server import Simulator

__all__ = ["MAX_VERSION", "MIN_VERSION", "Cursors", "answer", "release_label",
           "route", "versions"]

MIN_VERSION, MAX_VERSION = 31, 66
_ROOT_RESOURCES = (
    "tooling", "metadata", "eclair", "folders", "prechatForms", "jsonxform", "chatter", "tabs",
    "appMenu", "quickActions", "queryAll", "commerce", "wave", "analytics", "search",
    "identity", "composite", "parameterizedSearch", "theme", "nouns", "event",
    "serviceTemplates", "recent", "connect", "licensing", "limits", "process", "async-queries",
    "query", "match", "emailConnect", "compactLayouts", "knowledgeManagement", "sobjects",
    "actions", "support")


def release_label(major: int) -> str:
    """The release name of an API version: 62 → "Winter '25"."""
    k = major - 31
    return f"{('Summer', 'Winter', 'Spring')[k % 3]} '{14 + (k + 2) // 3}"


def versions() -> Response:
    """`GET /services/data`: every API version the server speaks."""
    return json_response(200, [{"label": release_label(v), "url": f"/services/data/v{v}.0",
                                "version": f"{v}.0"} for v in range(MIN_VERSION, MAX_VERSION + 1)])


@dataclass
class _Cursor:
    org_id: str
    tooling: bool
    entity: str
    records: list[dict[str, Any]]


class Cursors:
    """Open query locators (the newest 10,000), as queryMore finds them."""

    LIMIT = 10000

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._open: OrderedDict[str, _Cursor] = OrderedDict()

    def open(self, org_id: str, tooling: bool, entity: str,
             records: list[dict[str, Any]]) -> str:
        locator = "01g" + secrets.token_hex(8)[:12].upper() + "AAA"
        with self._lock:
            self._open[locator] = _Cursor(org_id, tooling, entity, records)
            while len(self._open) > self.LIMIT:
                self._open.popitem(last=False)
        return locator

    def get(self, locator: str) -> _Cursor | None:
        with self._lock:
            return self._open.get(locator)

    def close(self, locator: str) -> None:
        with self._lock:
            self._open.pop(locator, None)


def answer(sim: Simulator, org: SimOrg, method: str, path: str, query: dict[str, list[str]],
           body: bytes) -> Response:
    """An authenticated request below /services/data/vNN.N (or the identity URL /id/...)."""
    if path.startswith("/id/"):
        return identity(sim, org)
    m = VERSION_PATH.match(path)
    if not m or not MIN_VERSION <= int(m.group(1)) <= MAX_VERSION:
        return json_response(*NOT_FOUND)
    version = f"{m.group(1)}.{m.group(2)}"
    status, payload = route(sim, org, method, version, m.group(3) or "/", query, body,
                            top_level=True)
    if isinstance(payload, Response):
        return payload
    return Response(204, b"") if status == 204 else json_response(status, payload)


def route(sim: Simulator, org: SimOrg, method: str, version: str, rest: str,
          query: dict[str, list[str]], body: bytes, top_level: bool) -> tuple[int, Any]:
    """Serve one REST/Tooling resource below /services/data/vXX.X (composite re-enters)."""
    tooling, rest = split_tooling(rest)
    segs = [s for s in rest.split("/") if s]
    base = f"/services/data/v{version}/" + ("tooling/" if tooling else "")
    if not segs:
        if method != "GET":
            return NOT_FOUND
        return 200, {n: f"/services/data/v{version}/{n}" for n in _ROOT_RESOURCES}
    head = segs[0]
    if head in ("query", "queryAll") and method == "GET":
        if len(segs) == 1:
            q = (query.get("q") or [""])[0]
            if not q:
                return err(400, "MALFORMED_QUERY", "A query string has to be specified")
            return _query(sim, org, q, version, tooling)
        if len(segs) == 2:
            return _query_more(sim, org, segs[1], version, tooling)
    if head == "composite" and len(segs) == 1 and method == "POST":
        if not top_level:
            return err(400, "INVALID_OPERATION", "Composite can't be nested")
        return composite.composite(sim, org, version, tooling, body, route)
    if head == "composite" and len(segs) == 3 and segs[1] == "tree" and method == "POST" \
            and top_level and not tooling:
        return composite.tree(sim, org, segs[2], body)
    if head == "limits" and len(segs) == 1 and method == "GET" and not tooling:
        return 200, _limits(sim, org)
    if head == "sobjects":
        return _sobjects(sim, org, method, tooling, segs[1:], body, base)
    return NOT_FOUND


def _query(sim: Simulator, org: SimOrg, q: str, version: str, tooling: bool
           ) -> tuple[int, Any]:
    db = sim.data(org.org_id)
    prefix = f"/services/data/v{version}/" + ("tooling/" if tooling else "")
    view = ApiView(db, tooling)
    try:
        result = execute(view, q, url_prefix=prefix, today=sim.now.date())
    except SoqlError as exc:
        return err(400, exc.code, exc.format(q))
    records = result.records
    locator: str | None = None
    page = records
    if len(records) > sim.batch_size:
        locator = sim.cursors.open(org.org_id, tooling, result.object_name, records)
        page = records[: sim.batch_size]
    return 200, envelope(page, result.total_size, version, tooling, result.object_name, locator,
                         len(page))


def _query_more(sim: Simulator, org: SimOrg, ident: str, version: str, tooling: bool
                ) -> tuple[int, Any]:
    locator, _, offset_s = ident.partition("-")
    cursor = sim.cursors.get(locator)
    if cursor is None or cursor.org_id != org.org_id or not offset_s.isdigit():
        return err(400, "INVALID_QUERY_LOCATOR", "invalid query locator")
    offset = int(offset_s)
    page = cursor.records[offset : offset + sim.batch_size]
    end = offset + len(page)
    more = end < len(cursor.records)
    if not more:
        sim.cursors.close(locator)
    return 200, envelope(page, len(cursor.records), version, cursor.tooling, cursor.entity,
                         locator if more else None, end)


def _limits(sim: Simulator, org: SimOrg) -> dict[str, Any]:
    used = sim.api_usage(org.org_id)

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


def _sobjects(sim: Simulator, org: SimOrg, method: str, tooling: bool, segs: list[str],
              body: bytes, base: str) -> tuple[int, Any]:
    view = ApiView(sim.data(org.org_id), tooling)
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
            return _create(sim, org, view, obj, body)
        return err(405, "METHOD_NOT_ALLOWED", f"HTTP Method '{method}' not allowed. "
                   "Allowed are GET,POST")
    if len(segs) == 2 and segs[1] == "describe" and method == "GET":
        return 200, _describe(obj, base)
    if len(segs) == 2:
        record = view.get(obj, segs[1])
        if record is None:
            return NOT_FOUND
        allowed = vendor.allowed_methods(obj, method)
        if allowed is not None:
            return err(405, "METHOD_NOT_ALLOWED", f"HTTP Method '{method}' not allowed. "
                       f"Allowed are {allowed}")
        if method == "GET":
            out = {"attributes": {"type": obj, "url": f"{base}sobjects/{obj}/{record['Id']}"}}
            out.update(record)
            return 200, out
        if method == "PATCH":
            return _update(sim, obj, record, body)
        if method == "DELETE":
            with sim.lock:
                view.db.tables[obj].remove(record)
            return 204, None
    return NOT_FOUND


def _body(obj: str, body: bytes) -> tuple[dict[str, Any], tuple[int, Any] | None]:
    try:
        values = orjson.loads(body or b"null")
    except orjson.JSONDecodeError:
        return {}, err(400, "JSON_PARSER_ERROR", "Unexpected character")
    return records.record_fields(obj, values)


def _create(sim: Simulator, org: SimOrg, view: ApiView, obj: str, body: bytes
            ) -> tuple[int, Any]:
    rec, bad = _body(obj, body)
    if bad:
        return bad
    with sim.lock:
        errors = records.check_new(sim, obj, rec)
        if errors:
            return 400, [e.rest() for e in errors]
        record_id = records.insert(sim, org, view.db, obj, rec)
    return 201, {"id": record_id, "success": True, "errors": []}


def _update(sim: Simulator, obj: str, record: dict[str, Any], body: bytes) -> tuple[int, Any]:
    values, bad = _body(obj, body)
    if bad:
        return bad
    with sim.lock:
        if obj in vendor.KEY_PREFIXES:
            return vendor.update(sim, obj, record, values)
        record.update(values)
    return 204, None


def identity(sim: Simulator, org: SimOrg) -> Response:
    """The identity URL (`/id/<org>/<user>`) an OAuth login returns as `id`."""
    return json_response(200, {
        "id": f"{sim.url}/id/{org.org_id}/{org.user_id}", "organization_id": org.org_id,
        "user_id": org.user_id, "username": org.username, "display_name": "Admin Sim",
        "active": True, "user_type": "STANDARD", "language": "de", "locale": "de_DE",
        "urls": {"rest": f"{sim.url}/services/data/v{{version}}/",
                 "query": f"{sim.url}/services/data/v{{version}}/query/"}})


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
