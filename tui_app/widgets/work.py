"""Database work off the UI thread, in one of two kinds (and a pause before it, `waits`); the only
way screens and widgets start workers.

A worker never touches widgets: it posts a typed message (or raises) and the UI thread acts on it.
`exit_on_error=False` everywhere: a failed worker is reported by its screen (`screens.base`), it
never ends the app."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import TypeVar

from textual import work
from textual.message import Message
from textual.message_pump import MessagePump
from textual.worker import get_current_worker

from data.db import database
from data.interrupt import Interrupted, interrupted_when

F = TypeVar("F", bound=Callable)


def _in_connection(method: F) -> F:
    @wraps(method)
    def run(*args, **kwargs):
        with database.connection_context():
            return method(*args, **kwargs)

    return run  # type: ignore[return-value]


def _interruptible(method: F) -> F:
    """The reads stop in the database once the worker is cancelled: Textual only marks a
    cancelled thread worker, and its query would run on to the end (`data.interrupt`)."""

    @wraps(method)
    def run(*args, **kwargs):
        worker = get_current_worker()
        with database.connection_context():
            try:
                with interrupted_when(worker.cancelled_event):
                    return method(*args, **kwargs)
            except Interrupted:
                return None  # superseded: nobody waits for its result

    return run  # type: ignore[return-value]


def reads(group: str) -> Callable[[F], F]:
    """A query on a thread of its own connection; calling it again cancels the stale one
    (`exclusive`), so a result for text the user has typed on is never shown, and stops its
    query in the database, so the new one has the machine to itself."""

    def decorate(method: F) -> F:
        return work(thread=True, exclusive=True, exit_on_error=False, group=group)(
            _interruptible(method)
        )

    return decorate


def writes(group: str) -> Callable[[F], F]:
    """A write on a thread of its own connection. Never exclusive: cancelling cannot stop a
    write, it would only hide its outcome."""

    def decorate(method: F) -> F:
        return work(thread=True, exit_on_error=False, group=group)(_in_connection(method))

    return decorate


def waits(group: str) -> Callable[[F], F]:
    """A pause on the app's own loop (an async method: no thread, no connection) before it
    starts other work; calling it again replaces the pending one (`exclusive`), so only the
    last of a burst goes on, as for keys typed in a row."""

    def decorate(method: F) -> F:
        return work(exclusive=True, exit_on_error=False, group=group)(method)

    return decorate


def deliver(target: MessagePump, message: Message) -> None:
    """Post a worker's result, unless a newer call of the same worker has superseded it."""
    if not get_current_worker().is_cancelled:
        target.post_message(message)
