"""Removals and their undo beside live ingest streams, on both backends: real ingest processes
write while this process cleans, removes and undoes, and no member or event is lost.

Every journal entry keeps a copy of each member it removed (its count equals its copies), every
removal undone brings every person back, and no event logged as applied points at no member or
at a member whose record does not show it."""

from __future__ import annotations

import json
import random
import subprocess
import sys
import threading

from peewee import fn

from data.db import database
from data.engagement import MILESTONE_FIELDS
from data.enrollment import clean_exits, enroll, remove_emails
from data.models import CampaignMember, EngagementEvent, JournalEntry, JournalMember
from data.undo import undo
from tests import factories

CAMPAIGN = "Race Day"

MILESTONE_OF = {"open": MILESTONE_FIELDS[0], "click": MILESTONE_FIELDS[1]}
"""The milestone an applied event of each type leaves on its member (no later than the event)."""

AT = "2026-03-02T09:00:00Z"

STREAMED = 120
"""Events each stream sends, one commit each: a few seconds of writing beside the removals."""


def _campaign(n: int):
    campaign = factories.campaign(CAMPAIGN, kind="leads")
    for i in range(n):
        factories.lead(email=f"racer{i}@example.com")
    enroll(campaign)
    return campaign


class Stream:
    """A `campaigns ingest - --batch-size 1` process sent `count` events (each its own commit)."""

    def __init__(self, db, kinds: tuple[str, ...], emails: list[str], seed: int, count: int):
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tui_app", "--db", str(db), "ingest", "-"]
            + ["--batch-size", "1", "--json"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        rng = random.Random(seed)
        events = [
            {
                "type": rng.choice(kinds),
                "campaign": CAMPAIGN,
                "email": rng.choice(emails),
                "at": f"2026-03-{1 + n % 28:02d}T10:{n % 60:02d}:00Z",
            }
            for n in range(count)
        ]
        self.lines = "".join(json.dumps(event) + "\n" for event in events)
        self.report: dict = {}
        self.error = ""
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        out, self.error = self.process.communicate(self.lines, timeout=300)
        if self.process.returncode == 0:
            self.report = json.loads(out)

    @property
    def running(self) -> bool:
        return self.thread.is_alive()

    def finish(self) -> dict:
        self.thread.join(timeout=300)
        assert self.process.returncode == 0, self.error
        return self.report


def _race(streams: list[Stream], step, cycles: int) -> int:
    """Run `step` while the streams are still sending, at most `cycles` times (at least once
    after each stream has committed something); how many times it ran."""
    try:
        while EngagementEvent.select().count() < len(streams):  # the streams have begun
            assert all(s.running for s in streams), [s.error for s in streams]
        ran = 0
        while ran < cycles and any(s.running for s in streams):
            step()
            ran += 1
        return ran
    finally:
        for stream in streams:
            stream.finish()


def _assert_nothing_lost(campaign, people: int) -> None:
    J, E, M = JournalMember, EngagementEvent, CampaignMember
    copies = dict(
        J.select(J.entry, fn.COUNT(J.id)).group_by(J.entry).tuples()  # type: ignore[arg-type]
    )
    for entry in JournalEntry.select().where(JournalEntry.action.in_(["clean", "remove"])):
        assert entry.count == copies.get(entry.id, 0), (
            f"journal entry {entry.id} removed {entry.count} and kept {copies.get(entry.id, 0)}"
        )
    assert M.select().where(M.campaign == campaign.id).count() == people
    pointless = E.select().where((E.outcome == "applied") & E.member.is_null()).count()
    assert pointless == 0, f"{pointless} applied events point at no member"
    for kind, field in MILESTONE_OF.items():
        stale = (
            E.select()
            .join(M, on=(M.id == E.member))
            .where(
                (E.outcome == "applied")
                & (E.type == kind)
                & (getattr(M, field).is_null() | (getattr(M, field) > E.at))
            )
            .count()
        )
        assert stale == 0, f"{stale} applied {kind} events that their member does not show"


def test_clean_and_undo_beside_streams_of_exits_lose_no_member(fresh_db):
    """Three ingest streams send unsubscribes, bounces and opens while this process cleans the
    campaign and undoes the clean, again and again: each clean keeps a copy of every member it
    removes (a member who became an exit between the copy and the removal stays for the next
    clean), so every undo brings everyone back."""
    people = 600
    campaign = _campaign(people)
    emails = [f"racer{i}@example.com" for i in range(people)]
    database.close()
    kinds = ("unsubscribe", "bounce", "open")
    streams = [Stream(fresh_db, kinds, emails, seed, count=STREAMED) for seed in range(3)]
    database.connect(reuse_if_open=True)

    def clean_then_undo() -> None:
        if clean_exits(campaign):
            undo(campaign_id=campaign.id)

    assert _race(streams, clean_then_undo, cycles=150) >= 3
    _assert_nothing_lost(campaign, people)


def test_remove_and_undo_beside_a_stream_restore_no_stale_copy(fresh_db):
    """Ingest streams send opens and clicks to members that this process removes (`members
    remove`) and brings back (undo), again and again: the copy a removal keeps is the record it
    removed, so no event applied before the removal is lost by its undo, and none points at no
    member."""
    people = 200
    campaign = _campaign(people)
    emails = [f"racer{i}@example.com" for i in range(people)]
    database.close()
    streams = [Stream(fresh_db, ("open", "click"), emails, seed, count=STREAMED) for seed in (1, 2)]
    database.connect(reuse_if_open=True)
    rng = random.Random(9)

    def remove_then_undo() -> None:
        removed, _missing = remove_emails(campaign, rng.sample(emails, 40))
        if removed:
            undo(campaign_id=campaign.id)

    assert _race(streams, remove_then_undo, cycles=150) >= 3
    _assert_nothing_lost(campaign, people)
    _assert_every_event_shows(campaign)


def _assert_every_event_shows(campaign) -> None:
    """Every open and click sent shows on its member's record, however it was logged (applied
    then, or "no such member" while removed and applied by the undo)."""
    E, M = EngagementEvent, CampaignMember
    shown = {
        member.lead.email: member
        for member in M.select().where(M.campaign == campaign.id)  # every member is back
    }
    missing = [
        (event.email, event.type, event.outcome)
        for event in E.select().where(E.source == "ingest")
        if getattr(shown[event.email], MILESTONE_OF[event.type]) is None
        or getattr(shown[event.email], MILESTONE_OF[event.type]) > event.at
    ]
    assert not missing, f"{len(missing)} events sent that their member does not show: {missing[:5]}"


def _deadlock(sqlstate_error):
    """The error peewee raises when the server chose this transaction as a deadlock's victim
    (or refused it a serializable view): the driver's error, wrapped as peewee wraps it."""
    import peewee

    try:
        with peewee.ExceptionWrapper(peewee.EXCEPTIONS):
            raise sqlstate_error("deadlock detected")
    except peewee.PeeweeException as wrapped:
        return wrapped
    raise AssertionError("not wrapped")


def _failing_once(monkeypatch, module, errors: list) -> list:
    """Make `module.resolve_members` raise each of `errors` once, on the first calls."""
    real = module.resolve_members
    calls: list = []

    def resolve(events):
        calls.append(len(events))
        if errors:
            raise errors.pop(0)
        return real(events)

    monkeypatch.setattr(module, "resolve_members", resolve)
    return calls


def test_a_deadlocked_receiver_commit_is_retried_never_answered_503(fresh_db, monkeypatch):
    """A deadlock (40P01) or serialization failure (40001) is the server rolling the group back
    for another writer's sake: the receiver runs it again and answers with the counts; it is
    never taken for an unreachable database (503)."""
    import psycopg

    from data import receiver
    from data.ingest.running import as_received
    from data.webhooks import Inbound

    campaign = _campaign(2)
    errors = [_deadlock(psycopg.errors.DeadlockDetected)]
    errors.append(_deadlock(psycopg.errors.SerializationFailure))
    assert not receiver._failure(errors[0]).unavailable
    assert not receiver._failure(errors[1]).unavailable
    calls = _failing_once(monkeypatch, receiver, errors)
    event = {"type": "open", "campaign": CAMPAIGN, "email": "racer0@example.com", "at": AT}
    outcomes: list = []
    inbound = Inbound("generic", [as_received(event)])
    request = receiver._Request(inbound, outcomes.append)
    receiver.GroupCommit()._commit_group([request])
    [outcome] = outcomes
    assert (outcome.unavailable, outcome.error) == (False, "")
    assert outcome.report.applied == 1
    assert len(calls) == 3  # two conflicts, then the commit
    assert CampaignMember.get(CampaignMember.campaign == campaign.id, CampaignMember.rung > 0)


def test_a_deadlocked_ingest_batch_is_retried(fresh_db, monkeypatch):
    import psycopg

    from data.ingest import running

    _campaign(2)
    calls = _failing_once(monkeypatch, running, [_deadlock(psycopg.errors.DeadlockDetected)])
    event = {"type": "open", "campaign": CAMPAIGN, "email": "racer1@example.com", "at": AT}
    report = running.ingest_records([event])
    assert (report.applied, len(calls)) == (1, 2)
