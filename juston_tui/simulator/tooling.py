"""What differs on the Tooling API (`/services/data/vNN.N/tooling/...`) from plain REST.

The same resources (query, queryMore, sobjects, composite) under a `tooling/` prefix, with
objects only it serves (InstalledSubscriberPackage, SubscriberPackage[Version]: a REST query
answers INVALID_TYPE, as Salesforce does) and its own query envelope: `size`, `queryLocator`,
`entityTypeName` besides `totalSize`/`done`/`records` (reference §2).
"""

from __future__ import annotations

from typing import Any

from .data import TOOLING_ONLY, OrgData

__all__ = ["ApiView", "envelope", "split_tooling"]


def split_tooling(rest: str) -> tuple[bool, str]:
    """(is this the Tooling API, the resource path below it)."""
    if rest.startswith("/tooling/") or rest == "/tooling":
        return True, rest[len("/tooling"):] or "/"
    return False, rest


class ApiView:
    """An org's data as one API (REST or Tooling) sees it: tooling-only objects hidden on REST,
    and objects the API user may not query (missing permission) hidden on both."""

    def __init__(self, db: OrgData, tooling: bool) -> None:
        self.db = db
        self.tooling = tooling
        self.schema_names = {n: n for n in db.objects
                             if (tooling or n not in TOOLING_ONLY) and n not in db.hidden}

    def schema(self, name: str) -> Any:
        s = self.db.schema(name)
        if s is None or (not self.tooling and s.name in TOOLING_ONLY) or s.name in self.db.hidden:
            return None
        return s

    def rows(self, name: str) -> list[dict[str, Any]]:
        return self.db.rows(name)

    def get(self, name: str, record_id: str) -> dict[str, Any] | None:
        return self.db.get(name, record_id)


def envelope(page: list[dict[str, Any]], total: int, version: str, tooling: bool, entity: str,
             locator: str | None, next_offset: int) -> dict[str, Any]:
    """A query answer; `locator` (None = done) names the cursor of the next page."""
    done = locator is None
    nxt = None
    if not done:
        nxt = (f"/services/data/v{version}/" + ("tooling/" if tooling else "")
               + f"query/{locator}-{next_offset}")
    if tooling:
        env: dict[str, Any] = {"size": len(page), "totalSize": total, "done": done}
        if nxt:
            env["nextRecordsUrl"] = nxt
        env["queryLocator"] = None if done else f"{locator}-{next_offset}"
        env["entityTypeName"] = entity
        env["records"] = page
        return env
    env = {"totalSize": total, "done": done}
    if nxt:
        env["nextRecordsUrl"] = nxt
    env["records"] = page
    return env
