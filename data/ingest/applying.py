"""Applying events: find the campaign and member each reaches, de-duplicate, fold, write.

A batch is one transaction with a fixed number of statements whatever its size: a look-up of the
campaigns, people and members it names, a read of those members that locks them
(`lock_members`), a look-up of the event ids seen before, one multi-row insert of the event log,
one multi-row update of the changed members, one update of each counter it changed (all at once,
in one order: `rollups.add_to_counters`), and the suppression of the addresses that unsubscribed
or bounced (`suppression.suppress_addresses`). Every read that a decision depends on happens
inside the transaction, so two writers cannot both decide from the same old record. The status
rule itself is `MemberState.apply`, over the campaign's labels (`labels.ladders`, read in the
same transaction and kept from changing until it ends); nothing here decides status.
"""

from __future__ import annotations

import functools
import json
import operator
from collections.abc import Iterable
from datetime import datetime

from peewee import SQL

from data.db import database, insert_rows, is_sqlite, rows_where_in
from data.engagement import (
    DERIVED_FIELDS,
    EVENT_FOR_EXIT,
    MILESTONE_FIELDS,
    STATE_FIELDS,
    STATUS_EVENT,
    MemberState,
    manual_change,
    rollup_buckets,
)
from data.enrollment import hold_campaigns
from data.identity import members_reached
from data.ingest.record import Event, IngestReport, storable
from data.labels import ladders as campaign_ladders
from data.models import (
    SEEN_OUTCOMES,
    Campaign,
    CampaignMember,
    Contact,
    EngagementEvent,
    Lead,
    utcnow,
)
from data.rollups import add_to_counters, counters_written_once
from data.score import STOPPING, counts, points, weight
from data.scores import Touch, add_to_scores, members_addresses
from data.sql import ARRAY_PARAM, chunked, pg_type, transaction
from data.suppression import SuppressionEntry, suppress_addresses, suppress_erased
from data.vocab import EventOutcome

CHUNK = 5_000
"""Values per IN list (SQLite allows 32,766 parameters a statement)."""

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


def resolve_members(events: Iterable[Event]) -> dict[int, LockedMember]:
    """Set each event's member, the one membership its address has in its campaign
    (`identity.members_reached`: a contact's where the contact is a member, else the lead's,
    also after the lead was converted), and read those members for the decision, locked
    (`lock_members`).

    Read afresh in every batch's transaction, so a member removed and enrolled again while a
    long ingest runs is found under its new id."""
    wanted = [e for e in events if not e.reason]
    hold_campaigns(e.campaign_id for e in wanted if e.campaign_id is not None)
    found = members_reached((e.campaign_id, e.address) for e in wanted if e.campaign_id is not None)
    for event in wanted:
        if event.campaign_id is not None:
            event.member_id = found.get((event.campaign_id, event.address))
        if event.member_id is None:
            event.reject("no_member", f"no such member: {event.email} in {event.campaign_ref}")
    return lock_members(found.values())


# Reading members for a decision ------------------------------------------------------------------

WRITTEN_FIELDS = (*STATE_FIELDS, *DERIVED_FIELDS)
"""What an event can change in a member row."""


def _as_datetime(value):
    """A stored timestamp as a datetime (SQLite hands back text, other databases datetimes)."""
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(value)


class LockedMember:
    """A member as read for a decision: its campaign, its person and its engagement state."""

    __slots__ = ("id", "campaign", "person", "state")

    def __init__(self, row: tuple) -> None:
        self.id, self.campaign, lead, contact, rung, bounced, unsubscribed, *times, label = row
        self.person = ("lead", lead) if lead else ("contact", contact)
        opened, clicked, responded, converted = [
            _as_datetime(value) if value is not None else None for value in times
        ]
        self.state = MemberState(
            rung, bool(bounced), bool(unsubscribed), opened, clicked, responded, converted, label
        )


_ROW_ORDER = ("rung", "bounced", "unsubscribed", *MILESTONE_FIELDS, "label_id")
assert _ROW_ORDER == STATE_FIELDS, "LockedMember reads the state fields in this order"


