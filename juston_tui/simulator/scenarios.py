"""Scenario catalogue and the simulated orgs (credentials and identity).

A scenario is a named org template in one of the states the status checks distinguish; the
probe code and its tests rely on these names and on the verdicts listed in `Scenario.expected`.
Everything is derived from (scenario, index) so IDs and names are stable between runs.
"""

from __future__ import annotations

import hashlib
import unicodedata
from dataclasses import dataclass, field
from typing import NamedTuple

from .ids import make_id, make_org_id

__all__ = [
    "CURRENT_VERSIONS",
    "PACKAGE_NAMES",
    "PROFILE_NAMES",
    "SCENARIOS",
    "SCENARIO_SETS",
    "SETUP_OBJECTS",
    "Scenario",
    "SimOrg",
    "Version",
    "make_org",
    "scenario_set_orgs",
]


class Version(NamedTuple):
    """A package version; compares like a tuple, prints as ``2.80.2``."""

    major: int
    minor: int
    patch: int
    build: int = 1

    def __str__(self) -> str:
        return f"{self.major}.{self.minor}.{self.patch}"

    @property
    def name(self) -> str:
        """The version name Salesforce shows (major.minor)."""
        return f"{self.major}.{self.minor}"

    @classmethod
    def parse(cls, text: str) -> Version:
        """'2.80.1' -> Version(2, 80, 1, 1)."""
        major, minor, patch = (int(p) for p in text.split("."))
        return cls(major, minor, patch, 1)


# The invented "current released" versions, in one place (reference §2b: values are invented).
# JOCM as Cash Management's namespace is UNCONFIRMED (reference §2b).
CURRENT_VERSIONS: dict[str, Version] = {
    "ONB2": Version(2, 80, 2, 1),
    "JOCM": Version(1, 14, 1, 1),
}
PACKAGE_NAMES: dict[str, str] = {
    "ONB2": "JustOn Billing & Invoice Management",
    "JOCM": "JustOn Cash Management",
}
CONNECTED_APP_NAME = "JustOn Platform"
BALANCE_OBJECT = "ONB2__Balance__c"
BALANCE_FIELDS = ("ONB2__Amount__c", "ONB2__Account__c", "ONB2__Date__c", "ONB2__Type__c",
                  "ONB2__Invoice__c", "ONB2__Description__c")
API_MAX = 15000


@dataclass(frozen=True)
class Scenario:
    """An org template; `expected` lists the verdicts the probes must reach (check id → verdict)."""

    name: str
    description: str
    expected: dict[str, str]
    kind: str = "production"
    billing_behind: int | None = 0  # minor versions behind current; None = not installed
    cash: bool = True
    licence_status: str = "Active"
    licence_expired: bool = False
    licences_allowed: int = 25
    licences_used: int = 17
    admin_approved: bool = True
    sysadmin_access: bool = True
    balance_perms: bool = True
    task_type: bool = True
    api_usage: int = 180
    api_disabled: bool = False
    expire_after: int | None = None  # session_expiring: pre-issued token dies after N calls
    vendor: bool = False
    mobile_caching: bool = False  # MobileSettings.enableS1EncryptedStoragePref2 (seed: disable)
    # The integration user's language: Salesforce returns standard profile names translated
    # (German "Systemadministrator"; NebulaLogger #271, NPSP PR #4994). See PROFILE_NAMES.
    language: str = "en"
    # Without "View Setup and Configuration" the integration user cannot query the Setup
    # objects (PermissionSet, SetupEntityAccess, ObjectPermissions, FieldPermissions,
    # PermissionSetTabSetting, ConnectedApplication): they answer INVALID_TYPE.
    view_setup: bool = True


# Standard profile names as the API returns them in the user's language (key: admin, std, ro).
# "Systemadministrator" is documented in public reports (reference §4); the other translations
# are this simulator's assumption: the checks must not depend on any of them.
PROFILE_NAMES: dict[str, tuple[str, str, str]] = {
    "en": ("System Administrator", "Standard User", "Read Only"),
    "de": ("Systemadministrator", "Standardbenutzer", "Schreibgeschützt"),
    "fr": ("Administrateur système", "Utilisateur standard", "Lecture seule"),
}
# The Setup objects a user without "View Setup and Configuration" cannot query.
SETUP_OBJECTS = ("PermissionSet", "SetupEntityAccess", "ObjectPermissions", "FieldPermissions",
                 "PermissionSetTabSetting", "ConnectedApplication")

