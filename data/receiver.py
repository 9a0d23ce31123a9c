"""The webhook receiver's writer: requests' events committed together, each request answered
only once its events are committed (PRODUCT.md §7).

One thread writes. Requests that arrive while a transaction runs wait in a queue and go into
the next transaction together (group commit), so a commit is shared by as many requests as came
meanwhile: the more concurrent senders, the fewer commits per event. Each request's events go
through the ingest path (`parse_event`, `resolve_campaigns`, `resolve_members`,
`apply_resolved`), so every rule of `campaigns ingest` holds. The thread also keeps the
receiver's row (`Receiver`: that it runs, its last refusal) and the per-minute counts per source
(`ReceivedCount`) that the Connectors screen reads.
"""

from __future__ import annotations

import os
import queue
import sqlite3
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import peewee
from peewee import fn

from data.db import database, is_sqlite
from data.ingest.applying import apply_resolved, resolve_campaigns, resolve_members
from data.ingest.parsing import parse_event
from data.ingest.record import Event, IngestReport
from data.ingest.running import conflicted, until_committed
from data.models import EngagementEvent, ReceivedCount, Receiver, SeenRequest, utcnow
from data.rollups import counters_written_once
from data.vocab import EventOutcome
from data.webhooks import Inbound

GROUP_EVENTS = 5_000
"""Events one transaction takes at most (a large batch request goes alone)."""

HEARTBEAT = 5.0
"""Seconds between the receiver's signs of life while it is idle."""

ALIVE = 20.0
"""A receiver not seen for this long is taken to have stopped (killed, or its machine down)."""

PRUNE_EVERY = 60.0
"""Seconds between forgetting the remembered requests whose signatures have expired."""

REPLAYED = "this signature was already used for another request (a replay)"

Done = Callable[["Outcome"], None]


@dataclass
class Outcome:
    """What became of one request: its counts once committed, or why it was not."""

    report: IngestReport | None = None
    error: str = ""
    unavailable: bool = False
    """The database could not be reached: the sender should retry (503)."""
    refused: bool = False
    """The database refused these events' values (400): sending them again will not help."""
    replayed: bool = False
    """A signature already used for another request (401): a captured one sent again."""


@dataclass
class _Request:
    inbound: Inbound
    done: Done


_STOP = object()


def _is_unreachable(exc: BaseException) -> bool:
    """The database is down or the connection lost, rather than these events refused or the
    transaction rolled back for another's sake (a deadlock: retried, never a 503)."""
    return not conflicted(exc) and isinstance(
        exc, peewee.OperationalError | peewee.InterfaceError | sqlite3.OperationalError
    )


def _report(events: Iterable[Event]) -> IngestReport:
    report = IngestReport()
    for event in events:
        if event.outcome == EventOutcome.APPLIED:
            report.applied += 1
        elif event.outcome == EventOutcome.UNCHANGED:
            report.unchanged += 1
        elif event.outcome == EventOutcome.DUPLICATE:
            report.duplicates += 1
        elif event.outcome == EventOutcome.MACHINE:
            report.machine += 1
        else:
            report.rejected += 1
            report.reasons[event.reason_kind] += 1
    return report


