"""A light table drawn line by line (Textual's Line API): a header, rows of cells, a cursor.

Subclasses say how many rows there are and what the cells of one row are; rows not at hand
yet may be fetched when first drawn. Much lighter to mount than a DataTable."""

from __future__ import annotations

from dataclasses import dataclass

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import on
from textual.binding import Binding
from textual.geometry import Region
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.worker import Worker, WorkerState

from data.text import visible
from tui_app.widgets.messages import WorkFailed

Cell = tuple[str, str]
"""A cell: its text (always shown literally) and a Rich style."""


@dataclass(frozen=True)
class Column:
    title: str
    width: int  # 0: shares the remaining width by `weight`
    weight: int = 0
    justify: str = "left"


class RowTable(ScrollView, can_focus=True):
    """Rows with a cursor; ↑ ↓ PgUp PgDn Home End move it, enter selects."""

    DEFAULT_CSS = """
    RowTable {
        height: 1fr;
        overflow-x: hidden;
    }
    """

    BINDINGS = [
        Binding("up", "move(-1)", "Up", show=False),
        Binding("down", "move(1)", "Down", show=False),
        Binding("pageup", "page(-1)", "Page up", show=False),
        Binding("pagedown", "page(1)", "Page down", show=False),
        Binding("home", "first", "First", show=False),
        Binding("end", "last", "Last", show=False),
        Binding("enter", "select", "Open", show=False),
    ]

    cursor: reactive[int] = reactive(0, always_update=True)
    columns: tuple[Column, ...] = ()
    total = 0

    # what subclasses provide
    def cells_at(self, index: int) -> list[Cell] | None:
        """The cells of row `index`, or None when the row is not at hand (yet)."""
        raise NotImplementedError

    def empty_note(self) -> str:
        return ""

    def action_select(self) -> None:
        """Enter on the cursor row."""

    # geometry
    @property
    def page_height(self) -> int:
        return max(1, self.scrollable_content_region.height - 1)

    def _widths(self, width: int) -> list[int]:
        fixed = sum(c.width for c in self.columns) + len(self.columns) - 1 + 2
        spare = max(0, width - fixed)
        weights = sum(c.weight for c in self.columns) or 1
        widths, given = [], 0
        for column in self.columns:
            if column.width:
                widths.append(column.width)
            else:
                share = spare * column.weight // weights
                widths.append(max(4, share))
                given += share
        # hand any rounding remainder to the first flexible column
        flexible = next((i for i, c in enumerate(self.columns) if not c.width), 0)
        widths[flexible] += max(0, spare - given)
        return widths

    # drawing
    def _strip(self, cells: list[Cell], base: Style, width: int) -> Strip:
        segments = [Segment(" ", base)]
        for (value, style), column, w in zip(cells, self.columns, self._widths(width)):
            text = Text(visible(value), no_wrap=True, overflow="ellipsis", justify=column.justify)
            text.truncate(w, overflow="ellipsis")
            text.pad_left(w - text.cell_len) if column.justify == "right" else text.pad_right(
                w - text.cell_len
            )
            style_obj = base + Style.parse(style) if style else base
            segments.append(Segment(text.plain, style_obj))
            segments.append(Segment(" ", base))
        return Strip(segments).adjust_cell_length(width, base)

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        base = self.rich_style
        if not self.columns:
            return Strip.blank(width, base)
        if y == 0:
            header = Style(bold=True, underline=True) + base
            return self._strip([(c.title, "") for c in self.columns], header, width)
        index = int(self.scroll_y) + y - 1
        if index >= self.total:
            note = self.empty_note() if self.total == 0 and y == 2 else ""
            if note:
                return Strip([Segment(f" {note}", base + Style(dim=True))]).adjust_cell_length(
                    width, base
                )
            return Strip.blank(width, base)
        cells = self.cells_at(index)
        if cells is None:
            return self._strip([("…", "dim")] + [("", "")] * (len(self.columns) - 1), base, width)
        style = base
        if index == self.cursor:
            style = base + Style(reverse=True, bold=self.has_focus)
        return self._strip(cells, style, width)

    # cursor
    def watch_cursor(self, cursor: int) -> None:
        self.scroll_to_region(Region(0, cursor + 1, 1, 1), animate=False, immediate=True)
        self.refresh()

    def move_to(self, index: int) -> None:
        if self.total:
            self.cursor = max(0, min(self.total - 1, index))
            # keep the header line out of the way: the cursor row must sit below it
            if self.cursor < int(self.scroll_y):
                self.scroll_to(y=self.cursor, animate=False, immediate=True)

    def action_move(self, delta: int) -> None:
        self.move_to(self.cursor + delta)

    def action_page(self, direction: int) -> None:
        self.move_to(self.cursor + direction * self.page_height)

    def action_first(self) -> None:
        self.move_to(0)

    def action_last(self) -> None:
        self.move_to(self.total - 1)

    @on(Worker.StateChanged)
    def _worker_changed(self, event: Worker.StateChanged) -> None:
        """A worker's own message stops here: pass its failure up to the screen."""
        if event.state is WorkerState.ERROR and event.worker.error is not None:
            self.post_message(WorkFailed(event.worker.error))

    def on_focus(self) -> None:
        self.refresh()

    def on_blur(self) -> None:
        self.refresh()