MEMBER_READ = [
    CampaignMember.id,
    CampaignMember.campaign,
    CampaignMember.lead,
    CampaignMember.contact,
    *[getattr(CampaignMember, name) for name in STATE_FIELDS],
]
"""The columns a decision reads, in the order `LockedMember` takes them."""


def lock_members(member_ids: Iterable[int]) -> dict[int, LockedMember]:
    """Read the members a decision will be made from, inside the caller's write transaction,
    locking them until it ends: `SELECT … FOR UPDATE` in id order where the database locks
    rows (so two writers cannot deadlock), while SQLite's IMMEDIATE transaction already holds
    the one write lock. Every read-decide-write of members goes through here."""
    M = CampaignMember
    locks = not is_sqlite()
    members: dict[int, LockedMember] = {}
    for chunk in chunked(sorted(set(member_ids)), CHUNK):
        query = M.select(*MEMBER_READ).order_by(M.id)
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


def apply_resolved(
    events: list[Event],
    source: str = "ingest",
    now: datetime | None = None,
    members: dict[int, LockedMember] | None = None,
):
    """De-duplicate, fold into member records and write everything in one transaction.

    Accepted events carry their member id; the members are read (and locked) here unless the
    caller read them in the same transaction (`members`, from `resolve_members`)."""
    report = IngestReport()
    now = now or utcnow()
    with transaction(), counters_written_once():
        if members is None:
            members = lock_members(e.member_id for e in events if e.member_id and not e.reason)
        ids = [e.event_id for e in events if e.event_id and not e.reason]
        seen = _seen_event_ids(ids) if ids else set()
        ladders = campaign_ladders({m.campaign for m in members.values()}, lock=True)
        before = {mid: m.state for mid, m in members.items()}
        state = dict(before)
        suppressing: list[SuppressionEntry] = []
        machine: dict[int, int] = {}
        touches: dict[str, Touch] = {}
        unaddressed: list = []
        for event in events:
            if not event.reason and event.member_id not in members:
                event.reject("no_member", f"no such member: {event.email} in {event.campaign_ref}")
            label = None
            if not event.reason and event.type == STATUS_EVENT:
                ladder = ladders[members[event.member_id or 0].campaign]
                label = ladder.find(event.status)
                if label is None:
                    event.reject(
                        "unknown_status",
                        f"unknown status {event.status!r} in {event.campaign_ref}; "
                        f"its statuses are {ladder.names}",
                    )
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
            if event.machine or event.noted:
                if event.machine:
                    event.outcome = EventOutcome.MACHINE
                    report.machine += 1
                    cid = members[mid].campaign
                    machine[cid] = machine.get(cid, 0) + 1
                else:
                    event.outcome = EventOutcome.UNCHANGED
                    report.unchanged += 1
                continue
            current = state[mid]
            after = current.apply(event.type, event.at, ladders[members[mid].campaign], label)
            if after is current:
                event.outcome = EventOutcome.UNCHANGED
                report.unchanged += 1
            else:
                state[mid] = after
                event.outcome = EventOutcome.APPLIED
                report.applied += 1
            _touch(touches, unaddressed, event, members[mid], label, now)
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
        rollups, labels = _write_members(members, before, state)
        add_to_counters(rollups, labels, machine)  # every counter at once, in one order
        _address_touches(touches, unaddressed)
        add_to_scores(touches)
        suppress_addresses(suppressing, now)  # the address, and every record with it
        suppress_erased((e.address or e.email for e in events), now)  # a forgotten one is back
    return report


def _touch(
    touches: dict[str, Touch],
    unaddressed: list,
    event: Event,
    member: LockedMember,
    label,
    now: datetime,
) -> None:
    """What an event the person made adds to their score (`score`), kept by address; an event
    that came without one (a manual change) waits in `unaddressed` for its member's."""
    assert event.at is not None
    stops = event.type in STOPPING
    gained = points(weight(event.type, label.counts_as if label else None), event.at, now)
    if not (stops or gained) or not counts(event.type, event.outcome):
        return
    if not event.address:
        unaddressed.append((member, event, gained, stops))
        return
    _add_touch(touches, event.address, event, gained, stops)


