"""The announcement of a wave: standard e-mail messages (.eml, Python's `email` package) to the
eligible contacts of its orgs, and the record that it was made.

Seed 000: "One week before the upgrade, we will send an email" with the actions needed before
and after. The recipients are `schedule.contacts_to_notify` (eligible contacts linked to an
org of the wave or to the production org of one of its sandboxes), each in exactly one
message: contacts linked to the same orgs of the wave share one message naming those orgs.
The actions are the calendar's: the before/after actions of the confirmed push (entered from
the push's announcement) in the wave's cadence window; without one, DEFAULT_ACTIONS. The
time is given in UTC and in the calendar's zone (Europe/Berlin by default), and per org in
the org's own time zone when its latest check read one (Organization.TimeZoneSidKey, see
`org_zone`): "Your org (Acme, time zone America/New_York): Sat 5 Dec 2026 19:00". An org
whose zone is unknown, or not a zone id zoneinfo knows, gets no such line (no guessing).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, make_msgid
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from juston_tui.model import Contact, Org
from juston_tui.push_ops.plans import Plan, Wave, stamp, update_wave
from juston_tui.salesforce.facts import OrgFacts
from juston_tui.schedule import (
    ANNOUNCEMENT_DAYS,
    PRODUCT_LABELS,
    Action,
    contacts_to_notify,
    load_view,
    zone_named,
)
from juston_tui.store import atomic_write_bytes
from juston_tui.text import clean

if TYPE_CHECKING:
    from juston_tui.store import Store

__all__ = ["DEFAULT_ACTIONS", "SENDER_KEY", "AnnounceError", "Announcement",
           "AnnouncementsExist", "calendar_actions", "compose", "gate_note", "org_zone",
           "record_announcement", "write_announcements"]

SENDER_KEY = "push_mail_sender"  # store setting: the From of announcements
DEFAULT_SENDER = "JustOn Support <support@juston.invalid>"
# The actions of a push when the calendar has none entered for it (seed 000's FAQ: scheduled
# jobs paused during the push window, checked after it).
DEFAULT_ACTIONS = (
    Action("before-1", "before", "Deactivate the scheduled invoice runs during the push window"),
    Action("before-2", "before", "Make sure no deployment or data load runs in the push window"),
    Action("after-1", "after", "Re-activate the scheduled invoice runs"),
    Action("after-2", "after", "Check the installed JustOn version in Setup > Installed "
           "Packages"),
)


@dataclass(frozen=True)
class Announcement:
    filename: str
    message: EmailMessage
    contacts: tuple[Contact, ...]
    orgs: tuple[Org, ...]


def calendar_actions(store: Store, plan: Plan, wave: Wave) -> tuple[Action, ...]:
    """The before/after actions the calendar has for the push this wave belongs to."""
    zone = zone_named(plan.timezone)
    day = wave.start_utc.astimezone(zone).date()
    view = load_view(store, today=day - timedelta(days=ANNOUNCEMENT_DAYS), months=4)
    for entry in view.plans:
        push = entry.push
        if push.product == plan.product and push.status == "confirmed" and \
                entry.window[0] <= day < entry.window[1] and push.actions:
            return tuple(a for a in push.actions if a.phase in ("before", "after"))
    return DEFAULT_ACTIONS


def org_zone(store: Store, org_id: str) -> ZoneInfo | None:
    """The org's own time zone: the TimeZoneSidKey its latest check read from its
    Organization record (an IANA id such as America/New_York). None when never read, or
    when the id is not one zoneinfo knows (ignored, never guessed)."""
    doc = store.snapshot_doc(org_id) or {}  # the stored document: only its organization read
    facts = doc.get("facts")
    organization = OrgFacts.from_doc(facts.get("organization")) if isinstance(facts, dict) \
        else None
    name = organization.timezone.strip() if organization is not None else ""
    if not name or len(name) > 64:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: a name zoneinfo can't open
        return None


def _their_time(when: datetime, zone: ZoneInfo) -> str:
    local = when.astimezone(zone)
    return f"{local:%a} {local.day} {local:%b %Y %H:%M}"


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:40] or "org"


def _body(plan: Plan, wave: Wave, orgs: Sequence[Org], actions: Sequence[Action],
          zones: Mapping[str, ZoneInfo] | None = None) -> str:
    local = wave.start_utc.astimezone(zone_named(plan.timezone))
    zones = zones or {}
    theirs = [f"Your org ({clean(o.name, limit=200)}, time zone {zones[o.org_id].key}): "
              f"{_their_time(wave.start_utc, zones[o.org_id])}"
              for o in orgs if o.org_id in zones]
    label = PRODUCT_LABELS.get(plan.product, plan.product)
    lines = [
        "Hello,",
        "",
        f"JustOn will push-upgrade {label} to version {plan.version} in the following "
        "org(s):",
        "",
        *(f"- {clean(o.name, limit=200)} (org ID {o.org_id[:15]}, {o.kind})" for o in orgs),
        "",
        f"Start: {local:%A, %d %B %Y, %H:%M} {plan.timezone} ({local:%Z})",
        f"       {wave.start_utc:%Y-%m-%d %H:%M} UTC",
        *theirs,
        "",
        "Before the upgrade:",
        *(f"- {clean(a.text, limit=300)}" for a in actions if a.phase == "before"),
        "",
        "After the upgrade:",
        *(f"- {clean(a.text, limit=300)}" for a in actions if a.phase == "after"),
        "",
        "What your org must do: nothing needs to be installed. Keep the org active and do not",
        "block push upgrades of the package until the upgrade has run. If an org must not be",
        f"upgraded at this time, reply before {(local - timedelta(days=2)):%Y-%m-%d} and it "
        "will be left out.",
        "",
        "Kind regards",
        "JustOn Support",
        "",
    ]
    return "\n".join(lines)


def compose(store: Store, plan: Plan, wave: Wave, *, sender: str | None = None,
            now: datetime | None = None) -> list[Announcement]:
    """One message per group of recipients linked to the same orgs of the wave."""
    now = now or datetime.now(UTC)
    sender = sender or str(store.get_setting(SENDER_KEY) or DEFAULT_SENDER)
    orgs = [o for o in (store.find_org(p.org_id) for p in wave.orgs) if o is not None]
    contacts = contacts_to_notify(orgs, store.list_contacts())
    actions = calendar_actions(store, plan, wave)
    seen: set[str] = set()
    groups: dict[tuple[str, ...], list[Contact]] = {}
    for person in contacts:
        key = person.email.strip().lower()
        if not key or key in seen:
            continue
        seen.add(key)
        linked = set(person.org_ids)
        mine = tuple(o.org_id for o in orgs if o.org_id in linked
                     or (o.parent_org_id and o.parent_org_id in linked))
        groups.setdefault(mine, []).append(person)
    by_id = {o.org_id: o for o in orgs}
    zones = {o.org_id: zone for o in orgs if (zone := org_zone(store, o.org_id)) is not None}
    local = wave.start_utc.astimezone(zone_named(plan.timezone))
    label = PRODUCT_LABELS.get(plan.product, plan.product)
    out = []
    for n, (org_ids, people) in enumerate(sorted(groups.items()), start=1):
        group = tuple(by_id[i] for i in org_ids)
        msg = EmailMessage()
        msg["From"] = sender
        msg["To"] = ", ".join(formataddr((clean(p.full_name, limit=100), p.email.strip()))
                              for p in people)
        msg["Subject"] = (f"Push upgrade of {label} to {plan.version} on "
                          f"{local:%Y-%m-%d %H:%M} {plan.timezone}")
        msg["Date"] = format_datetime(now)
        msg["Message-ID"] = make_msgid(domain="juston-tui.invalid")
        msg["X-JustOn-Push-Plan"] = f"{plan.id} wave {wave.number}"
        msg.set_content(_body(plan, wave, group, actions, zones))
        first = group[0].name if group else "org"
        out.append(Announcement(f"{plan.id}-wave{wave.number}-{n:03d}-{_slug(first)}.eml",
                                msg, tuple(people), group))
    return out


def record_announcement(store: Store, plan_id: str, number: int, when: datetime,
                        recipients: int) -> Plan:
    """The wave was announced at `when` (the 7-day gate of scheduling reads this)."""
    return update_wave(store, plan_id, number, announced_at=stamp(when),
                       announcement_recipients=recipients)


class AnnouncementsExist(Exception):
    """Some of the .eml files are there already (never replaced unasked)."""

    def __init__(self, paths: Sequence[Path]) -> None:
        super().__init__(f"{paths[0]} exists")
        self.paths = tuple(paths)


class AnnounceError(Exception):
    """Nothing to announce, or the folder cannot be written: one line."""


def write_announcements(store: Store, plan: Plan, wave: Wave, folder: Path, *,
                        replace: bool = False, sender: str | None = None,
                        now: datetime | None = None) -> list[Announcement]:
    """Compose the wave's messages and write them to `folder` as .eml (atomically, 0600);
    AnnouncementsExist when a file is there and `replace` is not given. Not recorded:
    `record_announcement` does (after sending, when they are sent)."""
    messages = compose(store, plan, wave, sender=sender, now=now)
    if not messages:
        raise AnnounceError(f"no eligible contacts are linked to the orgs of wave "
                            f"{wave.number}; nothing written, nothing recorded")
    folder = folder.expanduser()
    if folder.exists() and not folder.is_dir():
        raise AnnounceError(f"{folder} is not a folder")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise AnnounceError(f"cannot make {folder}: {exc.strerror or exc}") from None
    targets = [folder / m.filename for m in messages]
    existing = [t for t in targets if t.exists()]
    if existing and not replace:
        raise AnnouncementsExist(existing)
    for target, message in zip(targets, messages, strict=True):
        try:
            atomic_write_bytes(target, bytes(message.message), overwrite=replace)
        except FileExistsError:  # appeared meanwhile
            raise AnnouncementsExist([target]) from None
        except OSError as exc:
            raise AnnounceError(f"cannot write {target}: {exc.strerror or exc}") from None
    return messages


def gate_note(wave: Wave, now: datetime) -> str:
    """Whether an announcement made `now` opens the 7-day gate of scheduling."""
    if wave.start_utc - now >= timedelta(days=ANNOUNCEMENT_DAYS):
        return "ok"
    return ("less than 7 days before the start: scheduling needs --override-announcement")
