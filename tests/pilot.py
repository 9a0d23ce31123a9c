"""Helpers for driving the app in Pilot tests and snapshots."""

from __future__ import annotations

SIZE = (120, 40)
"""Terminal size of every screen snapshot (the campaign list is also taken at 80×24)."""


def fresh(query):
    """Run a query on a new connection of the test's thread, so it sees every commit so far."""
    from data.db import database

    database.close()
    database.connect()
    return query()


async def settle(pilot, seconds: float = 30.0) -> None:
    """Wait, however long the machine takes, until the app is at rest: no worker pending or
    running, every message handled, no animation scheduled (instead of sleeping)."""
    import time

    from textual.worker import WorkerCancelled, WorkerState

    app = pilot.app
    deadline = time.monotonic() + seconds

    def busy() -> bool:
        return any(w.state in (WorkerState.PENDING, WorkerState.RUNNING) for w in app.workers)

    while True:
        assert time.monotonic() < deadline, "the app never came to rest"
        await pilot.pause()
        try:
            await app.workers.wait_for_complete()
        except WorkerCancelled:  # superseded by a newer one of its group, which is waited for next
            continue
        await pilot.wait_for_scheduled_animations()
        if not busy():
            await pilot.pause()  # results of the last workers are handled, maybe starting more
            if not busy():
                return


async def wait_until(pilot, condition, seconds: float = 10.0) -> None:
    """Let the app run until `condition()` holds; fail after `seconds` (a deadline, not a nap)."""
    import time

    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "the condition never held"
        await pilot.pause(0.02)


def palette_offers(app, text: str) -> bool:
    """The command palette is open with a hit containing `text` highlighted (enter opens it)."""
    from textual.command import CommandPalette
    from textual.widgets import OptionList

    if not isinstance(app.screen, CommandPalette):
        return False
    hits = app.screen.query_one(OptionList)
    if hits.highlighted is None or not hits.option_count:
        return False
    return text in str(hits.get_option_at_index(hits.highlighted).prompt)


def column(table, index: int) -> list[str]:
    """One column's text, row by row, of a RowTable whose rows are all at hand."""
    rows = [table.cells_at(i) for i in range(table.total)]
    assert all(row is not None for row in rows), "some rows were not fetched"
    return [row[index][0] for row in rows]
