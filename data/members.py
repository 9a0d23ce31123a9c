"""Reading members: the four list views paged by key, a person's memberships, the picker's rows."""

from __future__ import annotations

import operator
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from functools import reduce
from typing import Any, NamedTuple

from peewee import JOIN, SQL, Case, fn

from data.audience import NEW, id_set
from data.engagement import LADDER, MILESTONE_FIELDS, VIEW_BUCKETS, StatusLabel, displayed_label
from data.filters import ANY_LABEL, parse_filter
from data.identity import linked_people, membership_category
from data.matching import (
    FALSE,
    TRUE,
    MemberFields,
    MembersOfFields,
    PersonFields,
    filter_condition,
    indexed,
)
from data.models import (
    Account,
    Campaign,
    CampaignMember,
    CampaignStats,
    Contact,
    Lead,
    MemberStatusLabel,
    Person,
)
from data.opportunities import OpportunityRow, converted_opportunities
from data.people import person_keys
from data.rollups import bucket_condition
from data.sorting import NATURAL, Order, Part, keyset_page
from data.vocab import CampaignStatus, MemberView, listed

VIEWS = {view.value: view.label for view in MemberView}
"""The standard member list views: key -> title."""

MEMBER_TIMES = ("added_at", *MILESTONE_FIELDS)
"""The timestamps a member list shows, in order."""

PAGE_SIZE = 100


class MemberRow(NamedTuple):
    id: int
    person_type: str
    person_id: int
    name: str
    email: str
    company: str
    status: str
    added_at: datetime | None
    first_opened_at: datetime | None
    first_clicked_at: datetime | None
    response_date: datetime | None
    converted_at: datetime | None
    has_responded: bool
    standing: str = ""
    """The member's status among the seven (colours and rules read it); `status` is what it
    shows as in its campaign (`engagement.displayed_label`)."""
    counts_as: str = ""
    """The rung the member's label counts as (empty for a member without one)."""
    opportunity: OpportunityRow | None = None
    """In the Converted view, the deal the member converted to (`converted_opportunities`)."""
    key: tuple = ()
    """The row's place in a sorted list (its sort columns, then its id); empty in id order."""


def shown_status(status: str, label_name, label_rung) -> tuple[str, str]:
    """(what a member's status shows as, the rung its label counts as) from the stored status
    and the label columns a query joined (None when the member has no label)."""
    if label_name is None:
        return status, ""
    label = StatusLabel(0, label_name, label_rung)
    return displayed_label(status, label), LADDER[label_rung].value


def view_condition(view: str):
    """The members of a view as a condition (None for every member); ValueError if unknown."""
    if view not in VIEWS:
        raise ValueError(f"unknown view {view!r}; use {listed(MemberView)}")
    condition = None
    for bucket in VIEW_BUCKETS[MemberView(view)]:
        test = bucket_condition(bucket)
        if test is None:
            return None
        condition = test if condition is None else (condition | test)
    return condition


def _member_query(
    campaign_id: int,
    view: str,
    search: str,
    walk: type[Person] | None = None,
    walk_rungs: bool = False,
):
    """The members of a view matching a filter. `walk`: read only the members who are leads
    (or contacts), starting from that table (CROSS JOIN keeps SQLite from turning the join
    around), so the database can walk them along that table's index; the filter then reads
    that table's columns (`MembersOfFields`), which its indexes hold. `walk_rungs`: the page
    walks the members in id order past a status term's many members (`_statuses_common`)."""
    M = CampaignMember
    first = fn.COALESCE(Lead.first_name, Contact.first_name)
    last = fn.COALESCE(Lead.last_name, Contact.last_name)
    email = fn.COALESCE(Lead.email, Contact.email)
    company = fn.COALESCE(Lead.company, Account.name, "")
    columns = (
        M.id,
        M.lead,
        M.contact,
        first.alias("first_name"),
        last.alias("last_name"),
        email.alias("email"),
        company.alias("company"),
        M.status,
        *[getattr(M, name) for name in MEMBER_TIMES],
        M.has_responded,
        MemberStatusLabel.name,
        MemberStatusLabel.counts_as,
    )
    if walk is None:
        query = (
            M.select(*columns)
            .join_from(M, Lead, JOIN.LEFT_OUTER, on=(M.lead == Lead.id))
            .join_from(M, Contact, JOIN.LEFT_OUTER, on=(M.contact == Contact.id))
        )
    elif walk is Lead:
        query = (
            Lead.select(*columns)
            .join(M, JOIN.CROSS)
            .join_from(M, Contact, JOIN.LEFT_OUTER, on=(M.contact == Contact.id))
            .where(M.lead == Lead.id)
        )
    else:
        query = (
            Contact.select(*columns)
            .join(M, JOIN.CROSS)
            .join_from(M, Lead, JOIN.LEFT_OUTER, on=(M.lead == Lead.id))
            .where(M.contact == Contact.id)
        )
    query = (
        query.join_from(Contact, Account, JOIN.LEFT_OUTER, on=(Contact.account == Account.id))
        .join_from(M, MemberStatusLabel, JOIN.LEFT_OUTER, on=(M.label == MemberStatusLabel.id))
        .where(M.campaign == campaign_id)
    )
    condition = view_condition(view)
    if condition is not None:
        query = query.where(condition)
    fields = MemberFields(walk_rungs) if walk is None else MembersOfFields(walk)
    condition = filter_condition(search, fields)
    if condition is not None:
        query = query.where(condition)
    return query


