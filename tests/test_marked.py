"""Bulk work on a campaign's marked members: which members a mark stands for, raising their
status (the one-member rule, set-based), removing and exporting them, and undoing it."""

from __future__ import annotations

import csv
import io

import pytest

from data import journal
from data.engagement import StatusChangeRefused
from data.enrollment import enroll, remove_marked
from data.errors import ValidationError
from data.ingest import ingest_records, set_member_status
from data.members import Marked, member_page
from data.models import CampaignMember, Contact, EngagementEvent, Lead
from data.status_change import raise_marked
from data.transfer import export_members
from data.undo import undo
from tests import factories as f
from tests.conftest import FIXED_NOW
from tests.test_journal import busy_campaign, counters, event, members


def ids_of(campaign, view: str = "all", search: str = "") -> set[int]:
    return {row.id for row in member_page(campaign.id, view, search, limit=1_000)}


def marked_ids(marked: Marked) -> set[int]:
    M = CampaignMember
    return {mid for (mid,) in M.select(M.id).where(marked.condition()).tuples()}


def test_a_mark_stands_for_its_ids_or_a_filter_minus_exceptions(fresh_db):
    campaign = busy_campaign()
    every = ids_of(campaign)
    contacts = ids_of(campaign, search="type:contact")
    assert len(every) == 5 and len(contacts) == 2
    one = min(contacts)
    assert marked_ids(Marked(campaign.id)) == set()
    assert marked_ids(Marked(campaign.id, ids=frozenset({one}))) == {one}
    exits = ids_of(campaign, "bounced-unsubscribed")
    assert marked_ids(Marked(campaign.id, view="bounced-unsubscribed")) == exits
    by_filter = Marked(campaign.id, view="all", search="type:contact", except_ids=frozenset({one}))
    assert marked_ids(by_filter) == contacts - {one}
    lead = min(every - contacts)
    both = Marked(campaign.id, ids=frozenset({lead}), view="all", search="type:contact")
    assert marked_ids(both) == contacts | {lead}
    assert both.count() == 3
    other = f.campaign("Other")
    enroll(other)
    assert marked_ids(Marked(other.id, ids=frozenset(every))) == set(), "one campaign's only"


HAPPENED = [
    ("open", "p1"),
    ("bounce", "p0"),
    ("unsubscribe", "p1"),
    ("click", "c0"),
    ("open", "p2"),
    ("respond", "c1"),
]
"""Events that leave the members of a campaign at many different places."""


def campaigns_with_events(people: dict) -> list:
    """Two campaigns of the same people (enrolled before any of them exits), each with the
    same events."""
    pair = [f.campaign(), f.campaign()]
    for campaign in pair:
        enroll(campaign, people, now=FIXED_NOW)
    emails = [p.email for p in Lead.select()] + [p.email for p in Contact.select()]
    by_name = {e.split("@")[0]: e for e in emails}
    for campaign in pair:
        ingest_records(
            [
                event(kind, by_name[who], campaign, id=f"{campaign.id}-{n}")
                for n, (kind, who) in enumerate(HAPPENED)
            ]
        )
    return pair


@pytest.mark.parametrize("status", ["Sent", "Opened", "Clicked", "Responded", "Converted"])
def test_raising_marked_members_follows_the_one_member_rule_exactly(fresh_db, status):
    """The same members and events in two campaigns: the bulk raise in one gives the records
    that raising each member on its own gives in the other."""
    people = {
        "lead": [f.lead(email=f"p{i}@example.com").id for i in range(3)],
        "contact": [f.contact(email=f"c{i}@example.com").id for i in range(2)],
    }
    bulk, single = campaigns_with_events(people)
    result = raise_marked(bulk, Marked(bulk.id, view="all"), status, now=FIXED_NOW)
    refused = 0
    for member in list(CampaignMember.select().where(CampaignMember.campaign == single.id)):
        try:
            set_member_status(member, status, now=FIXED_NOW)
        except StatusChangeRefused:
            refused += 1
    assert (result.raised, result.unchanged) == (5 - refused, refused)

    def records(c):
        return {
            k: {n: v for n, v in r.items() if n not in ("id", "campaign")}
            for k, r in members(c).items()
        }

    assert records(bulk) == records(single)
    assert counters(bulk) | {"campaign": 0} == counters(single) | {"campaign": 0}
    E = EngagementEvent
    logged = E.select().where((E.campaign == bulk.id) & (E.source == "manual")).count()
    assert logged == result.raised, "one manual status event per member raised"


