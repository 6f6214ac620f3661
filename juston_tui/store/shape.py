"""Parsing a store file and checking the shape of what it holds.

A store edited by hand (or by an old version) must give one clear line naming the first bad
document, not a traceback from deep inside the first screen that reads it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import date, datetime
from operator import itemgetter
from pathlib import Path
from typing import Any

import orjson

from juston_tui.gc_pause import paused_gc
from juston_tui.store import schema
from juston_tui.store.errors import StoreCorruptError


def parse_store(path: Path, payload: bytes, *, check_shape: bool = True
           ) -> dict[str, dict[str, Any]]:
    """The tables of a whole store file (its base with the journal applied)."""
    return parse_journaled(path, payload, check_shape=check_shape).data


class Parsed:
    """A parsed store file: the tables, how many bytes of it are committed, its base's size."""

    __slots__ = ("base_size", "consumed", "data")

    def __init__(self, data: dict[str, dict[str, Any]], consumed: int, base_size: int) -> None:
        self.data = data
        self.consumed = consumed  # the end of the last complete line: an unterminated tail is
        self.base_size = base_size  # a killed writer's transaction that never happened


def parse_journaled(path: Path, payload: bytes, *, check_shape: bool = True) -> Parsed:
    """Parse a base line and its journal (see engine.py); one clear error for a bad file."""
    if not payload.strip():
        raise StoreCorruptError(path, "the file is empty (truncated?)")
    newline = payload.find(b"\n")
    # A view, not a copy of the base (61 MB at 100,000 orgs + contacts, all at the peak).
    base = memoryview(payload) if newline < 0 else memoryview(payload)[:newline]
    with paused_gc():
        try:
            data = _loads_in_chunks(payload, len(base))
            if data is None:
                data = orjson.loads(base)
            consumed = len(payload) if newline < 0 else newline + 1
            base_size = consumed
        except orjson.JSONDecodeError as exc:
            try:  # not ours line by line: a pretty-printed file (edited by hand, stock TinyDB)
                data = orjson.loads(payload)
            except orjson.JSONDecodeError:
                raise StoreCorruptError(path, f"it is not valid JSON ({exc})") from None
            consumed = base_size = len(payload)
            newline = -1
    if not isinstance(data, dict) or not all(isinstance(v, dict) for v in data.values()):
        raise StoreCorruptError(path, "it is JSON but not a juston-tui store (unexpected layout)")
    meta = data.get("meta")
    if not meta or not any(d.get("key") == "schema" for d in meta.values() if isinstance(d, dict)):
        raise StoreCorruptError(path, "it has no schema version (not a juston-tui store?)")
    if newline >= 0:
        end = payload.rfind(b"\n")
        if end > newline:
            with paused_gc():
                for number, line in enumerate(payload[newline + 1:end].split(b"\n"), start=2):
                    apply_ops(data, journal_ops(path, line, number))
        consumed = end + 1
    problem = shape_problem(data) if check_shape else None
    if problem is not None:
        raise StoreCorruptError(path, problem)
    return Parsed(data, consumed, base_size)


# -- the base, parsed a megabyte at a time -----------------------------------------------------
# orjson parses a whole document into a tree of its own before it builds the Python objects:
# for a 61 MB base (100,000 orgs + 100,000 contacts) ~150 MB on top of the 250 MB of objects,
# all at the peak. A base as juston-tui writes it (`{"table":{"id":{document},...},...}`) is
# parsed instead in pieces of about a megabyte of whole documents, each wrapped in braces.
# A piece is cut where the bytes look like the end of a document (`}` before `,"<digits>":{`
# or before the table's `}`). Such bytes inside a string leave that string unterminated in
# the piece, and inside a nested value its braces unbalanced, so a piece that parses ends at
# a real boundary; one that does not is tried again, one document at a time. Anything else
# (a file not written by juston-tui, too many false cuts) parses whole as before, and the
# error then names what is wrong.
_CHUNK = 1 << 20
_TABLE_KEY = re.compile(rb'"([A-Za-z_][A-Za-z0-9_]*)":\{')
_BIG_CUT = re.compile(rb'\},"\d+":\{')  # after a document, before the next one
_CUT = re.compile(rb'\}(?=,"\d+":\{|\})')  # ... or before its table's end
_FALSE_CUTS = 10_000


