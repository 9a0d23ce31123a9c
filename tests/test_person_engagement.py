"""What a person engaged with: content on events, the kept score, the hot list, content counts."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from data.campaigns import create_campaign
from data.content import content_from_extra, content_of
from data.engaged import content_report, find_person, hot_list, person_activity
from data.enrollment import enroll
from data.ingest import ingest_records
from data.models import Campaign, EngagementEvent, EngagementScore, utcnow
from data.score import HALF_LIFE_DAYS, Scored, score_now, score_of
from data.suppression import add as suppress
from data.webhooks import mailgun_event, sendgrid_event
from tests import factories as f

NOW = datetime(2026, 11, 20, 12, 0)


def event(kind, email, campaign="Spring Webinar", days_ago=1.0, **keys) -> dict:
    at = NOW - timedelta(days=days_ago)
    return {"type": kind, "campaign": campaign, "email": email, "at": at.isoformat() + "Z", **keys}


@pytest.fixture
def people(fresh_db):
    ana = f.lead(email="ana@example.com", first_name="Ana", last_name="Lima")
    ben = f.contact(email="ben@example.com", first_name="Ben", last_name="Ode")
    cy = f.lead(email="cy@example.com", first_name="Cy", last_name="Park", country="DE")
    enroll(f.campaign("Spring Webinar"))
    enroll(create_campaign("EMEA Roadshow", "Event", "both", {}))
    return ana, ben, cy


# Content -----------------------------------------------------------------------------------------


def test_content_is_the_title_else_the_url_without_query_else_the_name():
    assert content_of({"url": "https://x.io/p?utm=1", "title": "Pricing guide"}) == "Pricing guide"
    assert content_of({"url": "https://x.io/pricing?utm_source=m#top"}) == "https://x.io/pricing"
    assert content_of({"form": "Contact us"}) == "Contact us"
    assert content_of({"session": "Scaling Postgres"}) == "Scaling Postgres"
    assert content_of({"asset": "Whitepaper.pdf"}) == "Whitepaper.pdf"
    assert content_of({"title": "  ", "url": 7, "form": ""}) is None
    assert content_of({"reason": "x"}) is None
    assert content_from_extra('{"url": "https://a.b/c?d"}') == "https://a.b/c"
    assert content_from_extra("not json") is None


def test_ingest_keeps_content_on_engaged_events_and_providers_clicks_count(people):
    ingest_records(
        [
            event("click", "ana@example.com", url="https://x.io/pricing?u=1", title="Pricing"),
            event("click", "ben@example.com", url="https://x.io/pricing?u=2", title="Pricing"),
            event("click", "ana@example.com", id="dup", form="Demo request"),
            event("click", "ana@example.com", id="dup", form="Demo request"),
            event("open", "nobody@example.com", url="https://x.io/lost"),
            mailgun_event(
                {
                    "event": "clicked",
                    "id": "mg-1",
                    "recipient": "cy@example.com",
                    "timestamp": (NOW - timedelta(days=1)).timestamp(),
                    "url": "https://x.io/case-study?mg=1",
                    "user-variables": {"campaign": "Spring Webinar"},
                }
            ),
            sendgrid_event(
                {
                    "event": "click",
                    "sg_event_id": "sg-1",
                    "email": "cy@example.com",
                    "timestamp": int((NOW - timedelta(days=1)).timestamp()),
                    "url": "https://x.io/case-study?sg=2",
                    "campaign": "Spring Webinar",
                }
            ),
        ],
        now=NOW,
    )
    E = EngagementEvent
    stored = {(r.email, r.outcome, r.content) for r in E.select()}
    assert ("nobody@example.com", "rejected", None) in stored
    duplicates = E.select().where(E.outcome == "duplicate")
    assert [d.content for d in duplicates] == [None]
    spring = Campaign.get(Campaign.name == "Spring Webinar")
    report = {c.content: c.people for c in content_report(spring.id)}
    assert report == {"https://x.io/case-study": 1, "Pricing": 2, "Demo request": 1}
    assert [c.content for c in content_report(spring.id)][0] == "Pricing"


# Score -------------------------------------------------------------------------------------------

KINDS = st.sampled_from(["open", "click", "respond", "convert"])
SCORED = st.builds(
    Scored,
    type=KINDS,
    at=st.integers(0, 400 * 24).map(lambda h: NOW - timedelta(hours=h)),
    machine=st.booleans(),
)


@given(st.lists(SCORED, max_size=30), st.randoms())
def test_score_does_not_depend_on_the_order_of_events(events, random):
    shuffled = list(events)
    random.shuffle(shuffled)
    assert score_of(events, NOW) == score_of(shuffled, NOW)
    assert 0 <= score_of(events, NOW) <= 100


@given(KINDS, st.integers(0, 300), st.integers(1, 300))
def test_a_more_recent_event_never_scores_less(kind, days, older_by):
    recent = Scored(kind, NOW - timedelta(days=days))
    older = Scored(kind, NOW - timedelta(days=days + older_by))
    assert score_of([recent], NOW) >= score_of([older], NOW)


@given(st.lists(SCORED, max_size=30))
def test_machine_opens_never_count(events):
    machines = [Scored("open", e.at, machine=True) for e in events]
    assert score_of(events + machines, NOW) == score_of(events, NOW)
    assert score_of(machines, NOW) == 0


def test_score_rules_in_words():
    assert score_of([], NOW) == 0
    click, week = Scored("click", NOW), Scored("click", NOW - timedelta(days=HALF_LIFE_DAYS))
    assert score_of([click], NOW) == 2 * score_of([week], NOW)
    assert score_of([Scored("respond", NOW)], NOW) > score_of([click], NOW)
    assert score_of([click], NOW) > score_of([Scored("open", NOW)], NOW)
    assert score_of([Scored("respond", NOW - timedelta(days=366))], NOW) == 0
    assert score_of([click, Scored("unsubscribe", NOW)], NOW) == 0
    assert score_of([Scored("respond", NOW)] * 10, NOW) == 100


def test_kept_score_matches_the_rule_in_any_order_and_stops_at_a_bounce(people):
    lines = [
        event("open", "ana@example.com", days_ago=40),
        event("click", "ana@example.com", days_ago=3, title="Pricing"),
        event("respond", "ana@example.com", campaign="EMEA Roadshow", days_ago=10),
        event("open", "ana@example.com", days_ago=2, machine=True),
        event("click", "ben@example.com", days_ago=1),
    ]
    ingest_records(list(reversed(lines)), now=NOW, batch_size=2)
    expected = score_of(
        [
            Scored("open", NOW - timedelta(days=40)),
            Scored("click", NOW - timedelta(days=3)),
            Scored("respond", NOW - timedelta(days=10)),
        ],
        NOW,
    )
    row = EngagementScore.get_by_id("ana@example.com")
    assert score_now(row.points, row.stopped, NOW) == expected > 0
    later = NOW + timedelta(days=HALF_LIFE_DAYS)
    assert abs(score_now(row.points, row.stopped, later) - expected / 2) <= 1
    ingest_records([event("bounce", "ben@example.com"), event("click", "ben@example.com")], now=NOW)
    ben = EngagementScore.get_by_id("ben@example.com")
    assert ben.stopped and score_now(ben.points, ben.stopped, NOW) == 0


def test_a_status_label_counting_as_responded_weighs_as_a_response(people):
    ingest_records(
        [
            event(
                "status",
                "cy@example.com",
                campaign="EMEA Roadshow",
                status="Attended",
                session="Scaling Postgres",
            )
        ],
        now=NOW,
    )
    row = EngagementScore.get_by_id("cy@example.com")
    assert score_now(row.points, row.stopped, NOW) == score_of(
        [Scored("respond", NOW - timedelta(days=1))], NOW
    )
    activity = person_activity(find_person("cy@example.com"), NOW)
    assert activity.summary == ["Attended ‘Scaling Postgres’ in EMEA Roadshow · yesterday"]
    (hot,) = hot_list(NOW)
    assert (hot.last_type, hot.content, hot.campaign) == (
        "Attended",
        "Scaling Postgres",
        "EMEA Roadshow",
    )


# The person, the hot list ------------------------------------------------------------------------


def test_person_activity_summary_timeline_weeks_and_explanation(people):
    ingest_records(
        [
            event("open", "ana@example.com", days_ago=30),
            event("open", "ana@example.com", days_ago=20),
            event("open", "ana@example.com", days_ago=0.5, machine=True),
            event("click", "ana@example.com", days_ago=3, url="https://x.io/p?a", title="Pricing"),
            event("click", "ana@example.com", days_ago=2, url="https://x.io/p?b", title="Pricing"),
        ],
        now=NOW,
    )
    activity = person_activity(find_person("ANA@example.com"), NOW)
    assert activity.summary == [
        "Clicked ‘Pricing’ twice in Spring Webinar · 2 days ago",
        "Opened Spring Webinar twice · 31 Oct",
    ]
    assert [(a.type, a.content) for a in activity.timeline] == [
        ("click", "Pricing"),
        ("click", "Pricing"),
        ("open", None),
        ("open", None),
    ]
    assert sum(activity.weeks) == 4 and activity.weeks[-1] == 2
    assert activity.explanation[0].what == "Clicked" and activity.explanation[0].count == 2
    assert activity.score > 0


def test_hot_list_ranks_unconverted_unsuppressed_people_and_takes_a_filter(people):
    ingest_records(
        [
            event("click", "ana@example.com", days_ago=1, title="Pricing"),
            event("respond", "cy@example.com", days_ago=1, form="Demo request"),
            event("open", "ben@example.com", days_ago=1),
        ],
        now=NOW,
    )
    hot = hot_list(NOW)
    assert [p.email for p in hot] == ["cy@example.com", "ana@example.com", "ben@example.com"]
    assert hot[0].content == "Demo request" and hot[0].campaign == "Spring Webinar"
    assert [p.email for p in hot_list(NOW, filter_text="country:de")] == ["cy@example.com"]
    assert [p.email for p in hot_list(NOW, limit=1)] == ["cy@example.com"]
    suppress("cy@example.com", "asked to be left alone")
    ingest_records([event("convert", "ana@example.com")], now=NOW)
    assert [p.email for p in hot_list(NOW)] == ["ben@example.com"]
    with pytest.raises(Exception, match="quote"):
        hot_list(NOW, filter_text='"open')


def test_version_17_fills_content_and_scores_from_the_stored_events(people):
    """A database as version 13 left it: content only in the extra keys, no scores."""
    from playhouse.migrate import SchemaMigrator

    from data.migrations import MIGRATIONS

    ingest_records(
        [
            event("click", "ana@example.com", url="https://x.io/p?q", title="Pricing"),
            event("status", "cy@example.com", campaign="EMEA Roadshow", status="Attended"),
            event("click", "ben@example.com", form="Contact us"),
            event("unsubscribe", "ben@example.com"),
        ],
        now=NOW,
    )
    db = EngagementEvent._meta.database.obj
    before = {r.email: (r.points, r.stopped) for r in EngagementScore.select()}
    db.execute_sql("DROP INDEX engagement_event_content")
    db.execute_sql("ALTER TABLE engagement_event DROP COLUMN content")
    db.execute_sql("DROP TABLE engagement_score")
    with db.atomic():
        MIGRATIONS[17](db, SchemaMigrator.from_database(db))
    spring = Campaign.get(Campaign.name == "Spring Webinar")
    assert {c.content for c in content_report(spring.id)} == {"Pricing", "Contact us"}
    after = {r.email: (r.points, r.stopped) for r in EngagementScore.select()}
    assert after.keys() == before.keys()
    for email, (points, stopped) in before.items():
        assert after[email][1] == stopped
        assert score_now(after[email][0], stopped, NOW) == score_now(points, stopped, NOW)


# The command line --------------------------------------------------------------------------------


def cli_json(capsys, location, *args) -> object:
    from tui_app.cli import main

    assert main(["--db", str(location), *args, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_person_show_people_hot_and_content_from_the_command_line(people, fresh_db, capsys):
    from tui_app.cli import main

    now = utcnow()
    ingest_records(
        [
            {
                **event("click", "ana@example.com", title="Pricing\x1b[31m"),
                "at": (now - timedelta(days=2)).isoformat(),
            },
            {**event("open", "ana@example.com"), "at": (now - timedelta(days=3)).isoformat()},
            {
                **event("respond", "cy@example.com", form="Demo request"),
                "at": (now - timedelta(days=1)).isoformat(),
            },
        ],
        now=now,
    )
    shown = cli_json(capsys, fresh_db, "person", "show", "ANA@example.com")
    assert {"email", "name", "kind", "score", "summary", "memberships", "timeline"} <= shown.keys()
    assert shown["email"] == "ana@example.com" and shown["kind"] == "lead" and shown["score"] > 0
    assert shown["summary"][0].startswith("Clicked ‘Pricing\x1b[31m’ in Spring Webinar")
    assert {m["campaign"] for m in shown["memberships"]} == {"Spring Webinar", "EMEA Roadshow"}
    assert [(t["type"], t["content"]) for t in shown["timeline"]] == [
        ("click", "Pricing\x1b[31m"),
        ("open", None),
    ]
    assert {"at", "campaign", "type", "content"} <= shown["timeline"][0].keys()

    assert main(["--db", str(fresh_db), "person", "show", "ana@example.com"]) == 0
    text = capsys.readouterr().out
    assert "\x1b" not in text and "Pricing␛[31m" in text and "score " in text

    hot = cli_json(capsys, fresh_db, "people", "hot", "--limit", "5")
    assert [p["email"] for p in hot] == ["cy@example.com", "ana@example.com"]
    assert {"email", "name", "score", "last_touch", "content"} <= hot[0].keys()
    assert hot[0]["content"] == "Demo request"
    assert cli_json(capsys, fresh_db, "people", "hot", "--filter", "country:de") == [hot[0]]

    content = cli_json(capsys, fresh_db, "content", "Spring Webinar")
    assert [(c["content"], c["people"]) for c in content] == [
        ("Demo request", 1),
        ("Pricing\x1b[31m", 1),
    ]

    assert main(["--db", str(fresh_db), "person", "show", "nobody@example.com"]) == 1
    assert "no lead or contact" in capsys.readouterr().err
    assert main(["--db", str(fresh_db), "people", "hot", "--filter", '"open']) == 1
    assert "invalid filter" in capsys.readouterr().err
    assert main(["--db", str(fresh_db), "content", "No Such"]) == 1
