"""Who is one person, and which membership is theirs: the rule every route asks, written once.

A *person* is a lead, the contact it was converted into, and any lead and contact that share an
email address. Per campaign one person (one address) holds at most one membership; where a lead
and a contact with one address would be enrolled at once, the contact is. An address that is
suppressed (`data.suppression`) reaches nobody.

Everything here is a Peewee expression over a person table (usable inside INSERT … SELECT) or a
look-up with a fixed number of queries per call, never a query per person.
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Callable, Iterable
from functools import reduce
from typing import Any

from peewee import JOIN, Case, Column, ModelCompoundSelectQuery, Select, Table, fn

from data.emails import normalize_email
from data.models import CampaignMember, Contact, Lead, Person, Suppression
from data.sql import ARRAY_PARAM, chunked, is_sqlite
from data.vocab import NEW, ExclusionReason

ALREADY = ExclusionReason.ALREADY_MEMBER
DO_NOT_EMAIL = ExclusionReason.DO_NOT_EMAIL
BOUNCED = ExclusionReason.BOUNCED
SUPPRESSED_ADDRESS = ExclusionReason.SUPPRESSED
CONVERTED_LEAD = ExclusionReason.CONVERTED_LEAD
CONTACT_INSTEAD = ExclusionReason.CONTACT_INSTEAD

ContactsAlongside = Callable[[Any], list]
"""Given an alias of Contact, the conditions that pick the contacts enrolled in the same go."""


# One person -------------------------------------------------------------------------------------


def _same_person_links(model) -> list[tuple[Any, Any, Any, Any]]:
    """How a lead or contact can already be in a campaign, as (the person's column, the member
    column, the table that column points at, that table's column to compare): the person
    itself, the contact a lead became, or the lead or contact with the same address."""
    M = CampaignMember
    if model is Lead:
        SameContact = Contact.alias("same_contact")
        return [
            (Lead.id, M.lead, None, None),
            (Lead.converted_contact, M.contact, None, None),
            (Lead.email, M.contact, SameContact, SameContact.email),
        ]
    SameLead = Lead.alias("same_lead")
    return [
        (Contact.id, M.contact, None, None),
        (Contact.email, M.lead, SameLead, SameLead.email),
        (Contact.id, M.lead, SameLead, SameLead.converted_contact),
    ]


def with_person(query):
    """A query over `CampaignMember` joined to its person, and the person as one SQL value (the
    contact's address for a contact or for a lead converted into one, else the lead's): members
    of several campaigns with equal values are one person."""
    M = CampaignMember
    ConvertedTo = Contact.alias("converted_to")
    joined = (
        query.join(Lead, on=(M.lead == Lead.id), join_type=JOIN.LEFT_OUTER)
        .join(ConvertedTo, on=(Lead.converted_contact == ConvertedTo.id), join_type=JOIN.LEFT_OUTER)
        .switch(M)
        .join(Contact, on=(M.contact == Contact.id), join_type=JOIN.LEFT_OUTER)
    )
    return joined, fn.COALESCE(Contact.email, ConvertedTo.email, Lead.email)


def already_member(model, campaign_id, *, in_bulk: bool = False):
    """SQL: this lead or contact, or anyone who is the same person, is a member of the campaign.

    For a few rows (a picker page) each test is a look-up by the member table's (campaign,
    person) unique index. In bulk (enrolling an audience) each test is a set of the campaign's
    members read once, before the statement writes: a per-row look-up there would meet the rows
    the statement itself is inserting, which on PostgreSQL a stale row estimate turns into a
    scan of the whole campaign per person."""
    M = CampaignMember
    tests = []
    for person_column, member_column, other, other_column in _same_person_links(model):
        if in_bulk:
            if other is None:
                members = M.select(member_column)
            else:
                members = M.select(other_column).join(other, on=(other.id == member_column))
            members = members.where((M.campaign == campaign_id) & member_column.is_null(False))
            tests.append(person_column.in_(members))
            continue
        if other is None:
            condition = member_column == person_column
        else:
            condition = member_column.in_(
                other.select(other.id).where(other_column == person_column)
            )
        tests.append(fn.EXISTS(M.select(1).where((M.campaign == campaign_id) & condition)))
    return reduce(operator.or_, tests)


def address_suppressed(model):
    """SQL: the email address of this lead or contact is suppressed."""
    return suppressed_email(model.email)


def suppressed_email(email):
    """SQL: this address (an expression giving a stored, normalised email) is suppressed."""
    S = Suppression
    return fn.EXISTS(S.select(1).where((S.email == email) & S.lifted_at.is_null()))


def membership_category(
    model,
    campaign_id: int,
    contacts_alongside: ContactsAlongside | None = None,
    *,
    in_bulk: bool = False,
):
    """The exclusion rule, as one SQL expression over a person table: why this person is left
    out of the campaign, or NEW. `contacts_alongside` (for leads) describes the contacts being
    enrolled in the same go: a lead whose address one of them has gives way to it. `in_bulk`
    is for statements over a whole audience (see `already_member`)."""
    checks = [
        (already_member(model, campaign_id, in_bulk=in_bulk), ALREADY),
        (model.do_not_email, DO_NOT_EMAIL),
        (model.email_bounced, BOUNCED),
        (address_suppressed(model), SUPPRESSED_ADDRESS),
    ]
    if model is Lead:
        checks.append((Lead.converted_contact.is_null(False), CONVERTED_LEAD))
        if contacts_alongside is not None:
            Rival = Contact.alias("rival")
            rival = Rival.select(1).where(Rival.email == Lead.email, *contacts_alongside(Rival))
            checks.append((fn.EXISTS(rival), CONTACT_INSTEAD))
    return Case(None, checks, NEW)


def lead_contacts(lead_ids) -> ModelCompoundSelectQuery:
    """SQL: (lead_id, contact_id) for each of these leads (ids, or a query giving them) and every
    contact that is the same person: the contact it was converted into and the one with its
    address."""
    converted = Lead.select(
        Lead.id.alias("lead_id"), Lead.converted_contact.alias("contact_id")
    ).where(Lead.id.in_(lead_ids) & Lead.converted_contact.is_null(False))
    same_address = (
        Lead.select(Lead.id.alias("lead_id"), Contact.id.alias("contact_id"))
        .join(Contact, on=(Contact.email == Lead.email))
        .where(Lead.id.in_(lead_ids))
    )
    return converted | same_address


def member_contacts(member_ids: list[int]) -> ModelCompoundSelectQuery:
    """SQL: (member_id, contact_id) for each of these memberships and every contact that is the
    same person as its member: a contact member's own contact, a lead member's `lead_contacts`."""
    M = CampaignMember
    own = M.select(M.id.alias("member_id"), M.contact.alias("contact_id")).where(
        M.id.in_(member_ids) & M.contact.is_null(False)
    )
    pairs = lead_contacts(
        M.select(M.lead).where(M.id.in_(member_ids) & M.lead.is_null(False))
    ).alias("lead_contacts")
    via_lead = (
        M.select(M.id.alias("member_id"), pairs.c.contact_id)
        .join(pairs, on=(pairs.c.lead_id == M.lead))
        .where(M.id.in_(member_ids))
    )
    return own | via_lead


def linked_people(person: Person) -> tuple[list[int], list[int]]:
    """(lead ids, contact ids) of the one person this lead or contact is part of."""
    if isinstance(person, Lead):
        contacts = {cid for _, cid in lead_contacts([person.id]).tuples()}
        leads = {person.id}
    else:
        contacts = {person.id}
        leads = set()
    if contacts:
        leads.update(
            lid
            for (lid,) in Lead.select(Lead.id)
            .where(
                Lead.converted_contact.in_(list(contacts))
                | Lead.email.in_(
                    Contact.select(Contact.email).where(Contact.id.in_(list(contacts)))
                )
            )
            .tuples()
        )
    return sorted(leads), sorted(contacts)


def addresses_of(person: Person) -> list[str]:
    """Every email address the person goes by (more than one only if a converted lead and its
    contact differ)."""
    lead_ids, contact_ids = linked_people(person)
    emails = {person.email}
    emails.update(e for (e,) in Lead.select(Lead.email).where(Lead.id.in_(lead_ids)).tuples())
    emails.update(
        e for (e,) in Contact.select(Contact.email).where(Contact.id.in_(contact_ids)).tuples()
    )
    return sorted(emails)


def person_by_email(email: str) -> Person | None:
    """The person with this address: the contact when there is one (a lead it was or will be
    converted into is the same person), else the lead."""
    email = normalize_email(email)
    return Contact.get_or_none(Contact.email == email) or Lead.get_or_none(Lead.email == email)


ID_CHUNK = 10_000


def people_by_email(emails: Iterable[str]) -> tuple[dict[str, list[int]], list[str]]:
    """Resolve emails to people ({"lead": ids, "contact": ids}) and the emails nobody has; an
    address with both a lead and a contact is the contact."""
    wanted = list(dict.fromkeys(normalize_email(e) for e in emails if e.strip()))
    found: dict[str, tuple[str, int]] = {}
    for chunk in chunked(wanted, ID_CHUNK):
        for pid, email in (
            Contact.select(Contact.id, Contact.email).where(Contact.email.in_(chunk)).tuples()
        ):
            found[email] = ("contact", pid)
        for pid, email in Lead.select(Lead.id, Lead.email).where(Lead.email.in_(chunk)).tuples():
            found.setdefault(email, ("lead", pid))
    people: dict[str, list[int]] = {"lead": [], "contact": []}
    for key, pid in found.values():
        people[key].append(pid)
    return people, [e for e in wanted if e not in found]


# Which membership an event reaches --------------------------------------------------------------


def member_reached(campaign, email):
    """SQL: the id of the one membership the address has in the campaign, or NULL.

    `campaign` and `email` are expressions or values. The contact's membership when the
    contact with the address is a member; else the lead's (a converted lead keeps its
    memberships, so events for its address reach them), also when the lead was converted into
    the contact with that address."""
    M = CampaignMember
    C, L, LC = Contact.alias("reach_contact"), Lead.alias("reach_lead"), Contact.alias("reach_to")
    # The person first (unique email indexes), then the membership by (campaign, person).
    by_contact = M.select(M.id).where(
        (M.campaign == campaign) & (M.contact == C.select(C.id).where(C.email == email))
    )
    by_lead = M.select(M.id).where(
        (M.campaign == campaign) & (M.lead == L.select(L.id).where(L.email == email))
    )
    converted_from = (
        L.select(L.id)
        .where(L.converted_contact == LC.select(LC.id).where(LC.email == email))
        .order_by(L.id)
        .limit(1)
    )
    by_converted = M.select(M.id).where((M.campaign == campaign) & (M.lead == converted_from))
    return fn.COALESCE(by_contact, by_lead, by_converted)


PAIR_CHUNK = 2_000
"""(campaign, email) pairs per look-up query (two parameters each)."""


@functools.lru_cache(maxsize=8)
def _reached_select(db) -> tuple[str, tuple]:
    """The look-up `members_reached` runs over its VALUES list, written once per database
    (Peewee takes milliseconds to write it, which a small batch would pay every time)."""
    wanted = Table("wanted")
    campaign_id, email = Column(wanted, "campaign_id"), Column(wanted, "email")
    member = member_reached(campaign_id, email)
    sql, params = Select(columns=[campaign_id, email, member]).from_(wanted).bind(db).sql()
    return sql, tuple(params)


def members_reached(pairs: Iterable[tuple[int, str]]) -> dict[tuple[int, str], int]:
    """For (campaign id, normalised email) pairs, the membership each reaches; pairs that reach
    none are left out. One query per 2,000 distinct pairs: the pairs as a VALUES list (two
    arrays on PostgreSQL), each resolved by `member_reached`."""
    db = CampaignMember._meta.database
    real = db.obj if hasattr(db, "obj") else db
    select_sql, select_params = _reached_select(real)
    found: dict[tuple[int, str], int] = {}
    sqlite = is_sqlite(real)
    for chunk in chunked(list(dict.fromkeys(pairs)), PAIR_CHUNK):
        if sqlite:
            # The VALUES list written directly: Peewee would build a node per value.
            rows = ", ".join([f"({db.param}, {db.param})"] * len(chunk))
            wanted = f"VALUES {rows}"
            params = [value for pair in chunk for value in pair]
        else:  # two array parameters, whatever the count (`sql.pg_array`)
            wanted = f"SELECT * FROM unnest({ARRAY_PARAM}::integer[], {ARRAY_PARAM}::text[])"
            params = [[cid for cid, _ in chunk], [email for _, email in chunk]]
        sql = f'WITH "wanted" ("campaign_id", "email") AS ({wanted}) {select_sql}'
        for cid, address, member_id in db.execute_sql(sql, [*params, *select_params]):
            if member_id is not None:
                found[(cid, address)] = member_id
    return found


def member_of(campaign_id: int, email: str) -> CampaignMember | None:
    """The membership an address has in a campaign (what its events reach), or None."""
    mid = members_reached([(campaign_id, normalize_email(email))]).get(
        (campaign_id, normalize_email(email))
    )
    return CampaignMember.get_or_none(CampaignMember.id == mid) if mid else None
