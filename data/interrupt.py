"""Reads a caller gives up on stop in the database, not only in Python.

A list's query for text the user has typed on is stale: the caller drops its result, but the
database would go on reading a million rows for it, holding a thread and a core the next query
needs. `interrupted_when(event)` stops this thread's reads once the event is set: a watcher
asks the database to stop whatever the connection runs (SQLite's `interrupt`, PostgreSQL's
cancel request), again every `RECHECK` until the reads are over, since a request that comes
between two statements stops nothing. A read stopped so raises `Interrupted`.

(Not a progress handler on SQLite: calling into Python every few thousand steps of a long
count takes the interpreter's lock so often that the screen stops answering keys.)
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import peewee

from data.sql import database, is_sqlite

RECHECK = 0.02
"""Seconds between two requests to stop, and between two looks at the event."""


class Interrupted(Exception):
    """The reads were given up on (the event was set) and the database stopped them."""


@contextmanager
def interrupted_when(event: threading.Event) -> Iterator[None]:
    """Stop this thread's reads on the open connection once `event` is set (raising
    `Interrupted` from the read under way)."""
    connection = database.connection()
    sqlite = is_sqlite()
    over = threading.Event()

    def stop() -> None:
        if sqlite:
            connection.interrupt()
        else:
            connection.cancel_safe(timeout=1.0)

    def watch() -> None:
        while not over.is_set():
            if event.wait(RECHECK) and not over.is_set():
                try:
                    stop()
                except Exception:  # the connection is closing: nothing is left to stop
                    return
                over.wait(RECHECK)

    # not joined: it sees `over` within RECHECK and ends by itself (the reads need not wait)
    threading.Thread(target=watch, name="interrupt-watch", daemon=True).start()
    try:
        yield
    except Exception as exc:
        if event.is_set() and _is_stop(exc):
            raise Interrupted() from exc
        raise
    finally:
        over.set()


def _is_stop(exc: BaseException | None) -> bool:
    """Whether the error is the database's answer to a request to stop (SQLite's
    "interrupted", PostgreSQL's QueryCanceled; either perhaps wrapped by peewee)."""
    import psycopg

    while exc is not None:
        if isinstance(exc, psycopg.errors.QueryCanceled):
            return True
        if isinstance(exc, (sqlite3.OperationalError, peewee.OperationalError)):
            if "interrupted" in str(exc):
                return True
        exc = exc.__cause__ or exc.__context__
    return False
