"""What the probes look for and what counts as current.

Namespaces, the connected app's name and the supported editions change with JustOn's releases,
not with this code, so they live in data/releases.toml. The "current" version of each package
comes, best first, from (1) the store setting `current_versions` set by hand, (2) the latest
released, non-deprecated MetadataPackageVersion of the vendor's packaging org, cached in the
store setting `vendor_current_versions` by every vendor sync (`remember_vendor_versions`), and
(3) releases.toml, which is only an assumption with a date and is labelled so wherever used.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from functools import lru_cache
from importlib import resources
from typing import TYPE_CHECKING, Any

from juston_tui.salesforce.facts import CurrentVersion

if TYPE_CHECKING:
    from juston_tui.store import Store

__all__ = [
    "PRODUCTS",
    "VENDOR_VERSIONS_KEY",
    "ProbeSettings",
    "load_releases",
    "parse_version",
    "remember_vendor_versions",
    "version_text",
]

PRODUCTS = ("billing", "cash")
# Store setting: {"org_id", "fetched_at", "versions": {product: CurrentVersion doc}}.
VENDOR_VERSIONS_KEY = "vendor_current_versions"


@lru_cache(maxsize=1)
def load_releases() -> Mapping[str, Any]:
    """The packaged releases.toml (read once)."""
    text = resources.files("juston_tui.data").joinpath("releases.toml").read_text("utf-8")
    return tomllib.loads(text)


def parse_version(text: str | None) -> tuple[int, ...] | None:
    """'2.80.3' -> (2, 80, 3); None for anything that is not dotted integers."""
    if not text:
        return None
    parts = str(text).strip().split(".")
    try:
        numbers = tuple(int(p) for p in parts)
    except ValueError:
        return None
    return numbers if numbers and all(n >= 0 for n in numbers) else None


def version_text(major: Any, minor: Any, patch: Any = None) -> str:
    """Package version as the Setup page shows it (major.minor.patch)."""
    parts = [str(int(major or 0)), str(int(minor or 0))]
    if patch is not None:
        parts.append(str(int(patch)))
    return ".".join(parts)


@dataclass(frozen=True)
class ProbeSettings:
    """Names and thresholds for one probe run; defaults from data/releases.toml."""

    namespaces: Mapping[str, str] = field(default_factory=dict)
    product_names: Mapping[str, str] = field(default_factory=dict)
    current: Mapping[str, CurrentVersion] = field(default_factory=dict)
    connected_app: str = "JustOn Platform"
    # How the seed names the standard profile that must be pre-authorized; the rule finds it by
    # its facts (juston_tui.salesforce.checks.check_sysadmin), whatever the org calls it.
    required_profile: str = "System Administrator"
    supported_editions: tuple[str, ...] = (
        "Enterprise Edition", "Unlimited Edition", "Performance Edition", "Developer Edition")
    balance_object: str = "ONB2__Balance__c"
    balance_tab: str = "ONB2__Balance__c"
    task_type_fields: tuple[str, ...] = ("Task.Type", "Activity.Type")
    licence_expiry_warning_days: int = 30
    api_usage_warning_ratio: float = 0.9
    today: date | None = None  # fixed "today" for tests; None = the real date (UTC)

    @property
    def current_versions(self) -> dict[str, str]:
        """product -> version text (the compared value; `current` says where it comes from)."""
        return {p: c.version for p, c in self.current.items()}

    @classmethod
    def defaults(cls) -> ProbeSettings:
        data = load_releases()
        products = data.get("products", {})
        app = data.get("connected_app", {})
        perms = data.get("permissions", {})
        limits = data.get("thresholds", {})
        editions = (data.get("requirements") or {}).get("editions")
        return cls(
            namespaces={p: str(products[p]["namespace"]) for p in PRODUCTS if p in products},
            product_names={p: str(products[p].get("name", p)) for p in PRODUCTS if p in products},
            current={
                p: CurrentVersion(str(products[p]["current_version"]), "assumed",
                                  str(products[p].get("current_as_of") or ""), "releases.toml")
                for p in PRODUCTS
                if p in products and products[p].get("current_version")
            },
            connected_app=str(app.get("name", cls.connected_app)),
            required_profile=str(app.get("required_profile", cls.required_profile)),
            supported_editions=tuple(str(e) for e in editions) if editions
            else cls.supported_editions,
            balance_object=str(perms.get("balance_object", cls.balance_object)),
            balance_tab=str(perms.get("balance_tab", cls.balance_tab)),
            task_type_fields=tuple(perms.get("task_type_fields", cls.task_type_fields)),
            licence_expiry_warning_days=int(limits.get("licence_expiry_warning_days", 30)),
            api_usage_warning_ratio=float(limits.get("api_usage_warning_ratio", 0.9)),
        )

    @classmethod
    def for_store(cls, store: Store | None) -> ProbeSettings:
        """Defaults, then the vendor org's cached latest versions, then the store's own
        `current_versions` setting on top (bad values ignored)."""
        settings = cls.defaults()
        if store is None:
            return settings
        settings = settings.with_vendor_versions(store.get_setting(VENDOR_VERSIONS_KEY))
        override = store.get_setting("current_versions")
        return settings.with_current_versions(override) if override else settings

    def with_current_versions(self, override: Any) -> ProbeSettings:
        """Versions set by hand (store setting `current_versions`: {"billing": "2.81"})."""
        if not isinstance(override, Mapping):
            return self
        merged = dict(self.current)
        for product, version in override.items():
            if product in PRODUCTS and parse_version(str(version)) is not None:
                merged[product] = CurrentVersion(str(version), "override")
        return replace(self, current=merged)

    def with_vendor_versions(self, cached: Any) -> ProbeSettings:
        """The vendor org's latest released versions as cached by `remember_vendor_versions`."""
        versions = cached.get("versions") if isinstance(cached, Mapping) else None
        if not isinstance(versions, Mapping):
            return self
        merged = dict(self.current)
        for product, raw in versions.items():
            current = CurrentVersion.from_doc(raw)
            if (product in PRODUCTS and current is not None and current.source == "vendor"
                    and parse_version(current.version) is not None):
                merged[product] = current
        return replace(self, current=merged)

    def product_name(self, product: str) -> str:
        return self.product_names.get(product, product)

    def namespace(self, product: str) -> str:
        return self.namespaces.get(product, "")


def remember_vendor_versions(store: Store, latest: Mapping[str, CurrentVersion],
                             vendor_org_id: str, fetched_at: str) -> None:
    """Cache the packaging org's latest released versions (one store write; every vendor sync
    calls this). A product the vendor org did not answer for keeps its earlier cached value;
    a read-only store is left alone (the versions are read again next time)."""
    if not latest or getattr(store, "read_only", False):
        return
    with store.transaction():
        previous = store.get_setting(VENDOR_VERSIONS_KEY)
        versions = dict(previous.get("versions") or {}) if isinstance(previous, Mapping) \
            and previous.get("org_id") == vendor_org_id else {}
        versions.update({p: v.to_doc() for p, v in latest.items()})
        store.set_setting(VENDOR_VERSIONS_KEY, {"org_id": vendor_org_id,
                                                "fetched_at": fetched_at,
                                                "versions": versions})
