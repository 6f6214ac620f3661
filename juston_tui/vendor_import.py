"""Registering the packaging org's subscribers: a plan from its PackageSubscriber list, then
the plan applied in one store transaction. The use case of `org import --from-vendor` and the
registry's vendor sync screen (both show the plan, then apply it when confirmed).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from juston_tui.model import Org
from juston_tui.store import Store

__all__ = ["apply_plan", "plan_vendor_import"]


def plan_vendor_import(store: Store, subscribers: Sequence[Mapping[str, Any]],
                       vendor_org_id: str) -> list[dict[str, Any]]:
    """For each subscriber: action add|update|same, the changes, and what the vendor says."""
    plan = []
    for sub in subscribers:
        org_id = str(sub["org_id"])
        if org_id == vendor_org_id:
            continue
        kind = str(sub.get("kind") or "production")
        parent = sub.get("parent_org_id") if kind == "sandbox" else None
        products = sorted((sub.get("products") or {}).keys())
        wanted = {"name": str(sub.get("name") or org_id), "kind": kind, "parent_org_id": parent}
        action, changes = vendor_changes(store.find_org(org_id), wanted, products)
        plan.append({
            "action": action, "org_id": org_id, "name": wanted["name"], "kind": kind,
            "status": sub.get("status"), "instance": sub.get("instance"),
            "versions": dict(sub.get("products") or {}), "parent_org_id": parent,
            "changes": changes,
        })
    return plan


def vendor_changes(existing: Org | None, wanted: Mapping[str, Any],
                    products: Sequence[str]) -> tuple[str, dict[str, Any]]:
    """add|update|same and the fields to write, against `existing` (None: not registered).

    Products are merged with the org's own (the vendor list never removes one).
    """
    if existing is None:
        return "add", {**wanted, "products": sorted(products)}
    changes = {k: v for k, v in wanted.items() if getattr(existing, k) != v}
    merged = sorted(set(existing.products) | set(products))
    if merged != sorted(existing.products):
        changes["products"] = merged
    return ("update" if changes else "same"), changes


def apply_plan(store: Store, plan: Sequence[Mapping[str, Any]]) -> tuple[int, int]:
    """Add and update orgs in one transaction; returns (added, updated).

    The plan was computed from an earlier read (shown, then confirmed); each item is worked
    out again against the org as stored inside the transaction: an org added meanwhile is
    updated instead of failing the batch, products added meanwhile are kept, fields someone
    changed meanwhile to what the vendor says are left alone, and an org removed meanwhile
    stays removed (the plan only said to update it).
    """
    added = updated = 0
    with store.transaction():
        for item in plan:
            if item["action"] not in ("add", "update"):
                continue
            planned = item["changes"]
            # An update writes what the preview showed as changed; an add writes everything.
            wanted = {k: v for k, v in planned.items() if k != "products"}
            products: list[str] = []
            if "products" in planned:  # the vendor's list, not the old merge with the org's
                products = sorted(item.get("versions") or ()) or list(planned["products"])
            existing = store.find_org(item["org_id"])
            if existing is None and item["action"] == "update":
                continue
            action, changes = vendor_changes(existing, wanted, products)
            if action == "add":
                store.add_org(Org.create(org_id=item["org_id"], **changes))
                added += 1
            elif action == "update":
                store.update_org(item["org_id"], **changes)
                updated += 1
    return added, updated