_ALL_OK = {c: "ok" for c in (
    "organization", "package.billing", "package.cash", "licenses", "connected_app.permitted_users",
    "connected_app.sysadmin", "permissions.balance", "permissions.task_type", "api_usage")}


def _ok_but(**changes: str) -> dict[str, str]:
    out = dict(_ALL_OK)
    out.update({k.replace("__", "."): v for k, v in changes.items()})
    return out


SCENARIOS: dict[str, Scenario] = {s.name: s for s in (
    Scenario("healthy", "Production org, both packages current, everything configured.", _ALL_OK),
    Scenario("sandbox", "Sandbox of a healthy production org.", _ALL_OK, kind="sandbox"),
    Scenario("self_authorize", "Connected app lets all users self-authorize.",
             _ok_but(connected_app__permitted_users="fail"), admin_approved=False,
             mobile_caching=True),
    Scenario("no_sysadmin", "Connected app admin-approved, but System Administrator lacks access.",
             _ok_but(connected_app__sysadmin="fail"), sysadmin_access=False),
    Scenario("no_balance_permset", "Nobody has Balance object, field or tab access.",
             _ok_but(permissions__balance="fail"), balance_perms=False),
    Scenario("no_task_type", "Task.Type field permission missing.",
             _ok_but(permissions__task_type="fail"), task_type=False),
    Scenario("licence_expired", "Billing licence expired.", _ok_but(licenses="fail"),
             licence_status="Expired", licence_expired=True),
    Scenario("licences_full", "All Billing licences assigned.", _ok_but(licenses="warn"),
             licences_used=25),
    Scenario("outdated", "Billing two minor versions behind.", _ok_but(package__billing="warn"),
             billing_behind=2, mobile_caching=True),
    Scenario("no_package", "JustOn not installed.", {"package.billing": "fail"},
             billing_behind=None, cash=False, mobile_caching=True),
    Scenario("api_disabled", "REST API disabled for the org (login still works).",
             {c: "unknown" for c in _ALL_OK}, api_disabled=True),
    Scenario("session_expiring", "The pre-issued token dies after one call; re-login works.",
             _ALL_OK, expire_after=1),
    Scenario("api_near_limit", "Daily API requests nearly used up.", _ok_but(api_usage="warn"),
             api_usage=14200),
    Scenario("sysadmin_de", "German-speaking integration user: the standard profiles come "
             "back translated (Systemadministrator); everything is configured.", _ALL_OK,
             language="de"),
    Scenario("no_sysadmin_fr", "French-speaking integration user; the standard System "
             "Administrator profile (Administrateur système) lacks access to the connected app.",
             _ok_but(connected_app__sysadmin="fail"), language="fr", sysadmin_access=False),
    Scenario("no_view_setup", "The integration user lacks View Setup and Configuration: the "
             "Setup objects answer INVALID_TYPE.",
             _ok_but(connected_app__permitted_users="unknown", connected_app__sysadmin="unknown",
                     permissions__balance="unknown", permissions__task_type="unknown"),
             view_setup=False),
    Scenario("vendor", "JustOn's packaging org: subscribers and push upgrades.",
             {"organization": "ok"}, billing_behind=None, cash=False, vendor=True),
)}

