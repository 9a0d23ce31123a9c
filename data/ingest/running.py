"""Running an ingest: input cut into batches, each parsed, resolved and applied in one
transaction, with a file's progress recorded so a killed run resumes.

A live stream (standard input) is read by a thread that feeds a queue, so a batch is committed
when it is full or when its first event has waited `MAX_DELAY`, whichever comes first: a
connector can keep one `ingest -` open for days and each event lands within about a second.
"""

from __future__ import annotations

import gc
import io
import json
import os
import queue
import random
import stat
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, nullcontext
from datetime import datetime
from typing import IO, TypeVar

from peewee import IntegrityError, chunked

from data.db import database
from data.ingest.applying import apply_resolved, resolve_campaigns, resolve_members
from data.ingest.parsing import Received, parse_event, read_records, split_lines
from data.ingest.record import IngestReport
from data.ingest.resuming import RunTracker
from data.models import utcnow
from data.progress import OnProgress
from data.sql import fewer_checkpoints, references_read_inside

T = TypeVar("T")

BATCH_SIZE = 20_000
"""Events per transaction: large enough to amortise a commit, small enough to lose little."""

MAX_DELAY = 1.0
"""Seconds an event of a live stream may wait for its batch to fill before it is committed."""

RETRIES = 3
"""Times a batch is tried again after losing a race for an event id to another writer."""

CONFLICT_RETRIES = 10
"""Times a batch is tried again after the database chose it as a deadlock's victim or refused
it a serializable view (`conflicted`): each try waits a little longer."""

CONFLICTS = ("40P01", "40001")
"""SQLSTATEs of a transaction the server rolled back for another's sake (deadlock detected,
serialization failure): running it again is expected to succeed."""


def conflicted(exc: BaseException) -> bool:
    """Whether the database rolled this transaction back because of another (a deadlock, a
    serialization failure) rather than because it is unreachable or refused the values: the
    transaction is to be run again, not reported."""
    seen: set[int] = set()
    pending: list[object] = [exc]
    while pending:
        cause = pending.pop()
        if cause is None or id(cause) in seen:
            continue
        seen.add(id(cause))
        if getattr(cause, "sqlstate", None) in CONFLICTS:
            return True
        if isinstance(cause, BaseException):  # peewee wraps the driver's error: args[0]
            pending += [cause.__cause__, cause.__context__, *cause.args[:1]]
    return False


def retry_after_conflict(exc: BaseException, attempt: int) -> bool:
    """Whether to run a transaction again after `exc` (on its `attempt`, from 0): a conflict,
    up to `CONFLICT_RETRIES` times, after a short pause that grows (the other transaction
    finishes meanwhile; two victims do not meet again at once)."""
    if not conflicted(exc) or attempt >= CONFLICT_RETRIES:
        return False
    time.sleep(0.005 * (attempt + 1) * (1 + random.random()))
    return True


def until_committed(transaction: Callable[[], T]) -> T:
    """Run `transaction` (a function that opens and commits a transaction of its own, from its
    parsing on) until it commits, and return what it returns. It runs again when another writer
    committed one of its event ids first (up to `RETRIES` times: the next try sees them) and
    after a conflict (`retry_after_conflict`); anything else is raised. The ingest and the
    receiver both commit through it."""
    lost_races = conflicts = 0
    while True:
        try:
            return transaction()
        except IntegrityError:
            if lost_races == RETRIES:
                raise
            lost_races += 1
        except Exception as exc:
            # A deadlock's victim (another receiver, an ingest): tried again, not reported.
            if not retry_after_conflict(exc, conflicts):
                raise
            conflicts += 1


def as_received(record: Received | dict | str | bytes) -> Received:
    """A record from any caller as a received line: dicts are sent as their JSON."""
    from data.ingest.parsing import _read_json_line

    if isinstance(record, Received):
        return record
    if isinstance(record, dict):
        record = json.dumps(record, ensure_ascii=False, default=str)
    if isinstance(record, str):
        record = record.encode("utf-8", "surrogatepass")
    return _read_json_line(record.rstrip(b"\r\n"))


class _Failed:
    def __init__(self, exc: BaseException) -> None:
        self.exc = exc


_END = object()


def live_batches(records: Iterable[Received], batch_size: int, max_delay: float):
    """Batches of at most `batch_size`, each handed on no later than `max_delay` seconds after
    its first record arrived, however slowly the rest come (the input is read by a thread)."""
    handoff: queue.Queue = queue.Queue(maxsize=batch_size)

    def pump() -> None:
        try:
            for record in records:
                handoff.put(record)
        except BaseException as exc:  # handed to the consumer, which raises it
            handoff.put(_Failed(exc))
        handoff.put(_END)

    threading.Thread(target=pump, name="ingest-reader", daemon=True).start()
    batch: list[Received] = []
    deadline = 0.0
    while True:
        try:
            item = handoff.get(timeout=max(0.0, deadline - time.monotonic()) if batch else None)
        except queue.Empty:
            yield batch
            batch = []
            continue
        if item is _END:
            break
        if isinstance(item, _Failed):
            if batch:
                yield batch
            raise item.exc
        batch.append(item)
        if len(batch) == 1:
            deadline = time.monotonic() + max_delay
        if len(batch) >= batch_size:
            yield batch
            batch = []
    if batch:
        yield batch


