"""One person: a lead, the contact it became, and any lead and contact sharing an address hold one
membership per campaign; events reach that one membership; flags follow the person."""

from __future__ import annotations

from datetime import datetime

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from peewee import JOIN

from data import suppression
from data.audience import CONTACT_INSTEAD, CONVERTED_LEAD, NEW
from data.conversion import convert_lead
from data.db import database
from data.enrollment import enroll, enroll_emails, preview
from data.identity import linked_people, member_of, members_reached
from data.ingest import ingest_records
from data.members import campaigns_open_to, memberships_of, picker_page
from data.models import Campaign, CampaignMember, Contact, Lead
from data.rollups import campaign_metrics
from tests import factories as f

M = CampaignMember


def memberships(campaign) -> set[tuple]:
    return set(M.select(M.lead, M.contact).where(M.campaign == campaign.id).tuples())


def event(kind: str, campaign, email: str, at: str = "2026-03-02T09:00:00Z") -> dict:
    return {"type": kind, "campaign": campaign.name, "email": email, "at": at}


def test_a_converted_lead_is_left_out_of_a_leads_campaign(fresh_db):
    lead = f.lead(email="ana@example.com")
    other = f.lead()
    convert_lead(lead)
    campaign = f.campaign(kind="leads")
    planned = preview(campaign)
    result = enroll(campaign)
    assert result.as_dict() == planned.as_dict()
    assert (result.enrolled, dict(result.excluded)) == (1, {CONVERTED_LEAD: 1})
    assert memberships(campaign) == {(other.id, None)}


def test_both_kinds_enroll_the_contact_not_also_the_lead_with_its_address(fresh_db):
    lead = f.lead(email="ana@example.com")
    contact = f.contact(email="ANA@example.com")
    f.lead(email="ben@example.com")
    campaign = f.campaign(kind="both")
    planned = preview(campaign)
    result = enroll(campaign)
    assert result.as_dict() == planned.as_dict()
    assert (result.enrolled, dict(result.excluded)) == (2, {CONTACT_INSTEAD: 1})
    assert (None, contact.id) in memberships(campaign)
    assert (lead.id, None) not in memberships(campaign)
    assert campaign_metrics(campaign).sent == 2
    # running again adds nobody: ana's address already has its membership (as the contact)
    again = enroll(campaign)
    assert (again.enrolled, again.already_members, again.excluded_total) == (0, 3, 0)


def test_a_lead_only_audience_still_reaches_a_lead_whose_contact_is_not_in_it(fresh_db):
    lead = f.lead(email="ana@example.com", country="US")
    f.contact(email="ana@example.com", country="FR")
    campaign = f.campaign(kind="both", filters={"country": ["US"]})
    assert enroll(campaign).enrolled == 1
    assert memberships(campaign) == {(lead.id, None)}


def test_picking_a_lead_and_the_contact_with_its_address_enrolls_the_contact(fresh_db):
    lead = f.lead(email="ana@example.com")
    contact = f.contact(email="ana@example.com")
    campaign = f.campaign(kind="both")
    result = enroll(campaign, {"lead": [lead.id], "contact": [contact.id]})
    assert (result.enrolled, dict(result.excluded)) == (1, {CONTACT_INSTEAD: 1})
    assert memberships(campaign) == {(None, contact.id)}


def test_an_address_with_a_membership_is_already_a_member_by_every_route(fresh_db):
    lead = f.lead(email="ana@example.com")
    campaign = f.campaign(kind="leads")
    enroll(campaign)
    contact = f.contact(email="ana@example.com")  # imported later, never converted
    # bulk (the audience now takes contacts too), picker, Add to Campaign, members add
    Campaign.update(audience_kind="both").where(Campaign.id == campaign.id).execute()
    campaign = Campaign.get_by_id(campaign.id)
    result = enroll(campaign)
    assert (result.enrolled, result.already_members) == (0, 2)  # the lead and the contact
    assert [r.category for r in picker_page(campaign, "contact")] == ["already_member"]
    assert campaign.id not in {c.id for c in campaigns_open_to(contact)}
    assert enroll(campaign, {"contact": [contact.id]}).already_members == 1
    assert enroll_emails(campaign, ["ANA@example.com"]).already_members == 1
    assert memberships(campaign) == {(lead.id, None)}
    assert [m.via for m in memberships_of(contact)] == ["lead"]


def test_after_conversion_one_person_never_holds_two_memberships(fresh_db):
    lead = f.lead(email="ana@example.com")
    leads_campaign = f.campaign(kind="leads")
    enroll(leads_campaign)
    contact = convert_lead(lead).contact
    Campaign.update(audience_kind="both").where(Campaign.id == leads_campaign.id).execute()
    campaign = Campaign.get_by_id(leads_campaign.id)
    result = enroll(campaign)
    assert (result.enrolled, result.already_members) == (0, 2)  # the lead and its contact
    assert enroll(campaign, {"contact": [contact.id]}).already_members == 1
    assert campaign_metrics(campaign).sent == 1


def test_after_conversion_an_event_reaches_the_leads_membership(fresh_db):
    lead = f.lead(email="ana@example.com")
    campaign = f.campaign(kind="leads")
    enroll(campaign)
    contact = convert_lead(lead).contact
    lead_member = M.get((M.campaign == campaign.id) & (M.lead == lead.id))
    assert members_reached([(campaign.id, "ana@example.com")]) == {
        (campaign.id, "ana@example.com"): lead_member.id
    }
    assert member_of(campaign.id, "Ana@Example.com").id == lead_member.id
    report = ingest_records([event("click", campaign, "ana@example.com")])
    assert report.applied == 1
    assert M.get_by_id(lead_member.id).status == "Clicked"
    assert not M.select().where(M.contact == contact.id).exists()


