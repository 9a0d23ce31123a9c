"""Helpers for driving the app in Pilot tests and snapshots."""

from __future__ import annotations

SIZE = (120, 40)
"""Terminal size of every screen snapshot (the campaign list is also taken at 80×24)."""


async def settle(pilot) -> None:
    """Let every worker finish and the screen repaint (instead of sleeping)."""
    await pilot.pause()
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()
