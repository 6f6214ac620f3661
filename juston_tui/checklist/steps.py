"""The install steps of seed 001 as data: `data/checklist.toml`, validated into a `Checklist`.

The wording lives in the TOML file so it can change without touching code; every mistake in
the file is a `ChecklistError` naming the step it is in. Which check verifies a step is one
of `VERIFY_KINDS`: a snapshot check id (`juston_tui.salesforce.probe_org`), the browser-caching
setting, or a person (`manual`, `none`).
"""

from __future__ import annotations

import functools
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib.resources import files
from pathlib import Path
from typing import Any

from juston_tui.model import ValidationError

# Snapshot checks (juston_tui.salesforce.probe_org) a step can be verified by.
SNAPSHOT_CHECKS = (
    "organization",
    "package.billing",
    "connected_app.permitted_users",
    "connected_app.sysadmin",
    "permissions.balance",
    "permissions.task_type",
    "licenses",
)
API_CHECKS = (*SNAPSHOT_CHECKS, "browser_caching")
VERIFY_KINDS = ("none", "manual", *API_CHECKS)


class ChecklistError(ValueError):
    """The checklist data file is malformed (a packaging or editing mistake, not a user's)."""


@dataclass(frozen=True, slots=True)
class Group:
    id: str
    title: str
    intro: str = ""
    outro: str = ""


@dataclass(frozen=True, slots=True)
class Step:
    """One instruction of seed 001, with where to do it, why, and how it is verified."""

    id: str
    group: str
    title: str
    what: str
    where: tuple[str, ...]
    why: str
    verify: str = "manual"
    fix: str = ""

    @property
    def api_checked(self) -> bool:
        return self.verify in API_CHECKS

    @property
    def remedy(self) -> str:
        return self.fix or self.what

    def text(self) -> str:
        """All the words of the step (search, and the seed-coverage test)."""
        return "\n".join((self.title, self.what, *self.where, self.why, self.fix))


@dataclass(frozen=True)
class Checklist:
    groups: tuple[Group, ...]
    steps: tuple[Step, ...]
    _by_id: Mapping[str, Step] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_id", {s.id: s for s in self.steps})

    def step(self, step_id: str) -> Step:
        try:
            return self._by_id[step_id]
        except KeyError:
            raise ValidationError.single("step_id", f"there is no step {step_id!r}") from None

    def group(self, group_id: str) -> Group:
        for group in self.groups:
            if group.id == group_id:
                return group
        raise KeyError(group_id)

    def steps_in(self, group_id: str) -> list[Step]:
        return [s for s in self.steps if s.group == group_id]

    def checks_needed(self) -> set[str]:
        return {s.verify for s in self.steps if s.api_checked}


def _text(raw: Mapping[str, Any], name: str, where: str, *, required: bool = True) -> str:
    value = raw.get(name, "")
    if not isinstance(value, str) or (required and not value.strip()):
        raise ChecklistError(f"{where}: {name!r} must be a non-empty string")
    return value.strip()


def parse_checklist(data: Mapping[str, Any]) -> Checklist:
    """Validate the TOML structure; every mistake names the step it is in."""
    groups: list[Group] = []
    for i, raw in enumerate(data.get("groups") or ()):
        where = f"groups[{i}]"
        groups.append(
            Group(
                id=_text(raw, "id", where),
                title=_text(raw, "title", where),
                intro=_text(raw, "intro", where, required=False),
                outro=_text(raw, "outro", where, required=False),
            )
        )
    group_ids = [g.id for g in groups]
    if not groups or len(set(group_ids)) != len(group_ids):
        raise ChecklistError("the checklist needs groups with unique ids")
    steps: list[Step] = []
    seen: set[str] = set()
    for i, raw in enumerate(data.get("steps") or ()):
        where = f"steps[{i}]"
        step_id = _text(raw, "id", where)
        where = f"step {step_id}"
        if step_id in seen or "/" in step_id:
            raise ChecklistError(f"{where}: ids must be unique and contain no '/'")
        seen.add(step_id)
        group = _text(raw, "group", where)
        if group not in group_ids:
            raise ChecklistError(f"{where}: unknown group {group!r}")
        verify = raw.get("verify", "manual")
        if verify not in VERIFY_KINDS:
            raise ChecklistError(f"{where}: verify must be one of {', '.join(VERIFY_KINDS)}")
        places = raw.get("where") or []
        if isinstance(places, str):
            places = [places]
        if not places or not all(isinstance(p, str) and p.strip() for p in places):
            raise ChecklistError(f"{where}: 'where' must name at least one place")
        steps.append(
            Step(
                id=step_id,
                group=group,
                title=_text(raw, "title", where),
                what=_text(raw, "what", where),
                where=tuple(p.strip() for p in places),
                why=_text(raw, "why", where),
                verify=verify,
                fix=_text(raw, "fix", where, required=False),
            )
        )
    if not steps:
        raise ChecklistError("the checklist has no steps")
    # Keep the document's grouping: a group's steps are contiguous and groups keep their order.
    order = [group_ids.index(s.group) for s in steps]
    if order != sorted(order):
        raise ChecklistError("steps must be listed group by group, in the groups' order")
    return Checklist(tuple(groups), tuple(steps))


@functools.cache
def _packaged_checklist() -> Checklist:
    payload = files("juston_tui.data").joinpath("checklist.toml").read_bytes()
    return parse_checklist(tomllib.loads(payload.decode("utf-8")))


def load_checklist(path: Path | str | None = None) -> Checklist:
    """The packaged checklist (parsed once), or one from another TOML file."""
    if path is None:
        return _packaged_checklist()
    with open(path, "rb") as handle:
        return parse_checklist(tomllib.load(handle))
