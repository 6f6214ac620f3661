"""A push upgrade and its before/after actions, and the one parser of what was typed for a push
(form and CLI: `parse_push`, inverse `push_form_values`).

A push entered from an announcement e-mail is *confirmed*; a *projected* one is computed by the
rules, a *scheduled* one read from the packaging org. Only confirmed pushes are stored whole;
of the computed ones (ids starting with OVERLAY_PREFIXES) only the ticks of their actions are.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from juston_tui.model import ValidationError
from juston_tui.schedule.dates import (
    local_slot,
    parse_date,
    parse_time,
    parse_zone,
    zone_named,
)
from juston_tui.schedule.settings import PRODUCT_LABELS, PRODUCTS

__all__ = ["ACTION_PHASES", "ANNOUNCEMENT_DAYS", "OVERLAY_PREFIXES", "PROJECTED_ACTIONS",
           "PROJECTED_PREFIX", "PUSH_KINDS", "VENDOR_PREFIX", "Action", "Push", "parse_push",
           "push_form_values"]

ANNOUNCEMENT_DAYS = 7  # seed 000: "One week before the upgrade, we will send an email"
PUSH_KINDS = ("major", "patch")
ACTION_PHASES = ("before", "after")
# Ids of computed pushes: projected by the rules, or a packaging-org PackagePushRequest.
PROJECTED_PREFIX = "projected:"
VENDOR_PREFIX = "vendor:"
OVERLAY_PREFIXES = (PROJECTED_PREFIX, VENDOR_PREFIX)

_VERSION = re.compile(r"^\d{1,3}\.\d{1,4}(\.\d{1,4})?$")


@dataclass(frozen=True)
class Action:
    """Something to do before or after a push (from the announcement e-mail); tickable."""

    id: str
    phase: str
    text: str
    done: bool = False

    def to_doc(self) -> dict[str, Any]:
        return {"id": self.id, "phase": self.phase, "text": self.text, "done": self.done}

    @classmethod
    def from_doc(cls, doc: Mapping[str, Any]) -> Action:
        phase = doc.get("phase", "before")
        return cls(str(doc.get("id", "")), phase if phase in ACTION_PHASES else "before",
                   str(doc.get("text", "")), bool(doc.get("done", False)))


# The default checklist of a projected push: what JustOn's release team does for every push.
PROJECTED_ACTIONS = (
    ("plan", "before", "Fix the version and the actions for this push"),
    ("announce", "before", "Send the announcement e-mail to the contacts below"),
    ("verify", "after", "Check the pushed orgs' versions (juston-tui status)"),
)


@dataclass(frozen=True)
class Push:
    """A push upgrade: confirmed (from an announcement) or projected (by the rules)."""

    id: str
    status: str  # confirmed | projected | scheduled
    product: str
    start_utc: datetime
    timezone: str
    version: str = ""
    kind: str = "major"
    actions: tuple[Action, ...] = ()
    notes: str = ""
    announced_on: date | None = None

    @property
    def projected(self) -> bool:
        return self.status == "projected"

    @property
    def editable(self) -> bool:
        """Only pushes entered from an announcement can be edited or deleted here."""
        return self.status == "confirmed"

    @property
    def local_start(self) -> datetime:
        return self.start_utc.astimezone(zone_named(self.timezone))

    @property
    def local_day(self) -> date:
        return self.local_start.date()

    @property
    def announcement_due(self) -> date:
        """Seed 000: the e-mail goes out one week before the push."""
        return self.local_day - timedelta(days=ANNOUNCEMENT_DAYS)

    @property
    def label(self) -> str:
        version = f" {self.version}" if self.version else ""
        return f"{PRODUCT_LABELS[self.product]}{version}"

    def to_doc(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "status": self.status,
            "product": self.product,
            "start_utc": self.start_utc.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "timezone": self.timezone,
            "version": self.version,
            "kind": self.kind,
            "actions": [a.to_doc() for a in self.actions],
            "notes": self.notes,
            "announced_on": self.announced_on.isoformat() if self.announced_on else None,
        }

    @classmethod
    def from_doc(cls, doc: Mapping[str, Any]) -> Push:
        start = datetime.fromisoformat(str(doc["start_utc"]).replace("Z", "+00:00"))
        announced = doc.get("announced_on")
        product = doc.get("product", "billing")
        return cls(
            id=str(doc["id"]),
            status=doc.get("status", "confirmed"),
            product=product if product in PRODUCTS else "billing",
            start_utc=start.astimezone(UTC),
            timezone=doc.get("timezone") or "UTC",
            version=doc.get("version", ""),
            kind=doc.get("kind", "major") if doc.get("kind") in PUSH_KINDS else "major",
            actions=tuple(Action.from_doc(a) for a in doc.get("actions") or ()),
            notes=doc.get("notes", ""),
            announced_on=date.fromisoformat(announced) if announced else None,
        )


def _action_lines(value: Any) -> list[str]:
    items = value.splitlines() if isinstance(value, str) else list(value or ())
    return [" ".join(str(line).lstrip("-*• ").split()) for line in items
            if str(line).strip(" -*•")]


def parse_push(values: Mapping[str, Any], *, previous: Push | None = None) -> Push:
    """Build a confirmed push from what was typed (form or CLI), reporting every bad field.

    Fields: date, time, timezone, product, version, kind, before, after (one action per line),
    notes, announced_on. Editing keeps the id and the tick of every action whose text stayed.
    """
    errors: dict[str, str] = {}

    def run(fn: Any, *args: Any) -> Any:
        try:
            return fn(*args)
        except ValidationError as exc:
            errors.update(exc.errors)
            return None

    day = run(parse_date, values.get("date"), "date", "the push date")
    at = run(parse_time, values.get("time") or "01:00", "time")
    zone = run(parse_zone, values.get("timezone") or "Europe/Berlin", "timezone")
    product = str(values.get("product") or "").strip().lower()
    if product not in PRODUCTS:
        errors["product"] = "the product is billing or cash"
    version = str(values.get("version") or "").strip()
    if not version:
        errors["version"] = "the version from the announcement is required, e.g. 2.81"
    elif not _VERSION.match(version):
        errors["version"] = f"{version[:20]!r} is not a version; use e.g. 2.81 or 2.81.3"
    kind = str(values.get("kind") or ("patch" if version.count(".") == 2 else "major")).lower()
    if kind not in PUSH_KINDS:
        errors["kind"] = "the kind is major or patch"
    announced_raw = values.get("announced_on")
    announced = (run(parse_date, announced_raw, "announced_on", "the announcement date")
                 if str(announced_raw or "").strip() else None)
    start = None
    if day is not None and at is not None and zone is not None:
        start = local_slot(day, at, zone)
        if start is None:
            errors["time"] = (f"{at.strftime('%H:%M')} does not exist on {day.isoformat()} in "
                              f"{zone} (the clocks jump forward); pick another time")
    if announced is not None and day is not None and announced > day:
        errors["announced_on"] = "the announcement comes before the push"
    notes = str(values.get("notes") or "").strip()
    if not _is_utf8(notes):
        errors["notes"] = "this is not valid UTF-8 text (check the terminal's encoding)"
    if len(notes) > 2000:
        errors["notes"] = "notes have at most 2000 characters"
    old_done = {(a.phase, a.text): a.done for a in previous.actions} if previous else {}
    actions = []
    for phase in ACTION_PHASES:
        for text in _action_lines(values.get(phase)):
            if len(text) > 300:
                errors[phase] = "an action has at most 300 characters"
                break
            if not _is_utf8(text):
                errors[phase] = "this is not valid UTF-8 text (check the terminal's encoding)"
                break
            actions.append(Action(f"{phase}-{len(actions) + 1}", phase, text,
                                  old_done.get((phase, text), False)))
    if errors:
        raise ValidationError(errors)
    assert start is not None and zone is not None
    return Push(
        id=previous.id if previous else f"push-{uuid.uuid4().hex[:12]}",
        status="confirmed",
        product=product,
        start_utc=start,
        timezone=zone,
        version=version,
        kind=kind,
        actions=tuple(actions),
        notes=notes,
        announced_on=announced,
    )


def _is_utf8(text: str) -> bool:
    """False for lone surrogates (undecodable argv bytes), which the store cannot write."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def push_form_values(push: Push) -> dict[str, str]:
    """The form/CLI fields of a push, the inverse of `parse_push`."""
    local = push.local_start
    return {
        "date": local.date().isoformat(),
        "time": local.strftime("%H:%M"),
        "timezone": push.timezone,
        "product": push.product,
        "version": push.version,
        "kind": push.kind,
        "before": "\n".join(a.text for a in push.actions if a.phase == "before"),
        "after": "\n".join(a.text for a in push.actions if a.phase == "after"),
        "notes": push.notes,
        "announced_on": push.announced_on.isoformat() if push.announced_on else "",
    }
