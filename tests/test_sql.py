"""The bulk SQL helpers: what `insert_rows` sends with each row."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from peewee import EXCLUDED

from data.models import Lead, Opportunity
from data.sql import insert_rows
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
