"""The virtual member table: rows are fetched by key, page by page, as the view scrolls.

Only the rows near what is on screen are ever held, so a million-member campaign opens and
scrolls like a hundred-member one. Rows are ordered by member id; a page is found from a
neighbouring row's id (keyset), from the first or last row, or, only when the scrollbar is
dragged far away from anything loaded, by position.
"""

from __future__ import annotations

from textual import on
from textual.geometry import Size
from textual.message import Message

from data.members import PAGE_SIZE, MemberRow, member_count, member_page
from tui_app.widgets.formatting import STATUS_STYLES, day
from tui_app.widgets.row_table import Cell, Column, RowTable
from tui_app.widgets.work import deliver, reads

KEEP_ROWS = 4 * PAGE_SIZE
"""Rows kept around the view; farther ones are dropped so memory stays flat."""

NEAR = 3 * PAGE_SIZE
"""A missing row this close to a loaded one is fetched by key from that row."""


COLUMNS = (
    Column("Name", 0, 3),
    Column("Type", 7),
    Column("Email", 0, 4),
    Column("Company", 0, 2),
    Column("Status", 12),
    Column("Added", 10),
    Column("Opened", 10),
    Column("Clicked", 10),
    Column("Responded", 10),
)


def _cells(row: MemberRow) -> list[Cell]:
    return [
        (row.name, ""),
        (row.person_type, "dim"),
        (row.email, ""),
        (row.company, ""),
        (row.status, STATUS_STYLES.get(row.status, "")),
        (day(row.added_at), ""),
        (day(row.first_opened_at), ""),
        (day(row.first_clicked_at), ""),
        (day(row.response_date), ""),
    ]


class MemberTable(RowTable):
    """Members of one campaign in one list view, with a row cursor."""

    columns = COLUMNS

    class Selected(Message):
        """Enter on a member row."""

        def __init__(self, row: MemberRow) -> None:
            super().__init__()
            self.row = row

    class Loaded(Message):
        """The count of the view is known (after a change of view, filter or data)."""

        def __init__(self, total: int) -> None:
            super().__init__()
            self.total = total

    class _Counted(Message):
        """The view's count and the rows from `base` (a fresh load)."""

        def __init__(self, generation: int, total: int, base: int, page: list[MemberRow]):
            super().__init__()
            self.generation, self.total, self.base, self.page = generation, total, base, page

    class _Fetched(Message):
        """One more page of rows from `base`."""

        def __init__(self, generation: int, base: int, page: list[MemberRow]) -> None:
            super().__init__()
            self.generation, self.base, self.page = generation, base, page

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.campaign_id: int | None = None
        self.view = "all"
        self.search = ""
        self.total = 0
        self.rows: dict[int, MemberRow] = {}
        self._pending: int | None = None
        self._generation = 0

    # what to show
    def show(self, campaign_id: int, view: str = "all", search: str = "") -> None:
        """Switch to a campaign's view and filter: start again from the first row."""
        self.campaign_id, self.view, self.search = campaign_id, view, search
        self._generation += 1
        self.rows = {}
        self.cursor = 0
        self.scroll_to(y=0, animate=False, immediate=True)
        self._load(self._generation, None, top=0)

    def reload(self) -> None:
        """The data changed: fetch the count and the rows on screen again, keeping the place."""
        if self.campaign_id is None:
            return
        top = int(self.scroll_y)
        anchor = self.rows.get(top - 1)
        self._generation += 1
        self._load(self._generation, anchor.id if anchor else None, top=top)

    @property
    def current_row(self) -> MemberRow | None:
        return self.rows.get(self.cursor)

    # loading
    @reads("member-rows")
    def _load(self, generation: int, anchor_id: int | None, top: int) -> None:
        """Count the view and fetch the rows from `top` (after the row `anchor_id`, if known)."""
        total = member_count(self.campaign_id, self.view, self.search)
        if anchor_id is not None:
            page = member_page(self.campaign_id, self.view, self.search, after=anchor_id)
            base = top
        elif top > 0:
            page = member_page(self.campaign_id, self.view, self.search, offset=top)
            base = top
        else:
            page = member_page(self.campaign_id, self.view, self.search)
            base = 0
        deliver(self, self._Counted(generation, total, base, page))

    @on(_Counted)
    def _loaded(self, message: _Counted) -> None:
        total, base, page = message.total, message.base, message.page
        if message.generation != self._generation:
            return
        self.total = total
        self.rows = {base + i: row for i, row in enumerate(page) if base + i < total}
        self.virtual_size = Size(self.scrollable_content_region.width, total + 1)
        self.cursor = min(self.cursor, max(0, total - 1))
        self.refresh()
        self.post_message(self.Loaded(total))

    def _plan(self, index: int) -> dict:
        """How to fetch the page holding row `index`: by a loaded neighbour's key if one is near."""
        if index < PAGE_SIZE:
            return {"base": 0}
        if index >= self.total - PAGE_SIZE:
            return {"last": True}
        if self.rows:
            near = min(self.rows, key=lambda k: abs(k - index))
            if 0 < index - near <= NEAR:
                limit = index - near + PAGE_SIZE
                return {"after": self.rows[near].id, "base": near + 1, "limit": limit}
            if 0 < near - index <= NEAR:
                limit = near - index + PAGE_SIZE
                return {"before": self.rows[near].id, "base": max(0, near - limit), "limit": limit}
        start = max(0, index - PAGE_SIZE // 2)
        return {"offset": start, "base": start}

    def _want(self, index: int) -> None:
        if self._pending is not None or self.campaign_id is None:
            return
        self._pending = index
        self._fetch(self._generation, self._plan(index))

    @reads("member-page")
    def _fetch(self, generation: int, plan: dict) -> None:
        base = plan.pop("base", None)
        page = member_page(self.campaign_id, self.view, self.search, **plan)
        if plan.get("last"):
            base = self.total - len(page)
        elif "before" in plan:
            base = base + plan["limit"] - len(page)
        self.post_message(self._Fetched(generation, base, page))

    @on(_Fetched)
    def _fetched(self, message: _Fetched) -> None:
        generation, base, page = message.generation, message.base, message.page
        wanted, self._pending = self._pending, None
        if generation != self._generation:
            return
        for i, row in enumerate(page):
            self.rows[base + i] = row
        self._trim()
        if wanted is not None and wanted not in self.rows and wanted < self.total:
            # the view shrank under us (another writer removed members): count again
            self.reload()
            return
        self.refresh()

    def _trim(self) -> None:
        if len(self.rows) <= KEEP_ROWS * 2:
            return
        middle = int(self.scroll_y) + self.page_height // 2
        self.rows = {k: v for k, v in self.rows.items() if abs(k - middle) <= KEEP_ROWS}

    # what RowTable draws
    def cells_at(self, index: int) -> list[Cell] | None:
        row = self.rows.get(index)
        if row is None:
            self.call_later(self._want, index)
            return None
        return _cells(row)

    def empty_note(self) -> str:
        if self.campaign_id is None:
            return ""
        if self.search.strip():
            return "No member matches the filter."
        if self.view == "all":
            return "No members yet: a adds people, t starts the campaign (enrolling its audience)."
        return "No members in this view."

    def action_select(self) -> None:
        row = self.current_row
        if row is not None:
            self.post_message(self.Selected(row))
