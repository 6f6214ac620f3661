"""Record writes shared by the sObject resource (rest.py) and sObject Tree (composite.py): the
fields of a body by their canonical names, the checks of a new record, and its insert.

Salesforce's shapes: a create answers 201 `{"id", "success": true, "errors": []}`, an update
204 No Content, a refused write 400 with a list of `{"message", "errorCode", "fields"}`
(api_rest dome_sobject_create.htm, dome_update_fields.htm, errorcodes.htm).
"""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING, Any

from . import vendor
from .data import SCHEMA, OrgData
from .ids import make_id
from .scenarios import SimOrg
from .transport import err

if TYPE_CHECKING:
    from .server import Simulator

__all__ = ["check_new", "insert", "record_fields"]


def record_fields(obj: str, values: Any) -> tuple[dict[str, Any], tuple[int, Any] | None]:
    """The fields of a record body by canonical name, or the error Salesforce answers:
    JSON_PARSER_ERROR (not an object), INVALID_FIELD (a field the object lacks)."""
    if not isinstance(values, dict):
        return {}, err(400, "JSON_PARSER_ERROR", "The request body must be a JSON object")
    fields = SCHEMA[obj].fields
    out: dict[str, Any] = {}
    for key, value in values.items():
        if key == "attributes":
            continue
        if key.lower() not in fields:
            return {}, err(400, "INVALID_FIELD",
                           f"No such column '{key}' on sobject of type {obj}")
        out[fields[key.lower()][0]] = value
    return out, None


def check_new(sim: Simulator, obj: str, record: dict[str, Any],
              seen: dict[str, str] | None = None, ref: str = "") -> list[vendor.RecordError]:
    """What keeps `record` from being created (empty: nothing). Only the packaging org's
    objects have rules beyond the schema; `seen`/`ref` find duplicates within one request."""
    return vendor.check_new(sim, obj, record, seen, ref)


def insert(sim: Simulator, org: SimOrg, db: OrgData, obj: str, record: dict[str, Any]) -> str:
    """Insert a checked record (its Id, Salesforce's defaults, the audit dates); its Id."""
    record["Id"] = make_id(vendor.KEY_PREFIXES.get(obj, "a0X"),
                           f"{org.org_id}|new|{secrets.token_hex(8)}")
    vendor.prepare_new(obj, record)
    with sim.lock:
        record_id = db.add(obj, record, sim.now)
        stored = db.get(obj, record_id)
        assert stored is not None
        vendor.inserted(sim, obj, stored)
    return record_id
