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


async def settle(pilot) -> None:
    """Let every worker finish and the screen repaint (instead of sleeping)."""
    await pilot.pause()
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


async def wait_until(pilot, condition, seconds: float = 10.0) -> None:
    """Let the app run until `condition()` holds; fail after `seconds` (a deadline, not a nap)."""
    import time

    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "the condition never held"
        await pilot.pause(0.02)
