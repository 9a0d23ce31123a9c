"""Live refresh: notice commits from any connection and tell the app, within about a second."""

from __future__ import annotations

import threading
from collections.abc import Callable
from contextlib import suppress

from data.changes import ChangeFeed
from data.db import database, describe

POLL_SECONDS = 0.5
"""How long the watcher waits between looks (SQLite) or for a notification (PostgreSQL)."""

MAX_RETRY_SECONDS = 10.0
"""The longest the watcher waits between tries to reconnect once live updates have paused."""


class ChangeWatcher:
    """Follows the database's change feed on a daemon thread with a connection of its own.

    The feed reports commits by other connections (other processes and the app's own worker
    threads alike) without reading any table: `PRAGMA data_version` on SQLite, LISTEN/NOTIFY
    on PostgreSQL.

    When following fails (the database went away, the disk failed, the server restarted), it
    says so once through `on_paused` with the reason in one line, and tries again with a
    growing pause; once it follows again, `on_resumed`, and `on_change` (commits made meanwhile
    were not seen)."""

    def __init__(
        self,
        on_change: Callable[[], None],
        interval: float = POLL_SECONDS,
        on_paused: Callable[[str], None] | None = None,
        on_resumed: Callable[[], None] | None = None,
    ) -> None:
        self.on_change = on_change
        self.on_paused = on_paused
        self.on_resumed = on_resumed
        self.interval = interval
        self._stop = threading.Event()
        self._paused = False
        self._retry = interval
        self._thread = threading.Thread(target=self._run, name="change-watcher", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self._follow()
            except Exception as exc:  # never silent: the user is told once, and it tries again
                if not self._paused:
                    self._paused = True
                    if self.on_paused is not None:
                        self.on_paused(describe(exc))
                self._stop.wait(self._retry)
                self._retry = min(self._retry * 2, MAX_RETRY_SECONDS)

    def _follow(self) -> None:
        """Follow the feed until stopped; raise when following fails."""
        feed = None
        try:
            database.connect(reuse_if_open=True)
            feed = ChangeFeed(database.obj)
            while not self._stop.is_set():
                changed = feed.wait(self.interval)
                if self._paused:  # the feed answers again
                    self._paused, self._retry = False, self.interval
                    if self.on_resumed is not None:
                        self.on_resumed()
                    changed = True  # commits made while paused were not seen
                if changed and not self._stop.is_set():
                    self.on_change()
        finally:
            # closing what failed may fail too: the first error is the one reported
            if feed is not None:
                with suppress(Exception):
                    feed.close()
            if not database.is_closed():
                with suppress(Exception):
                    database.close()
