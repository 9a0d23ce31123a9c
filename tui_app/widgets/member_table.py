"""The members of one campaign in one list view: a PagedTable over `data.members` pages."""

from __future__ import annotations

from dataclasses import dataclass

from data.members import MemberRow, member_count, member_page
from tui_app.widgets.formatting import STATUS_STYLES, day
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


@dataclass(frozen=True)
class Members:
    """One campaign's members in one view, filtered by `search`; keyed by member id."""

    campaign_id: int
    view: str = "all"
    search: str = ""

    def count(self) -> int:
        return member_count(self.campaign_id, self.view, self.search)

    def page(self, plan: Plan) -> list[MemberRow]:
        where = {"after": plan.after, "before": plan.before, "last": plan.last}
        if plan.after is None and plan.before is None and not plan.last:
            where["offset"] = plan.base
        return member_page(self.campaign_id, self.view, self.search, limit=plan.limit, **where)

    def key(self, row: MemberRow) -> int:
        return row.id


class MemberTable(PagedTable[MemberRow]):
    """Members of one campaign in one list view, with a row cursor."""

    columns = COLUMNS

    @property
    def campaign_id(self) -> int | None:
        return self.source.campaign_id if isinstance(self.source, Members) else None

    @property
    def view(self) -> str:
        return self.source.view if isinstance(self.source, Members) else "all"

    @property
    def search(self) -> str:
        return self.source.search if isinstance(self.source, Members) else ""

    def show_members(self, campaign_id: int, view: str = "all", search: str = "") -> None:
        """Switch to a campaign's view and filter: start again from the first row."""
        self.show(Members(campaign_id, view, search))

    def cells(self, row: MemberRow) -> list[Cell]:
        return [
            (row.name, ""),
            (row.person_type, "dim"),
            (row.email, ""),
            (row.company, ""),
            (row.status, STATUS_STYLES.get(row.standing, "")),
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
