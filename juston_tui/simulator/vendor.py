"""The packaging org's own objects (only the vendor org has them): the push upgrade objects.

PackagePushRequest (key prefix 0DV) and PackagePushJob (0DX) start in Status "Created"
(object reference sforce_api_objects_packagepushrequest.htm / packagepushjob.htm: "Don't
specify this value when you create ... The default value of Created is used").
"""

from __future__ import annotations

from typing import Any

__all__ = ["KEY_PREFIXES", "prepare_new"]

KEY_PREFIXES = {"PackagePushRequest": "0DV", "PackagePushJob": "0DX"}


def prepare_new(obj: str, record: dict[str, Any]) -> None:
    """Fill what Salesforce defaults on create."""
    if obj in ("PackagePushRequest", "PackagePushJob"):
        record.setdefault("Status", "Created")
