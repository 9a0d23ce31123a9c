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
