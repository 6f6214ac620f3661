"""Demo contacts: ~25 realistic people linked to the demo orgs (environment.SEEDS)."""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence

from juston_tui.contacts_io import fold_text
from juston_tui.model import Contact, Org
from juston_tui.store import Store

_DEMO_PEOPLE: tuple[tuple[str, str, str, str], ...] = (
    # full name, e-mail local part, title, role
    ("Anna Müller", "anna.mueller", "Salesforce-Administratorin", "Admin"),
    ("Jürgen Weiß", "juergen.weiss", "Head of Finance", "Finance"),
    ("Sophie Gruber", "sophie.gruber", "Leiterin Debitorenbuchhaltung", "Accounts receivable"),
    ("Lukas Hofer", "lukas.hofer", "Salesforce Developer", "Admin"),
    ("Renée Bächli", "renee.baechli", "CFO", "Finance"),
    ("Matthias Schönberger", "matthias.schoenberger", "IT-Leiter", "IT"),
    ("Katharina Öztürk", "katharina.oeztuerk", "Billing Specialist", "Billing"),
    ("Stefan Maier", "stefan.maier", "Salesforce-Administrator", "Admin"),
    ("Eva Zwölfer", "eva.zwoelfer", "Teamleiterin Fakturierung", "Billing"),
    ("Niklas Brändli", "niklas.braendli", "Head of Revenue Operations", "RevOps"),
    ("Lena Fuchs", "lena.fuchs", "Buchhalterin", "Accounting"),
    ("Thomas Küng", "thomas.kueng", "CRM-Verantwortlicher", "Admin"),
    ("Marie-Luise Eßer", "marie-luise.esser", "Kaufmännische Leiterin", "Finance"),
    ("Florian Pichler", "florian.pichler", "Salesforce Consultant", "Partner"),
    ("Hannah Steiner", "hannah.steiner", "Controlling", "Finance"),
    ("Dominik Wüthrich", "dominik.wuethrich", "Release Manager", "IT"),
    ("Julia Lehner", "julia.lehner", "Head of Customer Success", "Customer success"),
    ("Maximilian Größl", "maximilian.groessl", "Systemadministrator", "IT"),
    ("Claudia Bürgi", "claudia.buergi", "Leiterin Finanzen & Controlling", "Finance"),
    ("Tobias Kärcher", "tobias.kaercher", "Salesforce Platform Owner", "Admin"),
    ("Sabine Moser", "sabine.moser", "Accounting Manager", "Accounting"),
    ("Andreas Hübner", "andreas.huebner", "Geschäftsführer", "Management"),
    ("Verena Egger", "verena.egger", "Dunning & Collections Lead", "Cash management"),
    ("Patrick Schätzle", "patrick.schaetzle", "Salesforce-Administrator (Sandbox)", "Admin"),
    ("Test [red]x[/] Markup", "markup.test", "QA Engineer", "Testing"),
)


def _company_domain(org: Org) -> str:
    """The e-mail domain of the company behind an org: its My Domain's name (the sandbox
    suffix dropped) under example.com, as the simulated orgs' users have; else its name."""
    my_domain = org.domain if org.domain not in ("login", "test") else ""
    slug = my_domain.split("--")[0].split(".")[0] if my_domain else re.sub(
        r"[^a-z0-9]+", "-", fold_text(org.name).split("\x00")[-1]).strip("-")
    return f"{slug or 'example'}.example.com"


def seed(store: Store, orgs: Sequence[Org]) -> None:
    """Add ~25 realistic contacts linked to the demo orgs.

    IDs are stable (uuid5 of the e-mail) and existing e-mails are left alone, so seeding twice
    changes nothing. A few are not eligible; one name carries Rich markup to prove escaping.
    """
    customers = [o for o in orgs if not o.vendor]
    # People work for a company: they get its production org (and some its sandbox too).
    targets = [o for o in customers if o.kind == "production"] or customers or list(orgs)
    sandboxes: dict[str, Org] = {}
    for org in customers:
        if org.kind == "sandbox" and org.parent_org_id:
            sandboxes.setdefault(org.parent_org_id, org)
    not_eligible = {3, 10, 17, 22}
    docs: list[Contact] = []
    existing = {c.email.lower() for c in store.list_contacts()}
    for index, (name, local, title, role) in enumerate(_DEMO_PEOPLE):
        linked: list[str] = []
        domain = "example.com"
        if targets:
            company = targets[index % len(targets)]
            linked.append(company.org_id)
            sandbox = sandboxes.get(company.org_id)
            if sandbox is not None and (index % 3 == 0 or role == "Admin"):
                linked.append(sandbox.org_id)
            domain = _company_domain(company)
        email = f"{local}@{domain}"
        if email.lower() in existing:
            continue
        contact = Contact.create(
            id=str(uuid.uuid5(uuid.NAMESPACE_URL, f"juston-tui-demo:{email}")),
            full_name=name, email=email, title=title, role=role, org_ids=linked,
            eligible=index not in not_eligible,
            notes="Demo contact (seeded)" if index % 7 else "Bitte auch über Sandbox-Pushes "
            "informieren.",
        )
        docs.append(contact)
    if docs:
        store.put_contacts(docs)  # one write; e-mails already here were skipped above
