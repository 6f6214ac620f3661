"""The check rules: pure functions from what a probe read (facts) to verdicts.

Kept free of I/O so every verdict branch is unit-tested without a server, and so the checklist
can reuse the same judgement. Each check gives one line of reason and the remediation in the
words of the JustOn documents (seed 001 for installation, seed 000 for push upgrades).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

from juston_tui.model import CHECK_IDS, Check
from juston_tui.salesforce.settings import ProbeSettings, parse_version

__all__ = [
    "FIX_BALANCE",
    "FIX_CONNECTED_APP",
    "FIX_EDITION",
    "FIX_INSTALL",
    "FIX_LICENCE_ASSIGN",
    "FIX_OUTDATED",
    "FIX_PROFILES",
    "FIX_TASK_TYPE",
    "PLATFORM_ERROR",
    "SUPPORTED_EDITIONS",
    "check_api_usage",
    "check_balance",
    "check_licenses",
    "check_organization",
    "check_package",
    "check_permitted_users",
    "check_sysadmin",
    "check_task_type",
    "evaluate",
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

SUPPORTED_EDITIONS = (
    "Enterprise Edition",
    "Unlimited Edition",
    "Performance Edition",
    "Developer Edition",
)


def _unknown(check_id: str, reason: str, **evidence: Any) -> Check:
    return Check(check_id, "unknown", reason, "", evidence)


# -- organization ---------------------------------------------------------------------------------
def check_organization(
    org_fact: Mapping[str, Any] | None,
    *,
    registered_kind: str | None = None,
    error: str | None = None,
) -> Check:
    """Edition with API access, and the registered type matching what Salesforce says."""
    cid = "organization"
    if error:
        return _unknown(cid, f"Organization not readable: {error}")
    if not org_fact:
        return _unknown(cid, "Organization not readable: no record returned")
    edition = str(org_fact.get("edition") or "")
    name = str(org_fact.get("name") or "")
    instance = str(org_fact.get("instance") or "")
    summary = ", ".join(x for x in (name, edition, instance) if x)
    evidence = dict(org_fact)
    if edition and edition not in SUPPORTED_EDITIONS:
        return Check(cid, "warn", f"{edition} may lack what JustOn needs ({summary})",
                     FIX_EDITION, evidence)
    is_sandbox = org_fact.get("is_sandbox")
    if registered_kind and is_sandbox is not None:
        actual = "sandbox" if is_sandbox else "production"
        if actual != registered_kind:
            return Check(cid, "warn", f"registered as {registered_kind}, but Salesforce says "
                         f"{actual} ({summary})", FIX_KIND, evidence)
    return Check(cid, "ok", summary or "readable", "", evidence)


# -- packages -------------------------------------------------------------------------------------
def _required(product: str, org_products: Sequence[str]) -> bool:
    """Billing is assumed unless the org lists only other products; cash only when listed."""
    if product == "billing":
        return not org_products or "billing" in org_products
    return product in org_products


def check_package(
    product: str,
    package: Mapping[str, Any] | None,
    settings: ProbeSettings,
    *,
    org_products: Sequence[str] = (),
    error: str | None = None,
) -> Check:
    """Installed, and not older than the current release (data/releases.toml)."""
    cid = f"package.{product}"
    name = settings.product_name(product)
    if error:
        return _unknown(cid, f"installed packages not readable: {error}")
    required = _required(product, org_products)
    if not package:
        if not required:
            return Check(cid, "ok", f"{name}: not used by this org", "", {"installed": False})
        fix = FIX_INSTALL if product == "billing" else FIX_INSTALL_CASH
        return Check(cid, "fail", f"{name} is not installed "
                     f"(no package with namespace {settings.namespace(product)})", fix,
                     {"installed": False})
    installed = str(package.get("version") or "")
    current = settings.current_versions.get(product)
    evidence = {**package, "current": current}
    have = parse_version(installed)
    want = parse_version(current)
    if have is None:
        return Check(cid, "unknown", f"{name} installed, version {installed!r} not understood",
                     "", evidence)
    if want is not None and have[: len(want)] < want:
        return Check(cid, "warn", f"{name} {installed} is outdated (current {current})",
                     FIX_OUTDATED, evidence)
    current_note = f" (current {current})" if current else ""
    return Check(cid, "ok", f"{name} {installed}{current_note}", "", evidence)


# -- licences -------------------------------------------------------------------------------------
def _expiry(value: Any) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


def check_licenses(
    licenses: Sequence[Mapping[str, Any]] | None,
    settings: ProbeSettings,
    *,
    installed: Mapping[str, bool] | None = None,
    today: date | None = None,
    error: str | None = None,
) -> Check:
    """Expired -> fail; all used, none assigned, or expiring within N days -> warn."""
    cid = "licenses"
    if error:
        return _unknown(cid, f"package licences not readable: {error}")
    today = today or settings.today or datetime.now(UTC).date()
    installed = installed or {}
    rows = list(licenses or ())
    if not rows:
        if any(installed.values()):
            return _unknown(cid, "no PackageLicense record for the JustOn namespaces "
                            "(package not licence-managed?)")
        return _unknown(cid, "no JustOn licence (package not installed)")
    order = {"ok": 0, "warn": 1, "fail": 2}
    worst = ("ok", "", "")
    parts = []
    soon = today + timedelta(days=settings.licence_expiry_warning_days)
    for row in rows:
        ns = str(row.get("namespace") or "?")
        status = str(row.get("status") or "")
        allowed = row.get("allowed")
        used = row.get("used")
        expires = _expiry(row.get("expires"))
        seats = "site licence" if allowed in (-1, None) else f"{used}/{allowed} used"
        until = f", expires {expires.isoformat()}" if expires else ""
        parts.append(f"{ns}: {seats}{until}")
        verdict, reason, fix = "ok", "", ""
        if status.lower() == "expired" or (expires is not None and expires < today):
            when = f" on {expires.isoformat()}" if expires else ""
            verdict, reason, fix = "fail", f"{ns} licence expired{when}", FIX_LICENCE_EXPIRED
        elif isinstance(allowed, int) and allowed >= 0 and isinstance(used, int) and (
            used >= allowed
        ):
            verdict, reason, fix = "warn", f"{ns}: all {allowed} licences are used", \
                FIX_LICENCE_FULL
        elif expires is not None and expires <= soon:
            days = (expires - today).days
            verdict, reason, fix = "warn", f"{ns} licence expires in {days} day(s) " \
                f"({expires.isoformat()})", FIX_LICENCE_EXPIRED
        elif used == 0:
            verdict, reason, fix = "warn", f"{ns}: no user has a licence yet", FIX_LICENCE_ASSIGN
        if order[verdict] > order[worst[0]]:
            worst = (verdict, reason, fix)
    evidence = {"licenses": [dict(r) for r in rows]}
    if worst[0] == "ok":
        return Check(cid, "ok", "; ".join(parts), "", evidence)
    return Check(cid, worst[0], worst[1], worst[2], evidence)


# -- connected app --------------------------------------------------------------------------------
def check_permitted_users(
    app: Mapping[str, Any] | None,
    settings: ProbeSettings,
    *,
    package_installed: bool | None = None,
    error: str | None = None,
) -> Check:
    """Seed 001: Permitted Users must be "Admin approved users are pre-authorized"."""
    cid = "connected_app.permitted_users"
    name = settings.connected_app
    if error:
        return _unknown(cid, f"connected apps not readable: {error}")
    if not app or not app.get("found"):
        if package_installed:
            return Check(cid, "fail", f"connected app {name} not found although the package is "
                         "installed", FIX_INSTALL, {"found": False})
        return _unknown(cid, f"connected app {name} not found (package not installed)")
    evidence = dict(app)
    approved = app.get("admin_approved")
    if approved is None:
        return _unknown(cid, f"{name}: Permitted Users not readable", **evidence)
    if not approved:
        return Check(cid, "fail", f'{name} allows "All users may self-authorize": users get '
                     f'"{PLATFORM_ERROR}"', FIX_CONNECTED_APP, evidence)
    return Check(cid, "ok", f'{name}: "Admin approved users are pre-authorized"', "", evidence)


def check_sysadmin(
    app: Mapping[str, Any] | None,
    settings: ProbeSettings,
    *,
    error: str | None = None,
) -> Check:
    """Seed 001: at least System Administrator must be added under Manage Profiles."""
    cid = "connected_app.sysadmin"
    name = settings.connected_app
    if error:
        return _unknown(cid, f"connected app access not readable: {error}")
    if not app or not app.get("found"):
        return _unknown(cid, f"connected app {name} not found")
    profiles = list(app.get("profiles") or ())
    permsets = list(app.get("permission_sets") or ())
    evidence = {"profiles": profiles, "permission_sets": permsets}
    if app.get("sysadmin") or settings.required_profile in profiles:
        others = len(profiles) + len(permsets) - 1
        extra = f" (+{others} more)" if others > 0 else ""
        return Check(cid, "ok", f"{settings.required_profile} is pre-authorized for {name}{extra}",
                     "", evidence)
    if not profiles and not permsets:
        return Check(cid, "fail", f"no profile is pre-authorized for {name}: nobody, admins "
                     "included, can use it", FIX_PROFILES, evidence)
    return Check(cid, "fail", f"{settings.required_profile} is not pre-authorized for {name} "
                 f"(only {', '.join(profiles + permsets)[:120]})", FIX_PROFILES, evidence)


# -- permissions ----------------------------------------------------------------------------------
def check_balance(
    balance: Mapping[str, Any] | None,
    *,
    package_installed: bool | None = None,
    error: str | None = None,
) -> Check:
    """Seed 001: one permission set covering the Balance object, its fields and the tab."""
    cid = "permissions.balance"
    if error:
        return _unknown(cid, f"permissions not readable: {error}")
    if package_installed is False:
        return _unknown(cid, "Balance object not present (package not installed)")
    if balance is None:
        return _unknown(cid, "permissions not read")
    sets = list(balance.get("permission_sets") or ())
    evidence = dict(balance)
    if sets:
        return Check(cid, "ok", f"permission set {', '.join(sets)[:120]} covers the Balance "
                     "object, its fields and tab", "", evidence)
    have = [k for k in ("object", "fields", "tab") if balance.get(k)]
    if have:
        missing = [k for k in ("object", "fields", "tab") if not balance.get(k)]
        what = {"object": "the Balance object", "fields": "its fields", "tab": "the Balance tab"}
        gaps = " and ".join(what[k] for k in missing) or "all three in one set"
        return Check(cid, "warn", f"no single permission set covers the Balance object, fields "
                     f"and tab (missing: {gaps})", FIX_BALANCE, evidence)
    return Check(cid, "fail", "no permission set gives access to the Balance object, its fields "
                 "and the Balance tab", FIX_BALANCE, evidence)


def check_task_type(
    task_type: Mapping[str, Any] | None,
    *,
    error: str | None = None,
) -> Check:
    """Seed 001: the permission set must cover the Type field of the Task object."""
    cid = "permissions.task_type"
    if error:
        return _unknown(cid, f"field permissions not readable: {error}")
    if task_type is None:
        return _unknown(cid, "field permissions not read")
    sets = list(task_type.get("permission_sets") or ())
    if sets:
        return Check(cid, "ok", f"permission set {', '.join(sets)[:120]} grants Task.Type", "",
                     dict(task_type))
    return Check(cid, "fail", "no permission set grants access to the Type field of Task",
                 FIX_TASK_TYPE, dict(task_type))


# -- API usage ------------------------------------------------------------------------------------
def check_api_usage(
    usage: Mapping[str, Any] | None,
    settings: ProbeSettings,
    *,
    error: str | None = None,
) -> Check:
    """Daily API requests used; at or above the threshold (90 %) -> warn."""
    cid = "api_usage"
    if error:
        return _unknown(cid, f"API usage not readable: {error}")
    if not usage or not usage.get("max"):
        return _unknown(cid, "the server sent no Sforce-Limit-Info header")
    used, total = int(usage.get("used") or 0), int(usage["max"])
    ratio = used / total
    text = f"{used:,}/{total:,} daily API requests used ({ratio:.0%})"
    if ratio >= settings.api_usage_warning_ratio:
        return Check(cid, "warn", text, FIX_API, {"used": used, "max": total})
    return Check(cid, "ok", text, "", {"used": used, "max": total})


# -- all together ---------------------------------------------------------------------------------
def evaluate(
    facts: Mapping[str, Any],
    settings: ProbeSettings,
    *,
    org_products: Sequence[str] = (),
    registered_kind: str | None = None,
    today: date | None = None,
) -> tuple[Check, ...]:
    """Every check, in CHECK_IDS order, from the facts a probe collected.

    `facts["errors"]` maps a fact key (organization, packages, licenses, connected_app,
    permissions.balance, permissions.task_type, api_usage) to the reason it could not be read.
    """
    errors = facts.get("errors") or {}
    packages = facts.get("packages") or {}
    pkg_error = errors.get("packages")
    billing_installed = None if pkg_error else bool(packages.get("billing"))
    installed = {p: bool(v) for p, v in packages.items()} if not pkg_error else {}
    permissions = facts.get("permissions") or {}
    checks = {
        "organization": check_organization(
            facts.get("organization"), registered_kind=registered_kind,
            error=errors.get("organization")),
        "package.billing": check_package(
            "billing", packages.get("billing"), settings, org_products=org_products,
            error=pkg_error),
        "package.cash": check_package(
            "cash", packages.get("cash"), settings, org_products=org_products, error=pkg_error),
        "licenses": check_licenses(
            facts.get("licenses"), settings, installed=installed, today=today,
            error=errors.get("licenses")),
        "connected_app.permitted_users": check_permitted_users(
            facts.get("connected_app"), settings, package_installed=billing_installed,
            error=errors.get("connected_app")),
        "connected_app.sysadmin": check_sysadmin(
            facts.get("connected_app"), settings, error=errors.get("connected_app")),
        "permissions.balance": check_balance(
            permissions.get("balance"), package_installed=billing_installed,
            error=errors.get("permissions.balance")),
        "permissions.task_type": check_task_type(
            permissions.get("task_type"), error=errors.get("permissions.task_type")),
        "api_usage": check_api_usage(
            facts.get("api_usage"), settings, error=errors.get("api_usage")),
    }
    return tuple(checks[i] for i in CHECK_IDS)
