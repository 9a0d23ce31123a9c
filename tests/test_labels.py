"""Member status labels per campaign: templates, the lattice over labels, editing, status
events, and the batch status import."""

from __future__ import annotations

import io
import itertools
import json
import shutil
import sqlite3
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from data.campaigns import create_campaign
from data.db import database, open_database
from data.engagement import (
    ENGAGEMENT_EVENT_TYPES,
    LADDER,
    STATUS_EVENT,
    StatusChangeRefused,
    StatusLabel,
    StatusLadder,
    displayed_label,
    ladder_problem,
    manual_change,
    state_from_events,
    status_choices,
)
from data.enrollment import enroll
from data.ingest import ingest_records, set_member_status
from data.labels import (
    LabelRefused,
    add_label,
    campaign_ladder,
    label_counts,
    move_label,
    remove_label,
    rename_label,
    set_default,
)
from data.members import member_page, memberships_of
from data.models import CampaignMember, CampaignStats, EngagementEvent, Lead
from data.rollups import recount
from data.status_import import import_statuses, read_status_rows
from data.transfer import export_members
from tests import factories as f

T0 = datetime(2026, 3, 2, 9, 0)
RUNS = itertools.count()
WEBINAR = ["Invited", "Opened", "Clicked", "Registered", "Attended", "Converted"]


def at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


# The lattice over labels, without a database -----------------------------------------------------


@st.composite
def ladders(draw) -> StatusLadder:
    """A label list that obeys the rules: rungs never go down, the first label is a Sent one
    (some Sent label is the default), every rung may have none, one or several labels."""
    counts = draw(st.lists(st.integers(0, 3), min_size=len(LADDER), max_size=len(LADDER)))
    counts[0] = max(counts[0], 1)
    labels = []
    for rung, n in enumerate(counts):
        for i in range(n):
            labels.append((f"{LADDER[rung]}{i}", rung))
    default = draw(st.integers(0, counts[0] - 1))
    return StatusLadder(
        [
            StatusLabel(i + 1, name, rung, is_default=i == default)
            for i, (name, rung) in enumerate(labels)
        ]
    )


@st.composite
def ladder_and_events(draw):
    ladder = draw(ladders())
    event = st.one_of(
        st.tuples(
            st.sampled_from(ENGAGEMENT_EVENT_TYPES), st.integers(0, 10_000).map(at), st.none()
        ),
        st.tuples(
            st.just(STATUS_EVENT),
            st.integers(0, 10_000).map(at),
            st.sampled_from(ladder.labels),
        ),
    )
    return ladder, draw(st.lists(event, max_size=14))


@given(ladder_and_events(), st.randoms(use_true_random=False), st.data())
@settings(max_examples=300)
def test_any_order_and_repetition_of_status_and_engagement_events_give_the_same_record(
    world, rnd, data
):
    ladder, batch = world
    assert ladder_problem(ladder.labels) is None
    repeated = batch + data.draw(st.lists(st.sampled_from(batch), max_size=6)) if batch else batch
    shuffled = list(repeated)
    rnd.shuffle(shuffled)
    assert state_from_events(shuffled, ladder) == state_from_events(batch, ladder)


@given(ladder_and_events(), st.data())
def test_the_label_never_goes_down_and_the_record_agrees_with_the_events(world, data):
    ladder, batch = world
    cut = data.draw(st.integers(0, len(batch)))
    before = state_from_events(batch[:cut], ladder)
    after = state_from_events(batch, ladder)
    assert ladder.rank(after.label_id) >= ladder.rank(before.label_id)
    assert after.rung >= before.rung
    # The label reached is the highest named or implied; the rung at least what it counts as.
    named = [label for kind, _, label in batch if kind == STATUS_EVENT]
    implied = [
        ladder.first_of_rung(r)
        for kind, _, _ in batch
        if (r := {"open": 1, "click": 2, "respond": 3, "convert": 4}.get(kind))
    ]
    candidates = [ladder.default, *named, *(label for label in implied if label)]
    assert after.label_id == max(candidates, key=lambda lb: ladder.rank(lb.id)).id
    assert after.rung >= max((label.counts_as for label in named), default=0)


