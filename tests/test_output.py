"""Listings: a table on a terminal, whole tab-separated values in a pipe."""

from __future__ import annotations

import io

from rich.text import Text

from juston_tui.commands.output import print_table

LONG = "ute.mustermann-schmidt.buchhaltung.und.controlling@alpenblick-versicherung.example.com"


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_pipe_gets_every_value_whole_on_one_line() -> None:
    out = io.StringIO()
    print_table(out, ("Name", "E-mail", "Notes"), [
        ("Ute", LONG, ["first\tline", Text("second", style="red")]),
        ("Bob\nBuilder", "b@x.de", []),
    ])
    assert out.getvalue().splitlines() == [
        "Name\tE-mail\tNotes",
        f"Ute\t{LONG}\tfirst line; second",
        "Bob Builder\tb@x.de\t",
    ]


def test_a_terminal_gets_a_table() -> None:
    out = Terminal()
    print_table(out, ("Name", "E-mail"), [("Ute", "u@x.de")])
    lines = Text.from_ansi(out.getvalue()).plain.splitlines()
    assert lines[0].split() == ["Name", "E-mail"] and lines[1].split() == ["Ute", "u@x.de"]
    assert "\t" not in out.getvalue()
