"""How many members hold each status label is kept as counters (`LabelStats`), by the writes that
change members, in their transactions; every counter a transaction changes is written in one
order, so two writers cannot deadlock on them."""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
import textwrap

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from data.campaigns import create_campaign
from data.conversion import create_opportunity
from data.db import database
from data.enrollment import clean_exits, enroll, remove_members
from data.errors import ValidationError
from data.ingest import ingest_records
from data.labels import (
    add_label,
    label_counts,
    move_label,
    remove_label,
    rename_label,
    set_default,
)
from data.members import Marked
from data.models import CampaignMember, CampaignStats, LabelStats, MemberStatusLabel
from data.rollups import recount
from data.status_change import raise_marked
from data.undo import undo
from tests import factories as f

_names = itertools.count()

EVENT_TYPES = ("open", "click", "respond", "bounce", "unsubscribe", "status")
STATUSES = ("Opened", "Clicked", "Registered", "Attended", "Responded", "Converted", "Extra")

operations = st.lists(
    st.one_of(
        st.tuples(st.just("enroll"), st.integers(0, 1)),
        st.tuples(
            st.just("event"),
            st.integers(0, 1),
            st.integers(0, 5),
            st.sampled_from(EVENT_TYPES),
            st.sampled_from(STATUSES),
        ),
        st.tuples(
            st.just("raise"), st.integers(0, 1), st.integers(1, 4), st.sampled_from(STATUSES)
        ),
        st.tuples(st.just("remove"), st.integers(0, 1), st.integers(1, 3)),
        st.tuples(st.just("clean"), st.integers(0, 1)),
        st.tuples(st.just("undo"), st.integers(0, 1)),
        st.tuples(st.just("add_label"), st.integers(0, 1), st.sampled_from(("Opened", "Sent"))),
        st.tuples(st.just("rename"), st.integers(0, 1), st.integers(0, 6)),
        st.tuples(st.just("move"), st.integers(0, 1), st.integers(0, 6), st.sampled_from((-1, 1))),
        st.tuples(st.just("remove_label"), st.integers(0, 1), st.integers(0, 6)),
        st.tuples(st.just("default"), st.integers(0, 1), st.integers(0, 6)),
        st.tuples(st.just("convert"), st.integers(0, 1), st.integers(0, 2)),
    ),
    max_size=14,
)


def _stored(campaign_id: int) -> tuple[dict, dict]:
    stats = CampaignStats.get(CampaignStats.campaign == campaign_id)
    rollups = {name: getattr(stats, name) for name in ("sent", "opened", "clicked", "responded")}
    rollups |= {n: getattr(stats, n) for n in ("converted", "bounced", "unsubscribed")}
    return rollups, label_counts([campaign_id])[campaign_id]


def _held(campaign_id: int) -> dict[str, int]:
    """Each label of the campaign with the members holding it, counted from the members."""
    L, M = MemberStatusLabel, CampaignMember
    return {
        name: M.select().where((M.campaign == campaign_id) & (M.label == lid)).count()
        for lid, name in L.select(L.id, L.name).where(L.campaign == campaign_id).tuples()
    }


def _assert_counters_equal_a_recount(campaign_ids) -> None:
    for cid in campaign_ids:
        rollups, labels = _stored(cid)
        assert labels == _held(cid)
        assert set(labels) == {
            name
            for (name,) in MemberStatusLabel.select(MemberStatusLabel.name)
            .where(MemberStatusLabel.campaign == cid)
            .tuples()
        }
        with database.atomic() as transaction:
            recount([cid])
            assert _stored(cid) == (rollups, labels)
            transaction.rollback()


