"""Ingest: every event recorded with its outcome; duplicates change nothing; counters stay true."""

from __future__ import annotations

import io
import json
import logging
import sqlite3
from datetime import datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from data.engagement import ENGAGEMENT_EVENT_TYPES, ROLLUP_FIELDS
from data.enrollment import enroll
from data.ingest import ingest_records, ingest_stream, set_member_status
from data.models import CampaignMember, CampaignStats, Contact, EngagementEvent, Lead
from data.rollups import recount
from data.sql import database
from tests import factories as f


def line(**event) -> str:
    return json.dumps(event) + "\n"


def setup_campaign(name="Spring Webinar"):
    ana = f.lead(email="ana@example.com")
    ben = f.contact(email="ben@example.com")
    campaign = f.campaign(name)
    enroll(campaign)
    return campaign, ana, ben


def member(campaign, person) -> CampaignMember:
    M = CampaignMember
    key = M.lead if isinstance(person, Lead) else M.contact
    return M.get((M.campaign == campaign.id) & (key == person.id))


def test_outcomes_and_reasons_are_recorded(fresh_db):
    campaign, ana, _ = setup_campaign()
    text = "".join(
        [
            line(
                id="e1",
                type="click",
                campaign="Spring Webinar",
                email="ana@example.com",
                at="2026-03-02T09:15:00Z",
                url="https://example.com/a",
            ),
            line(
                id="e2",
                type="open",
                campaign=str(campaign.id),
                email="ANA@example.com",
                at="2026-03-02T10:00:00+01:00",
            ),
            line(
                id="e1",
                type="click",
                campaign="Spring Webinar",
                email="ana@example.com",
                at="2026-03-02T09:15:00Z",
            ),
            "{not json\n",
            line(type="zap", campaign="Spring Webinar", email="ana@example.com", at="2026-03-02"),
            line(type="open", campaign="Nope", email="ana@example.com", at="2026-03-02"),
            line(type="open", campaign="Spring Webinar", email="who@example.com", at="2026-03-02"),
            line(type="open", campaign="Spring Webinar", email="ana@example.com", at="soon"),
            line(type="open", campaign="Spring Webinar", email="ana@example.com"),
        ]
    )
    report = ingest_stream(io.StringIO(text))
    assert (report.applied, report.unchanged, report.duplicates, report.rejected) == (2, 0, 1, 6)
    assert EngagementEvent.select().count() == 9
    reasons = [
        e.reason
        for e in EngagementEvent.select()
        .where(EngagementEvent.outcome == "rejected")
        .order_by(EngagementEvent.id)
    ]
    assert reasons[0].startswith("malformed JSON")
    assert reasons[1:] == [
        "unknown type 'zap'",
        "unknown campaign 'Nope'",
        "no such member: who@example.com in Spring Webinar",
        "bad timestamp 'soon'",
        "at is required",
    ]
    first = EngagementEvent.get(EngagementEvent.event_id == "e1")
    assert json.loads(first.extra) == {"url": "https://example.com/a"}
    m = member(campaign, ana)
    assert m.status == "Clicked"
    # the open at 09:00 UTC (10:00+01:00) is earlier than the click: first opened moves back
    assert m.first_opened_at == datetime(2026, 3, 2, 9, 0)
    assert m.first_clicked_at == datetime(2026, 3, 2, 9, 15)


def test_applying_a_file_twice_changes_nothing_the_second_time(fresh_db):
    campaign, ana, ben = setup_campaign()
    text = "".join(
        line(id=f"e{i}", type=kind, campaign="Spring Webinar", email=email, at="2026-03-02T09:00Z")
        for i, (kind, email) in enumerate(
            [
                ("open", "ana@example.com"),
                ("click", "ana@example.com"),
                ("bounce", "ben@example.com"),
            ]
        )
    )
    ingest_stream(io.StringIO(text))
    snapshot = list(CampaignMember.select().order_by(CampaignMember.id).dicts())
    second = ingest_stream(io.StringIO(text))
    assert (second.applied, second.duplicates) == (0, 3)
    assert list(CampaignMember.select().order_by(CampaignMember.id).dicts()) == snapshot