def test_an_event_reaches_the_lead_converted_into_a_contact_with_another_address(fresh_db):
    lead = f.lead(email="ana@old.example")
    campaign = f.campaign(kind="leads")
    enroll(campaign)
    contact = convert_lead(lead).contact
    Contact.update(email="ana@new.example").where(Contact.id == contact.id).execute()
    lead_member = M.get((M.campaign == campaign.id) & (M.lead == lead.id))
    found = members_reached([(campaign.id, "ana@new.example"), (campaign.id, "ana@old.example")])
    assert set(found.values()) == {lead_member.id}
    assert members_reached([(campaign.id, "nobody@example.com")]) == {}
    leads, contacts = linked_people(Contact.get_by_id(contact.id))
    assert (leads, contacts) == ([lead.id], [contact.id])


def test_where_an_address_has_a_contact_membership_events_reach_it(fresh_db):
    """A database from before one-membership-per-address may hold both; the contact's wins."""
    lead = f.lead(email="ana@example.com")
    contact = f.contact(email="ana@example.com")
    campaign = f.campaign(kind="both")
    now = datetime(2026, 3, 1)
    M.insert(campaign=campaign.id, lead=lead.id, added_at=now).execute()
    M.insert(campaign=campaign.id, contact=contact.id, added_at=now).execute()
    contact_member = M.get((M.campaign == campaign.id) & (M.contact == contact.id))
    assert member_of(campaign.id, "ana@example.com").id == contact_member.id


def test_an_unsubscribe_as_the_lead_flags_the_contact_it_became_and_back(fresh_db):
    ana = f.lead(email="ana@example.com")
    ben = f.lead(email="ben@example.com")
    campaign = f.campaign(kind="leads")
    enroll(campaign)
    ana_contact = convert_lead(ana).contact
    ben_contact = convert_lead(ben).contact
    ingest_records(
        [
            event("unsubscribe", campaign, "ana@example.com"),
            event("bounce", campaign, "ben@example.com"),
        ]
    )
    assert Lead.get_by_id(ana.id).do_not_email and Contact.get_by_id(ana_contact.id).do_not_email
    assert Lead.get_by_id(ben.id).email_bounced and Contact.get_by_id(ben_contact.id).email_bounced
    assert not Contact.get_by_id(ana_contact.id).email_bounced
    # and from a contact's membership back to the lead it was converted from
    cara = f.lead(email="cara@example.com")
    cara_contact = convert_lead(cara).contact
    contacts = f.campaign(kind="contacts")
    enroll(contacts)
    ingest_records([event("unsubscribe", contacts, "cara@example.com")])
    assert Contact.get_by_id(cara_contact.id).do_not_email
    assert Lead.get_by_id(cara.id).do_not_email


people = st.lists(
    st.tuples(
        st.sampled_from(["lead", "contact"]),
        st.sampled_from(["a@x.example", "b@x.example", "c@x.example", "d@x.example"]),
        st.booleans(),  # convert (leads) / flag do-not-email
        st.sampled_from(["US", "FR"]),
    ),
    max_size=10,
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    people=people,
    kind=st.sampled_from(["leads", "contacts", "both"]),
    countries=st.sampled_from([[], ["US"]]),
    picks=st.lists(st.tuples(st.sampled_from(["lead", "contact"]), st.integers(0, 9))),
)
def test_every_route_keeps_one_membership_per_address(fresh_db, people, kind, countries, picks):
    with database.atomic() as txn:
        made: dict[str, list[int]] = {"lead": [], "contact": []}
        for person_kind, email, flag, country in people:
            model = Lead if person_kind == "lead" else Contact
            if model.select().where(model.email == email).exists():
                continue
            person = model.create(last_name="X", email=email, country=country)
            made[person_kind].append(person.id)
            if person_kind == "lead" and flag:
                convert_lead(person)
            elif flag:
                suppression.add(email, "asked on the phone")
        campaign = f.campaign(kind=kind, filters={"country": countries} if countries else {})
        planned = preview(campaign)
        assert enroll(campaign).as_dict() == planned.as_dict()
        chosen: dict[str, list[int]] = {"lead": [], "contact": []}
        for pick_kind, index in picks:
            if made[pick_kind]:
                chosen[pick_kind].append(made[pick_kind][index % len(made[pick_kind])])
        enroll(campaign, chosen)
        rows = (
            M.select(Lead.email, Contact.email, Lead.converted_contact)
            .join(Lead, on=(M.lead == Lead.id), join_type=JOIN.LEFT_OUTER)
            .join_from(M, Contact, on=(M.contact == Contact.id), join_type=JOIN.LEFT_OUTER)
            .where(M.campaign == campaign.id)
            .tuples()
        )
        addresses = [lead_email or contact_email for lead_email, contact_email, _ in rows]
        assert len(addresses) == len(set(addresses)), addresses
        assert all(converted is None for _, _, converted in rows)
        suppressed = {s.email for s in suppression.suppressions()}
        assert not suppressed & set(addresses)
        assert campaign_metrics(campaign).sent == len(addresses)
        for row in picker_page(campaign, "lead") + picker_page(campaign, "contact"):
            assert row.category != NEW or row.email not in addresses
        txn.rollback()
