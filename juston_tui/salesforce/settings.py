"""What the probes look for and what counts as current: data/releases.toml plus store overrides.

Namespaces, the connected app's name and the "current" package versions change with JustOn's
releases, not with this code, so they live in a data file; a support engineer can override the
current versions in the store (setting `current_versions`) the day a push upgrade goes out.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from functools import lru_cache
from importlib import resources
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from juston_tui.store import Store

__all__ = ["PRODUCTS", "ProbeSettings", "load_releases", "parse_version", "version_text"]

PRODUCTS = ("billing", "cash")


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
    current_versions: Mapping[str, str] = field(default_factory=dict)
    connected_app: str = "JustOn Platform"
    required_profile: str = "System Administrator"
    balance_object: str = "ONB2__Balance__c"
    balance_tab: str = "ONB2__Balance__c"
    task_type_fields: tuple[str, ...] = ("Task.Type", "Activity.Type")
    licence_expiry_warning_days: int = 30
    api_usage_warning_ratio: float = 0.9
    today: date | None = None  # fixed "today" for tests; None = the real date (UTC)

    @classmethod
    def defaults(cls) -> ProbeSettings:
        data = load_releases()
        products = data.get("products", {})
        app = data.get("connected_app", {})
        perms = data.get("permissions", {})
        limits = data.get("thresholds", {})
        return cls(
            namespaces={p: str(products[p]["namespace"]) for p in PRODUCTS if p in products},
            product_names={p: str(products[p].get("name", p)) for p in PRODUCTS if p in products},
            current_versions={
                p: str(products[p]["current_version"])
                for p in PRODUCTS
                if p in products and products[p].get("current_version")
            },
            connected_app=str(app.get("name", cls.connected_app)),
            required_profile=str(app.get("required_profile", cls.required_profile)),
            balance_object=str(perms.get("balance_object", cls.balance_object)),
            balance_tab=str(perms.get("balance_tab", cls.balance_tab)),
            task_type_fields=tuple(perms.get("task_type_fields", cls.task_type_fields)),
            licence_expiry_warning_days=int(limits.get("licence_expiry_warning_days", 30)),
            api_usage_warning_ratio=float(limits.get("api_usage_warning_ratio", 0.9)),
        )

    @classmethod
    def for_store(cls, store: Store | None) -> ProbeSettings:
        """Defaults with the store's `current_versions` setting applied (bad values ignored)."""
        settings = cls.defaults()
        if store is None:
            return settings
        override = store.get_setting("current_versions")
        return settings.with_current_versions(override) if override else settings

    def with_current_versions(self, override: Any) -> ProbeSettings:
        if not isinstance(override, Mapping):
            return self
        merged = dict(self.current_versions)
        for product, version in override.items():
            if product in PRODUCTS and parse_version(str(version)) is not None:
                merged[product] = str(version)
        return replace(self, current_versions=merged)

    def product_name(self, product: str) -> str:
        return self.product_names.get(product, product)

    def namespace(self, product: str) -> str:
        return self.namespaces.get(product, "")
