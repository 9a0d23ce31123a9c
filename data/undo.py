"""Undoing a journal entry, exactly.

- An enrollment or an addition is undone by removing the members it added (those still there).
- A removal or a clean is undone by putting each removed member back with its full record (under
  its old id where that is free), linking its events to it again, and then applying the events
  that arrived for it while it was out (they were logged as "no such member"), through ingest's
  own applying. A person who was enrolled again meanwhile keeps one membership: the two records
  joined (`engagement.joined`).
- A status change or import is undone by putting each changed member's record back as it was and
  folding in the events that arrived for it since (`MemberState.apply`).

An entry is undone once: the database decides (the entry is claimed by an UPDATE … WHERE not
undone), and each undo is one transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from peewee import JOIN, SQL, fn

from data.emails import normalize_email
from data.engagement import DERIVED_FIELDS, STATE_FIELDS, STATUS_EVENT, MemberState, joined
from data.enrollment import lock_campaign
from data.errors import ValidationError
from data.identity import already_member, members_reached
from data.ingest.applying import apply_resolved, lock_members
from data.ingest.record import Event
from data.journal import PERSON_COLUMNS, RECORD_FIELDS, current_user, latest_open
from data.labels import campaign_ladder, status_named
from data.labels import ladders as campaign_ladders
from data.models import (
    CampaignMember,
    Contact,
    EngagementEvent,
    JournalEntry,
    JournalEvent,
    JournalMember,
    Lead,
    utcnow,
)
from data.rollups import recount
from data.sql import database
from data.text import counted
from data.vocab import EventOutcome, EventType, JournalAction, is_one_of

CHUNK = 5_000

NO_MEMBER = "no such member:"
"""How ingest's log begins the reason of an event that reached no member."""


@dataclass
class UndoResult:
    entry_id: int
    action: str
    campaign: str
    removed: int = 0
    restored: int = 0
    joined: int = 0
    gone: int = 0
    """Removed members whose person no longer exists: nothing to put back."""
    replayed: int = 0
    """Events that arrived while the members were out (or since the change), applied now."""

    def summary(self) -> str:
        if JournalAction(self.action).adds_members:
            text = f"removed {counted(self.removed, 'member')} it added"
        else:
            text = f"restored {counted(self.restored, 'member')}"
            if self.joined:
                text += f" ({self.joined:,} joined to their new membership)"
        if self.gone:
            text += f", {counted(self.gone, 'person no longer exists', 'people no longer exist')}"
        if self.replayed:
            text += f", applied {counted(self.replayed, 'event')} received meanwhile"
        return text

    def as_dict(self) -> dict:
        return {
            "id": self.entry_id,
            "action": self.action,
            "campaign": self.campaign,
            "removed": self.removed,
            "restored": self.restored,
            "joined": self.joined,
            "gone": self.gone,
            "replayed": self.replayed,
        }


class EngagedMembers(ValidationError):
    """Undoing an enrollment or addition would delete members that have engaged since: refused
    unless forced, with how many."""

    def __init__(self, entry_id: int, engaged: int) -> None:
        self.entry_id, self.engaged = entry_id, engaged
        super().__init__(
            f"journal entry {entry_id}: {engaged_text(engaged)} (opens, clicks, responses, "
            "bounces, unsubscribes, status events); undoing it deletes their records and "
            "engagement (use --force to undo it anyway)"
        )


def engaged_text(engaged: int) -> str:
    """How many of the members an entry added have engaged, as the CLI and the app say it."""
    return f"{counted(engaged, 'member it added has', 'members it added have')} engaged since"


def engaged_added(entry_id: int) -> int:
    """How many members an enrollment or addition added, still in the campaign, have engaged
    since: any milestone, exit or event of theirs, which undoing the entry would delete."""
    M, J, E = CampaignMember, JournalMember, EngagementEvent
    has_event = fn.EXISTS(E.select(SQL("1")).where(E.member == M.id))
    return (
        M.select()
        .join(J, on=_same_person(J, M))
        .where(
            (J.entry == entry_id)
            & ((M.rung > 0) | (M.bounced == True) | (M.unsubscribed == True) | has_event)  # noqa: E712
        )
        .count()
    )


