"""Engagement event ingest: read, validate, resolve, de-duplicate and apply, a batch at a time.

Each batch is one transaction with a fixed number of statements whatever its size: a look-up of
the people, members and seen event ids it names, one multi-row insert of the event log, one
multi-row upsert of the changed members, one update of the counters per campaign and of the
reachability flags. The status rule itself is `MemberState.apply`; nothing here decides status.
"""

from __future__ import annotations

import csv
import hashlib
import itertools
import json
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime

from peewee import chunked

from data.db import database, insert_rows, rows_where_in
from data.emails import normalize_email
from data.engagement import (
    DERIVED_FIELDS,
    EVENT_FOR_STATUS,
    EVENT_TYPES,
    MILESTONE_FIELDS,
    STATE_FIELDS,
    MemberState,
    manual_change,
    rollup_buckets,
)
from data.models import (
    Campaign,
    CampaignMember,
    Contact,
    EngagementEvent,
    IngestRun,
    Lead,
    utcnow,
)
from data.rollups import add_to_counters

BATCH_SIZE = 20_000
"""Events per transaction: large enough to amortise a commit, small enough to lose little."""

KNOWN_KEYS = ("id", "type", "campaign", "email", "at")
MAX_RAW = 4_000
"""How much of an unreadable line is kept with its rejection."""


@dataclass
class IngestReport:
    applied: int = 0
    unchanged: int = 0
    duplicates: int = 0
    rejected: int = 0
    reasons: Counter = field(default_factory=Counter)
    resumed_from: int = 0
    """Events an interrupted earlier run had already committed (skipped this time)."""

    def add(self, other: IngestReport) -> None:
        self.applied += other.applied
        self.unchanged += other.unchanged
        self.duplicates += other.duplicates
        self.rejected += other.rejected
        self.reasons.update(other.reasons)

    @property
    def total(self) -> int:
        return self.applied + self.unchanged + self.duplicates + self.rejected

    def as_dict(self) -> dict:
        return {
            "applied": self.applied,
            "unchanged": self.unchanged,
            "duplicates": self.duplicates,
            "rejected": self.rejected,
            "rejected_by_reason": dict(self.reasons),
        }


@dataclass(slots=True)
class Event:
    """One received event on its way to the log; `reason` set means rejected."""

    event_id: str | None = None
    type: str = ""
    campaign_ref: str = ""
    email: str = ""
    at: datetime | None = None
    extra: str = ""
    reason: str = ""
    reason_kind: str = ""
    campaign_id: int | None = None
    member_id: int | None = None
    outcome: str = ""

    def reject(self, kind: str, detail: str) -> None:
        self.reason_kind, self.reason = kind, detail


# Reading -----------------------------------------------------------------------------------------


def read_records(stream: Iterable[str], fmt: str | None = None) -> Iterator[dict | str]:
    """Yield each event as a dict, or as the raw text when it cannot be read as an object.

    `fmt` is "jsonl" or "csv"; None guesses from the first line (`{` means JSON Lines)."""
    lines = iter(stream)
    head: list[str] = []
    for line in lines:
        head.append(line)
        if line.strip():
            break
    if fmt is None:
        fmt = "jsonl" if not head or head[-1].lstrip().startswith(("{", "[")) else "csv"
    lines = itertools.chain(head, lines)
    if fmt == "csv":
        for row in csv.DictReader(lines):
            yield {k: v for k, v in row.items() if k is not None and v not in (None, "")}
        return
    for line in lines:
        text = line.strip()
        if not text:
            continue
        try:
            value = json.loads(text)
        except ValueError:
            yield text
            continue
        yield value if isinstance(value, dict) else text


def parse_time(value) -> datetime:
    """An ISO 8601 time as naive UTC; a time without an offset is taken as UTC."""
    if not isinstance(value, str):
        raise ValueError(value)
    parsed = datetime.fromisoformat(value.strip())
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(UTC).replace(tzinfo=None)
    return parsed


