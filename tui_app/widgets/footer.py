"""The footer of every screen."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.widgets import Footer


class AppFooter(Footer):
    """Textual's footer with the Help key first: however narrow the terminal, `f1 Help` shows
    (the footer otherwise lists the screen's keys before the app's, and cuts the last off)."""

    def compose(self) -> ComposeResult:
        keys = list(super().compose())
        keys.sort(key=lambda key: getattr(key, "action", None) != "help")
        yield from keys
