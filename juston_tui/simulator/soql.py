"""A SOQL subset evaluated over in-memory records (the parser is soql_parse.py).

The simulator evaluates queries instead of matching fixed strings, so the probes are tested
against the language they will meet in a real org: relationship paths, filters, ordering, limits,
semi-joins, child subqueries, and Salesforce's error codes and messages for bad queries.

Supported: ``SELECT f, Rel.f, COUNT(), (SELECT .. FROM ChildRel) FROM Obj [WHERE cond]
[ORDER BY f [ASC|DESC] [NULLS FIRST|LAST], ..] [LIMIT n] [OFFSET n]`` where cond uses
``= != <> < > <= >= [NOT] IN (..|SELECT ..) LIKE``, ``AND``/``OR``/``NOT`` and parentheses,
string, number, true/false/null, date, datetime and a few date literals (TODAY, LAST_N_DAYS:n...).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, Protocol

from .soql_parse import (
    BoolOp,
    Cmp,
    Cond,
    FieldPath,
    Literal,
    Not,
    OrderItem,
    Query,
    SoqlError,
    SubQuery,
    malformed,
    parse,
    parse_datetime,
)

__all__ = [
    "Cmp",
    "FieldPath",
    "ObjectSchema",
    "OrderItem",
    "Query",
    "SoqlDatabase",
    "SoqlError",
    "SubQuery",
    "execute",
    "parse",
]


# ---------------------------------------------------------------------------------------- schema


@dataclass(slots=True)
class ObjectSchema:
    """Fields (lower-case name → canonical name, type) and relationships of one sObject."""

    name: str
    fields: dict[str, tuple[str, str]]
    # lower relationship name → (canonical relationship name, foreign-key field, target object)
    parents: dict[str, tuple[str, str, str]] = field(default_factory=dict)
    # lower child relationship name → (canonical name, child object, foreign-key field on child)
    children: dict[str, tuple[str, str, str]] = field(default_factory=dict)

    @classmethod
    def build(cls, name: str, fields: Mapping[str, str],
              parents: Mapping[str, tuple[str, str]] | None = None,
              children: Mapping[str, tuple[str, str]] | None = None) -> ObjectSchema:
        """Build from ``{"Field": "type"}``, ``{"Rel": ("FkField", "Target")}``, children alike."""
        return cls(
            name,
            {k.lower(): (k, t) for k, t in fields.items()},
            {k.lower(): (k, fk, tgt) for k, (fk, tgt) in (parents or {}).items()},
            {k.lower(): (k, obj, fk) for k, (obj, fk) in (children or {}).items()},
        )


class SoqlDatabase(Protocol):
    """What the evaluator needs from an org's data."""

    def schema(self, name: str) -> ObjectSchema | None: ...

    def rows(self, name: str) -> list[dict[str, Any]]: ...

    def get(self, name: str, record_id: str) -> dict[str, Any] | None: ...


# ---------------------------------------------------------------------------------------- values

_STRINGY = {"id", "reference", "string", "picklist", "textarea", "email", "url", "phone"}
_NUMERIC = {"int": "integer", "double": "double", "currency": "double", "percent": "double"}


def _as_dt(value: Any) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    return parse_datetime(str(value))


