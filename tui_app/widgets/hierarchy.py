"""A parent campaign's hierarchy in one line: its totals over every campaign under it."""

from __future__ import annotations

from rich.text import Text

from data.rollups import Metrics
from tui_app.widgets.formatting import money


def hierarchy_totals(metrics: Metrics, campaigns: int) -> Text:
    """ "Hierarchy of 3 campaigns: Sent 5 · Responded 1 · … · Won $900.00", people once each."""
    parts: list[tuple[str, str] | str] = [(f"Hierarchy of {campaigns} campaigns ", "bold")]
    figures = [
        ("Sent", f"{metrics.sent:,}"),
        ("Opened", f"{metrics.opened:,}"),
        ("Responded", f"{metrics.responded:,}"),
        ("Converted", f"{metrics.converted:,}"),
        ("Cost", money(metrics.actual_cost)),
        ("Won", money(metrics.won_amount)),
        ("Cost per response", money(metrics.cost_per_response)),
    ]
    for i, (name, value) in enumerate(figures):
        parts += [(" · " if i else "", "dim"), (f"{name} ", "dim"), value]
    parts.append((" (each person once)", "dim"))
    return Text.assemble(*parts)
