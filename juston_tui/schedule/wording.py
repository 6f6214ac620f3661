"""How far away a day is, in the words every surface uses (agenda, push detail, CLI)."""

from __future__ import annotations

__all__ = ["countdown"]


def countdown(days: int) -> str:
    """How far away a day is, in words: today, tomorrow, yesterday, in 3 days, 2 days ago.

    One wording for the agenda, the push detail and the CLI (they used to disagree).
    """
    if days == 0:
        return "today"
    if days == 1:
        return "tomorrow"
    if days == -1:
        return "yesterday"
    return f"in {days} days" if days > 0 else f"{-days} days ago"