def undo(
    entry_id: int | None = None,
    *,
    campaign_id: int | None = None,
    now: datetime | None = None,
    who: str | None = None,
    force: bool = False,
) -> UndoResult:
    """Undo a journal entry (default: the newest not undone, of one campaign if given).

    An enrollment or addition whose members have engaged since is refused (`EngagedMembers`,
    with how many) unless `force`: its undo deletes those members' records."""
    if entry_id is None:
        latest = latest_open(campaign_id)
        if latest is None:
            raise ValidationError("nothing to undo")
        entry_id = latest.id
    now = now or utcnow()
    with database.atomic():
        entry = JournalEntry.get_or_none(JournalEntry.id == entry_id)
        if entry is None:
            raise ValidationError(f"no journal entry {entry_id}")
        if entry.action == JournalAction.FORGET:
            raise ValidationError(f"journal entry {entry_id}: forgetting a person cannot be undone")
        claimed = (
            JournalEntry.update(undone_at=now, undone_by=who if who is not None else current_user())
            .where((JournalEntry.id == entry_id) & JournalEntry.undone_at.is_null())
            .execute()
        )
        if not claimed:
            raise ValidationError(f"journal entry {entry_id} was already undone")
        if entry.action == JournalAction.MERGE:
            from data.merge import unmerge  # merge imports what undo does: asked only here

            result = UndoResult(entry.id, entry.action, "")
            result.restored = unmerge(entry)
            JournalEntry.update(undo_summary=result.summary()[:255]).where(
                JournalEntry.id == entry.id
            ).execute()
            return result
        if entry.campaign_id is None:
            raise ValidationError(
                f"journal entry {entry_id}: the campaign {entry.campaign_name!r} no longer exists"
            )
        action = JournalAction(entry.action)
        lock_campaign(entry.campaign_id, from_ingest=action.removes_members)
        result = UndoResult(entry.id, entry.action, entry.campaign_name)
        if action.adds_members and not force and (engaged := engaged_added(entry.id)):
            raise EngagedMembers(entry.id, engaged)
        if action.adds_members:
            _remove_added(entry, result)
        elif action.removes_members:
            _restore_removed(entry, result)
        else:
            _restore_changed(entry, result)
        recount([entry.campaign_id])
        JournalEntry.update(undo_summary=result.summary()[:255]).where(
            JournalEntry.id == entry.id
        ).execute()
    return result


def _same_person(J, M):
    """The journal's copy and the member are one membership: same id, campaign and person."""
    return (
        (M.id == J.member_id)
        & (M.campaign == J.campaign_id)
        & ((M.lead == J.lead_id) | (M.contact == J.contact_id))
    )


def _remove_added(entry: JournalEntry, result: UndoResult) -> None:
    M, J = CampaignMember, JournalMember
    still = M.select(M.id).join(J, on=_same_person(J, M)).where(J.entry == entry.id)
    result.removed = M.delete().where(M.id.in_(still)).execute()


# Bringing removed members back -------------------------------------------------------------------


def _kept(entry: JournalEntry, model, absent: bool):
    """The entry's kept records of `model` people who still exist: those who are no longer
    members of the campaign (absent=True) or those who are again (absent=False)."""
    J = JournalMember
    person = J.lead_id if model is Lead else J.contact_id
    present = already_member(model, entry.campaign_id)
    return (
        J.select()
        .join(model, on=(model.id == person))
        .where((J.entry == entry.id) & (~present if absent else present))
    )


def _insert_columns(with_id: bool):
    J, M = JournalMember, CampaignMember
    source: list = [J.member_id] if with_id else []
    target: list = [M.id] if with_id else []
    source += [getattr(J, c) for c in PERSON_COLUMNS] + [getattr(J, f) for f in RECORD_FIELDS]
    target += [M.campaign, M.lead, M.contact] + [getattr(M, f) for f in RECORD_FIELDS]
    return source, target