@given(ladder_and_events())
def test_a_manual_change_offered_raises_and_one_refused_says_why(world):
    ladder, batch = world
    state = state_from_events(batch, ladder)
    for name, why in status_choices(state, ladder):
        if why is None:
            after = manual_change(state, name, at(99), ladder)
            assert displayed_label(after.status, ladder.get(after.label_id)) == name
            assert ladder.rank(after.label_id) >= ladder.rank(state.label_id)
            assert after.rung >= state.rung
        else:
            assert why.startswith(("Cannot lower", "The member is already"))
            with pytest.raises(StatusChangeRefused):
                manual_change(state, name, at(99), ladder)


def webinar_ladder() -> StatusLadder:
    return StatusLadder(
        [
            StatusLabel(i + 1, name, rung, is_default=i == 0)
            for i, (name, rung) in enumerate(zip(WEBINAR, (0, 1, 2, 3, 3, 4)))
        ]
    )


def test_a_status_event_sets_the_label_rung_and_milestone_and_an_open_cannot_lower_it():
    ladder = webinar_ladder()
    attended = ladder.find("Attended")
    state = state_from_events([(STATUS_EVENT, at(5), attended), ("open", at(9), None)], ladder)
    assert state.label_id == attended.id and state.rung == 3 and state.response_date == at(5)
    assert displayed_label(state.status, ladder.get(state.label_id)) == "Attended"
    state = state_from_events([("respond", at(1), None)], ladder)
    assert ladder.get(state.label_id).name == "Registered"  # the first label of its rung
    with pytest.raises(StatusChangeRefused, match="Cannot lower Attended to Registered"):
        manual_change(
            state_from_events([(STATUS_EVENT, at(1), attended)], ladder),
            "Registered",
            at(2),
            ladder,
        )


@pytest.mark.parametrize(
    "labels, problem",
    [
        ([("Sent", 0, True), ("Clicked", 2, False), ("Opened", 1, False)], "never goes down"),
        ([("Sent", 0, False), ("Opened", 1, False)], "exactly one label is the default"),
        ([("Sent", 0, True), ("Opened", 1, True)], "exactly one label is the default"),
        ([("Sent", 0, False), ("Opened", 1, True)], "must count as Sent"),
        ([("Sent", 0, True), ("Sent", 1, False)], "already has a status"),
        ([("Sent", 0, True), ("Bounced", 1, False)], "an exit, not a label"),
        ([("Sent", 0, True), (" ", 1, False)], "needs a name"),
    ],
)
def test_label_lists_that_break_a_rule_are_refused_with_the_rule(labels, problem):
    ladder = [StatusLabel(i, name, rung, d) for i, (name, rung, d) in enumerate(labels)]
    assert problem in (ladder_problem(ladder) or "")


# In the database, on both backends -------------------------------------------------------------


def webinar(name="Spring Webinar", people=3):
    leads = [f.lead(email=f"p{i}@example.com") for i in range(people)]
    campaign = create_campaign(name, "Webinar", "leads")
    enroll(campaign)
    return campaign, leads


def events(campaign, *rows) -> str:
    return "".join(
        json.dumps({"campaign": campaign.name, "at": "2026-03-02T09:00:00Z", **row}) + "\n"
        for row in rows
    )


def shown(campaign) -> dict[str, str]:
    return {row.email: row.status for row in member_page(campaign.id, limit=1000)}


def test_a_new_campaign_gets_its_types_template(fresh_db):
    names = {
        kind: [label.name for label in campaign_ladder(create_campaign(f"C {kind}", kind))]
        for kind in ("Webinar", "Event", "Email", "Content", "Advertisement", "Other")
    }
    assert names["Webinar"] == names["Event"] == WEBINAR
    for kind in ("Email", "Content", "Advertisement", "Other"):
        assert names[kind] == list(LADDER)
    ladder = campaign_ladder(create_campaign("W2", "Webinar"))
    assert ladder.default.name == "Invited"
    assert [lb.responded for lb in ladder] == [False, False, False, True, True, True]


