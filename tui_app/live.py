"""Live refresh: notice commits from any connection and tell the app, within about a second."""

from __future__ import annotations

import threading
from collections.abc import Callable

from data.db import data_version, database

POLL_SECONDS = 0.5
"""How often the watcher asks SQLite whether anything was committed (a few microseconds each)."""


class ChangeWatcher:
    """Polls `PRAGMA data_version` on a connection of its own, on a daemon thread.

    The version changes whenever *another* connection commits, so this sees writes from other
    processes and from the app's own worker threads alike, without reading any table."""

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
        try:
            database.connect(reuse_if_open=True)
            seen = data_version()
            while not self._stop.wait(self.interval):
                version = data_version()
                if version != seen:
                    seen = version
                    self.on_change()
        except Exception:  # the database went away: the app keeps working without live refresh
            return
        finally:
            if not database.is_closed():
                database.close()
