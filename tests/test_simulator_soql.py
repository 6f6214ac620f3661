"""The simulator's SOQL subset: parser, evaluator, error codes and messages."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from juston_tui.simulator.ids import checksum18, make_id, make_org_id
from juston_tui.simulator.soql import (
    BoolOp,
    Cmp,
    FieldPath,
    Not,
    ObjectSchema,
    SoqlError,
    SubQuery,
    execute,
    parse,
)


class DB:
    """A tiny in-memory database implementing the evaluator's protocol."""

    def __init__(self) -> None:
        self.schemas = {
            "Account": ObjectSchema.build(
                "Account",
                {"Id": "id", "Name": "string", "Employees": "int", "Active": "boolean",
                 "Revenue": "double", "Founded": "date", "LastSeen": "datetime",
                 "OwnerId": "reference"},
                {"Owner": ("OwnerId", "User")},
                {"Contacts": ("Contact", "AccountId")},
            ),
            "User": ObjectSchema.build("User", {"Id": "id", "Name": "string",
                                                "ProfileId": "reference"},
                                       {"Profile": ("ProfileId", "Profile")}),
            "Profile": ObjectSchema.build("Profile", {"Id": "id", "Name": "string"}),
            "Contact": ObjectSchema.build("Contact", {"Id": "id", "LastName": "string",
                                                      "AccountId": "reference"}),
        }
        self.data = {
            "Profile": [{"Id": "00e000000000001AAA", "Name": "System Administrator"}],
            "User": [
                {"Id": "005000000000001AAA", "Name": "Anna", "ProfileId": "00e000000000001AAA"},
                {"Id": "005000000000002AAA", "Name": "Ben", "ProfileId": None},
            ],
            "Account": [
                {"Id": "001000000000001AAA", "Name": "Müller GmbH", "Employees": 50,
                 "Active": True, "Revenue": 1.5, "Founded": "1990-05-01",
                 "LastSeen": "2025-01-10T08:00:00.000+0000", "OwnerId": "005000000000001AAA"},
                {"Id": "001000000000002AAA", "Name": "alpen AG", "Employees": 7,
                 "Active": False, "Revenue": None, "Founded": "2010-01-01",
                 "LastSeen": None, "OwnerId": "005000000000002AAA"},
                {"Id": "001000000000003AAA", "Name": "Zeta_50% KG", "Employees": None,
                 "Active": True, "Revenue": 3.0, "Founded": None,
                 "LastSeen": "2024-06-01T00:00:00.000+0000", "OwnerId": None},
            ],
            "Contact": [
                {"Id": "003000000000001AAA", "LastName": "Bauer",
                 "AccountId": "001000000000001AAA"},
                {"Id": "003000000000002AAA", "LastName": "Huber",
                 "AccountId": "001000000000001AAA"},
            ],
        }

    def schema(self, name: str) -> ObjectSchema | None:
        return next((s for n, s in self.schemas.items() if n.lower() == name.lower()), None)

    def rows(self, name: str) -> list[dict]:
        return self.data.get(name, [])

    def get(self, name: str, record_id: str) -> dict | None:
        return next((r for r in self.data.get(name, []) if r["Id"][:15] == record_id[:15]), None)


@pytest.fixture
def db() -> DB:
    return DB()


def names(db: DB, q: str) -> list[str]:
    return [r["Name"] for r in execute(db, q, today=date(2025, 1, 10)).records]


# ---------------------------------------------------------------- parser


def test_parse_structure() -> None:
    q = parse("select Id, Owner.Profile.Name, (SELECT LastName FROM Contacts) from Account "
              "where (Name = 'x' or Employees > 3) and not Active = false "
              "order by Name desc nulls last, Id limit 5 offset 1")
    assert q.from_ == "Account"
    assert isinstance(q.select[0], FieldPath) and q.select[0].parts == ("Id",)
    assert isinstance(q.select[1], FieldPath) and q.select[1].parts == ("Owner", "Profile", "Name")
    assert isinstance(q.select[2], SubQuery)
    assert isinstance(q.where, BoolOp) and q.where.op == "and"
    assert isinstance(q.where.items[0], BoolOp) and q.where.items[0].op == "or"
    assert isinstance(q.where.items[1], Not)
    assert [(o.path.parts, o.descending, o.nulls_last) for o in q.order_by] == [
        (("Name",), True, True), (("Id",), False, False)]
    assert (q.limit, q.offset) == (5, 1)


