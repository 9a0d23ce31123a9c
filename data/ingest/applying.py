"""Applying events: find the campaign and member each reaches, de-duplicate, fold, write.

A batch is one transaction with a fixed number of statements whatever its size: a look-up of the
campaigns, people and members it names, a read of those members that locks them
(`lock_members`), a look-up of the event ids seen before, one multi-row insert of the event log,
one multi-row update of the changed members, one update of the counters per campaign, and the
suppression of the addresses that unsubscribed or bounced (`suppression.suppress_addresses`).
Every read that a decision depends on happens inside the transaction, so two writers cannot both
decide from the same old record. The status rule itself is
`MemberState.apply`; nothing here decides status.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from peewee import SQL, chunked

from data.db import database, insert_rows, is_sqlite, rows_where_in
from data.engagement import (
    DERIVED_FIELDS,
    EVENT_FOR_STATUS,
    MILESTONE_FIELDS,
    STATE_FIELDS,
    MemberState,
    manual_change,
    rollup_buckets,
)
from data.identity import members_reached
from data.ingest.record import Event, IngestReport
from data.models import Campaign, CampaignMember, Contact, EngagementEvent, Lead, utcnow
from data.rollups import add_to_counters
from data.suppression import SuppressionEntry, suppress_addresses
from data.vocab import EventOutcome

CHUNK = 5_000
"""Values per IN list (SQLite allows 32,766 parameters a statement)."""

SEEN_OUTCOMES = "outcome IN ('applied', 'unchanged')"
"""The events whose id counts as seen: written as the unique index's own predicate, so that
the look-up uses it."""


# Resolving ---------------------------------------------------------------------------------------


def resolve_campaigns(events: Iterable[Event]) -> None:
    """Set each event's campaign id: a JSON number is an id; text is a name, else an id."""
    wanted = [e for e in events if not e.reason]
    names = {e.campaign_ref.strip() for e in wanted if e.campaign_number is None}
    by_name: dict[str, int] = {}
    for chunk in chunked(sorted(names), CHUNK):
        by_name.update(
            (name, cid)
            for cid, name in rows_where_in(
                Campaign.select(Campaign.id, Campaign.name), Campaign.name, chunk
            )
        )
    numbers = {e.campaign_number for e in wanted if e.campaign_number is not None}
    numbers.update(
        int(ref)
        for ref in names
        if ref not in by_name and ref.isascii() and ref.isdigit() and len(ref) < 19
    )
    numbers = {n for n in numbers if 0 < n < 2**63}
    ids: set[int] = set()
    for id_chunk in chunked(sorted(numbers), CHUNK):
        ids.update(
            row[0] for row in rows_where_in(Campaign.select(Campaign.id), Campaign.id, id_chunk)
        )
    for event in wanted:
        ref = event.campaign_ref.strip()
        if event.campaign_number is not None:
            found = event.campaign_number if event.campaign_number in ids else None
        elif ref in by_name:
            found = by_name[ref]
        else:
            found = int(ref) if ref.isascii() and ref.isdigit() and int(ref) in ids else None
        if found is None:
            event.reject("unknown_campaign", f"unknown campaign {event.campaign_ref!r}")
        event.campaign_id = found


def resolve_members(events: Iterable[Event]) -> None:
    """Set each event's member: the one membership its address has in its campaign
    (`identity.members_reached`: a contact's where the contact is a member, else the lead's,
    also after the lead was converted).

    Read afresh for every batch, so a member removed and enrolled again while a long ingest
    runs is found under its new id."""
    wanted = [e for e in events if not e.reason]
    found = members_reached((e.campaign_id, e.address) for e in wanted if e.campaign_id is not None)
    for event in wanted:
        if event.campaign_id is not None:
            event.member_id = found.get((event.campaign_id, event.address))
        if event.member_id is None:
            event.reject("no_member", f"no such member: {event.email} in {event.campaign_ref}")


# Reading members for a decision ------------------------------------------------------------------

WRITTEN_FIELDS = (*STATE_FIELDS, *DERIVED_FIELDS)
"""What an event can change in a member row."""


def _as_datetime(value):
    """A stored timestamp as a datetime (SQLite hands back text, other databases datetimes)."""
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(value)


class LockedMember:
    __slots__ = ("id", "campaign", "person", "state")

    def __init__(self, row: tuple) -> None:
        self.id, self.campaign, lead, contact = row[:4]
        self.person = ("lead", lead) if lead else ("contact", contact)
        values = dict(zip(STATE_FIELDS, row[4:]))
        for name in MILESTONE_FIELDS:
            values[name] = _as_datetime(values[name])
        values["bounced"] = bool(values["bounced"])
        values["unsubscribed"] = bool(values["unsubscribed"])
        self.state = MemberState(**values)


def lock_members(member_ids: Iterable[int]) -> dict[int, LockedMember]:
    """Read the members a decision will be made from, inside the caller's write transaction,
    locking them until it ends: `SELECT … FOR UPDATE` in id order where the database locks
    rows (so two writers cannot deadlock), while SQLite's IMMEDIATE transaction already holds
    the one write lock. Every read-decide-write of members goes through here."""
    M = CampaignMember
    columns = [M.id, M.campaign, M.lead, M.contact, *[getattr(M, c) for c in STATE_FIELDS]]
    locks = not is_sqlite()
    members: dict[int, LockedMember] = {}
    for chunk in chunked(sorted(set(member_ids)), CHUNK):
        query = M.select(*columns).order_by(M.id)
        if locks:
            query = query.for_update()
        for row in rows_where_in(query, M.id, chunk):
            members[row[0]] = LockedMember(row)
    return members


