"""Live refresh: notice commits from any connection and tell the app, within about a second."""

from __future__ import annotations

import threading
from collections.abc import Callable

from data.changes import ChangeFeed
from data.db import database

POLL_SECONDS = 0.5
"""How long the watcher waits between looks (SQLite) or for a notification (PostgreSQL)."""


class ChangeWatcher:
    """Follows the database's change feed on a daemon thread with a connection of its own.

    The feed reports commits by other connections (other processes and the app's own worker
    threads alike) without reading any table: `PRAGMA data_version` on SQLite, LISTEN/NOTIFY
    on PostgreSQL."""

    def __init__(self, on_change: Callable[[], None], interval: float = POLL_SECONDS) -> None:
        self.on_change = on_change
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="change-watcher", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def _run(self) -> None:
        feed = None
        try:
            database.connect(reuse_if_open=True)
            feed = ChangeFeed(database.obj)
            while not self._stop.is_set():
                if feed.wait(self.interval) and not self._stop.is_set():
                    self.on_change()
        except Exception:  # the database went away: the app keeps working without live refresh
            return
        finally:
            if feed is not None:
                feed.close()
            if not database.is_closed():
                database.close()
