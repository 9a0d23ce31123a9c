"""The hot list: a view of People ranked by engagement score, a rep's call list for today.

People not converted and not suppressed, best score first, each with their last touch and what
it was about (`engaged.hot_list`), narrowed by the filter language; enter opens the person."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Header, Input, Static

from data.engaged import HotPerson, hot_list, when
from data.filters import parse_filter
from data.text import counted
from screens.base import AppScreen
from tui_app.widgets.filter_box import FILTER_HINT, FilterProblems
from tui_app.widgets.footer import AppFooter
from tui_app.widgets.paged_table import PagedTable, Plan
from tui_app.widgets.row_table import Cell, Column

HOT_ROWS = 200
"""The call list is the best 200: nobody calls further down in a day."""

TOUCH_WORDS = {
    "open": "opened",
    "click": "clicked",
    "respond": "responded",
    "convert": "converted",
}


@dataclass(frozen=True)
class HotPeople:
    """The hot list under a filter, at the app's clock."""

    filter_text: str
    now: datetime

    def _all(self) -> list[HotPerson]:
        return hot_list(self.now, limit=HOT_ROWS, filter_text=self.filter_text)

    def count(self) -> int:
        return len(self._all())

    def page(self, plan: Plan) -> list[HotPerson]:
        return self._all()[plan.base : plan.base + plan.limit]

    def key(self, row: HotPerson):
        return (row.kind, row.id)


class HotTable(PagedTable[HotPerson]):
    """Score, who, and their last touch in words."""

    columns = (
        Column("Score", 5, justify="right"),
        Column("Name", 0, 2),
        Column("Company", 0, 2, hide_below=100),
        Column("Last touch", 0, 4),
        Column("When", 12),
    )

    now: datetime | None = None

    def cells(self, row: HotPerson) -> list[Cell]:
        touch = TOUCH_WORDS.get(row.last_type, row.last_type)
        if row.content:
            touch += f" ‘{row.content}’"
        if row.campaign:
            touch += f" · {row.campaign}"
        ago = when(row.last_touch, self.now) if row.last_touch and self.now else ""
        return [
            (str(row.score), "bold green" if row.score >= 50 else "bold"),
            (row.name, ""),
            (row.company, "dim"),
            (touch, ""),
            (ago, "dim"),
        ]

    def empty_note(self) -> str:
        if not self.counted:
            return ""
        return "Nobody matches the filter." if self.source else "Nobody engaged yet."


class HotListScreen(AppScreen):
    """Who to call today: people by engagement score, filterable; enter opens the person."""

    DEFAULT_CSS = """
    HotListScreen #hot-filter { margin: 0 1; }
    HotListScreen #hot { height: 1fr; }
    """

    BINDINGS = [
        Binding("escape", "back", "Back"),
        Binding("slash", "filter", "Filter"),
        Binding("enter", "open", "Open", show=False),
    ]

    def compose(self) -> ComposeResult:
        yield Header()
        yield Input(placeholder=FILTER_HINT, id="hot-filter")
        yield FilterProblems(id="hot-problems")
        yield HotTable(id="hot")
        yield Static(id="hot-hint", classes="hint")
        yield AppFooter()

    def on_mount(self) -> None:
        self.sub_title = "People — hot list"
        table = self.query_one(HotTable)
        table.now = self.app.now()
        table.focus()
        table.show(HotPeople("", table.now))

    def on_data_changed(self, _message) -> None:
        self.query_one(HotTable).reload()

    @on(PagedTable.Loaded, "#hot")
    def _counted(self, message: PagedTable.Loaded) -> None:
        shown = counted(message.total, "person", "people")
        if message.total >= HOT_ROWS:
            shown = f"the best {HOT_ROWS}"
        self.query_one("#hot-hint", Static).update(
            f"{shown}, not converted and not suppressed, best engagement score first · "
            "/ filters · enter opens"
        )

    @on(Input.Changed, "#hot-filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        problems = self.query_one(FilterProblems)
        problems.explain(event.value)
        if parse_filter(event.value).problems:
            return  # an unreadable term keeps the rows there were
        table = self.query_one(HotTable)
        table.show(HotPeople(event.value.strip(), table.now or self.app.now()))

    @on(Input.Submitted, "#hot-filter")
    def _filter_done(self) -> None:
        self.query_one(HotTable).focus()

    @on(PagedTable.Selected, "#hot")
    def _open(self, event: PagedTable.Selected) -> None:
        self.app.open_person(event.row.kind, event.row.id)

    def action_open(self) -> None:
        self.query_one(HotTable).action_select()

    def action_filter(self) -> None:
        self.query_one("#hot-filter").focus()

    def action_back(self) -> None:
        if self.focused is self.query_one("#hot-filter"):
            self.query_one(HotTable).focus()
        else:
            self.app.pop_screen()
