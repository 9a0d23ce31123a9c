"""Messages shared by the app, its screens and widgets."""

from __future__ import annotations

from textual.message import Message


class DataChanged(Message):
    """Something committed to the database (by this app or another process): refresh what shows."""


class WorkFailed(Message):
    """A widget's worker raised: the screen reports it (a worker's own state message does not
    bubble, so widgets re-post it as this)."""

    def __init__(self, error: BaseException) -> None:
        super().__init__()
        self.error = error


class Notice(Message):
    """A worker finished something the user should hear about: the screen notifies it (sent
    from a worker thread, so the notification is raised on the UI thread)."""

    def __init__(self, text: str, severity: str = "information", changed: bool = False) -> None:
        super().__init__()
        self.text = text
        self.severity = severity
        self.changed = changed
        """The work wrote to the database: the current screen reloads too."""
