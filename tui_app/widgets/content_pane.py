"""What content worked in a campaign: each link, form, session or asset with how many people
engaged with it, most first (`engaged.content_report`), as a bar each. Loads itself whenever it
is shown, so the campaign screen only places it."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual import on
from textual.containers import VerticalScroll
from textual.message import Message
from textual.widgets import Static

from data.engaged import ContentCount, content_report
from tui_app.widgets.formatting import literal
from tui_app.widgets.work import deliver, reads

SHOWN = 50
"""Pieces of content listed; a campaign with more says how many it left out."""

BAR = 20


def content_table(rows: list[ContentCount], width: int) -> Table | Text:
    """People, a bar scaled to the most engaged piece, and the content as words."""
    if not rows:
        return Text(
            "No content engaged with yet: clicks with a url or title, forms, sessions and assets "
            "show here as events arrive.",
            style="dim",
        )
    top = max(row.people for row in rows)
    bar = BAR if width >= 70 else 10
    grid = Table.grid(padding=(0, 1), expand=True)
    grid.add_column(justify="right", no_wrap=True, width=7)
    grid.add_column(no_wrap=True, width=bar)
    grid.add_column(no_wrap=True, overflow="ellipsis", ratio=1)
    grid.add_column(justify="right", no_wrap=True, width=7, style="dim")
    grid.add_row(
        Text("people", style="bold"),
        "",
        Text("content", style="bold"),
        Text("events", style="bold"),
    )
    for row in rows[:SHOWN]:
        filled = max(1, round(bar * row.people / top))
        grid.add_row(
            f"{row.people:,}",
            Text("█" * filled, style="green"),
            literal(row.content, no_wrap=True, overflow="ellipsis"),
            f"{row.events:,}",
        )
    return grid


class ContentPane(VerticalScroll):
    """A campaign's content by the people who engaged with it."""

    DEFAULT_CSS = """
    ContentPane { height: 1fr; padding: 0 1; }
    ContentPane #content-note { color: $text-muted; height: auto; }
    """

    class Loaded(Message):
        def __init__(self, rows: list[ContentCount]) -> None:
            super().__init__()
            self.rows = rows

    def __init__(self, campaign_id: int, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.campaign_id = campaign_id
        self.rows: list[ContentCount] = []

    def compose(self):
        yield Static(id="content-table")
        yield Static(id="content-note")

    def on_show(self) -> None:
        self.load()

    @reads("campaign-content")
    def load(self) -> None:
        deliver(self, self.Loaded(content_report(self.campaign_id)))

    @on(Loaded)
    def _show(self, message: Loaded) -> None:
        self.rows = message.rows
        self.query_one("#content-table", Static).update(
            content_table(message.rows, self.size.width)
        )
        note = "Each person counts once per piece; `campaigns content NAME` prints the same."
        if len(message.rows) > SHOWN:
            note = f"The {SHOWN} most engaged of {len(message.rows):,} pieces. " + note
        self.query_one("#content-note", Static).update(Text(note))
