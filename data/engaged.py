"""What a person engaged with, read for a rep (PRODUCT §8): one person's summary, timeline,
weekly activity and score; the hot list; and what content worked in a campaign.

Every read here is a handful of statements whatever the history's length: the score is kept
(`scores`), a person's events are found by their memberships (the log's (member, at) index),
and a campaign's content counts come from the log's content index alone."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from peewee import JOIN, SQL, fn

from data.errors import ValidationError
from data.filters import parse_filter
from data.identity import suppressed_email
from data.labels import ladders
from data.labels import status_named as _status_named
from data.matching import PersonFields, filter_condition
from data.members import Membership, memberships_of
from data.models import (
    Account,
    Campaign,
    CampaignMember,
    Contact,
    EngagementEvent,
    EngagementScore,
    Lead,
    Person,
)
from data.score import MAX_AGE_DAYS, STOPPING, counts, decayed, score_now, weight
from data.sql import database, one_of
from data.vocab import EventOutcome, EventType

ENGAGED = one_of("outcome", (EventOutcome.APPLIED, EventOutcome.UNCHANGED))
"""The log rows that are a person's engagement (machine opens, duplicates and rejections not)."""

SHOWN_TYPES = (
    EventType.OPEN,
    EventType.CLICK,
    EventType.RESPOND,
    EventType.CONVERT,
    EventType.STATUS,
    EventType.BOUNCE,
    EventType.UNSUBSCRIBE,
)
"""The event types a timeline shows (a provider's delivered notices are not a person's doing)."""

VERBS = {
    EventType.OPEN: "Opened",
    EventType.CLICK: "Clicked",
    EventType.RESPOND: "Responded",
    EventType.CONVERT: "Converted",
    EventType.BOUNCE: "Bounced",
    EventType.UNSUBSCRIBE: "Unsubscribed",
}
"""What each event type reads as; a status event reads as its label ("Attended")."""

JOINERS: dict[str, str] = {EventType.RESPOND: " to ", EventType.CONVERT: " in "}
"""How a line without content joins its verb to the campaign: "Responded to Spring Webinar"."""

TIMELINE_PAGE = 50
SUMMARY_LINES = 3
SPARK_WEEKS = 12
READ_LIMIT = 5_000
"""The newest events a person's summary, sparkline and explanation read (a year's, at most)."""


@dataclass(frozen=True, slots=True)
class Activity:
    """One event a person made, as a rep reads it."""

    id: int
    at: datetime
    campaign: str
    campaign_id: int | None
    type: str
    what: str
    """The type in words, a status event's label ("Attended")."""
    content: str | None
    label_rung: int | None = None
    outcome: str = EventOutcome.APPLIED

    def as_dict(self) -> dict:
        return {
            "at": self.at.isoformat() + "Z",
            "campaign": self.campaign,
            "type": self.type,
            "what": self.what,
            "content": self.content,
        }


@dataclass(frozen=True, slots=True)
class ScorePart:
    """What one kind of engagement gave to the score: "Clicked ‘Pricing’ · 2× · +14"."""

    what: str
    content: str | None
    campaign: str
    count: int
    points: float


@dataclass
class PersonActivity:
    person: Person
    kind: str
    score: int
    summary: list[str]
    memberships: list[Membership]
    timeline: list[Activity]
    weeks: list[int]
    """Events per week, oldest first, the last `SPARK_WEEKS` weeks."""
    explanation: list[ScorePart] = field(default_factory=list)
    stopped: bool = False


def _as_datetime(value) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(value)


def _shown(member_ids: list[int]):
    E = EngagementEvent
    return E.member.in_(member_ids) & SQL(ENGAGED) & E.type.in_(SHOWN_TYPES)


def timeline_count(member_ids: list[int]) -> int:
    """How many events a person's timeline holds."""
    if not member_ids:
        return 0
    return EngagementEvent.select().where(_shown(member_ids)).count()


def _activities(
    member_ids: list[int], before: tuple[datetime, int] | None, limit: int, offset: int = 0
):
    E = EngagementEvent
    if not member_ids:
        return []
    query = (
        E.select(E.id, E.at, Campaign.name, E.campaign, E.type, E.content, E.extra, E.outcome)
        .join(Campaign, JOIN.LEFT_OUTER, on=(E.campaign == Campaign.id))
        .where(_shown(member_ids))
        .order_by(E.at.desc(), E.id.desc())
        .limit(limit)
    )
    if offset:
        query = query.offset(offset)
    if before is not None:
        at, eid = before
        query = query.where((E.at < at) | ((E.at == at) & (E.id < eid)))
    rows = database.execute(query).fetchall()  # as the driver gives them: no per-row converters
    campaigns = {row[3] for row in rows if row[4] == EventType.STATUS and row[3] is not None}
    found = ladders(campaigns) if campaigns else {}
    activities = []
    for eid, at, name, cid, kind, content, extra, outcome in rows:
        what, rung = VERBS.get(kind, kind), None
        if kind == EventType.STATUS:
            what = _status_named(extra) or "Status"
            label = found[cid].find(what) if cid in found else None
            rung = label.counts_as if label else None
        activities.append(
            Activity(
                eid,
                _as_datetime(at),
                name or "a deleted campaign",
                cid,
                kind,
                what,
                content,
                rung,
                outcome,
            )
        )
    return activities