# Demo: (scenario, index, name, facts). Sandboxes use the index of their production parent.
# The facts make the demo look like a real customer base, and every part of the demo follows
# them: the org's installed versions and licences (simulator data), its push registration
# (the demo store), and which orgs the packaging org's push requests reach (vendor data).
#   push: registered | requested | request_drafted (with a ticket where Salesforce needs one)
#   sandbox_ticket: a sandbox pushed on request; billing / cash: the installed version when
#   not the current one; licences: (allowed, used); last_push_failed: its job failed last time
#   (and fails again); push_failure: the ErrorType its next push job fails with; blocks_push:
#   the namespace whose push upgrades the subscriber blocks (customized push upgrades)
_DEMO: list[tuple[str, int, str, dict[str, object]]] = [
    ("healthy", 0, "Müller Logistik GmbH", {"push": "registered", "licences": (40, 31)}),
    ("healthy", 1, "Alpenblick Versicherung AG",
     {"push": "registered", "billing": "2.80.1", "cash": "1.13.2", "licences": (100, 86),
      "last_push_failed": True}),
    ("healthy", 2, "Zürcher Treuhand AG", {"push": "requested", "billing": "2.80.1",
                                           "licences": (10, 7)}),
    ("healthy", 3, "Brandt & Söhne KG", {"push": "request_drafted", "billing": "2.79.3",
                                         "licences": (15, 12)}),
    ("healthy", 4, "Evil\x1b]0;pwned\x07 Corp", {"licences": (25, 9)}),
    ("sandbox", 0, "Müller Logistik GmbH (UAT)", {"push": "registered",
                                                  "sandbox_ticket": "JO-48302"}),
    ("sandbox", 1, "Alpenblick Versicherung AG (Full)", {"billing": "2.80.1", "cash": "1.13.2",
                                                         "licences": (100, 12)}),
    ("sandbox", 2, "Zürcher Treuhand AG (Dev)", {"billing": "2.79.3", "licences": (10, 2)}),
    ("self_authorize", 0, "Hofmann Medizintechnik GmbH", {"licences": (30, 24)}),
    ("no_sysadmin", 0, "Wiener Stadtwerke Service GmbH", {"licences": (60, 51)}),
    ("no_balance_permset", 0, "Schneider Energie AG", {"billing": "2.80.1",
                                                       "licences": (20, 11),
                                                       "blocks_push": "ONB2"}),
    ("no_task_type", 0, "Bergmann Software GmbH", {"licences": (12, 9)}),
    ("licence_expired", 0, "Kaffeerösterei Weiß e.K.", {}),
    ("licences_full", 0, "Innsbrucker Bergbahnen AG", {}),
    ("outdated", 0, "[bold red]Evil[/] AG", {}),
    ("no_package", 0, "Fischer Consulting GmbH", {}),
    ("api_disabled", 0, "Graz Digital OG", {}),
    ("session_expiring", 0, "Basler Chemie Vertrieb AG", {"licences": (50, 38)}),
    ("api_near_limit", 0, "Nordsee Fisch GmbH & Co. KG", {"licences": (35, 29)}),
    ("sysadmin_de", 0, "Stuttgarter Präzisionsteile GmbH", {"licences": (45, 33)}),
    ("no_sysadmin_fr", 0, "Genève Horlogerie SA", {"licences": (20, 14)}),
    ("no_view_setup", 0, "Linzer Stahlhandel GmbH", {"licences": (25, 19)}),
    ("vendor", 0, "JustOn GmbH (Packaging)", {}),
]

SCENARIO_SETS = ("demo", "all", "empty")

_SURNAMES = ("Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker",
             "Schulz", "Hoffmann", "Koch", "Richter", "Klein", "Wolf", "Schröder", "Neumann",
             "Schwarz", "Zimmermann", "Braun", "Krüger", "Hofmann", "Hartmann", "Lange", "Huber",
             "Gruber", "Steiner", "Moser", "Brunner", "Keller", "Baumann", "Frei", "Gerber")
_TRADES = ("Logistik", "Maschinenbau", "Medien", "Bau", "Energie", "Software", "Immobilien",
           "Handel", "Elektrotechnik", "Consulting", "Druck", "Verpackung", "Pharma", "Reisen",
           "Textil", "Spedition", "Lebensmittel", "Sanitär", "Holzbau", "Kältetechnik")
_FORMS = ("GmbH", "AG", "GmbH & Co. KG", "KG", "e.K.", "OG", "SE")
_POD = ("EU45", "EU46", "EU47", "EU49", "DEU12", "DEU24", "CHE4", "AUT2")
USER_NAMES = (("Anna", "Bauer"), ("Lukas", "Gruber"), ("Sophie", "Wagner"), ("Jonas", "Pichler"),
          ("Lea", "Steiner"), ("Felix", "Moser"), ("Marie", "Hofer"), ("Paul", "Leitner"),
          ("Lena", "Huber"), ("Elias", "Eder"), ("Emma", "Fuchs"), ("Noah", "Berger"))