def test_status_events_raise_the_label_and_unknown_labels_are_rejected(fresh_db):
    campaign, _ = webinar()
    report = ingest_records(
        io.StringIO(
            events(
                campaign,
                {"type": "status", "status": "Attended", "email": "p0@example.com"},
                {"type": "click", "email": "p0@example.com"},
                {"type": "respond", "email": "p1@example.com"},
                {"type": "status", "status": "Registered", "email": "p0@example.com"},
                {"type": "status", "status": "Partied", "email": "p2@example.com"},
                {"type": "status", "email": "p2@example.com"},
            )
        )
        .read()
        .splitlines()
    )
    assert (report.applied, report.unchanged, report.rejected) == (3, 1, 2)
    assert shown(campaign) == {
        "p0@example.com": "Attended",
        "p1@example.com": "Registered",
        "p2@example.com": "Invited",
    }
    reasons = [
        e.reason for e in EngagementEvent.select().where(EngagementEvent.outcome == "rejected")
    ]
    assert any("unknown status 'Partied'" in r and "Attended" in r for r in reasons)
    assert "status is required for a status event" in reasons
    stats = CampaignStats.get(CampaignStats.campaign == campaign.id)
    assert (stats.responded, stats.clicked) == (2, 2)
    assert label_counts([campaign.id])[campaign.id] == {
        "Invited": 1,
        "Opened": 0,
        "Clicked": 0,
        "Registered": 1,
        "Attended": 1,
        "Converted": 0,
    }


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.lists(
        st.tuples(
            st.integers(0, 3),
            st.sampled_from([*ENGAGEMENT_EVENT_TYPES, *(f"status:{n}" for n in WEBINAR)]),
            st.integers(0, 500),
        ),
        max_size=25,
    ),
    st.randoms(use_true_random=False),
)
def test_stored_records_and_rollups_equal_the_pure_fold_and_a_recount(fresh_db, batch, rnd):
    """Events applied through ingest in any order leave each member exactly as the pure fold of
    its events says, and the kept counters equal a recount."""
    CampaignMember.delete().execute()
    Lead.delete().execute()
    campaign = create_campaign(f"Webinar {next(RUNS)}", "Webinar", "leads")
    for i in range(4):
        f.lead(email=f"m{i}@example.com")
    enroll(campaign)
    ladder = campaign_ladder(campaign)
    shuffled = list(batch)
    rnd.shuffle(shuffled)
    lines = []
    for who, kind, minute in shuffled:
        row = {"email": f"m{who}@example.com", "at": at(minute).isoformat() + "Z"}
        if kind.startswith("status:"):
            row.update(type="status", status=kind.split(":", 1)[1])
        else:
            row["type"] = kind
        lines.append(json.dumps({"campaign": campaign.name, **row}))
    ingest_records(lines, batch_size=7)
    for member in CampaignMember.select().where(CampaignMember.campaign == campaign.id):
        email = Lead.get_by_id(member.lead_id).email
        mine = [
            (k.split(":")[0], at(m), ladder.find(k.split(":", 1)[1]) if ":" in k else None)
            for w, k, m in batch
            if f"m{w}@example.com" == email
        ]
        assert member.state == state_from_events(mine, ladder)
    before = CampaignStats.get(CampaignStats.campaign == campaign.id).__data__
    recount([campaign.id])
    assert CampaignStats.get(CampaignStats.campaign == campaign.id).__data__ == before