def test_a_file_ingest_leaves_its_events_in_the_database_file_itself(fresh_db, backend, tmp_path):
    """A file's ingest copies SQLite's write-ahead log back into the database less often while
    it runs and once when it ends, so the database file itself then holds every event (commits
    alone leave up to 1,000 pages in the log); its batches skip the per-row foreign-key checks,
    and after it the connection checks them and copies the log back on commit as before."""
    if backend != "sqlite":
        pytest.skip("SQLite's write-ahead log")
    setup_campaign()
    feed = tmp_path / "events.jsonl"
    feed.write_text(
        line(
            id="e1",
            type="open",
            campaign="Spring Webinar",
            email="ana@example.com",
            at="2026-03-02",
        )
        + line(
            id="e2",
            type="bounce",
            campaign="Spring Webinar",
            email="ben@example.com",
            at="2026-03-02",
        )
    )
    with feed.open("rb") as stream:
        report = ingest_stream(stream, name=str(feed), source=str(feed), batch_size=1)
    assert report.applied == 2
    on_disk = sqlite3.connect(f"file:{fresh_db}?immutable=1", uri=True)
    assert on_disk.execute("SELECT count(*) FROM engagement_event").fetchone() == (2,)
    assert on_disk.execute("PRAGMA foreign_key_check").fetchall() == []
    assert database.execute_sql("PRAGMA wal_autocheckpoint").fetchone() == (1000,)
    assert database.execute_sql("PRAGMA foreign_keys").fetchone() == (1,)


def test_csv_events_are_read_like_json_lines(fresh_db):
    campaign, ana, _ = setup_campaign()
    text = "id,type,campaign,email,at,url\nc1,click,Spring Webinar,ana@example.com,2026-03-02T09:00:00Z,https://x\n"
    report = ingest_stream(io.StringIO(text))
    assert report.applied == 1
    assert member(campaign, ana).status == "Clicked"
    assert json.loads(EngagementEvent.get().extra) == {"url": "https://x"}


def test_unsubscribe_and_bounce_set_the_person_flags(fresh_db):
    campaign, ana, ben = setup_campaign()
    ingest_records(
        [
            {
                "type": "unsubscribe",
                "campaign": "Spring Webinar",
                "email": "ana@example.com",
                "at": "2026-03-02T09:00:00Z",
            },
            {
                "type": "bounce",
                "campaign": "Spring Webinar",
                "email": "ben@example.com",
                "at": "2026-03-02T09:00:00Z",
            },
        ]
    )
    assert Lead.get_by_id(ana.id).do_not_email
    assert Contact.get_by_id(ben.id).email_bounced
    # both now stay out of every later bulk enrollment
    later = f.campaign("Later")
    assert enroll(later).excluded_total == 2


def test_unsubscribe_after_conversion_stays_converted_and_sets_do_not_email(fresh_db):
    campaign, ana, _ = setup_campaign()
    ingest_records(
        [
            {
                "type": "convert",
                "campaign": "Spring Webinar",
                "email": "ana@example.com",
                "at": "2026-03-02T09:00:00Z",
            },
            {
                "type": "unsubscribe",
                "campaign": "Spring Webinar",
                "email": "ana@example.com",
                "at": "2026-03-03T09:00:00Z",
            },
        ]
    )
    assert member(campaign, ana).status == "Converted"
    assert Lead.get_by_id(ana.id).do_not_email


def test_manual_status_change_is_logged_and_refuses_to_lower(fresh_db):
    import pytest

    from data.engagement import StatusChangeRefused

    campaign, ana, _ = setup_campaign()
    m = set_member_status(member(campaign, ana), "Responded")
    assert m.status == "Responded" and m.has_responded
    with pytest.raises(StatusChangeRefused, match="Cannot lower Responded to Opened"):
        set_member_status(m, "Opened")
    logged = EngagementEvent.get(EngagementEvent.member == m.id)
    assert (logged.source, logged.type, logged.outcome) == ("manual", "status", "applied")
    assert json.loads(logged.extra) == {"status": "Responded"}


def counters(campaign_ids):
    return {
        row[0]: row[1:]
        for row in CampaignStats.select(
            CampaignStats.campaign, *[getattr(CampaignStats, n) for n in ROLLUP_FIELDS]
        ).tuples()
        if row[0] in campaign_ids
    }


event_lists = st.lists(
    st.tuples(
        st.sampled_from(ENGAGEMENT_EVENT_TYPES),
        st.integers(0, 5),
        st.integers(0, 3),
        st.integers(1, 28),
        st.booleans(),
    ),
    max_size=40,
)


