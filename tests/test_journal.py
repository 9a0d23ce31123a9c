"""The journal of bulk changes and undo: every change is an entry, and undo restores exactly."""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from data import journal
from data.db import database, open_database
from data.engagement import ENGAGEMENT_EVENT_TYPES as EVENT_TYPES
from data.enrollment import clean_exits, enroll, remove_emails, remove_members
from data.errors import ValidationError
from data.ingest import ingest_records
from data.labels import campaign_ladder
from data.models import CampaignMember, CampaignStats, EngagementEvent
from data.rollups import recount
from data.undo import undo
from tests import factories as f
from tests.conftest import FIXED_NOW


def members(campaign) -> dict:
    """Every member of the campaign, its whole row, by person (its label by name: each campaign
    has labels of its own)."""
    M = CampaignMember
    rows = M.select().where(M.campaign == campaign.id).dicts()
    names = {label.id: label.name for label in campaign_ladder(campaign)}
    return {(r["lead"], r["contact"]): r | {"label": names.get(r["label"])} for r in rows}


def links(campaign) -> dict:
    """Which member each logged event belongs to, by event id."""
    E = EngagementEvent
    return dict(E.select(E.id, E.member).where(E.campaign == campaign.id).tuples())


def counters(campaign) -> dict:
    stats = CampaignStats.get_by_id(campaign.id)
    recount([campaign.id])
    kept = CampaignStats.get_by_id(campaign.id)
    assert stats.__data__ == kept.__data__, "the kept counters match a recount"
    return kept.__data__


def event(kind: str, email: str, campaign, at: str = "2026-03-02T09:00:00Z", **more) -> dict:
    return {"type": kind, "campaign": campaign.name, "email": email, "at": at, **more}


def busy_campaign():
    """Five members: two exits (one that engaged first), one clicked, two untouched."""
    people = [f.lead(email=f"p{i}@example.com") for i in range(3)]
    people += [f.contact(email=f"c{i}@example.com") for i in range(2)]
    campaign = f.campaign("Spring")
    enroll(campaign)
    ingest_records(
        [
            event("open", "p1@example.com", campaign, id="a"),
            event("bounce", "p0@example.com", campaign, id="b"),
            event("unsubscribe", "p1@example.com", campaign, id="c"),
            event("click", "c0@example.com", campaign, id="d"),
            event("open", "c0@example.com", campaign, at="2026-03-01T08:00:00Z", id="e"),
        ]
    )
    return campaign


def test_every_enrollment_is_an_entry_and_undo_removes_those_members(fresh_db):
    f.lead(), f.lead()
    campaign = f.campaign(kind="leads")
    enroll(campaign)
    [entry] = journal.entries()
    assert (entry.action, entry.campaign, entry.count, entry.undone) == (
        "enroll",
        campaign.name,
        2,
        False,
    )
    assert entry.who and entry.summary.startswith("enrolled 2")
    late = f.lead()
    enroll(campaign, {"lead": [late.id]})
    assert [e.action for e in journal.entries(campaign.id)] == ["add", "enroll"]
    result = undo(entry.id)
    assert result.removed == 2
    assert [k[0] for k in members(campaign)] == [late.id]
    assert counters(campaign)["sent"] == 1
    assert journal.entries()[1].undone
    with pytest.raises(ValidationError, match="already undone"):
        undo(entry.id)


def test_a_change_that_changes_nothing_leaves_no_entry(fresh_db):
    campaign = f.campaign(kind="leads")
    enroll(campaign)
    assert clean_exits(campaign) == 0
    assert journal.entries() == []
    with pytest.raises(ValidationError, match="nothing to undo"):
        undo()


def test_undoing_a_clean_restores_every_record_and_the_events_that_came_meanwhile(fresh_db):
    campaign = busy_campaign()
    before, linked, stats = members(campaign), links(campaign), counters(campaign)
    assert clean_exits(campaign) == 2
    assert len(members(campaign)) == 3
    # While they are out, p1 clicks: the event reaches no member and is logged so.
    report = ingest_records([event("click", "p1@example.com", campaign, id="late")])
    assert report.rejected == 1
    result = undo(campaign_id=campaign.id)
    assert (result.restored, result.replayed) == (2, 1)
    after = members(campaign)
    p1 = next(k for k, row in before.items() if row["unsubscribed"])
    expected = dict(before)
    expected[p1] = after[p1]
    assert after == expected, "every record back as it was, ids included"
    assert after[p1]["first_clicked_at"] is not None and after[p1]["status"] == "Unsubscribed"
    now_linked = links(campaign)
    assert all(now_linked[i] == m for i, m in linked.items()), "old events linked again"
    assert counters(campaign)["clicked"] == stats["clicked"] + 1
    assert journal.entries()[0].undone


def test_undoing_a_removal_joins_a_person_enrolled_again_meanwhile(fresh_db):
    campaign = busy_campaign()
    removed, missing = remove_emails(campaign, ["c0@example.com", "nobody@example.com"])
    assert (removed, missing) == (1, ["nobody@example.com"])
    enroll(campaign)  # c0 comes back fresh, as Sent
    ingest_records([event("bounce", "c0@example.com", campaign, id="x")])
    removal = journal.entries()[1]
    assert removal.action == "remove"
    result = undo(removal.id)
    assert (result.restored, result.joined) == (1, 1)
    rows = [r for r in members(campaign).values() if r["contact"] and r["first_clicked_at"]]
    [c0] = rows
    assert (c0["status"], c0["bounced"], c0["rung"]) == ("Clicked", True, 2)
    assert len(members(campaign)) == 5
    counters(campaign)


