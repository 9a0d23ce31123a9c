"""The one table for every long list: a header, rows of cells, a cursor, drawn line by line.

Textual's Line API over a ScrollView, as toolong draws its logs: only the lines on screen are
rendered, each rendered row is kept in an LRU cache of strips, column widths are computed once
per width, a cursor move redraws the two lines it touches, and `render_lines` tells the
subclass which rows are about to be drawn (so a paged table fetches them in one go). Colours
come from COMPONENT_CLASSES, so themes apply. Every cell is untrusted text: shown `visible`,
never read as markup. Subclasses say how many rows there are and what one row's cells are."""

from __future__ import annotations

from dataclasses import dataclass

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import on
from textual.binding import Binding
from textual.cache import LRUCache
from textual.geometry import Region, Size
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.worker import Worker, WorkerState

from data.text import visible
from tui_app.widgets.messages import WorkFailed

Cell = tuple[str, str]
"""A cell: its text (always shown literally) and a Rich style ("" for none)."""

CACHED_LINES = 400
"""Rendered rows kept (a few screens' worth at any width)."""


@dataclass(frozen=True)
class Column:
    title: str
    width: int  # 0: shares the remaining width by `weight`
    weight: int = 0
    justify: str = "left"
    hide_below: int = 0
    """The column gives way (is not shown) in a table narrower than this."""

    def shown_at(self, width: int) -> bool:
        return width >= self.hide_below


def column_widths(columns: tuple[Column, ...], width: int) -> list[int]:
    """Each column's width in `width` cells (0 for a column that gives way): fixed ones as
    given, the rest share what is left by weight (at least 4 each); one space between columns
    and at each edge."""
    shown = iter(_shared_widths(tuple(c for c in columns if c.shown_at(width)), width))
    return [next(shown) if c.shown_at(width) else 0 for c in columns]


def _shared_widths(columns: tuple[Column, ...], width: int) -> list[int]:
    fixed = sum(c.width for c in columns) + len(columns) - 1 + 2
    spare = max(0, width - fixed)
    weights = sum(c.weight for c in columns) or 1
    widths, given = [], 0
    for column in columns:
        if column.width:
            widths.append(column.width)
        else:
            share = spare * column.weight // weights
            widths.append(max(4, share))
            given += share
    # hand any rounding remainder to the first flexible column
    flexible = next((i for i, c in enumerate(columns) if not c.width), 0)
    widths[flexible] += max(0, spare - given)
    return widths


