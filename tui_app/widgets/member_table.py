"""The members of one campaign in one list view: a PagedTable over `data.members` pages."""

from __future__ import annotations

from dataclasses import dataclass

from data.members import Marked, MemberRow, member_count, member_page
from data.opportunities import OpportunityRow
from data.sorting import Order
from data.vocab import MemberView
from tui_app.widgets.formatting import STAGE_STYLES, STATUS_STYLES, day, money
from tui_app.widgets.paged_table import PagedTable, Plan
from tui_app.widgets.row_table import Cell, Column

COLUMNS = (
    Column("Name", 0, 3),
    Column("Type", 7, hide_below=100),
    Column("Email", 0, 4),
    Column("Company", 0, 2, hide_below=90),
    Column("Status", 12),
    Column("Added", 10, hide_below=100),
    Column("Opened", 10, hide_below=110),
    Column("Clicked", 10, hide_below=110),
    Column("Responded", 10, hide_below=110),
)
"""At 80 columns: name, email and status; the rest give way as the table narrows."""

DEAL_COLUMNS = (
    Column("Opportunity", 0, 4),
    Column("Amount", 13, justify="right"),
    Column("Stage", 13),
)
"""The Converted view's deal (`MemberRow.opportunity`), after the status."""

CONVERTED_COLUMNS = (
    Column("Name", 0, 3),
    Column("Type", 7, hide_below=150),
    Column("Email", 0, 4, hide_below=100),
    Column("Company", 0, 2, hide_below=150),
    Column("Status", 12),
    *DEAL_COLUMNS,
    Column("Added", 10, hide_below=170),
    Column("Opened", 10, hide_below=180),
    Column("Clicked", 10, hide_below=180),
    Column("Responded", 10, hide_below=180),
)
"""The Converted view: the deal takes the room the dates had. At 80 columns name, status and
the deal; at 120 the email too."""

MARKED_COLUMNS = (Column(" ", 1), *COLUMNS)
"""Once a row is marked: a mark column first."""

MARKED_CONVERTED_COLUMNS = (MARKED_COLUMNS[0], *CONVERTED_COLUMNS)

MARK: Cell = ("✓", "bold green")


def deal_cells(deal: OpportunityRow | None) -> list[Cell]:
    """A converted member's opportunity, amount and stage (dashes when it has none)."""
    if deal is None:
        return [("—", "dim"), ("—", "dim"), ("—", "dim")]
    return [
        (deal.name, ""),
        (money(deal.amount), ""),
        (deal.stage, STAGE_STYLES.get(deal.stage, "")),
    ]


class MemberMarks:
    """The rows marked in a member list: ids marked one by one, and, after "mark all matching",
    a view and filter standing for every member matching it, minus the ones unmarked since.
    Never the ids of every match: a filter stands for 200,000 members as well as for three."""

    def __init__(self) -> None:
        self.ids: set[int] = set()
        self.matching: tuple[str, str] | None = None
        """(view, filter) when every member matching it is marked."""
        self.except_ids: set[int] = set()
        self.count = 0
        """How many are marked (counted by the database once a filter stands for them)."""

    def __bool__(self) -> bool:
        return bool(self.ids) or self.matching is not None

    def is_marked(self, member_id: int) -> bool:
        """Whether a row of the list on screen is marked (with every match marked, the list on
        screen is that match: the marks are dropped when the view or the filter changes)."""
        if member_id in self.ids:
            return True
        return self.matching is not None and member_id not in self.except_ids

    def toggle(self, member_id: int) -> bool:
        """Mark or unmark a row of the list on screen; whether it is marked now."""
        marked = not self.is_marked(member_id)
        if self.matching is None:
            self.ids.symmetric_difference_update({member_id})
        elif marked:
            self.except_ids.discard(member_id)
        else:
            self.ids.discard(member_id)
            self.except_ids.add(member_id)
        self.count += 1 if marked else -1
        return marked

    def mark_matching(self, view: str, search: str) -> None:
        """Mark every member of the view matching the filter (counted afterwards)."""
        self.matching = (view, search)
        self.except_ids.clear()

    def clear(self) -> None:
        self.ids.clear()
        self.matching = None
        self.except_ids.clear()
        self.count = 0

    def marked(self, campaign_id: int) -> Marked:
        """The marks as the data layer takes them."""
        view, search = self.matching if self.matching is not None else (None, "")
        return Marked(campaign_id, frozenset(self.ids), view, search, frozenset(self.except_ids))


@dataclass(frozen=True)
class Members:
    """One campaign's members in one view, filtered by `search`, in `order`; keyed by member
    id (or, sorted, by the row's sort key)."""

    campaign_id: int
    view: str = "all"
    search: str = ""
    order: Order = Order()

    def count(self) -> int:
        return member_count(self.campaign_id, self.view, self.search)

    def page(self, plan: Plan) -> list[MemberRow]:
        return member_page(
            self.campaign_id, self.view, self.search, order=self.order, **plan.arguments()
        )

    def key(self, row: MemberRow):
        return row.key if self.order.column else row.id


class MemberTable(PagedTable[MemberRow]):
    """Members of one campaign in one list view, with a row cursor."""

    ORDERS = (
        ("name", "Name"),
        ("email", "Email"),
        ("status", "Status"),
        ("added", "Added"),
        ("opened", "Opened"),
    )

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.marks = MemberMarks()

    @property
    def columns(self) -> tuple[Column, ...]:  # type: ignore[override]
        if self.view == MemberView.CONVERTED:
            return MARKED_CONVERTED_COLUMNS if self.marks else CONVERTED_COLUMNS
        return MARKED_COLUMNS if self.marks else COLUMNS

    @property
    def campaign_id(self) -> int | None:
        return self.source.campaign_id if isinstance(self.source, Members) else None

    @property
    def view(self) -> str:
        return self.source.view if isinstance(self.source, Members) else "all"

    @property
    def search(self) -> str:
        return self.source.search if isinstance(self.source, Members) else ""

    def show_members(
        self, campaign_id: int, view: str = "all", search: str = "", *, typed: bool = False
    ) -> None:
        """Switch to a campaign's view and filter (keeping the order): from the first row
        (`typed`: the filter as it is typed, `PagedTable.show`)."""
        self.show(Members(campaign_id, view, search, self.order), typed=typed)

    def cells(self, row: MemberRow) -> list[Cell]:
        mark = [MARK if self.marks.is_marked(row.id) else ("", "")] if self.marks else []
        return mark + [
            (row.name, ""),
            (row.person_type, "dim"),
            (row.email, ""),
            (row.company, ""),
            (row.status, STATUS_STYLES.get(row.standing, "")),
            *(deal_cells(row.opportunity) if self.view == MemberView.CONVERTED else []),
            (day(row.added_at), ""),
            (day(row.first_opened_at), ""),
            (day(row.first_clicked_at), ""),
            (day(row.response_date), ""),
        ]

    def empty_note(self) -> str:
        if self.source is None or not self.counted:
            return ""
        if self.search.strip():
            return "No member matches the filter."
        if self.view == "all":
            return "No members yet: a adds people, t starts the campaign (enrolling its audience)."
        return "No members in this view."