def parse_event(record: dict | str) -> Event:
    """Validate one received record; the result carries its rejection reason when invalid."""
    if isinstance(record, str):
        event = Event(extra=record[:MAX_RAW])
        event.reject("malformed", "malformed JSON: not a JSON object")
        return event
    raw_id = record.get("id")
    event = Event(
        event_id=str(raw_id) if raw_id not in (None, "") else None,
        type=str(record.get("type") or "").strip().lower(),
        campaign_ref=str(record.get("campaign") if record.get("campaign") is not None else ""),
        email=normalize_email(str(record.get("email") or "")),
    )
    extra = {k: v for k, v in record.items() if k not in KNOWN_KEYS}
    if extra:
        event.extra = json.dumps(extra, default=str)[:MAX_RAW]
    if not event.type:
        event.reject("missing_field", "type is required")
    elif event.type not in EVENT_TYPES:
        event.reject("unknown_type", f"unknown type {event.type!r}")
    elif not event.campaign_ref.strip():
        event.reject("missing_field", "campaign is required")
    elif not event.email:
        event.reject("missing_field", "email is required")
    elif record.get("at") in (None, ""):
        event.reject("missing_field", "at is required")
    else:
        try:
            event.at = parse_time(record["at"])
        except ValueError:
            event.reject("bad_timestamp", f"bad timestamp {record['at']!r}")
    return event


# Resolving ---------------------------------------------------------------------------------------


class CampaignDirectory:
    """Campaign names and ids, looked up once per ingest (there are few campaigns)."""

    def __init__(self) -> None:
        self.by_ref: dict[str, int] = {}
        for cid, name in Campaign.select(Campaign.id, Campaign.name).tuples():
            self.by_ref[name] = cid
            self.by_ref.setdefault(str(cid), cid)

    def resolve(self, ref: str) -> int | None:
        ref = ref.strip()
        if ref not in self.by_ref:
            found = Campaign.get_or_none(Campaign.name == ref)
            if found is None and ref.isdigit():
                found = Campaign.get_or_none(Campaign.id == int(ref))
            if found is None:
                return None
            self.by_ref[ref] = found.id
        return self.by_ref[ref]


class MemberDirectory:
    """Which member an event is about: the member of that campaign with that email.

    Found members are remembered for the rest of the ingest (integrations send many events per
    person). Misses are not, so someone enrolled meanwhile is found; a member removed meanwhile
    is caught when the batch reads its record."""

    def __init__(self) -> None:
        self.known: dict[tuple[int, str], int] = {}

    def resolve(self, events: list[Event]) -> None:
        wanted = [e for e in events if not e.reason]
        missing = [e for e in wanted if (e.campaign_id, e.email) not in self.known]
        if missing:
            self._look_up(missing)
        for event in wanted:
            event.member_id = self.known.get((event.campaign_id, event.email))
            if event.member_id is None:
                event.reject("no_member", f"no such member: {event.email} in {event.campaign_ref}")

    def _look_up(self, events: list[Event]) -> None:
        emails = list({e.email for e in events})
        lead_of: dict[str, int] = {}
        contact_of: dict[str, int] = {}
        for chunk in chunked(emails, 5_000):
            lead_of.update(rows_where_in(Lead.select(Lead.email, Lead.id), Lead.email, chunk))
            contact_of.update(
                rows_where_in(Contact.select(Contact.email, Contact.id), Contact.email, chunk)
            )
        M = CampaignMember
        # Leads first: a contact's membership wins over the lead's when both share the email.
        for person_of, column in ((lead_of, M.lead), (contact_of, M.contact)):
            wanted_by_campaign: dict[int, dict[int, str]] = {}
            for event in events:
                pid = person_of.get(event.email)
                if pid is not None:
                    wanted_by_campaign.setdefault(event.campaign_id, {})[pid] = event.email
            for campaign_id, people in wanted_by_campaign.items():
                for chunk in chunked(list(people), 5_000):
                    query = M.select(M.id, column).where(M.campaign == campaign_id)
                    for mid, pid in rows_where_in(query, column, chunk):
                        self.known[(campaign_id, people[pid])] = mid


def _seen_event_ids(ids: list[str]) -> set[str]:
    seen: set[str] = set()
    E = EngagementEvent
    for chunk in chunked(ids, 5_000):
        query = E.select(E.event_id).where(E.outcome.in_(("applied", "unchanged")))
        seen.update(row[0] for row in rows_where_in(query, E.event_id, chunk))
    return seen


# Applying ----------------------------------------------------------------------------------------

MEMBER_COLUMNS = ("id", "campaign", "lead", "contact", "added_at", *STATE_FIELDS, *DERIVED_FIELDS)
TIME_FIELDS = ("added_at", *MILESTONE_FIELDS)


def _as_datetime(value):
    """A stored timestamp as a datetime (SQLite hands back text, other databases datetimes)."""
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(value)


def _state_of(row: dict) -> MemberState:
    """A member row as read by `apply_resolved`, as its engagement state."""
    state = {name: row[name] for name in STATE_FIELDS}
    state["bounced"], state["unsubscribed"] = bool(row["bounced"]), bool(row["unsubscribed"])
    return MemberState(**state)