class GroupCommit:
    """The writer thread. `submit` hands it a request's events and a callback, called (from the
    writer thread) once they are committed or have failed; `stop` commits what was submitted
    and ends the thread."""

    def __init__(
        self, host: str = "", port: int = 0, endpoints: Iterable[str] = (), clock=utcnow
    ) -> None:
        self._queue: queue.Queue = queue.Queue()
        self._clock = clock
        self._thread = threading.Thread(target=self._run, name="receiver-writer", daemon=True)
        self._host, self._port, self._endpoints = host, port, ",".join(endpoints)
        self._receiver_id: int | None = None
        self._refusal: tuple[str, datetime] | None = None
        self._refusal_lock = threading.Lock()
        self._last_seen = 0.0
        self._pruned_at = 0.0

    def start(self) -> None:
        self._thread.start()

    def submit(self, inbound: Inbound, done: Done) -> None:
        self._queue.put(_Request(inbound, done))

    def note_refusal(self, reason: str) -> None:
        """Remember a refused request for the receiver's row (written within a second)."""
        with self._refusal_lock:
            self._refusal = (reason[:255], self._clock())

    def stop(self) -> None:
        self._queue.put(_STOP)
        self._thread.join()

    # The writer thread ---------------------------------------------------------------------------

    def _run(self) -> None:
        database.connect(reuse_if_open=True)
        try:
            self._register()
            while True:
                try:
                    first = self._queue.get(timeout=1.0)
                except queue.Empty:
                    self._keep_status()
                    continue
                if first is _STOP:
                    break
                group, stopping = self._gather(first)
                self._commit_group(group)
                self._keep_status()
                if stopping:
                    break
        finally:
            self._unregister()
            database.close()

    def _gather(self, first: _Request) -> tuple[list[_Request], bool]:
        """The first request and whatever else is waiting, up to GROUP_EVENTS events."""
        group, size = [first], len(first.inbound.records)
        while size < GROUP_EVENTS:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                break
            if item is _STOP:
                return group, True
            group.append(item)
            size += len(item.inbound.records)
        return group, False

    def _commit_group(self, group: list[_Request]) -> None:
        try:
            reports = self._commit(group)
        except Exception as exc:  # told to each sender, never the end of the receiver
            self._reconnect_if_lost(exc)
            if _is_unreachable(exc) or len(group) == 1:
                for request in group:
                    request.done(_failure(exc))
                return
            for request in group:  # one request's events refused: the others still commit
                self._commit_group([request])
            return
        for request, report in zip(group, reports):
            if isinstance(report, IngestReport):
                request.done(Outcome(report))
            else:
                request.done(Outcome(error=report, replayed=True))

    def _commit(self, group: list[_Request]) -> list[IngestReport | str]:
        """Each request's counts, or why it was refused (a replay)."""

        def attempt() -> list[IngestReport | str]:
            now = self._clock()
            parsed = [
                [parse_event(record, request.inbound.noted) for record in request.inbound.records]
                for request in group
            ]
            with database.atomic(), counters_written_once():  # all sources' at once
                seen = remember_requests([request.inbound for request in group])
                if self._prune_due():
                    forget_expired(now)
                by_source: dict[str, list[Event]] = {}
                for request, events, replay in zip(group, parsed, seen):
                    if replay is None:
                        by_source.setdefault(request.inbound.source, []).extend(events)
                everything = [event for events in by_source.values() for event in events]
                resolve_campaigns(everything)
                members = resolve_members(everything)
                for number, (source, events) in enumerate(by_source.items()):
                    # the first source decides from the members just read; the next ones
                    # read them again, as the first left them
                    apply_resolved(
                        events, source=source, now=now, members=None if number else members
                    )
                _count_received({s: len(e) for s, e in by_source.items()}, now)
                self._seen(now)
            return [
                _report(events) if replay is None else replay
                for events, replay in zip(parsed, seen)
            ]

        return until_committed(attempt)

    def _prune_due(self) -> bool:
        if time.monotonic() - self._pruned_at < PRUNE_EVERY:
            return False
        self._pruned_at = time.monotonic()
        return True

    def _reconnect_if_lost(self, exc: BaseException) -> None:
        if _is_unreachable(exc):
            try:
                database.close()
            except Exception:  # the connection is already gone
                pass

    # The receiver's row ----------------------------------------------------------------------

    def _register(self) -> None:
        try:
            now = self._clock()
            self._receiver_id = Receiver.insert(
                host=self._host,
                port=self._port,
                pid=os.getpid(),
                endpoints=self._endpoints,
                started_at=now,
                seen_at=now,
            ).execute()
            self._last_seen = time.monotonic()
        except peewee.DatabaseError as exc:
            self._reconnect_if_lost(exc)

    def _seen(self, now: datetime) -> None:
        """Inside a transaction: the receiver's sign of life and its last refusal, if due."""
        with self._refusal_lock:
            refusal, self._refusal = self._refusal, None
        if refusal is None and time.monotonic() - self._last_seen < HEARTBEAT:
            return
        if self._receiver_id is None:
            self._register()
            return
        changes: dict = {Receiver.seen_at: now, Receiver.stopped_at: None}
        if refusal is not None:
            changes[Receiver.last_refusal], changes[Receiver.last_refusal_at] = refusal
        Receiver.update(changes).where(Receiver.id == self._receiver_id).execute()
        self._last_seen = time.monotonic()

    def _keep_status(self) -> None:
        try:
            if self._receiver_id is None:
                database.connect(reuse_if_open=True)
                self._register()
                return
            with database.atomic():
                self._seen(self._clock())
        except peewee.DatabaseError as exc:
            self._reconnect_if_lost(exc)

    def _unregister(self) -> None:
        if self._receiver_id is None:
            return
        try:
            Receiver.update(stopped_at=self._clock()).where(
                Receiver.id == self._receiver_id
            ).execute()
        except peewee.DatabaseError:
            pass  # the row goes stale instead: read as stopped after ALIVE seconds


# Replays ------------------------------------------------------------------------------------------


