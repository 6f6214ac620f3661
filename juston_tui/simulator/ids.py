"""Deterministic Salesforce-style IDs for simulated records.

IDs are derived from a seed string so the demo, the tests and the benchmarks see the same IDs on
every run; every ID carries the real 18-character checksum so client-side validation accepts it.
"""

from __future__ import annotations

import hashlib

from juston_tui.model import normalize_org_id

__all__ = ["checksum18", "make_id", "make_org_id"]

_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
_BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def checksum18(id15: str) -> str:
    """Return the 18-character form of a 15-character ID (reference §2i)."""
    suffix = ""
    for chunk in range(3):
        part = id15[chunk * 5 : chunk * 5 + 5]
        bits = sum(1 << i for i, ch in enumerate(part) if "A" <= ch <= "Z")
        suffix += _ALPHABET[bits]
    return id15 + suffix


def _base62(seed: str, length: int) -> str:
    digest = int.from_bytes(hashlib.sha256(seed.encode()).digest(), "big")
    out = []
    for _ in range(length):
        digest, rem = divmod(digest, 62)
        out.append(_BASE62[rem])
    return "".join(out)


def make_id(prefix: str, seed: str) -> str:
    """A stable 18-character ID with a 3-character key prefix (e.g. ``0PS``) and a realistic shape.

    Real IDs have a pod digit pair and runs of zeros after the prefix; imitating that keeps them
    recognisable in the UI.
    """
    body = _base62(f"{prefix}|{seed}", 7)
    return checksum18(f"{prefix}5g000{body}")


def make_org_id(seed: str) -> str:
    """An org ID (``00D``), validated by the same function the app uses."""
    body = _base62(f"00D|{seed}", 6)
    return normalize_org_id(f"00D5g0000{body}")
