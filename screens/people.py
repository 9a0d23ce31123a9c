"""People: leads and contacts, searchable by name, email or company, fetched as they are shown."""

from __future__ import annotations

from dataclasses import dataclass

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Header, Input, Static, TabbedContent, TabPane

from data.people import people_count, people_page
from data.sorting import Order
from data.text import counted
from screens.base import AppScreen
from tui_app.widgets.filter_box import FILTER_HINT, FilterProblems
from tui_app.widgets.footer import AppFooter
from tui_app.widgets.paged_table import PagedTable, Plan
from tui_app.widgets.row_table import Cell, Column

KINDS = ("lead", "contact")

PersonRow = tuple
"""(id, first, last, email, company, country, do_not_email, bounced, *sort key), as
`people_page` gives."""


def flags(do_not_email: bool, bounced: bool) -> Cell:
    """The reachability flags, red when set, so nobody emails a person who opted out."""
    if do_not_email:
        return ("do not email" + ("  bounced" if bounced else ""), "bold red")
    return ("bounced", "bold yellow") if bounced else ("", "")


@dataclass(frozen=True)
class People:
    """Leads or contacts matching a search, in `order` (by name unless told); keyed by the
    sort columns and the id."""

    kind: str
    search: str = ""
    order: Order = Order("name")

    def count(self) -> int:
        return people_count(self.kind, self.search)

    def page(self, plan: Plan) -> list[PersonRow]:
        return people_page(self.kind, self.search, order=self.order, **plan.arguments())

    def key(self, row: PersonRow) -> tuple:
        return tuple(row[8:])


class PeopleTable(PagedTable[PersonRow]):
    """Leads or contacts, one line each."""

    ORDERS = (("name", "Name"), ("email", "Email"))
    DEFAULT_ORDER = Order("name")
    NATURAL_ORDER = False

    columns = (
        Column("Name", 0, 3),
        Column("Email", 0, 4),
        Column("Company", 0, 2),
        Column("Country", 7),
        Column("Flags", 12),
    )

    def cells(self, row: PersonRow) -> list[Cell]:
        _, first, last, email, company, country, dne, bounced = row[:8]
        return [
            (f"{first} {last}".strip(), ""),
            (email, ""),
            (company or "", ""),
            (country or "", ""),
            flags(dne, bounced),
        ]

    def empty_note(self) -> str:
        if not self.counted:
            return ""
        return "Nobody matches the search." if self.source and self.source.search else "Nobody yet."


class PeopleScreen(AppScreen):
    """Find a lead or contact fast; enter opens the person."""

    DEFAULT_CSS = """
    PeopleScreen #people-filter { margin: 0 1; }
    PeopleScreen #people-tabs { height: 1fr; }
    PeopleScreen TabPane { padding: 0; }
    """

    BINDINGS = [
        Binding("escape", "back", "Back"),
        Binding("slash", "filter", "Search"),
        Binding("l", "kind('lead')", "Leads"),
        Binding("c", "kind('contact')", "Contacts"),
        Binding("k", "app.hot_list", "Hot list"),
        Binding("ctrl+o", "sort", "Sort", priority=True),
        Binding("enter", "open", "Open", show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.shown_before = False

    def compose(self) -> ComposeResult:
        yield Header()
        yield Input(placeholder=FILTER_HINT, id="people-filter")
        yield FilterProblems(id="people-problems")
        with TabbedContent(id="people-tabs"):
            for kind in KINDS:
                with TabPane(f"{kind.title()}s", id=f"{kind}-tab"):
                    yield PeopleTable(id=f"{kind}s")
        yield Static(id="people-hint", classes="hint")
        yield AppFooter()

    def on_mount(self) -> None:
        self.sub_title = "People"
        self.query_one("#leads").focus()
        self._search()

    def on_screen_resume(self) -> None:
        """Back from a person (who may have been converted or edited): the lists follow."""
        if self.shown_before:
            self.reload()
        self.shown_before = True

    def reread(self) -> None:
        """Someone wrote: count and fetch again, the cursor staying in place."""
        self.reload()

    @property
    def search(self) -> str:
        return self.query_one("#people-filter", Input).value.strip()

    def table(self, kind: str) -> PeopleTable:
        return self.query_one(f"#{kind}s", PeopleTable)

    def reload(self) -> None:
        for kind in KINDS:
            self.table(kind).reload()

    def _search(self, typed: bool = False) -> None:
        for kind in KINDS:
            table = self.table(kind)
            table.show(People(kind, self.search, table.order), typed=typed)

    @on(PagedTable.Counting)
    @on(PagedTable.Loaded)
    def _hint(self) -> None:
        counts = []
        for kind in KINDS:
            table = self.table(kind)
            counts.append(counted(table.total, kind) if table.counted else f"counting {kind}s…")
        found = " · ".join(counts) + (" match" if self.search else "")
        self.query_one("#people-hint", Static).update(
            found + "   / search · l leads · c contacts · enter opens"
        )

    @on(Input.Changed, "#people-filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        if self.query_one(FilterProblems).explain(event.value):
            self._search(typed=True)

    @on(Input.Submitted, "#people-filter")
    def _filter_done(self) -> None:
        """Enter leaves the search box; if only the other kind matches, show that kind."""
        table = self._active_table()
        other = "contact" if table.id == "leads" else "lead"
        if table.counted and not table.total and self.table(other).total:
            self.action_kind(other)
        else:
            table.focus()

    @on(TabbedContent.TabActivated, "#people-tabs")
    def _tab_changed(self) -> None:
        if self.focused is not self.query_one("#people-filter"):
            self._active_table().focus()

    @on(PagedTable.Selected)
    def _open(self, event: PagedTable.Selected) -> None:
        kind = (event.table.id or "").removesuffix("s")
        self.app.open_person(kind, event.row[0])

    def _active_table(self) -> PeopleTable:
        active = self.query_one("#people-tabs", TabbedContent).active
        return self.table(active.removesuffix("-tab"))

    def action_open(self) -> None:
        self._active_table().action_select()

    def action_kind(self, kind: str) -> None:
        self.query_one("#people-tabs", TabbedContent).active = f"{kind}-tab"
        self.table(kind).focus()

    def action_filter(self) -> None:
        self.query_one("#people-filter").focus()

    def action_sort(self) -> None:
        """Sort the list on show by its next column (or the other way)."""
        self._active_table().cycle_order()

    def action_back(self) -> None:
        if self.focused is self.query_one("#people-filter"):
            self._active_table().focus()
        else:
            self.app.pop_screen()