def _restore_removed(entry: JournalEntry, result: UndoResult) -> None:
    J, M = JournalMember, CampaignMember
    total = J.select().where(J.entry == entry.id).count()
    # People enrolled again meanwhile: read before anyone is put back.
    rejoining = [row for model in (Lead, Contact) for row in _kept(entry, model, absent=False)]
    moved: dict[int, int] = {}  # old member id -> the membership its events now belong to
    for model in (Lead, Contact):
        # Back under the old id where it is free (its events link again by it) ...
        source, target = _insert_columns(with_id=True)
        free = ~fn.EXISTS(M.select(SQL("1")).where(M.id == J.member_id))
        query = _kept(entry, model, absent=True).select(*source).where(free)
        result.restored += M.insert_from(query, target).as_rowcount().execute()
        # ... else under a new one (SQLite gives a freed highest id to the next member).
        for old in _kept(entry, model, absent=True):
            values = {"campaign": old.campaign_id, "lead": old.lead_id, "contact": old.contact_id}
            values.update({name: getattr(old, name) for name in RECORD_FIELDS})
            moved[old.member_id] = M.insert(values).execute()
            result.restored += 1
    _link_events(entry)
    for old in rejoining:
        moved[old.member_id] = _join_record(entry, old)
        result.joined += 1
        result.restored += 1
    for old_id, new_id in moved.items():
        kept = JournalEvent.select(JournalEvent.event_id).where(
            (JournalEvent.entry == entry.id) & (JournalEvent.member_id == old_id)
        )
        EngagementEvent.update(member=new_id).where(EngagementEvent.id.in_(kept)).execute()
    result.gone = total - result.restored
    result.replayed = _replay_missed(entry)


def _link_events(entry: JournalEntry) -> None:
    """Link the kept events again to the members put back under their own id: one UPDATE … FROM
    (an UPDATE per member took most of a large undo)."""
    J, E, JE, M = JournalMember, EngagementEvent, JournalEvent, CampaignMember
    q = database.param
    events, kept_events = E._meta.table_name, JE._meta.table_name
    kept, members = J._meta.table_name, M._meta.table_name
    sql = (
        f'UPDATE "{events}" SET member_id = je.member_id FROM "{kept_events}" je '
        f'JOIN "{kept}" j ON j.entry_id = je.entry_id AND j.member_id = je.member_id '
        f'JOIN "{members}" m ON m.id = j.member_id AND m.campaign_id = j.campaign_id '
        f"AND (m.lead_id = j.lead_id OR m.contact_id = j.contact_id) "
        f'WHERE je.entry_id = {q} AND "{events}".id = je.event_id'
    )
    database.execute_sql(sql, [entry.id])


def _join_record(entry: JournalEntry, old: JournalMember) -> int:
    """Join a returning record to the membership its person holds again; its id."""
    M = CampaignMember
    model = Lead if old.lead_id else Contact
    email = model.select(model.email).where(model.id == (old.lead_id or old.contact_id)).scalar()
    key = (old.campaign_id, normalize_email(email))
    member_id = members_reached([key])[key]
    current = lock_members([member_id])[member_id].state
    kept = MemberState(
        *[getattr(old, "label" if name == "label_id" else name) for name in STATE_FIELDS]
    )
    _write_state(member_id, joined(current, kept, campaign_ladder(old.campaign_id)))
    added = M.select(M.added_at).where(M.id == member_id).scalar()
    if old.added_at is not None and (added is None or old.added_at < added):
        M.update(added_at=old.added_at).where(M.id == member_id).execute()
    return member_id


def _write_state(member_id: int, state: MemberState) -> None:
    values = {name: getattr(state, name) for name in (*STATE_FIELDS, *DERIVED_FIELDS)}
    CampaignMember.update(values).where(CampaignMember.id == member_id).execute()


