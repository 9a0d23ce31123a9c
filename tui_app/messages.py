"""Messages shared by the app, its screens and widgets."""

from __future__ import annotations

from textual.message import Message


class DataChanged(Message):
    """Something committed to the database (by this app or another process): refresh what shows."""
