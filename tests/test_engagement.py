"""The status lattice: a member record is a pure function of the set of events applied to it."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from peewee import SQL, Case

from data.engagement import (
    BOUNCED,
    CLICKED,
    CONVERTED,
    DERIVED_FIELDS,
    ENGAGEMENT_EVENT_TYPES,
    LADDER,
    MILESTONE_FIELDS,
    OPENED,
    RESPONDED,
    ROLLUP_BUCKETS,
    ROLLUP_FIELDS,
    SENT,
    STATE_FIELDS,
    STATUSES,
    UNSUBSCRIBED,
    VIEW_BUCKETS,
    MemberState,
    StatusChangeRefused,
    StatusLabel,
    StatusLadder,
    displayed_label,
    manual_change,
    rollup_buckets,
    state_from_events,
)
from data.members import MemberRow, Membership, member_count, member_page
from data.models import CampaignMember, CampaignStats
from data.rollups import bucket_condition, recount
from data.vocab import MemberView
from tests import factories

T0 = datetime(2026, 3, 2, 9, 0)


def at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


events = st.lists(
    st.tuples(st.sampled_from(ENGAGEMENT_EVENT_TYPES), st.integers(0, 10_000).map(at)),
    max_size=12,
)

EMAIL_LADDER = StatusLadder(
    StatusLabel(i + 1, name, i, is_default=i == 0) for i, name in enumerate(LADDER)
)
"""The five ladder names as labels, as an Email campaign starts with."""


def shown(state: MemberState) -> str:
    return displayed_label(state.status, EMAIL_LADDER.get(state.label_id))


@given(events, st.randoms(use_true_random=False), st.data())
@settings(max_examples=400)
def test_any_order_and_repetition_give_the_same_record(batch, rnd, data):
    """Shuffling the events and repeating some of them never changes the record."""
    repeated = batch + data.draw(st.lists(st.sampled_from(batch), max_size=6)) if batch else batch
    shuffled = list(repeated)
    rnd.shuffle(shuffled)
    assert state_from_events(shuffled) == state_from_events(batch)


@given(events, events)
def test_applying_more_events_never_lowers_the_rung(first, more):
    before = state_from_events(first)
    after = state_from_events(first + more)
    assert after.rung >= before.rung
    for name in ("first_opened_at", "first_clicked_at", "response_date", "converted_at"):
        if getattr(before, name) is not None:
            assert getattr(after, name) <= getattr(before, name)


@given(events)
def test_milestones_are_the_earliest_times(batch):
    state = state_from_events(batch)
    opens = [t for kind, t in batch if kind in ("open", "click")]
    clicks = [t for kind, t in batch if kind == "click"]
    responds = [t for kind, t in batch if kind == "respond"]
    converts = [t for kind, t in batch if kind == "convert"]
    assert state.first_opened_at == (min(opens) if opens else None)
    assert state.first_clicked_at == (min(clicks) if clicks else None)
    assert state.response_date == (min(responds) if responds else None)
    assert state.converted_at == (min(converts) if converts else None)
    assert state.has_responded == bool(responds or converts)


@pytest.mark.parametrize(
    "sequence, status",
    [
        ([], SENT),
        ([("open", 1)], OPENED),
        ([("click", 1)], CLICKED),
        ([("respond", 1)], RESPONDED),
        ([("convert", 1)], CONVERTED),
        ([("bounce", 1)], BOUNCED),
        ([("unsubscribe", 1)], UNSUBSCRIBED),
        ([("click", 5), ("open", 9)], CLICKED),
        ([("open", 9), ("click", 5)], CLICKED),
        ([("respond", 1), ("open", 2)], RESPONDED),
        ([("convert", 1), ("click", 2)], CONVERTED),
        ([("bounce", 1), ("open", 2)], OPENED),
        ([("open", 1), ("bounce", 2)], OPENED),
        ([("click", 1), ("bounce", 2)], CLICKED),
        ([("unsubscribe", 1), ("click", 2)], UNSUBSCRIBED),
        ([("click", 1), ("unsubscribe", 2)], UNSUBSCRIBED),
        ([("convert", 1), ("unsubscribe", 2)], CONVERTED),
        ([("unsubscribe", 1), ("convert", 2)], CONVERTED),
        ([("bounce", 1), ("unsubscribe", 2)], UNSUBSCRIBED),
        ([("bounce", 1), ("convert", 2)], CONVERTED),
        ([("bounce", 1), ("respond", 2)], RESPONDED),
        ([("open", 1), ("open", 1), ("open", 1)], OPENED),
    ],
)
def test_status_for_each_pair(sequence, status):
    state = state_from_events([(kind, at(m)) for kind, m in sequence])
    assert state.status == status


def test_late_open_after_click_keeps_clicked_and_the_earlier_first_opened():
    state = state_from_events([("click", at(10)), ("open", at(20))])
    assert state.status == CLICKED
    assert state.first_opened_at == at(10)
    state = state_from_events([("click", at(10)), ("open", at(5))])
    assert state.first_opened_at == at(5)
    assert state.first_clicked_at == at(10)


def test_a_response_implies_nothing_more_than_itself():
    state = state_from_events([("respond", at(1))])
    assert state.first_opened_at is None and state.first_clicked_at is None
    assert state.has_responded


def test_an_event_that_adds_nothing_returns_the_same_record():
    state = state_from_events([("click", at(1))])
    assert state.apply("open", at(2)) is state
    assert state.apply("click", at(3)) is state


@pytest.mark.parametrize(
    "history, target, allowed",
    [
        ([], OPENED, True),
        ([], RESPONDED, True),
        ([("open", 1)], CLICKED, True),
        ([("click", 1)], OPENED, False),
        ([("click", 1)], BOUNCED, False),
        ([], BOUNCED, True),
        ([("click", 1)], UNSUBSCRIBED, True),
        ([("convert", 1)], UNSUBSCRIBED, False),
        ([("unsubscribe", 1)], RESPONDED, False),
        ([("unsubscribe", 1)], CONVERTED, True),
        ([("open", 1)], SENT, False),
        ([("respond", 1)], RESPONDED, False),
    ],
)
def test_manual_change_raises_or_refuses_with_a_reason(history, target, allowed):
    state = state_from_events([(kind, at(m)) for kind, m in history], EMAIL_LADDER)
    if allowed:
        after = manual_change(state, target, at(99), EMAIL_LADDER)
        assert after.status == target and shown(after) == target
    else:
        with pytest.raises(StatusChangeRefused) as refused:
            manual_change(state, target, at(99), EMAIL_LADDER)
        assert str(refused.value).startswith(("Cannot lower", "The member is already"))


@given(events, st.sampled_from(STATUSES))
def test_a_manual_change_never_lowers(batch, target):
    state = state_from_events(batch, EMAIL_LADDER)
    try:
        after = manual_change(state, target, at(99), EMAIL_LADDER)
    except StatusChangeRefused:
        return
    assert shown(after) == target
    assert after.rung >= state.rung
    assert EMAIL_LADDER.rank(after.label_id) >= EMAIL_LADDER.rank(state.label_id)


def test_rollup_buckets_follow_the_rungs_even_after_an_exit():
    state = state_from_events([("click", at(1)), ("unsubscribe", at(2))])
    assert dict(
        zip(
            ("sent", "opened", "clicked", "responded", "converted", "bounced", "unsubscribed"),
            rollup_buckets(state),
        )
    ) == {
        "sent": 1,
        "opened": 1,
        "clicked": 1,
        "responded": 0,
        "converted": 0,
        "bounced": 0,
        "unsubscribed": 1,
    }
    assert rollup_buckets(MemberState()) == (1, 0, 0, 0, 0, 0, 0)


# One definition of the rollup buckets, read both in Python and as SQL ---------------------------

member_states = st.builds(
    MemberState,
    rung=st.integers(0, len(LADDER) - 1),
    bounced=st.booleans(),
    unsubscribed=st.booleans(),
    first_opened_at=st.none() | st.integers(0, 10_000).map(at),
    first_clicked_at=st.none() | st.integers(0, 10_000).map(at),
    response_date=st.none() | st.integers(0, 10_000).map(at),
    converted_at=st.none() | st.integers(0, 10_000).map(at),
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(member_states, min_size=1, max_size=12))
def test_bucket_predicates_agree_in_python_and_sql(fresh_db, states):
    """Each member, stored with its state, is in a bucket by SQL exactly when it is by Python;
    the recounted counters and each member view's size are the Python sums."""
    campaign = factories.campaign()
    M = CampaignMember
    M.delete().execute()
    ids = []
    for state in states:
        person = factories.lead()
        values = {name: getattr(state, name) for name in (*STATE_FIELDS, *DERIVED_FIELDS)}
        ids.append(M.insert(campaign=campaign.id, lead=person.id, **values).execute())
    flags = M.select(
        M.id, *[Case(None, [(bucket_condition(b) or SQL("1 = 1"), 1)], 0) for b in ROLLUP_BUCKETS]
    )
    by_sql = {row[0]: row[1:] for row in flags.where(M.campaign == campaign.id).tuples()}
    for member_id, state in zip(ids, states):
        assert by_sql[member_id] == rollup_buckets(state), state
    recount([campaign.id])
    stats = CampaignStats.get(CampaignStats.campaign == campaign.id)
    totals = [sum(column) for column in zip(*(rollup_buckets(s) for s in states))]
    assert [getattr(stats, name) for name in ROLLUP_FIELDS] == totals
    for view in MemberView:
        in_view = [s for s in states if any(b.counts(s) for b in VIEW_BUCKETS[view])]
        assert member_count(campaign.id, view) == len(in_view)
        rows = member_page(campaign.id, view, limit=100)
        assert [r.status for r in rows] == [s.status for s in in_view]


def test_milestone_fields_are_the_timestamps_of_a_member_state():
    assert MILESTONE_FIELDS == (
        "first_opened_at",
        "first_clicked_at",
        "response_date",
        "converted_at",
    )
    assert STATE_FIELDS == ("rung", "bounced", "unsubscribed", *MILESTONE_FIELDS, "label_id")
    assert MemberRow._fields[7:12] == ("added_at", *MILESTONE_FIELDS)
    assert Membership._fields[6:11] == ("added_at", *MILESTONE_FIELDS)
