"""The one table for long lists: lines cached, widths computed once per width, a cursor move
redraws two lines, colours from the theme, rows fetched as they come into view."""

from __future__ import annotations

import threading

from textual.app import App, ComposeResult

from tests.pilot import settle
from tui_app.widgets import row_table
from tui_app.widgets.paged_table import KEEP_ROWS, PagedTable, Plan
from tui_app.widgets.row_table import Column, RowTable

MILLION = 1_000_000


class Numbers(RowTable):
    """Rows held in memory: n, n squared, a name with an escape in it."""

    columns = (Column("n", 8, justify="right"), Column("square", 14), Column("name", 0, 1))

    def __init__(self, total: int) -> None:
        super().__init__(id="numbers")
        self.set_total(total)
        self.drawn = 0

    def cells_at(self, index: int):
        return [(str(index), ""), (str(index * index), ""), (f"row\x1b[2J{index}", "")]

    def render_line(self, y: int):
        self.drawn += 1
        return super().render_line(y)


class Counting:
    """A RowSource of `total` numbered rows that counts its queries (on worker threads)."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.pages: list[Plan] = []
        self.lock = threading.Lock()

    def count(self) -> int:
        return self.total

    def page(self, plan: Plan) -> list[int]:
        with self.lock:
            self.pages.append(plan)
        if plan.after is not None:
            start = plan.after + 1
        elif plan.before is not None:
            start = max(0, plan.before - plan.limit)
            return list(range(start, plan.before))
        elif plan.last:
            start = max(0, self.total - plan.limit)
        else:
            start = plan.base
        return list(range(start, min(self.total, start + plan.limit)))

    def key(self, row: int) -> int:
        return row


class Paged(PagedTable[int]):
    columns = (Column("n", 10), Column("label", 0, 1))

    def cells(self, row: int):
        return [(str(row), ""), (f"row {row}", "")]


class TableApp(App):
    def __init__(self, table: RowTable) -> None:
        super().__init__()
        self.table = table

    def compose(self) -> ComposeResult:
        yield self.table


async def test_a_cursor_move_redraws_only_the_two_lines_it_touches():
    table = Numbers(500)
    async with TableApp(table).run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        table.focus()
        await settle(pilot)
        table.drawn = 0
        await pilot.press("down")
        await settle(pilot)
        assert table.cursor == 1
        assert table.drawn <= 2


async def test_lines_are_cached_and_widths_computed_once_per_width(monkeypatch):
    calls = []
    widths = row_table.column_widths
    monkeypatch.setattr(row_table, "column_widths", lambda *a: calls.append(a) or widths(*a))
    table = Numbers(500)
    async with TableApp(table).run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        for _ in range(3):
            await pilot.press("pagedown")
            await pilot.press("pageup")
        await settle(pilot)
        assert len({width for _, width in calls}) == len(calls)  # once per width
        assert len(table._lines) > 0
        await pilot.resize_terminal(100, 24)
        await settle(pilot)
        assert len({width for _, width in calls}) == len(calls) == 2


async def test_cells_are_shown_literally():
    table = Numbers(3)
    async with TableApp(table).run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        line = "".join(segment.text for segment in table.render_line(1))
        assert "row␛[2J0" in line and "\x1b" not in line


async def test_the_cursor_takes_its_colours_from_the_theme():
    table = Numbers(10)
    app = TableApp(table)
    async with app.run_test(size=(80, 24)) as pilot:
        table.focus()
        await settle(pilot)

        def cursor_background():
            return next(s.style.bgcolor for s in table.render_line(1) if s.text.strip())

        app.theme = "textual-dark"
        await settle(pilot)
        dark = cursor_background()
        assert dark == table.get_component_rich_style("row-table--cursor").bgcolor
        app.theme = "textual-light"
        await settle(pilot)
        assert cursor_background() != dark
        assert cursor_background() == table.get_component_rich_style("row-table--cursor").bgcolor


async def test_a_million_rows_open_and_end_with_a_few_queries_and_bounded_memory(fresh_db):
    """End on a million-row list fetches the last page alone; paging back keeps the rows held
    near the view."""
    source = Counting(MILLION)
    table = Paged(id="paged")
    async with TableApp(table).run_test(size=(80, 24)) as pilot:
        table.show(source)
        table.focus()
        await settle(pilot)
        assert table.total == MILLION and len(source.pages) == 1
        await pilot.press("end")
        await settle(pilot)
        assert table.current_row == MILLION - 1
        assert len(source.pages) == 2 and source.pages[-1].last
        for _ in range(30):
            await pilot.press("pageup")
        await settle(pilot)
        assert table.current_row == table.cursor  # every row on the way was fetched in order
        assert all(plan.before is not None for plan in source.pages[2:])  # by key, no scans
        assert len(table.rows) <= 2 * KEEP_ROWS + 200
        await pilot.press("home")
        await settle(pilot)
        assert table.current_row == 0


async def test_the_rows_on_screen_are_fetched_in_one_query(fresh_db):
    """A jump far from anything loaded fetches the whole view at once, not row by row."""
    source = Counting(10_000)
    table = Paged(id="paged")
    async with TableApp(table).run_test(size=(80, 40)) as pilot:
        table.show(source)
        table.focus()
        await settle(pilot)
        before = len(source.pages)
        table.scroll_to(y=5_000, animate=False, immediate=True)
        await settle(pilot)
        assert len(source.pages) == before + 1
        top = int(table.scroll_y)
        assert all(i in table.rows for i in range(top, top + table.page_height))


class SlowCount(Counting):
    """A source whose count waits until the test lets it go (a count slower than a page)."""

    def __init__(self, total: int) -> None:
        super().__init__(total)
        self.counts = 0
        self.go = threading.Event()

    def count(self) -> int:
        with self.lock:
            self.counts += 1
        assert self.go.wait(30), "the test never let the count go"
        return self.total


async def test_the_first_rows_show_before_the_list_is_counted(fresh_db):
    """A filter's first rows do not wait for its count: they show, the table says it is not
    counted yet (its screen shows no number), and the count fills in when it is ready."""
    from tests.pilot import wait_until

    source = SlowCount(MILLION)
    table = Paged(id="paged")
    counting = []

    class Watching(TableApp):
        def on_paged_table_counting(self, message: PagedTable.Counting) -> None:
            counting.append(message.table)

    async with Watching(table).run_test(size=(80, 24)) as pilot:
        table.show(source)
        table.focus()
        await wait_until(pilot, lambda: 0 in table.rows)
        await pilot.pause()
        assert not table.counted and table.total == len(table.rows) == 100
        assert table.cells_at(0) == [("0", ""), ("row 0", "")]
        assert counting == [table]
        source.go.set()
        await settle(pilot)
        assert table.counted and table.total == MILLION and table.rows[0] == 0
        assert len(source.pages) == 1


async def test_a_list_shorter_than_a_page_is_not_counted_apart(fresh_db):
    """A first page that is not full is the whole list: its length is the count."""
    source = SlowCount(42)
    table = Paged(id="paged")
    async with TableApp(table).run_test(size=(80, 24)) as pilot:
        table.show(source)
        await settle(pilot)
        assert table.counted and table.total == 42 and source.counts == 0