def _apply_batch(batch: list[Received], report: IngestReport, now, tracker) -> None:
    """Parse, resolve and apply one batch in one transaction; `report` gains its counts.
    `now`: the batch's received time, or None for the clock's time as the batch is applied."""
    now = now or utcnow()

    def attempt() -> IngestReport:
        events = [parse_event(received) for received in batch]
        with references_read_inside(), database.atomic():
            resolve_campaigns(events)
            members = resolve_members(events)
            counts = apply_resolved(events, now=now, members=members)
            if tracker is not None:
                progress = IngestReport()
                progress.add(report)
                progress.add(counts)
                tracker.advance(batch, progress)
        return counts

    report.add(until_committed(attempt))


def ingest_records(
    records: Iterable[Received | dict | str | bytes],
    batch_size: int = BATCH_SIZE,
    now: datetime | None = None,
    on_batch=None,
    source: str | None = None,
    live: bool = False,
) -> IngestReport:
    """Apply events from any iterable of records, one transaction per batch.

    With `source` (a file's path), progress is committed with each batch and an interrupted run
    over the same input resumes after its last committed batch. `live` commits a batch at least
    every `MAX_DELAY` seconds while the input is slow to come (for streams)."""
    return _ingest(
        (as_received(record) for record in records), batch_size, now, on_batch, source, live
    )


def _ingest(
    received: Iterable[Received],
    batch_size: int = BATCH_SIZE,
    now: datetime | None = None,
    on_batch=None,
    source: str | None = None,
    live: bool = False,
) -> IngestReport:
    report = IngestReport()
    # Each batch is stamped with its own received time (`_apply_batch`), unless one is given.
    tracker = RunTracker(source, batch_size, now or utcnow()) if source and not live else None
    batches: Iterator[list[Received]]
    if live:
        batches = live_batches(received, batch_size, MAX_DELAY)
    else:
        batches = (list(batch) for batch in chunked(received, batch_size))
    if tracker is not None:
        batches = tracker.pending(batches, report)
    with fewer_checkpoints() if tracker is not None else nullcontext(), fewer_collections():
        for batch in batches:
            _apply_batch(batch, report, now, tracker)
            if on_batch:
                on_batch(report)
    if tracker is not None:
        tracker.finish()
        report.resumed_from = tracker.resumed_from
    return report


BULK_GC_THRESHOLDS = (100_000, 50, 100)
"""Python's collector thresholds while events are applied (its defaults: 700, 10, 10)."""


class _Collections:
    """How many runs in this process are applying events now, and the collector's thresholds
    from before the first of them."""

    lock = threading.Lock()
    runs = 0
    before = gc.get_threshold()


@contextmanager
def fewer_collections() -> Iterator[None]:
    """Python's cycle collector, less often, while a run applies events.

    A batch allocates a dozen objects per event (the parsed line, the event, its state) and
    frees them without cycles, yet by default each 700 allocations start a collection, and the
    larger ones walk every object the program holds: 0.7 s of CPU in a 100,000-event run.
    Meanwhile the collector waits for 100,000 allocations, and what existed before the run
    (modules, models) is left out of its walks (`gc.freeze`). Runs in several threads share the
    setting; the last one to end puts it back."""
    with _Collections.lock:
        _Collections.runs += 1
        if _Collections.runs == 1:
            _Collections.before = gc.get_threshold()
            gc.freeze()
            gc.set_threshold(*BULK_GC_THRESHOLDS)
    try:
        yield
    finally:
        with _Collections.lock:
            _Collections.runs -= 1
            if _Collections.runs == 0:
                gc.set_threshold(*_Collections.before)
                gc.unfreeze()


def ingest_stream(
    stream: IO[bytes] | IO[str],
    fmt: str | None = None,
    name: str | None = None,
    on_progress: OnProgress | None = None,
    **kwargs,
) -> IngestReport:
    """Apply the events of a byte (or text) stream: JSON Lines or CSV, `fmt` or guessed.

    `on_progress` hears the bytes read so far of a file's size after each batch (a stream
    whose size is not known, standard input say, reports nothing)."""
    if isinstance(stream, io.TextIOBase):
        lines: Iterable[bytes] = (
            line.rstrip("\r\n").encode("utf-8", "surrogateescape") for line in stream
        )
    else:
        lines = split_lines(stream)  # type: ignore[arg-type]
    size = _file_size(stream) if on_progress else None
    if on_progress and size is not None:
        report_to = on_progress
        also = kwargs.get("on_batch")

        def on_batch(report: IngestReport) -> None:
            if also:
                also(report)
            report_to(min(stream.tell(), size), size)

        kwargs["on_batch"] = on_batch
    report = _ingest(read_records(lines, fmt, name), **kwargs)
    if on_progress and size is not None:
        on_progress(size, size)
    return report


def _file_size(stream: IO) -> int | None:
    """The size of a regular file being read as bytes; None for anything else."""
    if isinstance(stream, io.TextIOBase):
        return None
    try:
        status = os.fstat(stream.fileno())
    except (OSError, AttributeError, io.UnsupportedOperation):
        return None
    return status.st_size if stat.S_ISREG(status.st_mode) else None
