"""FastTable: virtual rendering, cursor keys, sort, selection, live updates, literal text."""

from __future__ import annotations

from rich.text import Text
from textual.app import App, ComposeResult
from ui_helpers import screen_text

from juston_tui.screens.widgets.fast_table import Column, FastTable, Row, verdict_style

COLUMNS = [
    Column("name", "Name", 16),
    Column("num", "Num", 6, justify="right"),
    Column("verdict", "Verdict", 8),
]


def make_rows(n: int) -> list[Row]:
    verdicts = ("ok", "warn", "fail", "unknown")
    return [
        Row(
            f"k{i}",
            (Text(f"Org {i:05d}"), Text(str(i)),
             Text(verdicts[i % 4], style=verdict_style(verdicts[i % 4]))),
            (f"Org {i:05d}", i, verdicts[i % 4]),
        )
        for i in range(n)
    ]





class TableApp(App[None]):
    def __init__(self, rows: list[Row], multi_select: bool = True) -> None:
        super().__init__()
        self.rows = rows
        self.multi_select = multi_select
        self.messages: list[object] = []

    def compose(self) -> ComposeResult:
        yield FastTable(COLUMNS, empty_text="No rows here", multi_select=self.multi_select)

    def on_mount(self) -> None:
        self.query_one(FastTable).set_rows(self.rows)

    def on_fast_table_row_highlighted(self, event: FastTable.RowHighlighted) -> None:
        self.messages.append(("highlighted", event.key))

    def on_fast_table_row_selected(self, event: FastTable.RowSelected) -> None:
        self.messages.append(("selected", event.key))

    def on_fast_table_selection_changed(self, event: FastTable.SelectionChanged) -> None:
        self.messages.append(("marked", event.keys))


async def test_cursor_keys_move_and_scroll() -> None:
    app = TableApp(make_rows(1000))
    async with app.run_test(size=(60, 12)) as pilot:
        table = app.query_one(FastTable)
        await pilot.press("down", "down")
        assert table.cursor_key == "k2"
        await pilot.press("pagedown")
        page = table.cursor_row - 2
        assert page >= 5
        await pilot.press("end")
        assert table.cursor_key == "k999"
        await pilot.pause()
        assert "Org 00999" in screen_text(app)
        assert "Org 00000" not in screen_text(app)
        await pilot.press("pageup")
        assert table.cursor_row == 999 - page
        await pilot.press("home", "up")
        assert table.cursor_row == 0
        await pilot.pause()
        assert "Org 00000" in screen_text(app)
        await pilot.press("enter")
        await pilot.pause()
        assert ("selected", "k0") in app.messages
        assert ("highlighted", "k999") in app.messages


async def test_only_visible_rows_are_rendered() -> None:
    app = TableApp(make_rows(10_000))
    async with app.run_test(size=(60, 12)) as pilot:
        await pilot.pause()
        table = app.query_one(FastTable)
        assert len(table._cache) <= 12
        assert table.virtual_size.height == 10_001


async def test_sort_cycles_with_s_and_header_shows_arrow() -> None:
    app = TableApp(make_rows(30))
    async with app.run_test(size=(60, 12)) as pilot:
        table = app.query_one(FastTable)
        await pilot.press("s")
        assert table.sort_column == "name" and not table.sort_reverse
        await pilot.press("s")
        await pilot.pause()
        assert table.row_keys[0] == "k29"
        assert "Name▼" in screen_text(app)
        await pilot.press("s")  # next column (numeric sort values, not text)
        assert table.sort_column == "num"
        assert table.row_keys[:3] == ["k0", "k1", "k2"]
        table.sort_by("num", reverse=True)
        assert table.row_keys[0] == "k29"
        await pilot.pause()
        assert "Num▼" in screen_text(app)


async def test_sort_keeps_cursor_on_same_row() -> None:
    app = TableApp(make_rows(50))
    async with app.run_test(size=(60, 12)) as pilot:
        table = app.query_one(FastTable)
        await pilot.press("down", "down", "down")
        assert table.cursor_key == "k3"
        table.sort_by("num", reverse=True)
        assert table.cursor_key == "k3"
        assert table.cursor_row == 46


async def test_space_marks_rows() -> None:
    app = TableApp(make_rows(10))
    async with app.run_test(size=(60, 12)) as pilot:
        table = app.query_one(FastTable)
        await pilot.press("space", "down", "down", "space")
        assert table.selected_keys == {"k0", "k2"}
        await pilot.pause()
        text = screen_text(app)
        assert "● Org 00000" in text and "● Org 00002" in text
        await pilot.press("up", "up", "space")
        assert table.selected_keys == {"k2"}
        assert table.selected_in_order() == ["k2"]
        await pilot.pause()
        assert ("marked", frozenset({"k2"})) in app.messages


async def test_set_rows_filters_and_keeps_cursor_key() -> None:
    rows = make_rows(100)
    app = TableApp(rows)
    async with app.run_test(size=(60, 12)) as pilot:
        table = app.query_one(FastTable)
        table.move_to_key("k50")
        table.set_rows([r for r in rows if r.key in ("k10", "k50", "k90")])
        assert table.cursor_key == "k50"
        assert table.row_count == 3
        table.set_rows([r for r in rows if r.key == "k10"])
        assert table.cursor_key == "k10"
        table.set_rows([])
        assert table.cursor_key is None
        await pilot.pause()
        assert "No rows here" in screen_text(app)


