"""A campaign's engagement over time: people opening, clicking and responding per day (per week
for a long campaign, `trend.campaign_trend`), one sparkline each over a shared time axis. Loads
itself whenever it is shown, so the campaign screen only places it."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.widgets import Sparkline, Static

from data.models import Campaign
from data.trend import SERIES, Trend, campaign_trend
from tui_app.widgets.work import deliver, reads

COLORS = {
    "opened": ("#1f4e79", "#5fafff"),
    "clicked": ("#5f3f00", "#ffaf00"),
    "responded": ("#1f5f1f", "#5fff5f"),
}
"""Each line's (quiet, busiest) colour."""


def peak(trend: Trend, name: str) -> Text:
    """The bucket with the most people on a line: "peak 12 · Mar 02"."""
    values = trend.series(name)
    top = max(values, default=0)
    if not top:
        return Text("none yet", style="dim")
    when = trend.points[values.index(top)].date
    return Text.assemble(("peak ", "dim"), f"{top:,}", (f" · {when:%b %d}", "dim"))


def time_axis(trend: Trend) -> Table:
    """The first bucket's date under the lines' left end, the last under their right."""
    grid = Table.grid(expand=True)
    for justify in ("left", "center", "right"):
        grid.add_column(justify=justify, ratio=1, no_wrap=True)  # type: ignore[arg-type]
    first, last = trend.points[0].date, trend.points[-1].date
    grid.add_row(
        Text(f"{first:%b %d %Y}", style="dim"),
        Text(f"per {trend.by}", style="dim italic"),
        Text(f"{last:%b %d %Y}", style="dim"),
    )
    return grid


class TrendPane(VerticalScroll):
    """People opening, clicking and responding over time, in one campaign."""

    DEFAULT_CSS = """
    TrendPane { height: 1fr; padding: 0 1; }
    TrendPane .trend-row { height: 2; }
    TrendPane .trend-name { width: 11; }
    TrendPane Sparkline { width: 1fr; height: 2; }
    TrendPane .trend-peak { width: 19; padding: 0 0 0 1; }
    TrendPane #trend-axis { height: 1; padding: 0 19 0 11; }
    TrendPane #trend-note { color: $text-muted; height: auto; }
    """

    class Loaded(Message):
        def __init__(self, trend: Trend) -> None:
            super().__init__()
            self.trend = trend

    def __init__(self, campaign_id: int, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.campaign_id = campaign_id
        self.trend: Trend | None = None

    def compose(self) -> ComposeResult:
        for name in SERIES:
            quiet, busy = COLORS[name]
            with Horizontal(classes="trend-row"):
                yield Static(Text(name.capitalize(), style="bold"), classes="trend-name")
                yield Sparkline([], min_color=quiet, max_color=busy, id=f"trend-{name}")
                yield Static(classes="trend-peak", id=f"trend-{name}-peak")
        yield Static(id="trend-axis")
        yield Static(id="trend-note")

    def on_show(self) -> None:
        self.load()

    @reads("campaign-trend")
    def load(self) -> None:
        deliver(self, self.Loaded(campaign_trend(Campaign.get_by_id(self.campaign_id))))

    @on(Loaded)
    def _show(self, message: Loaded) -> None:
        trend = self.trend = message.trend
        for name in SERIES:
            self.query_one(f"#trend-{name}", Sparkline).data = trend.series(name) or [0]
            self.query_one(f"#trend-{name}-peak", Static).update(peak(trend, name))
        axis = self.query_one("#trend-axis", Static)
        axis.update(time_axis(trend) if trend.points else "")
        note = (
            "People on the day of their event (a week, for long campaigns); "
            "`campaigns trend NAME` prints the numbers."
            if trend.points
            else "No opens, clicks or responses yet: they show here day by day as events arrive."
        )
        self.query_one("#trend-note", Static).update(Text(note))