def _apply(op: tuple, campaigns: list, people: list) -> None:
    kind, which, *args = op
    campaign = campaigns[which]
    ladder_names = [
        name
        for (name,) in MemberStatusLabel.select(MemberStatusLabel.name)
        .where(MemberStatusLabel.campaign == campaign.id)
        .order_by(MemberStatusLabel.position)
        .tuples()
    ]
    members = [
        mid
        for (mid,) in CampaignMember.select(CampaignMember.id)
        .where(CampaignMember.campaign == campaign.id)
        .order_by(CampaignMember.id)
        .tuples()
    ]
    if kind == "enroll":
        enroll(campaign)
    elif kind == "event":
        person, event_type, status = args
        row = {"campaign": campaign.name, "at": "2026-03-02T09:00:00Z", "type": event_type}
        row |= {"email": people[person].email, "status": status}
        ingest_records([json.dumps(row)], batch_size=1)
    elif kind == "raise":
        count, status = args
        raise_marked(campaign, Marked(campaign.id, frozenset(members[:count])), status)
    elif kind == "remove":
        remove_members(campaign, members[: args[0]])
    elif kind == "clean":
        clean_exits(campaign)
    elif kind == "undo":
        undo(campaign_id=campaign.id)
    elif kind == "add_label":
        add_label(campaign, f"New {next(_names)}", args[0])
    elif kind == "rename":
        name = ladder_names[args[0] % len(ladder_names)]
        rename_label(campaign, name, f"{name} {next(_names)}")
    elif kind == "move":
        move_label(campaign, ladder_names[args[0] % len(ladder_names)], args[1])
    elif kind == "remove_label":
        remove_label(campaign, ladder_names[args[0] % len(ladder_names)])
    elif kind == "default":
        set_default(campaign, ladder_names[args[0] % len(ladder_names)])
    elif kind == "convert":
        contact = people[3 + args[0]]
        create_opportunity(contact, "Deal", 100, campaign_source=campaign)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(operations)
def test_after_any_writes_the_kept_counters_equal_a_recount(fresh_db, ops):
    """Enrollment, events, status raises, removal, cleaning, undo, label edits and conversions,
    in any order: each campaign's rollups and label counts as kept are what a recount finds."""
    n = next(_names)
    campaigns = [
        create_campaign(f"Webinar {n}", "Webinar", "both", {}),
        create_campaign(f"Mail {n}", "Email", "both", {}),
    ]
    people = [f.lead(email=f"lead{n}.{i}@example.com") for i in range(3)]
    people += [f.contact(email=f"contact{n}.{i}@example.com") for i in range(3)]
    for op in ops:
        try:
            _apply(op, campaigns, people)
        except ValidationError:
            pass  # a refused write (a rule of the labels, nothing to undo…) changes nothing
        _assert_counters_equal_a_recount([c.id for c in campaigns])


def test_label_counts_come_from_the_counters(fresh_db):
    """`label_counts` reads the kept counters: a counter changed behind the members' back is
    what it reports (so it never counts the members)."""
    campaign = create_campaign("Kept", "Webinar", "both", {})
    for i in range(3):
        f.lead(email=f"k{i}@example.com")
    enroll(campaign)
    assert label_counts([campaign.id])[campaign.id]["Invited"] == 3
    invited = MemberStatusLabel.get(
        (MemberStatusLabel.campaign == campaign.id) & (MemberStatusLabel.name == "Invited")
    )
    LabelStats.update(members=1_000_000).where(LabelStats.label == invited.id).execute()
    assert label_counts([campaign.id])[campaign.id]["Invited"] == 1_000_000
    assert label_counts()[campaign.id]["Invited"] == 1_000_000


def test_the_step_to_version_15_fills_the_counters(fresh_db):
    """A database as version 13 left it (no label counters) gets them, counted from its
    members."""
    from playhouse.migrate import SchemaMigrator

    from data.migrations import MIGRATIONS

    db = CampaignMember._meta.database.obj
    campaign = create_campaign("Old", "Webinar", "both", {})
    for i in range(4):
        f.lead(email=f"o{i}@example.com")
    enroll(campaign)
    members = [m.id for m in CampaignMember.select().where(CampaignMember.campaign == campaign.id)]
    raise_marked(campaign, Marked(campaign.id, frozenset(members[:1])), "Attended")
    expected = label_counts([campaign.id])
    db.execute_sql('DROP TABLE "label_stats"')
    with db.atomic():
        MIGRATIONS[15](db, SchemaMigrator.from_database(db))
    assert label_counts([campaign.id]) == expected
    assert expected[campaign.id]["Invited"] == 3 and expected[campaign.id]["Attended"] == 1


ROUNDS = 12

