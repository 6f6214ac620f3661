"""The check rules: the one place where what a probe read (typed `Facts`) becomes verdicts.

One rule per check id (CHECK_IDS, plus `browser_caching` for the checklist). Every surface
shows these `Check`s (status and its JSON, the registry's rows and counts, the org detail, the
access screen, the checklist's verification and Markdown, the push-request assessment) and
none of them judges a fact again. Pure functions without I/O, so every verdict branch is
unit-tested without a server. Each check gives one line of reason and the remediation in the
words of the JustOn documents (seed 001 for installation, seed 000 for push upgrades).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from juston_tui.model import CHECK_IDS, Check
from juston_tui.salesforce.facts import (
    ApiUsage,
    BalanceFacts,
    ConnectedAppFacts,
    Facts,
    LicenceFacts,
    OrgFacts,
    PackageFacts,
    ReadError,
    TaskTypeFacts,
)
from juston_tui.salesforce.settings import ProbeSettings, parse_version

__all__ = [
    "CACHING_LABEL",
    "CACHING_SETTING",
    "FIX_BALANCE",
    "FIX_CONNECTED_APP",
    "FIX_EDITION",
    "FIX_INSTALL",
    "FIX_LICENCE_ASSIGN",
    "FIX_OUTDATED",
    "FIX_PROFILES",
    "FIX_TASK_TYPE",
    "FIX_VIEW_SETUP",
    "PLATFORM_ERROR",
    "VIEW_SETUP",
    "Diagnosis",
    "check_api_usage",
    "check_balance",
    "check_browser_caching",
    "check_licenses",
    "check_organization",
    "check_package",
    "check_permitted_users",
    "check_sysadmin",
    "check_task_type",
    "diagnose",
    "evaluate",
    "unreachable",
]

PLATFORM_ERROR = "Platform not available, please contact customer support if the problem persists!"

FIX_CONNECTED_APP = (
    "Click to enter Setup, then navigate to Apps > Connected Apps > Manage Connected Apps. "
    "Click Edit in the row of JustOn Platform. In the Permitted Users field, select "
    "Admin approved users are pre-authorized (confirm the selection when prompted). Click Save. "
    "Then on the Connected Apps list, click JustOn Platform; in the Profiles section, click "
    "Manage Profiles, select the relevant profile, at least, System Administrator, and click Save."
)
FIX_PROFILES = (
    "Setup > Apps > Connected Apps > Manage Connected Apps: on the Connected Apps list, click "
    "JustOn Platform. In the Profiles section, click Manage Profiles. Select the relevant "
    "profile, at least, System Administrator. Click Save."
)
FIX_INSTALL = (
    "Open the app listing in Salesforce AppExchange to get JustOn Billing & Invoice Management, "
    "click Get It Now and follow the instructions; when prompted, choose Install for Admins Only "
    "and allow access to third-party websites."
)
FIX_INSTALL_CASH = (
    "Install JustOn Cash Management from its AppExchange listing (Get It Now, Install for "
    "Admins Only), or remove 'cash' from this org's products if it is not used."
)
FIX_OUTDATED = (
    "Register the org for push upgrades: submit a JustOn Upgrade request in the JustOn Support "
    "Portal, indicating the org ID. Production orgs are then upgraded automatically; to have "
    "sandboxes upgraded too, submit a corresponding support ticket."
)
FIX_LICENCE_ASSIGN = (
    "Assign a JustOn license to your users (see Assigning Licenses for Managed Packages in the "
    "Salesforce Help)."
)
FIX_LICENCE_EXPIRED = (
    "Contact JustOn to renew the licence; users cannot work with the package while it is expired."
)
FIX_LICENCE_FULL = (
    "Free the licences of users who no longer need JustOn or order more (Setup > Installed "
    "Packages > Manage Licenses), then assign a JustOn license to your users."
)
FIX_BALANCE = (
    "Assign the relevant permissions to your users who need them: create a permission set that "
    "covers the required access settings for the Balance object, its fields and the Balance tab "
    "(see Enabling Access for New Users), and assign it."
)
FIX_TASK_TYPE = (
    "Add access to the Type field of the Task object to the permission set for your JustOn users "
    "(see Enabling Access for New Users)."
)
FIX_API = (
    "Reduce the API calls of other integrations or ask Salesforce for a higher daily API limit: "
    "JustOn's processes need API capacity for the rest of the day."
)
FIX_EDITION = (
    "JustOn needs a Salesforce edition with API access (Enterprise, Unlimited, Performance or "
    "Developer Edition); see 'Which Salesforce edition is required for JustOn?'."
)
FIX_KIND = "Correct the org's type in the registry (org edit ORG --type production|sandbox)."
CACHING_SETTING = "MobileSettings.enableS1EncryptedStoragePref2"
CACHING_LABEL = "Enable secure and persistent browser caching to improve performance"

# Without this system permission the Setup objects the probe reads (PermissionSet and its
# children, SetupEntityAccess, ConnectedApplication) are not queryable for the API user:
# "As of Summer '20 and later, only users who have one of these permissions can access this
# object: View Setup and Configuration, ..." (object reference, PermissionSet: Special Access
# Rules; SetupEntityAccess: "As of Spring '20 ... only users with View Setup and Configuration
# permission"); Salesforce then answers INVALID_TYPE, as if the object did not exist.
VIEW_SETUP = "View Setup and Configuration"
SETUP_OBJECTS = frozenset({"PermissionSet", "ObjectPermissions", "FieldPermissions",
                           "SetupEntityAccess", "PermissionSetTabSetting",
                           "ConnectedApplication"})
REFUSED_CODES = frozenset({"INVALID_TYPE", "INSUFFICIENT_ACCESS",
                           "INSUFFICIENT_ACCESS_OR_READONLY"})
FIX_VIEW_SETUP = (
    "Give {user} the View Setup and Configuration permission: in Setup > Users > Permission "
    "Sets, create (or open) a permission set for the integration user, under System "
    "Permissions click Edit, select View Setup and Configuration, Save, then Manage "
    "Assignments > Add Assignment > {user}. Check the org again."
)


def _unknown(check_id: str, reason: str, fix: str = "", **evidence: Any) -> Check:
    return Check(check_id, "unknown", reason, fix, evidence)


def _who(facts: Facts) -> str:
    if facts.api_user:
        return f"the integration user {facts.api_user}"
    if facts.auth_method == "client-credentials":
        return "the connected app's client-credentials run-as user"
    return "the integration user"


# -- what keeps the probe from reading -------------------------------------------------------------
@dataclass(frozen=True)
class Diagnosis:
    """Something wrong with how the probe reaches the org (not with the org's JustOn set-up):
    one line, the fix, and the checks it leaves unknown. `status` prints it once per org and the
    org detail shows it above the checks."""

    summary: str
    fix: str
    checks: tuple[str, ...]

    def to_doc(self) -> dict[str, Any]:
        return {"summary": self.summary, "fix": self.fix, "checks": list(self.checks)}


def _refused(error: ReadError | None) -> bool:
    return (error is not None and error.code in REFUSED_CODES
            and bool(SETUP_OBJECTS.intersection(error.objects)))


# Which fact errors each check depends on.
_NEEDS: dict[str, tuple[str, ...]] = {
    "connected_app.permitted_users": ("connected_app",),
    "connected_app.sysadmin": ("connected_app", "connected_app.access"),
    "permissions.balance": ("permissions", "balance_tab"),
    "permissions.task_type": ("permissions",),
}


def diagnose(facts: Facts) -> tuple[Diagnosis, ...]:
    """Missing permissions of the API user, named with the user and the way to grant them."""
    refused = {key for key, error in facts.errors.items() if _refused(error)}
    if not refused:
        return ()
    objects = sorted({o for key in refused for o in facts.errors[key].objects
                      if o in SETUP_OBJECTS})
    who = _who(facts)
    affected = tuple(cid for cid, keys in _NEEDS.items() if refused.intersection(keys))
    code = facts.errors[sorted(refused)[0]].code
    summary = (f"{who} lacks the \"{VIEW_SETUP}\" permission: Salesforce answers {code} for "
               f"the Setup objects the checks read ({', '.join(objects)}), so "
               f"{len(affected)} check(s) cannot be judged")
    user = facts.api_user or "the integration user"
    return (Diagnosis(summary, FIX_VIEW_SETUP.format(user=user), affected),)


def _not_readable(cid: str, what: str, facts: Facts, *keys: str) -> Check | None:
    """The unknown verdict when a fact this check needs was not read (None: all were)."""
    for key in keys:
        error = facts.error(key)
        if error is None:
            continue
        if _refused(error):
            return _unknown(cid, f"{what} not readable: {_who(facts)} lacks the "
                            f"\"{VIEW_SETUP}\" permission ({error.code})",
                            FIX_VIEW_SETUP.format(user=facts.api_user or "the integration user"))
        return _unknown(cid, f"{what} not readable: {error.message}")
    return None


def unreachable(message: str) -> tuple[Check, ...]:
    """Every check when the org could not be probed at all (`Snapshot.error` holds `message`)."""
    fix = FIX_EDITION if "API_DISABLED_FOR_ORG" in message else ""
    return tuple(Check(cid, "unknown", f"not checked: {message}",
                       fix if cid == "organization" else "") for cid in CHECK_IDS)


# -- organization ---------------------------------------------------------------------------------
def check_organization(
    org: OrgFacts | None,
    settings: ProbeSettings,
    *,
    registered_kind: str | None = None,
    error: ReadError | None = None,
) -> Check:
    """An edition JustOn runs on (releases.toml [requirements]) and the registered type
    matching what Salesforce says."""
    cid = "organization"
    if error is not None:
        return _unknown(cid, f"Organization not readable: {error.message}")
    if org is None:
        return _unknown(cid, "Organization not readable: no record returned")
    summary = ", ".join(x for x in (org.name, org.edition, org.instance) if x)
    evidence = {**org.to_doc(), "required": list(settings.supported_editions)}
    supported = {e.casefold() for e in settings.supported_editions}
    if org.edition and org.edition.casefold() not in supported:
        return Check(cid, "fail", f"{org.edition} is not an edition JustOn runs on (needs "
                     f"{', '.join(settings.supported_editions)}; {summary})", FIX_EDITION,
                     evidence)
    if registered_kind and org.is_sandbox is not None:
        actual = "sandbox" if org.is_sandbox else "production"
        if actual != registered_kind:
            return Check(cid, "warn", f"registered as {registered_kind}, but Salesforce says "
                         f"{actual} ({summary})", FIX_KIND, evidence)
    if not org.edition:
        return _unknown(cid, f"the edition was not returned ({summary or 'no details'})",
                        **evidence)
    return Check(cid, "ok", f"{org.edition} is a supported edition ({summary})", "", evidence)


# -- packages -------------------------------------------------------------------------------------
def _required(product: str, org_products: Sequence[str]) -> bool:
    """Billing is assumed unless the org lists only other products; cash only when listed."""
    if product == "billing":
        return not org_products or "billing" in org_products
    return product in org_products


def check_package(
    product: str,
    package: PackageFacts | None,
    facts: Facts,
    settings: ProbeSettings,
    *,
    org_products: Sequence[str] = (),
) -> Check:
    """Installed, and not older than the current release: the vendor org's latest, a version
    set in the store, or (labelled "assumed") the one in data/releases.toml."""
    cid = f"package.{product}"
    name = settings.product_name(product)
    error = facts.error("packages")
    if error is not None:
        return _unknown(cid, f"installed packages not readable: {error.message}")
    current = facts.current.get(product)
    if package is None:
        if not _required(product, org_products):
            return Check(cid, "ok", f"{name}: not used by this org", "", {"installed": False})
        fix = FIX_INSTALL if product == "billing" else FIX_INSTALL_CASH
        return Check(cid, "fail", f"{name} is not installed "
                     f"(no package with namespace {settings.namespace(product)})", fix,
                     {"installed": False})
    evidence = {**package.to_doc(), "current": current.label if current is not None else None}
    have = parse_version(package.version)
    if have is None:
        return _unknown(cid, f"{name} installed, version {package.version!r} not understood",
                        **evidence)
    if current is None:
        return _unknown(cid, f"{name} {package.version} installed; the current release is not "
                        "known (no vendor org, no releases.toml entry)", **evidence)
    want = parse_version(current.version)
    if want is not None and have[: len(want)] < want:
        return Check(cid, "warn", f"{name} {package.version} is outdated ({current.label})",
                     FIX_OUTDATED, evidence)
    return Check(cid, "ok", f"{name} {package.version} ({current.label})", "", evidence)


# -- licences -------------------------------------------------------------------------------------
def _expiry(value: Any) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


def check_licenses(
    licenses: Sequence[LicenceFacts] | None,
    facts: Facts,
    settings: ProbeSettings,
    *,
    today: date | None = None,
) -> Check:
    """Expired or none assigned -> fail; all used or expiring within N days -> warn."""
    cid = "licenses"
    error = facts.error("licenses")
    if error is not None:
        return _unknown(cid, f"package licences not readable: {error.message}")
    today = today or settings.today or datetime.now(UTC).date()
    rows = list(licenses or ())
    if not rows:
        if any(facts.installed(p) for p in ("billing", "cash")):
            return _unknown(cid, "no PackageLicense record for the JustOn namespaces "
                            "(package not licence-managed?)")
        return _unknown(cid, "no JustOn licence (package not installed)")
    order = {"ok": 0, "warn": 1, "fail": 2}
    worst = ("ok", "", "")
    parts = []
    soon = today + timedelta(days=settings.licence_expiry_warning_days)
    for row in rows:
        ns = row.namespace or "?"
        allowed, used = row.allowed, row.used
        expires = _expiry(row.expires)
        seats = "site licence" if allowed in (-1, None) else f"{used}/{allowed} used"
        until = f", expires {expires.isoformat()}" if expires else ""
        parts.append(f"{ns}: {seats}{until}")
        verdict, reason, fix = "ok", "", ""
        if row.status.lower() == "expired" or (expires is not None and expires < today):
            when = f" on {expires.isoformat()}" if expires else ""
            verdict, reason, fix = "fail", f"{ns} licence expired{when}", FIX_LICENCE_EXPIRED
        elif used == 0 and allowed not in (-1, None):
            verdict, reason, fix = "fail", f"{ns}: no user has a licence yet (0 of {allowed} " \
                "assigned): nobody can work with JustOn", FIX_LICENCE_ASSIGN
        elif allowed is not None and allowed >= 0 and used is not None and used >= allowed:
            verdict, reason, fix = "warn", f"{ns}: all {allowed} licences are used", \
                FIX_LICENCE_FULL
        elif expires is not None and expires <= soon:
            days = (expires - today).days
            verdict, reason, fix = "warn", f"{ns} licence expires in {days} day(s) " \
                f"({expires.isoformat()})", FIX_LICENCE_EXPIRED
        if order[verdict] > order[worst[0]]:
            worst = (verdict, reason, fix)
    evidence = {"licenses": [r.to_doc() for r in rows]}
    if worst[0] == "ok":
        return Check(cid, "ok", "; ".join(parts), "", evidence)
    return Check(cid, worst[0], worst[1], worst[2], evidence)


# -- connected app --------------------------------------------------------------------------------
def check_permitted_users(
    app: ConnectedAppFacts | None,
    facts: Facts,
    settings: ProbeSettings,
) -> Check:
    """Seed 001: Permitted Users must be "Admin approved users are pre-authorized"."""
    cid = "connected_app.permitted_users"
    name = settings.connected_app
    blocked = _not_readable(cid, "connected apps", facts, "connected_app")
    if blocked is not None:
        return blocked
    if app is None or not app.found:
        if facts.installed("billing"):
            return Check(cid, "fail", f"connected app {name} not found although the package is "
                         "installed", FIX_INSTALL, {"found": False})
        return _unknown(cid, f"connected app {name} not found (package not installed)")
    evidence = app.to_doc()
    if app.admin_approved is None:
        return _unknown(cid, f"{name}: Permitted Users not readable", **evidence)
    if not app.admin_approved:
        return Check(cid, "fail", f'{name} allows "All users may self-authorize": users get '
                     f'"{PLATFORM_ERROR}"', FIX_CONNECTED_APP, evidence)
    return Check(cid, "ok", f'{name}: "Admin approved users are pre-authorized"', "", evidence)


def check_sysadmin(
    app: ConnectedAppFacts | None,
    facts: Facts,
    settings: ProbeSettings,
) -> Check:
    """Seed 001: at least System Administrator must be added under Manage Profiles.

    The standard System Administrator profile is found by its facts (see probe
    `_is_standard_admin`), so a German org's "Systemadministrator" counts and a custom profile
    merely named "System Administrator" does not.
    """
    cid = "connected_app.sysadmin"
    name = settings.connected_app
    blocked = _not_readable(cid, "connected app access", facts, "connected_app",
                            "connected_app.access")
    if blocked is not None:
        return blocked
    if app is None or not app.found:
        return _unknown(cid, f"connected app {name} not found")
    profiles, permsets = list(app.profiles), list(app.permission_sets)
    evidence = {"profiles": profiles, "permission_sets": permsets,
                "admin_profile": app.admin_profile}
    wanted = settings.required_profile
    called = (f"{app.admin_profile} (the standard {wanted} profile)"
              if app.admin_profile and app.admin_profile != wanted else wanted)
    if app.admin_preauthorized:
        others = len(profiles) + len(permsets) - 1
        extra = f" (+{others} more)" if others > 0 else ""
        return Check(cid, "ok", f"{called} is pre-authorized for {name}{extra}", "", evidence)
    if not app.admin_profile:
        return _unknown(cid, f"the standard {wanted} profile was not among the org's profiles "
                        "(no standard profile with Modify All Data)", **evidence)
    if not profiles and not permsets:
        return Check(cid, "fail", f"no profile is pre-authorized for {name}: nobody, admins "
                     "included, can use it", FIX_PROFILES, evidence)
    return Check(cid, "fail", f"{called} is not pre-authorized for {name} "
                 f"(only {', '.join(profiles + permsets)[:120]})", FIX_PROFILES, evidence)


# -- permissions ----------------------------------------------------------------------------------
def check_balance(
    balance: BalanceFacts | None,
    facts: Facts,
) -> Check:
    """Seed 001: a permission set covering the Balance object, its fields and the Balance tab.

    One set covering all three -> ok; all three granted but spread over several sets -> warn
    (users need every one of them); any of the three granted by no set -> fail.
    """
    cid = "permissions.balance"
    blocked = _not_readable(cid, "permissions", facts, "permissions", "balance_tab")
    if blocked is not None:
        return blocked
    if facts.installed("billing") is False:
        return _unknown(cid, "Balance object not present (package not installed)")
    if balance is None:
        return _unknown(cid, "permissions not read")
    evidence = {**balance.to_doc(), "permission_sets": list(balance.covering)}
    if balance.covering:
        return Check(cid, "ok", f"permission set {', '.join(balance.covering)[:120]} covers the "
                     "Balance object, its fields and tab", "", evidence)
    what = {"object_sets": "the Balance object", "field_sets": "its fields",
            "tab_sets": "the Balance tab"}
    missing = [label for key, label in what.items() if not getattr(balance, key)]
    if not missing:
        spread = "; ".join(f"{label}: {', '.join(getattr(balance, key))[:60]}"
                           for key, label in what.items())
        return Check(cid, "warn", "no single permission set covers the Balance object, fields "
                     f"and tab; they are spread over several ({spread})", FIX_BALANCE, evidence)
    return Check(cid, "fail", "no permission set gives access to " + " and ".join(missing),
                 FIX_BALANCE, evidence)


def check_task_type(
    task_type: TaskTypeFacts | None,
    facts: Facts,
) -> Check:
    """Seed 001: the permission set must cover the Type field of the Task object."""
    cid = "permissions.task_type"
    blocked = _not_readable(cid, "field permissions", facts, "permissions")
    if blocked is not None:
        return blocked
    if task_type is None:
        return _unknown(cid, "field permissions not read")
    if task_type.permission_sets:
        return Check(cid, "ok", f"permission set {', '.join(task_type.permission_sets)[:120]} "
                     "grants Task.Type", "", task_type.to_doc())
    return Check(cid, "fail", "no permission set grants access to the Type field of Task",
                 FIX_TASK_TYPE, task_type.to_doc())


# -- API usage ------------------------------------------------------------------------------------
def check_api_usage(
    usage: ApiUsage | None,
    settings: ProbeSettings,
) -> Check:
    """Daily API requests used; at or above the threshold (90 %) -> warn."""
    cid = "api_usage"
    if usage is None or not usage.max:
        return _unknown(cid, "the server sent no Sforce-Limit-Info header")
    ratio = usage.used / usage.max
    text = f"{usage.used:,}/{usage.max:,} daily API requests used ({ratio:.0%})"
    if ratio >= settings.api_usage_warning_ratio:
        return Check(cid, "warn", text, FIX_API, usage.to_doc())
    return Check(cid, "ok", text, "", usage.to_doc())


# -- browser caching (checklist only: a Metadata API read, not in the status probe) ---------
def check_browser_caching(value: bool | None) -> Check:
    """Seed 001: "Enable secure and persistent browser caching…" must be deselected. The fix is
    the checklist step's own text (data/checklist.toml)."""
    cid = "browser_caching"
    evidence = {"setting": CACHING_SETTING, "value": value}
    if value is None:
        return Check(cid, "unknown", "the session settings could not be read (Metadata API)",
                     "", evidence)
    if value:
        return Check(cid, "fail", f'"{CACHING_LABEL}" is still selected', "", evidence)
    return Check(cid, "ok", "secure and persistent browser caching is disabled", "", evidence)


# -- all together ---------------------------------------------------------------------------------
def evaluate(
    facts: Facts,
    settings: ProbeSettings,
    *,
    org_products: Sequence[str] = (),
    registered_kind: str | None = None,
    today: date | None = None,
) -> tuple[Check, ...]:
    """Every check, in CHECK_IDS order, from the facts a probe collected."""
    packages = facts.packages or {}
    checks = {
        "organization": check_organization(
            facts.organization, settings, registered_kind=registered_kind,
            error=facts.error("organization")),
        "package.billing": check_package(
            "billing", packages.get("billing"), facts, settings, org_products=org_products),
        "package.cash": check_package(
            "cash", packages.get("cash"), facts, settings, org_products=org_products),
        "licenses": check_licenses(facts.licenses, facts, settings, today=today),
        "connected_app.permitted_users": check_permitted_users(
            facts.connected_app, facts, settings),
        "connected_app.sysadmin": check_sysadmin(facts.connected_app, facts, settings),
        "permissions.balance": check_balance(facts.balance, facts),
        "permissions.task_type": check_task_type(facts.task_type, facts),
        "api_usage": check_api_usage(facts.api_usage, settings),
    }
    return tuple(checks[i] for i in CHECK_IDS)
