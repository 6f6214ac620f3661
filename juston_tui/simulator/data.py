"""Per-org records and the object schema the SOQL evaluator checks queries against.

Data is built from the org's scenario, lazily and once per org, with dates relative to "now" so
the demo always shows licences a year ahead and push upgrades still to come.

Why one module of ~610 lines: SCHEMA (every object and field the evaluator accepts) and the
builders that fill those objects must change together; the scenarios themselves are in
scenarios.py.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from .ids import make_id, make_org_id
from .scenarios import (
    BALANCE_FIELDS,
    BALANCE_OBJECT,
    CONNECTED_APP_NAME,
    CURRENT_VERSIONS,
    PACKAGE_NAMES,
    PROFILE_NAMES,
    SETUP_OBJECTS,
    USER_NAMES,
    SimOrg,
    Version,
    seed_hash,
)
from .soql import ObjectSchema

__all__ = ["SCHEMA", "TOOLING_ONLY", "VENDOR_ONLY", "OrgData", "build_org_data", "sf_datetime"]

_S, _B, _I, _DT, _D, _ID, _REF, _PICK = ("string", "boolean", "int", "datetime", "date", "id",
                                         "reference", "picklist")


def _obj(name: str, fields: dict[str, str], parents: dict[str, tuple[str, str]] | None = None,
         children: dict[str, tuple[str, str]] | None = None) -> ObjectSchema:
    base = {"Id": _ID, "CreatedDate": _DT, "LastModifiedDate": _DT, "SystemModstamp": _DT}
    base.update(fields)
    return ObjectSchema.build(name, base, parents, children)


_PARENT = {"Parent": ("ParentId", "PermissionSet")}
# Organization.TimeZoneSidKey by the simulated org's Country
_ZONE_OF_COUNTRY = {"DE": "Europe/Berlin", "AT": "Europe/Vienna", "CH": "Europe/Zurich"}

SCHEMA: dict[str, ObjectSchema] = {s.name: s for s in (
    _obj("Organization", {"Name": _S, "OrganizationType": _PICK, "IsSandbox": _B,
                          "InstanceName": _S, "TrialExpirationDate": _DT, "NamespacePrefix": _S,
                          "Country": _S, "DefaultLocaleSidKey": _PICK, "LanguageLocaleKey": _PICK,
                          "TimeZoneSidKey": _PICK, "PrimaryContact": _S, "Division": _S}),
    _obj("InstalledSubscriberPackage",
         {"SubscriberPackageId": _REF, "SubscriberPackageVersionId": _REF,
          "MinPackageVersionId": _REF},
         {"SubscriberPackage": ("SubscriberPackageId", "SubscriberPackage"),
          "SubscriberPackageVersion": ("SubscriberPackageVersionId", "SubscriberPackageVersion")}),
    _obj("SubscriberPackage", {"Name": _S, "NamespacePrefix": _S, "Description": _S,
                               "IsPackageValid": _B}),
    _obj("SubscriberPackageVersion",
         {"Name": _S, "SubscriberPackageId": _REF, "MajorVersion": _I, "MinorVersion": _I,
          "PatchVersion": _I, "BuildNumber": _I, "ReleaseState": _PICK, "IsManaged": _B,
          "IsBeta": _B, "IsDeprecated": _B},
         {"SubscriberPackage": ("SubscriberPackageId", "SubscriberPackage")}),
    _obj("PackageLicense", {"NamespacePrefix": _S, "Status": _PICK, "AllowedLicenses": _I,
                            "UsedLicenses": _I, "ExpirationDate": _DT, "IsProvisioned": _B,
                            "IsAvailableForIntegrations": _B}),
    _obj("UserPackageLicense", {"UserId": _REF, "PackageLicenseId": _REF},
         {"PackageLicense": ("PackageLicenseId", "PackageLicense"), "User": ("UserId", "User")}),
    _obj("User", {"Username": _S, "Name": _S, "FirstName": _S, "LastName": _S, "Email": "email",
                  "IsActive": _B, "ProfileId": _REF, "UserType": _PICK},
         {"Profile": ("ProfileId", "Profile")}),
    _obj("Profile", {"Name": _S, "UserType": _PICK}),
    _obj("PermissionSet", {"Name": _S, "Label": _S, "IsOwnedByProfile": _B, "ProfileId": _REF,
                           "NamespacePrefix": _S, "Description": _S, "IsCustom": _B,
                           "PermissionsModifyAllData": _B, "PermissionsViewSetup": _B},
         {"Profile": ("ProfileId", "Profile")},
         {"Assignments": ("PermissionSetAssignment", "PermissionSetId"),
          "ObjectPerms": ("ObjectPermissions", "ParentId"),
          "FieldPerms": ("FieldPermissions", "ParentId"),
          "SetupEntityAccessItems": ("SetupEntityAccess", "ParentId")}),
    _obj("PermissionSetAssignment", {"AssigneeId": _REF, "PermissionSetId": _REF},
         {"Assignee": ("AssigneeId", "User"), "PermissionSet": ("PermissionSetId",
                                                                "PermissionSet")}),
    _obj("ConnectedApplication",
         {"Name": _S, "OptionsAllowAdminApprovedUsersOnly": _B,
          "OptionsRefreshTokenValidityMetric": _B, "RefreshTokenValidityPeriod": _I,
          "StartUrl": "url", "OptionsHasSessionLevelPolicy": _B,
          "OptionsAppIssueJwtTokenEnabled": _B, "MobileSessionTimeout": _PICK, "PinLength": _PICK,
          "UvidTimeout": _PICK}),
    _obj("SetupEntityAccess", {"ParentId": _REF, "SetupEntityId": _REF, "SetupEntityType": _PICK},
         _PARENT),
    _obj("ObjectPermissions",
         {"ParentId": _REF, "SobjectType": _PICK, "PermissionsRead": _B, "PermissionsCreate": _B,
          "PermissionsEdit": _B, "PermissionsDelete": _B, "PermissionsViewAllRecords": _B,
          "PermissionsModifyAllRecords": _B}, _PARENT),
    _obj("FieldPermissions", {"ParentId": _REF, "SobjectType": _PICK, "Field": _S,
                              "PermissionsRead": _B, "PermissionsEdit": _B}, _PARENT),
    _obj("PermissionSetTabSetting", {"ParentId": _REF, "Name": _S, "Visibility": _PICK}, _PARENT),
    _obj(BALANCE_OBJECT, {"Name": _S, "ONB2__Amount__c": "currency", "ONB2__Account__c": _REF,
                          "ONB2__Date__c": _D, "ONB2__Type__c": _PICK, "ONB2__Invoice__c": _REF,
                          "ONB2__Description__c": "textarea"}),
    # Vendor (packaging org) objects.
    _obj("MetadataPackage", {"Name": _S, "NamespacePrefix": _S, "PackageCategory": _PICK}),
    _obj("MetadataPackageVersion",
         {"Name": _S, "MetadataPackageId": _REF, "ReleaseState": _PICK, "MajorVersion": _I,
          "MinorVersion": _I, "PatchVersion": _I, "BuildNumber": _I, "IsDeprecated": _B},
         {"MetadataPackage": ("MetadataPackageId", "MetadataPackage")}),
    # CustomUpgradeType/HasRestrictionEnabled: API 60+ (PackageSubscriber object reference).
    _obj("PackageSubscriber",
         {"OrgKey": _S, "OrgName": _S, "OrgType": _PICK, "OrgStatus": _PICK,
          "InstalledStatus": _PICK, "InstanceName": _S, "MetadataPackageId": _REF,
          "MetadataPackageVersionId": _REF, "ParentOrg": _S, "CustomUpgradeType": _PICK,
          "HasRestrictionEnabled": _B},
         {"MetadataPackage": ("MetadataPackageId", "MetadataPackage"),
          "MetadataPackageVersion": ("MetadataPackageVersionId", "MetadataPackageVersion")}),
    _obj("PackagePushRequest",
         {"PackageVersionId": _REF, "ScheduledStartTime": _DT, "Status": _PICK, "StartTime": _DT,
          "EndTime": _DT, "DurationSeconds": _I},
         {"PackageVersion": ("PackageVersionId", "MetadataPackageVersion")},
         {"PackagePushJobs": ("PackagePushJob", "PackagePushRequestId")}),
    _obj("PackagePushJob",
         {"PackagePushRequestId": _REF, "SubscriberOrganizationKey": _S, "Status": _PICK,
          "StartTime": _DT, "EndTime": _DT, "DurationSeconds": _I},
         {"PackagePushRequest": ("PackagePushRequestId", "PackagePushRequest")},
         {"PackagePushErrors": ("PackagePushError", "PackagePushJobId")}),
    _obj("PackagePushError",
         {"PackagePushJobId": _REF, "ErrorSeverity": _PICK, "ErrorType": _PICK,
          "ErrorTitle": _S, "ErrorMessage": _S, "ErrorDetails": "textarea"},
         {"PackagePushJob": ("PackagePushJobId", "PackagePushJob")}),
    # API 60+; the documented fields only: which package and org a row maps to is not among
    # them (sforce_api_objects_pushupgradecustomization.htm), PackageSubscriber carries it.
    _obj("PushUpgradeCustomization",
         {"CustomUpgradeType": _PICK, "ExpirationDays": _I, "HasRestrictionEnabled": _B,
          "IsCustomUpgradeAllowed": _B, "IsRestrictionOverridden": _B}),
)}

# Objects only the Tooling API serves (a REST query answers INVALID_TYPE, as Salesforce does).
TOOLING_ONLY = frozenset({"InstalledSubscriberPackage", "SubscriberPackage",
                          "SubscriberPackageVersion"})
VENDOR_ONLY = frozenset({"MetadataPackage", "MetadataPackageVersion", "PackageSubscriber",
                         "PackagePushRequest", "PackagePushJob", "PackagePushError",
                         "PushUpgradeCustomization"})


def saturday_slot(now: datetime, weeks: int) -> datetime:
    """Saturday 01:00 Europe/Berlin (JustOn's push slot), `weeks` after the first Saturday
    more than a week from `now` (so an upcoming push can be announced a week ahead), in UTC."""
    berlin = ZoneInfo("Europe/Berlin")
    local = now.astimezone(berlin).date() + timedelta(days=8)
    first = local + timedelta(days=(5 - local.weekday()) % 7)
    day = first + timedelta(weeks=weeks)
    return datetime(day.year, day.month, day.day, 1, 0, tzinfo=berlin).astimezone(UTC)


def sf_datetime(dt: datetime) -> str:
    """Salesforce's JSON dateTime format: ``2026-12-31T00:00:00.000+0000``."""
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000+0000")


class OrgData:
    """The records of one org, indexed by 15-character Id for relationship lookups."""

    def __init__(self, objects: set[str]) -> None:
        self.objects = objects
        self.tables: dict[str, list[dict[str, Any]]] = {name: [] for name in objects}
        self._by_id: dict[str, dict[str, dict[str, Any]]] = {name: {} for name in objects}
        self._lower = {name.lower(): name for name in objects}
        # Objects the org has but its API user may not query (missing permission).
        self.hidden: frozenset[str] = frozenset()

    def add(self, obj: str, record: dict[str, Any], created: datetime | None = None) -> str:
        """Insert a record (fills Id and audit dates); returns its Id."""
        schema = SCHEMA[obj]
        rec = {canon: None for canon, _t in schema.fields.values()}
        stamp = sf_datetime(created or datetime(2023, 3, 1, tzinfo=UTC))
        rec.update({"CreatedDate": stamp, "LastModifiedDate": stamp, "SystemModstamp": stamp})
        rec.update(record)
        unknown = set(record) - {c for c, _t in schema.fields.values()}
        if unknown:
            raise KeyError(f"{obj} has no fields {sorted(unknown)}")
        self.tables[obj].append(rec)
        self._by_id[obj][str(rec["Id"])[:15]] = rec
        return str(rec["Id"])

    def replace_rows(self, tables: dict[str, list[dict[str, Any]]]) -> None:
        """Replace every record of the given objects (a restored state); ValueError, and
        nothing replaced, when a row lacks an Id or has a field its object has not."""
        for obj, rows in tables.items():
            if obj not in self.objects:
                raise ValueError(f"this org has no {obj}")
            known = {c for c, _t in SCHEMA[obj].fields.values()}
            for row in rows:
                if not isinstance(row, dict) or not row.get("Id") or set(row) - known:
                    raise ValueError(f"a {obj} row does not fit its object")
        for obj, rows in tables.items():
            self.tables[obj] = []
            self._by_id[obj] = {}
            for row in rows:
                self.add(obj, row)

    # SoqlDatabase protocol
    def schema(self, name: str) -> ObjectSchema | None:
        canon = self._lower.get(name.lower())
        return SCHEMA[canon] if canon else None

    def rows(self, name: str) -> list[dict[str, Any]]:
        return self.tables.get(name, [])

    def get(self, name: str, record_id: str) -> dict[str, Any] | None:
        table = self._by_id.get(name)
        return table.get(str(record_id)[:15]) if table is not None else None


def package_id(ns: str) -> str:
    """The package (033) Id, the same in every org, as a real package's is."""
    return make_id("033", f"package|{ns}")


def version_id(ns: str, v: Version) -> str:
    return make_id("04t", f"version|{ns}|{v}")


def released_versions(ns: str) -> list[Version]:
    """The released history of a package: a few minors, each with patches."""
    cur = CURRENT_VERSIONS[ns]
    out = []
    for minor in range(cur.minor - 5, cur.minor + 1):
        last_patch = cur.patch if minor == cur.minor else 2
        out.extend(Version(cur.major, minor, p, 1) for p in range(last_patch + 1))
    return out


def installed_version(org: SimOrg, ns: str) -> Version | None:
    return org.version(ns)


def build_org_data(org: SimOrg, all_orgs: list[SimOrg], now: datetime) -> OrgData:
    """All records of `org` as its scenario describes them."""
    spec = org.spec
    objects = set(SCHEMA) - VENDOR_ONLY
    if spec.vendor:
        objects |= VENDOR_ONLY
    if installed_version(org, "ONB2") is None and not spec.vendor:
        objects.discard(BALANCE_OBJECT)
    db = OrgData(objects)
    # What the integration user may query: without View Setup and Configuration the Setup
    # objects are not there for it (INVALID_TYPE), although the org has them.
    db.hidden = frozenset() if spec.view_setup else frozenset(SETUP_OBJECTS)
    oid = org.org_id

    def rid(prefix: str, what: str) -> str:
        return make_id(prefix, f"{oid}|{what}")

    created = now - timedelta(days=900 + seed_hash(oid) % 700)
    country = ("DE", "AT", "CH")[seed_hash(oid) % 3]
    db.add("Organization", {
        "Id": oid, "Name": org.name, "OrganizationType": org.edition,
        "IsSandbox": org.kind == "sandbox", "InstanceName": org.instance_name,
        "TrialExpirationDate": None, "NamespacePrefix": "ONB2" if spec.vendor else None,
        "Country": country, "DefaultLocaleSidKey": "de_DE", "LanguageLocaleKey": "de",
        # The org's default time zone (a test sets another one as SimOrg.extra["timezone"]).
        "TimeZoneSidKey": str(org.extra.get("timezone") or _ZONE_OF_COUNTRY[country]),
        "PrimaryContact": None,
        "Division": None}, created)

    # Profiles (names in the API user's language) and their profile-owned permission sets. A
    # standard profile's permission set has IsCustom=false; only System Administrator among
    # the standard profiles has Modify All Data. The integration profile is a custom one.
    profiles = {}
    names = dict(zip(("admin", "std", "ro"), PROFILE_NAMES[spec.language], strict=True))
    if not spec.view_setup:
        names["integration"] = "JustOn Integration"
    for key, pname in names.items():
        pid = rid("00e", key)
        db.add("Profile", {"Id": pid, "Name": pname, "UserType": "Standard"}, created)
        ps = rid("0PS", f"profile|{key}")
        db.add("PermissionSet", {"Id": ps, "Name": f"X{pid[:15]}", "Label": pid[:15],
                                 "IsOwnedByProfile": True, "ProfileId": pid,
                                 "NamespacePrefix": None, "Description": None,
                                 "IsCustom": key == "integration",
                                 "PermissionsModifyAllData": key == "admin",
                                 "PermissionsViewSetup": key == "admin"},
               created)
        profiles[key] = (pid, ps)
    admin_ps = profiles["admin"][1]
    std_ps = profiles["std"][1]
    user_ps = rid("0PS", "juston_user")
    billing_ps = rid("0PS", "juston_billing")
    for ps, name, label in ((user_ps, "JustOn_User", "JustOn User"),
                            (billing_ps, "JustOn_Billing", "JustOn Billing")):
        db.add("PermissionSet", {"Id": ps, "Name": name, "Label": label,
                                 "IsOwnedByProfile": False, "ProfileId": None,
                                 "NamespacePrefix": None, "Description": f"{label} access",
                                 "IsCustom": True, "PermissionsModifyAllData": False,
                                 "PermissionsViewSetup": False}, created)

    # Users: the admin plus one per used licence.
    allowed_b, used_b = spec.licences_allowed, spec.licences_used
    if org.extra.get("licences"):  # the demo's spread of licence counts
        allowed_b, used_b = (int(n) for n in org.extra["licences"])  # type: ignore[attr-defined]
    lic_used = used_b if installed_version(org, "ONB2") else 0
    # The API user: an admin, or (no_view_setup) a user on the custom integration profile.
    api_profile = profiles["admin" if spec.view_setup else "integration"][0]
    users = [(org.user_id, "Admin", "Sim", org.username, api_profile)]
    for i in range(max(lic_used, 3)):
        first, last = _users_name(oid, i)
        uname = f"{first.lower()}.{last.lower()}{i}@{org.my_domain.split('.')[0]}.example.com"
        users.append((rid("005", f"user{i}"), first, last, uname, profiles["std"][0]))
    for uid, first, last, uname, prof in users:
        db.add("User", {"Id": uid, "Username": uname, "Name": f"{first} {last}",
                        "FirstName": first, "LastName": last, "Email": uname.replace("+", "."),
                        "IsActive": True, "ProfileId": prof, "UserType": "Standard"}, created)
    for i, (uid, *_rest) in enumerate(users[1:]):
        db.add("PermissionSetAssignment", {"Id": rid("0Pa", f"psa{i}"), "AssigneeId": uid,
                                           "PermissionSetId": user_ps if i % 2 else billing_ps})

    # Installed packages (Tooling) and licences.
    install_date = now - timedelta(days=200 + seed_hash(oid + "inst") % 300)
    for ns in ("ONB2", "JOCM"):
        v = installed_version(org, ns)
        if v is None:
            continue
        pkg, ver = package_id(ns), version_id(ns, v)
        if db.get("SubscriberPackage", pkg) is None:
            db.add("SubscriberPackage", {"Id": pkg, "Name": PACKAGE_NAMES[ns],
                                         "NamespacePrefix": ns, "Description": None,
                                         "IsPackageValid": True})
        db.add("SubscriberPackageVersion", {
            "Id": ver, "Name": v.name, "SubscriberPackageId": pkg, "MajorVersion": v.major,
            "MinorVersion": v.minor, "PatchVersion": v.patch, "BuildNumber": v.build,
            "ReleaseState": "Released", "IsManaged": True, "IsBeta": False,
            "IsDeprecated": False})
        db.add("InstalledSubscriberPackage", {
            "Id": rid("0A3", f"isp|{ns}"), "SubscriberPackageId": pkg,
            "SubscriberPackageVersionId": ver, "MinPackageVersionId": ver}, install_date)
        allowed, used, status = allowed_b, used_b, spec.licence_status
        expires = now.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=365)
        if ns == "JOCM":
            allowed, used, status = 10, 4, "Active"
        elif spec.licence_expired:
            expires = now.replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=12)
        lic = rid("050", f"lic|{ns}")
        db.add("PackageLicense", {
            "Id": lic, "NamespacePrefix": ns, "Status": status, "AllowedLicenses": allowed,
            "UsedLicenses": used, "ExpirationDate": sf_datetime(expires), "IsProvisioned": True,
            "IsAvailableForIntegrations": False}, install_date)
        for i, (uid, *_rest) in enumerate(users[1 : used + 1]):
            db.add("UserPackageLicense", {"Id": rid("051", f"upl|{ns}|{i}"), "UserId": uid,
                                          "PackageLicenseId": lic}, install_date)

    # Connected apps: JustOn Platform only where the package is installed, plus unrelated ones.
    billing = installed_version(org, "ONB2") is not None
    apps = [("dataloader", "Dataloader Partner", False)]
    if billing:
        apps.insert(0, ("juston", CONNECTED_APP_NAME, spec.admin_approved))
    for key, name, approved in apps:
        app = rid("0H4", f"app|{key}")
        db.add("ConnectedApplication", {
            "Id": app, "Name": name, "OptionsAllowAdminApprovedUsersOnly": approved,
            "OptionsRefreshTokenValidityMetric": False, "RefreshTokenValidityPeriod": None,
            "StartUrl": None, "OptionsHasSessionLevelPolicy": False,
            "OptionsAppIssueJwtTokenEnabled": False, "MobileSessionTimeout": "Never",
            "PinLength": "4", "UvidTimeout": None}, install_date)
        parents = [user_ps]
        if key != "juston" or spec.sysadmin_access:
            parents.insert(0, admin_ps)
        for p in parents:
            db.add("SetupEntityAccess", {"Id": rid("0J0", f"sea|{key}|{p}"), "ParentId": p,
                                         "SetupEntityId": app,
                                         "SetupEntityType": "ConnectedApplication"})
    db.add("SetupEntityAccess", {"Id": rid("0J0", "sea|apex"), "ParentId": std_ps,
                                 "SetupEntityId": rid("01p", "apexclass"),
                                 "SetupEntityType": "ApexClass"})

    # Object, field and tab permissions (noise on other objects so filters matter).
    def objperm(parent: str, sobject: str, r: bool, c: bool, e: bool, d: bool, va: bool = False,
                ma: bool = False) -> None:
        db.add("ObjectPermissions", {
            "Id": rid("110", f"op|{parent}|{sobject}"), "ParentId": parent, "SobjectType": sobject,
            "PermissionsRead": r, "PermissionsCreate": c, "PermissionsEdit": e,
            "PermissionsDelete": d, "PermissionsViewAllRecords": va,
            "PermissionsModifyAllRecords": ma})

    def fieldperm(parent: str, sobject: str, fname: str, r: bool, e: bool) -> None:
        db.add("FieldPermissions", {
            "Id": rid("01k", f"fp|{parent}|{fname}"), "ParentId": parent, "SobjectType": sobject,
            "Field": f"{sobject}.{fname}", "PermissionsRead": r, "PermissionsEdit": e})

    def tab(parent: str, name: str, vis: str) -> None:
        db.add("PermissionSetTabSetting", {"Id": rid("01P", f"tab|{parent}|{name}"),
                                           "ParentId": parent, "Name": name, "Visibility": vis})

    for sobject in ("Account", "Contact", "Task"):
        objperm(admin_ps, sobject, True, True, True, True, True, True)
        objperm(std_ps, sobject, True, True, True, False)
    tab(admin_ps, "standard-Account", "DefaultOn")
    tab(std_ps, "standard-Account", "DefaultOn")
    fieldperm(admin_ps, "Account", "Industry", True, True)
    if spec.task_type:
        fieldperm(admin_ps, "Task", "Type", True, True)
        if billing:
            fieldperm(billing_ps, "Task", "Type", True, True)
    if billing:
        objperm(admin_ps, "ONB2__Invoice__c", True, True, True, True, True, True)
        objperm(billing_ps, "ONB2__Invoice__c", True, False, False, False)
        fieldperm(billing_ps, "ONB2__Invoice__c", "ONB2__Status__c", True, False)
        tab(billing_ps, "ONB2__Invoice__c", "DefaultOn")
        if spec.balance_perms:
            objperm(admin_ps, BALANCE_OBJECT, True, True, True, True, True, True)
            objperm(billing_ps, BALANCE_OBJECT, True, True, True, False)
            for f in BALANCE_FIELDS:
                fieldperm(billing_ps, BALANCE_OBJECT, f, True, True)
                fieldperm(admin_ps, BALANCE_OBJECT, f, True, True)
            tab(billing_ps, BALANCE_OBJECT, "DefaultOn")
            tab(admin_ps, BALANCE_OBJECT, "DefaultOff")
        for i in range(3):
            db.add(BALANCE_OBJECT, {
                "Id": rid("a0B", f"bal{i}"), "Name": f"BAL-{i + 1:05d}",
                "ONB2__Amount__c": [120.0, -45.5, 980.25][i], "ONB2__Account__c": rid("001", "acc"),
                "ONB2__Date__c": (now - timedelta(days=30 * i)).date().isoformat(),
                "ONB2__Type__c": ["Payment", "Credit", "Invoice"][i], "ONB2__Invoice__c": None,
                "ONB2__Description__c": None})

    if spec.vendor:
        _add_vendor_data(db, org, all_orgs, now)
    return db


