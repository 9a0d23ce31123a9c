"""A person's activity across every campaign, newest first, page by page (`engaged`)."""

from __future__ import annotations

from dataclasses import dataclass

from data.engaged import Activity, timeline_count, timeline_page
from tui_app.widgets.paged_table import PagedTable, Plan
from tui_app.widgets.row_table import Cell, Column


@dataclass(frozen=True)
class ActivitySource:
    """The events of these memberships (one person's), newest first."""

    member_ids: tuple[int, ...]

    def count(self) -> int:
        return timeline_count(list(self.member_ids))

    def page(self, plan: Plan) -> list[Activity]:
        if plan.after is not None:
            return timeline_page(list(self.member_ids), after=plan.after, limit=plan.limit)
        return timeline_page(list(self.member_ids), limit=plan.limit, offset=plan.base)

    def key(self, row: Activity):
        return (row.at, row.id)


WHAT_STYLES = {"click": "bold", "respond": "bold green", "status": "bold green", "convert": "green"}


class ActivityTable(PagedTable[Activity]):
    """When, campaign, what, and the content as words."""

    columns = (
        Column("When", 10),
        Column("Campaign", 0, 2, hide_below=60),
        Column("What", 12),
        Column("Content", 0, 3),
    )

    def cells(self, row: Activity) -> list[Cell]:
        return [
            (row.at.strftime("%Y-%m-%d"), "dim"),
            (row.campaign, ""),
            (row.what, WHAT_STYLES.get(row.type, "")),
            (row.content or "—", "" if row.content else "dim"),
        ]
