"""Enrollment: one exclusion rule and one code path for the audience, the picker and emails."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from data.campaigns import change_status, update_campaign
from data.conversion import convert_lead
from data.enrollment import enroll, enroll_emails, preview, remove_members
from data.members import Picked
from data.models import Campaign, CampaignMember
from data.rollups import campaign_metrics
from tests import factories as f


def members_of(campaign) -> int:
    return CampaignMember.select().where(CampaignMember.campaign == campaign.id).count()


def test_start_enrolls_the_audience_minus_flagged_people(fresh_db):
    ok = [f.lead(country="US") for _ in range(3)]
    f.lead(country="US", do_not_email=True)
    f.lead(country="US", email_bounced=True)
    f.lead(country="US", do_not_email=True, email_bounced=True)
    f.lead(country="FR")
    campaign = f.campaign(kind="leads", filters={"country": ["US"]})
    result = change_status(campaign, "In Progress")
    assert (result.enrolled, result.already_members, result.excluded_total) == (3, 0, 3)
    assert result.as_dict()["excluded_by_reason"] == {"do not email": 2, "email bounced": 1}
    assert members_of(campaign) == len(ok)
    assert Campaign.get_by_id(campaign.id).status == "In Progress"


def test_running_again_adds_only_newcomers(fresh_db):
    f.lead(), f.lead()
    campaign = f.campaign(kind="leads")
    assert enroll(campaign).enrolled == 2
    f.lead()
    again = enroll(campaign)
    assert (again.enrolled, again.already_members) == (1, 2)
    assert campaign_metrics(campaign).sent == 3


def test_preview_matches_what_enrollment_then_does(fresh_db):
    for i in range(5):
        f.lead(do_not_email=(i == 0))
    campaign = f.campaign(kind="leads")
    planned = preview(campaign)
    done = enroll(campaign)
    assert planned.as_dict() == done.as_dict()
    assert members_of(campaign) == 4


def test_a_lead_and_the_contact_it_became_are_one_person(fresh_db):
    lead = f.lead(email="ana@example.com", company="Acme")
    campaign = f.campaign(kind="leads")
    enroll(campaign)
    contact = convert_lead(lead).contact
    result = enroll(campaign, {"contact": [contact.id]})
    assert (result.enrolled, result.already_members) == (0, 1)
    # and the other way round: the contact is a member, then the converted lead is picked
    other = f.campaign(kind="contacts")
    enroll(other)
    result = enroll(other, {"lead": [lead.id]})
    assert (result.enrolled, result.already_members) == (0, 1)


def test_contact_filters_and_lead_only_filters(fresh_db):
    f.lead(lead_source="Web"), f.lead(lead_source="Partner")
    f.contact()
    campaign = f.campaign(kind="both", filters={"lead_source": ["Web"]})
    assert enroll(campaign).enrolled == 1  # a contact has no lead source, so it cannot match


def test_title_and_created_since_filters(fresh_db):
    from datetime import datetime

    f.lead(title="VP Marketing", created_at=datetime(2026, 1, 5))
    f.lead(title="Marketing Manager", created_at=datetime(2025, 1, 5))
    f.lead(title="Engineer", created_at=datetime(2026, 2, 1))
    campaign = f.campaign(
        kind="leads", filters={"title_contains": "Marketing", "created_since": "2026-01-01"}
    )
    assert enroll(campaign).enrolled == 1


def test_manual_enrollment_by_email_reports_unknown_and_existing(fresh_db):
    f.lead(email="ana@example.com")
    f.contact(email="ben@example.com")
    f.lead(email="dne@example.com", do_not_email=True)
    campaign = f.campaign()
    first = enroll_emails(
        campaign, ["ANA@example.com", "ben@example.com", "who@example.com", "dne@example.com"]
    )
    assert first.enrolled == 2
    assert first.unknown_emails == ["who@example.com"]
    assert first.excluded_total == 1
    again = enroll_emails(campaign, ["ana@example.com"])
    assert (again.enrolled, again.already_members) == (0, 1)


def test_picked_people_use_the_same_exclusions(fresh_db):
    good = f.lead()
    bounced = f.lead(email_bounced=True)
    contact = f.contact()
    campaign = f.campaign()
    result = enroll(campaign, {"lead": [good.id, bounced.id], "contact": [contact.id]})
    assert (result.enrolled, result.excluded_total) == (2, 1)


def test_marks_standing_for_a_filter_enroll_what_their_ids_would(fresh_db):
    """The picker's marks as a filter (`Picked`: ids, every pickable match of the filters, minus
    exceptions) enroll exactly the people listing their ids enrolls, with the same counts."""
    de = [f.lead(country="DE", title="VP Sales") for _ in range(4)]
    f.lead(country="DE", title="VP Ops", do_not_email=True)  # matches, cannot be picked
    other = f.lead(country="FR")
    contacts = [f.contact(country="DE"), f.contact(country="AT")]
    member = f.lead(country="DE")
    by_filter, by_ids = f.campaign(), f.campaign()
    for campaign in (by_filter, by_ids):
        enroll(campaign, {"lead": [member.id]})
    picked = {
        "lead": Picked(
            by_filter.id, "lead", frozenset([other.id]), ("country:de",), frozenset([de[0].id])
        ),
        "contact": Picked(by_filter.id, "contact", filters=("country:DE", "country:AT")),
    }
    assert [picked[k].count() for k in ("lead", "contact")] == [4, 2]
    ids = {"lead": [other.id, *(d.id for d in de[1:])], "contact": [c.id for c in contacts]}
    assert preview(by_filter, picked).as_dict() == preview(by_ids, ids).as_dict()
    assert enroll(by_filter, picked).as_dict() == enroll(by_ids, ids).as_dict()
    M = CampaignMember
    people = {
        c.id: {(m.lead_id, m.contact_id) for m in M.select().where(M.campaign == c.id)}
        for c in (by_filter, by_ids)
    }
    assert people[by_filter.id] == people[by_ids.id]
    assert len(people[by_ids.id]) == 1 + 4 + 2


def test_removing_members_updates_the_rollups(fresh_db):
    for _ in range(4):
        f.lead()
    campaign = f.campaign(kind="leads")
    enroll(campaign)
    ids = [m.id for m in CampaignMember.select().limit(2)]
    assert remove_members(campaign, ids) == 2
    assert campaign_metrics(campaign).sent == 2


def test_the_database_refuses_a_second_membership(fresh_db):
    import peewee
    import pytest

    lead = f.lead()
    campaign = f.campaign()
    CampaignMember.create(campaign=campaign, lead=lead)
    with pytest.raises(peewee.IntegrityError):
        CampaignMember.create(campaign=campaign, lead=lead)


people = st.lists(
    st.tuples(st.booleans(), st.booleans(), st.booleans(), st.sampled_from(["lead", "contact"])),
    min_size=1,
    max_size=12,
)


@given(people)
@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_exclusion_rule_against_a_plain_python_model(fresh_db, population):
    """Random flags and memberships: enrolled + already + excluded covers everyone, exactly as
    a straightforward reading of the rule predicts."""
    campaign = f.campaign()  # examples share the database: each gets a country of its own
    country = f"X{campaign.id}"
    campaign = update_campaign(campaign, filters={"country": [country]})
    expected_new = expected_already = expected_excluded = 0
    for dne, bounced, member, kind in population:
        person = (f.lead if kind == "lead" else f.contact)(
            do_not_email=dne, email_bounced=bounced, country=country
        )
        if member:
            CampaignMember.create(campaign=campaign, **{kind: person})
            expected_already += 1
        elif dne or bounced:
            expected_excluded += 1
        else:
            expected_new += 1
    result = enroll(campaign)
    assert (result.enrolled, result.already_members, result.excluded_total) == (
        expected_new,
        expected_already,
        expected_excluded,
    )
    assert members_of(campaign) == expected_new + expected_already