def _replay_missed(entry: JournalEntry) -> int:
    """Apply, through ingest, the events that reached none of the campaign's members after the
    entry and now reach a member this undo put back."""
    E = EngagementEvent
    missed = (
        E.select()
        .where(
            (E.campaign == entry.campaign_id)
            & (E.id > entry.last_event_id)
            & (E.outcome == EventOutcome.REJECTED)
            & E.reason.startswith(NO_MEMBER)
        )
        .order_by(E.id)
    )
    J = JournalMember
    persons = {
        (kind, pid)
        for lead_id, contact_id in J.select(J.lead_id, J.contact_id)
        .where(J.entry == entry.id)
        .tuples()
        for kind, pid in (("lead", lead_id), ("contact", contact_id))
        if pid
    }
    campaign_id: int = entry.campaign_id or 0
    events = []
    for row in missed:
        kind = row.type.strip().lower()
        if not is_one_of(kind, EventType):
            continue
        events.append(
            Event(
                event_id=row.event_id,
                type=kind,
                sent_type=row.type,
                campaign_ref=row.campaign_ref,
                campaign_id=campaign_id,
                email=row.email,
                address=normalize_email(row.email),
                at=row.at,
                extra=row.extra,
                status=status_named(row.extra),
            )
        )
    if not events:
        return 0
    found = members_reached((campaign_id, e.address) for e in events)
    members = lock_members(set(found.values()))
    ours = [
        e
        for e in events
        if (mid := found.get((campaign_id, e.address))) is not None
        and members[mid].person in persons
    ]
    for event in ours:
        event.member_id = found[(campaign_id, event.address)]
    if not ours:
        return 0
    report = apply_resolved(ours, source="undo", members=members)
    return report.applied + report.unchanged


# Putting changed records back --------------------------------------------------------------------


def _restore_changed(entry: JournalEntry, result: UndoResult) -> None:
    """Put each changed member's kept record back, then fold in the events logged since."""
    J, M, E = JournalMember, CampaignMember, EngagementEvent
    q = database.param
    table, copy = M._meta.table_name, J._meta.table_name
    columns = [M._meta.fields[name].column_name for name in RECORD_FIELDS]
    sets = ", ".join(
        f'"{column}" = (SELECT j."{column}" FROM "{copy}" j WHERE j.entry_id = {q} '
        f'AND j.member_id = "{table}".id)'
        for column in columns
    )
    # The kept ids as a plain (uncorrelated) list, read once; the check that each is still the
    # same membership then finds its one copy by the (entry, member) index. Correlated in the
    # IN list itself, the copies were scanned once per member row: quadratic.
    sql = (
        f'UPDATE "{table}" SET {sets} WHERE id IN (SELECT j.member_id FROM "{copy}" j '
        f'WHERE j.entry_id = {q}) AND EXISTS (SELECT 1 FROM "{copy}" j WHERE j.entry_id = {q} '
        f'AND j.member_id = "{table}".id AND j.campaign_id = "{table}".campaign_id AND '
        f'(j.lead_id = "{table}".lead_id OR j.contact_id = "{table}".contact_id))'
    )
    params = [entry.id] * (len(RECORD_FIELDS) + 2)
    result.restored = database.execute_sql(sql, params).rowcount
    kept = J.select(J.member_id).where(J.entry == entry.id)
    later = (
        E.select(E.member, E.type, E.at, E.extra)
        .join(M, JOIN.INNER, on=(M.id == E.member))
        .where(
            E.member.in_(kept)
            & (E.id > entry.last_event_id)
            & E.outcome.in_([EventOutcome.APPLIED, EventOutcome.UNCHANGED])
        )
        .order_by(E.id)
    )
    events: dict[int, list] = {}
    for member_id, kind, at, extra in later.tuples():
        events.setdefault(member_id, []).append((kind, E.at.python_value(at), extra))
    members = lock_members(events)
    ladders = campaign_ladders({m.campaign for m in members.values()})
    for member_id, happened in events.items():
        if member_id not in members:
            continue
        ladder = ladders[members[member_id].campaign]
        before = state = members[member_id].state
        for kind, at, extra in happened:
            label = ladder.find(status_named(extra)) if kind == STATUS_EVENT else None
            if kind == STATUS_EVENT and label is None:
                continue  # a label removed since (names follow renames): nothing to reach
            state = state.apply(kind, at, ladder, label)
        if state != before:
            _write_state(member_id, state)
            result.replayed += len(happened)