def _add_touch(touches: dict[str, Touch], address: str, event: Event, gained, stops) -> None:
    assert event.at is not None
    touch = touches.get(address)
    if touch is None:
        touch = touches[address] = Touch()
    touch.stopped = touch.stopped or stops
    what = event.status if event.type == STATUS_EVENT else event.type  # a label: "Attended"
    touch.add(gained, event.at, what, event.content, event.campaign_id, touch=not stops)


def _address_touches(touches: dict[str, Touch], unaddressed: list) -> None:
    """The touches of events that came without an address, under their members' addresses
    (one look-up for the batch)."""
    if not unaddressed:
        return
    addresses = members_addresses({member.id for member, *_ in unaddressed})
    for member, event, gained, stops in unaddressed:
        address = addresses.get(member.id)
        if address:
            _add_touch(touches, address, event, gained, stops)


def _stamp(value):
    """A timestamp as the text SQLite keeps (what the driver would make of a datetime),
    formatted here once instead of through the driver's adapter for every row; other values
    as they are."""
    return value.isoformat(" ") if isinstance(value, datetime) else value


_ENGAGED = (EventOutcome.APPLIED, EventOutcome.UNCHANGED)
"""The outcomes whose events keep their content: what a person engaged with."""


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
        E.content,
    ]
    rows = [
        (
            e.event_id,
            e.type,
            e.campaign_id,
            e.campaign_ref[:255],
            e.email[:255],
            stamp(e.at),
            e.member_id,
            e.outcome,
            e.reason,
            e.extra,
            "",
            source,
            received,
            e.content if e.outcome in _ENGAGED else None,
        )
        if e.outcome != EventOutcome.REJECTED
        else (
            storable((e.event_id or "")[:255]) or None,
            storable((e.sent_type or e.type)[:255]),
            e.campaign_id,
            storable(e.campaign_ref[:255]),
            storable(e.email[:255]),
            stamp(e.at),
            None,
            e.outcome,
            storable(e.reason[:255]),
            e.extra,
            e.raw,
            source,
            received,
            None,
        )
        for e in events
    ]
    _insert_values(E, fields, rows)


def _write_members(
    members: dict[int, LockedMember], before: dict, state: dict
) -> tuple[dict[int, list[int]], dict[tuple[int, int], int]]:
    """Write the changed members; return the difference they make to the counters (the
    rollups per campaign, the members holding each (campaign, label)).

    Each member row is updated in only the columns that changed (rows grouped by which), so
    an index over a column that stayed the same is not rewritten."""
    by_columns: dict[tuple[str, ...], list[list]] = {}
    deltas: dict[int, list[int]] = {}
    labels: dict[tuple[int, int], int] = {}
    sqlite = is_sqlite()
    for mid, after in sorted(state.items()):  # in id order: each table page visited once
        old = before[mid]
        if after is old:
            continue
        names, values = [], []
        for name, value, was in zip(WRITTEN_FIELDS, _written(after), _written(old)):
            if value != was:
                names.append(name)
                values.append(value.isoformat(" ") if sqlite and name in _TIMES else value)
        values.append(mid)
        by_columns.setdefault(tuple(names), []).append(values)
        campaign = members[mid].campaign
        was = _buckets(old.rung, old.bounced, old.unsubscribed)
        now = _buckets(after.rung, after.bounced, after.unsubscribed)
        if was != now:
            delta = deltas.setdefault(campaign, [0] * len(was))
            for i, (a, b) in enumerate(zip(was, now)):
                delta[i] += b - a
        if after.label_id != old.label_id:
            for label, amount in ((old.label_id, -1), (after.label_id, 1)):
                if label is not None:
                    labels[campaign, label] = labels.get((campaign, label), 0) + amount
    if sqlite:  # in-process: one prepared statement run per row is the fastest way here
        cursor = database.cursor()
        for columns, rows in by_columns.items():
            cursor.executemany(_update_member_sql(columns), rows)
        return deltas, labels
    for columns, rows in by_columns.items():
        sql = _update_members_sql(columns)
        for part in chunked(rows, CHUNK):
            database.execute_sql(sql, [list(values) for values in zip(*part)])
    return deltas, labels


_TIMES = frozenset(MILESTONE_FIELDS)
_written = operator.attrgetter(*WRITTEN_FIELDS)