def _loads_in_chunks(payload: bytes, end: int) -> dict[str, dict[str, Any]] | None:
    """The base `payload[:end]` parsed a megabyte at a time; None: parse it whole."""
    if end < 2 or payload[0] != 0x7B or payload[end - 1] != 0x7D:  # { ... }
        return None
    data: dict[str, dict[str, Any]] = {}
    memo: dict[Any, Any] | None = {} if end > SHARE_ABOVE else None
    pos, last = 1, end - 1  # `last`: the base's closing brace
    while pos < last:
        key = _TABLE_KEY.match(payload, pos, last)
        if key is None:
            return None
        name = key.group(1).decode()
        table, pos = _table_in_chunks(payload, key.end(), last, name, memo)
        if table is None:
            return None
        data[name] = table
        if pos < last:
            if payload[pos] != 0x2C or pos + 1 == last:  # a comma, and a table after it
                return None
            pos += 1
    return data if pos == last else None


def _table_in_chunks(payload: bytes, start: int, last: int, name: str,
                     memo: dict[Any, Any] | None) -> tuple[dict[str, Any] | None, int]:
    """The table whose members start at `start` (just after its `{`), and the offset just
    after its closing brace; (None, _) when it does not look like one juston-tui wrote.
    With a `memo`, the pieces share their repeated values (`share_repeated`)."""
    if payload[start:start + 1] == b"}":
        return {}, start + 1
    table: dict[str, Any] = {}
    false_cuts = 0
    big = True  # a megabyte at a time, until a piece fails: then document by document
    search_from = start
    while True:
        cut = None
        if big:
            cut = _BIG_CUT.search(payload, start + _CHUNK, last)
            if cut is None:
                big = False  # the table ends within the next megabyte
        if cut is None:
            cut = _CUT.search(payload, search_from, last)
            if cut is None:
                return None, last
        at = cut.start()  # the `}` that would end the piece's last document
        try:
            piece = orjson.loads(b"{" + payload[start:at + 1] + b"}")
        except orjson.JSONDecodeError:
            false_cuts += 1
            if false_cuts > _FALSE_CUTS:
                return None, last
            if big:
                big = False  # past the table's end, or a cut inside a string
            else:
                search_from = at + 1
            continue
        if memo is not None:
            share_repeated(name, piece, memo)
            share = memo.setdefault  # the tables' document ids ("1", "2", ...) alike too
            for doc_id, doc in piece.items():
                table[share(doc_id, doc_id)] = doc
        else:
            table.update(piece)
        if payload[at + 1] == 0x7D:  # } : the table's end
            return table, at + 2
        start = search_from = at + 2  # the next document's key


# -- repeated values, one object each ----------------------------------------------------------
# Each parsed document has its own copy of every value: 100,000 orgs hold 100,000 strings
# "production", "login", "token" and push objects alike, and 100,000 contacts a copy of
# their org's ID each, and every table its own document ids "1", "2", ... In a big base
# (SHARE_ABOVE) the pieces share them as they are parsed, one object per distinct value, so
# the next piece reuses the memory at once (~60 MB at 100,000 orgs + contacts, for ~0.5 s
# more of parsing; below that size not worth the time).
# Only which object a value is changes, never what it is; and nothing changes a cached
# document or a value in it in place (engine.IntKeyView: a write replaces the document).
SHARE_ABOVE = 20 << 20


def share_repeated(table: str, docs: Mapping[str, Any], memo: dict[Any, Any]) -> None:
    """Make equal values of a few fields of `docs` one object each (in place), across the
    calls that pass the same `memo`."""
    share = memo.setdefault
    if table == "orgs":
        for doc in docs.values():
            if type(doc) is not dict:
                continue
            for name in ("kind", "domain", "auth_method"):
                value = doc.get(name)
                if type(value) is str:
                    doc[name] = share(value, value)
            push = doc.get("push")
            if type(push) is dict:
                try:
                    doc["push"] = share(("push", *push.items()), push)
                except TypeError:  # an unhashable value (not ours): keep it as it is
                    pass
            value = doc.get("org_id")
            if type(value) is str:
                share(value, value)  # the contacts' links take this one
    elif table == "contacts":
        for doc in docs.values():
            if type(doc) is not dict:
                continue
            value = doc.get("title")
            if type(value) is str:
                doc["title"] = share(value, value)
            links = doc.get("org_ids")
            if type(links) is list and links:
                links[:] = [share(t, t) if type(t) is str else t for t in links]


Op = tuple[str, str, Any]


def journal_ops(path: Path, line: bytes, number: int) -> list[Op]:
    """The operations of one complete journal line, or a clear error naming the line."""
    try:
        record = orjson.loads(line)
    except orjson.JSONDecodeError as exc:
        raise StoreCorruptError(path, f"journal line {number} is not valid JSON ({exc})") from None
    ops = record.get("j") if isinstance(record, dict) else None
    if not isinstance(ops, list) or not all(
        isinstance(op, list) and len(op) == 3 and isinstance(op[0], str) and isinstance(op[1], str)
        for op in ops
    ):
        raise StoreCorruptError(path, f"journal line {number} is not a list of changes")
    return [(op[0], op[1], op[2]) for op in ops]


