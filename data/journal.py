"""The journal of bulk changes: who changed which campaign's members, when, how, and how many.

Every service that adds, removes or changes members in bulk records what it did here, in its own
transaction (`record`): the members it added (undone by removing them), or the full record of
each member it removed or changed, with the events that were linked to it, as it was before
(undone by putting it back). `data.undo` reads these records; nothing else writes them.
"""

from __future__ import annotations

import getpass
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

from peewee import JOIN, SQL, fn

from data.identity import linked_people
from data.models import (
    Campaign,
    CampaignMember,
    EngagementEvent,
    JournalEntry,
    JournalEvent,
    JournalMember,
    Person,
    utcnow,
)
from data.sql import database, is_sqlite
from data.vocab import JournalAction

PERSON_COLUMNS = ("campaign_id", "lead_id", "contact_id")
"""Who a journalled member is, by the member table's own column names."""

RECORD_FIELDS = tuple(
    name
    for name in JournalMember._meta.sorted_field_names
    if name not in ("id", "entry", "member_id", *PERSON_COLUMNS)
    and name in CampaignMember._meta.fields
)
"""The member columns a removal or a status change keeps, to put back exactly (every column the
journal's copy has: a column added to both tables is kept without further code)."""


def current_user() -> str:
    """Who is making a change: $CAMPAIGNS_USER if set, else the operating system's user name."""
    named = os.environ.get("CAMPAIGNS_USER", "").strip()
    if named:
        return named[:255]
    try:
        return getpass.getuser()
    except (OSError, KeyError):
        return "unknown"


class Change:
    """A journal entry being written, inside the change's own transaction."""

    def __init__(self, entry: JournalEntry) -> None:
        self.entry = entry
        self.count = 0
        self.summary = ""

    @property
    def id(self) -> int:
        return self.entry.id

    def keep_added(self, condition) -> None:
        """Note the members matching `condition` (on CampaignMember) as added by this change:
        called once, with members this change has just inserted (so none is noted yet)."""
        self._copy(condition, (), fresh=True)

    def keep_records(self, condition) -> None:
        """Keep the full record of the members matching `condition` (on CampaignMember) as it is
        now, with the events linked to them, before this change removes or changes them.

        The copy locks the rows it copies until the transaction ends (where the database locks
        rows, in id order as `ingest.applying.lock_members` does), so no writer changes a kept
        member or links an event to it before this change is done: remove or change exactly
        `kept()`, never the condition again (a member that came to match it meanwhile was
        neither locked nor kept)."""
        self._copy(condition, RECORD_FIELDS, lock=True)
        J, E = JournalMember, EngagementEvent
        kept = J.select(J.member_id).where(J.entry == self.entry.id)
        JournalEvent.insert_from(
            E.select(SQL(str(int(self.entry.id))), E.id, E.member).where(E.member.in_(kept)),
            [JournalEvent.entry, JournalEvent.event_id, JournalEvent.member_id],
        ).execute()

    def kept(self):
        """The members this change has noted or kept so far, as a condition on CampaignMember."""
        J = JournalMember
        return CampaignMember.id.in_(J.select(J.member_id).where(J.entry == self.entry.id))

    def _copy(
        self, condition, fields: tuple[str, ...], fresh: bool = False, lock: bool = False
    ) -> None:
        """Copy the members matching `condition` into this entry's journal; `fresh`: none of
        them can be there yet, so the copy skips ON CONFLICT (its check of each row costs);
        `lock`: the rows copied are locked by the copy itself (each as its lock found it)."""
        M, J = CampaignMember, JournalMember
        select = M.select(
            SQL(str(int(self.entry.id))),
            M.id,
            M.campaign,
            M.lead,
            M.contact,
            *[getattr(M, name) for name in fields],
        ).where(condition)
        if lock and not is_sqlite():  # SQLite's one writer already holds every row
            select = select.order_by(M.id).for_update()
        query = J.insert_from(
            select,
            [J.entry, J.member_id, *[getattr(J, c) for c in PERSON_COLUMNS], *fields],
        )
        (query if fresh else query.on_conflict_ignore()).execute()

    def done(self, count: int, summary: str) -> None:
        self.count, self.summary = count, summary


