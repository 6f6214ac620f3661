"""The packaging org's own objects: what a REST write to the push upgrade objects may do.

Only the vendor org has them (data.VENDOR_ONLY). PackagePushRequest (key prefix 0DV) and
PackagePushJob (0DX) support create, query, retrieve, update, upsert; PackagePushError only
query and retrieve; none supports delete (object reference sforce_api_objects_packagepush
request/job/error.htm, "Supported Calls"). The rules, each with its source:

- Create a request: PackageVersionId is required and must be "the non-beta, non-deprecated
  package version that the package is being upgraded to" (packagepushrequest.htm); Status
  "Don't specify this value when you create the push request. The default value of Created is
  used" (same page; we refuse another value rather than guess what it would do).
- Start: Status Created -> Pending; abort: Status -> Canceled "only while Created or Pending,
  and it cancels all the jobs" ("You cannot abort a push upgrade that has a status of
  Canceled, Succeeded, Failed, or In Progress": ISV guide, Schedule Push Upgrades; Salesforce
  CLI checks the same before it PATCHes: plugin-packaging packagePushUpgrade.ts `abort`).
  Status is a restricted picklist: another value is INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST
  "Status: bad value for restricted picklist field: X" (Salesforce's standard answer).
- Insert jobs: one per subscriber org, SubscriberOrganizationKey = PackageSubscriber.OrgKey
  (packagepushjob.htm); CumulusCI drops orgs whose job insert fails with DUPLICATE_VALUE,
  INVALID_OPERATION or UNKNOWN_EXCEPTION (cumulusci/tasks/push/push_api.py `_add_batch`;
  DUPLICATE_VALUE since its commit bc77bb954 "handle DUPLICATE_VALUE when adding orgs to push
  request"). So: a second job for the same org in a request is DUPLICATE_VALUE (message in
  Salesforce's standard form "duplicate value found: <field> duplicates value on record with
  id: <id>"); an org that cannot be pushed is INVALID_OPERATION: not a subscriber of the
  package, not installed, OrgStatus Inactive ("Inactive orgs can't be pushed", PackageSubscriber
  reference), its installed version not lower than the target ("All listed orgs must have a
  package version installed in their org that is lower than the package version you
  specified", plugin-packaging messages/package_pushupgrade_schedule.md), or the subscriber
  blocks push upgrades (PushUpgradeCustomization, API 60+; push_upgrade_customized.htm). The
  messages are ours (Salesforce's wording is not published: UNCONFIRMED); `fields` names the
  field at fault, so a client tells an org's problem (SubscriberOrganizationKey) from the
  request's (PackagePushRequestId: unknown id, or no longer Created, which we refuse, also
  UNCONFIRMED).
- Job Status is not updateable (no "Update" property on packagepushjob.htm):
  INVALID_FIELD_FOR_INSERT_UPDATE "Unable to create/update fields: Status. ..." (Salesforce's
  standard answer for a read-only field).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .data import sf_datetime
from .push import REQUEST_STATES, as_datetime, canonical_status

if TYPE_CHECKING:
    from .server import Simulator

__all__ = ["KEY_PREFIXES", "RecordError", "allowed_methods", "blocks", "check_new",
           "inserted", "prepare_new", "update"]

KEY_PREFIXES = {"PackagePushRequest": "0DV", "PackagePushJob": "0DX"}
_ID = re.compile(r"^[a-zA-Z0-9]{15}(?:[a-zA-Z0-9]{3})?$")
# Methods the REST API allows on a record, where not all of them (the calls listed above).
_ALLOWED = {"PackagePushRequest": "GET,PATCH,HEAD", "PackagePushJob": "GET,PATCH,HEAD",
            "PackagePushError": "GET,HEAD"}


@dataclass(frozen=True)
class RecordError:
    """One error of one record, as Salesforce reports it for a create or an update."""

    code: str
    message: str
    fields: tuple[str, ...] = ()

    def rest(self) -> dict[str, Any]:
        """sObject create/update: a list of these (api_rest errorcodes.htm)."""
        return {"message": self.message, "errorCode": self.code, "fields": list(self.fields)}

    def tree(self) -> dict[str, Any]:
        """composite/tree: `statusCode` (responses_composite_sobject_tree.htm)."""
        return {"statusCode": self.code, "message": self.message, "fields": list(self.fields)}


def prepare_new(obj: str, record: dict[str, Any]) -> None:
    """Fill what Salesforce defaults on create."""
    if obj in KEY_PREFIXES:
        record.setdefault("Status", "Created")


def allowed_methods(obj: str, method: str) -> str | None:
    """None when `method` is allowed on a record of `obj`, else the methods that are."""
    allowed = _ALLOWED.get(obj)
    if allowed is None or method in allowed.split(","):
        return None
    return allowed


def _required(field: str) -> RecordError:
    return RecordError("REQUIRED_FIELD_MISSING", f"Required fields are missing: [{field}]",
                       (field,))


def _bad_id(field: str, label: str, value: Any) -> RecordError | None:
    if not isinstance(value, str) or not _ID.match(value):
        return RecordError("MALFORMED_ID", f"{label}: id value of incorrect type: {value}",
                           (field,))
    return None


def _read_only(field: str) -> RecordError:
    return RecordError("INVALID_FIELD_FOR_INSERT_UPDATE",
                       f"Unable to create/update fields: {field}. Please check the security "
                       "settings of this field and verify that it is read/write for your "
                       "profile or permission set.", (field,))


def _version_errors(sim: Simulator, value: Any) -> list[RecordError]:
    field = "PackageVersionId"
    if value in (None, ""):
        return [_required(field)]
    bad = _bad_id(field, "Package Version ID", value)
    if bad:
        return [bad]
    version = sim.push.version(value)
    if version is None:
        return [RecordError("INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id",
                            (field,))]
    if version["ReleaseState"] != "Released" or version["IsDeprecated"]:
        state = "deprecated" if version["IsDeprecated"] else "a beta"
        return [RecordError("INVALID_OPERATION", f"Package version {version['Name']} is "
                            f"{state} version: only a released, non-deprecated version can be "
                            "pushed", (field,))]
    return []


def _datetime_error(record: dict[str, Any], field: str) -> RecordError | None:
    value = record.get(field)
    if value is None:
        return None
    when = as_datetime(value) if isinstance(value, str) else None
    if when is None:
        return RecordError("JSON_PARSER_ERROR", f"Cannot deserialize instance of datetime from "
                           f"VALUE_STRING value {value} or request may be missing a required "
                           "field", (field,))
    record[field] = sf_datetime(when)
    return None


def check_new(sim: Simulator, obj: str, record: dict[str, Any],
              seen: dict[str, str] | None = None, ref: str = "") -> list[RecordError]:
    """The errors creating `record` meets (empty: it may be created). `seen` maps the org keys
    (15) of the jobs earlier in the same request to their referenceIds; `ref` is this one's."""
    if obj not in KEY_PREFIXES:
        if obj == "PackagePushError":
            return [RecordError("INVALID_OPERATION", "PackagePushError records are made by "
                                "Salesforce; they can't be created")]
        return []
    if "DurationSeconds" in record:
        return [_read_only("DurationSeconds")]
    if record.get("Status") not in (None, "Created"):
        return [RecordError("INVALID_OPERATION", f"A new {obj} starts in Status Created; set "
                            "the request to Pending to start it", ("Status",))]
    if obj == "PackagePushRequest":
        errors = _version_errors(sim, record.get("PackageVersionId"))
        bad_time = _datetime_error(record, "ScheduledStartTime")
        return errors + ([bad_time] if bad_time else [])
    return _job_errors(sim, record, seen, ref)


