"""The home screen: every campaign with its status, dates, Sent and the four rates."""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.message import Message
from textual.widgets import Header, Input, Static

from data.campaigns import list_campaigns
from data.models import CAMPAIGN_STATUSES, Campaign
from data.rollups import Metrics, all_metrics
from data.text import counted
from screens.base import AppScreen
from screens.campaign_status import CampaignStatusActions
from screens.journal import JournalScreen, UndoActions
from tui_app.widgets.footer import AppFooter
from tui_app.widgets.formatting import day, literal
from tui_app.widgets.row_table import Cell, Column, RowTable
from tui_app.widgets.work import deliver, reads

CAMPAIGN_STATUS_STYLES = {
    "Planned": "cyan",
    "In Progress": "bold green",
    "Completed": "dim",
    "Aborted": "red",
}
"""How each campaign status is coloured in lists and headers."""


NARROW = 100
"""Below this width the list drops its type and date columns."""


RATE_LABELS = ("Sent", "Open", "Click", "Resp.", "Conv.")


def percent(rate: float) -> str:
    return f"{rate * 100:5.1f}%"


WIDE_COLUMNS = (
    Column("Campaign", 0, 1),
    Column("Type", 13),
    Column("Status", 11),
    Column("Start", 10),
    Column("End", 10),
    *[Column(label, 6 if label != "Sent" else 9, justify="right") for label in RATE_LABELS],
)
NARROW_COLUMNS = (
    Column("Campaign", 0, 1),
    Column("Status", 11),
    *[Column(label, 6 if label != "Sent" else 9, justify="right") for label in RATE_LABELS],
)