def remember_requests(inbounds: list[Inbound]) -> list[IngestReport | str | None]:
    """Inside the transaction that commits these requests' events: remember each one's replay
    key until its signature expires, and say what each is. None: new, apply its events. An
    IngestReport (every event a duplicate): the same request sent again, which changes
    nothing. REPLAYED: its key was used by another request (a Mailgun token under other
    event-data), refused.

    The database decides, not a read before the write: the keys are inserted with the conflict
    ignored and the statement returns those it inserted, so of two receivers given the same
    key at once, one inserts it and the other (PostgreSQL waits for the first's commit) finds
    it taken. Committed only with the events: a request whose commit fails is not
    remembered, and the sender's retry applies."""
    first: dict[str, int] = {}
    for number, inbound in enumerate(inbounds):
        if inbound.replay_key:
            first.setdefault(inbound.replay_key, number)
    verdicts: list[IngestReport | str | None] = [None] * len(inbounds)
    if not first:
        return verdicts
    rows = [
        {
            SeenRequest.key: key,
            SeenRequest.digest: inbounds[number].digest,
            SeenRequest.expires_at: _naive_utc(inbounds[number].expires_at),
        }
        for key, number in sorted(first.items())  # one order of keys for every writer
    ]
    inserted = {
        row[0]
        for row in SeenRequest.insert_many(rows)
        .on_conflict_ignore()
        .returning(SeenRequest.key)
        .tuples()
        .execute()
    }
    taken = [key for key in first if key not in inserted]
    earlier = (
        dict(
            SeenRequest.select(SeenRequest.key, SeenRequest.digest)
            .where(SeenRequest.key.in_(taken))
            .tuples()
        )
        if taken
        else {}
    )
    for number, inbound in enumerate(inbounds):
        key = inbound.replay_key
        if not key or (key in inserted and first[key] == number):
            continue
        digest = earlier.get(key, inbounds[first[key]].digest)
        if digest == inbound.digest:
            verdicts[number] = IngestReport(duplicates=len(inbound.records))
        else:
            verdicts[number] = REPLAYED
    return verdicts


def forget_expired(now: datetime) -> int:
    """Forget the remembered requests whose signatures have expired (one statement)."""
    return SeenRequest.delete().where(SeenRequest.expires_at < now).execute()


def _naive_utc(unix_time: float) -> datetime:
    return datetime.fromtimestamp(unix_time, UTC).replace(tzinfo=None)


def _failure(exc: BaseException) -> Outcome:
    from data.db import describe

    return Outcome(
        error=describe(exc),
        unavailable=_is_unreachable(exc),
        refused=isinstance(exc, peewee.DataError | peewee.IntegrityError),
    )


def _count_received(counts: dict[str, int], now: datetime) -> None:
    """Add this commit's events to their source's minute (one prepared statement: it runs with
    every commit, so Peewee does not write it each time)."""
    minute = now.replace(second=0, microsecond=0)
    when = minute.isoformat(" ") if is_sqlite() else minute
    p = database.param
    database.cursor().executemany(
        f'INSERT INTO "received_count" ("source", "minute", "events") VALUES ({p}, {p}, {p}) '
        'ON CONFLICT ("source", "minute") DO UPDATE '
        'SET "events" = "received_count"."events" + excluded."events"',
        [(source, when, n) for source, n in counts.items() if n],
    )


# What the Connectors screen shows ----------------------------------------------------------------

SOURCES = ("mailgun", "sendgrid", "webhook")
"""The event log's `source` of each endpoint's events."""


@dataclass
class ReceiverStatus:
    """Whether a receiver runs on this database, what came in the last hour, and the last
    thing refused (a request, or an event the ingest path rejected)."""

    running: bool
    host: str = ""
    port: int = 0
    pid: int = 0
    endpoints: tuple[str, ...] = ()
    started_at: datetime | None = None
    last_seen: datetime | None = None
    """When it stopped, or last gave a sign of life."""
    last_hour: dict[str, int] | None = None
    last_refusal: str = ""
    last_refusal_at: datetime | None = None


def receiver_status(now: datetime | None = None) -> ReceiverStatus:
    """The newest receiver's state, read in a few small queries."""
    now = now or utcnow()
    latest = Receiver.select().order_by(Receiver.seen_at.desc(), Receiver.id.desc()).first()
    since = now - timedelta(hours=1)
    counts = Counter(
        {source: 0 for source in SOURCES}
        | dict(
            ReceivedCount.select(ReceivedCount.source, fn.SUM(ReceivedCount.events))
            .where(ReceivedCount.minute >= since.replace(second=0, microsecond=0))
            .group_by(ReceivedCount.source)
            .tuples()
        )
    )
    status = ReceiverStatus(running=False, last_hour=dict(counts))
    if latest is not None:
        status.running = latest.stopped_at is None and (now - latest.seen_at) <= timedelta(
            seconds=ALIVE
        )
        status.host, status.port, status.pid = latest.host, latest.port, latest.pid
        status.endpoints = tuple(e for e in latest.endpoints.split(",") if e)
        status.started_at = latest.started_at
        status.last_seen = latest.stopped_at or latest.seen_at
        status.last_refusal, status.last_refusal_at = latest.last_refusal, latest.last_refusal_at
    rejected = _last_rejected_event()
    if rejected is not None and (
        status.last_refusal_at is None or rejected.received_at >= status.last_refusal_at
    ):
        status.last_refusal = f"{rejected.source}: {rejected.reason}"
        status.last_refusal_at = rejected.received_at
    return status


def _last_rejected_event() -> EngagementEvent | None:
    """The newest rejected event from a connector (the rejected events' own index)."""
    E = EngagementEvent
    return (
        E.select(E.source, E.reason, E.received_at)
        .where((E.outcome == EventOutcome.REJECTED) & E.source.in_(SOURCES))
        .order_by(E.id.desc())
        .first()
    )
