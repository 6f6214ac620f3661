"""A store at scale for the benches: N orgs, N contacts, S snapshots of history per org.

The snapshots look like a real probe's (eight checks, versions, licences, the connected app),
saved the way sweeps save them: in batches, one day apart.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from juston_tui.model import Check, Contact, Org, Snapshot, normalize_org_id
from juston_tui.store import Store

CHECK_IDS = ("organization", "api", "package.billing", "package.cash", "licenses",
             "connected_app", "permissions", "push")


def org_id(i: int) -> str:
    return normalize_org_id(f"00D{i:012d}")


def orgs(n: int) -> list[Org]:
    return [Org.create(org_id=org_id(i), name=f"Org {i} GmbH", tags=["eu", f"t{i % 7}"],
                       instance_url=f"https://org{i}.my.salesforce.com") for i in range(n)]


def contacts(n: int, n_orgs: int) -> list[Contact]:
    return [Contact.create(full_name=f"Person {i}", email=f"p{i}@example.de", title="Admin",
                           org_ids=[org_id(i % n_orgs)]) for i in range(n)]


def snapshot(i: int, at: datetime) -> Snapshot:
    verdicts = ("ok", "warn", "fail", "ok", "ok", "unknown", "ok", "ok")
    checks = tuple(Check(cid, verdicts[(i + k) % len(verdicts)] if k == 2 else "ok",
                         f"{cid}: as expected for org {i}") for k, cid in enumerate(CHECK_IDS))
    facts = {
        "organization": {"name": f"Org {i} GmbH", "instance": f"EU{i % 60}",
                         "type": "Enterprise Edition", "sandbox": False},
        "packages": {"billing": {"name": "JustOn Billing & Invoice Management",
                                 "namespace": "ONB2", "version": "2.80.1"},
                     "cash": {"name": "JustOn Cash Management", "namespace": "JCM",
                              "version": "1.14.0"}},
        "current_versions": {"billing": "2.80", "cash": "1.14"},
        "licenses": [{"namespace": "ONB2", "status": "Active", "allowed": 25, "used": i % 26,
                      "expires": None}],
        "connected_app": {"found": True, "name": "JustOn Platform", "admin_approved": True,
                          "profiles": ["System Administrator"], "permission_sets": [],
                          "sysadmin": True},
        "limits": {"DailyApiRequests": {"Max": 15000, "Remaining": 14000 - i % 1000}},
    }
    return Snapshot(org_id(i), at.strftime("%Y-%m-%dT%H:%M:%SZ"), checks, None, facts)


def build(path: Path, n_orgs: int, n_contacts: int, snapshots_per_org: int,
          batch: int = 2_000) -> Store:
    store = Store.open(path)
    store.put_orgs(orgs(n_orgs))
    store.put_contacts(contacts(n_contacts, n_orgs))
    start = datetime(2026, 11, 1, 6, 0, tzinfo=UTC)
    for day in range(snapshots_per_org):
        at = start + timedelta(days=day)
        for first in range(0, n_orgs, batch):
            store.save_snapshots([snapshot(i, at) for i in range(first,
                                                                  min(n_orgs, first + batch))])
    return store


def cached(n_orgs: int, n_contacts: int, snapshots_per_org: int, into: Path) -> Store:
    """`build`, made once per machine and copied into `into` (a fresh folder) for each run.

    Building 10,000 orgs with 20 snapshots each takes a minute or two; the benches that need
    it (store, memory) copy one build. The cache (under the temp folder) is keyed by the
    sizes, this file's text, the snapshot files' code and the store's schema.
    """
    import hashlib
    import shutil
    import tempfile

    from juston_tui.store import SCHEMA_VERSION, snapshots

    # This file's text and the snapshot files' code (their names, their format) key the cache.
    key = hashlib.sha256(Path(__file__).read_bytes()
                         + Path(snapshots.__file__).read_bytes()).hexdigest()[:12]
    name = f"juston-bench-store-{n_orgs}-{n_contacts}-{snapshots_per_org}-v{SCHEMA_VERSION}-{key}"
    cache = Path(tempfile.gettempdir()) / name
    if not (cache / "done").exists():
        shutil.rmtree(cache, ignore_errors=True)
        cache.mkdir(mode=0o700)
        build(cache / "store.json", n_orgs, n_contacts, snapshots_per_org).close()
        (cache / "done").write_text("built\n")
    into.mkdir(parents=True, exist_ok=True)
    for item in cache.iterdir():
        if item.name == "done":
            continue
        if item.is_dir():
            shutil.copytree(item, into / item.name)
        else:
            shutil.copy2(item, into / item.name)
    return Store.open(into / "store.json")
