"""Engagement event ingest, by concern: `parsing` (bytes to events, never an exception),
`applying` (campaign and member look-up, de-duplication, the member write), `resuming` (a
killed file ingest starts again where it stopped) and `running` (batches and live streams)."""

from data.ingest.applying import apply_resolved, lock_members, set_member_status
from data.ingest.parsing import parse_event, parse_time, read_records
from data.ingest.record import Event, IngestReport
from data.ingest.running import BATCH_SIZE, MAX_DELAY, ingest_records, ingest_stream

__all__ = [
    "BATCH_SIZE",
    "MAX_DELAY",
    "Event",
    "IngestReport",
    "apply_resolved",
    "ingest_records",
    "ingest_stream",
    "lock_members",
    "parse_event",
    "parse_time",
    "read_records",
    "set_member_status",
]
