"""Leads and contacts: email rules, look-ups, searchable lists, edits that keep flags honest."""

from __future__ import annotations

from peewee import JOIN, Tuple

from data.matching import PersonFields, filter_condition
from data.models import Account, Contact, Lead, Person


def person_model(kind: str) -> type[Person]:
    return {"lead": Lead, "contact": Contact}[kind]


def company_of(person: Person) -> str:
    return person.company if isinstance(person, Lead | Contact) else ""


PAGE_SIZE = 100


def people_page(
    kind: str,
    search: str = "",
    after: tuple | None = None,
    limit: int = PAGE_SIZE,
    offset: int = 0,
):
    """One page of leads or contacts ordered by name, keyed by (last, first, id), narrowed by a
    filter (`data.filters`). Rows: (id, first, last, email, company, country, dne, bounced).
    `offset` (a scan) is only for a jump far from any row at hand."""
    query, model = _people_query(kind, search)
    key = Tuple(model.last_name, model.first_name, model.id)
    if after is not None:
        query = query.where(key > Tuple(*after))
    query = query.order_by(model.last_name, model.first_name, model.id).limit(limit)
    return list((query.offset(offset) if offset else query).tuples())


def people_count(kind: str, search: str = "") -> int:
    """How many leads or contacts `people_page` lists for this search."""
    query, _ = _people_query(kind, search)
    return query.count()


def _people_query(kind: str, search: str):
    model = person_model(kind)
    if model is Lead:
        company = Lead.company
        query = Lead.select(
            Lead.id,
            Lead.first_name,
            Lead.last_name,
            Lead.email,
            company,
            Lead.country,
            Lead.do_not_email,
            Lead.email_bounced,
        )
    else:
        company = Account.name
        query = Contact.select(
            Contact.id,
            Contact.first_name,
            Contact.last_name,
            Contact.email,
            company,
            Contact.country,
            Contact.do_not_email,
            Contact.email_bounced,
        ).join(Account, JOIN.LEFT_OUTER)
    condition = filter_condition(search, PersonFields(model))
    if condition is not None:
        query = query.where(condition)
    return query, model
