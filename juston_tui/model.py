"""Domain model: orgs, contacts, push registration and status snapshots.

Validation lives here so the CLI and every form give the same message for the same mistake.
Every error names the field it belongs to, so a form can show it where it was typed.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields, replace
from datetime import UTC, date, datetime
from typing import Any, Literal
from urllib.parse import urlparse

from juston_tui.text import strip_controls

__all__ = [
    "AUTH_METHODS",
    "CHECK_IDS",
    "ORG_KINDS",
    "PUSH_STATES",
    "VERDICTS",
    "Check",
    "Contact",
    "Org",
    "PushRegistration",
    "Snapshot",
    "ValidationError",
    "checked_by_default",
    "normalize_org_id",
    "now_utc",
    "org_id_15",
    "validate_email",
]

ORG_KINDS = ("production", "sandbox")
AUTH_METHODS = ("jwt", "client-credentials", "password", "token")
PUSH_STATES = ("not_registered", "request_drafted", "requested", "registered", "withdrawn")
VERDICTS = ("ok", "warn", "fail", "unknown")
CHECK_IDS = (
    "organization",
    "package.billing",
    "package.cash",
    "licenses",
    "connected_app.permitted_users",
    "connected_app.sysadmin",
    "permissions.balance",
    "permissions.task_type",
    "api_usage",
)

Verdict = Literal["ok", "warn", "fail", "unknown"]

# Legal push-registration moves (seed 000: register after a recent upgrade by a support request).
PUSH_TRANSITIONS: dict[str, tuple[str, ...]] = {
    "not_registered": ("request_drafted", "requested"),
    "request_drafted": ("requested", "not_registered"),
    "requested": ("registered", "withdrawn", "not_registered"),
    "registered": ("withdrawn",),
    "withdrawn": ("request_drafted", "requested", "not_registered"),
}

_CHECKSUM_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
_BASE62 = re.compile(r"^[0-9A-Za-z]+$")
_MYDOMAIN = re.compile(r"^[a-z0-9][a-z0-9-]*(--[a-z0-9-]+)?(\.(sandbox|develop|scratch))?\.my$")


class ValidationError(ValueError):
    """A value a person typed is wrong; `errors` maps each field to one clear sentence."""

    def __init__(self, errors: Mapping[str, str]) -> None:
        self.errors = dict(errors)
        super().__init__("; ".join(f"{k}: {v}" for k, v in self.errors.items()))

    @classmethod
    def single(cls, field_name: str, message: str) -> ValidationError:
        return cls({field_name: message})


_SURROGATE = re.compile(r"[\ud800-\udfff]")


def has_surrogates(text: str) -> bool:
    """True for text made from bytes that were not UTF-8 (Python's surrogateescape)."""
    return bool(_SURROGATE.search(text))


def _refuse_undecodable(values: Mapping[str, Any]) -> dict[str, str]:
    """Per-field errors for text that cannot be stored (it would crash the JSON encoder)."""
    errors: dict[str, str] = {}
    for name, value in values.items():
        items = [value] if isinstance(value, str) else value
        if isinstance(items, (list, tuple)) and any(
            isinstance(v, str) and has_surrogates(v) for v in items
        ):
            errors[name] = "is not valid UTF-8 text (check the terminal's or file's encoding)"
    return errors


def _without_controls(values: Mapping[str, Any], *, lines: Iterable[str] = ("notes",),
                      paths: Iterable[str] = ()) -> dict[str, Any]:
    """Every text value (and text in lists) with escape sequences and control characters out.

    Text enters here from forms, the CLI, imports and Salesforce (vendor sync): a name with
    ESC/BEL could otherwise retitle the terminal or write the clipboard wherever it is shown.
    Fields in `lines` keep tab and newline; file paths in `paths` are left as given.
    """
    lines, paths = set(lines), set(paths)
    out: dict[str, Any] = {}
    for name, value in values.items():
        if name in paths:
            out[name] = value
        elif isinstance(value, str):
            out[name] = strip_controls(value, multiline=name in lines)
        elif isinstance(value, list | tuple):
            out[name] = [strip_controls(v) if isinstance(v, str) else v for v in value]
        else:
            out[name] = value
    return out


def now_utc() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def parse_utc(value: Any) -> datetime | None:
    """A stored or Salesforce timestamp as an aware UTC datetime; None when empty or not one.

    Accepts our "2026-05-09T01:00:00Z", ISO offsets, and Salesforce's dateTime text
    ("2026-05-09T01:00:00.000+0000", no colon in the offset).
    """
    if not value:
        return None
    text = str(value).replace("Z", "+00:00")
    if len(text) > 5 and text[-5] in "+-" and text[-3] != ":":
        text = f"{text[:-2]}:{text[-2:]}"
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        return None
    return when.astimezone(UTC) if when.tzinfo else when.replace(tzinfo=UTC)


def _checksum(id15: str) -> str:
    out = []
    for chunk in range(3):
        bits = 0
        for i, ch in enumerate(id15[chunk * 5 : chunk * 5 + 5]):
            if "A" <= ch <= "Z":
                bits |= 1 << i
        out.append(_CHECKSUM_ALPHABET[bits])
    return "".join(out)


def normalize_org_id(value: str, field_name: str = "org_id") -> str:
    """Return the 18-character form of a Salesforce org ID, or raise with what is wrong."""
    raw = (value or "").strip()
    if not raw:
        raise ValidationError.single(
            field_name, "an org ID is required (15 or 18 characters, 00D…)"
        )
    if len(raw) not in (15, 18):
        raise ValidationError.single(
            field_name, f"an org ID has 15 or 18 characters, this one has {len(raw)}"
        )
    if not _BASE62.match(raw):
        raise ValidationError.single(field_name, "an org ID has only letters and digits")
    if not raw.startswith("00D"):
        raise ValidationError.single(
            field_name, f"an org ID starts with 00D (this starts with {raw[:3]!r})"
        )
    id15 = raw[:15]
    expected = _checksum(id15)
    if len(raw) == 18 and raw[15:].upper() != expected:
        raise ValidationError.single(
            field_name,
            f"checksum mismatch: the last three characters should be {expected}, not {raw[15:]} "
            "(a mistyped character or wrong letter case?)",
        )
    return id15 + expected


def org_id_15(org_id: str) -> str:
    return org_id[:15]


def validate_email(value: str, field_name: str = "email") -> str:
    email = (value or "").strip()
    if not email:
        raise ValidationError.single(field_name, "an e-mail address is required")
    if len(email) > 254:
        raise ValidationError.single(field_name, "an e-mail address has at most 254 characters")
    # Imported here, not at the top: model.py is on the TUI's start-up path and
    # email_validator compiles its RFC grammar on import (~45 ms); only validation needs it.
    from email_validator import EmailNotValidError
    from email_validator import validate_email as check_syntax

    def refuse(reason: str) -> ValidationError:
        return ValidationError.single(
            field_name, f"{email[:60]!r} is not an e-mail address: {reason}")

    try:
        # The maintained validator's syntax rules only: no DNS look-up (check_deliverability).
        checked = check_syntax(email, check_deliverability=False)
    except EmailNotValidError as exc:
        reason = str(exc).rstrip(".")
        raise refuse(reason[:1].lower() + reason[1:]) from None
    # Syntax allows a one-letter top-level domain; none exists (IANA's are two or more).
    if len(checked.ascii_domain.rpartition(".")[2]) < 2:
        raise refuse(f"the domain ends in {checked.domain.rpartition('.')[2]!r}, "
                     "which is no top-level domain")
    return checked.normalized


def _required_text(value: str | None, field_name: str, label: str, limit: int = 200) -> str:
    text = " ".join((value or "").split())
    if not text:
        raise ValidationError.single(field_name, f"{label} is required")
    if len(text) > limit:
        raise ValidationError.single(field_name, f"{label} has at most {limit} characters")
    return text


def validate_instance_url(value: str, field_name: str = "instance_url") -> str:
    url = (value or "").strip().rstrip("/")
    if not url:
        return ""
    try:
        parsed = urlparse(url)
        parsed.hostname  # noqa: B018 - raises on a broken IPv6 literal such as https://[::1
    except ValueError:
        raise ValidationError.single(
            field_name, "the instance URL is not a valid URL (e.g. https://acme.my.salesforce.com)"
        ) from None
    if parsed.scheme != "https":
        raise ValidationError.single(
            field_name, "the instance URL must start with https:// (Salesforce is HTTPS only)"
        )
    if not parsed.hostname:
        raise ValidationError.single(field_name, "the instance URL has no host name")
    if parsed.path not in ("", "/") or parsed.query or parsed.fragment:
        raise ValidationError.single(
            field_name, "give the instance URL only, e.g. https://acme.my.salesforce.com"
        )
    try:
        port = parsed.port
    except ValueError:  # not a number, or out of range (urllib checks 0-65535)
        port = -1
    if port is not None and not 1 <= port <= 65535:
        raise ValidationError.single(
            field_name, "the port in the instance URL is not between 1 and 65535"
        )
    return url


def validate_domain(value: str, field_name: str = "domain") -> str:
    domain = (value or "").strip().lower()
    if domain in ("", "login", "test"):
        return domain or "login"
    if _MYDOMAIN.match(domain):
        return domain
    raise ValidationError.single(
        field_name, "use login, test, or a My Domain prefix such as acme.my or acme--uat.sandbox.my"
    )


# A legacy instance host (na45.salesforce.com, cs107.salesforce.com, eu46.my.salesforce.com
# is a My Domain, not this); My Domain and loopback hosts name no instance.
_INSTANCE_HOST = re.compile(r"^https://([a-z]{2,4}\d{1,3}s?)\.salesforce\.com(?::\d+)?/?$", re.I)


def instance_from_url(url: str) -> str:
    """The Salesforce instance an instance URL names ("https://eu45.salesforce.com" -> "EU45"),
    or "" when it names none (My Domain, a simulator on 127.0.0.1): known only after a check."""
    match = _INSTANCE_HOST.match((url or "").strip())
    return match.group(1).upper() if match else ""


@dataclass(frozen=True, slots=True)
class PushRegistration:
    """Where an org stands in JustOn's push-upgrade registration (seed 000)."""

    state: str = "not_registered"
    requested_on: str | None = None  # ISO date of the support request
    ticket: str | None = None
    registered_on: str | None = None

    def transition(
        self, new_state: str, *, on: date | None = None, ticket: str | None = None
    ) -> PushRegistration:
        if new_state not in PUSH_STATES:
            raise ValidationError.single("push", f"unknown push registration state {new_state!r}")
        if new_state == self.state:
            return self
        if new_state not in PUSH_TRANSITIONS[self.state]:
            allowed = ", ".join(PUSH_TRANSITIONS[self.state])
            raise ValidationError.single(
                "push", f"cannot go from {self.state} to {new_state} (allowed: {allowed})"
            )
        day = (on or now_utc().date()).isoformat()
        if new_state == "requested":
            ticket = (ticket or "").strip()
            if not ticket:
                raise ValidationError.single("ticket", "the support ticket number is required")
            return PushRegistration("requested", requested_on=day, ticket=ticket)
        if new_state == "registered":
            return replace(self, state="registered", registered_on=day)
        if new_state == "not_registered":
            return PushRegistration()
        return replace(self, state=new_state)

    def to_doc(self) -> dict[str, Any]:
        return {"state": self.state, "requested_on": self.requested_on, "ticket": self.ticket,
                "registered_on": self.registered_on}

    @classmethod
    def from_doc(cls, doc: Mapping[str, Any] | None) -> PushRegistration:
        doc = doc or {}
        state = doc.get("state", "not_registered")
        return cls(
            state=state if state in PUSH_STATES else "not_registered",
            requested_on=doc.get("requested_on"),
            ticket=doc.get("ticket"),
            registered_on=doc.get("registered_on"),
        )


@dataclass(frozen=True, slots=True)
class Org:
    """A registered Salesforce org. Secrets never live here: see credentials.py."""

    org_id: str
    name: str
    kind: str = "production"
    parent_org_id: str | None = None
    instance_url: str = ""
    domain: str = "login"
    auth_method: str = "token"
    username: str = ""
    consumer_key: str = ""
    ca_bundle: str = ""
    products: tuple[str, ...] = ()
    push: PushRegistration = field(default_factory=PushRegistration)
    sandbox_push_ticket: str = ""
    tags: tuple[str, ...] = ()
    notes: str = ""
    vendor: bool = False  # the vendor's packaging org (PackageSubscriber, push jobs)

    @classmethod
    def create(cls, **values: Any) -> Org:
        """Build a validated org, collecting every field's error at once."""
        errors = _refuse_undecodable(values)
        if errors:
            raise ValidationError(errors)
        values = _without_controls(values, paths=("ca_bundle",))
        clean: dict[str, Any] = {}

        def run(name: str, fn: Any, *args: Any) -> None:
            try:
                clean[name] = fn(*args)
            except ValidationError as exc:
                errors.update(exc.errors)

        run("org_id", normalize_org_id, values.get("org_id", ""), "org_id")
        run("name", _required_text, values.get("name"), "name", "the org name")
        kind = (values.get("kind") or "production").strip().lower()
        if kind not in ORG_KINDS:
            errors["kind"] = "the type is production or sandbox"
        clean["kind"] = kind
        parent = (values.get("parent_org_id") or "").strip()
        if parent:
            run("parent_org_id", normalize_org_id, parent, "parent_org_id")
            if kind != "sandbox":
                errors["parent_org_id"] = "only a sandbox has a parent production org"
        else:
            clean["parent_org_id"] = None
        run("instance_url", validate_instance_url, values.get("instance_url", ""))
        run("domain", validate_domain, values.get("domain", ""))
        method = (values.get("auth_method") or "token").strip()
        if method not in AUTH_METHODS:
            errors["auth_method"] = f"the method is one of {', '.join(AUTH_METHODS)}"
        clean["auth_method"] = method
        clean["username"] = (values.get("username") or "").strip()
        clean["consumer_key"] = (values.get("consumer_key") or "").strip()
        if method in ("jwt", "password") and not clean["username"]:
            errors["username"] = f"a username is required for the {method} method"
        if method in ("jwt", "client-credentials") and not clean["consumer_key"]:
            errors["consumer_key"] = f"a consumer key is required for the {method} method"
        if method == "client-credentials" and not (
            clean.get("domain", "").endswith(".my") or clean.get("instance_url")
        ):
            errors["domain"] = "client credentials need a My Domain (e.g. acme.my)"
        clean["ca_bundle"] = (values.get("ca_bundle") or "").strip()
        clean["products"] = tuple(values.get("products") or ())
        clean["tags"] = tuple(
            sorted({t.strip() for t in (values.get("tags") or ()) if t and t.strip()})
        )
        clean["notes"] = values.get("notes") or ""
        clean["sandbox_push_ticket"] = (values.get("sandbox_push_ticket") or "").strip()
        if clean["sandbox_push_ticket"] and kind != "sandbox":
            errors["sandbox_push_ticket"] = "only a sandbox needs a sandbox push ticket"
        push = values.get("push")
        clean["push"] = push if isinstance(push, PushRegistration) else PushRegistration.from_doc(
            push
        )
        clean["vendor"] = bool(values.get("vendor", False))
        if errors:
            raise ValidationError(errors)
        return cls(**clean)

    def with_changes(self, **changes: Any) -> Org:
        values = self.to_doc()
        values["push"] = self.push
        values.update(changes)
        return Org.create(**values)

    @property
    def id15(self) -> str:
        return self.org_id[:15]

    @property
    def is_production(self) -> bool:
        return self.kind == "production"

    @property
    def push_reachable(self) -> bool:
        """Seed 000: pushes reach production orgs; sandboxes only on request by ticket."""
        return self.is_production or bool(self.sandbox_push_ticket)

    @property
    def push_eligible(self) -> bool:
        """Registered for push upgrades and reachable by them: in the next push."""
        return self.push.state == "registered" and self.push_reachable

    def to_doc(self) -> dict[str, Any]:
        # Field by field: dataclasses.asdict deep-copies every value (~0.2 ms an org, 2 s for
        # `org list --json` at 10,000 orgs); every field here is a str, bool, None or tuple.
        doc = {name: getattr(self, name) for name in _ORG_FIELDS}
        doc["push"] = self.push.to_doc()
        doc["products"] = list(self.products)
        doc["tags"] = list(self.tags)
        return doc

    @classmethod
    def from_doc(cls, doc: Mapping[str, Any]) -> Org:
        """Trusting load from the store (already validated when written)."""
        return cls(
            org_id=doc["org_id"],
            name=doc.get("name", ""),
            kind=doc.get("kind", "production"),
            parent_org_id=doc.get("parent_org_id"),
            instance_url=doc.get("instance_url", ""),
            domain=doc.get("domain", "login"),
            auth_method=doc.get("auth_method", "token"),
            username=doc.get("username", ""),
            consumer_key=doc.get("consumer_key", ""),
            ca_bundle=doc.get("ca_bundle", ""),
            products=tuple(doc.get("products") or ()),
            push=PushRegistration.from_doc(doc.get("push")),
            sandbox_push_ticket=doc.get("sandbox_push_ticket", ""),
            tags=tuple(doc.get("tags") or ()),
            notes=doc.get("notes", ""),
            vendor=bool(doc.get("vendor", False)),
        )


_ORG_FIELDS = tuple(f.name for f in fields(Org))


def checked_by_default(orgs: Iterable[Org]) -> list[Org]:
    """The orgs a check of "all" covers (`status` without names, the TUI's check all):
    every org except the vendor's packaging org, which is checked only when named."""
    return [o for o in orgs if not o.vendor]


@dataclass(frozen=True, slots=True)
class Contact:
    """A person to notify about push upgrades: full name, e-mail and title (seed 000)."""

    id: str
    full_name: str
    email: str
    title: str
    role: str = ""
    org_ids: tuple[str, ...] = ()
    eligible: bool = True
    notes: str = ""

    @classmethod
    def create(cls, **values: Any) -> Contact:
        errors = _refuse_undecodable(values)
        if errors:
            raise ValidationError(errors)
        values = _without_controls(values)
        clean: dict[str, Any] = {"id": values.get("id") or str(uuid.uuid4())}
        for name, label in (("full_name", "the full name"), ("title", "the title")):
            try:
                clean[name] = _required_text(values.get(name), name, label)
            except ValidationError as exc:
                errors.update(exc.errors)
        try:
            clean["email"] = validate_email(values.get("email", ""))
        except ValidationError as exc:
            errors.update(exc.errors)
        clean["role"] = " ".join((values.get("role") or "").split())
        if len(clean["role"]) > 200:
            errors["role"] = "the role has at most 200 characters"
        org_ids = []
        for raw in values.get("org_ids") or ():
            try:
                org_ids.append(normalize_org_id(raw, "org_ids"))
            except ValidationError as exc:
                errors.update(exc.errors)
        clean["org_ids"] = tuple(dict.fromkeys(org_ids))
        clean["eligible"] = bool(values.get("eligible", True))
        clean["notes"] = values.get("notes") or ""
        if errors:
            raise ValidationError(errors)
        return cls(**clean)

    def with_changes(self, **changes: Any) -> Contact:
        values = self.to_doc()
        values.update(changes)
        return Contact.create(**values)

    def to_doc(self) -> dict[str, Any]:
        doc = {name: getattr(self, name) for name in _CONTACT_FIELDS}
        doc["org_ids"] = list(self.org_ids)
        return doc

    @classmethod
    def from_doc(cls, doc: Mapping[str, Any]) -> Contact:
        return cls(
            id=doc["id"],
            full_name=doc.get("full_name", ""),
            email=doc.get("email", ""),
            title=doc.get("title", ""),
            role=doc.get("role", ""),
            org_ids=tuple(doc.get("org_ids") or ()),
            eligible=bool(doc.get("eligible", True)),
            notes=doc.get("notes", ""),
        )


_CONTACT_FIELDS = tuple(f.name for f in fields(Contact))


@dataclass(frozen=True, slots=True)
class Check:
    """One verdict about one org: what is wrong in a line, and how to fix it in the seed's words."""

    id: str
    verdict: str
    reason: str
    fix: str = ""
    evidence: Mapping[str, Any] = field(default_factory=dict)

    def to_doc(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "verdict": self.verdict,
            "reason": self.reason,
            "fix": self.fix,
            "evidence": dict(self.evidence),
        }

    @classmethod
    def from_doc(cls, doc: Mapping[str, Any]) -> Check:
        verdict = doc.get("verdict", "unknown")
        return cls(
            id=doc["id"],
            verdict=verdict if verdict in VERDICTS else "unknown",
            reason=doc.get("reason", ""),
            fix=doc.get("fix", ""),
            evidence=doc.get("evidence") or {},
        )


@dataclass(frozen=True, slots=True)
class Snapshot:
    """The result of checking one org at one time; `facts` holds what was read (versions…)."""

    org_id: str
    checked_at: str  # ISO-8601 UTC
    checks: tuple[Check, ...] = ()
    error: str | None = None
    facts: Mapping[str, Any] = field(default_factory=dict)

    @property
    def verdict(self) -> str:
        """The worst verdict of all checks (an error counts as unknown)."""
        if self.error:
            return "unknown"
        order = {"fail": 3, "warn": 2, "unknown": 1, "ok": 0}
        worst = "ok"
        for check in self.checks:
            if order[check.verdict] > order[worst]:
                worst = check.verdict
        return worst if self.checks else "unknown"

    def check(self, check_id: str) -> Check | None:
        for c in self.checks:
            if c.id == check_id:
                return c
        return None

    def to_doc(self) -> dict[str, Any]:
        return {
            "org_id": self.org_id,
            "checked_at": self.checked_at,
            "error": self.error,
            "checks": [c.to_doc() for c in self.checks],
            "facts": dict(self.facts),
        }

    @classmethod
    def from_doc(cls, doc: Mapping[str, Any]) -> Snapshot:
        return cls(
            org_id=doc["org_id"],
            checked_at=doc["checked_at"],
            error=doc.get("error"),
            checks=tuple(Check.from_doc(c) for c in doc.get("checks") or ()),
            facts=doc.get("facts") or {},
        )