def _month_start(d: date, delta: int) -> date:
    m = d.month - 1 + delta
    return date(d.year + m // 12, m % 12 + 1, 1)


def _date_range(word: str, n: int, today: date) -> tuple[datetime, datetime]:
    """The half-open UTC interval a date literal stands for."""
    day = timedelta(days=1)
    if word == "TODAY":
        a, b = today, today + day
    elif word == "YESTERDAY":
        a, b = today - day, today
    elif word == "TOMORROW":
        a, b = today + day, today + 2 * day
    elif word == "LAST_N_DAYS":
        a, b = today - n * day, today + day
    elif word == "NEXT_N_DAYS":
        a, b = today + day, today + (n + 1) * day
    elif word in ("THIS_WEEK", "LAST_WEEK", "NEXT_WEEK"):
        start = today - timedelta(days=(today.weekday() + 1) % 7)  # weeks start on Sunday
        shift = {"THIS_WEEK": 0, "LAST_WEEK": -7, "NEXT_WEEK": 7}[word]
        a = start + timedelta(days=shift)
        b = a + 7 * day
    elif word in ("THIS_MONTH", "LAST_MONTH", "NEXT_MONTH"):
        shift = {"THIS_MONTH": 0, "LAST_MONTH": -1, "NEXT_MONTH": 1}[word]
        a, b = _month_start(today, shift), _month_start(today, shift + 1)
    elif word in ("LAST_N_MONTHS", "NEXT_N_MONTHS"):
        if word == "LAST_N_MONTHS":
            a, b = _month_start(today, -n), _month_start(today, 0)
        else:
            a, b = _month_start(today, 1), _month_start(today, n + 1)
    else:  # THIS_YEAR, LAST_YEAR, NEXT_YEAR
        shift = {"THIS_YEAR": 0, "LAST_YEAR": -1, "NEXT_YEAR": 1}[word]
        a, b = date(today.year + shift, 1, 1), date(today.year + shift + 1, 1, 1)

    def to_dt(d: date) -> datetime:
        return datetime(d.year, d.month, d.day, tzinfo=UTC)

    return to_dt(a), to_dt(b)


def _same_id(a: str, b: str) -> bool:
    if len(a) in (15, 18) and len(b) in (15, 18) and len(a) != len(b):
        return a[:15] == b[:15]
    return a.lower() == b.lower()


def _eq(value: Any, lit: Literal, ftype: str, today: date) -> bool:
    if lit.kind == "null":
        return value is None
    if value is None:
        return False
    if ftype in ("id", "reference"):
        return _same_id(str(value), str(lit.value))
    if lit.kind == "string":
        return str(value).casefold() == lit.value.casefold()
    if lit.kind == "dateliteral":
        a, b = _date_range(lit.value[0], lit.value[1], today)
        v = _as_dt(value)
        return v is not None and a <= v < b
    if lit.kind in ("date", "datetime"):
        if ftype == "date" and lit.kind == "date":
            return _as_dt(value) == _as_dt(lit.value)
        return _as_dt(value) == _as_dt(lit.value)
    return bool(value == lit.value)


def _order_cmp(value: Any, lit: Literal, ftype: str, today: date) -> int | None:
    """-1/0/1 comparing a field value to a literal, or None when either side is null."""
    if value is None or lit.kind == "null":
        return None
    if lit.kind == "dateliteral":
        a, b = _date_range(lit.value[0], lit.value[1], today)
        v = _as_dt(value)
        assert v is not None
        return -1 if v < a else (1 if v >= b else 0)
    if lit.kind in ("date", "datetime"):
        v, w = _as_dt(value), _as_dt(lit.value)
        assert v is not None and w is not None
        return (v > w) - (v < w)
    if lit.kind == "string":
        v, w = str(value).casefold(), lit.value.casefold()
        return (v > w) - (v < w)
    return (value > lit.value) - (value < lit.value)


def _like_regex(pattern: str) -> re.Pattern[str]:
    out = []
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\" and i + 1 < len(pattern) and pattern[i + 1] in "%_":
            out.append(re.escape(pattern[i + 1]))
            i += 2
            continue
        out.append(".*" if ch == "%" else "." if ch == "_" else re.escape(ch))
        i += 1
    return re.compile("".join(out), re.IGNORECASE | re.DOTALL)


def _sort_key(value: Any) -> Any:
    if isinstance(value, str):
        return value.casefold()
    if isinstance(value, bool):
        return int(value)
    return value


# ---------------------------------------------------------------------------------------- evaluator


@dataclass(slots=True)
class _Resolved:
    """A field path checked against the schema: relationship hops, final field, its type."""

    hops: list[tuple[str, str, str]]  # (canonical rel name, fk field, target object)
    field: str
    ftype: str
    objects: list[str]  # object names along the way (first = FROM object)


class _Evaluator:
    def __init__(self, db: SoqlDatabase, text: str, url_prefix: str, today: date) -> None:
        self.db = db
        self.text = text
        self.url_prefix = url_prefix
        self.today = today

    # ---- validation
    def object_schema(self, name: str, pos: int) -> ObjectSchema:
        schema = self.db.schema(name)
        if schema is None:
            raise SoqlError(
                "INVALID_TYPE",
                f"sObject type '{name}' is not supported. If you are attempting to use a custom "
                "object, be sure to append the '__c' after the entity name. Please reference your "
                "WSDL or the describe call for the appropriate names.",
                pos,
            )
        return schema

    def resolve(self, schema: ObjectSchema, path: FieldPath) -> _Resolved:
        hops: list[tuple[str, str, str]] = []
        objects = [schema.name]
        current = schema
        for part in path.parts[:-1]:
            rel = current.parents.get(part.lower())
            if rel is None:
                raise SoqlError(
                    "INVALID_FIELD",
                    f"Didn't understand relationship '{part}' in field path. If you are attempting "
                    "to use a custom relationship, be sure to append the '__r' after the custom "
                    "relationship name. Please reference your WSDL or the describe call for the "
                    "appropriate names.",
                    path.pos,
                )
            hops.append(rel)
            target = self.db.schema(rel[2])
            if target is None:  # relationship to an object this org does not have
                raise SoqlError("INVALID_FIELD", f"Didn't understand relationship '{part}' in "
                                "field path.", path.pos)
            current = target
            objects.append(current.name)
        last = path.parts[-1]
        found = current.fields.get(last.lower())
        if found is None:
            raise SoqlError(
                "INVALID_FIELD",
                f"No such column '{last}' on entity '{current.name}'. If you are attempting to use "
                "a custom field, be sure to append the '__c' after the custom field name. Please "
                "reference your WSDL or the describe call for the appropriate names.",
                path.pos,
            )
        return _Resolved(hops, found[0], found[1], objects)

    def check_literal(self, res: _Resolved, lit: Literal, label: str) -> None:
        if lit.kind == "null":
            return
        ft = res.ftype
        bad: str | None = None
        if ft == "boolean" and lit.kind != "boolean":
            bad = "must be of type boolean and should not be enclosed in quotes"
        elif ft in _NUMERIC and lit.kind != "number":
            bad = f"must be of type {_NUMERIC[ft]} and should not be enclosed in quotes"
        elif ft == "datetime" and lit.kind not in ("datetime", "dateliteral"):
            bad = "must be of type dateTime and should not be enclosed in quotes"
        elif ft == "date" and lit.kind not in ("date", "dateliteral"):
            bad = "must be of type date and should not be enclosed in quotes"
        elif ft in _STRINGY and lit.kind != "string":
            bad = "must be of type string and should be enclosed in quotes"
        if bad:
            raise SoqlError("INVALID_FIELD", f"value of filter criterion for field '{label}' {bad}",
                            lit.pos)

    # ---- values
    def value(self, record: Mapping[str, Any] | None, res: _Resolved) -> Any:
        for _rel, fk, target in res.hops:
            if record is None:
                return None
            ref = record.get(fk)
            record = self.db.get(target, ref) if ref else None
        return None if record is None else record.get(res.field)

    def compile(self, schema: ObjectSchema, cond: Cond) -> Callable[[Mapping[str, Any]], bool]:
        if isinstance(cond, BoolOp):
            parts = [self.compile(schema, c) for c in cond.items]
            if cond.op == "and":
                return lambda r: all(p(r) for p in parts)
            return lambda r: any(p(r) for p in parts)
        if isinstance(cond, Not):
            inner = self.compile(schema, cond.item)
            return lambda r: not inner(r)
        res = self.resolve(schema, cond.path)
        label = res.field
        today = self.today
        ft = res.ftype
        op = cond.op
        if op in ("in", "notin"):
            if isinstance(cond.value, Query):
                values = self.semi_join(cond.value)
                ids = {str(v)[:15] for v in values if v is not None}
                if op == "in":
                    return lambda r: (v := self.value(r, res)) is not None and str(v)[:15] in ids
                return lambda r: (v := self.value(r, res)) is None or str(v)[:15] not in ids
            lits = cond.value
            assert isinstance(lits, tuple)
            for lit in lits:
                self.check_literal(res, lit, label)
            if op == "in":
                return lambda r: any(_eq(self.value(r, res), lit, ft, today) for lit in lits)
            return lambda r: not any(_eq(self.value(r, res), lit, ft, today) for lit in lits)
        lit = cond.value
        assert isinstance(lit, Literal)
        if op == "like":
            if ft not in _STRINGY:
                raise SoqlError("INVALID_FIELD", f"invalid operator on {ft} field: LIKE", lit.pos)
            rx = _like_regex(lit.value)
            return lambda r: (v := self.value(r, res)) is not None and bool(rx.fullmatch(str(v)))
        self.check_literal(res, lit, label)
        if ft == "boolean" and op not in ("=", "!="):
            raise SoqlError("INVALID_FIELD", f"invalid operator on boolean field: {op}", lit.pos)
        if op == "=":
            return lambda r: _eq(self.value(r, res), lit, ft, today)
        if op == "!=":
            return lambda r: not _eq(self.value(r, res), lit, ft, today)
        if lit.kind == "null":
            return lambda r: False
        want = {"<": (-1,), ">": (1,), "<=": (-1, 0), ">=": (1, 0)}[op]
        return lambda r: _order_cmp(self.value(r, res), lit, ft, today) in want

    def semi_join(self, sub: Query) -> list[Any]:
        schema = self.object_schema(sub.from_, sub.from_pos)
        if len(sub.select) != 1 or not isinstance(sub.select[0], FieldPath):
            raise malformed("semi join sub-selects must select exactly one field", sub.from_pos)
        res = self.resolve(schema, sub.select[0])
        rows = self.filtered(schema, sub)
        return [self.value(r, res) for r in rows]

    def filtered(self, schema: ObjectSchema, q: Query,
                 rows: Iterable[dict[str, Any]] | None = None) -> list[dict[str, Any]]:
        src = self.db.rows(schema.name) if rows is None else rows
        pred = self.compile(schema, q.where) if q.where is not None else None
        out = [r for r in src if pred is None or pred(r)]
        if q.order_by:
            resolved = [(self.resolve(schema, o.path), o) for o in q.order_by]
            for res, o in reversed(resolved):
                present = [r for r in out if self.value(r, res) is not None]
                missing = [r for r in out if self.value(r, res) is None]
                present.sort(key=lambda r, res=res: _sort_key(self.value(r, res)),
                             reverse=o.descending)
                out = present + missing if o.nulls_last else missing + present
        if q.offset:
            out = out[q.offset :]
        if q.limit is not None:
            out = out[: q.limit]
        return out

    # ---- rendering
    def attributes(self, obj: str, record: Mapping[str, Any]) -> dict[str, str]:
        rid = record.get("Id") or ""
        return {"type": obj, "url": f"{self.url_prefix}sobjects/{obj}/{rid}"}

    def render(self, schema: ObjectSchema, q: Query, record: Mapping[str, Any],
               plan: list[tuple[FieldPath, _Resolved] | tuple[SubQuery, tuple[str, str, str]]]
               ) -> dict[str, Any]:
        out: dict[str, Any] = {"attributes": self.attributes(schema.name, record)}
        for item, info in plan:
            if isinstance(item, SubQuery):
                assert isinstance(info, tuple)
                out[info[0]] = self.render_children(record, item.query, info)
                continue
            assert isinstance(info, _Resolved)
            res = info
            if not res.hops:
                out[res.field] = record.get(res.field)
                continue
            # Walk/create the nested relationship objects, null when the parent does not exist.
            container: dict[str, Any] = out
            current: Mapping[str, Any] | None = record
            for idx, (rel, fk, target) in enumerate(res.hops):
                parent = None
                if current is not None:
                    ref = current.get(fk)
                    parent = self.db.get(target, ref) if ref else None
                if parent is None:
                    container.setdefault(rel, None)
                    break
                nested = container.get(rel)
                if nested is None:
                    nested = {"attributes": self.attributes(res.objects[idx + 1], parent)}
                    container[rel] = nested
                container = nested
                current = parent
            else:
                assert current is not None
                container[res.field] = current.get(res.field)
        return out

    def render_children(self, record: Mapping[str, Any], sub: Query,
                        info: tuple[str, str, str]) -> dict[str, Any] | None:
        _name, child_obj, fk = info
        schema = self.object_schema(child_obj, sub.from_pos)
        rid = record.get("Id")
        rows = [r for r in self.db.rows(child_obj) if rid and r.get(fk) and _same_id(r[fk], rid)]
        rows = self.filtered(schema, sub, rows)
        if not rows:
            return None
        plan = self.plan(schema, sub)
        return {"totalSize": len(rows), "done": True,
                "records": [self.render(schema, sub, r, plan) for r in rows]}

    def plan(self, schema: ObjectSchema, q: Query
             ) -> list[tuple[FieldPath, _Resolved] | tuple[SubQuery, tuple[str, str, str]]]:
        plan: list[tuple[FieldPath, _Resolved] | tuple[SubQuery, tuple[str, str, str]]] = []
        seen: set[str] = set()
        for item in q.select:
            if isinstance(item, SubQuery):
                child = schema.children.get(item.query.from_.lower())
                if child is None:
                    raise SoqlError(
                        "INVALID_TYPE",
                        f"Didn't understand relationship '{item.query.from_}' in FROM part of "
                        "query call. If you are attempting to use a custom relationship, be sure "
                        "to append the '__r' after the custom relationship name. Please reference "
                        "your WSDL or the describe call for the appropriate names.",
                        item.query.from_pos,
                    )
                plan.append((item, child))
                continue
            res = self.resolve(schema, item)
            key = ".".join([h[0] for h in res.hops] + [res.field]).lower()
            if key in seen:
                raise malformed(f"duplicate field selected: {item.text}", item.pos)
            seen.add(key)
            plan.append((item, res))
        return plan


@dataclass(slots=True)
class QueryResult:
    object_name: str
    records: list[dict[str, Any]]
    total_size: int


def execute(db: SoqlDatabase, text: str, *, url_prefix: str = "/services/data/v62.0/",
            today: date | None = None) -> QueryResult:
    """Parse and evaluate `text` over `db`; records come back rendered as Salesforce JSON."""
    query = parse(text)
    ev = _Evaluator(db, text, url_prefix, today or datetime.now(UTC).date())
    schema = ev.object_schema(query.from_, query.from_pos)
    if query.count:
        rows = ev.filtered(schema, query)
        return QueryResult(schema.name, [], len(rows))
    plan = ev.plan(schema, query)
    rows = ev.filtered(schema, query)
    records = [ev.render(schema, query, r, plan) for r in rows]
    return QueryResult(schema.name, records, len(records))
