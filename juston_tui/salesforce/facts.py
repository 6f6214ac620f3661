"""What one probe read from an org, typed: made once by `probe.collect_facts`, judged once by
`checks.evaluate`, stored in `Snapshot.facts` as `Facts.to_doc()`.

Nothing here decides a verdict. Every surface (status, registry, org detail, access screen,
checklist, push request) shows the `Check`s the rules made from these facts; a surface may show
a fact itself (a version, a profile name) but never judges it again. `Facts.from_doc` reads
older snapshot documents too (errors as plain strings, current versions as plain strings), so
history written before this module still loads.

Pure data, no I/O and no heavy imports: the screens import it on their start-up path.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "ApiUsage",
    "BalanceFacts",
    "ConnectedAppFacts",
    "CurrentVersion",
    "Facts",
    "LicenceFacts",
    "OrgFacts",
    "PackageFacts",
    "ReadError",
    "TaskTypeFacts",
]

# How the probe went (Facts.meta): request counts, time, warnings, and the diagnoses the rules
# made of what kept it from reading (juston_tui.salesforce.checks.diagnose), stored with it.
META_KEYS = ("round_trips", "logins", "duration_ms", "warnings", "diagnoses")

def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _opt_bool(value: Any) -> bool | None:
    return None if value is None else bool(value)


def _opt_int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _names(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list | tuple):
        return ()
    return tuple(str(v) for v in value if v is not None)


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


@dataclass(frozen=True, slots=True)
class ReadError:
    """Why a fact could not be read: the message, and Salesforce's errorCode when it gave one.

    `objects` names the sObjects the failing query read (to say which permission is missing).
    """

    message: str
    code: str = ""
    objects: tuple[str, ...] = ()

    def to_doc(self) -> dict[str, Any]:
        return {"message": self.message, "code": self.code, "objects": list(self.objects)}

    @classmethod
    def from_doc(cls, doc: Any) -> ReadError:
        if isinstance(doc, Mapping):
            return cls(_text(doc.get("message")), _text(doc.get("code")),
                       _names(doc.get("objects")))
        return cls(_text(doc))


@dataclass(frozen=True, slots=True)
class OrgFacts:
    """The Organization record."""

    org_id: str = ""
    name: str = ""
    edition: str = ""
    is_sandbox: bool | None = None
    instance: str = ""
    org_type: str = ""  # production | sandbox | scratch (Salesforce CLI's rule)
    # TimeZoneSidKey (Organization object reference: the org's default time zone, a picklist
    # of ids such as "America/New_York"); "" when not read (snapshots before it was read).
    timezone: str = ""

    def to_doc(self) -> dict[str, Any]:
        return {"org_id": self.org_id, "name": self.name, "edition": self.edition,
                "is_sandbox": self.is_sandbox, "instance": self.instance,
                "org_type": self.org_type, "timezone": self.timezone}

    @classmethod
    def from_doc(cls, doc: Any) -> OrgFacts | None:
        if not isinstance(doc, Mapping):
            return None
        return cls(_text(doc.get("org_id")), _text(doc.get("name")), _text(doc.get("edition")),
                   _opt_bool(doc.get("is_sandbox")), _text(doc.get("instance")),
                   _text(doc.get("org_type")), _text(doc.get("timezone")))


@dataclass(frozen=True, slots=True)
class PackageFacts:
    """One installed JustOn package (Tooling InstalledSubscriberPackage)."""

    name: str = ""
    namespace: str = ""
    version: str = ""  # major.minor.patch as Setup shows it
    version_id: str = ""
    version_name: str = ""

    def to_doc(self) -> dict[str, Any]:
        return {"name": self.name, "namespace": self.namespace, "version": self.version,
                "version_id": self.version_id, "version_name": self.version_name}

    @classmethod
    def from_doc(cls, doc: Any) -> PackageFacts | None:
        if not isinstance(doc, Mapping):
            return None
        return cls(_text(doc.get("name")), _text(doc.get("namespace")),
                   _text(doc.get("version")), _text(doc.get("version_id")),
                   _text(doc.get("version_name")))


@dataclass(frozen=True, slots=True)
class LicenceFacts:
    """One PackageLicense row."""

    namespace: str = ""
    status: str = ""
    allowed: int | None = None  # -1: site licence
    used: int | None = None
    expires: str = ""  # Salesforce dateTime text, "" = does not expire

    def to_doc(self) -> dict[str, Any]:
        return {"namespace": self.namespace, "status": self.status, "allowed": self.allowed,
                "used": self.used, "expires": self.expires or None}

    @classmethod
    def from_doc(cls, doc: Any) -> LicenceFacts:
        doc = _mapping(doc)
        return cls(_text(doc.get("namespace")), _text(doc.get("status")),
                   _opt_int(doc.get("allowed")), _opt_int(doc.get("used")),
                   _text(doc.get("expires")))


@dataclass(frozen=True, slots=True)
class ConnectedAppFacts:
    """The JustOn Platform connected app and who is pre-authorized for it.

    `profiles` are the profile names as Salesforce returns them, i.e. in the API user's language
    ("Systemadministrator" for a German user). Which of them is the standard System
    Administrator profile is a fact of its profile-owned permission set, not of its name:
    `admin_profile` is that profile's name in this org ("" if the org showed none) and
    `admin_preauthorized` whether it is among the pre-authorized ones.
    """

    found: bool = False
    name: str = ""
    id: str = ""
    admin_approved: bool | None = None
    profiles: tuple[str, ...] = ()
    permission_sets: tuple[str, ...] = ()
    admin_profile: str = ""
    admin_preauthorized: bool = False

    def to_doc(self) -> dict[str, Any]:
        return {"found": self.found, "name": self.name, "id": self.id,
                "admin_approved": self.admin_approved, "profiles": list(self.profiles),
                "permission_sets": list(self.permission_sets),
                "admin_profile": self.admin_profile,
                "admin_preauthorized": self.admin_preauthorized}

    @classmethod
    def from_doc(cls, doc: Any) -> ConnectedAppFacts | None:
        if not isinstance(doc, Mapping):
            return None
        return cls(bool(doc.get("found")), _text(doc.get("name")), _text(doc.get("id")),
                   _opt_bool(doc.get("admin_approved")), _names(doc.get("profiles")),
                   _names(doc.get("permission_sets")), _text(doc.get("admin_profile")),
                   bool(doc.get("admin_preauthorized")))


@dataclass(frozen=True, slots=True)
class BalanceFacts:
    """Which permission sets (not profiles) give read access to the Balance object, to its
    fields, and show (Visible or Available) the Balance tab."""

    object_sets: tuple[str, ...] = ()
    field_sets: tuple[str, ...] = ()
    tab_sets: tuple[str, ...] = ()

    @property
    def covering(self) -> tuple[str, ...]:
        """The permission sets that cover all three."""
        fields, tabs = set(self.field_sets), set(self.tab_sets)
        return tuple(s for s in self.object_sets if s in fields and s in tabs)

    def to_doc(self) -> dict[str, Any]:
        return {"object_sets": list(self.object_sets), "field_sets": list(self.field_sets),
                "tab_sets": list(self.tab_sets)}

    @classmethod
    def from_doc(cls, doc: Any) -> BalanceFacts | None:
        if not isinstance(doc, Mapping):
            return None
        return cls(_names(doc.get("object_sets")), _names(doc.get("field_sets")),
                   _names(doc.get("tab_sets")))


@dataclass(frozen=True, slots=True)
class TaskTypeFacts:
    """Permission sets granting read access to Task.Type."""

    permission_sets: tuple[str, ...] = ()

    def to_doc(self) -> dict[str, Any]:
        return {"permission_sets": list(self.permission_sets)}

    @classmethod
    def from_doc(cls, doc: Any) -> TaskTypeFacts | None:
        if not isinstance(doc, Mapping):
            return None
        return cls(_names(doc.get("permission_sets")))


@dataclass(frozen=True, slots=True)
class ApiUsage:
    """Daily API requests from the Sforce-Limit-Info header."""

    used: int
    max: int

    def to_doc(self) -> dict[str, Any]:
        return {"used": self.used, "max": self.max}

    @classmethod
    def from_doc(cls, doc: Any) -> ApiUsage | None:
        doc = _mapping(doc)
        used, most = _opt_int(doc.get("used")), _opt_int(doc.get("max"))
        return cls(used or 0, most) if most else None


# Where a "current version" comes from, best first.
CURRENT_SOURCES = ("override", "vendor", "assumed")


@dataclass(frozen=True, slots=True)
class CurrentVersion:
    """The version a package is compared with, and how much to trust it.

    `vendor`: the latest released, non-deprecated MetadataPackageVersion read from the packaging
    org on `as_of`; `override`: set by hand in the store (`current_versions`); `assumed`: the
    data file juston_tui/data/releases.toml as of `as_of`, a guess that goes stale.
    """

    version: str
    source: str = "assumed"
    as_of: str = ""  # ISO date
    origin: str = ""  # e.g. "vendor org 00D..." or "releases.toml"

    @property
    def label(self) -> str:
        """`current 2.80.2 (vendor org, 2026-05-02)` / `assumed current 2.80 (releases.toml of
        2026-03-01)`: every surface names the version with this."""
        when = f" of {self.as_of}" if self.as_of else ""
        if self.source == "vendor":
            return f"current {self.version} ({self.origin or 'vendor org'}{when})"
        if self.source == "override":
            return f"current {self.version} (set in the store{when})"
        return f"assumed current {self.version} ({self.origin or 'releases.toml'}{when})"

    def to_doc(self) -> dict[str, Any]:
        return {"version": self.version, "source": self.source, "as_of": self.as_of,
                "origin": self.origin}

    @classmethod
    def from_doc(cls, doc: Any) -> CurrentVersion | None:
        if isinstance(doc, str):  # snapshots written before the source was recorded
            return cls(doc) if doc else None
        doc = _mapping(doc)
        version = _text(doc.get("version"))
        if not version:
            return None
        source = _text(doc.get("source"))
        return cls(version, source if source in CURRENT_SOURCES else "assumed",
                   _text(doc.get("as_of")), _text(doc.get("origin")))


@dataclass(frozen=True)
class Facts:
    """Everything one probe read. None (or a missing key) = not read; `errors` says why."""

    organization: OrgFacts | None = None
    packages: Mapping[str, PackageFacts | None] | None = None  # product -> installed or None
    licenses: tuple[LicenceFacts, ...] | None = None
    connected_app: ConnectedAppFacts | None = None
    balance: BalanceFacts | None = None
    task_type: TaskTypeFacts | None = None
    api_usage: ApiUsage | None = None
    current: Mapping[str, CurrentVersion] = field(default_factory=dict)
    # Why a part was not read, by fact key: organization, packages, licenses, connected_app,
    # connected_app.access (who may use it), permissions (object/field), balance_tab.
    errors: Mapping[str, ReadError] = field(default_factory=dict)
    api_user: str = ""  # the user the probe ran as (the org's username, "" if unknown)
    auth_method: str = ""
    meta: Mapping[str, Any] = field(default_factory=dict)  # META_KEYS: how the probe went

    def error(self, key: str) -> ReadError | None:
        return self.errors.get(key)

    def installed(self, product: str) -> bool | None:
        """Is the product's package installed? None when the packages were not read."""
        if self.packages is None or "packages" in self.errors:
            return None
        return self.packages.get(product) is not None

    def version(self, product: str) -> str:
        package = (self.packages or {}).get(product)
        return package.version if package is not None else ""

    def to_doc(self) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "errors": {k: v.to_doc() for k, v in self.errors.items()},
            "current_versions": {p: c.to_doc() for p, c in self.current.items()},
            "api_user": self.api_user,
            "auth_method": self.auth_method,
        }
        if self.organization is not None:
            doc["organization"] = self.organization.to_doc()
        if self.packages is not None:
            doc["packages"] = {p: (v.to_doc() if v is not None else None)
                               for p, v in self.packages.items()}
        if self.licenses is not None:
            doc["licenses"] = [lic.to_doc() for lic in self.licenses]
        if self.connected_app is not None:
            doc["connected_app"] = self.connected_app.to_doc()
        permissions: dict[str, Any] = {}
        if self.balance is not None:
            permissions["balance"] = self.balance.to_doc()
        if self.task_type is not None:
            permissions["task_type"] = self.task_type.to_doc()
        doc["permissions"] = permissions
        if self.api_usage is not None:
            doc["api_usage"] = self.api_usage.to_doc()
        doc.update(self.meta)
        return doc

    @classmethod
    def from_doc(cls, doc: Mapping[str, Any] | None) -> Facts:
        """Typed facts from a stored document; anything malformed reads as not read."""
        doc = _mapping(doc)
        packages_doc = doc.get("packages")
        packages = ({str(p): PackageFacts.from_doc(v) for p, v in packages_doc.items()}
                    if isinstance(packages_doc, Mapping) else None)
        licences_doc = doc.get("licenses")
        licences = (tuple(LicenceFacts.from_doc(r) for r in licences_doc)
                    if isinstance(licences_doc, list) else None)
        permissions = _mapping(doc.get("permissions"))
        current = {str(p): c for p, raw in _mapping(doc.get("current_versions")).items()
                   if (c := CurrentVersion.from_doc(raw)) is not None}
        meta = {k: doc[k] for k in META_KEYS if k in doc}
        return cls(
            organization=OrgFacts.from_doc(doc.get("organization")),
            packages=packages,
            licenses=licences,
            connected_app=ConnectedAppFacts.from_doc(doc.get("connected_app")),
            balance=BalanceFacts.from_doc(permissions.get("balance")),
            task_type=TaskTypeFacts.from_doc(permissions.get("task_type")),
            api_usage=ApiUsage.from_doc(doc.get("api_usage")),
            current=current,
            errors={str(k): ReadError.from_doc(v)
                    for k, v in _mapping(doc.get("errors")).items()},
            api_user=_text(doc.get("api_user")),
            auth_method=_text(doc.get("auth_method")),
            meta=meta,
        )
