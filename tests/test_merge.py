"""Merging two records of one person (PRODUCT.md §10): memberships joined by the lattice, events
moved, suppressions and flags carried over, OTHER gone; undo puts back exactly what was."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from data.enrollment import enroll
from data.errors import ValidationError
from data.ingest import ingest_records
from data.merge import merge
from data.models import CampaignMember, Contact, EngagementEvent, Lead, Suppression
from data.privacy import forget
from data.rollups import campaign_metrics
from data.undo import undo
from tests import factories as f
from tests.test_privacy import _close, campaigns

KEEP, OTHER = "bo.dupe@gmail.com", "bo.dupe+news@gmail.com"


def snapshot() -> dict:
    """Every row a merge touches, as comparable values."""

    def rows(model, order):
        return [{k: v for k, v in r.items()} for r in model.select().order_by(order).dicts()]

    return {
        "leads": rows(Lead, Lead.id),
        "contacts": rows(Contact, Contact.id),
        "members": rows(CampaignMember, CampaignMember.id),
        "events": list(
            EngagementEvent.select(EngagementEvent.id, EngagementEvent.member)
            .order_by(EngagementEvent.id)
            .tuples()
        ),
        "suppressions": rows(Suppression, Suppression.id),
    }


def test_merge_joins_memberships_by_the_lattice_and_undo_restores_them(fresh_db):
    keep = f.lead(first_name="", last_name="Dupe", email=KEEP)
    f.lead(first_name="Bo", last_name="Dupe", email=OTHER, company="Acme", title="CFO")
    spring, autumn = f.campaign("Spring", kind="leads"), f.campaign("Autumn", kind="leads")
    enroll(spring)
    enroll(autumn)
    ingest_records(
        [
            {"type": "open", "campaign": "Spring", "email": KEEP, "at": "2026-03-05T09:00:00Z"},
            {"type": "click", "campaign": "Spring", "email": OTHER, "at": "2026-03-02T09:00:00Z"},
            {"type": "respond", "campaign": "Autumn", "email": OTHER, "at": "2026-03-03T09:00:00Z"},
            {
                "type": "unsubscribe",
                "campaign": "Autumn",
                "email": OTHER,
                "id": "u1",
                "at": "2026-03-04T09:00:00Z",
            },
        ]  # fmt: skip
    )
    before = snapshot()
    metrics = [campaign_metrics(c) for c in (spring, autumn)]
    entry = merge(KEEP.upper(), OTHER, who="ana")
    assert entry.count == 2 and not Lead.select().where(Lead.email == OTHER).exists()
    kept = Lead.get_by_id(keep.id)
    assert (kept.first_name, kept.company, kept.title, kept.do_not_email) == (
        "Bo",
        "Acme",
        "CFO",
        True,
    )
    (in_spring,) = CampaignMember.select().where(CampaignMember.campaign == spring.id)
    assert in_spring.lead_id == keep.id and in_spring.status == "Clicked"
    assert in_spring.first_opened_at == datetime(2026, 3, 2, 9)  # the earliest milestone
    assert EngagementEvent.select().where(EngagementEvent.member == in_spring.id).count() == 2
    assert Suppression.get(Suppression.email == KEEP).kind == "unsubscribe"
    assert campaign_metrics(spring).sent == 1  # one person, counted once
    undo(entry.id)
    assert snapshot() == before
    assert [campaign_metrics(c) for c in (spring, autumn)] == metrics


def test_a_lead_and_a_contact_or_an_unknown_address_are_refused(fresh_db):
    f.lead(last_name="L", email=KEEP)
    f.contact(last_name="C", email=OTHER)
    with pytest.raises(ValidationError, match="are a lead and a contact"):
        merge(KEEP, OTHER)
    with pytest.raises(ValidationError, match="no lead or contact with email nobody@example.com"):
        merge(KEEP, "nobody@example.com")
    with pytest.raises(ValidationError, match="two different"):
        merge(KEEP, KEEP.upper())


def test_merge_from_the_command_line(fresh_db):
    f.contact(last_name="Dupe", email=KEEP)
    f.contact(last_name="Dupe", email=OTHER)
    _close()
    done = json.loads(campaigns(fresh_db, "people", "merge", KEEP, OTHER, "--json").stdout)
    assert done["summary"] == f"merged {OTHER} into {KEEP}"
    refused = campaigns(fresh_db, "people", "merge", KEEP, "nobody@example.com", expect=1)
    assert refused.stderr == "campaigns: error: no lead or contact with email nobody@example.com\n"
    campaigns(fresh_db, "undo", str(done["journal_entry"]))
    (group,) = json.loads(campaigns(fresh_db, "people", "duplicates", "--json").stdout)
    assert "same mailbox" in group["why"]


EVENT_TYPES = st.sampled_from(["open", "click", "respond", "bounce", "unsubscribe"])


@settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    kind=st.sampled_from(["lead", "contact"]),
    enrolled=st.lists(st.tuples(st.booleans(), st.booleans()), min_size=1, max_size=3),
    events=st.lists(
        st.tuples(st.integers(0, 2), st.booleans(), EVENT_TYPES, st.integers(0, 200)), max_size=8
    ),
)
def test_merge_then_undo_is_the_identity(fresh_db, kind, enrolled, events):
    """Any two records in any campaigns with any events: merge then undo leaves every record,
    member record and event as it was; the merged member is the lattice join of the two."""
    make = f.lead if kind == "lead" else f.contact
    tag = f"{datetime.now().timestamp()}".replace(".", "")
    keep_email, other_email = f"k{tag}@example.com", f"o{tag}@example.com"
    keep, other = make(last_name="K", email=keep_email), make(last_name="O", email=other_email)
    names = []
    for n, (with_keep, with_other) in enumerate(enrolled):
        campaign = f.campaign(f"C{tag}-{n}", kind="leads" if kind == "lead" else "contacts")
        names.append(campaign.name)
        people = [p.id for p, there in ((keep, with_keep), (other, with_other)) if there]
        if people:
            enroll(campaign, {kind: people})
    start = datetime(2026, 3, 1)
    ingest_records(
        [
            {
                "type": t,
                "campaign": names[c % len(names)],
                "email": other_email if o else keep_email,
                "at": (start + timedelta(hours=h)).isoformat() + "Z",
            }
            for c, o, t, h in events
        ]  # fmt: skip
    )
    before = snapshot()
    entry = merge(keep_email, other_email)
    undo(entry.id)
    assert snapshot() == before


def test_forgetting_a_merged_address_deletes_the_merge_copy(fresh_db):
    f.lead(last_name="Dupe", email=KEEP)
    f.lead(last_name="Dupe", email=OTHER)
    entry = merge(KEEP, OTHER)
    assert forget(OTHER).journal_payloads == 1
    with pytest.raises(ValidationError, match="not kept"):
        undo(entry.id)