def test_labels_show_everywhere_a_status_shows(fresh_db):
    campaign, leads = webinar()
    ingest_records(
        events(
            campaign,
            {"type": "status", "status": "Attended", "email": "p0@example.com"},
            {"type": "unsubscribe", "email": "p1@example.com"},
        ).splitlines()
    )
    assert shown(campaign) == {
        "p0@example.com": "Attended",
        "p1@example.com": "Unsubscribed",
        "p2@example.com": "Invited",
    }
    (membership,) = memberships_of(leads[0])
    assert (membership.status, membership.standing) == ("Attended", "Responded")
    out = io.StringIO()
    export_members(campaign, "all", out)
    rows = {line.split(",")[0]: line.split(",") for line in out.getvalue().splitlines()[1:]}
    header = out.getvalue().splitlines()[0].split(",")
    assert rows["p0@example.com"][header.index("status")] == "Attended"
    assert rows["p0@example.com"][header.index("counts_as")] == "Responded"
    assert rows["p2@example.com"][header.index("counts_as")] == "Sent"


def test_editing_labels_keeps_the_rules_and_members_follow_a_rename(fresh_db):
    campaign, _ = webinar()
    ingest_records(
        events(
            campaign, {"type": "status", "status": "Attended", "email": "p0@example.com"}
        ).splitlines()
    )
    rename_label(campaign, "Attended", "Came")
    assert shown(campaign)["p0@example.com"] == "Came"
    add_label(campaign, "Waitlisted", "Responded", after="Registered")
    add_label(campaign, "Planned", "sent")
    assert [lb.name for lb in campaign_ladder(campaign)] == [
        "Invited",
        "Planned",
        "Opened",
        "Clicked",
        "Registered",
        "Waitlisted",
        "Came",
        "Converted",
    ]
    with pytest.raises(LabelRefused, match="never goes down"):
        add_label(campaign, "Early", "Clicked", after="Came")
    with pytest.raises(LabelRefused, match="1 member holds Came"):
        remove_label(campaign, "Came")
    with pytest.raises(LabelRefused, match="is the default"):
        remove_label(campaign, "Invited")
    with pytest.raises(LabelRefused, match="must count as Sent"):
        set_default(campaign, "Opened")
    with pytest.raises(LabelRefused, match="already has a status"):
        rename_label(campaign, "Came", "Registered")
    with pytest.raises(LabelRefused, match="no status 'Nope'"):
        rename_label(campaign, "Nope", "X")
    with pytest.raises(LabelRefused, match="moves only among labels of its rung"):
        move_label(campaign, "Opened", -1)
    move_label(campaign, "Came", -1)
    remove_label(campaign, "Planned")
    set_default(campaign, "Invited")
    assert [lb.name for lb in campaign_ladder(campaign)][3:6] == [
        "Registered",
        "Came",
        "Waitlisted",
    ]
    # A new member gets the default; the event that named the old name still counts.
    set_default(campaign, "Invited")
    assert shown(campaign)["p1@example.com"] == "Invited"


def test_a_manual_change_names_a_label_and_never_lowers(fresh_db):
    campaign, leads = webinar()
    member = CampaignMember.get(CampaignMember.lead == leads[0].id)
    member = set_member_status(member, "Attended")
    assert shown(campaign)["p0@example.com"] == "Attended"
    with pytest.raises(StatusChangeRefused, match="Cannot lower Attended to Registered"):
        set_member_status(member, "Registered")
    with pytest.raises(StatusChangeRefused, match="not a status of this campaign"):
        set_member_status(member, "Sent")


def test_the_status_import_applies_counts_and_rejects_with_line_numbers(fresh_db):
    campaign, _ = webinar(people=5)
    csv_text = (
        "Email,Status\n"
        "p0@example.com,Attended\n"
        "P1@example.com,Registered\n"
        "\n"
        "nobody@example.com,Attended\n"
        "p2@example.com,Partied\n"
        "p3@example.com,\n"
    )
    rows = read_status_rows(io.StringIO(csv_text))
    before = shown(campaign)
    preview = import_statuses(campaign, rows, dry_run=True)
    assert (preview.applied, preview.unchanged, preview.rejected) == (2, 0, 3)
    assert shown(campaign) == before
    assert EngagementEvent.select().count() == 0
    report = import_statuses(campaign, rows)
    assert report.as_dict() | {"rejections": None} == preview.as_dict() | {
        "rejections": None,
        "dry_run": False,
    }
    assert [line for line, _ in report.rejections] == [5, 6, 7]
    assert "no such member" in report.rejections[0][1]
    assert "unknown status 'Partied'" in report.rejections[1][1]
    assert report.rejections[2][1] == "status is required"
    assert shown(campaign)["p0@example.com"] == "Attended"
    assert shown(campaign)["p1@example.com"] == "Registered"
    again = import_statuses(
        campaign, read_status_rows(io.StringIO("email,status\np0@example.com,Registered\n"))
    )
    assert (again.applied, again.unchanged) == (0, 1)
    assert shown(campaign)["p0@example.com"] == "Attended"
    stats = CampaignStats.get(CampaignStats.campaign == campaign.id)
    assert stats.responded == 2