def timeline_page(
    member_ids: list[int],
    after: tuple[datetime, int] | None = None,
    limit: int = TIMELINE_PAGE,
    offset: int = 0,
) -> list[Activity]:
    """A page of the person's activity across campaigns, newest first: the rows older than
    `after` (a row's time and id, the last of the previous page), else from `offset`."""
    return _activities(member_ids, after, limit, 0 if after is not None else offset)


def when(at: datetime, now: datetime) -> str:
    """A time in words for a rep: "today", "yesterday", "3 days ago", "12 Nov", "12 Nov 2025"."""
    days = (now.date() - at.date()).days
    if days <= 0:
        return "today"
    if days == 1:
        return "yesterday"
    if days < 14:
        return f"{days} days ago"
    return f"{at.day} {at:%b}" if at.year == now.year else f"{at.day} {at:%b %Y}"


REPEATED = (EventType.OPEN, EventType.CLICK)
"""What a summary line counts ("clicked twice"); a response or conversion is said once."""


def _times(count: int) -> str:
    return "" if count == 1 else " twice" if count == 2 else f" {count} times"


def summary_lines(events: Iterable[Activity], now: datetime) -> list[str]:
    """Two or three plain lines, newest first: the kinds of engagement that say most (a
    response, an attendance, a click) before plain opens. Machine opens are never read."""
    groups: dict[tuple, list[Activity]] = {}
    for event in events:  # newest first
        if event.type in STOPPING:
            continue
        groups.setdefault((event.campaign, event.what, event.content), []).append(event)
    ordered = list(groups.values())
    rich = [g for g in ordered if g[0].type != EventType.OPEN]
    chosen = (rich + [g for g in ordered if g[0].type == EventType.OPEN])[:SUMMARY_LINES]
    chosen.sort(key=lambda g: g[0].at, reverse=True)
    lines = []
    for group in chosen:
        newest = group[0]
        verb = newest.what
        times = _times(len(group)) if newest.type in REPEATED else ""
        if newest.content:
            line = f"{verb} ‘{newest.content}’{times} in {newest.campaign}"
        else:
            line = f"{verb}{JOINERS.get(newest.type, ' ')}{newest.campaign}{times}"
        lines.append(f"{line} · {when(newest.at, now)}")
    return lines


def weekly(events: Iterable[Activity], now: datetime, weeks: int = SPARK_WEEKS) -> list[int]:
    """Engagement events per week over the last `weeks` weeks, oldest first."""
    counts = [0] * weeks
    for event in events:
        if event.type in STOPPING:
            continue
        age = (now - event.at).days // 7
        if 0 <= age < weeks:
            counts[weeks - 1 - age] += 1
    return counts


def explain(events: Iterable[Activity], now: datetime) -> list[ScorePart]:
    """Which events gave the score what, most first (the same weights as the kept score)."""
    parts: dict[tuple, list] = {}
    for event in events:
        gained = decayed(weight(event.type, event.label_rung), event.at, now)
        if gained <= 0 or not counts(event.type, event.outcome):
            continue
        key = (event.what, event.content, event.campaign)
        part = parts.setdefault(key, [0, 0.0])
        part[0] += 1
        part[1] += gained
    shown = [
        ScorePart(what, content, campaign, count, total)
        for (what, content, campaign), (count, total) in parts.items()
    ]
    return sorted(shown, key=lambda p: p.points, reverse=True)


def kept_score(email: str, now: datetime) -> tuple[int, bool]:
    """A person's score now, from the kept value, and whether a bounce or unsubscribe stopped it."""
    S = EngagementScore
    row = S.select(S.points, S.stopped).where(S.email == email).tuples().first()
    if row is None:
        return 0, False
    return score_now(row[0], bool(row[1]), now), bool(row[1])


def person_activity(person: Person, now: datetime) -> PersonActivity:
    """Everything the person screen and `person show` tell a rep, in a few statements."""
    kind = "lead" if isinstance(person, Lead) else "contact"
    memberships = memberships_of(person)
    ids = [m.member_id for m in memberships]
    recent = [
        a for a in _activities(ids, None, READ_LIMIT) if now - a.at <= timedelta(days=MAX_AGE_DAYS)
    ]
    score, stopped = kept_score(person.email, now)
    return PersonActivity(
        person=person,
        kind=kind,
        score=score,
        summary=summary_lines(recent, now),
        memberships=memberships,
        timeline=recent[:TIMELINE_PAGE]
        if len(recent) >= TIMELINE_PAGE
        else _activities(ids, None, TIMELINE_PAGE),
        weeks=weekly(recent, now),
        explanation=explain(recent, now),
        stopped=stopped,
    )


