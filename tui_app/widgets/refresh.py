"""A screen's re-read after commits, coalesced: a burst of commits is one re-read, not one each.

The change watcher reports commits as they come (on a team server, a receiver alone commits 200
times a second). Each report used to start the screen's re-read again, cancelling the one in
flight, whose thread still ran its query to the end: a burst of N commits was N queries per open
screen. `CoalescedReread` is a leading and trailing throttle: the first report re-reads at once;
reports that come while that re-read is in flight are folded into one more re-read, started
when it finishes. So at most one re-read is in flight per screen, and the last commit is always
shown, by the re-read that began after it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from textual.dom import DOMNode
from textual.worker import Worker


class CoalescedReread:
    """Runs `reread` (which starts the screen's read workers) at most once at a time.

    A re-read is in flight from its call until every worker it started has ended (done,
    failed or cancelled by a newer read the user started)."""

    def __init__(self, node: DOMNode, reread: Callable[[], None]) -> None:
        self.node = node
        """The screen whose re-read this is (its app's workers are watched)."""
        self.reread = reread
        self.again = False
        """Commits were reported while a re-read was in flight: one more follows it."""
        self._waiting: asyncio.Task | None = None
        self.rereads = 0
        """Re-reads started so far (a figure for tests and the team bench)."""

    @property
    def in_flight(self) -> bool:
        return self._waiting is not None

    def changed(self) -> None:
        """A commit was reported: re-read now, or once the re-read in flight has ended."""
        if self.in_flight:
            self.again = True
        else:
            self._start()

    def stop(self) -> None:
        """The screen is going away: nothing more is re-read."""
        self.again = False
        if self._waiting is not None:
            self._waiting.cancel()
            self._waiting = None

    def _start(self) -> None:
        self.again = False
        workers = self.node.app.workers
        before = set(workers)
        self.rereads += 1
        self.reread()
        started = [w for w in workers if w not in before and not w.is_finished]
        if started:
            self._waiting = asyncio.create_task(self._until_done(started))

    async def _until_done(self, workers: list[Worker]) -> None:
        # a worker's failure is its screen's to report (screens.base); here it only ends a read
        await asyncio.gather(*(worker.wait() for worker in workers), return_exceptions=True)
        self._waiting = None
        if self.again:  # through the screen's queue: nothing is read once it is closing
            self.node.call_later(self._trailing)

    def _trailing(self) -> None:
        if self.again and not self.in_flight:
            self._start()