def apply_ops(data: dict[str, dict[str, Any]], ops: list[Op]) -> None:
    for table, doc_id, doc in ops:
        docs = data.setdefault(table, {})
        if doc is None:
            docs.pop(doc_id, None)
        else:
            docs[doc_id] = doc


def ops_problem(data: Mapping[str, Mapping[str, Any]], ops: list[Op]) -> str | None:
    """What is wrong with another process's journal lines (a document we cannot use)."""
    if schema_version_of(data["meta"]) != schema.SCHEMA_VERSION:
        return None
    for table, doc_id, doc in ops:
        if table not in schema.TABLES:
            return f"journal: unknown table {_shown(table)}"
        if not _is_doc_id(doc_id):
            return f"journal: {table} document id {_shown(doc_id)} is not a number"
        if doc is not None:
            problem = _doc_problem(table, doc_id, doc)
            if problem is not None:
                return problem
    return None


# -- the shape of a loaded store ----------------------------------------------------------------
# A store edited by hand (or by an old version) must give one clear line naming the first bad
# document, not a traceback from deep inside the first screen that reads it. Only the types
# the code relies on are checked; a missing field takes its default.
_TEXT = (str,)
_TEXT_OR_NONE = (str, type(None))
_FieldSpec = tuple[tuple[str, tuple[type, ...], str], ...]
_FIELD_TYPES: dict[str, _FieldSpec] = {
    "orgs": (
        *((f, _TEXT, "text") for f in (
            "name", "kind", "instance_url", "domain", "auth_method", "username",
            "consumer_key", "ca_bundle", "sandbox_push_ticket", "notes")),
        ("parent_org_id", _TEXT_OR_NONE, "text or null"),
        ("products", (list,), "a list of text"),
        ("tags", (list,), "a list of text"),
        ("push", (dict, type(None)), "an object (state, requested_on, ticket, registered_on)"),
        ("vendor", (bool,), "true or false"),
    ),
    "contacts": (
        *((f, _TEXT, "text") for f in ("full_name", "email", "title", "role", "notes")),
        ("org_ids", (list,), "a list of org IDs"),
        ("eligible", (bool,), "true or false"),
    ),
    "snapshots": (
        ("checked_at", _TEXT, "an ISO-8601 time"),
        ("error", _TEXT_OR_NONE, "text or null"),
        ("checks", (list,), "a list of checks"),
        ("facts", (dict,), "an object"),
        ("history", (list,), "a list"),
    ),
    "pushes": (
        *((f, _TEXT, "text") for f in (
            "status", "product", "timezone", "version", "kind", "notes", "start_utc")),
        ("announced_on", _TEXT_OR_NONE, "an ISO date or null"),
        ("actions", (list,), "a list of actions"),
    ),
    "checklist": (("verification", (dict, type(None)), "an object or null"),),
    "push_plans": (
        *((f, _TEXT, "text") for f in ("version", "version_id", "state", "timezone")),
        ("waves", (list,), "a list of waves"),
        ("excluded", (list,), "a list of excluded orgs"),
    ),
    "push_audit": (
        *((f, _TEXT, "text") for f in ("at", "action", "user")),
        ("summary", (dict,), "an object"),
    ),
}
_LIST_ITEMS: dict[tuple[str, str], tuple[type, str]] = {
    ("orgs", "products"): (str, "a list of text"),
    ("orgs", "tags"): (str, "a list of text"),
    ("contacts", "org_ids"): (str, "a list of org IDs"),
    ("snapshots", "checks"): (dict, "a list of checks (objects with an id)"),
    ("pushes", "actions"): (dict, "a list of actions (objects)"),
    ("push_plans", "waves"): (dict, "a list of waves (objects)"),
    ("push_plans", "excluded"): (dict, "a list of excluded orgs (objects)"),
}
_REQUIRED = {"snapshots": ("checked_at",), "pushes": ("start_utc",)}


def _shown(value: Any) -> str:
    text = repr(value) if isinstance(value, str) else orjson.dumps(value).decode()
    return text if len(text) <= 40 else text[:39] + "…"


def _is_doc_id(doc_id: str) -> bool:
    """TinyDB's document ids are numbers (the key indexes and its next id rely on it)."""
    return doc_id.isascii() and doc_id.isdigit()


def schema_version_of(meta: Mapping[str, Any]) -> Any:
    for doc in meta.values():
        if isinstance(doc, dict) and doc.get("key") == "schema":
            return doc.get("version")
    return None


