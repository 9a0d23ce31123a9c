"""Demo data: deterministic for a seed, every type and status, a plausible funnel."""

from __future__ import annotations

from data.db import open_database
from data.demo import generate
from data.models import (
    CAMPAIGN_STATUSES,
    CAMPAIGN_TYPES,
    Campaign,
    CampaignMember,
    EngagementEvent,
    Lead,
    Opportunity,
)
from data.rollups import all_metrics, recount
from tests.conftest import FIXED_NOW


def snapshot():
    return (
        list(Lead.select(Lead.email, Lead.country, Lead.do_not_email).order_by(Lead.id).tuples()),
        list(
            CampaignMember.select(CampaignMember.status, CampaignMember.first_opened_at)
            .order_by(CampaignMember.id)
            .tuples()
        ),
    )


def test_same_seed_same_data(tmp_path):
    results = []
    for name in ("a.db", "b.db"):
        db = open_database(str(tmp_path / name))
        generate(people=300, campaigns=6, seed=11, now=FIXED_NOW)
        results.append(snapshot())
        db.close()
    assert results[0] == results[1]


def test_demo_covers_types_statuses_and_a_funnel(demo_db):
    campaigns = list(Campaign.select())
    assert {c.status for c in campaigns} == set(CAMPAIGN_STATUSES)
    assert {c.type for c in campaigns} >= set(CAMPAIGN_TYPES) - {"Advertisement", "Other"}
    totals = {
        k: sum(getattr(m, k) for m in all_metrics())
        for k in ("sent", "opened", "clicked", "responded", "converted", "bounced", "unsubscribed")
    }
    assert totals["sent"] > totals["opened"] > totals["clicked"] > totals["responded"] > 0
    assert totals["bounced"] > 0 and totals["unsubscribed"] > 0
    assert Opportunity.select().where(Opportunity.campaign_source.is_null(False)).count() > 0
    assert EngagementEvent.select().where(EngagementEvent.outcome == "duplicate").count() > 0


def test_demo_counters_equal_a_recount(demo_db):
    kept = [(m.campaign, m.sent, m.opened, m.bounced) for m in all_metrics()]
    recount([c.id for c in Campaign.select()])
    assert kept == [(m.campaign, m.sent, m.opened, m.bounced) for m in all_metrics()]


def test_campaign_templates_are_valid_campaigns():
    from data.demo import campaign_templates
    from data.filters import validate_filters
    from data.vocab import AudienceKind, CampaignStatus, CampaignType, is_one_of

    templates = campaign_templates()
    assert len({t.name for t in templates}) == len(templates) >= 12
    for t in templates:
        assert is_one_of(t.type, CampaignType) and is_one_of(t.status, CampaignStatus)
        assert is_one_of(t.kind, AudienceKind)
        validate_filters(t.filters)
        assert t.days_long > 0 and t.cost > 0
    assert {t.status for t in templates} == set(CampaignStatus)