@given(event_lists, st.integers(1, 7))
@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_counters_always_equal_a_recount(fresh_db, events, batch_size):
    """Whatever arrives, in any batch size, the kept counters equal counting the members."""
    campaign = f.campaign()
    people = [f.lead(country=f"Z{campaign.id}") for _ in range(6)]
    from data.campaigns import update_campaign

    update_campaign(campaign, filters={"country": [f"Z{campaign.id}"]})
    enroll(campaign)
    records = [
        {
            "id": f"{campaign.id}-{eid}" if with_id else None,
            "type": kind,
            "campaign": campaign.name,
            "email": people[who].email,
            "at": f"2026-03-{day:02d}T10:00Z",
        }
        for kind, who, eid, day, with_id in events
    ]
    ingest_records(records, batch_size=batch_size)
    kept = counters({campaign.id})
    recount([campaign.id])
    assert kept == counters({campaign.id})


@given(event_lists, st.randoms(use_true_random=False), st.integers(1, 9))
@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_stored_records_do_not_depend_on_arrival_order_or_batching(fresh_db, events, rnd, batch):
    """The same set of events, shuffled, repeated and batched differently, stores the same
    member records and person flags."""
    from data.campaigns import update_campaign

    stored = []
    for attempt in range(2):
        campaign = f.campaign()
        tag = f"O{campaign.id}"
        people = [f.lead(country=tag) for _ in range(6)]
        update_campaign(campaign, filters={"country": [tag]})
        enroll(campaign)
        records = [
            {
                "type": kind,
                "campaign": campaign.name,
                "email": people[who].email,
                "at": f"2026-03-{day:02d}T10:00Z",
            }
            for kind, who, _, day, _ in events
        ]
        if attempt:
            records = records + records[: len(records) // 2]
            rnd.shuffle(records)
        ingest_records(records, batch_size=batch if attempt else 1_000)
        M = CampaignMember
        stored.append(
            [
                (row[1:], Lead.get_by_id(row[0]).do_not_email, Lead.get_by_id(row[0]).email_bounced)
                for row in M.select(
                    M.lead,
                    M.status,
                    M.rung,
                    M.first_opened_at,
                    M.first_clicked_at,
                    M.response_date,
                    M.converted_at,
                    M.has_responded,
                    M.bounced,
                    M.unsubscribed,
                )
                .where(M.campaign == campaign.id)
                .order_by(M.id)
                .tuples()
            ]
        )
    assert stored[0] == stored[1]


def test_a_batch_is_one_transaction_without_savepoints(fresh_db, caplog):
    """A batch's events are applied in the batch's own transaction, not in a savepoint inside
    it: inside one SQLite keeps a statement journal per statement, which made each member
    update about 50 times slower."""
    campaign, lead, _ = setup_campaign()
    events = [
        line(
            id=f"s{n}",
            type="open",
            campaign=campaign.name,
            email=lead.email,
            at="2026-03-02T09:15:00Z",
        )
        for n in range(3)
    ]
    with caplog.at_level(logging.DEBUG, logger="peewee"):
        report = ingest_records(events)
    assert report.applied == 1
    statements = [str(record.msg) for record in caplog.records]
    assert statements, "the statements were not logged"
    assert not [s for s in statements if "SAVEPOINT" in s.upper()]


def test_a_run_collects_cycles_less_often_and_puts_the_collector_back(fresh_db):
    """While events are applied Python's collector waits longer between collections (a batch
    frees its objects without cycles); after the run, ended or failed, it is as it was."""
    import gc

    from data.ingest.running import BULK_GC_THRESHOLDS

    lead = f.lead(email="gc@example.com")
    campaign = f.campaign("Collected")
    enroll(campaign)
    before = gc.get_threshold()
    assert before != BULK_GC_THRESHOLDS
    during = []
    event = {"type": "open", "campaign": "Collected", "email": lead.email}
    events = [{**event, "at": f"2026-03-0{day}T09:00:00Z"} for day in (1, 2, 3)]
    ingest_records(events, batch_size=1, on_batch=lambda report: during.append(gc.get_threshold()))
    assert during == [BULK_GC_THRESHOLDS] * 3
    assert gc.get_threshold() == before

    def fail(report):
        raise RuntimeError("stopped")

    with pytest.raises(RuntimeError):
        ingest_records(events, on_batch=fail)
    assert gc.get_threshold() == before