def test_a_status_file_without_its_columns_is_one_line(fresh_db):
    from data.errors import ValidationError

    with pytest.raises(ValidationError, match="no status column"):
        read_status_rows(io.StringIO("email,state\na@b.c,Attended\n"))
    with pytest.raises(ValidationError, match="empty"):
        read_status_rows(io.StringIO(""))


# Upgrading an older database ---------------------------------------------------------------------

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.mark.parametrize("fixture", sorted(p.name for p in FIXTURES.glob("schema_v*.db")))
def test_an_older_database_gets_templates_and_every_member_keeps_its_status(tmp_path, fixture):
    path = tmp_path / fixture
    shutil.copyfile(FIXTURES / fixture, path)
    con = sqlite3.connect(path)
    old = dict(con.execute("SELECT id, status FROM campaign_member"))
    con.close()
    open_database(str(path))
    from data.models import Campaign

    for campaign in Campaign.select():
        expected = WEBINAR if campaign.type in ("Webinar", "Event") else list(LADDER)
        assert [lb.name for lb in campaign_ladder(campaign)] == expected
        ladder = campaign_ladder(campaign)
        for member in CampaignMember.select().where(CampaignMember.campaign == campaign.id):
            label = ladder.get(member.label_id)
            assert label is not None and label.counts_as == member.rung
            assert member.status == old[member.id]
            if campaign.type not in ("Webinar", "Event"):
                assert displayed_label(member.status, label) == old[member.id]


# From the shell, and several writers at once (real processes, both backends) -------------------


