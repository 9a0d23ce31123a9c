"""Resuming a file ingest that was killed: skip exactly the batches it had committed.

Only for files: a stream on standard input is never the same twice, so it is de-duplicated by
event id instead (and events without an id apply again, which leaves every member unchanged)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator
from datetime import datetime

from data.ingest.parsing import Received
from data.ingest.record import IngestReport, report_from
from data.models import IngestRun, utcnow


def _fingerprint(received: Received) -> bytes:
    return received.raw + b"\n"


class RunTracker:
    """Ties an ingest of a file to an `IngestRun` row, committed with each batch, so that a run
    killed at any point and started again over the same input skips exactly the batches already
    committed and ends in the same state as one uninterrupted run."""

    def __init__(self, source: str, batch_size: int, now: datetime) -> None:
        self.source, self.batch_size, self.now = source, batch_size, now
        self.run: IngestRun | None = None
        self.hasher = hashlib.sha256()
        self.resumed_from = 0

    def pending(
        self, batches: Iterable[list[Received]], report: IngestReport
    ) -> Iterator[list[Received]]:
        """The batches still to apply; on a resume, `report` starts from the earlier counts."""
        candidates = list(
            IngestRun.select().where(
                (IngestRun.source == self.source)
                & (IngestRun.finished == False)
                & (IngestRun.batch_size == self.batch_size)
                & (IngestRun.records_done > 0)
            )
        )
        horizon = max((c.records_done for c in candidates), default=0)
        lookahead, held, seen = hashlib.sha256(), [], 0
        for batch in batches:
            if seen >= horizon:
                yield batch
                continue
            for received in batch:
                lookahead.update(_fingerprint(received))
            seen += len(batch)
            held.append(batch)
            digest = lookahead.hexdigest()
            match = next(
                (c for c in candidates if c.records_done == seen and c.prefix_sha == digest), None
            )
            if match is not None:
                self.run, self.hasher, self.resumed_from = match, lookahead.copy(), seen
                report.add(report_from(json.loads(match.counts)))
                held, horizon = [], 0
            elif seen >= horizon:
                yield from held
                held = []
        yield from held

    def advance(self, batch: list[Received], report: IngestReport) -> None:
        """Record progress inside the batch's transaction."""
        for received in batch:
            self.hasher.update(_fingerprint(received))
        if self.run is None:
            self.run = IngestRun.create(
                source=self.source,
                batch_size=self.batch_size,
                started_at=self.now,
                updated_at=self.now,
            )
        self.run.records_done += len(batch)
        self.run.prefix_sha = self.hasher.hexdigest()
        self.run.counts = json.dumps(report.as_dict())
        self.run.updated_at = utcnow()
        self.run.save()

    def finish(self) -> None:
        if self.run is not None:
            IngestRun.update(finished=True, updated_at=utcnow()).where(
                IngestRun.id == self.run.id
            ).execute()