def find_person(email: str) -> Person | None:
    """The person with this address: the contact if there is one, else the lead."""
    from data.emails import normalize_email

    address = normalize_email(email)
    return Contact.get_or_none(Contact.email == address) or Lead.get_or_none(Lead.email == address)


# The hot list ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class HotPerson:
    kind: str
    id: int
    name: str
    email: str
    company: str
    score: int
    last_touch: datetime | None
    last_type: str
    content: str | None
    campaign: str

    def as_dict(self) -> dict:
        return {
            "email": self.email,
            "name": self.name,
            "kind": self.kind,
            "company": self.company,
            "score": self.score,
            "last_touch": self.last_touch.isoformat() + "Z" if self.last_touch else None,
            "last_type": self.last_type,
            "content": self.content,
            "campaign": self.campaign,
        }


HOT_LIMIT = 100


def _converted(model: type[Person]):
    """SQL: the person with this row's address has converted: a lead or contact with it has
    a converted membership, or a lead with it was converted (into this contact or another)."""
    M = CampaignMember
    email = model.email
    conditions = []
    for person, member_of in ((Lead, M.lead), (Contact, M.contact)):
        alias = person.alias()
        converted_member = M.select(SQL("1")).where(
            (member_of == alias.id) & M.converted_at.is_null(False)
        )
        conditions.append(
            fn.EXISTS(
                alias.select(SQL("1")).where((alias.email == email) & fn.EXISTS(converted_member))
            )
        )
    lead = Lead.alias()
    conditions.append(
        fn.EXISTS(
            lead.select(SQL("1")).where(
                (lead.email == email) & lead.converted_contact.is_null(False)
            )
        )
    )
    if model is Contact:
        conditions.append(
            fn.EXISTS(lead.select(SQL("1")).where(lead.converted_contact == Contact.id))
        )
    joined: Any = conditions[0]
    for condition in conditions[1:]:
        joined = joined | condition
    return joined


def _hot_query(model: type[Person], condition, limit: int):
    S = EngagementScore
    company = Lead.company if model is Lead else fn.COALESCE(Account.name, "")
    query = model.select(
        model.id,
        model.first_name,
        model.last_name,
        model.email,
        company,
        S.points,
        S.last_at,
        S.last_type,
        S.last_content,
        S.last_campaign,
    ).join(S, on=(S.email == model.email))
    if model is Contact:
        query = query.join_from(Contact, Account, JOIN.LEFT_OUTER)
    where = (
        (S.points > 0)
        & (model.do_not_email == False)  # noqa: E712
        & (model.email_bounced == False)  # noqa: E712
        & ~suppressed_email(model.email)
        & ~_converted(model)
    )
    if condition is not None:
        where &= condition
    return query.where(where).order_by(S.points.desc(), model.id).limit(limit)


def hot_list(now: datetime, limit: int = HOT_LIMIT, filter_text: str = "") -> list[HotPerson]:
    """People not converted and not suppressed, best score first, with their last touch.

    A filter the language cannot read raises ValidationError with its problems."""
    parsed = parse_filter(filter_text)
    if parsed.problems:
        raise ValidationError("; ".join(parsed.problems))
    found: dict[str, HotPerson] = {}
    rows = []
    for model, kind in ((Contact, "contact"), (Lead, "lead")):
        condition = filter_condition(parsed, PersonFields(model)) if parsed.terms else None
        rows += [(kind, row) for row in _hot_query(model, condition, limit).tuples()]
    rows.sort(key=lambda item: -item[1][5])
    names = {
        cid: name
        for cid, name in Campaign.select(Campaign.id, Campaign.name)
        .where(Campaign.id.in_({row[9] for _, row in rows if row[9] is not None} or {0}))
        .tuples()
    }
    for kind, (pid, first, last, email, company, points, last_at, last_type, content, cid) in rows:
        if email in found:
            continue  # a lead and a contact with one address are one person: the contact
        found[email] = HotPerson(
            kind,
            pid,
            f"{first} {last}".strip(),
            email,
            company or "",
            score_now(points, False, now),
            _as_datetime(last_at) if last_at else None,
            last_type,
            content,
            names.get(cid, ""),
        )
    return list(found.values())[:limit]


# What content worked ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ContentCount:
    content: str
    people: int
    events: int

    def as_dict(self) -> dict:
        return {"content": self.content, "people": self.people, "events": self.events}


def content_report(campaign_id: int, limit: int | None = None) -> list[ContentCount]:
    """Each link, asset, form or session of a campaign with how many people engaged with it
    (and how often), most people first: counted from the log's content index alone."""
    E = EngagementEvent
    people = fn.COUNT(E.member.distinct())
    query = (
        E.select(E.content, people, fn.COUNT(SQL("*")))
        .where((E.campaign == campaign_id) & E.content.is_null(False))
        .group_by(E.content)
        .order_by(people.desc(), E.content)
    )
    if limit is not None:
        query = query.limit(limit)
    return [ContentCount(*row) for row in query.tuples()]
