"""`campaigns ingest -` as a connector keeps it open: each event committed within about a second,
without waiting for a full batch or the end of the stream, and never held back by a killed run."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from data.db import database, make_database
from data.enrollment import enroll
from tests import factories as f

PATIENCE = 20.0
"""Seconds to wait for a commit before calling it missing (it comes within about a second)."""


@pytest.fixture
def feed_db(fresh_db):
    for n in range(3):
        f.lead(email=f"p{n}@example.com")
    enroll(f.campaign("Live"))
    database.close()
    return fresh_db


def event(event_id: str, who: int = 0, kind: str = "open") -> bytes:
    return (
        json.dumps(
            {
                "id": event_id,
                "type": kind,
                "campaign": "Live",
                "email": f"p{who}@example.com",
                "at": "2026-03-02T09:00:00Z",
            }
        ).encode()
        + b"\n"
    )


def start(db) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "tui_app", "--db", str(db), "ingest", "-", "--json"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "CAMPAIGNS_DB": str(db)},
    )


def outcome(db, event_id: str) -> str | None:
    """What the event did, as another connection reads it (None while it is not committed)."""
    reader = make_database(str(db))
    try:
        row = reader.execute_sql(
            f"SELECT outcome FROM engagement_event WHERE event_id = {reader.param} "
            "ORDER BY id DESC",
            (event_id,),
        ).fetchone()
    finally:
        reader.close()
    return row[0] if row else None


def wait_for_commit(db, event_id: str, proc: subprocess.Popen) -> str | None:
    """The event's outcome once another connection can read it (None if it never comes while
    the ingest runs)."""
    deadline = time.monotonic() + PATIENCE
    while time.monotonic() < deadline and proc.poll() is None:
        found = outcome(db, event_id)
        if found:
            return found
        time.sleep(0.02)
    return None


def finish(proc: subprocess.Popen) -> tuple[bytes, bytes]:
    """What the ingest printed once its input is closed and it has exited."""
    proc.wait(timeout=60)
    return proc.stdout.read(), proc.stderr.read()


def test_a_stream_is_committed_as_it_flows(feed_db):
    proc = start(feed_db)
    try:
        proc.stdin.write(event("ev1"))
        proc.stdin.flush()
        sent = time.monotonic()
        assert wait_for_commit(feed_db, "ev1", proc) == "applied"
        waited = time.monotonic() - sent
        assert proc.poll() is None, "committed while the stream is still open"
        assert waited < PATIENCE
        proc.stdin.write(event("ev2", kind="click"))
        proc.stdin.close()
        out, err = finish(proc)
    finally:
        proc.kill()
    assert proc.returncode == 0, err
    assert json.loads(out)["applied"] == 2


def test_a_killed_stream_does_not_hold_back_the_next_one(feed_db):
    first = start(feed_db)
    try:
        first.stdin.write(event("a1", 0) + event("a2", 1) + event("a3", 2))
        first.stdin.flush()
        assert wait_for_commit(feed_db, "a3", first) == "applied"
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait()
    second = start(feed_db)
    try:
        second.stdin.write(event("b1", 0, "click"))
        second.stdin.flush()
        assert wait_for_commit(feed_db, "b1", second) == "applied"
        second.stdin.write(event("a1", 0))  # sent again: a duplicate, by its id
        second.stdin.close()
        out, err = finish(second)
    finally:
        second.kill()
    assert second.returncode == 0, err
    report = json.loads(out)
    assert (report["applied"], report["duplicates"]) == (1, 1)


def test_each_batch_of_a_stream_carries_its_own_received_time(feed_db, monkeypatch):
    """A long stream's events are stamped when their batch is applied, not when the run began."""
    from datetime import datetime, timedelta

    from data.ingest import running
    from data.ingest.running import ingest_records
    from data.models import EngagementEvent

    ticks = iter(range(1000))
    start_at = datetime(2026, 11, 20, 12, 0, 0)
    monkeypatch.setattr(running, "utcnow", lambda: start_at + timedelta(minutes=next(ticks)))
    database.connect(reuse_if_open=True)
    ingest_records([event(f"e{n}", who=n % 3) for n in range(6)], batch_size=2)
    received = [
        at
        for (at,) in EngagementEvent.select(EngagementEvent.received_at)
        .tuples()
        .order_by(EngagementEvent.id)
    ]
    assert len(received) == 6
    assert received[0] == received[1] < received[2] == received[3] < received[4] == received[5]
