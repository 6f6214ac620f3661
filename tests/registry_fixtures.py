"""Deterministic orgs and snapshots for the registry and access tests (fixed clock)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from juston_tui.credentials import open_credentials
from juston_tui.model import Check, Org, PushRegistration, Snapshot, normalize_org_id
from juston_tui.store import Store

NOW = datetime(2026, 5, 4, 9, 30, tzinfo=UTC)


def org_id(n: int) -> str:
    return normalize_org_id(f"00D5g0000{n:06d}")


def iso(dt: datetime) -> str:
    return dt.isoformat().replace("+00:00", "Z")


def facts(billing: str | None = "2.80.3", cash: str | None = "1.14.0", *, admin_approved: bool
          | None = True, sysadmin: bool = True, used: int = 17, allowed: int = 25,
          found: bool = True) -> dict[str, Any]:
    profiles = ["System Administrator", "JustOn Billing User"] if sysadmin else [
        "JustOn Billing User"]
    return {
        "organization": {"name": "x", "edition": "Enterprise Edition", "is_sandbox": False,
                         "instance": "EU45", "org_type": "Enterprise Edition"},
        "packages": {
            "billing": {"name": "JustOn Billing & Invoice Management", "namespace": "ONB2",
                        "version": billing, "version_id": "04t000000000001"} if billing else None,
            "cash": {"name": "JustOn Cash Management", "namespace": "JCM", "version": cash,
                     "version_id": "04t000000000002"} if cash else None,
        },
        "current_versions": {"billing": "2.80", "cash": "1.14"},
        "licenses": [{"namespace": "ONB2", "status": "Active", "allowed": allowed, "used": used,
                      "expires": None}],
        "connected_app": {"found": found, "name": "JustOn Platform",
                          "admin_approved": admin_approved,
                          "profiles": profiles if found else [],
                          "permission_sets": ["JustOn Platform Access"] if found else [],
                          "sysadmin": sysadmin and found},
        "api_usage": {"used": 1200, "max": 100000},
    }


def checks(**verdicts: str) -> tuple[Check, ...]:
    ids = ("organization", "package.billing", "package.cash", "licenses",
           "connected_app.permitted_users", "connected_app.sysadmin", "permissions.balance",
           "permissions.task_type", "api_usage")
    out = []
    for cid in ids:
        verdict = verdicts.get(cid.replace(".", "_"), "ok")
        out.append(Check(cid, verdict, f"{cid} is {verdict}",
                         "" if verdict == "ok" else f"Fix {cid} in Setup."))
    return tuple(out)


def build_store(path: Path) -> Store:
    """Six orgs covering every state the registry and access screens distinguish."""
    store = Store.open(path)
    acme = Org.create(org_id=org_id(1), name="Acme GmbH", tags=["dach", "key-account"],
                      instance_url="https://acme.my.salesforce.com", auth_method="token",
                      push=PushRegistration("registered", "2026-01-10", "SUP-101", "2026-01-20"))
    acme_uat = Org.create(org_id=org_id(2), name="Acme GmbH (UAT)", kind="sandbox",
                          parent_org_id=org_id(1), domain="test")
    globex = Org.create(org_id=org_id(3), name="Globex Corp", tags=["us"])
    initech = Org.create(org_id=org_id(4), name="Initech AG", auth_method="password",
                         username="admin@initech.example")
    evil = Org.create(org_id=org_id(5), name="[bold red]x[/] \x1b]0;pwned\x07evil\x1b[31m")
    vendor = Org.create(org_id=org_id(6), name="JustOn Packaging", vendor=True)
    for org in (acme, acme_uat, globex, initech, evil, vendor):
        store.add_org(org)
    store.save_snapshot(Snapshot(org_id(1), iso(NOW - timedelta(hours=2)), checks(),
                                 facts=facts()))
    store.save_snapshot(Snapshot(org_id(2), iso(NOW - timedelta(hours=30)),
                                 checks(connected_app_permitted_users="fail"),
                                 facts=facts(admin_approved=False)))
    store.save_snapshot(Snapshot(org_id(3), iso(NOW - timedelta(minutes=20)),
                                 checks(package_billing="warn", connected_app_sysadmin="fail"),
                                 facts=facts(billing="2.71.0", sysadmin=False, used=25,
                                             allowed=25)))
    store.save_snapshot(Snapshot(org_id(4), iso(NOW - timedelta(days=3)),
                                 tuple(Check(c.id, "unknown", "login failed") for c in checks()),
                                 error="login failed: INVALID_LOGIN", facts={}))
    return store


def make_app(path: Path, **kwargs: Any) -> Any:
    from juston_tui.app import JustOnApp

    app = JustOnApp(store=build_store(path), credentials=open_credentials("memory"), **kwargs)
    app.clock = lambda: NOW  # injectable "now": ages and staleness are deterministic
    return app