def test_a_status_raise_is_one_journal_entry_and_undo_restores_every_record(fresh_db):
    campaign = busy_campaign()
    before, stats = members(campaign), counters(campaign)
    contacts = ids_of(campaign, search="type:contact")
    marked = Marked(campaign.id, view="all", search="type:contact")
    result = raise_marked(campaign, marked, "Responded", now=FIXED_NOW)
    assert (result.raised, result.unchanged) == (2, 0)
    after = members(campaign)
    raised = {k for k, r in after.items() if r["id"] in contacts}
    assert {after[k]["status"] for k in raised} == {"Responded"}
    assert all(after[k] == before[k] for k in after if k not in raised), "the rest untouched"
    assert counters(campaign)["responded"] == stats["responded"] + 2
    [entry] = [e for e in journal.entries(campaign.id) if e.action == "status"]
    assert (entry.count, entry.summary) == (2, "raised 2 to Responded")
    # an event for a raised member after the change is kept through the undo
    ingest_records([event("open", "c1@example.com", campaign, id="later")])
    undone = undo(campaign_id=campaign.id)
    assert undone.restored == 2
    back = members(campaign)
    c1 = next(k for k in raised if before[k]["first_opened_at"] is None)
    assert back[c1]["status"] == "Opened" and back[c1]["first_opened_at"] is not None
    expected = dict(before)
    expected[c1] = back[c1]
    assert back == expected, "records as they were, with what came since"
    assert counters(campaign)["responded"] == stats["responded"]


def test_a_raise_that_raises_nobody_leaves_no_entry_and_an_unknown_status_is_refused(fresh_db):
    campaign = busy_campaign()
    result = raise_marked(campaign, Marked(campaign.id, view="all"), "Sent", now=FIXED_NOW)
    assert (result.raised, result.unchanged) == (0, 5)
    assert [e.action for e in journal.entries(campaign.id)] == ["enroll"]
    with pytest.raises(ValidationError, match="not a status of this campaign"):
        raise_marked(campaign, Marked(campaign.id, view="all"), "Won", now=FIXED_NOW)


def test_removing_marked_members_by_filter_keeps_the_exceptions_and_undo_brings_them_back(
    fresh_db,
):
    campaign = busy_campaign()
    before = members(campaign)
    keep = min(ids_of(campaign, search="type:lead"))
    marked = Marked(campaign.id, view="all", search="type:lead", except_ids=frozenset({keep}))
    assert remove_marked(campaign, marked, now=FIXED_NOW) == 2
    assert ids_of(campaign) == {keep} | ids_of(campaign, search="type:contact")
    [entry] = [e for e in journal.entries(campaign.id) if e.action == "remove"]
    assert entry.count == 2
    undo(entry.id)
    assert members(campaign) == before
    counters(campaign)


def test_exporting_marked_members_writes_only_them(fresh_db):
    campaign = busy_campaign()
    chosen = sorted(ids_of(campaign))[1:3]
    out = io.StringIO()
    count = export_members(campaign, "all", out, marked=Marked(campaign.id, frozenset(chosen)))
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    expected = [r for r in member_page(campaign.id, limit=10) if r.id in chosen]
    assert count == 2 and [r["email"] for r in rows] == [r.email for r in expected]


def _raise_when_released(location: str, campaign_id: int, barrier, results) -> None:
    """Another program raising every member of the campaign to Responded."""
    from data.db import open_database
    from data.models import Campaign

    open_database(location)
    barrier.wait(timeout=60)
    campaign = Campaign.get_by_id(campaign_id)
    results.put(raise_marked(campaign, Marked(campaign_id, view="all"), "Responded").raised)


def _click_when_released(location: str, campaign_name: str, emails, barrier, results) -> None:
    """Another program ingesting a click of every member at the same moment."""
    from data.db import open_database

    open_database(location)
    barrier.wait(timeout=60)
    clicks = [
        {"type": "click", "campaign": campaign_name, "email": e, "at": "2026-03-02T09:00:00Z"}
        for e in emails
    ]
    results.put(ingest_records(clicks).applied)


def test_a_raise_and_an_ingest_at_once_lose_neither(fresh_db):
    """Two programs: one raises every member, one ingests a click for each. Whichever goes
    first, every member ends Responded with its click kept, and the counters add up."""
    import multiprocessing

    people = [f.lead(email=f"r{i}@example.com") for i in range(40)]
    campaign = f.campaign(kind="leads")
    enroll(campaign, now=FIXED_NOW)
    ctx = multiprocessing.get_context("spawn")
    barrier, results = ctx.Barrier(2), ctx.Queue()
    emails = [p.email for p in people]
    procs = [
        ctx.Process(
            target=_raise_when_released, args=(str(fresh_db), campaign.id, barrier, results)
        ),
        ctx.Process(
            target=_click_when_released,
            args=(str(fresh_db), campaign.name, emails, barrier, results),
        ),
    ]
    for proc in procs:
        proc.start()
    outcomes = [results.get(timeout=120) for _ in procs]
    for proc in procs:
        proc.join(timeout=60)
    assert outcomes == [40, 40]
    from data.db import database

    database.close()
    database.connect()
    rows = members(campaign).values()
    assert {r["status"] for r in rows} == {"Responded"}
    assert all(r["first_clicked_at"] is not None for r in rows), "no click lost"
    assert {r["label"] for r in rows} == {"Responded"}
    stats = counters(campaign)
    assert (stats["clicked"], stats["responded"]) == (40, 40)
