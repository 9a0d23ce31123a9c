"""Ingest under hostile input: every line gets exactly one outcome, a bad line is rejected alone
with its bytes kept, and nothing a feed sends crashes a run."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from datetime import datetime

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from data.campaigns import create_campaign
from data.enrollment import enroll, remove_members
from data.events import LoggedEvent, rejected_events
from data.ingest import ingest_records, ingest_stream
from data.models import CampaignMember, EngagementEvent
from tests import factories as f


def cli(db, *args, stdin: bytes | None = None):
    return subprocess.run(
        [sys.executable, "-m", "tui_app", "--db", str(db), *args],
        input=stdin,
        capture_output=True,
        env={**os.environ, "CAMPAIGNS_DB": str(db)},
        timeout=120,
    )


def event(**fields) -> bytes:
    return json.dumps(fields).encode() + b"\n"


def world():
    """Campaign "Spring" with Ana (a lead) as its member."""
    ana = f.lead(email="ana@example.com")
    campaign = f.campaign("Spring")
    enroll(campaign)
    return campaign, ana


GOOD = event(id="g1", type="open", campaign="Spring", email="ana@example.com", at="2026-03-02")
GOOD2 = event(id="g2", type="click", campaign="Spring", email="ana@example.com", at="2026-03-03")
HOSTILE = [
    event(type="open", campaign="Spring", email="ana@example.com", at="9999-12-31T23:00:00-05:00"),
    event(type="open", campaign="Spring", email="ana@example.com", at="0001-01-01T00:00:00+05:30"),
    b'{"type": "open", "campaign": "Spring", "email": "\\ud800@x.co", "at": "2026-03-02"}\n',
    b'{"type": "open", "campaign": "Spr\xffing", "email": "ana@example.com", "at": "2026-03-02"}\n',
]


def test_hostile_lines_are_rejected_alone_through_the_command(fresh_db, tmp_path):
    world()
    feed = tmp_path / "feed.jsonl"
    feed.write_bytes(GOOD + b"".join(HOSTILE) + GOOD2)
    proc = cli(fresh_db, "ingest", str(feed), "--json")
    assert proc.returncode == 0, proc.stderr
    assert b"Traceback" not in proc.stderr
    report = json.loads(proc.stdout)
    assert (report["applied"], report["rejected"]) == (2, 4)
    rejected = json.loads(cli(fresh_db, "events", "--rejected", "--json").stdout)
    assert [e["reason"] for e in rejected] == [
        "bad timestamp '9999-12-31T23:00:00-05:00'",
        "bad timestamp '0001-01-01T00:00:00+05:30'",
        "unreadable text: lone surrogate \\ud800",
        "unreadable bytes: not UTF-8 at byte 34",
    ]
    # Each is kept as it came: the readable ones as their object, the unreadable bytes escaped.
    assert rejected[0]["event"]["at"] == "9999-12-31T23:00:00-05:00"
    assert rejected[2]["event"]["email"] == "\ud800@x.co"
    assert rejected[3]["event"] is None
    assert rejected[3]["raw"] == HOSTILE[3].decode("utf-8", "backslashreplace").rstrip("\n")
    assert "\\xff" in rejected[3]["raw"]
    human = cli(fresh_db, "events", "--rejected")
    assert human.returncode == 0 and b"Traceback" not in human.stderr


def lines_of_bytes():
    """Arbitrary bytes, or events whose every value may be any JSON value."""
    values = st.one_of(
        st.text(),
        st.integers(min_value=-(2**70), max_value=2**70),
        st.floats(allow_nan=False),
        st.none(),
        st.booleans(),
        st.sampled_from(["Spring", "1", "ana@example.com", "open", "click", "unsubscribe"]),
        st.sampled_from(["2026-03-02", "9999-12-31T23:59:59-14:00", "0001-01-01T00:00+14:00"]),
    )
    objects = st.dictionaries(
        st.sampled_from(["id", "type", "campaign", "email", "at", "url"]), values
    ).map(lambda d: json.dumps(d, ensure_ascii=False).encode("utf-8", "surrogatepass"))
    raw = st.binary(max_size=80)
    return st.lists(st.one_of(raw, objects), max_size=12).map(
        lambda lines: [line.replace(b"\n", b" ").replace(b"\r", b" ") for line in lines]
    )


@given(lines_of_bytes(), st.sampled_from(["jsonl", "csv", None]))
@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_arbitrary_bytes_never_escape_and_every_line_gets_one_outcome(fresh_db, lines, fmt):
    if not CampaignMember.select().exists():
        world()
    EngagementEvent.delete().execute()
    if fmt == "csv":
        lines = [b"id,type,campaign,email,at", *lines]
    report = ingest_stream(io.BytesIO(b"\n".join(lines)), fmt, batch_size=5)
    from data.ingest.parsing import BOM

    counted = [lines[0].removeprefix(BOM), *lines[1:]] if lines else []
    expected = sum(1 for line in counted if line.strip())
    if fmt == "csv" or (fmt is None and expected and _is_header(counted)):
        expected -= 1  # the header line
    assert report.total == expected
    assert EngagementEvent.select().count() == expected
    for logged in rejected_events(limit=1_000):
        logged.as_dict()  # every rejected event can be shown and sent again
        json.dumps(logged.as_dict())
        logged.as_sent().encode("utf-8")


def _is_header(lines) -> bool:
    from data.ingest.parsing import guess_format

    first = next(line for line in lines if line.strip())
    return guess_format(first) == "csv"


def test_format_is_never_guessed_from_one_junk_line(fresh_db, tmp_path):
    """JSON Lines after a byte order mark, or after one junk line, are read as JSON Lines;
    CSV is read as such from its header, its extension or --format."""
    world()
    bom = b"\xef\xbb\xbf"
    proc = cli(fresh_db, "ingest", "-", "--json", stdin=bom + GOOD)
    assert json.loads(proc.stdout)["applied"] == 1, proc.stderr
    feed = tmp_path / "events"
    feed.write_bytes(bom + GOOD2)
    assert json.loads(cli(fresh_db, "ingest", str(feed), "--json").stdout)["applied"] == 1
    junk = b"this is not an event, type\n" + event(
        id="j1", type="respond", campaign="Spring", email="ana@example.com", at="2026-03-04"
    )
    report = json.loads(cli(fresh_db, "ingest", "-", "--json", stdin=junk).stdout)
    assert (report["applied"], report["rejected"]) == (1, 1)
    rows = b"c1,convert,Spring,ana@example.com,2026-03-05\n"
    report = json.loads(
        cli(
            fresh_db, "ingest", "-", "--json", stdin=bom + b"id,type,campaign,email,at\n" + rows
        ).stdout
    )
    assert report["applied"] == 1
    headerless = tmp_path / "more.csv"
    headerless.write_bytes(
        b"Type,Campaign,Email,At\nunsubscribe,Spring,ana@example.com,2026-03-06\n"
    )
    assert json.loads(cli(fresh_db, "ingest", str(headerless), "--json").stdout)["applied"] == 1
    member = CampaignMember.get()
    assert (member.status, member.unsubscribed) == ("Converted", True)


def test_rejected_events_are_kept_exactly_as_received(fresh_db):
    world()
    sent = [
        {
            "id": "r1",
            "type": "OPEN",
            "campaign": "Nope",
            "email": "Ana@Example.COM",
            "at": "2026-03-02T10:00:00+01:00",
            "url": "https://x",
        },
        {
            "type": "Click",
            "campaign": "Spring",
            "email": "Who@Example.com",
            "at": "0099-01-01T00:00:00Z",
        },
        {"type": "zap", "campaign": "Spring", "email": "ANA@example.com", "at": "2026-03-02"},
    ]
    ingest_records(sent)
    stored = list(EngagementEvent.select().order_by(EngagementEvent.id))
    assert [(e.type, e.email) for e in stored] == [
        ("OPEN", "Ana@Example.COM"),
        ("Click", "Who@Example.com"),
        ("zap", "ANA@example.com"),
    ]
    assert [e.at for e in stored] == [
        datetime(2026, 3, 2, 9, 0),
        datetime(99, 1, 1),
        datetime(2026, 3, 2),
    ]
    assert [e.original() for e in rejected_events()] == sent


def test_an_event_logged_without_its_line_is_rebuilt_with_a_four_digit_year():
    logged = LoggedEvent(
        1,
        "e1",
        "open",
        "Spring",
        "ana@example.com",
        datetime(99, 1, 2, 3, 4, 5),
        "rejected",
        "no such member",
        "ingest",
        "",
        datetime(2026, 1, 1),
        "",
    )
    assert logged.original()["at"] == "0099-01-02T03:04:05Z"


def test_a_json_number_is_a_campaign_id_and_text_a_name(fresh_db):
    ana = f.lead(email="ana@example.com")
    first = create_campaign("Alpha", "Email", "both", {})
    named_one = create_campaign(str(first.id), "Email", "both", {})
    third = create_campaign("Gamma", "Email", "both", {})
    for campaign in (first, named_one, third):
        enroll(campaign)
    ingest_records(
        [
            {"type": "open", "campaign": first.id, "email": ana.email, "at": "2026-03-02"},
            {"type": "click", "campaign": str(first.id), "email": ana.email, "at": "2026-03-02"},
            {"type": "respond", "campaign": str(third.id), "email": ana.email, "at": "2026-03-02"},
        ]
    )
    status = {m.campaign_id: m.status for m in CampaignMember.select()}
    assert status == {first.id: "Opened", named_one.id: "Clicked", third.id: "Responded"}


def test_a_member_removed_and_enrolled_again_during_an_ingest_still_gets_its_events(fresh_db):
    campaign, ana = world()
    f.lead(email="ben@example.com")
    enroll(campaign)  # Ben's membership has the highest id, so Ana's comes back under a new one
    records = [
        {"type": "open", "campaign": "Spring", "email": "ana@example.com", "at": "2026-03-02"},
        {"type": "click", "campaign": "Spring", "email": "ana@example.com", "at": "2026-03-03"},
    ]

    def re_enroll(report):
        if report.total == 1:
            old = member_of(campaign, ana)
            remove_members(campaign, [old.id])
            enroll(campaign)
            assert member_of(campaign, ana).id != old.id

    report = ingest_records(records, batch_size=1, on_batch=re_enroll)
    assert (report.applied, report.rejected) == (2, 0)
    assert member_of(campaign, ana).status == "Clicked"


def member_of(campaign, lead) -> CampaignMember:
    M = CampaignMember
    return M.get((M.campaign == campaign.id) & (M.lead == lead.id))


def test_an_event_id_takes_effect_once_even_for_a_writer_that_skips_the_check(fresh_db):
    import pytest
    from peewee import IntegrityError

    world()
    ingest_records(
        [
            {
                "id": "x1",
                "type": "open",
                "campaign": "Spring",
                "email": "ana@example.com",
                "at": "2026-03-02",
            }
        ]
    )
    with pytest.raises(IntegrityError):
        EngagementEvent.create(event_id="x1", type="open", outcome="applied")
    EngagementEvent.create(event_id="x1", type="open", outcome="duplicate")


def test_nul_characters_are_kept_escaped_and_never_break_a_run(fresh_db):
    """A NUL byte in a line, or a \\u0000 in a value, cannot be stored as text on every backend:
    the line is kept with the NUL escaped, the event rejected alone and shown as it came."""
    world()
    lines = [
        GOOD,
        b'{"type": "open", "campaign": "Spring"\x00, "at": "2026-03-02"}\n',
        event(id="n\x00", type="click", campaign="Spring", email="ana@x.co", at="2026-03-03"),
        event(type="zap\x00", campaign="Spr\x00ing", email="a\x00@x.co", at="2026-03-02", x="\x00"),
        b"type,campaign\x00\n",
        GOOD2,
    ]
    report = ingest_stream(io.BytesIO(b"".join(lines)), "jsonl")
    assert (report.applied, report.rejected) == (2, 4)
    rejected = [e.as_dict() for e in rejected_events()]
    assert rejected[0]["event"] is None
    assert rejected[0]["raw"] == '{"type": "open", "campaign": "Spring"\\x00, "at": "2026-03-02"}'
    assert rejected[1]["reason"] == "id contains a NUL character"
    assert rejected[1]["event"] == json.loads(lines[2])
    assert rejected[2]["event"] == json.loads(lines[3])  # exactly as received, \u0000 and all
    assert rejected[3]["raw"] == "type,campaign\\x00"
    json.dumps(rejected)
    assert member_of(*world_of()).status == "Clicked"


def world_of():
    from data.models import Campaign, Lead

    return Campaign.get(Campaign.name == "Spring"), Lead.get(Lead.email == "ana@example.com")
