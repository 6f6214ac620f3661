"""The contacts tests' store and app: two orgs, three contacts (not collected: no test_ prefix)."""

from __future__ import annotations

from pathlib import Path

from ui_helpers import make_app as app_on

from juston_tui.app import JustOnApp
from juston_tui.model import Contact, Org
from juston_tui.store import Store

ACME = Org.create(org_id="00D000000000001", name="Acme GmbH")
ALPEN = Org.create(org_id="00D5g000000abcd", name="Alpenbank AG")


def seeded_store(path: Path) -> Store:
    store = Store.open(path)
    store.add_org(ACME)
    store.add_org(ALPEN)
    store.put_contacts([
        Contact.create(full_name="Anna Müller", email="anna@acme.de",
                       title="Salesforce-Administratorin", role="Admin",
                       org_ids=[ACME.org_id]),
        Contact.create(full_name="Bruno Gruber", email="bruno@alpen.at", title="CFO",
                       org_ids=[ALPEN.org_id], eligible=False),
        Contact.create(full_name="Carla Weiß", email="carla@acme.de", title="Head of Finance",
                       org_ids=[ACME.org_id, ALPEN.org_id]),
    ])
    return store


def make_app(tmp_path: Path, *, read_only: bool = False) -> JustOnApp:
    path = tmp_path / "s.json"
    if not path.exists():
        seeded_store(path)
    return app_on(path, read_only=read_only, start_mode="contacts")
