"""Make untrusted text (org names, contact fields, API errors) safe to display.

Everything that came from a person or a server is data: control characters are stripped so
a name cannot move the cursor or retitle the terminal, and Rich markup is escaped so
`[bold red]x[/]` is shown as typed.
"""

from __future__ import annotations

import re

from rich.markup import escape

# C0 and C1 controls and DEL; ESC starts every terminal escape sequence. Tab becomes a space.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
# CSI sequences, OSC strings (terminated by BEL or ST, or cut off at the end of the text), and
# two-character escapes.
_ANSI = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\|$)|[@-Z\\-_])")


def clean(value: object, *, single_line: bool = True, limit: int | None = None) -> str:
    """Strip escape sequences and control characters; fold newlines for one-line cells."""
    text = "" if value is None else str(value)
    text = _ANSI.sub("", text)
    text = text.replace("\t", " ")
    if single_line:
        text = text.replace("\r\n", " ").replace("\n", " ").replace("\r", " ")
    text = _CONTROL.sub("", text)
    if limit is not None and len(text) > limit:
        text = text[: max(0, limit - 1)] + "…"
    return text


def markup_safe(value: object, *, single_line: bool = True, limit: int | None = None) -> str:
    """`clean` and then escape Rich markup, for strings printed by a Rich console (the CLI).

    In Textual, don't put untrusted text into markup at all: use `rich.text.Text(clean(x))`
    or `notify(clean(x), markup=False)`; Textual's markup has `[$variable]`, which Rich's
    escaping leaves alone.
    """
    return escape(clean(value, single_line=single_line, limit=limit))
