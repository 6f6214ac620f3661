"""Deterministic orgs and snapshots for the registry and access tests (fixed clock)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from ui_helpers import make_app as app_on

from juston_tui.app import JustOnApp
from juston_tui.model import Org, PushRegistration, Snapshot, normalize_org_id
from juston_tui.salesforce.checks import evaluate, unreachable
from juston_tui.salesforce.facts import (
    ApiUsage,
    BalanceFacts,
    ConnectedAppFacts,
    Facts,
    LicenceFacts,
    OrgFacts,
    PackageFacts,
    TaskTypeFacts,
)
from juston_tui.salesforce.settings import ProbeSettings
from juston_tui.screens.widgets.fast_table import FastTable
from juston_tui.store import Store

NOW = datetime(2026, 5, 4, 9, 30, tzinfo=UTC)
SETTINGS = ProbeSettings.defaults()


def org_id(n: int) -> str:
    return normalize_org_id(f"00D5g0000{n:06d}")


def iso(dt: datetime) -> str:
    return dt.isoformat().replace("+00:00", "Z")


def facts(billing: str | None = "2.80.3", cash: str | None = "1.14.0", *, admin_approved: bool
          | None = True, sysadmin: bool = True, used: int = 17, allowed: int = 25,
          found: bool = True, sandbox: bool = False) -> Facts:
    profiles = ("System Administrator", "JustOn Billing User") if sysadmin else (
        "JustOn Billing User",)
    return Facts(
        organization=OrgFacts("", "x", "Enterprise Edition", sandbox, "EU45",
                              "sandbox" if sandbox else "production"),
        packages={
            "billing": PackageFacts("JustOn Billing & Invoice Management", "ONB2", billing,
                                    "04t000000000001") if billing else None,
            "cash": PackageFacts("JustOn Cash Management", "JCM", cash, "04t000000000002")
            if cash else None,
        },
        licenses=(LicenceFacts("ONB2", "Active", allowed, used, ""),),
        connected_app=ConnectedAppFacts(
            found=found, name="JustOn Platform", id="0H4000000000001",
            admin_approved=admin_approved, profiles=profiles if found else (),
            permission_sets=("JustOn Platform Access",) if found else (),
            admin_profile="System Administrator", admin_preauthorized=sysadmin and found),
        balance=BalanceFacts(("JustOn Billing",), ("JustOn Billing",), ("JustOn Billing",)),
        task_type=TaskTypeFacts(("JustOn Billing",)),
        api_usage=ApiUsage(1200, 100000),
        current=dict(SETTINGS.current),
    )


def snapshot(org: Org, at: datetime, f: Facts) -> Snapshot:
    """What probe_org stores: the rules' checks of these facts (never hand-made verdicts)."""
    checks = evaluate(f, SETTINGS, org_products=org.products, registered_kind=org.kind,
                      today=NOW.date())
    return Snapshot(org.org_id, iso(at), checks, None, f.to_doc())


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
    store.save_snapshot(snapshot(acme, NOW - timedelta(hours=2), facts()))
    store.save_snapshot(snapshot(acme_uat, NOW - timedelta(hours=30),
                                 facts(admin_approved=False, sandbox=True)))
    store.save_snapshot(snapshot(globex, NOW - timedelta(minutes=20),
                                 facts(billing="2.71.0", sysadmin=False, used=25, allowed=25)))
    store.save_snapshot(Snapshot(org_id(4), iso(NOW - timedelta(days=3)),
                                 unreachable("login failed: INVALID_LOGIN"),
                                 error="login failed: INVALID_LOGIN", facts={}))
    return store


def make_app(path: Path, **kwargs: Any) -> JustOnApp:
    """The registry fixture's store, an app on it, and a fixed "now" (deterministic ages)."""
    return app_on(build_store(path), clock=lambda: NOW, **kwargs)


def table(app: JustOnApp) -> FastTable:
    """The registry's table (on the registry screen)."""
    return app.screen.query_one("#registry-table", FastTable)