async def test_update_row_repaints_without_resorting() -> None:
    app = TableApp(make_rows(10))
    async with app.run_test(size=(60, 12)) as pilot:
        table = app.query_one(FastTable)
        table.sort_by("name")
        table.update_row("k3", (Text("Zeta"), Text("3"), Text("fail")), ("Zeta", 3, "fail"))
        await pilot.pause()
        assert table.row_keys.index("k3") == 3
        assert "Zeta" in screen_text(app)
        table.update_row("missing", (Text("x"),))  # ignored
        table.sort_by("name")
        assert table.row_keys[-1] == "k3"


async def test_resort_applies_changed_sort_values_and_keeps_the_cursor_key() -> None:
    app = TableApp(make_rows(10))
    async with app.run_test(size=(60, 12)) as pilot:
        table = app.query_one(FastTable)
        table.sort_by("name")
        await pilot.press("down", "down", "down")
        assert table.cursor_key == "k3"
        table.update_row("k3", (Text("Zeta"), Text("3"), Text("fail")), ("Zeta", 3, "fail"))
        assert table.row_keys.index("k3") == 3
        table.resort()
        await pilot.pause()
        assert table.row_keys[-1] == "k3" and table.cursor_key == "k3"
        assert table.cursor_row == 9


async def test_cells_are_literal_text() -> None:
    rows = [Row("a", ("[bold red]x[/]", Text("1"), Text("ok")))]
    app = TableApp(rows)
    async with app.run_test(size=(60, 8)) as pilot:
        await pilot.pause()
        assert "[bold red]x[/]" in screen_text(app)


async def test_long_cells_are_truncated_with_ellipsis() -> None:
    rows = [Row("a", (Text("A very long organisation name"), Text("1"), Text("ok")))]
    app = TableApp(rows, multi_select=False)
    async with app.run_test(size=(60, 8)) as pilot:
        await pilot.pause()
        text = screen_text(app)
        assert "A very long org…" in text
        assert "organisation name" not in text


async def test_10k_rows_render_only_the_visible_lines(monkeypatch) -> None:
    """Virtual: loading 10,000 rows draws about a screenful, not 10,000 lines.

    (How fast that is, is measured in bench/registry_bench.py, not asserted here.)"""
    rows = make_rows(10_000)
    app = TableApp([])
    drawn: list[int] = []
    original = FastTable.render_line

    def counting(self: FastTable, y: int):
        drawn.append(y)
        return original(self, y)

    monkeypatch.setattr(FastTable, "render_line", counting)
    async with app.run_test(size=(120, 40)) as pilot:
        table = app.query_one(FastTable)
        drawn.clear()
        table.set_rows(rows)
        await pilot.pause()
        assert 0 < len(drawn) <= 4 * 40
        assert table.virtual_size.height >= 10_000
        drawn.clear()
        await pilot.press("end")
        await pilot.pause()
        assert 0 < len(drawn) <= 4 * 40


async def test_cell_styles_reach_the_screen() -> None:
    rows = [Row("a", (Text("Org"), Text("1"), Text("fail", style=verdict_style("fail")))),
            Row("b", (Text("Org"), Text("2", style="yellow"), Text("ok", style="green")))]
    app = TableApp(rows, multi_select=False)
    async with app.run_test(size=(60, 8)) as pilot:
        await pilot.pause()
        table = app.query_one(FastTable)
        line = list(table.render_line(2))  # row "b" (row "a" has the cursor)
        styled = {seg.text.strip(): seg.style for seg in line if seg.text.strip()}
        assert styled["ok"].color is not None and styled["ok"].color.name == "green"
        assert styled["2"].color.name == "yellow"
        assert styled["Org"].color.name != "green"
        assert styled["ok"].bgcolor == table.rich_style.bgcolor  # widget background kept


WIDE = [
    Column("name", "Name", 10, frozen=True),
    Column("id", "ID", 12, min_width=8, crop=True),
    Column("a", "Alpha", 10),
    Column("b", "Beta", 10),
    Column("c", "Gamma", 10, hide_below=60),
]


class WideApp(App[None]):
    def compose(self) -> ComposeResult:
        yield FastTable(WIDE, multi_select=False)

    def on_mount(self) -> None:
        self.query_one(FastTable).set_rows(
            [Row(f"k{i}", (f"Row {i}", f"ID{i:010d}", f"alpha{i}", f"beta{i}", f"gamma{i}"))
             for i in range(3)])


async def test_frozen_columns_stay_while_right_scrolls_by_a_column() -> None:
    app = WideApp()
    async with app.run_test(size=(30, 8)) as pilot:
        table = app.query_one(FastTable)
        assert [c.key for c in table.shown_columns] == ["name", "id", "a", "b"]  # c hidden
        assert table.column_width("id") == 8  # shrunk, and cut without an ellipsis
        line = screen_text(app).splitlines()[1]
        assert line.startswith("Row 0      ID000000 alpha0")
        await pilot.press("right")
        await pilot.pause()
        assert screen_text(app).splitlines()[1].startswith("Row 0      alpha0     beta0")
        await pilot.press("right", "right")
        await pilot.pause()
        assert screen_text(app).splitlines()[1].startswith("Row 0      ")
        assert "beta0" in screen_text(app).splitlines()[1]
        await pilot.press("left", "left", "left")
        await pilot.pause()
        assert screen_text(app).splitlines()[1].startswith("Row 0      ID000000")


async def test_wide_enough_tables_show_every_column_at_full_width() -> None:
    app = WideApp()
    async with app.run_test(size=(80, 8)):
        table = app.query_one(FastTable)
        assert [c.key for c in table.shown_columns] == ["name", "id", "a", "b", "c"]
        assert table.column_width("id") == 12
        assert "ID0000000000" in screen_text(app)