def _b62(seed: str, n: int) -> str:
    alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
    num = int.from_bytes(hashlib.sha512(seed.encode()).digest(), "big")
    out = []
    for _ in range(n):
        num, r = divmod(num, 62)
        out.append(alphabet[r])
    return "".join(out)


def slugify(name: str) -> str:
    """My Domain-safe slug: umlauts transliterated, control characters and markup dropped."""
    text = name.lower()
    for a, b in (("ä", "ae"), ("ö", "oe"), ("ü", "ue"), ("ß", "ss"), ("&", " ")):
        text = text.replace(a, b)
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    out = []
    for ch in text:
        out.append(ch if ch.isalnum() and ch.isascii() else "-")
    slug = "-".join(part for part in "".join(out).split("-") if part)
    return (slug[:40].strip("-")) or "org"


def generated_name(scenario: str, index: int) -> str:
    """A varied, deterministic German/Austrian/Swiss company name."""
    h = int.from_bytes(hashlib.sha256(f"{scenario}|{index}".encode()).digest()[:4], "big")
    s = _SURNAMES[(index + h) % len(_SURNAMES)]
    t = _TRADES[(index // len(_SURNAMES) + h // 7) % len(_TRADES)]
    f = _FORMS[(h // 13) % len(_FORMS)]
    return f"{s} {t} {f}"


@dataclass
class SimOrg:
    """One simulated org: identity, credentials and the scenario its data follows.

    The extra fields after the contract ones (`refresh_token`, `user_id`, ...) are conveniences
    for tests and the demo; none is required by the server's callers.
    """

    org_id: str
    name: str
    scenario: str
    kind: str
    parent_org_id: str | None
    username: str
    password: str
    security_token: str
    consumer_key: str
    consumer_secret: str
    private_key_pem: str
    access_token: str
    edition: str
    instance_name: str
    my_domain: str
    refresh_token: str = ""
    user_id: str = ""
    index: int = 0
    api_usage: int = 0
    mobile_caching: bool = False
    extra: dict[str, object] = field(default_factory=dict)

    @property
    def spec(self) -> Scenario:
        return SCENARIOS[self.scenario]

    def version(self, namespace: str) -> Version | None:
        """The installed version of a package (None = not installed)."""
        spec = self.spec
        if namespace == "ONB2":
            if spec.billing_behind is None:
                return None
            wanted = self.extra.get("billing")
            if wanted:
                return Version.parse(str(wanted))
            cur = CURRENT_VERSIONS[namespace]
            if spec.billing_behind == 0:
                return cur
            return Version(cur.major, cur.minor - spec.billing_behind, 1, 1)
        if namespace == "JOCM" and spec.cash and not spec.vendor:
            wanted = self.extra.get("cash")
            return Version.parse(str(wanted)) if wanted else CURRENT_VERSIONS[namespace]
        return None

    @property
    def expected(self) -> dict[str, str]:
        """The verdicts the checks must reach for this org: its scenario's, and `warn` for a
        package its demo facts keep a release (major.minor) behind the current one; a patch
        behind is current (data/releases.toml names releases, not patches)."""
        out = dict(self.spec.expected)
        for check_id, namespace in (("package.billing", "ONB2"), ("package.cash", "JOCM")):
            installed = self.version(namespace)
            current = CURRENT_VERSIONS[namespace]
            if installed is not None and installed[:2] < current[:2] and \
                    out.get(check_id) == "ok":
                out[check_id] = "warn"
        return out

    def credentials(self) -> dict[str, object]:
        """Everything a client needs to log in, as JSON-ready data."""
        return {
            "org_id": self.org_id, "name": self.name, "scenario": self.scenario, "kind": self.kind,
            "parent_org_id": self.parent_org_id, "username": self.username,
            "password": self.password, "security_token": self.security_token,
            "consumer_key": self.consumer_key, "consumer_secret": self.consumer_secret,
            "private_key_pem": self.private_key_pem, "access_token": self.access_token,
            "refresh_token": self.refresh_token, "edition": self.edition,
            "instance_name": self.instance_name, "my_domain": self.my_domain,
            "extra": dict(self.extra),
        }


_KEY_POOL: list[str] = []
_KEY_POOL_SIZE = 4


def private_key_for(index: int) -> str:
    """An RSA key (PEM) for JWT signing. A small shared pool keeps 500-org benchmarks fast."""
    slot = index % _KEY_POOL_SIZE
    while len(_KEY_POOL) <= slot:
        # cryptography: ~0.13 s to import, only when a key is made or read
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import rsa

        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        _KEY_POOL.append(key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption()).decode())
    return _KEY_POOL[slot]


def make_org(scenario: str, index: int, name: str | None = None,
             parent_org_id: str | None = None, *,
             extra: dict[str, object] | None = None) -> SimOrg:
    """A deterministic org for `scenario`; a sandbox's parent defaults to healthy #index."""
    if scenario not in SCENARIOS:
        raise ValueError(f"unknown scenario {scenario!r}; known: {', '.join(SCENARIOS)}")
    spec = SCENARIOS[scenario]
    seed = f"{scenario}|{index}"
    org_id = make_org_id(seed)
    kind = spec.kind
    if kind == "sandbox":
        parent_org_id = parent_org_id or make_org_id(f"healthy|{index}")
        base = name or f"{generated_name('healthy', index)} (UAT)"
    else:
        parent_org_id = None
        base = name or generated_name(scenario, index)
    slug = slugify(base.replace("(UAT)", "").replace("(Full)", "").replace("(Dev)", ""))
    tag = scenario.replace("_", "-")
    username = f"admin+{tag}{index}@{slug}.example.com"
    if kind == "sandbox":
        username += ".uat"
        my_domain = f"{slug}--uat.sandbox.my"
        instance = f"CS{100 + int(seed_hash(seed) % 90)}"
    else:
        my_domain = f"{slug}.my"
        instance = _POD[seed_hash(seed) % len(_POD)]
    if spec.vendor:
        edition = "Developer Edition"
    else:
        edition = "Unlimited Edition" if seed_hash(seed + "ed") % 5 == 0 else "Enterprise Edition"
    return SimOrg(
        org_id=org_id,
        name=base,
        scenario=scenario,
        kind=kind,
        parent_org_id=parent_org_id,
        username=username,
        password=f"Sim{_b62(seed + 'pw', 10)}1",
        security_token=_b62(seed + "tok", 25),
        consumer_key="3MVG9" + _b62(seed + "ck", 80),
        consumer_secret=_b62(seed + "cs", 64),
        private_key_pem=private_key_for(index + len(scenario)),
        access_token=f"{org_id[:15]}!AQ{_b62(seed + 'at', 20)}.{_b62(seed + 'at2', 60)}",
        edition=edition,
        instance_name=instance,
        my_domain=my_domain,
        refresh_token="5Aep861" + _b62(seed + "rt", 80),
        user_id=make_id("005", f"{org_id}|admin"),
        index=index,
        api_usage=spec.api_usage + seed_hash(seed + "api") % 400 if spec.api_usage < 1000
        else spec.api_usage,
        mobile_caching=spec.mobile_caching,
        extra=dict(extra or {}),
    )


def seed_hash(seed: str) -> int:
    return int.from_bytes(hashlib.sha256(seed.encode()).digest()[:6], "big")


def scenario_set_orgs(name: str) -> list[SimOrg]:
    """The orgs of a named scenario set (``demo``, ``all``, ``empty``) or of one scenario."""
    if name == "demo":
        return [make_org(s, i, n, extra=facts) for s, i, n, facts in _DEMO]
    if name == "all":
        return [make_org(s, 0, next((n for ds, i, n, _f in _DEMO if ds == s and i == 0), None))
                for s in SCENARIOS]
    if name == "empty":
        return []
    if name in SCENARIOS:
        orgs = [make_org(name, 0)]
        if name == "sandbox":
            orgs.insert(0, make_org("healthy", 0))
        return orgs
    raise ValueError(f"unknown scenario set {name!r}; use demo, all, empty or one of: "
                     + ", ".join(SCENARIOS))