@dataclass(frozen=True)
class Marked:
    """The marked members of one campaign: these `ids`, and, when `view` is set, every member
    of that view matching `search` except `except_ids`. A filter stands for any number of
    members, so marking 200,000 of them holds a filter and a few exceptions, not their ids."""

    campaign_id: int
    ids: frozenset[int] = frozenset()
    view: str | None = None
    search: str = ""
    except_ids: frozenset[int] = frozenset()

    def condition(self):
        """The marked members, as a condition on CampaignMember."""
        M = CampaignMember
        condition = M.id.in_(sorted(self.ids)) if self.ids else None
        if self.view is not None:
            matching = _member_query(self.campaign_id, self.view, self.search).select(M.id)
            every = M.id.in_(matching)
            if self.except_ids:
                every &= M.id.not_in(sorted(self.except_ids))
            condition = every if condition is None else (condition | every)
        if condition is None:
            return (M.campaign == self.campaign_id) & SQL("1 = 0")
        return (M.campaign == self.campaign_id) & condition

    def count(self) -> int:
        return CampaignMember.select().where(self.condition()).count()


def _row(values: tuple) -> MemberRow:
    mid, lead_id, contact_id, first, last, email, company, status, *times = values
    *times, has_responded, label_name, label_rung = times
    convert = CampaignMember._meta.fields["added_at"].python_value
    shown, counts_as = shown_status(status, label_name, label_rung)
    return MemberRow(
        id=mid,
        person_type="lead" if lead_id else "contact",
        person_id=lead_id or contact_id,
        name=f"{first or ''} {last or ''}".strip(),
        email=email or "",
        company=company or "",
        status=shown,
        **{name: convert(value) for name, value in zip(MEMBER_TIMES, times)},
        has_responded=bool(has_responded),
        standing=status,
        counts_as=counts_as,
    )


def member_page(
    campaign_id: int,
    view: str = "all",
    search: str = "",
    *,
    after: Any = None,
    before: Any = None,
    last: bool = False,
    offset: int | None = None,
    limit: int = PAGE_SIZE,
    marked: Marked | None = None,
    order: Order = NATURAL,
) -> list[MemberRow]:
    """A page of a member list view in member-id order, or in `order` (a column of
    `MEMBER_ORDERS`), found by key.

    `after`: the page following that row's key; `before`: the page preceding it; `last`: the
    final page. With none of them, the first page. A row's key is its id in member-id order and
    its `key` otherwise. `offset` (a scan) is only for a jump far from any loaded row, such as a
    dragged scrollbar. A filter with a country or industry term finds its members from the
    people it names (`_people_parts`). The Converted view's rows carry their opportunity (one
    more query for the page)."""
    if order.column:
        rows = _sorted_member_page(
            campaign_id, view, search, marked, order, after, before, last, offset, limit
        )
        return _with_deals(campaign_id, view, rows)
    M = CampaignMember
    if indexed(search):
        rows = _found_from_people(
            campaign_id, view, search, marked, after, before, last, offset, limit
        )
        return _with_deals(campaign_id, view, rows)
    walk_rungs = _statuses_common(campaign_id, search)
    query = _member_query(campaign_id, view, search, walk_rungs=walk_rungs)
    if marked is not None:
        query = query.where(marked.condition())
    if after is not None:
        query = query.where(M.id > after)
    if before is not None:
        query = query.where(M.id < before)
    backwards = last or before is not None
    query = query.order_by(M.id.desc() if backwards else M.id).limit(limit)
    if offset:
        query = query.offset(offset)
    rows = [_row(values) for values in query.tuples()]
    return _with_deals(campaign_id, view, rows[::-1] if backwards else rows)