def _seen_event_ids(ids: list[str]) -> set[str]:
    seen: set[str] = set()
    E = EngagementEvent
    for chunk in chunked(sorted(set(ids)), CHUNK):
        query = E.select(E.event_id).where(SQL(SEEN_OUTCOMES))
        seen.update(row[0] for row in rows_where_in(query, E.event_id, chunk))
    return seen


# Applying ----------------------------------------------------------------------------------------


def apply_resolved(events: list[Event], source: str = "ingest", now: datetime | None = None):
    """De-duplicate, fold into member records and write everything in one transaction.

    Accepted events carry their member id; the member is read (and locked) here."""
    report = IngestReport()
    now = now or utcnow()
    with database.atomic():
        members = lock_members(e.member_id for e in events if e.member_id and not e.reason)
        ids = [e.event_id for e in events if e.event_id and not e.reason]
        seen = _seen_event_ids(ids) if ids else set()
        before = {mid: m.state for mid, m in members.items()}
        state = dict(before)
        suppressing: list[SuppressionEntry] = []
        for event in events:
            if not event.reason and event.member_id not in members:
                event.reject("no_member", f"no such member: {event.email} in {event.campaign_ref}")
            if event.reason:
                event.outcome = EventOutcome.REJECTED
                report.rejected += 1
                report.reasons[event.reason_kind] += 1
                continue
            if event.event_id:
                if event.event_id in seen:
                    event.outcome = EventOutcome.DUPLICATE
                    report.duplicates += 1
                    continue
                seen.add(event.event_id)
            mid = event.member_id
            assert mid is not None and event.at is not None  # an accepted event has both
            current = state[mid]
            after = current.apply(event.type, event.at)
            if after is current:
                event.outcome = EventOutcome.UNCHANGED
                report.unchanged += 1
            else:
                state[mid] = after
                event.outcome = EventOutcome.APPLIED
                report.applied += 1
            if event.type in ("bounce", "unsubscribe"):
                suppressing.append(
                    SuppressionEntry(
                        event.address or _address_of(members[mid]),
                        event.type,
                        event.at,
                        event_id=event.event_id,
                        campaign_id=event.campaign_id,
                    )
                )
        _write_events(events, source, now)
        _write_members(members, before, state)
        suppress_addresses(suppressing, now)  # the address, and every record with it
    return report


def _stamp(value):
    """A timestamp as the text SQLite keeps (what the driver would make of a datetime),
    formatted here once instead of through the driver's adapter for every row; other values
    as they are."""
    return value.isoformat(" ") if isinstance(value, datetime) else value


def _write_events(events: list[Event], source: str, now: datetime) -> None:
    E = EngagementEvent
    received = _stamp(now) if is_sqlite() else now
    stamp = _stamp if is_sqlite() else (lambda value: value)
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
        E.received_line,
        E.source,
        E.received_at,
    ]
    rows = [
        (
            e.event_id if e.outcome != EventOutcome.REJECTED else (e.event_id or "")[:255] or None,
            (e.type if e.outcome != EventOutcome.REJECTED else e.sent_type or e.type)[:255],
            e.campaign_id,
            e.campaign_ref[:255],
            e.email[:255],
            stamp(e.at),
            e.member_id if e.outcome != EventOutcome.REJECTED else None,
            e.outcome,
            e.reason[:255],
            e.extra,
            e.raw if e.outcome == EventOutcome.REJECTED else "",
            source,
            received,
        )
        for e in events
    ]
    insert_rows(E, fields, rows)


def _write_members(members: dict[int, LockedMember], before: dict, state: dict) -> None:
    """Write the changed members' state and add the difference they make to the counters."""
    changed = []
    deltas: dict[int, list[int]] = {}
    stamp = _stamp if is_sqlite() else (lambda value: value)
    for mid, after in state.items():
        if after is before[mid]:
            continue
        changed.append((*[stamp(getattr(after, name)) for name in WRITTEN_FIELDS], mid))
        old, new = rollup_buckets(before[mid]), rollup_buckets(after)
        delta = deltas.setdefault(members[mid].campaign, [0] * len(old))
        for i, (a, b) in enumerate(zip(old, new)):
            delta[i] += b - a
    if changed:
        database.cursor().executemany(_update_member_sql(), changed)
    add_to_counters(deltas)


def _update_member_sql() -> str:
    """UPDATE of one member's state by id, its parameters in the order `_write_members` gives."""
    columns = WRITTEN_FIELDS
    param = database.param
    sets = ", ".join(f'"{name}" = {param}' for name in columns)
    return f'UPDATE "{CampaignMember._meta.table_name}" SET {sets} WHERE "id" = {param}'


def _address_of(member: LockedMember) -> str:
    """The member's own address, for an event that came without one (a manual change)."""
    kind, pid = member.person
    model = Lead if kind == "lead" else Contact
    return model.select(model.email).where(model.id == pid).scalar()


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
