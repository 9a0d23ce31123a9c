"""The bulk SQL helpers: what `insert_rows` sends with each row, and the long IN lists of
`in_list` and `rows_where_in`."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from peewee import EXCLUDED

from data.models import Lead, Opportunity
from data.sql import in_list, insert_rows, is_sqlite, rows_where_in
from tests import factories as f


def test_insert_rows_fills_unlisted_defaults_and_the_on_conflict_parameters(fresh_db):
    f.lead(email="ana@example.com", last_name="Old", lead_status="Working")
    fields = [Lead.email, Lead.last_name]  # created_at, lead_status, flags…: their defaults
    insert_rows(
        Lead,
        fields,
        [("ana@example.com", "Silva"), ("ben@example.com", "Okafor")],
        # A parameter in the ON CONFLICT clause, after the defaults of the unlisted columns.
        conflict=lambda q: q.on_conflict(
            conflict_target=[Lead.email],
            update={Lead.last_name: EXCLUDED.last_name, Lead.title: "re-imported"},
        ),
    )
    ana = Lead.get(Lead.email == "ana@example.com")
    ben = Lead.get(Lead.email == "ben@example.com")
    assert (ana.last_name, ana.title, ana.lead_status) == ("Silva", "re-imported", "Working")
    assert (ben.last_name, ben.title, ben.lead_status) == ("Okafor", "", "Open")
    assert isinstance(ben.created_at, datetime) and ben.do_not_email is False


def test_insert_rows_converts_decimals(fresh_db):
    contact = f.contact()
    insert_rows(
        Opportunity,
        [Opportunity.name, Opportunity.contact, Opportunity.amount],
        [("Deal A", contact.id, Decimal("1200.50")), ("Deal B", contact.id, 99)],
    )
    amounts = sorted(o.amount for o in Opportunity.select())
    assert amounts == [Decimal("99"), Decimal("1200.50")]


ODD = [
    "o'neil@example.com",
    'quo"ted@example.com',
    "{brace}@example.com",
    "back\\slash@example.com",
    "comma,semi;@example.com",
    "ünïcode@example.com",
    "null@example.com",
]
"""Addresses that an array literal or a VALUES list could get wrong."""


def test_in_list_and_rows_where_in_find_exactly_the_listed_values(fresh_db):
    leads = [f.lead(email=email) for email in ODD]
    wanted = ODD[:4] + [f"absent{n}@example.com" for n in range(3_000)]
    query = Lead.select(Lead.email).where(in_list(Lead.email, wanted))
    assert sorted(email for (email,) in query.tuples()) == sorted(ODD[:4])
    ids = [lead.id for lead in leads[3:]] + [10**6]
    rows = rows_where_in(Lead.select(Lead.id, Lead.email), Lead.id, ids)
    assert sorted(email for _, email in rows) == sorted(lead.email for lead in leads[3:])
    assert Lead.select().where(in_list(Lead.email, [])).count() == 0
    assert rows_where_in(Lead.select(Lead.id), Lead.id, []) == []


def test_a_long_in_list_is_one_parameter_on_postgresql(fresh_db):
    """On PostgreSQL the list is one array: the statement's text is the same for 1 or 5,000
    values (the driver scans a long text for placeholders on every run)."""
    one_sql, one_params = Lead.select().where(in_list(Lead.id, [1])).sql()
    many = list(range(5_000))
    many_sql, many_params = Lead.select().where(in_list(Lead.id, many)).sql()
    if is_sqlite():
        assert len(many_params) == 5_000
    else:
        assert (many_sql, many_params) == (one_sql, [many])