STATUS_COUNTERS = {
    "sent": "sent",
    "opened": "opened",
    "clicked": "clicked",
    "responded": "responded",
    "converted": "converted",
    "bounced": "bounced",
    "unsubscribed": "unsubscribed",
}
"""The kept counter (`CampaignStats`) that tells about how many members a status term matches."""

WALK_DENSITY = 100
"""A page in id order walks past a status term's members when at least one member in this many
matches it: the walk reads about this many rows per row shown (fewer than sorting them all);
rarer, the database finds them from the (campaign, rung, id) index and sorts them."""


def _statuses_common(campaign_id: int, search: str) -> bool:
    """Whether every status term of the filter (not negated) matches a share of the campaign
    a page in id order finds by walking its members (told by the kept counters, at no cost)."""
    parsed = parse_filter(search, ANY_LABEL)
    terms = [t for t in parsed.terms if t.field == "status" and not t.negated]
    if not terms:
        return False
    stats = CampaignStats.get_or_none(CampaignStats.campaign == campaign_id)
    if stats is None or not stats.sent:
        return False
    for term in terms:
        if any(value not in STATUS_COUNTERS for value in term.values):
            return False  # a label's members are not counted here
        matching = sum(getattr(stats, STATUS_COUNTERS[value]) for value in term.values)
        if matching * WALK_DENSITY < stats.sent:
            return False
    return True


def _people_parts(campaign_id: int, view: str, search: str, marked: Marked | None) -> list[Part]:
    """The members matching a filter `indexed` by a person field, in member-id order, as two
    parts: the members who are leads found from the leads matching it (by that field's index),
    and the members who are contacts likewise, each sorted by id (they are few beside the
    campaign: walking the campaign's members would read them all to find them)."""
    M = CampaignMember
    parts = []
    for model in (Lead, Contact):
        query = _member_query(campaign_id, view, search, walk=model)
        if marked is not None:
            query = query.where(marked.condition())
        parts.append(Part(query, (M.id,), M.id))
    return parts


def _found_from_people(
    campaign_id, view, search, marked, after, before, last, offset, limit
) -> list[MemberRow]:
    """`member_page` in member-id order, for a filter `indexed` by a person field."""
    parts = _people_parts(campaign_id, view, search, marked)
    rows = keyset_page(
        parts,
        False,
        after=None if after is None else (after, after),
        before=None if before is None else (before, before),
        last=last,
        limit=limit,
        offset=offset or 0,
    )
    width = len(parts[0].query.selected_columns)
    return [_row(values[:width]) for values in rows]


def _with_deals(campaign_id: int, view: str, rows: list[MemberRow]) -> list[MemberRow]:
    """In the Converted view, each row with the deal its member converted to (one query)."""
    if view != MemberView.CONVERTED:
        return rows
    deals = converted_opportunities(campaign_id, [row.id for row in rows])
    return [row._replace(opportunity=deals.get(row.id)) for row in rows]


MEMBER_ORDERS = ("name", "email", "status", "added", "opened")
"""The columns a member list sorts by, in the order the sort key visits them."""

_PERSON_KEYS = {
    "name": ("last_name", "first_name"),
    "email": ("email",),
}
"""Sorts by the person: their columns, in the lead and contact tables alike."""

_MEMBER_KEYS = {"status": "rung", "added": "added_at", "opened": "first_opened_at"}
"""Sorts by the membership: its column (each with a (campaign, column, id) index)."""

WALK_SHARE = 20
"""Members who are leads (or contacts) are walked along that table's index when at least one
person in this many of the table is one of them; otherwise their few rows are sorted."""


