"""People: leads and contacts, searchable by name, email or company, loaded page by page."""

from __future__ import annotations

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Input, Static, TabbedContent, TabPane
from textual.worker import get_current_worker

from data.db import database
from data.people import PAGE_SIZE, people_page

KINDS = ("lead", "contact")


def flags(do_not_email: bool, bounced: bool) -> Text:
    """The reachability flags, red when set, so nobody emails a person who opted out."""
    text = Text()
    if do_not_email:
        text.append("do not email", style="bold red")
    if bounced:
        text.append(("  " if do_not_email else "") + "bounced", style="bold red")
    return text


class PeopleScreen(Screen):
    """Find a lead or contact fast; enter opens the person."""

    DEFAULT_CSS = """
    PeopleScreen #people-filter { margin: 0 1; }
    PeopleScreen TabPane { padding: 0; }
    """

    BINDINGS = [
        Binding("escape", "back", "Back"),
        Binding("slash", "filter", "Search"),
        Binding("l", "kind('lead')", "Leads"),
        Binding("c", "kind('contact')", "Contacts"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.last_key: dict[str, tuple | None] = dict.fromkeys(KINDS)
        self.pending: set[str] = set()

    def compose(self) -> ComposeResult:
        yield Header()
        yield Input(placeholder="Search name, email or company  ( / )", id="people-filter")
        with TabbedContent(id="people-tabs"):
            for kind in KINDS:
                with TabPane(f"{kind.title()}s", id=f"{kind}-tab"):
                    table = DataTable(id=f"{kind}s", cursor_type="row", zebra_stripes=True)
                    table.add_columns("Name", "Email", "Company", "Country", "Flags")
                    yield table
        yield Static(id="people-hint", classes="hint")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#leads").focus()
        self.reload()

    def on_data_changed(self, _message) -> None:
        self.reload()

    @property
    def search(self) -> str:
        return self.query_one("#people-filter", Input).value.strip()

    def reload(self) -> None:
        for kind in KINDS:
            self.load(kind, None)

    def load(self, kind: str, after: tuple | None) -> None:
        self.pending.add(kind)
        self._load(kind, self.search, after)

    @work(thread=True, exclusive=True, group="people-lead")
    def _load_lead(self, search: str, after: tuple | None) -> None:
        self._fetch("lead", search, after)

    @work(thread=True, exclusive=True, group="people-contact")
    def _load_contact(self, search: str, after: tuple | None) -> None:
        self._fetch("contact", search, after)

    def _load(self, kind: str, search: str, after: tuple | None) -> None:
        (self._load_lead if kind == "lead" else self._load_contact)(search, after)

    def _fetch(self, kind: str, search: str, after: tuple | None) -> None:
        with database.connection_context():
            rows = people_page(kind, search, after=after)
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self._show, kind, rows, after is None)

    def _show(self, kind: str, rows: list[tuple], fresh: bool) -> None:
        table = self.query_one(f"#{kind}s", DataTable)
        keep = table.cursor_row
        if fresh:
            table.clear()
        for pid, first, last, email, company, country, dne, bounced in rows:
            table.add_row(
                Text(f"{first} {last}".strip()),
                Text(email),
                Text(company or ""),
                Text(country or ""),
                flags(dne, bounced),
                key=str(pid),
            )
            self.last_key[kind] = (last, first, pid)
        if fresh and table.row_count:
            table.move_cursor(row=min(keep, table.row_count - 1))
        self.pending.discard(kind)
        self._hint()

    def _hint(self) -> None:
        counts = []
        for kind in KINDS:
            n = self.query_one(f"#{kind}s", DataTable).row_count
            more = "+" if n and n % PAGE_SIZE == 0 else ""
            counts.append(f"{n:,}{more} {kind}s")
        self.query_one("#people-hint", Static).update(
            " · ".join(counts) + " shown · enter opens · scroll down for more"
        )

    @on(Input.Changed, "#people-filter")
    def _filter_changed(self) -> None:
        self.reload()

    @on(Input.Submitted, "#people-filter")
    def _filter_done(self) -> None:
        self._active_table().focus()

    @on(DataTable.RowHighlighted)
    def _maybe_more(self, event: DataTable.RowHighlighted) -> None:
        table = event.data_table
        kind = table.id.removesuffix("s")
        if (
            kind not in self.pending
            and table.row_count % PAGE_SIZE == 0
            and table.row_count
            and event.cursor_row >= table.row_count - 10
        ):
            self.load(kind, self.last_key[kind])

    @on(DataTable.RowSelected)
    def _open(self, event: DataTable.RowSelected) -> None:
        kind = event.data_table.id.removesuffix("s")
        self.app.open_person(kind, int(event.row_key.value))

    def _active_table(self) -> DataTable:
        active = self.query_one("#people-tabs", TabbedContent).active
        return self.query_one(f"#{active.removesuffix('-tab')}s", DataTable)

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
