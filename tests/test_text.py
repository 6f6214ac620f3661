from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from rich.text import Text

from juston_tui.text import clean


def test_escape_sequences_are_removed() -> None:
    assert clean("Evil\x1b]0;pwned\x07 AG") == "Evil AG"
    assert clean("\x1b[31mred\x1b[0m") == "red"
    assert clean("a\x00b\x7fc\x9bd") == "abcd"
    assert clean("line1\nline2") == "line1 line2"
    assert clean("line1\nline2", single_line=False) == "line1\nline2"


def test_markup_is_shown_literally() -> None:
    rendered = Text(clean("[bold red]x[/] [$accent]y"))  # how every surface shows it
    assert rendered.plain == "[bold red]x[/] [$accent]y"
    assert not rendered.spans


@given(st.text())
def test_clean_never_leaves_control_characters(value: str) -> None:
    out = clean(value)
    assert not any(ord(ch) < 32 or 0x7F <= ord(ch) <= 0x9F for ch in out)
    assert Text(out).plain == out  # shown as a Text, never parsed as markup


def test_an_osc_string_cut_off_before_its_terminator_is_removed_whole() -> None:
    # rich.text.Text drops BEL, so an OSC title sequence may arrive without its terminator
    assert clean("AG\x1b]0;pwned") == "AG"
    assert clean("AG\x1b]0;pwned\x1b\\ tail") == "AG tail"