def _walkable(campaign_id: int, model: type[Person]) -> bool:
    """Whether enough of the table are members of the campaign to walk it (counting no further
    than the share needed, against the table's highest id: both read from indexes at once)."""
    M = CampaignMember
    person = M.lead if model is Lead else M.contact
    needed = (model.select(fn.MAX(model.id)).scalar() or 0) // WALK_SHARE + 1
    members = M.select(SQL("1")).where((M.campaign == campaign_id) & person.is_null(False))
    return members.limit(needed).count() >= needed


def _member_parts(
    campaign_id: int, view: str, search: str, marked: Marked | None, column: str
) -> list[Part]:
    """The member list in `column` order as parts the database walks along an index: by the
    membership's own column, or (with no filter) the lead members and the contact members
    along their tables' name or email index, or else the members as one part to sort."""
    M = CampaignMember

    def narrowed(query):
        return query if marked is None else query.where(marked.condition())

    if column in _MEMBER_KEYS:
        key = getattr(M, _MEMBER_KEYS[column])
        query = narrowed(_member_query(campaign_id, view, search))
        return [Part(query, (key,), M.id, nullable=key.null)]
    names = _PERSON_KEYS[column]
    if view == "all" and not search.strip() and marked is None:
        walks = [model for model in (Lead, Contact) if _walkable(campaign_id, model)]
        if len(walks) == 2 or (walks and _only_kind(campaign_id, walks[0])):
            return [
                Part(
                    _member_query(campaign_id, view, search, walk=model),
                    tuple(getattr(model, name) for name in names),
                    M.id,
                )
                for model in walks
            ]
    keys = tuple(fn.COALESCE(getattr(Lead, name), getattr(Contact, name)) for name in names)
    query = narrowed(_member_query(campaign_id, view, search))
    return [Part(query, keys, M.id)]


def _only_kind(campaign_id: int, model: type[Person]) -> bool:
    """Whether every member of the campaign is a lead (or every one a contact)."""
    M = CampaignMember
    other = M.contact if model is Lead else M.lead
    return not M.select().where((M.campaign == campaign_id) & other.is_null(False)).exists()


def _sorted_member_page(
    campaign_id, view, search, marked, order, after, before, last, offset, limit
) -> list[MemberRow]:
    if order.column not in MEMBER_ORDERS:
        raise ValueError(f"unknown sort {order.column!r}; use one of {', '.join(MEMBER_ORDERS)}")
    parts = _member_parts(campaign_id, view, search, marked, order.column)
    rows = keyset_page(
        parts,
        order.descending,
        after=after,
        before=before,
        last=last,
        limit=limit,
        offset=offset or 0,
    )
    width = len(parts[0].query.selected_columns)
    return [_row(values[:width])._replace(key=tuple(values[width:])) for values in rows]


def member_count(campaign_id: int, view: str = "all", search: str = "") -> int:
    """Rows in a view: read from the campaign's kept counters unless a filter is typed."""
    if not search.strip():
        stats = CampaignStats.get_or_none(CampaignStats.campaign == campaign_id)
        if stats is not None:
            view_condition(view)  # an unknown view is an error
            return sum(getattr(stats, bucket.name) for bucket in VIEW_BUCKETS[MemberView(view)])
        view_condition(view)  # an unknown view is an error even for an empty campaign
        return 0
    if indexed(search, counting=True):
        return sum(part.query.count() for part in _people_parts(campaign_id, view, search, None))
    return _member_query(campaign_id, view, search).count()


def member_rows_for_export(
    campaign_id: int, view: str = "all", search: str = "", marked: Marked | None = None
):
    """Every row of a view (only the `marked` ones, if given), streamed page by page (the
    export never holds them all)."""
    after = None
    while True:
        page = member_page(campaign_id, view, search, after=after, limit=2_000, marked=marked)
        yield from page
        if len(page) < 2_000:
            return
        after = page[-1].id


class Membership(NamedTuple):
    member_id: int
    campaign_id: int
    campaign: str
    campaign_type: str
    campaign_status: str
    status: str
    added_at: datetime | None
    first_opened_at: datetime | None
    first_clicked_at: datetime | None
    response_date: datetime | None
    converted_at: datetime | None
    via: str
    standing: str = ""
    """The status among the seven (for colours); `status` is what it shows as in the campaign."""


