"""Metric gauges: each rate as a bar, with the count and the percent beside it.

One widget draws them all with Rich's ProgressBar renderable, so a campaign screen mounts a
single widget for its seven gauges instead of dozens."""

from __future__ import annotations

from rich.console import Group
from rich.progress_bar import ProgressBar
from rich.table import Table
from rich.text import Text
from textual.widgets import Static


def gauge_cells(label: str, count: int, sent: int) -> list:
    percent = count / sent * 100 if sent else 0.0
    return [
        Text(label),
        ProgressBar(
            total=max(sent, 1), completed=count, complete_style="green", finished_style="green"
        ),
        Text(f"{count:,} · {percent:5.1f}%", justify="right"),
    ]


class MetricGauges(Static):
    """Rollup figures out of Sent, two columns of `label  bar  count · percent`."""

    DEFAULT_CSS = """
    MetricGauges {
        height: auto;
        padding: 0 1;
    }
    """

    def show(
        self,
        left: list[tuple[str, int]],
        right: list[tuple[str, int]],
        sent: int,
        footer: Text | None = None,
    ) -> None:
        table = Table.grid(padding=(0, 1), expand=True)
        for _ in range(2):
            table.add_column(width=12, no_wrap=True)
            table.add_column(ratio=1)
            table.add_column(width=16, no_wrap=True)
        for i in range(max(len(left), len(right))):
            cells = []
            for side in (left, right):
                if i < len(side):
                    cells += gauge_cells(side[i][0], side[i][1], sent)
                else:
                    cells += [Text(""), Text(""), Text("")]
            table.add_row(*cells)
        self.update(Group(table, footer) if footer is not None else table)