def campaigns(db, *args, expect: int = 0) -> subprocess.CompletedProcess:
    proc = subprocess.run(
        [sys.executable, "-m", "tui_app", "--db", str(db), *args],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == expect, proc.stderr
    assert "Traceback" not in proc.stderr
    return proc


def start(db, *args) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "tui_app", "--db", str(db), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_the_label_commands_and_the_status_import_from_the_shell(fresh_db, tmp_path):
    campaign, _ = webinar(people=3)
    database.close()
    rows = json.loads(campaigns(fresh_db, "statuses", "Spring Webinar", "--json").stdout)
    assert [r["label"] for r in rows] == WEBINAR
    assert rows[4] == {
        "label": "Attended",
        "counts_as": "Responded",
        "responded": True,
        "default": False,
    }
    out = campaigns(
        fresh_db,
        "statuses",
        "Spring Webinar",
        "add",
        "Waitlisted",
        "--counts-as",
        "Responded",
        "--after",
        "Registered",
    ).stdout
    assert "added Waitlisted" in out and "Waitlisted  Responded" in out
    refused = campaigns(
        fresh_db,
        "statuses",
        "Spring Webinar",
        "add",
        "Early",
        "--counts-as",
        "Clicked",
        "--after",
        "Attended",
        expect=1,
    )
    assert refused.stderr.count("\n") == 1 and "never goes down" in refused.stderr
    refused = campaigns(fresh_db, "statuses", "Spring Webinar", "remove", "Invited", expect=1)
    assert "default" in refused.stderr
    sheet = tmp_path / "attendance.csv"
    sheet.write_text("email,status\np0@example.com,Attended\np1@example.com,Attendd\n")
    preview = json.loads(
        campaigns(
            fresh_db, "members", "set-status", "Spring Webinar", str(sheet), "--dry-run", "--json"
        ).stdout
    )
    assert (preview["applied"], preview["unchanged"], preview["rejected"]) == (1, 0, 1)
    text = campaigns(fresh_db, "members", "set-status", "Spring Webinar", str(sheet)).stdout
    assert "applied 1, unchanged 0" in text and "line 3: unknown status 'Attendd'" in text
    metrics = json.loads(campaigns(fresh_db, "metrics", "Spring Webinar", "--json").stdout)
    assert metrics["by_status"]["Attended"] == 1 and metrics["responded"] == 1
    refused = campaigns(fresh_db, "statuses", "Spring Webinar", "remove", "Attended", expect=1)
    assert "1 member holds Attended" in refused.stderr


MANY = 300


def test_an_import_an_ingest_and_label_edits_at_once_lose_nothing(fresh_db, tmp_path):
    """Attendance for everyone imported while an ingest sends responses and opens and another
    user renames and adds labels: everyone ends Attended, the counters equal a recount, and
    nothing fails."""
    campaign, _ = webinar(people=MANY)
    emails = [f"p{i}@example.com" for i in range(MANY)]
    sheet = tmp_path / "attendance.csv"
    sheet.write_text("email,status\n" + "".join(f"{e},Attended\n" for e in reversed(emails)))
    feed = tmp_path / "events.jsonl"
    feed.write_text(
        "".join(
            json.dumps(
                {"type": kind, "campaign": campaign.name, "email": e, "at": "2026-03-02T09:00:00Z"}
            )
            + "\n"
            for e in emails
            for kind in ("respond", "open")
        )
    )
    database.close()
    runs = [
        start(fresh_db, "members", "set-status", campaign.name, str(sheet), "--json"),
        start(fresh_db, "ingest", str(feed), "--batch-size", "20", "--json"),
    ]
    campaigns(fresh_db, "statuses", campaign.name, "rename", "Registered", "Signed up")
    campaigns(fresh_db, "statuses", campaign.name, "add", "Waitlisted", "--counts-as", "Responded")
    outs = [p.communicate(timeout=300) for p in runs]
    assert [p.returncode for p in runs] == [0, 0], [err for _, err in outs]
    database.connect(reuse_if_open=True)
    assert label_counts([campaign.id])[campaign.id]["Attended"] == MANY
    assert set(shown(campaign).values()) == {"Attended"}
    before = CampaignStats.get(CampaignStats.campaign == campaign.id).__data__
    assert before["responded"] == MANY and before["opened"] == MANY
    recount([campaign.id])
    assert CampaignStats.get(CampaignStats.campaign == campaign.id).__data__ == before


def test_a_label_removed_while_an_ingest_lifts_members_to_it_is_removed_or_refused(
    fresh_db, tmp_path
):
    """Either the removal comes first (the responses then lift to the next label of their rung)
    or it is refused because a member now holds the label; the ingest never fails."""
    campaign, _ = webinar(people=MANY)
    feed = tmp_path / "responses.jsonl"
    feed.write_text(
        "".join(
            json.dumps(
                {
                    "type": "respond",
                    "campaign": campaign.name,
                    "email": f"p{i}@example.com",
                    "at": "2026-03-02T09:00:00Z",
                }
            )
            + "\n"
            for i in range(MANY)
        )
    )
    database.close()
    ingest = start(fresh_db, "ingest", str(feed), "--batch-size", "10", "--json")
    removal = subprocess.run(
        [
            sys.executable,
            "-m",
            "tui_app",
            "--db",
            str(fresh_db),
            "statuses",
            campaign.name,
            "remove",
            "Registered",
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    out, err = ingest.communicate(timeout=300)
    assert ingest.returncode == 0, err
    assert json.loads(out)["applied"] == MANY
    assert "Traceback" not in removal.stderr
    database.connect(reuse_if_open=True)
    counts = label_counts([campaign.id])[campaign.id]
    if removal.returncode == 0:
        assert "Registered" not in counts
        assert counts["Attended"] == MANY
    else:
        assert "removed only while no member holds it" in removal.stderr, removal.stderr
        assert counts["Registered"] == MANY