def test_parse_in_and_semi_join() -> None:
    q = parse("SELECT Id FROM Account WHERE OwnerId IN (SELECT Id FROM User) AND Name NOT IN "
              "('a', 'b')")
    assert isinstance(q.where, BoolOp)
    first, second = q.where.items
    assert isinstance(first, Cmp) and first.op == "in" and not isinstance(first.value, tuple)
    assert isinstance(second, Cmp) and second.op == "notin" and len(second.value) == 2


@pytest.mark.parametrize("bad, snippet", [
    ("SELECT Id FORM Account", "unexpected token: FORM"),
    ("SELECT FROM Account", "unexpected token: FROM"),
    ("SELECT Id FROM Account WHERE", "unexpected token: <EOF>"),
    ("SELECT Id FROM Account WHERE Name = 'a' AND Id = 'b' OR Id = 'c'", "unexpected token: OR"),
    ("SELECT Id FROM Account LIMIT x", "unexpected token: x"),
    ("SELECT Id FROM Account WHERE Name = 'unterminated", "mismatched character"),
    ("SELECT Id, Id FROM Account", "duplicate field selected: Id"),
])
def test_malformed(db: DB, bad: str, snippet: str) -> None:
    with pytest.raises(SoqlError) as info:
        execute(db, bad)
    assert info.value.code == "MALFORMED_QUERY"
    assert snippet in info.value.format(bad)


def test_error_message_layout_like_salesforce(db: DB) -> None:
    q = "SELECT Id FROM Accountz LIMIT 2"
    with pytest.raises(SoqlError) as info:
        execute(db, q)
    assert info.value.code == "INVALID_TYPE"
    assert info.value.format(q).startswith(
        "\nSELECT Id FROM Accountz LIMIT 2\n               ^\nERROR at Row:1:Column:16\n"
        "sObject type 'Accountz' is not supported.")


def test_invalid_field_and_relationship(db: DB) -> None:
    with pytest.raises(SoqlError) as info:
        execute(db, "SELECT Id, Foo FROM Account")
    assert info.value.code == "INVALID_FIELD"
    assert "No such column 'Foo' on entity 'Account'" in info.value.message
    with pytest.raises(SoqlError) as info:
        execute(db, "SELECT Nope.Name FROM Account")
    assert "Didn't understand relationship 'Nope'" in info.value.message
    with pytest.raises(SoqlError) as info:
        execute(db, "SELECT Id FROM Account WHERE Active = 'true'")
    assert info.value.code == "INVALID_FIELD"
    assert "must be of type boolean" in info.value.message
    with pytest.raises(SoqlError) as info:
        execute(db, "SELECT Id FROM Account WHERE Name = 5")
    assert "must be of type string" in info.value.message


# ---------------------------------------------------------------- evaluation


def test_case_insensitive_names_return_canonical_case(db: DB) -> None:
    res = execute(db, "select id, NAME, owner.profile.NAME from ACCOUNT where name = 'MÜLLER GMBH'")
    assert res.object_name == "Account"
    (rec,) = res.records
    assert list(rec) == ["attributes", "Id", "Name", "Owner"]
    assert rec["attributes"] == {"type": "Account",
                                 "url": "/services/data/v62.0/sobjects/Account/001000000000001AAA"}
    assert rec["Owner"]["attributes"]["type"] == "User"
    assert rec["Owner"]["Profile"] == {
        "attributes": {"type": "Profile",
                       "url": "/services/data/v62.0/sobjects/Profile/00e000000000001AAA"},
        "Name": "System Administrator"}