def test_a_removed_member_comes_back_under_a_new_id_when_its_id_was_taken(fresh_db):
    first, last = f.lead(), f.lead()
    campaign = f.campaign(kind="leads")
    enroll(campaign)
    ingest_records([event("open", last.email, campaign, id="o")])
    old = members(campaign)[(last.id, None)]
    remove_members(campaign, [old["id"]])
    newcomer = f.lead()
    enroll(campaign, {"lead": [newcomer.id]})  # SQLite may hand it the freed id
    undo(journal.entries()[1].id)
    back = members(campaign)[(last.id, None)]
    assert {k: v for k, v in back.items() if k != "id"} == {
        k: v for k, v in old.items() if k != "id"
    }
    assert EngagementEvent.get(EngagementEvent.event_id == "o").member_id == back["id"]
    assert len(members(campaign)) == 3 and first


EVENTS = st.lists(
    st.tuples(st.sampled_from(EVENT_TYPES), st.integers(0, 4), st.integers(0, 50)),
    max_size=25,
)


_examples = itertools.count()


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(before=EVENTS, meanwhile=EVENTS, chosen=st.sets(st.integers(0, 4)))
def test_remove_then_undo_gives_the_records_that_never_leaving_would_give(
    fresh_db, before, meanwhile, chosen
):
    """Removing members, receiving events, undoing: the same records as if they had stayed."""
    n = next(_examples)
    people = [f.lead(email=f"x{i}.{n}@example.com") for i in range(5)]
    ids = {"lead": [p.id for p in people]}
    campaign, stayed = f.campaign(kind="leads"), f.campaign(kind="leads")
    enroll(campaign, ids, now=FIXED_NOW)
    enroll(stayed, ids, now=FIXED_NOW)

    def send(events):
        for target in (campaign, stayed):
            ingest_records(
                [
                    event(
                        kind,
                        f"x{who}.{n}@example.com",
                        target,
                        at=f"2026-03-01T{t // 60:02}:{t % 60:02}:00Z",
                    )
                    for kind, who, t in events
                ]
            )

    send(before)
    removed = [members(campaign)[(people[i].id, None)]["id"] for i in sorted(chosen)]
    remove_members(campaign, removed)
    send(meanwhile)
    if chosen:
        undo(campaign_id=campaign.id)

    def records(c):
        return {
            k: {n: v for n, v in r.items() if n not in ("id", "campaign")}
            for k, r in members(c).items()
        }

    assert records(campaign) == records(stayed)
    assert counters(campaign) | {"campaign": 0} == counters(stayed) | {"campaign": 0}


def campaigns(db, *args: str, expect: int = 0) -> subprocess.CompletedProcess:
    proc = subprocess.run(
        [sys.executable, "-m", "tui_app", *args],
        capture_output=True,
        text=True,
        env={**os.environ, "CAMPAIGNS_DB": str(db)},
        timeout=120,
    )
    assert proc.returncode == expect, proc.stderr
    assert "Traceback" not in proc.stderr
    return proc


def test_the_journal_and_undo_from_the_shell(fresh_db):
    campaign = busy_campaign()
    before = members(campaign)
    database.close()  # the commands below are other processes
    out = json.loads(campaigns(fresh_db, "campaign", "clean", "Spring", "--json").stdout)
    assert out["removed"] == 2
    text = campaigns(fresh_db, "members", "remove", "Spring", "C1@example.com", "x@y.z").stdout
    assert "removed 1" in text and "not members: x@y.z" in text
    rows = json.loads(campaigns(fresh_db, "journal", "--campaign", "Spring", "--json").stdout)
    assert [(r["action"], r["count"], r["undone"]) for r in rows] == [
        ("remove", 1, False),
        ("clean", 2, False),
        ("enroll", 5, False),
    ]
    assert set(rows[0]) >= {"id", "at", "action", "campaign", "count", "undone"}
    said = campaigns(fresh_db, "undo").stdout
    assert said.startswith(f"undid journal entry {rows[0]['id']} (remove, Spring): restored 1")
    # Two undos of the clean at once: the database lets exactly one through.
    clean = str(rows[1]["id"])
    env = {**os.environ, "CAMPAIGNS_DB": str(fresh_db)}
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "tui_app", "undo", clean],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    results = sorted((p.wait(timeout=120), p.stderr.read()) for p in procs)
    assert [code for code, _ in results] == [0, 1]
    assert f"journal entry {clean} was already undone" in results[1][1]
    assert "Traceback" not in results[1][1]
    open_database(str(fresh_db))
    assert members(campaign) == before
    campaigns(fresh_db, "undo", "999", expect=1)


def test_undo_replays_past_a_provider_event_without_effect_and_a_machine_open(fresh_db):
    """Events a connector recorded without effect (a delivery) or as a machine's open come back
    with a restored member and change nothing, as when they arrived."""
    from data.receiver import GroupCommit, _Request
    from data.webhooks import SENDGRID_NOTED, Inbound
    from tests.test_serve import mapped

    campaign = busy_campaign()
    remove_emails(campaign, ["c0@example.com"])
    enroll(campaign)
    delivered = event("delivered", "c0@example.com", campaign, id="sg-d")
    machine = event("open", "c0@example.com", campaign, id="sg-m", machine=True)
    inbound = Inbound("sendgrid", [mapped(delivered), mapped(machine)], SENDGRID_NOTED)
    [report] = GroupCommit()._commit([_Request(inbound, lambda outcome: None)])
    assert (report.unchanged, report.machine) == (1, 1)
    removal = journal.entries()[1]
    result = undo(removal.id)
    assert result.restored == 1
    [c0] = [r for r in members(campaign).values() if r["contact"] and r["first_clicked_at"]]
    assert (c0["status"], c0["rung"]) == ("Clicked", 2)
    counters(campaign)
