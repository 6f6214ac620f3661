from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from juston_tui.model import (
    Check,
    Contact,
    Org,
    PushRegistration,
    Snapshot,
    ValidationError,
    normalize_org_id,
    validate_email,
)

# Known pairs from the reference (checksums verified against Salesforce's algorithm).
KNOWN = {
    "00D5g000004Xyz1": "00D5g000004Xyz1EAC",
    "00D5g000006Sbx1": "00D5g000006Sbx1EAC",
}


@pytest.mark.parametrize(("id15", "id18"), KNOWN.items())
def test_fifteen_becomes_eighteen(id15: str, id18: str) -> None:
    assert normalize_org_id(id15) == id18
    assert normalize_org_id(id18) == id18
    # the checksum suffix is case-insensitive, the 15-character body is not
    assert normalize_org_id(id18[:15] + id18[15:].lower()) == id18


def test_reference_checksums() -> None:
    from juston_tui.model import _checksum

    assert _checksum("a0RE000000IJmcN") == "MAT"
    assert _checksum("AbCdEfGhIjKlMnO") == "VKV"
    assert _checksum("aBcDEfgHIJKLMNO") == "025"


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        ("", "required"),
        ("00D5g000004Xyz", "15 or 18 characters, this one has 14"),
        ("00X5g000004Xyz1", "starts with 00D"),
        ("00D5g000004Xyz1EAD", "checksum mismatch"),
        ("00D5g000004xyz1EAC", "checksum mismatch"),
        ("00D5g-00004Xyz1", "only letters and digits"),
    ],
)
def test_bad_org_ids_say_what_is_wrong(raw: str, fragment: str) -> None:
    with pytest.raises(ValidationError) as info:
        normalize_org_id(raw)
    assert fragment in info.value.errors["org_id"]


@given(st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
               min_size=12, max_size=12))
def test_checksum_roundtrip_property(body: str) -> None:
    id18 = normalize_org_id("00D" + body)
    assert len(id18) == 18 and id18.startswith("00D" + body)
    assert normalize_org_id(id18) == id18
    assert normalize_org_id(id18[:15]) == id18


def test_email_validation() -> None:
    assert validate_email(" Anna.Muller@Example.DE ") == "Anna.Muller@example.de"
    for bad in ("", "anna", "anna@", "@example.de", "anna@example", "an na@example.de"):
        with pytest.raises(ValidationError) as info:
            validate_email(bad)
        assert "email" in info.value.errors


def test_org_create_collects_every_field_error() -> None:
    with pytest.raises(ValidationError) as info:
        Org.create(org_id="123", name="", kind="moon", instance_url="http://x",
                   auth_method="jwt")
    errors = info.value.errors
    assert set(errors) >= {"org_id", "name", "kind", "instance_url", "username", "consumer_key"}
    assert "https" in errors["instance_url"]


def test_org_roundtrip_and_parent_rules() -> None:
    org = Org.create(org_id="00D5g000006Sbx1", name="Acme (UAT)", kind="sandbox",
                     parent_org_id="00D5g000004Xyz1", tags=["b", "a", "a"],
                     instance_url="https://acme--uat.sandbox.my.salesforce.com/")
    assert org.parent_org_id == "00D5g000004Xyz1EAC"
    assert org.tags == ("a", "b")
    assert org.instance_url == "https://acme--uat.sandbox.my.salesforce.com"
    assert Org.from_doc(org.to_doc()) == org
    with pytest.raises(ValidationError) as info:
        Org.create(org_id="00D5g000004Xyz1", name="Prod", parent_org_id="00D5g000006Sbx1")
    assert "only a sandbox" in info.value.errors["parent_org_id"]


def test_push_registration_transitions() -> None:
    reg = PushRegistration()
    with pytest.raises(ValidationError) as info:
        reg.transition("registered")
    assert "cannot go from not_registered to registered" in str(info.value)
    with pytest.raises(ValidationError) as info:
        reg.transition("requested")
    assert "ticket" in info.value.errors
    requested = reg.transition("request_drafted").transition("requested", ticket="JO-123")
    assert requested.ticket == "JO-123" and requested.requested_on
    registered = requested.transition("registered")
    assert registered.state == "registered" and registered.ticket == "JO-123"
    with pytest.raises(ValidationError):
        registered.transition("request_drafted")
    assert registered.transition("withdrawn").state == "withdrawn"


def test_push_eligibility_follows_seed_000() -> None:
    registered = PushRegistration("registered")
    prod = Org.create(org_id="00D5g000004Xyz1", name="P", push=registered)
    sandbox = Org.create(org_id="00D5g000006Sbx1", name="S", kind="sandbox", push=registered)
    assert prod.push_eligible
    assert not sandbox.push_eligible  # sandboxes only on request
    assert sandbox.with_changes(sandbox_push_ticket="JO-9").push_eligible


def test_contact_requires_name_email_title() -> None:
    with pytest.raises(ValidationError) as info:
        Contact.create(full_name=" ", email="nope", title="")
    assert set(info.value.errors) == {"full_name", "email", "title"}
    c = Contact.create(full_name="  Jürgen   Groß ", email="j@gross.de", title="CFO",
                       org_ids=["00D5g000004Xyz1", "00D5g000004Xyz1EAC"])
    assert c.full_name == "Jürgen Groß"
    assert c.org_ids == ("00D5g000004Xyz1EAC",)
    assert Contact.from_doc(c.to_doc()) == c


def test_snapshot_worst_verdict() -> None:
    snap = Snapshot("00D5g000004Xyz1EAC", "2026-11-22T00:00:00+00:00",
                    checks=(Check("a", "ok", ""), Check("b", "warn", ""), Check("c", "ok", "")))
    assert snap.verdict == "warn"
    assert Snapshot.from_doc(snap.to_doc()) == snap
    assert Snapshot("x", "t", error="boom").verdict == "unknown"


@pytest.mark.parametrize(("url", "instance"), [
    ("https://eu45.salesforce.com", "EU45"),
    ("https://CS107.salesforce.com/", "CS107"),
    ("https://usa646s.salesforce.com", "USA646S"),
    ("https://acme.my.salesforce.com", ""),  # a My Domain names no instance
    ("https://127.0.0.1:4443", ""),  # nor does the simulator
    ("", ""),
])
def test_instance_from_url(url: str, instance: str) -> None:
    from juston_tui.model import instance_from_url

    assert instance_from_url(url) == instance
