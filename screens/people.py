"""People: leads and contacts, searchable by name, email or company, loaded page by page."""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.widgets import DataTable, Footer, Header, Input, Static, TabbedContent, TabPane
from textual.widgets.data_table import RowDoesNotExist

from data.people import PAGE_SIZE, people_page, person_model
from screens.base import AppScreen
from tui_app.widgets.formatting import literal
from tui_app.widgets.work import deliver, reads

KINDS = ("lead", "contact")

PEOPLE_COLUMNS = (("Name", 24), ("Email", 36), ("Company", 20), ("Country", 7), ("Flags", 20))

NEAR_END = 10
"""Rows from the bottom at which the next page is fetched, so scrolling never waits."""


def flags(do_not_email: bool, bounced: bool) -> Text:
    """The reachability flags, red when set, so nobody emails a person who opted out."""
    text = Text()
    if do_not_email:
        text.append("do not email", style="bold red")
    if bounced:
        text.append(("  " if do_not_email else "") + "bounced", style="bold yellow")
    return text


class PeopleScreen(AppScreen):
    """Find a lead or contact fast; enter opens the person."""

    class Page(Message):
        """A page of one kind's list (`fresh`: from the top, replacing what shows)."""

        def __init__(self, kind, rows, fresh: bool, limit: int, total: int | None) -> None:
            super().__init__()
            self.kind, self.rows, self.fresh, self.limit, self.total = (
                kind,
                rows,
                fresh,
                limit,
                total,
            )

    DEFAULT_CSS = """
    PeopleScreen #people-filter { margin: 0 1; }
    PeopleScreen #people-tabs { height: 1fr; }
    PeopleScreen TabPane { padding: 0; }
    PeopleScreen DataTable { height: 1fr; }
    """

    BINDINGS = [
        Binding("escape", "back", "Back"),
        Binding("slash", "filter", "Search"),
        Binding("l", "kind('lead')", "Leads"),
        Binding("c", "kind('contact')", "Contacts"),
        Binding("enter", "open", "Open", show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.last_key: dict[str, tuple | None] = dict.fromkeys(KINDS)
        self.more: dict[str, bool] = dict.fromkeys(KINDS, False)
        self.totals: dict[str, int] = dict.fromkeys(KINDS, 0)
        self.pending: set[str] = set()

    def compose(self) -> ComposeResult:
        yield Header()
        yield Input(placeholder="Search name, email or company  ( / )", id="people-filter")
        with TabbedContent(id="people-tabs"):
            for kind in KINDS:
                with TabPane(f"{kind.title()}s", id=f"{kind}-tab"):
                    table = DataTable(id=f"{kind}s", cursor_type="row", zebra_stripes=True)
                    # fixed widths: automatic ones are set when the table is idle
                    for title, width in PEOPLE_COLUMNS:
                        table.add_column(title, width=width)
                    yield table
        yield Static(id="people-hint", classes="hint")
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = "People"
        self.query_one("#leads").focus()

    def on_screen_resume(self) -> None:
        """Shown first, or back from a person (who may have been converted or edited)."""
        self.reload(keep=True)

    def on_data_changed(self, _message) -> None:
        """Someone wrote: fetch again as many rows as are shown, so the cursor stays put."""
        self.reload(keep=True)

    @property
    def search(self) -> str:
        return self.query_one("#people-filter", Input).value.strip()

    def reload(self, keep: bool) -> None:
        for kind in KINDS:
            shown = self.query_one(f"#{kind}s", DataTable).row_count if keep else 0
            self.pending.add(kind)
            self._load(kind, self.search, None, max(PAGE_SIZE, shown))

    def _load(self, kind: str, search: str, after: tuple | None, limit: int = PAGE_SIZE) -> None:
        loader = self._load_lead if kind == "lead" else self._load_contact
        loader(search, after, limit)

    # one exclusive group per kind: typing on cancels that kind's stale query, not the other's
    @reads("people-lead")
    def _load_lead(self, search: str, after: tuple | None, limit: int) -> None:
        self._fetch("lead", search, after, limit)

    @reads("people-contact")
    def _load_contact(self, search: str, after: tuple | None, limit: int) -> None:
        self._fetch("contact", search, after, limit)

    def _fetch(self, kind: str, search: str, after: tuple | None, limit: int) -> None:
        rows = people_page(kind, search, after=after, limit=limit)
        total = person_model(kind).select().count() if after is None else None
        deliver(self, self.Page(kind, rows, after is None, limit, total))

    @on(Page)
    def _show(self, message: Page) -> None:
        kind, rows, fresh, limit, total = (
            message.kind,
            message.rows,
            message.fresh,
            message.limit,
            message.total,
        )
        table = self.query_one(f"#{kind}s", DataTable)
        if fresh:
            keep_key = self._cursor_key(table)
            keep_row = table.cursor_row
            table.clear()
        for pid, first, last, email, company, country, dne, bounced in rows:
            table.add_row(
                literal(f"{first} {last}".strip(), no_wrap=True, overflow="ellipsis"),
                literal(email),
                literal(company or ""),
                literal(country or ""),
                flags(dne, bounced),
                key=str(pid),
            )
        if rows:
            _, first, last, *_ = rows[-1]
            self.last_key[kind] = (last, first, rows[-1][0])
        self.more[kind] = len(rows) == limit
        if total is not None:
            self.totals[kind] = total
        if fresh and table.row_count:
            self._restore_cursor(table, keep_key, keep_row)
        self.pending.discard(kind)
        self._hint()

    @staticmethod
    def _cursor_key(table: DataTable) -> str | None:
        if not table.row_count:
            return None
        return table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value

    @staticmethod
    def _restore_cursor(table: DataTable, key: str | None, row: int) -> None:
        """Back on the same person if still listed, else on the same line."""
        try:
            row = table.get_row_index(key) if key is not None else row
        except RowDoesNotExist:
            pass
        table.move_cursor(row=min(row, table.row_count - 1), animate=False)

    def _hint(self) -> None:
        parts = []
        for kind in KINDS:
            shown = self.query_one(f"#{kind}s", DataTable).row_count
            total = f"{self.totals[kind]:,} {kind}s"
            if not self.search:
                parts.append(total)
            elif self.more[kind]:
                parts.append(f"{shown:,}+ of {total} match")
            else:
                parts.append(f"{shown:,} of {total} match")
        self.query_one("#people-hint", Static).update(
            " · ".join(parts) + "   / search · l leads · c contacts · enter opens"
        )

    @on(Input.Changed, "#people-filter")
    def _filter_changed(self) -> None:
        self.reload(keep=False)

    @on(Input.Submitted, "#people-filter")
    def _filter_done(self) -> None:
        """Enter leaves the search box; if only the other kind matches, show that kind."""
        table = self._active_table()
        other = "contact" if table.id == "leads" else "lead"
        if not table.row_count and self.query_one(f"#{other}s", DataTable).row_count:
            self.action_kind(other)
        else:
            table.focus()

    @on(TabbedContent.TabActivated, "#people-tabs")
    def _tab_changed(self) -> None:
        if self.focused is not self.query_one("#people-filter"):
            self._active_table().focus()

    @on(DataTable.RowHighlighted)
    def _maybe_more(self, event: DataTable.RowHighlighted) -> None:
        table = event.data_table
        kind = table.id.removesuffix("s")
        if (
            kind not in self.pending
            and self.more[kind]
            and event.cursor_row >= table.row_count - NEAR_END
        ):
            self.pending.add(kind)
            self._load(kind, self.search, self.last_key[kind])

    @on(DataTable.RowSelected)
    def _open(self, event: DataTable.RowSelected) -> None:
        kind = event.data_table.id.removesuffix("s")
        self.app.open_person(kind, int(event.row_key.value))

    def _active_table(self) -> DataTable:
        active = self.query_one("#people-tabs", TabbedContent).active
        return self.query_one(f"#{active.removesuffix('-tab')}s", DataTable)

    def action_open(self) -> None:
        table = self._active_table()
        if table.row_count:
            kind = table.id.removesuffix("s")
            self.app.open_person(kind, int(self._cursor_key(table)))

    def action_kind(self, kind: str) -> None:
        self.query_one("#people-tabs", TabbedContent).active = f"{kind}-tab"
        self.query_one(f"#{kind}s").focus()

    def action_filter(self) -> None:
        self.query_one("#people-filter").focus()

    def action_back(self) -> None:
        if self.focused is self.query_one("#people-filter"):
            self._active_table().focus()
        else:
            self.app.pop_screen()
