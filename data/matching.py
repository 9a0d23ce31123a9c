"""The filter language as a query: the terms `filters.parse_filter` read, as one Peewee condition.

One compiler for the three lists that take a filter: People and the Add Members picker (a lead
or contact table) and a campaign's member list (members joined to their lead or contact). Each
list says where its fields are (`PersonFields`, `MemberFields`); the meaning of every term is
written here once.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, time, timedelta
from typing import Any

from peewee import SQL, Field, NodeList, fn

from data import word_index
from data.engagement import LADDER
from data.filters import (
    ANY_LABEL,
    CHOICE_FIELDS,
    DATE_FIELDS,
    LIST_FIELDS,
    ParsedFilter,
    Term,
    parse_filter,
)
from data.folding import containing, folded_in
from data.identity import suppressed_email
from data.models import (
    FILTER_INDEXES,
    Account,
    CampaignMember,
    Contact,
    Lead,
    MemberStatusLabel,
    Person,
)
from data.word_index import has_word_index, indexable, is_rare, narrowing, narrows_exactly

TRUE, FALSE = SQL("1 = 1"), SQL("1 = 0")

MEMBER_DATES = frozenset(("first_opened_at", "first_clicked_at", "response_date"))


class Fields:
    """Where one list's query finds what a filter reads."""

    name: Any
    email: Any
    company: Any
    is_lead: Any
    do_not_email: Any
    email_bounced: Any

    walk_rungs = False
    """Whether the list walks its own order past a status term's members (they are many), so
    the database must not start from the (campaign, rung, id) index (`data.members`)."""

    def column(self, name: str):
        raise NotImplementedError

    def membership(self, condition: Callable[[type[CampaignMember]], Any]):
        """SQL: the row's membership (or, for a person, any of its memberships) matches."""
        raise NotImplementedError

    def worded(self, word: str):
        """SQL narrowing the rows to those whose person may contain a bare word, from the word
        index (`data.word_index`); None when the index cannot narrow it."""
        raise NotImplementedError

    def contains(self, word: str):
        """A bare word: the name, email or company contains it (the rule: the index only
        narrows the rows it is checked on)."""
        narrowed = self.worded(word)
        if narrowed is not None and narrows_exactly():
            return narrowed
        exact = (
            containing(self.name, word)
            | containing(self.email, word)
            | containing(self.company, word)
        )
        return exact if narrowed is None else (narrowed & exact)


class PersonFields(Fields):
    """A lead or contact table (People, the picker)."""

    def __init__(self, model: type[Person]) -> None:
        self.model = model
        self.name = model.first_name.concat(" ").concat(model.last_name)
        self.email = model.email
        self.company = Lead.company if model is Lead else fn.COALESCE(Account.name, "")
        self.is_lead = TRUE if model is Lead else FALSE
        self.do_not_email = model.do_not_email
        self.email_bounced = model.email_bounced

    def column(self, name: str):
        return getattr(self.model, name, None)

    def membership(self, condition):
        M = CampaignMember
        person = M.lead if self.model is Lead else M.contact
        return fn.EXISTS(M.select(SQL("1")).where((person == self.model.id) & condition(M)))

    def worded(self, word: str):
        """A rare word's few people are found from the index; a common one's by walking the
        list's own order (they come soon: the index would only cost the time to read it)."""
        if not is_rare(self.model, word, word_index.SORTED_PROBE):
            return None
        return narrowing(self.model, word, self.model.id)


class MembersOfFields(PersonFields):
    """A campaign's members who are leads (or contacts), read from that table joined to their
    memberships (so a filter's country or industry is found from that table's index)."""

    def column(self, name: str):
        if name in MEMBER_DATES:
            return getattr(CampaignMember, name)
        return super().column(name)

    def membership(self, condition):
        return condition(CampaignMember)

    def worded(self, word: str):
        """These members are found from the people (`indexed`): from those the index names."""
        return narrowing(self.model, word, self.model.id)


def indexed(parsed: ParsedFilter | str, counting: bool = False) -> bool:
    """Whether a member list finds a filter's members from the people its term names (by a
    person table's index) rather than walking the campaign's members: a term that is not
    negated, a country or industry term or a bare word the word index narrows, naming few
    people (`PROBE`: a page of a common one's members comes soon on the walk). `counting`:
    however many it names, as a count reads them all anyway."""
    if isinstance(parsed, str):
        parsed = parse_filter(parsed, ANY_LABEL)
    for term in parsed.terms:
        if term.negated:
            continue
        if LIST_FIELDS.get(term.field) in FILTER_INDEXES:
            if counting or all(_few_listed(model, term) for model in (Lead, Contact)):
                return True
        elif not term.field:
            word = term.values[0]
            if counting and indexable(word) and has_word_index():
                return True
            if all(is_rare(model, word) for model in (Lead, Contact)):
                return True
    return False


def _few_listed(model: type[Person], term: Term) -> bool:
    """Whether fewer than `PROBE` people of the table have one of a list term's values (read
    from the LOWER index, no further than that)."""
    named = model.select(SQL("1")).where(
        folded_in(getattr(model, LIST_FIELDS[term.field]), term.values)
    )
    return named.limit(word_index.PROBE).count() < word_index.PROBE