def blocks(subscriber: dict[str, Any]) -> bool:
    """Has this subscriber blocked push upgrades of the package? PackageSubscriber's
    CustomUpgradeType (BlockedBySubscriber | None) and HasRestrictionEnabled ("Indicates
    whether the subscriber org has blocked push upgrades"), API 60+ (PackageSubscriber and
    PushUpgradeCustomization object reference)."""
    return bool(subscriber.get("HasRestrictionEnabled")) and \
        subscriber.get("CustomUpgradeType") == "BlockedBySubscriber"


def _job_errors(sim: Simulator, record: dict[str, Any],
                seen: dict[str, str] | None, ref: str) -> list[RecordError]:
    request_field, key_field = "PackagePushRequestId", "SubscriberOrganizationKey"
    request_id = record.get(request_field)
    if request_id in (None, ""):
        return [_required(request_field)]
    bad = _bad_id(request_field, "Package Push Request ID", request_id)
    if bad:
        return [bad]
    db = sim.push.db()
    request = db.get("PackagePushRequest", request_id) if db else None
    if request is None:
        return [RecordError("INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id",
                            (request_field,))]
    if request["Status"] != "Created":
        return [RecordError("INVALID_OPERATION", f"Push jobs can be added only while the push "
                            f"request is Created; it is {request['Status']}", (request_field,))]
    key = record.get(key_field)
    if key in (None, ""):
        return [_required(key_field)]
    org = str(key)
    target = sim.push.version(request["PackageVersionId"]) or {}
    sub = sim.push.subscriber(str(target.get("MetadataPackageId") or ""), org)

    def refuse(reason: str) -> list[RecordError]:
        return [RecordError("INVALID_OPERATION", f"Organization {org} {reason}", (key_field,))]

    if sub is None:
        return refuse("is not a subscriber of this package")
    if sub["InstalledStatus"] != "i":
        return refuse("has uninstalled the package")
    if sub["OrgStatus"] == "Inactive":
        return refuse("is inactive; inactive organizations can't be upgraded")
    if blocks(sub):
        return refuse("blocks push upgrades of this package (customized push upgrades)")
    installed = sim.push.version(sub["MetadataPackageVersionId"])
    if installed is not None and not _lower(installed, target):
        return refuse(f"already has version {installed['Name']}."
                      f"{installed['PatchVersion']}, not lower than the target "
                      f"{target.get('Name')}.{target.get('PatchVersion')}")
    key15 = org[:15]
    existing = sim.push.job_for_org(str(request["Id"]), key15)
    if existing is not None:  # the request is Created: its jobs are all still to run
        return [_duplicate(key_field, existing)]
    if seen is not None:
        if key15 in seen:
            return [_duplicate(key_field, seen[key15])]
        seen[key15] = ref
    return []


