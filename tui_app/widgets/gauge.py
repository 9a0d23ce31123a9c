"""A metric gauge: a rate as a bar, with the count and the percent beside it."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Label, ProgressBar


class Gauge(Horizontal):
    """One rollup figure out of Sent: label, bar, `count · percent`."""

    DEFAULT_CSS = """
    Gauge {
        height: 1;
        width: 1fr;
    }
    Gauge .gauge-label {
        width: 13;
    }
    Gauge ProgressBar {
        width: 1fr;
    }
    Gauge ProgressBar Bar {
        width: 1fr;
    }
    Gauge .gauge-value {
        width: 17;
        text-align: right;
    }
    """

    def __init__(self, label: str, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.label = label

    def compose(self) -> ComposeResult:
        yield Label(self.label, classes="gauge-label")
        yield ProgressBar(total=1, show_eta=False, show_percentage=False)
        yield Label("", classes="gauge-value")

    def show(self, count: int, sent: int) -> None:
        percent = count / sent * 100 if sent else 0.0
        self.query_one(ProgressBar).update(total=max(sent, 1), progress=count)
        self.query_one(".gauge-value", Label).update(f"{count:,} · {percent:5.1f}%")