def snapshot_problem(doc: Any, where: str) -> str | None:
    """What is wrong with one line of the snapshot file (see snapshots.py), if anything.

    The quick yes (type() tests, ~1.5 µs) covers every snapshot our code wrote; anything else
    goes field by field (~20 µs) and says what is wrong. 10,000 lines are read at start-up.
    """
    if type(doc) is dict:
        get = doc.get
        checks, error, history = get("checks"), get("error"), get("history", ())
        if (type(get("org_id")) is str and get("org_id") and type(get("checked_at")) is str
                and type(checks) is list and type(get("facts")) is dict
                and (error is None or type(error) is str)
                and type(history) in (list, tuple)
                and all(type(c) is dict and type(c.get("id")) is str for c in checks)):
            return None
    return _doc_problem("snapshots", where, doc)


def _doc_problem(table: str, doc_id: str, doc: Any) -> str | None:
    key_field = schema.TABLES.get(table, "org_id")
    if not isinstance(doc, dict):
        return f"{table} document {doc_id}: {_shown(doc)} is not an object"
    key = doc.get(key_field)
    if not isinstance(key, str) or not key:
        return f"{table} document {doc_id}: no {key_field} (its key)"
    for name in _REQUIRED.get(table, ()):
        if name not in doc:
            return f"{table} {key}: {name} is missing"
    for name, types, expected in _FIELD_TYPES.get(table, ()):
        if name not in doc:
            continue
        value = doc[name]
        if not isinstance(value, types):
            return f"{table} {key}: {name} is {_shown(value)}, expected {expected}"
        item = _LIST_ITEMS.get((table, name))
        if item is not None and not all(isinstance(v, item[0]) for v in value):
            return f"{table} {key}: {name} is {_shown(value)}, expected {item[1]}"
    if table == "orgs" and isinstance(doc.get("push"), dict):
        for name, value in doc["push"].items():
            if not isinstance(value, _TEXT_OR_NONE):
                return f"orgs {key}: push.{name} is {_shown(value)}, expected text or null"
    elif table == "snapshots":
        if any(not isinstance(c.get("id"), str) for c in doc.get("checks") or ()):
            return f"snapshots {key}: a check has no id"
    elif table == "pushes":
        parsers = (("start_utc", datetime.fromisoformat), ("announced_on", date.fromisoformat))
        for name, parse in parsers:
            value = doc.get(name)
            if not value:
                continue
            try:
                parse(value.replace("Z", "+00:00"))
            except ValueError:
                return f"pushes {key}: {name} is {_shown(value)}, expected an ISO-8601 date/time"
    return None


def _fast_check(table: str) -> Callable[[dict[str, Any]], bool]:
    """A quick yes for a document of `table` our code wrote (every field there, right types).

    Most of the work runs in C (itemgetter, map, set): about 1 µs per document, where the
    field-by-field `_doc_problem` takes 4. A no (or a missing field) falls back to
    `_doc_problem`, which knows the defaults and says what is wrong.
    """
    spec = _FIELD_TYPES.get(table, ())
    texts = (schema.TABLES[table], *(name for name, types, _ in spec if types == _TEXT))
    get_texts = itemgetter(*texts)
    others = [(name, frozenset(types)) for name, types, _ in spec if types != _TEXT]
    items = [(name, item) for (t, name), (item, _) in _LIST_ITEMS.items() if t == table]
    only_text = {str}
    key_field = schema.TABLES[table]
    push_values = {str, type(None)}

    def check(doc: dict[str, Any]) -> bool:
        if set(map(type, get_texts(doc))) != only_text or not doc[key_field]:
            return False
        for name, types in others:
            if type(doc[name]) not in types:
                return False
        for name, item in items:
            value = doc[name]
            if value and set(map(type, value)) != {item}:
                return False
        push = doc.get("push") if table == "orgs" else None
        return push is None or set(map(type, push.values())) <= push_values

    return check


_FAST_TABLES = ("orgs", "contacts")  # the big ones; the others go field by field


def shape_problem(data: Mapping[str, Mapping[str, Any]]) -> str | None:
    """The first thing in a parsed store this version cannot use, as `table key: what`."""
    version = schema_version_of(data["meta"])
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        return (f"meta: schema version {_shown(version)} is not one juston-tui has written "
                f"(1 to {schema.SCHEMA_VERSION})")
    if version != schema.SCHEMA_VERSION:
        return None  # older: the migrations reshape it; newer: read-only, its shape is not ours
    for table in schema.TABLES:
        docs = data.get(table) or {}
        fast = _fast_check(table) if table in _FAST_TABLES else None
        for doc_id, doc in docs.items():
            if not _is_doc_id(doc_id):
                return f"{table} document id {_shown(doc_id)} is not a number"
            if fast is not None and type(doc) is dict:
                try:
                    if fast(doc):
                        continue
                except KeyError:
                    pass
            problem = _doc_problem(table, doc_id, doc)
            if problem is not None:
                return problem
    return None
