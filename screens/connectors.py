"""Connectors: whether a webhook receiver runs on this database, what each source sent in the
last hour, and the last thing refused and why."""

from __future__ import annotations

from datetime import datetime

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.widgets import DataTable, Header, Static

from data.receiver import ReceiverStatus, receiver_status
from screens.base import AppScreen
from tui_app.widgets.footer import AppFooter
from tui_app.widgets.formatting import assemble, literal
from tui_app.widgets.work import deliver, reads

SOURCES = (
    ("webhook", "/hooks/events", "forms and your integrations", "CAMPAIGNS_WEBHOOK_SECRET"),
    ("mailgun", "/hooks/mailgun", "Mailgun", "CAMPAIGNS_MAILGUN_SIGNING_KEY"),
    ("sendgrid", "/hooks/sendgrid", "SendGrid", "CAMPAIGNS_SENDGRID_VERIFICATION_KEY"),
)
"""(event log source, endpoint, sender, secret) of each connector, in the order shown."""

RECHECK = 5.0
"""Seconds between looks at the receiver's sign of life (a stopped one commits nothing)."""


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S") if value else "—"


class ConnectorsScreen(AppScreen):
    """The webhook receiver as the open app sees it, live."""

    class Loaded(Message):
        def __init__(self, status: ReceiverStatus) -> None:
            super().__init__()
            self.status = status

    DEFAULT_CSS = """
    ConnectorsScreen #receiver {
        padding: 1 1 1 1;
    }
    ConnectorsScreen #sources {
        height: auto;
        margin: 0 1;
    }
    ConnectorsScreen #last-refusal {
        padding: 1 1 0 1;
    }
    ConnectorsScreen #connectors-help {
        padding: 1 1 0 1;
        color: $text-muted;
    }
    """

    BINDINGS = [
        Binding("escape", "app.pop_screen", "Back"),
        Binding("r", "reload", "Reload"),
    ]

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(id="receiver")
        table = DataTable(id="sources", cursor_type="row", zebra_stripes=True)
        table.add_column("Source", width=28)
        table.add_column("Endpoint", width=16)
        table.add_column("Last hour", width=10)
        table.add_column("Secret", width=36)
        yield table
        yield Static(id="last-refusal")
        yield Static(
            "Start a receiver with `campaigns serve` (secrets from the environment; an endpoint "
            "without its secret answers 404) and point Mailgun and SendGrid at it through your "
            "reverse proxy or tunnel: see the README, Receiving webhooks.",
            id="connectors-help",
        )
        yield AppFooter()

    def on_mount(self) -> None:
        self.action_reload()
        self.set_interval(RECHECK, self.action_reload)

    def action_reload(self) -> None:
        self.load()

    def reread(self) -> None:
        self.load()

    @reads("connectors")
    def load(self) -> None:
        deliver(self, self.Loaded(receiver_status()))

    @on(Loaded)
    def _show(self, message: Loaded) -> None:
        status = message.status
        if status.running:
            head = assemble(
                ("Receiver running", "bold green"),
                f"  on http://{status.host}:{status.port}  (process {status.pid}, since ",
                _when(status.started_at),
                ")",
            )
        elif status.last_seen is not None:
            head = assemble(
                ("No receiver running", "bold yellow"),
                f"  (the last one, on port {status.port}, stopped around ",
                _when(status.last_seen),
                ")",
            )
        else:
            head = assemble(("No receiver running", "bold yellow"), " on this database yet")
        self.query_one("#receiver", Static).update(head)
        table = self.query_one("#sources", DataTable)
        table.clear()
        counts = status.last_hour or {}
        for source, endpoint, sender, secret in SOURCES:
            on_now = status.running and source in status.endpoints
            table.add_row(
                Text(sender),
                Text(endpoint),
                Text(f"{counts.get(source, 0):,}", justify="right"),
                Text("set" if on_now else f"{secret} not set" if status.running else "—"),
                key=source,
            )
        refusal = self.query_one("#last-refusal", Static)
        if status.last_refusal:
            refusal.update(
                assemble(
                    ("Last refusal  ", "bold"),
                    _when(status.last_refusal_at),
                    "  ",
                    literal(status.last_refusal, "red"),
                )
            )
        else:
            refusal.update(Text("Nothing refused.", style="dim"))