WRITER = textwrap.dedent(
    """
    import sys
    from data.db import open_database
    from data.ingest.applying import apply_resolved, resolve_members
    from data.ingest.record import Event
    from data.models import utcnow
    from data.sql import transaction

    open_database(sys.argv[1])
    first, second, prefix = int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    for round in range(int(sys.argv[5])):
        # a member of the first campaign opens (its rollups), a machine opens for the second
        events = [
            Event(type="open", campaign_ref=str(campaign), campaign_id=campaign,
                  email=address, address=address, at=utcnow(), machine=machine)
            for campaign, address, machine in (
                (first, f"{prefix}{round}@example.com", False),
                (second, f"{prefix}{round}@example.com", True),
            )
        ]
        with transaction():
            apply_resolved(events, source="writer", members=resolve_members(events))
    print("done")
    """
)


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_two_writers_changing_two_campaigns_in_opposite_orders_never_deadlock(fresh_db):
    """Two processes change the counters of the same two campaigns in opposite orders by
    source: one's members' opens reach campaign A and its machine opens campaign B, the
    other's the reverse. Each counter row update is slowed on the server (a trigger sleeping
    20 ms), so writers locking source by source would each hold one row and wait for the
    other's (a deadlock): every counter is written in one order instead."""
    a, b = (create_campaign(f"Order {name}", "Email", "both", {}) for name in "AB")
    for i in range(ROUNDS):
        f.lead(email=f"x{i}@example.com")
        f.lead(email=f"y{i}@example.com")
    enroll(a)
    enroll(b)
    database.execute_sql(
        "CREATE FUNCTION slow_counter() RETURNS trigger AS $$ BEGIN PERFORM pg_sleep(0.02); "
        "RETURN NEW; END; $$ LANGUAGE plpgsql"
    )
    database.execute_sql(
        "CREATE TRIGGER slow_counter BEFORE UPDATE ON campaign_stats FOR EACH ROW "
        "EXECUTE FUNCTION slow_counter()"
    )
    writers = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, str(fresh_db), str(one.id), str(other.id), prefix]
            + [str(ROUNDS)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for one, other, prefix in ((a, b, "x"), (b, a, "y"))
    ]
    for writer in writers:
        out, err = writer.communicate(timeout=300)
        assert writer.returncode == 0, err
        assert out.strip() == "done"
    stats = {
        cid: (opened, machine)
        for cid, opened, machine in CampaignStats.select(
            CampaignStats.campaign, CampaignStats.opened, CampaignStats.machine_opens
        ).tuples()
    }
    assert stats[a.id] == (ROUNDS, ROUNDS)
    assert stats[b.id] == (ROUNDS, ROUNDS)


RECEIVER = textwrap.dedent(
    """
    import json, sys
    from data.db import open_database
    from data.ingest.parsing import Received
    from data.receiver import GroupCommit
    from data.webhooks import Inbound

    open_database(sys.argv[1])
    first, second, prefix = sys.argv[2], sys.argv[3], sys.argv[4]
    outcomes = []
    for round in range(int(sys.argv[5])):
        # one group of two requests, as a receiver commits them: the first source's open
        # reaches the first campaign, the second source's the second
        commit = GroupCommit()
        for source, campaign in (("one", first), ("two", second)):
            row = {"type": "open", "campaign": int(campaign), "at": "2026-03-02T09:00:00Z",
                   "email": f"{prefix}{round}@example.com"}
            received = Received(json.dumps(row).encode(), row)
            commit.submit(Inbound(source, [received]), outcomes.append)
        commit.start()
        commit.stop()
    print(json.dumps([o.error for o in outcomes]))
    """
)


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_two_receivers_committing_two_sources_in_opposite_orders_never_deadlock(fresh_db):
    """Two receiver processes each commit a group of requests from two sources in one
    transaction: one's first source reaches campaign A and its second B, the other's the
    reverse. With counters written source by source they deadlocked on `campaign_stats`
    (a trigger slows each counter update by 20 ms); written once, in one order, never."""
    a, b = (create_campaign(f"Receiver {name}", "Email", "both", {}) for name in "AB")
    for i in range(ROUNDS):
        f.lead(email=f"x{i}@example.com")
        f.lead(email=f"y{i}@example.com")
    enroll(a)
    enroll(b)
    database.execute_sql(
        "CREATE FUNCTION slow_counter() RETURNS trigger AS $$ BEGIN PERFORM pg_sleep(0.02); "
        "RETURN NEW; END; $$ LANGUAGE plpgsql"
    )
    database.execute_sql(
        "CREATE TRIGGER slow_counter BEFORE UPDATE ON campaign_stats FOR EACH ROW "
        "EXECUTE FUNCTION slow_counter()"
    )
    receivers = [
        subprocess.Popen(
            [sys.executable, "-c", RECEIVER, str(fresh_db), str(one.id), str(other.id), prefix]
            + [str(ROUNDS)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for one, other, prefix in ((a, b, "x"), (b, a, "y"))
    ]
    for receiver in receivers:
        out, err = receiver.communicate(timeout=300)
        assert receiver.returncode == 0, err
        assert json.loads(out.strip().splitlines()[-1]) == [""] * (2 * ROUNDS)
    opened = dict(CampaignStats.select(CampaignStats.campaign, CampaignStats.opened).tuples())
    assert opened[a.id] == opened[b.id] == 2 * ROUNDS  # every open of both, none lost