def test_missing_parent_is_null(db: DB) -> None:
    res = execute(db, "SELECT Name, Owner.Name, Owner.Profile.Name FROM Account ORDER BY Name")
    by_name = {r["Name"]: r for r in res.records}
    assert by_name["Zeta_50% KG"]["Owner"] is None
    assert by_name["alpen AG"]["Owner"]["Profile"] is None
    assert by_name["alpen AG"]["Owner"]["Name"] == "Ben"


@pytest.mark.parametrize("where, expected", [
    ("Employees > 7", ["Müller GmbH"]),
    ("Employees >= 7", ["alpen AG", "Müller GmbH"]),
    ("Employees < 50", ["alpen AG"]),
    ("Employees <= 50", ["alpen AG", "Müller GmbH"]),
    ("Employees != 7", ["Müller GmbH", "Zeta_50% KG"]),
    ("Employees = null", ["Zeta_50% KG"]),
    ("Employees != null", ["alpen AG", "Müller GmbH"]),
    ("Active = true", ["Müller GmbH", "Zeta_50% KG"]),
    ("Name IN ('ALPEN ag', 'nobody')", ["alpen AG"]),
    ("Name NOT IN ('alpen AG')", ["Müller GmbH", "Zeta_50% KG"]),
    ("Name LIKE 'm%'", ["Müller GmbH"]),
    ("Name LIKE '%g'", ["alpen AG", "Zeta_50% KG"]),
    ("Name LIKE 'alpe_ AG'", ["alpen AG"]),
    ("Name LIKE '%\\_50\\%%'", ["Zeta_50% KG"]),
    ("(Active = true OR Employees = 7) AND Name != 'Zeta_50% KG'", ["alpen AG", "Müller GmbH"]),
    ("NOT (Active = true)", ["alpen AG"]),
    ("Revenue > 1", ["Müller GmbH", "Zeta_50% KG"]),
    ("Founded < 2000-01-01", ["Müller GmbH"]),
    ("LastSeen > 2024-12-31T00:00:00Z", ["Müller GmbH"]),
    ("LastSeen = TODAY", ["Müller GmbH"]),
    ("LastSeen = LAST_N_DAYS:30", ["Müller GmbH"]),
    ("LastSeen < LAST_N_DAYS:30", ["Zeta_50% KG"]),
    ("Owner.Profile.Name = 'System Administrator'", ["Müller GmbH"]),
    ("OwnerId = '005000000000001'", ["Müller GmbH"]),
    ("OwnerId IN (SELECT Id FROM User WHERE ProfileId != null)", ["Müller GmbH"]),
    ("OwnerId NOT IN (SELECT Id FROM User WHERE ProfileId != null)",
     ["alpen AG", "Zeta_50% KG"]),
])
def test_where(db: DB, where: str, expected: list[str]) -> None:
    assert sorted(names(db, f"SELECT Name FROM Account WHERE {where}"),
                  key=str.casefold) == expected


def test_order_limit_offset_nulls(db: DB) -> None:
    assert names(db, "SELECT Name FROM Account ORDER BY Name") == [
        "alpen AG", "Müller GmbH", "Zeta_50% KG"]
    assert names(db, "SELECT Name FROM Account ORDER BY Employees") == [
        "Zeta_50% KG", "alpen AG", "Müller GmbH"]  # ASC = NULLS FIRST
    assert names(db, "SELECT Name FROM Account ORDER BY Employees DESC") == [
        "Müller GmbH", "alpen AG", "Zeta_50% KG"]  # DESC = NULLS LAST
    assert names(db, "SELECT Name FROM Account ORDER BY Employees ASC NULLS LAST") == [
        "alpen AG", "Müller GmbH", "Zeta_50% KG"]
    assert names(db, "SELECT Name FROM Account ORDER BY Active DESC, Name ASC LIMIT 2") == [
        "Müller GmbH", "Zeta_50% KG"]
    assert names(db, "SELECT Name FROM Account ORDER BY Name LIMIT 1 OFFSET 1") == ["Müller GmbH"]


