"""Opportunities in sight: a person's deals, and a stage change that moves the won amount."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from decimal import Decimal

import pytest

from data.conversion import convert_lead, create_opportunity
from data.enrollment import enroll
from data.errors import ValidationError
from data.identity import member_of
from data.ingest import set_member_status
from data.members import MemberRow, member_count, member_page
from data.models import Campaign, Contact, Lead
from data.opportunities import opportunities_of, set_stage
from data.rollups import campaign_metrics
from data.sql import database
from data.transfer import EXPORT_COLUMNS, export_members
from tests import factories
from tests.conftest import FIXED_NOW


def converted_with_a_deal():
    lead = factories.lead(email="ana@example.com")
    campaign = factories.campaign("Spring Webinar")
    enroll(campaign)
    convert_lead(
        lead, opportunity_name="Big deal", amount=Decimal("12000"), campaign_source=campaign
    )
    return Lead.get_by_id(lead.id), campaign


def test_the_lead_and_its_contact_show_the_deal(fresh_db):
    lead, campaign = converted_with_a_deal()
    contact = Contact.get_by_id(lead.converted_contact_id)
    for person in (lead, contact):
        (deal,) = opportunities_of(person)
        assert (deal.name, deal.amount, deal.stage, deal.campaign) == (
            "Big deal",
            Decimal("12000.00"),
            "Prospecting",
            "Spring Webinar",
        )
    assert opportunities_of(factories.lead(email="ben@example.com")) == []


def test_closed_won_moves_the_campaign_won_amount_and_back(fresh_db):
    lead, campaign = converted_with_a_deal()
    (deal,) = opportunities_of(lead)
    assert campaign_metrics(campaign).won_amount == 0
    set_stage(deal.id, "Closed Won")
    assert campaign_metrics(campaign).won_amount == 12000
    set_stage(deal.id, "Closed Lost")
    assert campaign_metrics(campaign).won_amount == 0


def test_an_unknown_stage_or_deal_is_refused_in_one_line(fresh_db):
    lead, _ = converted_with_a_deal()
    (deal,) = opportunities_of(lead)
    with pytest.raises(ValidationError, match="unknown stage 'Won'; use Prospecting"):
        set_stage(deal.id, "Won")
    with pytest.raises(ValidationError, match="no longer exists"):
        set_stage(deal.id + 100, "Closed Won")
    assert opportunities_of(lead)[0].stage == "Prospecting"


# The Converted view's deals ---------------------------------------------------------------------


def converted(campaign) -> dict[str, MemberRow]:
    return {row.email: row for row in member_page(campaign.id, "converted", limit=1_000)}


def test_each_converted_member_shows_the_deal_its_campaign_sourced(fresh_db):
    """A lead member shows the deal of the contact it became; a contact member its own; the
    latest of several; none from another campaign; a member converted without a deal, none."""
    lead, campaign = converted_with_a_deal()
    customer = factories.contact(email="cleo@example.com")
    enroll(campaign, {"contact": [customer.id]})
    other = factories.campaign("Autumn Webinar")
    create_opportunity(customer, "Other campaign's", 999, campaign_source=other)
    create_opportunity(customer, "First", 1000, campaign_source=campaign, now=FIXED_NOW)
    create_opportunity(
        customer,
        "Renewal",
        Decimal("2500.50"),
        stage="Negotiation",
        campaign_source=campaign,
        now=FIXED_NOW + timedelta(days=1),
    )
    create_opportunity(customer, "Unsourced", 5)
    plain = factories.lead(email="dan@example.com")
    enroll(campaign, {"lead": [plain.id]})
    set_member_status(member_of(campaign.id, plain.email), "Converted")

    rows = converted(campaign)
    assert set(rows) == {"ana@example.com", "cleo@example.com", "dan@example.com"}
    assert rows["ana@example.com"].person_type == "lead"
    deal = rows["ana@example.com"].opportunity
    assert (deal.name, deal.amount, deal.stage) == ("Big deal", Decimal("12000.00"), "Prospecting")
    deal = rows["cleo@example.com"].opportunity
    assert (deal.name, deal.amount, deal.stage) == ("Renewal", Decimal("2500.50"), "Negotiation")
    assert rows["dan@example.com"].opportunity is None
    # only the Converted view carries deals
    assert {row.opportunity for row in member_page(campaign.id, "all", limit=100)} == {None}


def test_a_lead_member_shows_the_deal_of_the_contact_with_its_address(fresh_db):
    """One person: a lead never converted, and a contact with its address that has the deal."""
    lead = factories.lead(email="eve@example.com")
    campaign = factories.campaign("Spring Webinar")
    enroll(campaign, {"lead": [lead.id]})
    contact = factories.contact(email="eve@example.com")
    create_opportunity(contact, "Eve's deal", 700, campaign_source=campaign, lead=lead)
    (row,) = member_page(campaign.id, "converted")
    assert (row.person_type, row.opportunity.name) == ("lead", "Eve's deal")


def test_a_stage_change_shows_in_the_next_page(fresh_db):
    lead, campaign = converted_with_a_deal()
    (deal,) = opportunities_of(lead)
    set_stage(deal.id, "Closed Won")
    assert converted(campaign)["ana@example.com"].opportunity.stage == "Closed Won"


def count_queries(monkeypatch) -> list[str]:
    """Every statement the database runs from now on."""
    run: list[str] = []
    db = database.obj
    execute_sql = db.execute_sql

    def counted(sql, params=None, *args, **kwargs):
        run.append(sql)
        return execute_sql(sql, params, *args, **kwargs)

    monkeypatch.setattr(db, "execute_sql", counted)
    return run


def test_converted_pages_are_found_by_key_with_one_query_for_their_deals(demo_db, monkeypatch):
    """Paging the Converted view by key covers it once, and each page reads its members' deals
    in one more query, whatever the page's size."""
    campaign = max(Campaign.select(), key=lambda c: member_count(c.id, "converted"))
    total = member_count(campaign.id, "converted")
    expected = {
        row.id: row.opportunity for row in member_page(campaign.id, "converted", limit=total)
    }
    assert total >= 3 and sum(deal is not None for deal in expected.values()) >= 2
    run = count_queries(monkeypatch)
    seen, after = [], None
    while page := member_page(campaign.id, "converted", after=after, limit=2):
        seen.extend(page)
        after = page[-1].id
    assert [row.id for row in seen] == sorted(expected)
    assert {row.id: row.opportunity for row in seen} == expected
    pages = -(-total // 2)
    assert len(run) == 2 * pages + 1  # and the empty page that ends it, with no deals to read
    del run[:]
    last = member_page(campaign.id, "converted", last=True, limit=2)
    before = member_page(campaign.id, "converted", before=last[0].id, limit=2)
    assert [r.id for r in before + last] == sorted(expected)[-4:]
    assert [r.opportunity for r in before + last] == [expected[r.id] for r in before + last]
    assert len(run) == 4


def test_the_converted_export_carries_each_members_deal(fresh_db):
    """The Converted view's CSV adds opportunity, amount and stage (a name that looks like a
    formula made text); a member without a deal has them empty; other views have no such
    columns."""
    lead, campaign = converted_with_a_deal()
    customer = factories.contact(email="cleo@example.com")
    enroll(campaign, {"contact": [customer.id]})
    create_opportunity(customer, "=HYPERLINK(1)", "1,250.5", campaign_source=campaign)
    plain = factories.lead(email="dan@example.com")
    enroll(campaign, {"lead": [plain.id]})
    set_member_status(member_of(campaign.id, plain.email), "Converted")
    out = io.StringIO()
    assert export_members(campaign, "converted", out) == 3
    rows = {row["email"]: row for row in csv.DictReader(io.StringIO(out.getvalue()))}
    deals = {email: (r["opportunity"], r["amount"], r["stage"]) for email, r in rows.items()}
    assert deals == {
        "ana@example.com": ("Big deal", "12000.00", "Prospecting"),
        "cleo@example.com": ("'=HYPERLINK(1)", "1250.50", "Prospecting"),
        "dan@example.com": ("", "", ""),
    }
    out = io.StringIO()
    export_members(campaign, "all", out)
    assert out.getvalue().splitlines()[0].split(",") == list(EXPORT_COLUMNS)