def _duplicate(field: str, other: str) -> RecordError:
    return RecordError("DUPLICATE_VALUE", f"duplicate value found: {field} duplicates value on "
                       f"record with id: {other}", (field,))


def _lower(installed: dict[str, Any], target: dict[str, Any]) -> bool:
    """Is the installed version lower than the target? A beta counts below the release of its
    own number (a beta org got a job and failed as IneligibleUpgrade: EDA#228)."""
    def key(v: dict[str, Any]) -> tuple[int, int, int, int]:
        return (int(v["MajorVersion"] or 0), int(v["MinorVersion"] or 0),
                int(v["PatchVersion"] or 0), 0 if v["ReleaseState"] == "Beta" else 1)
    return key(installed) < key(target)


def inserted(sim: Simulator, obj: str, record: dict[str, Any]) -> None:
    """After a create: the engine learns of a new job."""
    if obj == "PackagePushJob":
        sim.push.job_added(record)


def update(sim: Simulator, obj: str, record: dict[str, Any], values: dict[str, Any]
           ) -> tuple[int, Any]:
    """PATCH of a push request or job: 204, or Salesforce's error list."""
    def fail(error: RecordError) -> tuple[int, Any]:
        return 400, [error.rest()]

    if "DurationSeconds" in values:
        return fail(_read_only("DurationSeconds"))
    if obj == "PackagePushJob":
        if "Status" in values:
            return fail(_read_only("Status"))
        request = sim.push.db().get("PackagePushRequest",  # type: ignore[union-attr]
                                    str(record["PackagePushRequestId"]))
        if request is not None and request["Status"] != "Created":
            return fail(RecordError("INVALID_OPERATION", "A push job can be changed only while "
                                    "its push request is Created"))
        record.update(values)
        sim.push.dirty = True
        return 204, None
    status = record["Status"]
    changes = dict(values)
    wanted = canonical_status(changes.pop("Status", status))
    if wanted not in REQUEST_STATES:
        return fail(RecordError("INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
                                f"Status: bad value for restricted picklist field: "
                                f"{values.get('Status')}", ("Status",)))
    if changes and status not in ("Created", "Pending"):
        return fail(RecordError("INVALID_OPERATION", f"A push request that is {status} can't "
                                "be changed"))
    if "PackageVersionId" in changes:
        if status != "Created":
            return fail(RecordError("INVALID_OPERATION", "The package version of a push "
                                    "request can be changed only while it is Created",
                                    ("PackageVersionId",)))
        errors = _version_errors(sim, changes["PackageVersionId"])
        if errors:
            return fail(errors[0])
    bad_time = _datetime_error(changes, "ScheduledStartTime")
    if bad_time:
        return fail(bad_time)
    if wanted == "Canceled" and status not in ("Created", "Pending"):
        # "You cannot abort a push upgrade that has a status of Canceled, Succeeded, Failed,
        # or InProgress" (ISV guide): a second cancel is refused too.
        return fail(RecordError("INVALID_OPERATION", f"Can't cancel a push request that is "
                                f"{status}: only Created or Pending requests can be "
                                "canceled", ("Status",)))
    if wanted != status:
        if wanted == "Pending" and status != "Created":
            return fail(RecordError("INVALID_OPERATION", f"Can't start a push request that is "
                                    f"{status}: only a Created request can be set to Pending",
                                    ("Status",)))
        if wanted not in ("Pending", "Canceled"):
            return fail(RecordError("INVALID_OPERATION", f"Status {wanted} is set by Salesforce; "
                                    "a push request can be set to Pending or Canceled only",
                                    ("Status",)))
    record.update(changes)
    sim.push.dirty = True
    if wanted == "Pending" and status == "Created":
        sim.push.set_pending(record, sim.now)
    elif wanted == "Canceled":
        sim.push.cancel(record)
    return 204, None