def test_count_and_child_subquery(db: DB) -> None:
    res = execute(db, "SELECT COUNT() FROM Account WHERE Active = true")
    assert (res.total_size, res.records) == (2, [])
    res = execute(db, "SELECT Name, (SELECT LastName FROM Contacts ORDER BY LastName DESC) "
                      "FROM Account ORDER BY Name")
    by_name = {r["Name"]: r for r in res.records}
    assert by_name["alpen AG"]["Contacts"] is None
    contacts = by_name["Müller GmbH"]["Contacts"]
    assert contacts["totalSize"] == 2 and contacts["done"] is True
    assert [c["LastName"] for c in contacts["records"]] == ["Huber", "Bauer"]


def test_string_escapes(db: DB) -> None:
    db.data["Account"][1]["Name"] = "O'Brien \\ Co"
    assert names(db, "SELECT Name FROM Account WHERE Name = 'O\\'Brien \\\\ Co'") == [
        "O'Brien \\ Co"]


# ---------------------------------------------------------------- properties

_words = st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=0x17F,
                                        blacklist_characters="\\'"), max_size=12)


@settings(max_examples=60, deadline=None)
@given(name=_words)
def test_equality_on_any_string_literal_matches_itself(name: str) -> None:
    """format_soql-style escaping round-trips through the lexer for arbitrary text."""
    d = DB()
    d.data["Account"] = [{"Id": "001000000000009AAA", "Name": name, "Employees": 1,
                          "Active": True, "Revenue": None, "Founded": None, "LastSeen": None,
                          "OwnerId": None}]
    escaped = name.replace("\\", "\\\\").replace("'", "\\'")
    assert names(d, f"SELECT Name FROM Account WHERE Name = '{escaped}'") == [name]


@settings(max_examples=60, deadline=None)
@given(values=st.lists(st.one_of(st.none(), st.integers(-5, 5)), min_size=0, max_size=8),
       desc=st.booleans(), nulls_last=st.booleans())
def test_order_by_matches_python_sort(values: list[int | None], desc: bool,
                                      nulls_last: bool) -> None:
    d = DB()
    d.data["Account"] = [{"Id": f"0010000000000{i:02d}AAA", "Name": str(i), "Employees": v,
                          "Active": True, "Revenue": None, "Founded": None, "LastSeen": None,
                          "OwnerId": None} for i, v in enumerate(values)]
    q = (f"SELECT Name, Employees FROM Account ORDER BY Employees {'DESC' if desc else 'ASC'} "
         f"NULLS {'LAST' if nulls_last else 'FIRST'}")
    got = [r["Employees"] for r in execute(d, q).records]
    present = sorted((v for v in values if v is not None), reverse=desc)
    nones = [None] * (len(values) - len(present))
    assert got == (present + nones if nulls_last else nones + present)


@settings(max_examples=40, deadline=None)
@given(lo=st.integers(-3, 60), hi=st.integers(-3, 60))
def test_and_or_agree_with_python(lo: int, hi: int) -> None:
    d = DB()
    emp = {r["Name"]: r["Employees"] for r in d.data["Account"]}
    got_and = set(names(d, f"SELECT Name FROM Account WHERE Employees > {lo} AND "
                           f"Employees < {hi}"))
    got_or = set(names(d, f"SELECT Name FROM Account WHERE Employees < {lo} OR "
                          f"Employees > {hi}"))
    assert got_and == {n for n, e in emp.items() if e is not None and lo < e < hi}
    assert got_or == {n for n, e in emp.items() if e is not None and (e < lo or e > hi)}


# ---------------------------------------------------------------- ids


def test_ids_have_valid_checksums() -> None:
    from juston_tui.model import normalize_org_id

    assert checksum18("a0RE000000IJmcN") == "a0RE000000IJmcNMAT"
    assert checksum18("AbCdEfGhIjKlMnO") == "AbCdEfGhIjKlMnOVKV"
    org = make_org_id("healthy|0")
    assert org == make_org_id("healthy|0") and len(org) == 18
    assert normalize_org_id(org[:15]) == org
    rid = make_id("0PS", "x")
    assert rid.startswith("0PS") and checksum18(rid[:15]) == rid
