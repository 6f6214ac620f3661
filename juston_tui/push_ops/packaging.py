"""What the packaging org says about one package: its versions and its subscribers.

One composite of three queries (MetadataPackage, MetadataPackageVersion, PackageSubscriber
with InstalledStatus 'i'), then a page per further 2,000 subscriber rows, over the caller's
`OrgConnection` (vendor.query_batch). Facts used (object reference):
- a push targets a released, non-deprecated MetadataPackageVersion (ReleaseState 'Released',
  IsDeprecated false; sforce_api_objects_packagepushrequest.htm PackageVersionId);
- PackageSubscriber: OrgKey (= PackagePushJob.SubscriberOrganizationKey), OrgStatus
  ('Inactive' orgs can't be pushed), InstalledStatus 'i' (installed), the installed
  MetadataPackageVersionId, and (API 60+) CustomUpgradeType 'BlockedBySubscriber' with
  HasRestrictionEnabled: the subscriber blocks push upgrades (PushUpgradeCustomization).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from juston_tui.model import ValidationError, normalize_org_id
from juston_tui.salesforce.settings import parse_version, version_text
from juston_tui.salesforce.vendor import VENDOR_QUERIES, query_batch
from juston_tui.text import clean

if TYPE_CHECKING:
    from juston_tui.salesforce.connection import OrgConnection

__all__ = ["PackageVersion", "PackagingState", "Subscriber", "read_packaging"]

_QUERIES = {
    "packages": VENDOR_QUERIES["packages"],
    "versions": VENDOR_QUERIES["versions"],
    # more than the vendor sync reads: what decides a push (customization, restriction)
    "subscribers": "SELECT OrgKey, OrgName, OrgType, OrgStatus, InstalledStatus, "
                   "MetadataPackageId, MetadataPackageVersionId, ParentOrg, CustomUpgradeType, "
                   "HasRestrictionEnabled FROM PackageSubscriber WHERE InstalledStatus = 'i'",
}


@dataclass(frozen=True)
class PackageVersion:
    version_id: str  # 04t, 18 characters as Salesforce sent it
    text: str  # major.minor.patch
    released: bool
    deprecated: bool

    @property
    def key(self) -> tuple[int, ...]:
        return parse_version(self.text) or (0,)

    @property
    def pushable(self) -> bool:
        return self.released and not self.deprecated


@dataclass(frozen=True)
class Subscriber:
    org_id: str
    name: str
    kind: str  # production | sandbox
    status: str  # OrgStatus: Active, Inactive, Free, Trial, Demo
    version: PackageVersion | None
    blocked: bool


@dataclass(frozen=True)
class PackagingState:
    namespace: str
    versions: tuple[PackageVersion, ...]  # of this package, highest first
    subscribers: Mapping[str, Subscriber]  # org id (18) -> installed subscriber

    @property
    def released(self) -> list[PackageVersion]:
        return [v for v in self.versions if v.pushable]

    def target(self, wanted: str | None) -> PackageVersion:
        """The version to push: `wanted` (2.81 means 2.81.0) or the latest released one."""
        released = self.released
        if not released:
            raise ValidationError.single("version", f"the packaging org has no released, "
                                         f"non-deprecated version of {self.namespace}")
        if not wanted:
            return released[0]
        key = parse_version(wanted)
        if key is None:
            raise ValidationError.single("version", f"{wanted[:20]!r} is not a version "
                                         "(e.g. 2.81 or 2.81.3)")
        key = key + (0,) * (3 - len(key))
        for version in self.versions:
            if version.key[:3] == key[:3]:
                if not version.pushable:
                    state = "deprecated" if version.deprecated else "a beta"
                    raise ValidationError.single("version", f"{version.text} is {state}: only a "
                                                 "released, non-deprecated version is pushed")
                return version
        shown = ", ".join(v.text for v in released[:5])
        raise ValidationError.single("version", f"no released version {wanted} of "
                                     f"{self.namespace} (latest: {shown})")


def _org(value: Any) -> str | None:
    try:
        return normalize_org_id(str(value or ""))
    except ValidationError:
        return None


def read_packaging(conn: OrgConnection, namespace: str) -> PackagingState:
    """The package `namespace`'s versions and installed subscribers (AccessError on failure)."""
    records = query_batch(conn, _QUERIES)
    package_ids = {str(p.get("Id"))[:15] for p in records.get("packages") or ()
                   if str(p.get("NamespacePrefix") or "") == namespace and p.get("Id")}
    if not package_ids:
        raise ValidationError.single("product", f"the packaging org has no package with "
                                     f"namespace {namespace}")
    versions: dict[str, PackageVersion] = {}
    for v in records.get("versions") or ():
        if str(v.get("MetadataPackageId") or "")[:15] not in package_ids or not v.get("Id"):
            continue
        try:
            text = version_text(v.get("MajorVersion"), v.get("MinorVersion"),
                                v.get("PatchVersion") or 0)
        except (TypeError, ValueError):
            continue
        versions[str(v["Id"])[:15]] = PackageVersion(
            str(v["Id"]), text, v.get("ReleaseState") == "Released",
            v.get("IsDeprecated") is not False)
    subscribers: dict[str, Subscriber] = {}
    for row in records.get("subscribers") or ():
        if str(row.get("MetadataPackageId") or "")[:15] not in package_ids:
            continue
        org_id = _org(row.get("OrgKey"))
        if org_id is None or row.get("InstalledStatus") != "i":
            continue
        subscribers[org_id] = Subscriber(
            org_id, clean(row.get("OrgName") or org_id, limit=200),
            "sandbox" if str(row.get("OrgType") or "").lower() == "sandbox" else "production",
            str(row.get("OrgStatus") or ""),
            versions.get(str(row.get("MetadataPackageVersionId") or "")[:15]),
            bool(row.get("HasRestrictionEnabled"))
            and row.get("CustomUpgradeType") == "BlockedBySubscriber")
    ordered = tuple(sorted(versions.values(), key=lambda v: v.key, reverse=True))
    return PackagingState(namespace, ordered, subscribers)
