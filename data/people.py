"""Leads and contacts: email rules, look-ups, searchable lists, edits that keep flags honest."""

from __future__ import annotations

from peewee import JOIN

from data.matching import PersonFields, filter_condition
from data.models import Account, Contact, Lead, Person
from data.sorting import Order, Part, keyset_page


def person_model(kind: str) -> type[Person]:
    return {"lead": Lead, "contact": Contact}[kind]


def company_of(person: Person) -> str:
    return person.company if isinstance(person, Lead | Contact) else ""


PAGE_SIZE = 100


PEOPLE_ORDERS = {"name": ("last_name", "first_name"), "email": ("email",)}
"""The columns People and the picker sort by (each read from an index), in the order the sort
key visits them."""


BY_NAME = Order("name")
"""People's own order."""


def person_keys(model: type[Person], column: str) -> tuple:
    """The sort key of a `PEOPLE_ORDERS` column on a lead or contact table."""
    if column not in PEOPLE_ORDERS:
        raise ValueError(f"unknown sort {column!r}; use one of {', '.join(PEOPLE_ORDERS)}")
    return tuple(getattr(model, name) for name in PEOPLE_ORDERS[column])


def people_page(
    kind: str,
    search: str = "",
    after: tuple | None = None,
    limit: int = PAGE_SIZE,
    offset: int = 0,
    *,
    before: tuple | None = None,
    last: bool = False,
    order: Order = BY_NAME,
):
    """One page of leads or contacts in `order` (by name unless told), narrowed by a filter
    (`data.filters`), found from a row's key. Rows: (id, first, last, email, company, country,
    dne, bounced, *key), the key being the sort columns then the id. `offset` (a scan) is only
    for a jump far from any row at hand."""
    query, model = _people_query(kind, search)
    part = Part(query, person_keys(model, order.column), model.id)
    return keyset_page(
        [part],
        order.descending,
        after=after,
        before=before,
        last=last,
        limit=limit,
        offset=offset,
    )


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
