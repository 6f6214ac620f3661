"""Listings that survive a pipe.

On a terminal a listing is a Rich table sized to the window. Anywhere else (a pipe, a file,
`| cat`, a script) Rich would lay the table out for 80 columns and wrap or cut the values:
there a listing is tab-separated values with a header line, every value whole on one line, so
`cut`, `awk` and spreadsheets read it. `--json` stays the complete, structured form.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import IO, Any

from juston_tui.text import clean


def is_terminal(stream: IO[str]) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # a closed or odd stream is no terminal
        return False


def _plain(value: Any) -> str:
    """One TSV field: the cell's text on one line, no tab in it."""
    if isinstance(value, (list, tuple)):
        return "; ".join(p for p in (_plain(v) for v in value) if p)
    text = getattr(value, "plain", value)
    return clean(text).replace("\t", " ")


def _styled(value: Any) -> Any:
    # rich console/table: ~0.1 s to import, only when a command prints for a terminal
    from rich.text import Text

    if isinstance(value, (list, tuple)):
        joined = Text()
        for part in value:
            if joined:
                joined.append("\n")
            joined.append(part if isinstance(part, Text) else Text(str(part)))
        return joined
    return value if isinstance(value, Text) else Text(str(value))


def print_table(out: IO[str], headers: Sequence[str], rows: Iterable[Sequence[Any]],
                *, console: Any = None) -> None:
    """Rows as a terminal table (wrapping in the columns) or, off a terminal, as TSV.

    A cell is a string, a styled rich Text, or a list of those (one per line on a terminal,
    joined by "; " in TSV). Untrusted text must already be cleaned (juston_tui.text.clean).
    """
    if not is_terminal(out):
        out.write("\t".join(headers) + "\n")
        for row in rows:
            out.write("\t".join(_plain(cell) for cell in row) + "\n")
        return
    # rich console/table: ~0.1 s to import, only when a command prints for a terminal
    from rich.console import Console
    from rich.table import Table

    table = Table(box=None, pad_edge=False)
    for header in headers:
        table.add_column(header, overflow="fold")
    for row in rows:
        table.add_row(*(_styled(cell) for cell in row))
    (console or Console(file=out, highlight=False)).print(table)
