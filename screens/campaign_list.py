"""The home screen: every campaign with its status, dates, Sent and the four rates."""

from __future__ import annotations

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Input, Select, Static

from data.campaigns import list_campaigns
from data.db import database
from data.models import CAMPAIGN_STATUSES, Campaign
from data.rollups import Metrics, all_metrics
from screens.campaign_status import CampaignStatusActions
from tui_app.widgets.member_table import day

CAMPAIGN_STATUS_STYLES = {
    "Planned": "cyan",
    "In Progress": "bold green",
    "Completed": "dim",
    "Aborted": "red",
}
"""How each campaign status is coloured in lists and headers."""


NARROW = 100
"""Below this width the list drops its type and date columns."""


def percent(rate: float) -> str:
    return f"{rate * 100:5.1f}%"


class CampaignListScreen(CampaignStatusActions, Screen):
    """Campaigns, filterable by status and text; create, edit, open, start."""

    BINDINGS = [
        Binding("enter", "open", "Open", show=False),
        Binding("n", "new", "New"),
        Binding("e", "edit", "Edit"),
        Binding("t,s", "status", "Status"),
        Binding("slash", "filter", "Filter"),
        Binding("p", "app.people", "People"),
        Binding("r", "app.rejected", "Rejected events"),
        Binding("escape", "clear_filter", "Clear filter", show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.metrics: list[Metrics] = []
        self.facts: dict[int, Campaign] = {}
        self.narrow = False

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(classes="filters"):
            yield Input(placeholder="Filter by name or type  ( / )", id="campaign-filter")
            yield Select(
                [(status, status) for status in CAMPAIGN_STATUSES],
                prompt="Any status",
                id="status-filter",
            )
        yield DataTable(id="campaigns", cursor_type="row", zebra_stripes=True)
        yield Static(id="campaign-summary", classes="hint")
        yield Footer()

    def _columns(self, narrow: bool) -> None:
        """Below 100 columns the type and dates move to the line under the table, so Sent and
        the four rates always fit."""
        self.narrow = narrow
        table = self.query_one("#campaigns", DataTable)
        table.clear(columns=True)
        table.add_column("Campaign", key="name")
        if not narrow:
            for label in ("Type", "Status", "Start", "End"):
                table.add_column(label, key=label)
        else:
            table.add_column("Status", key="Status")
        for label in ("Sent", "Open", "Click", "Resp.", "Conv."):
            table.add_column(label, key=label)

    def on_resize(self) -> None:
        narrow = self.size.width < NARROW
        if narrow != self.narrow:
            self._columns(narrow)
            self.load()

    def on_mount(self) -> None:
        self._columns(self.app.size.width < NARROW)
        self.query_one("#campaigns").focus()
        self.load()

    def on_screen_resume(self) -> None:
        self.load()

    def on_data_changed(self, _message) -> None:
        self.load()

    @work(thread=True, exclusive=True, group="campaign-list")
    def load(self) -> None:
        text = self.query_one("#campaign-filter", Input).value
        status = self.query_one("#status-filter", Select).value
        with database.connection_context():
            campaigns = list_campaigns(status if isinstance(status, str) else None, text)
            metrics = all_metrics(campaigns)
        self.app.call_from_thread(self._show, campaigns, metrics)

    def _show(self, campaigns: list[Campaign], metrics: list[Metrics]) -> None:
        self.metrics = metrics
        table = self.query_one("#campaigns", DataTable)
        keep = table.cursor_row
        self.facts = {c.id: c for c in campaigns}
        table.clear()
        for m in metrics:
            facts = self.facts[m.campaign_id]
            status = Text(m.status, style=CAMPAIGN_STATUS_STYLES.get(m.status, ""))
            described = [status]
            if not self.narrow:
                described = [
                    Text(m.type),
                    status,
                    day(facts.start_date),
                    day(facts.end_date),
                ]
            table.add_row(
                Text(m.campaign),
                *described,
                Text(f"{m.sent:,}", justify="right"),
                Text(percent(m.open_rate), justify="right"),
                Text(percent(m.click_rate), justify="right"),
                Text(percent(m.response_rate), justify="right"),
                Text(percent(m.conversion_rate), justify="right"),
                key=str(m.campaign_id),
            )
        if metrics:
            table.move_cursor(row=min(keep, len(metrics) - 1))
        self._summarise()

    @on(DataTable.RowHighlighted, "#campaigns")
    def _summarise(self) -> None:
        """The line under the table: totals, and the highlighted campaign's type and dates."""
        table = self.query_one("#campaigns", DataTable)
        members = sum(m.sent for m in self.metrics)
        line = Text(f"{len(self.metrics)} campaigns · {members:,} members")
        if self.metrics and table.cursor_row < len(self.metrics):
            m = self.metrics[table.cursor_row]
            facts = self.facts.get(m.campaign_id)
            if facts is not None:
                line.append(" · ")
                line.append(m.campaign, style="bold")
                line.append(
                    f": {m.type}, {day(facts.start_date)} → {day(facts.end_date)}, "
                    f"{m.bounced:,} bounced, {m.unsubscribed:,} unsubscribed"
                )
        self.query_one("#campaign-summary", Static).update(line)

    @on(Input.Changed, "#campaign-filter")
    @on(Select.Changed, "#status-filter")
    def _filter_changed(self) -> None:
        self.load()

    @on(Input.Submitted, "#campaign-filter")
    def _filter_done(self) -> None:
        self.query_one("#campaigns").focus()

    @on(DataTable.RowSelected, "#campaigns")
    def _row_chosen(self, event: DataTable.RowSelected) -> None:
        self.app.open_campaign(int(event.row_key.value))

    def _current(self) -> Metrics | None:
        table = self.query_one("#campaigns", DataTable)
        if not self.metrics or table.cursor_row >= len(self.metrics):
            self.notify("No campaign selected.", severity="warning")
            return None
        return self.metrics[table.cursor_row]

    def action_open(self) -> None:
        current = self._current()
        if current is not None:
            self.app.open_campaign(current.campaign_id)

    def action_filter(self) -> None:
        self.query_one("#campaign-filter").focus()

    def action_clear_filter(self) -> None:
        self.query_one("#campaign-filter", Input).value = ""
        self.query_one("#status-filter", Select).clear()
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
