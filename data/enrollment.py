"""Enrolling people in campaigns: bulk by audience, by picked ids, by email. One code path.

Every route selects people, classifies each with `identity.membership_category` (the single
exclusion rule: one membership per person and address, suppressed addresses never), and inserts
the NEW ones with one INSERT … SELECT per person table, inside one transaction that holds the
campaign (`lock_campaign`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from peewee import SQL, Value, chunked, fn

from data import journal
from data.audience import (
    ALREADY,
    EXCLUSION_REASONS,
    NEW,
    audience_sources,
    source_conditions,
)
from data.emails import normalize_email
from data.engagement import EXITS, SENT, MemberState, rollup_buckets
from data.identity import members_reached, membership_category, people_by_email
from data.labels import default_label_id
from data.members import Marked
from data.models import Campaign, CampaignMember, Contact, Lead, settled, utcnow
from data.rollups import add_to_counters, recount
from data.sql import is_sqlite
from data.vocab import JournalAction

ID_CHUNK = 10_000
"""Picked ids are sent to the database this many at a time."""


@dataclass
class EnrollmentResult:
    enrolled: int = 0
    already_members: int = 0
    excluded: Counter = field(default_factory=Counter)
    unknown_emails: list[str] = field(default_factory=list)

    @property
    def excluded_total(self) -> int:
        return sum(self.excluded.values())

    def as_dict(self) -> dict:
        data = {
            "enrolled": self.enrolled,
            "already_members": self.already_members,
            "excluded": self.excluded_total,
            "excluded_by_reason": {EXCLUSION_REASONS[k]: v for k, v in self.excluded.items() if v},
        }
        if self.unknown_emails:
            data["unknown_emails"] = self.unknown_emails
        return data

    def summary(self, *, preview: bool = False) -> str:
        verb = "will enroll" if preview else "enrolled"
        text = f"{verb} {self.enrolled:,}, already members {self.already_members:,}"
        text += f", excluded {self.excluded_total:,}"
        if self.excluded_total:
            reasons = ", ".join(
                f"{EXCLUSION_REASONS[k]} {v:,}" for k, v in self.excluded.items() if v
            )
            text += f" ({reasons})"
        if self.unknown_emails:
            text += f", unknown emails {len(self.unknown_emails):,}"
        return text


def _categorised(campaign: Campaign, people: dict | None):
    """(model, conditions, category) for each person table the enrollment draws from; a lead
    gives way to a contact with its address enrolled in the same go."""
    alongside = None
    if source_conditions(campaign, "contact", Contact, people) is not None:

        def alongside(rival):
            return source_conditions(campaign, "contact", rival, people)

    return [
        (model, conditions, membership_category(model, campaign.id, alongside, in_bulk=True))
        for model, conditions in audience_sources(campaign, people)
    ]


def _tally(campaign: Campaign, people: dict | None) -> Counter:
    """How many of the selected people fall in each membership category."""
    counts: Counter = Counter()
    for model, conditions, category in _categorised(campaign, people):
        # GROUP BY the first column: repeating the CASE would bind its parameters anew,
        # which PostgreSQL then does not recognise as the selected expression.
        query = model.select(category, fn.COUNT(model.id)).group_by(SQL("1"))
        if conditions:
            query = query.where(*conditions)
        for cat, n in query.tuples():
            counts[cat] += n
    return counts


def _result(counts: Counter, enrolled: int) -> EnrollmentResult:
    excluded = Counter({k: counts[k] for k in EXCLUSION_REASONS if counts[k]})
    return EnrollmentResult(enrolled=enrolled, already_members=counts[ALREADY], excluded=excluded)


def preview(campaign: Campaign, people: dict | None = None) -> EnrollmentResult:
    """What enrolling would do, without doing it (for the confirmation before a start)."""
    counts = _tally(campaign, people)
    return _result(counts, counts[NEW])


def lock_campaign(campaign_id: int, *, from_ingest: bool = False) -> None:
    """One change of a campaign's membership at a time (enrollment, undo): the address rule (one
    membership per address, a contact before its lead) is decided over the whole campaign, so a
    second writer waits here rather than deciding from members the first has not committed yet.
    SQLite's one writer already holds it. `NO KEY UPDATE`, not `UPDATE`: rows that merely refer
    to the campaign (an ingest's log rows) still go in meanwhile; were they held, an ingest
    holding the counters and an enrollment waiting for them would deadlock.

    `from_ingest` (the undo of a removal): also wait for the ingest batches deciding about the
    campaign's members now, and keep new ones from deciding until this transaction ends
    (`hold_campaigns`): a batch that found no member before the members come back would log
    its events "no such member" after the undo has applied those it could see."""
    if not is_sqlite():
        clause = "FOR UPDATE" if from_ingest else "FOR NO KEY UPDATE"
        query = Campaign.select(Campaign.id).where(Campaign.id == campaign_id)
        query.for_update(clause).execute()  # type: ignore[arg-type]  # peewee takes the clause


def hold_campaigns(campaign_ids: Iterable[int]) -> None:
    """An ingest batch, before it looks up the members its events reach: hold these campaigns
    (in id order) against an undo of a removal until the batch ends (`lock_campaign`). A key
    share: enrollments, cleans and removals go on meanwhile, as the log rows' own references
    let them."""
    ids = sorted(set(campaign_ids))
    if ids and not is_sqlite():
        query = Campaign.select(Campaign.id).where(Campaign.id.in_(ids)).order_by(Campaign.id)
        query.for_update("FOR KEY SHARE").execute()  # type: ignore[arg-type]


def enroll(
    campaign: Campaign,
    people: dict | None = None,
    now: datetime | None = None,
    action: JournalAction | None = None,
):
    """Enroll the campaign's audience (people=None) or exactly these people; one transaction,
    one journal entry (`action`: ENROLL for the audience, ADD for people, unless given)."""
    now = now or utcnow()
    if action is None:
        action = JournalAction.ENROLL if people is None else JournalAction.ADD
    with journal.record(action, campaign, now) as change:
        lock_campaign(campaign.id)
        counts = _tally(campaign, people)
        newest = CampaignMember.select(fn.MAX(CampaignMember.id)).scalar() or 0
        label = default_label_id(campaign.id)
        inserted = 0
        for model, conditions, category in _categorised(campaign, people):
            person_field = CampaignMember.lead if model is Lead else CampaignMember.contact
            select = (
                model.select(
                    Value(campaign.id),
                    model.id,
                    Value(SENT),
                    Value(0),
                    Value(False),
                    Value(False),
                    Value(now),
                    Value(False),
                    Value(label),
                )
                .where(category == NEW, *conditions)
                .order_by(model.id)
            )  # same ids on every backend
            inserted += (
                CampaignMember.insert_from(
                    select,
                    [
                        CampaignMember.campaign,
                        person_field,
                        CampaignMember.status,
                        CampaignMember.rung,
                        CampaignMember.bounced,
                        CampaignMember.unsubscribed,
                        CampaignMember.added_at,
                        CampaignMember.has_responded,
                        CampaignMember.label,
                    ],
                )
                .as_rowcount()
                .execute()
            )
        # No ON CONFLICT: every writer of a campaign's members holds the campaign (above), so
        # no one else enrolls these people meanwhile. (Checking each row against the unique
        # indexes first made PostgreSQL's insert a fifth slower.) Anyone counted NEW but not
        # inserted was changed by another writer between the count and the insert.
        result = _result(counts, inserted)
        result.already_members += counts[NEW] - inserted
        if inserted:
            fresh = rollup_buckets(MemberState())  # what one newly enrolled member counts in
            add_to_counters(
                {campaign.id: [inserted * n for n in fresh]},
                {(campaign.id, label): inserted} if label else {},
            )
            # The campaign is this transaction's alone (locked above, or SQLite's one writer):
            # its members above the newest id before are the ones just inserted.
            M = CampaignMember
            change.keep_added((M.campaign == campaign.id) & (M.id > newest))
            change.done(inserted, result.summary())
    return result


def enroll_emails(campaign: Campaign, emails: list[str], now: datetime | None = None):
    people, unknown = people_by_email(emails)
    result = enroll(campaign, people, now=now)
    result.unknown_emails = unknown
    return result


def remove_members(campaign: Campaign, member_ids: list[int], now: datetime | None = None) -> int:
    """Remove these members of the campaign; one journal entry keeps their records for undo."""
    chunks = [CampaignMember.id.in_(chunk) for chunk in chunked(member_ids, ID_CHUNK)]
    return _remove(campaign, chunks, now)


def remove_marked(campaign: Campaign, marked: Marked, now: datetime | None = None) -> int:
    """Remove the marked members (a few ids, or a filter and its exceptions); one journal
    entry keeps their records for undo."""
    return _remove(campaign, [marked.condition()], now)


def _remove(campaign: Campaign, conditions: list, now: datetime | None) -> int:
    """Keep the records of the members matching any of `conditions`, then remove exactly
    those kept (a member that came to match meanwhile is not removed unkept)."""
    M = CampaignMember
    with journal.record(JournalAction.REMOVE, campaign, now) as change:
        lock_campaign(campaign.id)
        for condition in conditions:
            change.keep_records((M.campaign == campaign.id) & condition)
        removed = M.delete().where((M.campaign == campaign.id) & change.kept()).execute()
        recount([campaign.id])
        change.done(removed, f"removed {removed:,}")
    return removed


def remove_emails(campaign: Campaign, emails: list[str], now: datetime | None = None):
    """Remove the members these addresses reach in the campaign (`members remove`):
    (removed, addresses that reach no member)."""
    found = members_reached((campaign.id, normalize_email(e)) for e in emails)
    missing = [e for e in emails if (campaign.id, normalize_email(e)) not in found]
    return remove_members(campaign, sorted(set(found.values())), now), missing


def _exits(campaign: Campaign):
    """The campaign's bounced and unsubscribed members (read from the settled-status index)."""
    M = CampaignMember
    return (M.campaign == campaign.id) & M.status.in_(EXITS) & settled()


def exits_count(campaign: Campaign) -> int:
    return CampaignMember.select().where(_exits(campaign)).count()


def clean_exits(campaign: Campaign, now: datetime | None = None) -> int:
    """Remove bounced and unsubscribed members, which pollute an active campaign's rates; one
    journal entry keeps their records for undo."""
    M = CampaignMember
    with journal.record(JournalAction.CLEAN, campaign, now) as change:
        lock_campaign(campaign.id)
        change.keep_records(_exits(campaign))
        # Exactly the members kept: one who bounced or unsubscribed since the copy stays (the
        # next clean takes it), never removed without a copy to undo from.
        removed = M.delete().where((M.campaign == campaign.id) & change.kept()).execute()
        recount([campaign.id])
        change.done(removed, f"removed {removed:,} bounced or unsubscribed")
    return removed