def _users_name(seed: str, i: int) -> tuple[str, str]:
    first = USER_NAMES[(seed_hash(seed) + i) % len(USER_NAMES)][0]
    last = USER_NAMES[(seed_hash(seed) // 3 + 5 * i + 1) % len(USER_NAMES)][1]
    return first, last


_EXTRA_SUBSCRIBERS = (("Kärntner Milch eGen", "Production"), ("Salzburger Reisebüro GmbH",
                      "Production"), ("Luzerner Druckerei AG", "Production"))


def add_subscriber(db: OrgData, vendor_id: str, ns: str, key: str, name: str, org_type: str,
                   version: Version, *, parent: str | None = None, instance: str = "EU48",
                   status: str = "Active", installed: str = "i", beta: bool = False,
                   blocked: bool = False) -> dict[str, Any]:
    """A PackageSubscriber row of the packaging org (one per org and package). With `beta`
    the installed version is a Beta MetadataPackageVersion (added when missing); `blocked`
    is a subscriber that blocks push upgrades (with its PushUpgradeCustomization row)."""
    ver = version_id(ns, version)
    if beta:
        ver = make_id("04t", f"beta|{ns}|{version}")
        if db.get("MetadataPackageVersion", ver) is None:
            db.add("MetadataPackageVersion", {
                "Id": ver, "Name": version.name, "MetadataPackageId": package_id(ns),
                "ReleaseState": "Beta", "MajorVersion": version.major,
                "MinorVersion": version.minor, "PatchVersion": version.patch,
                "BuildNumber": version.build, "IsDeprecated": False})
    row_id = db.add("PackageSubscriber", {
        "Id": make_id("0Hb", f"{vendor_id}|sub|{ns}|{key}"), "OrgKey": key, "OrgName": name,
        "OrgType": org_type, "OrgStatus": status, "InstalledStatus": installed,
        "InstanceName": instance, "MetadataPackageId": package_id(ns),
        "MetadataPackageVersionId": ver, "ParentOrg": parent[:15] if parent else None,
        "CustomUpgradeType": "None", "HasRestrictionEnabled": False})
    row = db.get("PackageSubscriber", row_id)
    assert row is not None
    if blocked:
        set_blocked(db, vendor_id, row, True)
    return row


def set_blocked(db: OrgData, vendor_id: str, subscriber: dict[str, Any], blocked: bool) -> None:
    """The subscriber blocks push upgrades of its package (customized push upgrades: the
    partner allowed it with PushUpgradeCustomizationRepository.create(package, org, true),
    then the subscriber turned the block on; push_upgrade_customized.htm), or no longer."""
    subscriber["CustomUpgradeType"] = "BlockedBySubscriber" if blocked else "None"
    subscriber["HasRestrictionEnabled"] = blocked
    puc_id = make_id("0Pu", f"{vendor_id}|puc|{subscriber['Id']}")
    row = db.get("PushUpgradeCustomization", puc_id)
    values = {"CustomUpgradeType": subscriber["CustomUpgradeType"], "ExpirationDays": -1,
              "HasRestrictionEnabled": blocked, "IsCustomUpgradeAllowed": True,
              "IsRestrictionOverridden": False}
    if row is None:
        db.add("PushUpgradeCustomization", {"Id": puc_id, **values})
    else:
        row.update(values)


def add_subscriber_rows(db: OrgData, vendor_id: str, org: SimOrg) -> list[dict[str, Any]]:
    """The PackageSubscriber rows of a simulated org: one per package it has installed."""
    rows = []
    if org.spec.vendor:
        return rows
    for ns in ("ONB2", "JOCM"):
        v = installed_version(org, ns)
        if v is None:
            continue
        rows.append(add_subscriber(
            db, vendor_id, ns, org.org_id, org.name,
            "Sandbox" if org.kind == "sandbox" else "Production", v, parent=org.parent_org_id,
            instance=org.instance_name, blocked=org.extra.get("blocks_push") == ns))
    return rows


def _add_vendor_data(db: OrgData, vendor: SimOrg, all_orgs: list[SimOrg], now: datetime) -> None:
    """Packages, versions, subscribers and push upgrades of the packaging org."""
    vid = vendor.org_id

    def rid(prefix: str, what: str) -> str:
        return make_id(prefix, f"{vid}|{what}")

    day = timedelta(days=1)
    for ns in ("ONB2", "JOCM"):
        # JOCM as Cash Management's namespace is UNCONFIRMED (reference §2b).
        db.add("MetadataPackage", {"Id": package_id(ns), "Name": PACKAGE_NAMES[ns],
                                   "NamespacePrefix": ns, "PackageCategory": "Package"})
        history = released_versions(ns)
        for i, v in enumerate(history):
            vid_ = version_id(ns, v)
            age = (len(history) - i) * 21
            db.add("MetadataPackageVersion", {
                "Id": vid_, "Name": v.name, "MetadataPackageId": package_id(ns),
                "ReleaseState": "Released", "MajorVersion": v.major, "MinorVersion": v.minor,
                "PatchVersion": v.patch, "BuildNumber": v.build, "IsDeprecated": False},
                now - age * day)
        cur = CURRENT_VERSIONS[ns]
        # A release that was withdrawn (IsDeprecated): newer than the current one, but no org
        # can be pushed to it, so it is never "current".
        withdrawn = Version(cur.major, cur.minor + 1, 0, 1)
        db.add("MetadataPackageVersion", {
            "Id": version_id(ns, withdrawn), "Name": withdrawn.name,
            "MetadataPackageId": package_id(ns), "ReleaseState": "Released",
            "MajorVersion": withdrawn.major, "MinorVersion": withdrawn.minor,
            "PatchVersion": withdrawn.patch, "BuildNumber": withdrawn.build,
            "IsDeprecated": True}, now - 10 * day)
        beta = Version(cur.major, cur.minor + 1, 1, 3)
        db.add("MetadataPackageVersion", {
            "Id": version_id(ns, beta), "Name": beta.name, "MetadataPackageId": package_id(ns),
            "ReleaseState": "Beta", "MajorVersion": beta.major, "MinorVersion": beta.minor,
            "PatchVersion": beta.patch, "BuildNumber": beta.build, "IsDeprecated": False},
            now - 3 * day)

    for o in all_orgs:
        add_subscriber_rows(db, vendor.org_id, o)
    for i, (name, otype) in enumerate(_EXTRA_SUBSCRIBERS):
        add_subscriber(db, vendor.org_id, "ONB2", make_org_id(f"extra|{i}"), name, otype,
                       released_versions("ONB2")[-4 - i], instance="EU48")

    # Push requests, as JustOn runs them (seed 000): only to orgs registered for push upgrades
    # (sandboxes by ticket), at Saturday 01:00 Europe/Berlin, and only to orgs below the
    # version. Two finished (one job failed), one canceled, two coming up.
    cur_b, cur_c = CURRENT_VERSIONS["ONB2"], CURRENT_VERSIONS["JOCM"]
    prev_c = released_versions("JOCM")[-2]
    customers = [o for o in all_orgs if not o.spec.vendor]
    pushed = [o for o in customers if o.extra.get("push") == "registered"
              or o.extra.get("sandbox_ticket")]
    failed = {o.org_id for o in pushed if o.extra.get("last_push_failed")}
    if not any(o.extra for o in customers):  # a test's scenario set: every org is pushed
        pushed = customers
        failed = {pushed[1].org_id} if len(pushed) > 1 else set()

    def targets(ns: str, version: Version, *, below: bool) -> list[str]:
        out = []
        for o in pushed:
            installed = o.version(ns)
            if installed is None:
                continue
            if below and installed >= version:
                continue
            out.append(o.org_id)
        return out

    plans = [
        # Long past: outside the window a calendar refresh reads (vendor.PUSH_WINDOW_DAYS).
        ("ancient_billing", "ONB2", released_versions("ONB2")[-6], saturday_slot(now, -58),
         "Succeeded", targets("ONB2", released_versions("ONB2")[-6], below=False)),
        ("past_billing", "ONB2", cur_b, saturday_slot(now, -4), "Succeeded",
         targets("ONB2", cur_b, below=False)),
        ("past_cash", "JOCM", prev_c, saturday_slot(now, -8), "Succeeded",
         targets("JOCM", prev_c, below=False)),
        ("canceled", "JOCM", prev_c, saturday_slot(now, -9), "Canceled",
         targets("JOCM", prev_c, below=False)),
        # The failed org again: created with its job but never set to Pending, and its start
        # is long past (a forgotten request, as the anchors' tools leave behind).
        ("repush_failed", "ONB2", cur_b, saturday_slot(now, -2), "Created", sorted(failed)),
        ("next_cash", "JOCM", cur_c, saturday_slot(now, 3), "Pending",
         targets("JOCM", cur_c, below=True)),
    ]
    for key, ns, v, when, status, orgkeys in plans:
        req = rid("0DV", f"push|{key}")
        done = status in ("Succeeded", "Failed")
        db.add("PackagePushRequest", {
            "Id": req, "PackageVersionId": version_id(ns, v),
            "ScheduledStartTime": sf_datetime(when), "Status": status,
            "StartTime": sf_datetime(when) if done else None,
            "EndTime": sf_datetime(when + timedelta(minutes=42)) if done else None,
            "DurationSeconds": 2520 if done else None}, when - 7 * day)
        for orgkey in orgkeys:
            job_status = status
            if done and key == "past_billing" and orgkey in failed:
                job_status = "Failed"
            job = rid("0DX", f"job|{key}|{orgkey}")
            db.add("PackagePushJob", {
                "Id": job, "PackagePushRequestId": req, "SubscriberOrganizationKey": orgkey,
                "Status": job_status, "StartTime": sf_datetime(when) if done else None,
                "EndTime": sf_datetime(when + timedelta(minutes=5)) if done else None,
                "DurationSeconds": 300 if done else None}, when - 7 * day)
            if job_status == "Failed":
                db.add("PackagePushError", {
                    "Id": rid("0DY", f"err|{key}|{orgkey}"), "PackagePushJobId": job,
                    "ErrorSeverity": "Error", "ErrorType": "ApexTestFailure",
                    "ErrorTitle": "Apex test failure",
                    "ErrorMessage": "ONB2.InvoiceRunTest.testRun: System.AssertException",
                    "ErrorDetails": "Class.ONB2.InvoiceRunTest.testRun: line 42, column 1"})
                db.add("PackagePushError", {
                    "Id": rid("0DY", f"warn|{key}|{orgkey}"), "PackagePushJobId": job,
                    "ErrorSeverity": "Warning", "ErrorType": "FeatureMissing",
                    "ErrorTitle": "Feature missing", "ErrorMessage": "Multi-currency is off",
                    "ErrorDetails": None})
