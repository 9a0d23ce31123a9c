"""The label funnel: one bar per member status label of a campaign, with how many hold it."""

from __future__ import annotations

from rich.console import Group
from rich.progress_bar import ProgressBar
from rich.table import Table
from rich.text import Text
from textual.widgets import Static

from tui_app.widgets.formatting import literal


class LabelFunnel(Static):
    """Each label in the campaign's order, `label  bar  count`, the bar out of all members;
    responded labels in green."""

    DEFAULT_CSS = """
    LabelFunnel {
        height: auto;
        padding: 0 1;
    }
    """

    def show(self, counts: list[tuple[str, int, bool]], total: int) -> None:
        """`counts`: (label, members holding it, whether it is a responded label)."""
        table = Table.grid(padding=(0, 1), expand=True)
        width = min(14, max([5, *(len(literal(name)) for name, _, _ in counts)]))
        table.add_column(width=width, no_wrap=True, overflow="ellipsis")
        table.add_column(ratio=1)
        table.add_column(width=7, no_wrap=True, justify="right")
        for name, count, responded in counts:
            colour = "green" if responded else "cyan"
            table.add_row(
                literal(name),
                ProgressBar(
                    total=max(total, 1),
                    completed=count,
                    complete_style=colour,
                    finished_style=colour,
                ),
                Text(f"{count:,}"),
            )
        title = Text("Members by status", style="bold")
        self.update(Group(title, table))