@functools.cache
def _buckets(rung: int, bounced: bool, unsubscribed: bool) -> tuple[int, ...]:
    """The rollup counters a member counts in: they depend on these three fields alone (status
    and has_responded derive from them)."""
    return rollup_buckets(MemberState(rung=rung, bounced=bounced, unsubscribed=unsubscribed))


@functools.cache
def _update_member_sql(columns: tuple[str, ...]) -> str:
    """UPDATE of these columns of one member by id, for SQLite (the values, then the id)."""
    sets = ", ".join(f'"{name}" = ?' for name in columns)
    return f'UPDATE "{CampaignMember._meta.table_name}" SET {sets} WHERE "id" = ?'


PARAMETERS = 30_000
"""Parameters per multi-row statement (SQLite allows 32,766, PostgreSQL 65,535)."""


def _values_list(width: int, count: int, param: str) -> str:
    row = "(" + ", ".join([param] * width) + ")"
    return ", ".join([row] * count)


@functools.lru_cache(maxsize=256)
def _update_members_sql(columns: tuple[str, ...]) -> str:
    """One UPDATE of these columns of many members, for PostgreSQL: each column's values (then
    the ids) as one array parameter (`sql.pg_array`), unnested into rows. One statement, not a
    round trip per member, and the same text whatever the count."""
    M = CampaignMember
    table = M._meta.table_name
    arrays = ", ".join(
        f"{ARRAY_PARAM}::{pg_type(M._meta.combined[name])}[]"  # by field or column name
        for name in columns
    )
    sets = ", ".join(f'"{name}" = v.column{i}' for i, name in enumerate(columns, start=1))
    names = ", ".join(f"column{i}" for i in range(1, len(columns) + 2))
    return (
        f'UPDATE "{table}" SET {sets} FROM unnest({arrays}, {ARRAY_PARAM}::integer[]) AS v({names})'
        f' WHERE "{table}"."id" = v.column{len(columns) + 1}'
    )


def _insert_values(model, fields, rows: list[tuple]) -> None:
    """Insert rows giving every column (`fields`): one prepared statement per row on SQLite
    (in-process, the fastest way there), by COPY where the driver has it (psycopg 3 on
    PostgreSQL), else many rows a statement."""
    if not rows:
        return
    columns = ", ".join(f'"{field.column_name}"' for field in fields)
    cursor = database.cursor()
    if is_sqlite():
        insert_rows(model, fields, rows)
        return
    if hasattr(cursor, "copy"):
        with cursor.copy(f'COPY "{model._meta.table_name}" ({columns}) FROM STDIN') as copy:
            for row in rows:
                copy.write_row(row)
        return
    head = f'INSERT INTO "{model._meta.table_name}" ({columns}) VALUES '
    param = database.param
    for part in chunked(rows, PARAMETERS // len(fields)):
        database.execute_sql(
            head + _values_list(len(fields), len(part), param),
            [value for row in part for value in row],
        )


def _address_of(member: LockedMember) -> str:
    """The member's own address, for an event that came without one (a manual change)."""
    kind, pid = member.person
    model = Lead if kind == "lead" else Contact
    return model.select(model.email).where(model.id == pid).scalar()


def set_member_status(member: CampaignMember, target: str, now: datetime | None = None):
    """A manual status change to one of the campaign's labels (a status event) or to an exit:
    the same rule as events, recorded in the log as a manual event.

    Raises StatusChangeRefused (with the reason) for an attempt to lower the status."""
    now = now or utcnow()
    ladder = campaign_ladders([member.campaign_id])[member.campaign_id]
    manual_change(member.state, target, now, ladder)
    exit_event = EVENT_FOR_EXIT.get(target)
    event = Event(
        type=exit_event or STATUS_EVENT,
        status="" if exit_event else target,
        extra="" if exit_event else json.dumps({"status": target}, ensure_ascii=False),
        campaign_ref=str(member.campaign_id),
        at=now,
        campaign_id=member.campaign_id,
        member_id=member.id,
    )
    apply_resolved([event], source="manual", now=now)
    return CampaignMember.get_by_id(member.id)
