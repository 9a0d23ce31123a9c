"""The status lattice: a member record is a pure function of the set of events applied to it."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from data.engagement import (
    BOUNCED,
    CLICKED,
    CONVERTED,
    EVENT_TYPES,
    OPENED,
    RESPONDED,
    SENT,
    STATUSES,
    UNSUBSCRIBED,
    MemberState,
    StatusChangeRefused,
    manual_change,
    rollup_buckets,
    state_from_events,
)

T0 = datetime(2026, 3, 2, 9, 0)


def at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


events = st.lists(
    st.tuples(st.sampled_from(EVENT_TYPES), st.integers(0, 10_000).map(at)), max_size=12
)


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
    state = state_from_events([(kind, at(m)) for kind, m in history])
    if allowed:
        assert manual_change(state, target, at(99)).status == target
    else:
        with pytest.raises(StatusChangeRefused) as refused:
            manual_change(state, target, at(99))
        assert str(refused.value).startswith(("Cannot lower", "The member is already"))


@given(events, st.sampled_from(STATUSES))
def test_a_manual_change_never_lowers(batch, target):
    state = state_from_events(batch)
    try:
        after = manual_change(state, target, at(99))
    except StatusChangeRefused:
        return
    assert after.status == target
    assert after.rung >= state.rung


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