@contextmanager
def record(
    action: JournalAction, campaign: Campaign, now: datetime | None = None, who: str | None = None
) -> Iterator[Change]:
    """Write one journal entry for the change made inside the block, in the same transaction.

    The block notes what it adds or keeps what it removes, then calls `done`; a change that
    touched no member leaves no entry."""
    with database.atomic() as transaction:
        entry = JournalEntry.create(
            at=now or utcnow(),
            who=who if who is not None else current_user(),
            action=action,
            campaign=campaign.id,
            campaign_name=campaign.name[:255],
        )
        change = Change(entry)
        yield change
        if not change.count:
            transaction.rollback()  # nothing changed: no entry (and no copies)
            return
        last_event = EngagementEvent.select(fn.MAX(EngagementEvent.id)).scalar() or 0
        (
            JournalEntry.update(
                count=change.count, summary=change.summary[:255], last_event_id=last_event
            )
            .where(JournalEntry.id == entry.id)
            .execute()
        )


@dataclass(frozen=True, slots=True)
class JournalRow:
    id: int
    at: datetime
    who: str
    action: str
    campaign_id: int | None
    campaign: str
    count: int
    summary: str
    undone_at: datetime | None
    undo_summary: str

    @property
    def undone(self) -> bool:
        return self.undone_at is not None

    def as_dict(self) -> dict:
        return {
            "id": self.id,
            "at": self.at.isoformat(),
            "who": self.who,
            "action": self.action,
            "campaign": self.campaign,
            "count": self.count,
            "summary": self.summary,
            "undone": self.undone,
            "undone_at": self.undone_at.isoformat() if self.undone_at else None,
        }


_ROW_FIELDS = (
    JournalEntry.id,
    JournalEntry.at,
    JournalEntry.who,
    JournalEntry.action,
    JournalEntry.campaign,
    JournalEntry.campaign_name,
    JournalEntry.count,
    JournalEntry.summary,
    JournalEntry.undone_at,
    JournalEntry.undo_summary,
)


def _rows(query) -> list[JournalRow]:
    convert = JournalEntry.at.python_value
    return [
        JournalRow(i, convert(at), who, action, cid, name, n, s, convert(undone), u)
        for i, at, who, action, cid, name, n, s, undone, u in query.tuples()
    ]


def entries(
    campaign_id: int | None = None, *, before: int | None = None, limit: int | None = None
) -> list[JournalRow]:
    """Journal entries, newest first; of one campaign if given; `before` an id, by key."""
    query = JournalEntry.select(*_ROW_FIELDS).order_by(JournalEntry.id.desc())
    if campaign_id is not None:
        query = query.where(JournalEntry.campaign == campaign_id)
    if before is not None:
        query = query.where(JournalEntry.id < before)
    if limit is not None:
        query = query.limit(limit)
    return _rows(query)


def latest_open(campaign_id: int | None = None) -> JournalRow | None:
    """The newest entry not yet undone (of one campaign if given), or None; a forgetting is
    never undone, so never the one."""
    query = (
        JournalEntry.select(*_ROW_FIELDS)
        .where(JournalEntry.undone_at.is_null() & (JournalEntry.action != JournalAction.FORGET))
        .order_by(JournalEntry.id.desc())
        .limit(1)
    )
    if campaign_id is not None:
        query = query.where(JournalEntry.campaign == campaign_id)
    found = _rows(query)
    return found[0] if found else None


class PersonChange(NamedTuple):
    """A journal entry that added or removed one person in a campaign (for the person's detail)."""

    entry_id: int
    at: datetime
    who: str
    action: str
    campaign_id: int
    undone: bool
    campaign: str
    """The campaign's name ("" when it has been deleted since)."""


def changes_of(lead_ids: list[int], contact_ids: list[int]) -> list[PersonChange]:
    """The journal entries that added or removed these people, newest first."""
    J, E = JournalMember, JournalEntry
    condition = None
    if lead_ids:
        condition = J.lead_id.in_(lead_ids)
    if contact_ids:
        by_contact = J.contact_id.in_(contact_ids)
        condition = by_contact if condition is None else (condition | by_contact)
    if condition is None:
        return []
    adding = [a for a in JournalAction if a.adds_members or a.removes_members]
    query = (
        J.select(E.id, E.at, E.who, E.action, J.campaign_id, E.undone_at, Campaign.name)
        .join(E, on=(J.entry == E.id))
        .join(Campaign, JOIN.LEFT_OUTER, on=(J.campaign_id == Campaign.id))
        .where(condition, E.action.in_(adding))
        .order_by(E.at.desc(), E.id.desc())
    )
    convert = E.at.python_value
    return [
        PersonChange(i, convert(at), who, action, cid, undone is not None, name or "")
        for i, at, who, action, cid, undone, name in query.tuples()
    ]


def history_of(person: Person) -> list[PersonChange]:
    """When and how this person (and the lead or contact they are one person with) was added
    to or removed from a campaign, newest first."""
    return changes_of(*linked_people(person))