def apply_resolved(events: list[Event], source: str = "ingest", now: datetime | None = None):
    """De-duplicate, fold into member records and write everything in one transaction."""
    report = IngestReport()
    now = now or utcnow()
    M = CampaignMember
    with database.atomic():
        ids = [e.event_id for e in events if e.event_id and not e.reason]
        seen = _seen_event_ids(ids) if ids else set()
        member_ids = list({e.member_id for e in events if e.member_id and not e.reason})
        rows: dict[int, dict] = {}
        for chunk in chunked(member_ids, 5_000):
            query = M.select(*[getattr(M, c) for c in MEMBER_COLUMNS])
            for values in rows_where_in(query, M.id, chunk):
                row = dict(zip(MEMBER_COLUMNS, values))
                for name in TIME_FIELDS:
                    row[name] = _as_datetime(row[name])
                rows[row["id"]] = row
        before = {mid: _state_of(row) for mid, row in rows.items()}
        state = dict(before)
        bounced_people: set[tuple[str, int]] = set()
        unsubscribed_people: set[tuple[str, int]] = set()
        for event in events:
            if not event.reason and event.member_id not in rows:
                event.reject("no_member", f"no such member: {event.email} in {event.campaign_ref}")
            if event.reason:
                event.outcome = "rejected"
                report.rejected += 1
                report.reasons[event.reason_kind] += 1
                continue
            if event.event_id:
                if event.event_id in seen:
                    event.outcome = "duplicate"
                    report.duplicates += 1
                    continue
                seen.add(event.event_id)
            current = state[event.member_id]
            after = current.apply(event.type, event.at)
            if after is current:
                event.outcome = "unchanged"
                report.unchanged += 1
            else:
                state[event.member_id] = after
                event.outcome = "applied"
                report.applied += 1
            if event.type in ("bounce", "unsubscribe"):
                row = rows[event.member_id]
                person = ("lead", row["lead"]) if row["lead"] else ("contact", row["contact"])
                (bounced_people if event.type == "bounce" else unsubscribed_people).add(person)
        _write_events(events, source, now)
        _write_members(rows, before, state)
        _set_flags(bounced_people, "email_bounced")
        _set_flags(unsubscribed_people, "do_not_email")
    return report


def _write_events(events: list[Event], source: str, now: datetime) -> None:
    E = EngagementEvent
    # Timestamps as the text SQLite keeps them (what the driver would make of a datetime),
    # formatted here once instead of through the driver's adapter for every row.
    received = now.isoformat(" ")
    fields = [
        E.event_id,
        E.type,
        E.campaign,
        E.campaign_ref,
        E.email,
        E.at,
        E.member,
        E.outcome,
        E.reason,
        E.extra,
        E.source,
        E.received_at,
    ]
    rows = [
        (
            e.event_id,
            e.type,
            e.campaign_id,
            e.campaign_ref[:255],
            e.email[:255],
            e.at.isoformat(" ") if e.at is not None else None,
            e.member_id if e.outcome != "rejected" else None,
            e.outcome,
            e.reason[:255],
            e.extra,
            source,
            received,
        )
        for e in events
    ]
    insert_rows(E, fields, rows)


def _write_members(rows: dict[int, dict], before: dict, state: dict) -> None:
    M = CampaignMember
    changed = []
    deltas: dict[int, list[int]] = {}
    for mid, after in state.items():
        if after is before[mid]:
            continue
        row = dict(rows[mid])
        for f in (*STATE_FIELDS, *DERIVED_FIELDS):
            row[f] = getattr(after, f)
        changed.append(tuple(row[c] for c in MEMBER_COLUMNS))
        old, new = rollup_buckets(before[mid]), rollup_buckets(after)
        delta = deltas.setdefault(row["campaign"], [0] * len(old))
        for i, (a, b) in enumerate(zip(old, new)):
            delta[i] += b - a
    fields = [getattr(M, c) for c in MEMBER_COLUMNS]
    preserve = [getattr(M, c) for c in (*STATE_FIELDS, *DERIVED_FIELDS)]
    insert_rows(
        M,
        fields,
        changed,
        conflict=lambda q: q.on_conflict(conflict_target=[M.id], preserve=preserve),
    )
    add_to_counters(deltas)


