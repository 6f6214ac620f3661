"""SOQL text to a query tree: errors, lexer, AST and parser of the simulator's SOQL subset.

The grammar (what soql.py evaluates): ``SELECT f, Rel.f, COUNT(), (SELECT .. FROM ChildRel)
FROM Obj [WHERE cond] [ORDER BY f [ASC|DESC] [NULLS FIRST|LAST], ..] [LIMIT n] [OFFSET n]``.
A syntax error is a SoqlError with Salesforce's code (MALFORMED_QUERY) and the position its
message points at.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

__all__ = [
    "BoolOp",
    "Cmp",
    "Cond",
    "FieldPath",
    "Literal",
    "Not",
    "OrderItem",
    "Query",
    "SoqlError",
    "SubQuery",
    "malformed",
    "parse",
    "parse_datetime",
]


# ---------------------------------------------------------------------------------------- errors


class SoqlError(Exception):
    """A query error with Salesforce's code; `format(query)` gives the multi-line message."""

    def __init__(self, code: str, message: str, pos: int | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.pos = pos

    def format(self, query: str) -> str:
        """Render like Salesforce: the query line, a caret, the row/column, the message."""
        if self.pos is None:
            return self.message
        before = query[: self.pos]
        row = before.count("\n") + 1
        line_start = before.rfind("\n") + 1
        line_end = query.find("\n", self.pos)
        line = query[line_start : line_end if line_end >= 0 else len(query)]
        col = self.pos - line_start + 1
        return f"\n{line}\n{' ' * (col - 1)}^\nERROR at Row:{row}:Column:{col}\n{self.message}"


def malformed(message: str, pos: int | None) -> SoqlError:
    return SoqlError("MALFORMED_QUERY", message, pos)


# ---------------------------------------------------------------------------------------- lexer

_TOKEN_RE = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<datetime>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2}))
  | (?P<date>\d{4}-\d{2}-\d{2})
  | (?P<number>-?\d+(?:\.\d+)?)
  | (?P<string>'(?:\\.|[^'\\])*')
  | (?P<ident>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<op><=|>=|!=|<>|=|<|>)
  | (?P<punct>[(),.:*])
    """,
    re.VERBOSE,
)

_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", "b": "\b", "f": "\f", "'": "'", '"': '"', "\\": "\\",
            "%": "\\%", "_": "\\_"}


@dataclass(frozen=True, slots=True)
class Token:
    kind: str
    text: str
    pos: int

    @property
    def upper(self) -> str:
        return self.text.upper()


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    pos = 0
    while pos < len(text):
        m = _TOKEN_RE.match(text, pos)
        if not m:
            if text[pos] == "'":
                raise malformed(f"line 1:{pos} mismatched character '<EOF>' expecting \"'\"",
                                 pos)
            raise malformed(f"unexpected token: '{text[pos]}'", pos)
        kind = m.lastgroup or ""
        if kind != "ws":
            tokens.append(Token(kind, m.group(), pos))
        pos = m.end()
    tokens.append(Token("eof", "", len(text)))
    return tokens


def _unquote(raw: str, pos: int) -> str:
    out = []
    i = 1
    while i < len(raw) - 1:
        ch = raw[i]
        if ch == "\\":
            nxt = raw[i + 1]
            if nxt not in _ESCAPES:
                raise malformed(f"Invalid string literal '{raw}'. Illegal character sequence "
                                 f"'\\{nxt}' in string literal.", pos)
            out.append(_ESCAPES[nxt])
            i += 2
        else:
            out.append(ch)
            i += 1
    return "".join(out)


# ---------------------------------------------------------------------------------------- AST


@dataclass(frozen=True, slots=True)
class FieldPath:
    parts: tuple[str, ...]
    pos: int

    @property
    def text(self) -> str:
        return ".".join(self.parts)


@dataclass(frozen=True, slots=True)
class Literal:
    kind: str  # string | number | boolean | null | date | datetime | dateliteral
    value: Any
    pos: int


@dataclass(frozen=True, slots=True)
class Cmp:
    path: FieldPath
    op: str  # = != < > <= >= like in notin
    value: Literal | tuple[Literal, ...] | Query


@dataclass(frozen=True, slots=True)
class BoolOp:
    op: str  # and | or
    items: tuple[Cond, ...]


@dataclass(frozen=True, slots=True)
class Not:
    item: Cond


Cond = Cmp | BoolOp | Not


@dataclass(frozen=True, slots=True)
class SubQuery:
    query: Query


@dataclass(frozen=True, slots=True)
class OrderItem:
    path: FieldPath
    descending: bool
    nulls_last: bool


@dataclass(slots=True)
class Query:
    select: list[FieldPath | SubQuery]
    from_: str
    from_pos: int
    where: Cond | None = None
    order_by: list[OrderItem] = field(default_factory=list)
    limit: int | None = None
    offset: int | None = None
    count: bool = False


# ---------------------------------------------------------------------------------------- parser

_RESERVED = {"SELECT", "FROM", "WHERE", "AND", "OR", "NOT", "IN", "LIKE", "ORDER", "BY", "LIMIT",
             "OFFSET", "GROUP", "HAVING", "WITH", "FOR", "NULL", "TRUE", "FALSE", "ASC", "DESC",
             "NULLS", "INCLUDES", "EXCLUDES", "USING", "TYPEOF"}
_DATE_LITERALS = {"TODAY", "YESTERDAY", "TOMORROW", "THIS_MONTH", "LAST_MONTH", "NEXT_MONTH",
                  "THIS_YEAR", "LAST_YEAR", "NEXT_YEAR", "LAST_WEEK", "THIS_WEEK", "NEXT_WEEK"}
_DATE_N_LITERALS = {"LAST_N_DAYS", "NEXT_N_DAYS", "LAST_N_MONTHS", "NEXT_N_MONTHS"}


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = tokenize(text)
        self.i = 0

    # helpers
    @property
    def tok(self) -> Token:
        return self.tokens[self.i]

    def advance(self) -> Token:
        t = self.tokens[self.i]
        self.i += 1
        return t

    def is_kw(self, *words: str) -> bool:
        return self.tok.kind == "ident" and self.tok.upper in words

    def expect_kw(self, word: str) -> Token:
        if not self.is_kw(word):
            self.unexpected()
        return self.advance()

    def expect_punct(self, ch: str) -> Token:
        if not (self.tok.kind == "punct" and self.tok.text == ch):
            self.unexpected()
        return self.advance()

    def unexpected(self) -> None:
        t = self.tok
        if t.kind == "eof":
            raise malformed("unexpected token: <EOF>", t.pos)
        raise malformed(f"unexpected token: {t.text}", t.pos)

    # grammar
    def query(self, nested: bool = False) -> Query:
        self.expect_kw("SELECT")
        select: list[FieldPath | SubQuery] = []
        count = False
        while True:
            if self.is_kw("COUNT") and self.tokens[self.i + 1].text == "(":
                self.advance()
                self.expect_punct("(")
                self.expect_punct(")")
                count = True
            elif self.tok.kind == "punct" and self.tok.text == "(":
                self.advance()
                select.append(SubQuery(self.query(nested=True)))
                self.expect_punct(")")
            else:
                select.append(self.path())
            if self.tok.kind == "punct" and self.tok.text == ",":
                self.advance()
                continue
            break
        if count and select:
            raise malformed("COUNT() cannot be combined with other fields", self.tok.pos)
        self.expect_kw("FROM")
        if self.tok.kind != "ident" or self.tok.upper in _RESERVED:
            self.unexpected()
        from_tok = self.advance()
        q = Query(select=select, from_=from_tok.text, from_pos=from_tok.pos, count=count)
        if self.is_kw("WHERE"):
            self.advance()
            q.where = self.condition()
        if self.is_kw("ORDER"):
            self.advance()
            self.expect_kw("BY")
            while True:
                path = self.path()
                desc = False
                if self.is_kw("ASC", "DESC"):
                    desc = self.advance().upper == "DESC"
                nulls_last = desc
                if self.is_kw("NULLS"):
                    self.advance()
                    if not self.is_kw("FIRST", "LAST"):
                        self.unexpected()
                    nulls_last = self.advance().upper == "LAST"
                q.order_by.append(OrderItem(path, desc, nulls_last))
                if self.tok.kind == "punct" and self.tok.text == ",":
                    self.advance()
                    continue
                break
        if self.is_kw("LIMIT"):
            self.advance()
            q.limit = self.integer()
        if self.is_kw("OFFSET"):
            self.advance()
            q.offset = self.integer()
        if nested:
            if not (self.tok.kind == "punct" and self.tok.text == ")"):
                self.unexpected()
        elif self.tok.kind != "eof":
            self.unexpected()
        return q

    def integer(self) -> int:
        if self.tok.kind != "number" or not self.tok.text.isdigit():
            self.unexpected()
        return int(self.advance().text)

    def path(self) -> FieldPath:
        if self.tok.kind != "ident" or self.tok.upper in _RESERVED:
            self.unexpected()
        first = self.advance()
        parts = [first.text]
        while self.tok.kind == "punct" and self.tok.text == ".":
            self.advance()
            if self.tok.kind != "ident":
                self.unexpected()
            parts.append(self.advance().text)
        return FieldPath(tuple(parts), first.pos)

    def condition(self) -> Cond:
        first = self.unary()
        if not self.is_kw("AND", "OR"):
            return first
        op = self.tok.upper
        items = [first]
        while self.is_kw("AND", "OR"):
            if self.tok.upper != op:
                # SOQL refuses to mix AND and OR without parentheses.
                raise malformed(f"unexpected token: {self.tok.text}", self.tok.pos)
            self.advance()
            items.append(self.unary())
        return BoolOp(op.lower(), tuple(items))

    def unary(self) -> Cond:
        if self.is_kw("NOT"):
            self.advance()
            return Not(self.unary())
        if self.tok.kind == "punct" and self.tok.text == "(":
            self.advance()
            inner = self.condition()
            self.expect_punct(")")
            return inner
        return self.comparison()

    def comparison(self) -> Cmp:
        path = self.path()
        if self.tok.kind == "op":
            op = self.advance().text
            op = "!=" if op == "<>" else op
            return Cmp(path, op, self.literal())
        negate = False
        if self.is_kw("NOT"):
            self.advance()
            negate = True
            if not self.is_kw("IN"):
                self.unexpected()
        if self.is_kw("IN"):
            self.advance()
            self.expect_punct("(")
            if self.is_kw("SELECT"):
                sub = self.query(nested=True)
                self.expect_punct(")")
                return Cmp(path, "notin" if negate else "in", sub)
            values = [self.literal()]
            while self.tok.kind == "punct" and self.tok.text == ",":
                self.advance()
                values.append(self.literal())
            self.expect_punct(")")
            return Cmp(path, "notin" if negate else "in", tuple(values))
        if self.is_kw("LIKE"):
            self.advance()
            lit = self.literal()
            if lit.kind != "string":
                raise malformed("invalid LIKE pattern: a string literal is required", lit.pos)
            return Cmp(path, "like", lit)
        self.unexpected()
        raise AssertionError  # unreachable

    def literal(self) -> Literal:
        t = self.tok
        if t.kind == "string":
            self.advance()
            return Literal("string", _unquote(t.text, t.pos), t.pos)
        if t.kind == "number":
            self.advance()
            num: int | float = float(t.text) if "." in t.text else int(t.text)
            return Literal("number", num, t.pos)
        if t.kind == "date":
            self.advance()
            try:
                return Literal("date", date.fromisoformat(t.text), t.pos)
            except ValueError:
                raise malformed(f"line 1:{t.pos} no viable alternative at character '{t.text}'",
                                 t.pos) from None
        if t.kind == "datetime":
            self.advance()
            return Literal("datetime", parse_datetime(t.text), t.pos)
        if t.kind == "ident":
            word = t.upper
            if word in ("TRUE", "FALSE"):
                self.advance()
                return Literal("boolean", word == "TRUE", t.pos)
            if word == "NULL":
                self.advance()
                return Literal("null", None, t.pos)
            if word in _DATE_LITERALS:
                self.advance()
                return Literal("dateliteral", (word, 0), t.pos)
            if word in _DATE_N_LITERALS:
                self.advance()
                self.expect_punct(":")
                return Literal("dateliteral", (word, self.integer()), t.pos)
        self.unexpected()
        raise AssertionError  # unreachable


def parse(text: str) -> Query:
    """Parse a SOQL statement; raises SoqlError(MALFORMED_QUERY) with Salesforce's wording."""
    return _Parser(text).query()


def parse_datetime(text: str) -> datetime:
    t = text.replace("Z", "+00:00")
    if re.search(r"[+-]\d{4}$", t):
        t = t[:-2] + ":" + t[-2:]
    if "T" not in t:
        return datetime.fromisoformat(t).replace(tzinfo=UTC)
    return datetime.fromisoformat(t)
