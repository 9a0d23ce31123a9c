"""Opportunities in sight: a person's deals, and a stage change that moves the won amount."""

from __future__ import annotations

from decimal import Decimal

import pytest

from data.conversion import convert_lead
from data.enrollment import enroll
from data.errors import ValidationError
from data.models import Contact, Lead
from data.opportunities import opportunities_of, set_stage
from data.rollups import campaign_metrics
from tests import factories


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
