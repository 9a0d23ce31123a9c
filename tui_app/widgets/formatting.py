"""How values look on screen, shared by the screens and widgets (kept free of heavy imports).

Text from the database, a file or a feed reaches a widget only through `literal` (or, for a
plain string a widget draws itself, `visible`): control characters become visible symbols and
nothing is ever read as markup."""

from __future__ import annotations

from decimal import Decimal

from rich.text import Text

from data.text import visible
from data.vocab import OpportunityStage

STATUS_STYLES = {
    "Sent": "",
    "Opened": "cyan",
    "Clicked": "bold cyan",
    "Responded": "bold green",
    "Converted": "bold bright_green",
    "Bounced": "bold red",
    "Unsubscribed": "yellow",
}
"""A member status coloured by its meaning: engagement greens, exits red and yellow."""

STAGE_STYLES = {OpportunityStage.CLOSED_WON: "bold green"}
"""An opportunity stage coloured by its meaning: a won deal stands out."""


def day(value) -> str:
    """A date or time as YYYY-MM-DD, or a dash when unset."""
    return value.strftime("%Y-%m-%d") if value else "—"


def money(value: float | Decimal | None) -> str:
    """An amount in dollars with cents, or a dash when there is none."""
    return "—" if value is None else f"${value:,.2f}"


def literal(value: object, style: str = "", **options) -> Text:
    """Untrusted text as a renderable: shown as typed, never markup, no control character."""
    if isinstance(value, Text):
        return value
    return Text(visible(value), style=style, **options)


def assemble(*parts: str | Text | tuple[object, str]) -> Text:
    """Like `Text.assemble`, with every part made `literal`: a (value, style) part wholly, a
    plain string line by line (its line breaks lay out the text around the values)."""
    text = Text()
    for part in parts:
        if isinstance(part, tuple):
            text.append(literal(part[0], part[1]))
        elif isinstance(part, Text):
            text.append(part)
        else:
            text.append("\n".join(visible(line) for line in str(part).split("\n")))
    return text