def memberships_of(person: Person) -> list[Membership]:
    """Every campaign the person is in, newest first, as lead or as contact."""
    M = CampaignMember
    lead_ids, contact_ids = linked_people(person)
    condition = M.lead.in_(lead_ids) if lead_ids else None
    if contact_ids:
        by_contact = M.contact.in_(contact_ids)
        condition = by_contact if condition is None else (condition | by_contact)
    query = (
        M.select(
            M.id,
            Campaign.id,
            Campaign.name,
            Campaign.type,
            Campaign.status,
            M.status,
            *[getattr(M, name) for name in MEMBER_TIMES],
            M.lead,
            MemberStatusLabel.name,
            MemberStatusLabel.counts_as,
        )
        .join(Campaign)
        .join_from(M, MemberStatusLabel, JOIN.LEFT_OUTER, on=(M.label == MemberStatusLabel.id))
        .where(condition)
        .order_by(M.added_at.desc(), M.id.desc())
    )
    memberships = []
    for values in query.tuples():
        *fields, lead, label_name, label_rung = values
        status = fields[5]
        fields[5] = shown_status(status, label_name, label_rung)[0]
        memberships.append(Membership._make((*fields, "lead" if lead else "contact", status)))
    return memberships


CLOSED_STATUSES = tuple(status for status in CampaignStatus if status.is_closed)
"""Campaigns that are over: nobody is added to them any more."""


def campaigns_open_to(person: Person) -> list[Campaign]:
    """Planned and running campaigns the person is not yet in (neither as the lead nor as the
    contact it became)."""
    taken = {m.campaign_id for m in memberships_of(person)}
    query = Campaign.select().where(Campaign.status.not_in(CLOSED_STATUSES))
    return [c for c in query.order_by(Campaign.name) if c.id not in taken]


class PickerRow(NamedTuple):
    id: int
    name: str
    email: str
    company: str
    category: str
    """audience.NEW when the person can be picked; otherwise why not."""
    matched: bool = False
    """Whether a filter the picker marked every match of matches the row (see `Picked`)."""
    key: tuple = ()
    """The row's place in a sorted list (its sort columns, then its id); empty in id order."""


def _picker_query(campaign: Campaign, kind: str, search: str):
    model = Lead if kind == "lead" else Contact
    category = membership_category(model, campaign.id)
    company = Lead.company if model is Lead else fn.COALESCE(Account.name, "")
    query = model.select(
        model.id, model.first_name, model.last_name, model.email, company, category.alias("cat")
    )
    if model is Contact:
        query = query.join(Account, JOIN.LEFT_OUTER)
    condition = filter_condition(search, PersonFields(model))
    if condition is not None:
        query = query.where(condition)
    return query, model, category


def _matching_any(filters: tuple[str, ...], model):
    """SQL: any of these filters matches the person (None: no filter, so nobody)."""
    conditions = [filter_condition(search, PersonFields(model)) for search in filters]
    if any(condition is None for condition in conditions):  # an empty filter matches everyone
        return TRUE
    return reduce(operator.or_, conditions) if conditions else None


def picker_page(
    campaign: Campaign,
    kind: str,
    search: str = "",
    after: Any = None,
    limit: int = PAGE_SIZE,
    offset: int = 0,
    marked_filters: tuple[str, ...] = (),
    *,
    before: Any = None,
    last: bool = False,
    order: Order = NATURAL,
) -> list[PickerRow]:
    """People for the Add Members picker, by id (or in `order`, a column of
    `people.PEOPLE_ORDERS`), each with whether they can be picked and whether any of
    `marked_filters` matches them; found from a row's key (its id, or its `key` when sorted).
    `offset` (a scan) is only for a jump far from any row at hand."""
    query, model, _ = _picker_query(campaign, kind, search)
    matched = _matching_any(marked_filters, model)
    query = query.select_extend(Case(None, [(FALSE if matched is None else matched, 1)], 0))
    if order.column:
        keys = person_keys(model, order.column)
        rows = keyset_page(
            [Part(query, keys, model.id)],
            order.descending,
            after=after,
            before=before,
            last=last,
            limit=limit,
            offset=offset,
        )
        return [_picker_row(row[:7])._replace(key=tuple(row[7:])) for row in rows]
    if after is not None:
        query = query.where(model.id > after)
    if before is not None:
        query = query.where(model.id < before)
    backwards = last or before is not None
    query = query.order_by(model.id.desc() if backwards else model.id).limit(limit)
    found = [_picker_row(row) for row in (query.offset(offset) if offset else query).tuples()]
    return found[::-1] if backwards else found


