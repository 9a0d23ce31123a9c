"""A campaign's engagement over time: people per day or week, from the event log, both backends."""

from __future__ import annotations

import json
from datetime import date

from data.enrollment import enroll
from data.ingest import ingest_records
from data.trend import campaign_trend, default_bucket
from tests import factories as f
from tests.conftest import FIXED_NOW
from tui_app.cli import main


def event(kind: str, email: str, at: str, campaign: str = "Spring Webinar", **extra) -> dict:
    return {"type": kind, "campaign": campaign, "email": email, "at": at, **extra}


def spring_webinar():
    people = [f.lead(email=f"p{i}@example.com") for i in range(4)]
    campaign = f.campaign("Spring Webinar")
    enroll(campaign)
    return campaign, people


def test_people_are_counted_once_per_day_on_the_day_of_their_event(fresh_db):
    campaign, _ = spring_webinar()
    ingest_records(
        [
            event("open", "p0@example.com", "2026-03-02T09:00:00Z"),
            event("open", "p0@example.com", "2026-03-02T17:00:00Z"),  # the same person again
            event("open", "p1@example.com", "2026-03-02T23:59:00Z"),
            event("click", "p1@example.com", "2026-03-02T23:59:30Z"),
            event("open", "p2@example.com", "2026-03-04T08:00:00Z"),  # a quiet day between
            event("respond", "p2@example.com", "2026-03-04T09:00:00Z"),
            event("convert", "p3@example.com", "2026-03-04T10:00:00Z"),
            event("open", "nobody@example.com", "2026-03-04T10:00:00Z"),  # rejected: no member
        ],
        now=FIXED_NOW,
    )
    trend = campaign_trend(campaign)
    assert trend.by == "day"
    assert [p.as_dict() for p in trend.points] == [
        {"date": "2026-03-02", "opened": 2, "clicked": 1, "responded": 0},
        {"date": "2026-03-03", "opened": 0, "clicked": 0, "responded": 0},
        {"date": "2026-03-04", "opened": 1, "clicked": 0, "responded": 2},
    ]


def test_machine_opens_do_not_count(fresh_db):
    campaign, _ = spring_webinar()
    ingest_records(
        [
            event("open", "p0@example.com", "2026-03-02T09:00:00Z", machine=True),
            event("open", "p1@example.com", "2026-03-02T09:00:00Z"),
        ],
        now=FIXED_NOW,
    )
    (point,) = campaign_trend(campaign).points
    assert point.opened == 1


def test_weeks_start_on_monday_and_a_long_campaign_is_weekly(fresh_db):
    campaign, _ = spring_webinar()
    ingest_records(
        [
            event("open", "p0@example.com", "2026-03-01T09:00:00Z"),  # a Sunday
            event("open", "p0@example.com", "2026-03-02T09:00:00Z"),  # Monday: a new week
            event("open", "p1@example.com", "2026-03-08T09:00:00Z"),  # Sunday, the same week
            event("click", "p1@example.com", "2026-06-15T09:00:00Z"),
        ],
        now=FIXED_NOW,
    )
    assert default_bucket(campaign) == "week"
    trend = campaign_trend(campaign)
    assert trend.by == "week"
    assert trend.points[0].as_dict() == {
        "date": "2026-02-23",
        "opened": 1,
        "clicked": 0,
        "responded": 0,
    }
    assert trend.points[1].as_dict() == {
        "date": "2026-03-02",
        "opened": 2,
        "clicked": 0,
        "responded": 0,
    }
    assert trend.points[-1].date == date(2026, 6, 15)
    assert all(p.date.weekday() == 0 for p in trend.points)
    assert len(trend.points) == 17
    assert campaign_trend(campaign, "day").points[0].date == date(2026, 3, 1)


def test_a_campaign_without_events_has_an_empty_trend(fresh_db):
    campaign, _ = spring_webinar()
    assert campaign_trend(campaign).points == []


def test_trend_command_prints_json_and_a_table(fresh_db, capsys):
    spring_webinar()
    ingest_records(
        [
            event("open", "p0@example.com", "2026-03-02T09:00:00Z"),
            event("respond", "p1@example.com", "2026-03-10T09:00:00Z"),
        ],
        now=FIXED_NOW,
    )
    db = str(fresh_db)
    assert main(["trend", "Spring Webinar", "--by", "week", "--json", "--db", db]) == 0
    assert json.loads(capsys.readouterr().out) == [
        {"date": "2026-03-02", "opened": 1, "clicked": 0, "responded": 0},
        {"date": "2026-03-09", "opened": 0, "clicked": 0, "responded": 1},
    ]
    assert main(["trend", "Spring Webinar", "--db", db]) == 0
    out = capsys.readouterr().out
    assert "2026-03-10" in out and "per day" in out
    assert main(["trend", "No Such", "--db", db]) == 1
    assert capsys.readouterr().err.strip() == "campaigns: error: no campaign named 'No Such'"
