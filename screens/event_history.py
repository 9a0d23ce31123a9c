"""Event history: a member's engagement timeline, and the events the ingest rejected."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.widgets import DataTable, Header, Static

from data.db import refuse_database_file
from data.events import LoggedEvent, member_timeline, rejected_count, rejected_events
from data.files import private_file
from data.labels import shown_status
from data.models import Campaign, CampaignMember, Contact, Lead
from data.text import counted
from screens.base import AppScreen
from screens.modals import SaveFileScreen
from tui_app.widgets.footer import AppFooter
from tui_app.widgets.formatting import assemble, literal
from tui_app.widgets.paged_table import PagedTable, Plan
from tui_app.widgets.row_table import Cell, Column
from tui_app.widgets.work import deliver, reads

OUTCOME_STYLES = {
    "applied": "bold green",
    "unchanged": "dim",
    "duplicate": "yellow",
    "rejected": "bold red",
}
"""How each outcome is coloured: what changed the record stands out."""


TIMELINE_COLUMNS = ("At", "Event", "Outcome", "Source", "Received", "Details")
WIDEST_CELL = 60  # a longer value (an event's details) is cut at this width


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if value else "—"


def _details(event: LoggedEvent) -> Text:
    parts = []  # what was engaged with first: it is what a reader looks for
    if event.extra:
        parts.append(event.in_words())
    if event.event_id:
        parts.append(f"id {event.event_id}")
    return literal("  ".join(parts), overflow="ellipsis", no_wrap=True)


class MemberEventsScreen(AppScreen):
    """Every event recorded for one member, oldest first, with what each one did."""

    class Loaded(Message):
        def __init__(self, member, person, campaign, events: list[LoggedEvent], shown: str) -> None:
            super().__init__()
            self.member, self.person, self.campaign, self.events = member, person, campaign, events
            self.shown = shown
            """The member's status as it shows in the campaign (its label)."""

    BINDINGS = [
        Binding("escape", "app.pop_screen", "Back"),
        Binding("r", "reload", "Reload"),
    ]

    def __init__(self, member_id: int) -> None:
        super().__init__()
        self.member_id = member_id

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(id="timeline-title")
        yield DataTable(id="timeline", cursor_type="row", zebra_stripes=True)
        yield Static(
            "Status is a pure function of these events: the label and the ladder only climb, "
            "milestone dates keep the earliest time, an opt-out beats all but a conversion.",
            id="timeline-help",
        )
        yield AppFooter()

    def on_mount(self) -> None:
        self.action_reload()

    def action_reload(self) -> None:
        self.load()

    def reread(self) -> None:
        """Another writer committed: the timeline may have grown."""
        self.load()

    def subject(self) -> type:
        return CampaignMember

    @reads("timeline")
    def load(self) -> None:
        member = CampaignMember.get_by_id(self.member_id)  # removed: the screen closes
        person = (
            Lead.get_by_id(member.lead_id)
            if member.lead_id
            else Contact.get_by_id(member.contact_id)
        )
        campaign = Campaign.get_by_id(member.campaign_id)
        timeline = member_timeline(member)
        deliver(self, self.Loaded(member, person, campaign, timeline, shown_status(member)))

    @on(Loaded)
    def _show(self, message: Loaded) -> None:
        person, campaign, events = (
            message.person,
            message.campaign,
            message.events,
        )
        title = assemble(
            ("Engagement of ", "bold"),
            (f"{person.first_name} {person.last_name}".strip(), "bold"),
            (f"  <{person.email}>", ""),
            "  in  ",
            (campaign.name, "bold"),
            "   status now ",
            (message.shown, "bold reverse"),
            f"   {counted(len(events), 'event')}",
        )
        self.query_one("#timeline-title", Static).update(title)
        rows = [
            (
                literal(_when(event.at)),
                literal(f"status {event.label}" if event.label else event.type),
                literal(event.outcome, OUTCOME_STYLES.get(event.outcome, "")),
                literal(event.source),
                literal(_when(event.received_at)),
                _details(event),
            )
            for event in events
        ]
        table = self.query_one("#timeline", DataTable)
        row = table.cursor_row
        # Widths from the content, set here: a DataTable sizes automatic columns when idle,
        # so what a user (or a snapshot) sees first would depend on the machine's speed.
        table.clear(columns=True)
        for i, title in enumerate(TIMELINE_COLUMNS):
            widest = max([len(title), *(cells[i].cell_len for cells in rows)])
            table.add_column(title, width=min(widest, WIDEST_CELL))
        for event, cells in zip(events, rows):
            table.add_row(*cells, key=str(event.id))
        if events:
            table.move_cursor(row=min(row, len(events) - 1))


class RejectedSource:
    """Every rejected event, oldest first, paged by log id."""

    def count(self) -> int:
        return rejected_count()

    def page(self, plan: Plan) -> list[LoggedEvent]:
        if plan.after is not None:
            return rejected_events(after=plan.after, limit=plan.limit)
        return rejected_events(limit=plan.limit, offset=plan.base)

    def key(self, row: LoggedEvent) -> int:
        return row.id


class RejectedTable(PagedTable[LoggedEvent]):
    """One line per rejected event: when, why, and the event as it was sent."""

    columns = (
        Column("Received", 16),
        Column("Reason", 0, 2),
        Column("Event as sent", 0, 5),
    )

    def cells(self, row: LoggedEvent) -> list[Cell]:
        return [(_when(row.received_at), ""), (row.reason or "", "red"), (row.as_sent(), "")]


class RejectedEventsScreen(AppScreen):
    """Rejected events with their reasons, so an integration can be fixed and re-sent."""

    BINDINGS = [
        Binding("escape", "app.pop_screen", "Back"),
        Binding("x", "export", "Save for re-sending"),
        Binding("r", "reload", "Reload"),
    ]

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(id="rejected-title")
        yield RejectedTable(id="rejected")
        yield AppFooter()

    def on_mount(self) -> None:
        self.query_one(RejectedTable).show(RejectedSource())

    def action_reload(self) -> None:
        self.query_one(RejectedTable).reload()

    def reread(self) -> None:
        self.action_reload()

    @on(PagedTable.Loaded, "#rejected")
    def _counted(self, message: PagedTable.Loaded) -> None:
        self.query_one("#rejected-title", Static).update(
            Text.assemble(
                ("Rejected events", "bold"),
                f"   {message.total:,} in all",
                "   x saves them as JSON Lines, ready to fix and send again with "
                "`campaigns ingest FILE`",
            )
        )

    def action_export(self) -> None:
        stamp = self.app.now().strftime("%Y%m%d-%H%M%S")
        self.app.push_screen(
            SaveFileScreen(
                "Save rejected events",
                f"rejected-events-{stamp}.jsonl",
                save_rejected_events,
                "JSON Lines, one event as it was sent per line: fix them and send them again "
                "with `campaigns ingest FILE`.",
            )
        )


def save_rejected_events(path: Path) -> str:
    """Write every rejected event as it was sent, one per line; what to tell the user."""
    count, after = 0, None
    refuse_database_file(path)
    with private_file(path) as out:  # personal data: readable by the user only
        while True:
            page = rejected_events(after=after, limit=1_000)
            for event in page:
                out.write(event.as_sent() + "\n")
                count += 1
            if len(page) < 1_000:
                break
            after = page[-1].id
    return f"Saved {counted(count, 'rejected event')} to {path}"
