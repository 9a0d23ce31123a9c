"""Noticing other connections' commits, for live refresh, on either backend.

SQLite: `PRAGMA data_version` changes whenever another connection commits (no table is read).
PostgreSQL: statement-level triggers on every table `pg_notify` a channel, which PostgreSQL delivers
on commit (and folds into one notification per transaction); the feed LISTENs on a connection of
its own.
"""

from __future__ import annotations

import time

from peewee import Database, SqliteDatabase

from data.postgres import CHANNEL


class ChangeFeed:
    """`wait(timeout)` returns True once another connection has committed since the last call."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._listener = None
        if isinstance(db, SqliteDatabase):
            self._version = self._data_version()
        else:
            import psycopg

            params = dict(db.connect_params)
            self._listener = psycopg.connect(dbname=db.database, autocommit=True, **params)
            self._listener.execute(f"LISTEN {CHANNEL}")

    def _data_version(self) -> int:
        return self.db.execute_sql("PRAGMA data_version").fetchone()[0]

    def wait(self, timeout: float) -> bool:
        if self._listener is None:
            time.sleep(timeout)
            version = self._data_version()
            changed, self._version = version != self._version, version
            return changed
        changed = False
        for _ in self._listener.notifies(timeout=timeout, stop_after=1):
            changed = True
        if changed:  # drain the rest of a burst without waiting
            for _ in self._listener.notifies(timeout=0.01):
                pass
        return changed

    def close(self) -> None:
        if self._listener is not None:
            self._listener.close()
