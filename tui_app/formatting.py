"""How values look on screen, shared by the screens and widgets (kept free of heavy imports)."""

from __future__ import annotations

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


def day(value) -> str:
    """A date or time as YYYY-MM-DD, or a dash when unset."""
    return value.strftime("%Y-%m-%d") if value else "—"