class CampaignTable(RowTable):
    """The campaigns and their rates; tells the screen when the cursor moves or enter is hit."""

    class Highlighted(Message):
        """The cursor moved to another campaign."""

    class Selected(Message):
        """Enter on a campaign."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.rows: list[list[Cell]] = []

    def set_rows(self, rows: list[list[Cell]], columns: tuple[Column, ...]) -> None:
        self.rows, self.columns = rows, columns
        self.set_total(len(rows))
        self.cursor = min(self.cursor, max(0, self.total - 1))
        self.rows_changed()

    def cells_at(self, index: int) -> list[Cell] | None:
        return self.rows[index] if index < len(self.rows) else None

    def empty_note(self) -> str:
        return "No campaign matches. n creates one."

    def watch_cursor(self, old: int, cursor: int) -> None:
        super().watch_cursor(old, cursor)
        self.post_message(self.Highlighted())

    def action_select(self) -> None:
        if self.total:
            self.post_message(self.Selected())


class CampaignListScreen(UndoActions, CampaignStatusActions, AppScreen):
    """Campaigns, filterable by status and text; create, edit, open, start."""

    class Loaded(Message):
        """The campaigns matching the filters, with their rollups."""

        def __init__(self, campaigns: list[Campaign], metrics: list[Metrics]) -> None:
            super().__init__()
            self.campaigns = campaigns
            self.metrics = metrics

    AUTO_FOCUS = "#campaigns"  # focused as the screen mounts: no second footer rebuild

    BINDINGS = [
        Binding("enter", "open", "Open", show=False),
        Binding("n", "new", "New"),
        Binding("e", "edit", "Edit"),
        Binding("t,s", "status", "Status"),
        Binding("slash", "filter", "Filter"),
        Binding("f", "cycle_status", "Status filter"),
        Binding("p", "app.people", "People"),
        Binding("r", "app.rejected", "Rejected"),
        Binding("j", "journal", "Journal"),
        Binding("z", "undo", "Undo"),
        Binding("c", "app.connectors", "Connectors", show=False),
        Binding("escape", "clear_filter", "Clear filter", show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.metrics: list[Metrics] = []
        self.facts: dict[int, Campaign] = {}
        self.narrow = False
        self.ready = False
        self.status_filter: str | None = None
        self.early: tuple | None = None
        self.shown_before = False

    def compose(self) -> ComposeResult:
        self._load("", None)  # the first query runs while the widgets below are built
        yield Header()
        with Horizontal(classes="filters"):
            yield Input(placeholder="Filter by name or type  ( / )", id="campaign-filter")
            yield Static(id="status-filter")
        yield CampaignTable(id="campaigns")
        yield Static(id="campaign-summary", classes="hint")
        yield AppFooter()

    def on_resize(self) -> None:
        narrow = self.size.width < NARROW
        if narrow != self.narrow:
            self.narrow = narrow
            self._fill()

    def on_mount(self) -> None:
        self.narrow = self.app.size.width < NARROW
        self._show_status_filter()
        self.ready = True
        if self.early is not None:
            self._show(*self.early)

    def on_screen_resume(self) -> None:
        """Back from another screen: what it changed shows (the first showing is loaded already)."""
        if self.shown_before:
            self.load()
        self.shown_before = True

    def reread(self) -> None:
        self.load()

    def load(self) -> None:
        """Fetch the campaigns matching the filters (read here, on the UI thread) in a worker."""
        self._load(self.query_one("#campaign-filter", Input).value, self.status_filter)

    @reads("campaign-list")
    def _load(self, text: str, status) -> None:
        campaigns = list_campaigns(status if isinstance(status, str) else None, text)
        deliver(self, self.Loaded(campaigns, all_metrics(campaigns)))

    @on(Loaded)
    def _loaded(self, message: Loaded) -> None:
        self._show(message.campaigns, message.metrics)

    def _show(self, campaigns: list[Campaign], metrics: list[Metrics]) -> None:
        if not self.ready:  # the first answer came before the table was set up
            self.early = (campaigns, metrics)
            return
        self.metrics = metrics
        self.facts = {c.id: c for c in campaigns}
        self._fill()

    def _fill(self) -> None:
        """Put the loaded campaigns in the table, with the columns the width allows."""
        rows = []
        for m in self.metrics:
            facts = self.facts[m.campaign_id]
            status = (m.status, CAMPAIGN_STATUS_STYLES.get(m.status, ""))
            described = [status]
            if not self.narrow:
                described = [
                    (m.type, ""),
                    status,
                    (day(facts.start_date), ""),
                    (day(facts.end_date), ""),
                ]
            rates = (m.open_rate, m.click_rate, m.response_rate, m.conversion_rate)
            rows.append(
                [(m.campaign, ""), *described, (f"{m.sent:,}", "")]
                + [(percent(rate), "") for rate in rates]
            )
        table = self.query_one(CampaignTable)
        table.set_rows(rows, NARROW_COLUMNS if self.narrow else WIDE_COLUMNS)
        self._summarise()

    @on(CampaignTable.Highlighted)
    def _summarise(self) -> None:
        """The line under the table: totals, and the highlighted campaign's type and dates."""
        table = self.query_one(CampaignTable)
        members = sum(m.sent for m in self.metrics)
        line = Text(f"{counted(len(self.metrics), 'campaign')} · {counted(members, 'member')}")
        if self.metrics and table.cursor < len(self.metrics):
            m = self.metrics[table.cursor]
            facts = self.facts.get(m.campaign_id)
            if facts is not None:
                line.append(" · ")
                line.append(literal(m.campaign, "bold"))
                line.append(
                    f": {m.type}, {day(facts.start_date)} → {day(facts.end_date)}, "
                    f"{m.bounced:,} bounced, {m.unsubscribed:,} unsubscribed"
                )
        self.query_one("#campaign-summary", Static).update(line)

    @on(Input.Changed, "#campaign-filter")
    def _filter_changed(self) -> None:
        self.load()

    @on(Input.Submitted, "#campaign-filter")
    def _filter_done(self) -> None:
        self.query_one("#campaigns").focus()

    @on(CampaignTable.Selected)
    def _row_chosen(self) -> None:
        self.action_open()

    def _current(self) -> Metrics | None:
        cursor = self.query_one(CampaignTable).cursor
        if not self.metrics or cursor >= len(self.metrics):
            self.notify("No campaign selected.", severity="warning")
            return None
        return self.metrics[cursor]

    def action_journal(self) -> None:
        self.app.push_screen(JournalScreen())

    def action_open(self) -> None:
        current = self._current()
        if current is not None:
            self.app.open_campaign(current.campaign_id)

    def action_cycle_status(self) -> None:
        """Any status → Planned → In Progress → Completed → Aborted → any status."""
        order = [None, *CAMPAIGN_STATUSES]
        self.status_filter = order[(order.index(self.status_filter) + 1) % len(order)]
        self._show_status_filter()
        self.load()

    def _show_status_filter(self) -> None:
        self.query_one("#status-filter", Static).update(
            Text.assemble(
                ("Status ", "dim"),
                (self.status_filter or "any", "bold"),
                ("  f", "bold"),
                (" cycles", "dim"),
            )
        )

    def action_filter(self) -> None:
        self.query_one("#campaign-filter").focus()

    def action_clear_filter(self) -> None:
        self.query_one("#campaign-filter", Input).value = ""
        self.status_filter = None
        self._show_status_filter()
        self.load()
        self.query_one("#campaigns").focus()

    def action_new(self) -> None:
        from screens.campaign_form import CampaignFormScreen

        self.app.push_screen(CampaignFormScreen(None))

    def action_edit(self) -> None:
        from screens.campaign_form import CampaignFormScreen

        current = self._current()
        if current is not None:
            self.app.push_screen(CampaignFormScreen(current.campaign_id))

    def action_status(self) -> None:
        current = self._current()
        if current is not None:
            self.ask_status_change(current.campaign_id, current.campaign, current.status)