class RowTable(ScrollView, can_focus=True):
    """Rows with a cursor; ↑ ↓ PgUp PgDn Home End move it, enter selects."""

    COMPONENT_CLASSES = {
        "row-table--header",
        "row-table--cursor",
        "row-table--cursor-blurred",
        "row-table--pending",
        "row-table--note",
    }

    DEFAULT_CSS = """
    RowTable {
        height: 1fr;
        overflow-x: hidden;
        & > .row-table--header { text-style: bold underline; }
        & > .row-table--cursor {
            background: $block-cursor-background;
            color: $block-cursor-foreground;
            text-style: $block-cursor-text-style;
        }
        & > .row-table--cursor-blurred {
            background: $block-cursor-blurred-background;
            color: $block-cursor-blurred-foreground;
            text-style: $block-cursor-blurred-text-style;
        }
        & > .row-table--pending { color: $text-muted; }
        & > .row-table--note { color: $text-muted; }
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

    cursor: reactive[int] = reactive(0, always_update=True, repaint=False)
    columns: tuple[Column, ...] = ()
    total = 0

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._lines: LRUCache[tuple, Strip] = LRUCache(CACHED_LINES)
        self._widths: tuple[int, tuple[Column, ...], list[int]] | None = None

    # what subclasses provide
    def cells_at(self, index: int) -> list[Cell] | None:
        """The cells of row `index`, or None when the row is not at hand (yet)."""
        raise NotImplementedError

    def prefetch(self, first: int, last: int) -> None:
        """Rows `first`..`last` (inclusive) are about to be drawn: fetch any not at hand."""

    def empty_note(self) -> str:
        return ""

    def header_title(self, column: Column) -> str:
        """What the header shows above a column."""
        return column.title

    def action_select(self) -> None:
        """Enter on the cursor row."""

    # what subclasses call when their rows change
    def set_total(self, total: int) -> None:
        """The number of rows; the scrollable height follows (one line for the header)."""
        self.total = total
        self.virtual_size = Size(self.scrollable_content_region.width, total + 1)

    def rows_changed(self) -> None:
        """Any row may read differently now: draw them all again."""
        self._lines.clear()
        self.refresh()

    def row_changed(self, index: int) -> None:
        """Row `index` reads differently now: draw that line again."""
        for key in [k for k in self._lines.keys() if k[0] == index]:
            self._lines.discard(key)
        self.refresh_line(index + 1)

    # geometry
    @property
    def page_height(self) -> int:
        return max(1, self.scrollable_content_region.height - 1)

    def widths(self, width: int) -> list[int]:
        """Column widths for `width`, computed once per width and set of columns."""
        if self._widths is None or self._widths[:2] != (width, self.columns):
            self._widths = (width, self.columns, column_widths(self.columns, width))
        return self._widths[2]

    def on_resize(self) -> None:
        self._lines.clear()
        self.virtual_size = Size(self.scrollable_content_region.width, self.total + 1)

    def notify_style_update(self) -> None:
        """The theme or the styles changed: the cached lines have the old colours."""
        super().notify_style_update()
        self._lines.clear()

    # drawing
    def _strip(self, cells: list[Cell], base: Style, width: int, header: bool = False) -> Strip:
        segments = [Segment(" ", base)]
        for (value, style), column, w in zip(cells, self.columns, self.widths(width)):
            if not w:  # the column gives way at this width
                continue
            text = Text(visible(value), no_wrap=True, overflow="ellipsis")
            text.truncate(w, overflow="ellipsis")
            if column.justify == "right":
                text.pad_left(w - text.cell_len)
            else:
                text.pad_right(w - text.cell_len)
            cell_style = base + Style.parse(style) if style and not header else base
            segments.append(Segment(text.plain, cell_style))
            segments.append(Segment(" ", base))
        return Strip(segments).adjust_cell_length(width, base)

    def render_lines(self, crop: Region) -> list[Strip]:
        """Tell the subclass which rows are about to be drawn, then draw them."""
        top = int(self.scroll_y)
        first = top + max(0, crop.y - 1)
        last = min(self.total - 1, top + crop.y + crop.height - 2)
        if self.total and last >= first:
            self.prefetch(first, last)
        return super().render_lines(crop)

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        base = self.rich_style
        if not self.columns:
            return Strip.blank(width, base)
        if y == 0:
            header = base + self.get_component_rich_style("row-table--header", partial=True)
            titles = [(self.header_title(c), "") for c in self.columns]
            return self._strip(titles, header, width, header=True)
        index = int(self.scroll_y) + y - 1
        if index >= self.total:
            note = self.empty_note() if self.total == 0 and y == 2 else ""
            if note:
                style = base + self.get_component_rich_style("row-table--note", partial=True)
                return Strip([Segment(f" {note}", style)]).adjust_cell_length(width, base)
            return Strip.blank(width, base)
        at_cursor = index == self.cursor
        key = (index, at_cursor, at_cursor and self.has_focus, width)
        cached = self._lines.get(key)
        if cached is not None:
            return cached
        cells = self.cells_at(index)
        if cells is None:  # not fetched yet: a placeholder, not cached
            pending = base + self.get_component_rich_style("row-table--pending", partial=True)
            blank = [("…", "")] + [("", "")] * (len(self.columns) - 1)
            return self._strip(blank, pending, width)
        style = base
        if at_cursor:
            name = "row-table--cursor" if self.has_focus else "row-table--cursor-blurred"
            style = base + self.get_component_rich_style(name, partial=True)
        strip = self._strip(cells, style, width)
        self._lines[key] = strip
        return strip

    # cursor
    def watch_cursor(self, old: int, cursor: int) -> None:
        top = int(self.scroll_y)
        if top <= cursor < top + self.page_height:  # on screen already: redraw two lines
            self.refresh_line(old + 1)
            self.refresh_line(cursor + 1)
        else:
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

    def on_focus(self) -> None:
        self.refresh_line(self.cursor + 1)

    def on_blur(self) -> None:
        self.refresh_line(self.cursor + 1)

    @on(Worker.StateChanged)
    def _worker_changed(self, event: Worker.StateChanged) -> None:
        """A worker's own message stops here: pass its failure up to the screen."""
        if event.state is WorkerState.ERROR and event.worker.error is not None:
            self.post_message(WorkFailed(event.worker.error))
