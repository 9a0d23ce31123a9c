"""A RowTable over a list too long to hold: rows are fetched page by page as they come into view.

Only the rows near what is on screen are ever held, so a million-row list opens and scrolls like
a hundred-row one. A `RowSource` says how to count the list and fetch a page of it; a page is
found from a neighbouring row's key (keyset), from the first or last row, or, only when the view
jumps far from anything loaded, by position. The members, people and picker lists all use it.

A list shown from its top draws its first page before it is counted (the count may take longer
than the page): until the count is in, the table is not `counted` and its screen says so
instead of a number.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, replace
from typing import Any, Generic, Protocol, TypeVar

from textual import on
from textual.message import Message
from textual.worker import get_current_worker

from data.sorting import Order, next_order
from tui_app.widgets.row_table import Cell, Column, RowTable
from tui_app.widgets.work import deliver, reads, waits

PAGE = 100
"""Rows fetched at a time."""

KEEP_ROWS = 4 * PAGE
"""Rows kept on each side of the view; farther ones are dropped so memory stays flat."""

NEAR = 3 * PAGE
"""A missing row this close to a loaded one is fetched by key from that row."""

SETTLE = 0.025
"""Seconds a list shown for text as it is typed waits for the next key before it asks the
database (a key typed sooner replaces it; at 10 keys a second each key still asks at once)."""

Row = TypeVar("Row")


@dataclass(frozen=True)
class Plan:
    """Which page to fetch: `limit` rows from `base` (the index of the first), found after the
    row keyed `after`, before the row keyed `before`, as the last rows, or at `base` by
    position (when no key is given)."""

    base: int
    limit: int = PAGE
    after: Any = None
    before: Any = None
    last: bool = False

    def arguments(self) -> dict[str, Any]:
        """The page as the keyword arguments of a keyed page function in `data` (`member_page`,
        `people_page`, `picker_page`): by key when one is given, else by position."""
        by_key = self.after is not None or self.before is not None or self.last
        return {
            "after": self.after,
            "before": self.before,
            "last": self.last,
            "limit": self.limit,
            "offset": 0 if by_key else self.base,
        }


class RowSource(Protocol[Row]):
    """A list the table shows: counted and paged on a worker thread (inside a connection). A
    list that sorts is a frozen dataclass with an `order` field (the table sorts it with
    `dataclasses.replace`); one without shows in its own order."""

    def count(self) -> int: ...

    def page(self, plan: Plan) -> list[Row]: ...

    def key(self, row: Row) -> Any:
        """The row's place in the list's order (what `after` and `before` take)."""
        ...


class PagedTable(RowTable, Generic[Row]):
    """Rows of a `RowSource`, fetched as they are drawn, with a row cursor."""

    class Selected(Message):
        """Enter on a row."""

        def __init__(self, table: PagedTable, row: Any) -> None:
            super().__init__()
            self.table = table
            self.row = row

        @property
        def control(self) -> PagedTable:
            return self.table

    class Loaded(Message):
        """The list was counted (after a change of source or of the data)."""

        def __init__(self, table: PagedTable, total: int) -> None:
            super().__init__()
            self.table = table
            self.total = total

        @property
        def control(self) -> PagedTable:
            return self.table

    class Counting(Message):
        """The list changed and is being counted (its first rows may show before the count)."""

        def __init__(self, table: PagedTable) -> None:
            super().__init__()
            self.table = table

        @property
        def control(self) -> PagedTable:
            return self.table

    class _FirstRows(Message):
        def __init__(self, generation: int, page: list) -> None:
            super().__init__()
            self.generation, self.page = generation, page

    class _Counted(Message):
        def __init__(self, generation: int, total: int, base: int, page: list | None) -> None:
            super().__init__()
            self.generation, self.total, self.base, self.page = generation, total, base, page

    class _Fetched(Message):
        def __init__(self, generation: int, base: int, page: list) -> None:
            super().__init__()
            self.generation, self.base, self.page = generation, base, page

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.source: RowSource | None = None
        self.total = 0
        self.counted = False
        """Whether the current source has been counted (until then the table is loading)."""
        self.rows: dict[int, Row] = {}
        self._pending: tuple[int, int] | None = None
        self._generation = 0

    ORDERS: tuple[tuple[str, str], ...] = ()
    """The columns the list sorts by, as (the data layer's order column, the header's title),
    in the order the sort key visits them."""

    DEFAULT_ORDER = Order()
    """The order the list first shows in."""

    NATURAL_ORDER = True
    """Whether the list has an order of its own before any column's (after the last column's,
    the sort key comes back to it)."""

    # what subclasses provide
    def cells(self, row: Row) -> list[Cell]:
        raise NotImplementedError

    # sorting
    @property
    def order(self) -> Order:
        return getattr(self.source, "order", self.DEFAULT_ORDER)

    def cycle_order(self) -> None:
        """Sort by the next column (or direction), from the first row."""
        if self.source is None or not self.ORDERS:
            return
        columns = tuple(column for column, _ in self.ORDERS)
        order = next_order(self.order, columns, self.NATURAL_ORDER)
        self.show(replace(self.source, order=order))  # type: ignore[type-var]

    def header_title(self, column: Column) -> str:
        """A sorted column's title carries an arrow that says which way. When that column gives
        way at this width, the first column's title says what the list is sorted by."""
        order = self.order
        sorted_by = dict(self.ORDERS).get(order.column) if order.column else None
        if sorted_by is None:
            return column.title
        if column.title == sorted_by:
            return f"{column.title} {order.arrow()}"
        width = self.scrollable_content_region.width
        shown = [c for c in self.columns if c.title.strip() and c.shown_at(width)]
        if shown and column is shown[0] and all(c.title != sorted_by for c in shown):
            return f"{column.title} · by {sorted_by} {order.arrow()}"
        return column.title

    # what to show
    def show(self, source: RowSource, *, typed: bool = False) -> None:
        """Show another list (or the same one filtered otherwise): from its first row.
        `typed`: for text being typed, so the query for the text before is stopped at once
        (in the database) and this one waits `SETTLE` for a next key."""
        self.source = source
        self._generation += 1
        self.rows = {}
        self.counted = False
        self._pending = None
        self.cursor = 0
        self.scroll_to(y=0, animate=False, immediate=True)
        self.refresh()  # the header may mark another order
        self.post_message(self.Counting(self))
        if typed:
            for group in ("table-count", "table-page"):
                self.workers.cancel_group(self, group)
            self._settle(self._generation, source)
        else:
            self._load(self._generation, source, None, 0)

    @waits("table-settle")
    async def _settle(self, generation: int, source: RowSource) -> None:
        """Ask for a typed text's list unless another key comes within `SETTLE`."""
        await asyncio.sleep(SETTLE)
        if generation == self._generation:
            self._load(generation, source, None, 0)

    def reload(self) -> None:
        """The data changed: count again and fetch the rows on screen, keeping the place."""
        if self.source is None:
            return
        top = int(self.scroll_y)
        anchor = self.rows.get(top - 1)
        self._generation += 1
        self._pending = None
        key = self.source.key(anchor) if anchor is not None else None
        self._load(self._generation, self.source, key, top)

    @property
    def current_row(self) -> Row | None:
        return self.rows.get(self.cursor)

    # loading
    @reads("table-count")
    def _load(self, generation: int, source: RowSource, anchor: Any, top: int) -> None:
        """Fetch the rows from `top` (after the row keyed `anchor`, if any) and count the list.
        From the top, the first page goes first: a short one is the whole list (no count
        needed), a full one shows while the list is counted."""
        if anchor is None and top == 0:
            page = source.page(Plan(base=0))
            if len(page) < PAGE:
                deliver(self, self._Counted(generation, len(page), 0, page))
                return
            deliver(self, self._FirstRows(generation, page))
            if get_current_worker().is_cancelled:  # the list changed again meanwhile
                return
            deliver(self, self._Counted(generation, source.count(), 0, None))
            return
        total = source.count()
        plan = Plan(base=top, after=anchor)
        if anchor is None and top >= total:
            plan = Plan(base=0)
        deliver(self, self._Counted(generation, total, plan.base, source.page(plan)))

    @on(_FirstRows)
    def _first_rows(self, message: _FirstRows) -> None:
        message.stop()
        if message.generation != self._generation:
            return
        self.rows = dict(enumerate(message.page))
        if not self.counted:  # until the count is in, the list is as long as what is at hand
            self.set_total(len(message.page))
        self.cursor = min(self.cursor, max(0, self.total - 1))
        self.rows_changed()

    @on(_Counted)
    def _counted(self, message: _Counted) -> None:
        message.stop()
        if message.generation != self._generation:
            return
        self.counted = True
        if message.page is not None:
            self.rows = {message.base + i: row for i, row in enumerate(message.page)}
        self.rows = {i: row for i, row in self.rows.items() if i < message.total}
        self.set_total(message.total)
        self.cursor = min(self.cursor, max(0, message.total - 1))
        self.rows_changed()
        self.post_message(self.Loaded(self, message.total))

    def _plan(self, first: int, last: int) -> Plan:
        """How to fetch the rows `first`..`last`: by a loaded neighbour's key if one is near."""
        if first < PAGE:
            return Plan(base=0, limit=max(PAGE, last + 1))
        if last >= self.total - PAGE:
            limit = max(PAGE, self.total - first)
            return Plan(base=self.total - limit, limit=limit, last=True)
        assert self.source is not None
        if self.rows:
            near = min(self.rows, key=lambda k: abs(k - first))
            if 0 < first - near <= NEAR:
                limit = last - near + PAGE // 2
                return Plan(base=near + 1, limit=limit, after=self.source.key(self.rows[near]))
            near = min(self.rows, key=lambda k: abs(k - last))
            if 0 < near - last <= NEAR:
                limit = near - first + PAGE // 2
                base = max(0, near - limit)
                return Plan(base=base, limit=near - base, before=self.source.key(self.rows[near]))
        start = max(0, first - PAGE // 2)
        return Plan(base=start, limit=max(PAGE, last - start + PAGE // 2))

    def prefetch(self, first: int, last: int) -> None:
        """Fetch, in one query, whatever rows of the view are missing (one fetch at a time)."""
        if self.source is None or not self.counted or self._pending is not None:
            return
        missing = [i for i in range(first, last + 1) if i not in self.rows]
        if missing:
            self._pending = (missing[0], missing[-1])
            self._fetch(self._generation, self.source, self._plan(missing[0], missing[-1]))

    @reads("table-page")
    def _fetch(self, generation: int, source: RowSource, plan: Plan) -> None:
        page = source.page(plan)
        base = plan.base
        if plan.last or plan.before is not None:  # a short page ends where it was asked to
            base = plan.base + plan.limit - len(page)
        self.post_message(self._Fetched(generation, base, page))

    @on(_Fetched)
    def _fetched(self, message: _Fetched) -> None:
        message.stop()
        wanted, self._pending = self._pending, None
        if message.generation != self._generation:
            return
        for i, row in enumerate(message.page):
            if 0 <= message.base + i < self.total:
                self.rows[message.base + i] = row
        self._trim()
        if wanted is not None and any(
            i not in self.rows for i in range(wanted[0], min(wanted[1] + 1, self.total))
        ):
            # the list shrank under us (another writer removed rows): count again
            self.reload()
            return
        self.rows_changed()

    def _trim(self) -> None:
        if len(self.rows) <= KEEP_ROWS * 2:
            return
        middle = int(self.scroll_y) + self.page_height // 2
        self.rows = {k: v for k, v in self.rows.items() if abs(k - middle) <= KEEP_ROWS}

    # what RowTable draws
    def cells_at(self, index: int) -> list[Cell] | None:
        row = self.rows.get(index)
        return None if row is None else self.cells(row)

    def action_select(self) -> None:
        row = self.current_row
        if row is not None:
            self.post_message(self.Selected(self, row))