def _picker_row(values: tuple) -> PickerRow:
    pid, first, last, email, company, cat, hit = values
    return PickerRow(pid, f"{first} {last}".strip(), email, company or "", cat, bool(hit))


def pickable(campaign_id: int, kind: str, search: str = ""):
    """The ids of the people of one kind matching the filter who can be enrolled now, as a query
    (the campaign's members read once, as for an audience: it may stand for 170,000 people)."""
    model = Lead if kind == "lead" else Contact
    category = membership_category(model, campaign_id, in_bulk=True)
    query = model.select(model.id)
    if model is Contact:
        query = query.join(Account, JOIN.LEFT_OUTER)
    condition = filter_condition(search, PersonFields(model))
    query = query.where(category == NEW)
    return query.where(condition) if condition is not None else query


def pickable_ids(campaign: Campaign, kind: str, search: str = "") -> list[int]:
    """Ids of every person matching the filter who can be enrolled."""
    model = Lead if kind == "lead" else Contact
    return [pid for (pid,) in pickable(campaign.id, kind, search).order_by(model.id).tuples()]


def pickable_count(campaign_id: int, kind: str, search: str = "") -> int:
    return pickable(campaign_id, kind, search).count()


def pickable_among(campaign_id: int, kind: str, search: str, ids) -> list[int]:
    """Which of these ids are of people matching the filter who can be enrolled."""
    if not ids:
        return []
    model = Lead if kind == "lead" else Contact
    query = pickable(campaign_id, kind, search).where(model.id.in_(id_set(sorted(ids))))
    return [pid for (pid,) in query.tuples()]


@dataclass(frozen=True)
class Picked:
    """The people of one kind marked in the picker: these `ids`, and every person who can be
    enrolled and matches any of `filters` (mark all) except `except_ids`. A filter stands for
    170,000 people as well as for three: neither the picker nor the enrollment holds their ids.
    `enroll` takes it in place of a list of ids."""

    campaign_id: int
    kind: str
    ids: frozenset[int] = frozenset()
    filters: tuple[str, ...] = ()
    except_ids: frozenset[int] = frozenset()

    def __bool__(self) -> bool:
        return bool(self.ids) or bool(self.filters)

    def condition(self, model):
        """The marked people as a condition on `model` (the kind's table or an alias of it)."""
        conditions = []
        if self.ids:
            conditions.append(model.id.in_(id_set(sorted(self.ids))))
        if self.filters:
            every = reduce(
                operator.or_,
                (model.id.in_(pickable(self.campaign_id, self.kind, f)) for f in self.filters),
            )
            if self.except_ids:
                every &= model.id.not_in(id_set(sorted(self.except_ids)))
            conditions.append(every)
        return reduce(operator.or_, conditions) if conditions else FALSE

    def count(self) -> int:
        model = Lead if self.kind == "lead" else Contact
        return model.select().where(self.condition(model)).count()


def picker_count(campaign: Campaign, kind: str, search: str = "") -> int:
    query, _, _ = _picker_query(campaign, kind, search)
    return query.count()


def picker_tally(campaign: Campaign, kind: str, search: str = "") -> Counter:
    """How many people matching the filter fall in each category (NEW: can be picked)."""
    model = Lead if kind == "lead" else Contact
    category = membership_category(model, campaign.id)
    # GROUP BY the first column: repeating the CASE would bind its parameters anew.
    query = model.select(category, fn.COUNT(model.id))
    if model is Contact:
        query = query.join(Account, JOIN.LEFT_OUTER)
    condition = filter_condition(search, PersonFields(model))
    if condition is not None:
        query = query.where(condition)
    return Counter(dict(query.group_by(SQL("1")).tuples()))