def _set_flags(people: set[tuple[str, int]], flag: str) -> None:
    """Set a reachability flag on these people and on the lead or contact they are linked to."""
    lead_ids = [pid for kind, pid in people if kind == "lead"]
    contact_ids = [pid for kind, pid in people if kind == "contact"]
    for chunk in chunked(lead_ids, 5_000):
        Lead.update({getattr(Lead, flag): True}).where(
            Lead.id.in_(chunk) & (getattr(Lead, flag) == False)
        ).execute()
        contact_ids.extend(
            cid
            for (cid,) in Lead.select(Lead.converted_contact)
            .where(Lead.id.in_(chunk) & Lead.converted_contact.is_null(False))
            .tuples()
        )
    for chunk in chunked(contact_ids, 5_000):
        Contact.update({getattr(Contact, flag): True}).where(
            Contact.id.in_(chunk) & (getattr(Contact, flag) == False)
        ).execute()
        Lead.update({getattr(Lead, flag): True}).where(
            Lead.converted_contact.in_(chunk) & (getattr(Lead, flag) == False)
        ).execute()


def _fingerprint(record: dict | str) -> bytes:
    text = record if isinstance(record, str) else json.dumps(record, sort_keys=True, default=str)
    return text.encode("utf-8", "surrogatepass") + b"\n"


class RunTracker:
    """Ties an ingest to an `IngestRun` row, committed with each batch, so that a run killed at
    any point and started again over the same input skips exactly the batches already
    committed and ends in the same state as one uninterrupted run."""

    def __init__(self, source: str, batch_size: int, now: datetime) -> None:
        self.source, self.batch_size, self.now = source, batch_size, now
        self.run: IngestRun | None = None
        self.hasher = hashlib.sha256()
        self.resumed_from = 0

    def pending(self, batches: Iterable[list], report: IngestReport) -> Iterator[list]:
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
            for record in batch:
                lookahead.update(_fingerprint(record))
            seen += len(batch)
            held.append(batch)
            digest = lookahead.hexdigest()
            match = next(
                (c for c in candidates if c.records_done == seen and c.prefix_sha == digest), None
            )
            if match is not None:
                self.run, self.hasher, self.resumed_from = match, lookahead.copy(), seen
                report.add(_report_from(json.loads(match.counts)))
                held, horizon = [], 0
            elif seen >= horizon:
                yield from held
                held = []
        yield from held

    def advance(self, batch: list, report: IngestReport) -> None:
        """Record progress inside the batch's transaction."""
        for record in batch:
            self.hasher.update(_fingerprint(record))
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


def _report_from(counts: dict) -> IngestReport:
    return IngestReport(
        applied=counts.get("applied", 0),
        unchanged=counts.get("unchanged", 0),
        duplicates=counts.get("duplicates", 0),
        rejected=counts.get("rejected", 0),
        reasons=Counter(counts.get("rejected_by_reason", {})),
    )


def ingest_records(
    records: Iterable[dict | str],
    batch_size: int = BATCH_SIZE,
    now: datetime | None = None,
    on_batch=None,
    source: str | None = None,
) -> IngestReport:
    """Apply events from any iterable of records, one transaction per batch.

    With `source` (a file path, or "-" for standard input), progress is committed with each
    batch and an interrupted run over the same input resumes after its last committed batch."""
    report = IngestReport()
    now = now or utcnow()
    directory = CampaignDirectory()
    members = MemberDirectory()
    tracker = RunTracker(source, batch_size, now) if source else None
    batches = (list(b) for b in chunked(records, batch_size))
    if tracker is not None:
        batches = tracker.pending(batches, report)
    for batch in batches:
        events = [parse_event(r) for r in batch]
        for event in events:
            if not event.reason:
                event.campaign_id = directory.resolve(event.campaign_ref)
                if event.campaign_id is None:
                    event.reject("unknown_campaign", f"unknown campaign {event.campaign_ref!r}")
        members.resolve(events)
        with database.atomic():
            report.add(apply_resolved(events, now=now))
            if tracker is not None:
                tracker.advance(batch, report)
        if on_batch:
            on_batch(report)
    if tracker is not None:
        tracker.finish()
        report.resumed_from = tracker.resumed_from
    return report


def ingest_stream(stream, fmt: str | None = None, **kwargs) -> IngestReport:
    return ingest_records(read_records(stream, fmt), **kwargs)


def set_member_status(member: CampaignMember, target: str, now: datetime | None = None):
    """A manual status change: the same rule as events, recorded in the log as a manual event.

    Raises StatusChangeRefused (with the reason) for an attempt to lower the status."""
    now = now or utcnow()
    manual_change(member.state, target, now)
    event = Event(
        type=EVENT_FOR_STATUS[target],
        campaign_ref=str(member.campaign_id),
        at=now,
        campaign_id=member.campaign_id,
        member_id=member.id,
    )
    apply_resolved([event], source="manual", now=now)
    return CampaignMember.get_by_id(member.id)