class MemberFields(Fields):
    """Campaign members joined (outer) to their lead, contact and the contact's account."""

    def __init__(self, walk_rungs: bool = False) -> None:
        self.walk_rungs = walk_rungs
        first = fn.COALESCE(Lead.first_name, Contact.first_name)
        last = fn.COALESCE(Lead.last_name, Contact.last_name)
        self.name = first.concat(" ").concat(last)
        self.email = fn.COALESCE(Lead.email, Contact.email)
        self.company = fn.COALESCE(Lead.company, Account.name, "")
        self.is_lead = CampaignMember.lead.is_null(False)
        self.do_not_email = fn.COALESCE(Lead.do_not_email, Contact.do_not_email)
        self.email_bounced = fn.COALESCE(Lead.email_bounced, Contact.email_bounced)

    def column(self, name: str):
        if name in MEMBER_DATES:
            return getattr(CampaignMember, name)
        found = [getattr(m, name) for m in (Lead, Contact) if name in m._meta.fields]
        return fn.COALESCE(*found) if len(found) > 1 else (found[0] if found else None)

    def membership(self, condition):
        return condition(CampaignMember)

    def worded(self, word: str):
        """None: a member list with a rare word finds its members from the people the index
        names (`indexed`, `data.members`); a common word's come soon walking the list."""
        return None


def _label_reached(name: str):
    """A member whose label is the campaign's label of that name or one after it in the
    campaign's order (a campaign without such a label: nobody)."""
    reached = MemberStatusLabel.alias("reached")
    named = MemberStatusLabel.alias("named")
    labels = (
        reached.select(reached.id)
        .join(named, on=(named.campaign == reached.campaign))
        .where(folded_in(named.name, [name]) & (reached.position >= named.position))
    )
    return lambda M: M.label.in_(labels)


def _status(value: str, walked: bool = False):
    """A status word as a condition on a member: a rung reached, an exit, or a label reached.
    `walked`: the list walks past the members (on SQLite a unary plus keeps the rung index out
    of it)."""
    if value not in CHOICE_FIELDS["status"]:
        return _label_reached(value)
    if value == "bounced":
        return lambda M: M.bounced == True  # noqa: E712 (SQL)
    if value == "unsubscribed":
        return lambda M: M.unsubscribed == True  # noqa: E712
    rung = [status.lower() for status in LADDER].index(value)
    if walked:
        return lambda M: NodeList((SQL("+"), M.rung), glue="") >= rung
    return lambda M: M.rung >= rung


def _between(term: Term):
    """The datetimes a date term takes, as (lowest or None, below or None)."""
    assert term.day is not None
    start = datetime.combine(term.day, time())
    after = start + timedelta(days=1)
    return {
        ">=": (start, None),
        ">": (after, None),
        "<=": (None, after),
        "<": (None, start),
        "=": (start, after),
    }[term.operator]


def _dated(column, term: Term):
    low, high = _between(term)
    condition = column.is_null(False)
    if low is not None:
        condition &= column >= low
    if high is not None:
        condition &= column < high
    return condition


def _text(expression):
    """Text that is never NULL: a column that may be NULL (or one read through an outer join)
    reads as "". A column that cannot be NULL is left bare, so an index on it (or on its
    `LOWER`, for the list fields: `models.FILTER_INDEXES`) can find the rows."""
    if isinstance(expression, Field) and not expression.null:
        return expression
    return fn.COALESCE(expression, "")


def term_condition(term: Term, fields: Fields):
    """One term as SQL over the list's fields (before its negation)."""
    if not term.field:
        return fields.contains(term.values[0])
    if term.field in LIST_FIELDS:
        column = fields.column(LIST_FIELDS[term.field])
        if column is None:  # contacts have no lead source or lead status
            return FALSE
        return folded_in(_text(column), term.values)
    if term.field in ("title", "company"):
        column = fields.company if term.field == "company" else fields.column("title")
        return _any(containing(_text(column), value) for value in term.values)
    if term.field in DATE_FIELDS:
        name = DATE_FIELDS[term.field]
        if name in MEMBER_DATES:
            return fields.membership(lambda M: _dated(getattr(M, name), term))
        return _dated(fields.column(name), term)
    if term.field == "type":
        kinds = {"lead": fields.is_lead, "contact": ~fields.is_lead}
        return _any(kinds[value] for value in term.values)
    if term.field == "flag":
        flags = {
            "suppressed": (fields.do_not_email == True) | suppressed_email(fields.email),  # noqa: E712
            "bounced": fields.email_bounced == True,  # noqa: E712
        }
        return _any(flags[value] for value in term.values)
    assert term.field == "status", term.field
    statuses = [_status(value, fields.walk_rungs) for value in term.values]
    return fields.membership(lambda M: _any(status(M) for status in statuses))


def _any(conditions):
    """Conditions joined by OR."""
    joined = None
    for condition in conditions:
        joined = condition if joined is None else (joined | condition)
    return joined


def filter_condition(parsed: ParsedFilter | str, fields: Fields):
    """Every readable term of a filter, as one condition (None when there is none). A
    `status:` word that is no ladder word is a label's name (`filters.parse_filter`)."""
    if isinstance(parsed, str):
        parsed = parse_filter(parsed, ANY_LABEL)
    condition = None
    for term in parsed.terms:
        test = term_condition(term, fields)
        if term.negated:
            test = ~test
        condition = test if condition is None else (condition & test)
    return condition
