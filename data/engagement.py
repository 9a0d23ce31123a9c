"""The member status lattice: the one place that says what a set of engagement events means.

A member record is a pure function of the set of events applied to it. Every field is merged with
an operation that is commutative, associative and idempotent (max of the rung, min of each
timestamp, or of each exit flag), so order and repetition cannot change the result.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, fields, replace
from datetime import datetime
from typing import Any, get_type_hints

from data.vocab import EventType, MemberStatus, MemberView, values

SENT, OPENED, CLICKED, RESPONDED, CONVERTED = (
    MemberStatus.SENT,
    MemberStatus.OPENED,
    MemberStatus.CLICKED,
    MemberStatus.RESPONDED,
    MemberStatus.CONVERTED,
)
BOUNCED, UNSUBSCRIBED = MemberStatus.BOUNCED, MemberStatus.UNSUBSCRIBED

LADDER = (SENT, OPENED, CLICKED, RESPONDED, CONVERTED)
"""The engagement ladder, lowest rung first; a member only ever climbs it."""

STATUSES = values(MemberStatus)
"""All seven member statuses, in the order they are listed to users."""

EXITS = (BOUNCED, UNSUBSCRIBED)

EVENT_TYPES = values(EventType)

RUNG_OF_EVENT = {
    EventType.OPEN: 1,
    EventType.CLICK: 2,
    EventType.RESPOND: 3,
    EventType.CONVERT: 4,
}
"""The rung an engagement event raises a member to."""

MILESTONE_OF_EVENT = {
    EventType.CLICK: "first_clicked_at",
    EventType.RESPOND: "response_date",
    EventType.CONVERT: "converted_at",
}
"""The timestamp an event sets (the earliest wins); opens and clicks also set first_opened_at."""

EVENT_FOR_STATUS: dict[str, EventType] = {
    OPENED: EventType.OPEN,
    CLICKED: EventType.CLICK,
    RESPONDED: EventType.RESPOND,
    CONVERTED: EventType.CONVERT,
    BOUNCED: EventType.BOUNCE,
    UNSUBSCRIBED: EventType.UNSUBSCRIBE,
}
"""A manual status change is recorded as the event that would have produced it."""


def _earliest(current: datetime | None, at: datetime) -> datetime:
    return at if current is None or at < current else current


@dataclass(frozen=True, slots=True)
class MemberState:
    """The engagement part of a campaign member record."""

    rung: int = 0
    bounced: bool = False
    unsubscribed: bool = False
    first_opened_at: datetime | None = None
    first_clicked_at: datetime | None = None
    response_date: datetime | None = None
    converted_at: datetime | None = None

    @property
    def status(self) -> MemberStatus:
        return displayed_status(self.rung, self.bounced, self.unsubscribed)

    @property
    def has_responded(self) -> bool:
        return self.rung >= LADDER.index(RESPONDED)

    def apply(self, event_type: str, at: datetime) -> MemberState:
        """The record after one more event; the same record when the event adds nothing."""
        if event_type == EventType.BOUNCE:
            return self if self.bounced else replace(self, bounced=True)
        if event_type == EventType.UNSUBSCRIBE:
            return self if self.unsubscribed else replace(self, unsubscribed=True)
        changes: dict[str, Any] = {}
        rung = RUNG_OF_EVENT[EventType(event_type)]
        if rung > self.rung:
            changes["rung"] = rung
        if event_type in (EventType.OPEN, EventType.CLICK):
            earliest = _earliest(self.first_opened_at, at)
            if earliest != self.first_opened_at:
                changes["first_opened_at"] = earliest
        milestone = MILESTONE_OF_EVENT.get(EventType(event_type))
        if milestone:
            current = getattr(self, milestone)
            earliest = _earliest(current, at)
            if earliest != current:
                changes[milestone] = earliest
        return replace(self, **changes) if changes else self


def joined(a: MemberState, b: MemberState) -> MemberState:
    """The record of the union of two sets of events: the highest rung, either exit, the
    earliest of each milestone (what one member gets back when a removed record of the same
    person returns to it)."""
    times = {}
    for name in ("first_opened_at", "first_clicked_at", "response_date", "converted_at"):
        x, y = getattr(a, name), getattr(b, name)
        times[name] = y if x is None else x if y is None else min(x, y)
    return MemberState(
        max(a.rung, b.rung), a.bounced or b.bounced, a.unsubscribed or b.unsubscribed, **times
    )


def displayed_status(rung: int, bounced: bool, unsubscribed: bool) -> MemberStatus:
    """Converted beats everything; an opt-out beats the ladder; delivery evidence beats a bounce."""
    if rung == LADDER.index(CONVERTED):
        return CONVERTED
    if unsubscribed:
        return UNSUBSCRIBED
    if rung > 0:
        return LADDER[rung]
    if bounced:
        return BOUNCED
    return SENT


def state_from_events(events: Iterable[tuple[str, datetime]]) -> MemberState:
    """Fold (type, at) pairs into a record, starting from a fresh enrollment."""
    state = MemberState()
    for event_type, at in events:
        state = state.apply(event_type, at)
    return state


class StatusChangeRefused(ValueError):
    """A manual change that would lower a member's status; the message says why."""


def manual_change(state: MemberState, target: str, at: datetime) -> MemberState:
    """Raise a member to `target` by the same rule as events, or refuse with the reason."""
    if target == SENT or target not in EVENT_FOR_STATUS:
        if state.status == target:
            raise StatusChangeRefused(f"The member is already {target}.")
        raise StatusChangeRefused(
            f"Cannot lower {state.status} to {target}: member status never goes backwards."
        )
    if state.status == target:
        raise StatusChangeRefused(f"The member is already {target}.")
    after = state.apply(EVENT_FOR_STATUS[target], at)
    if after.status == target:
        return after
    current = state.status
    if current == CONVERTED:
        why = "a conversion outranks every other status"
    elif current == UNSUBSCRIBED:
        why = "an opt-out outranks everything but a conversion"
    elif target == BOUNCED:
        why = "the member has already engaged, which proves the email was delivered"
    else:
        why = f"{current} is already past {target} on the ladder"
    raise StatusChangeRefused(f"Cannot lower {current} to {target}: {why}.")


STATE_FIELDS = tuple(f.name for f in fields(MemberState))
"""The stored fields a member's engagement consists of (the rest of its row is derived)."""

MILESTONE_FIELDS = tuple(
    name for name, kind in get_type_hints(MemberState).items() if kind == datetime | None
)
"""The milestone timestamps, in the order they are shown and exported."""

DERIVED_FIELDS = ("status", "has_responded")
"""Stored alongside the state so lists can filter by them on an index; computed from it."""


@dataclass(frozen=True)
class RollupBucket:
    """One counter kept per campaign: the members it counts.

    `test` is written with comparisons joined by `&` and `|` only, so it reads the same on a
    `MemberState` (giving a bool) and on the `CampaignMember` model (giving a Peewee
    expression over its columns); None counts every member."""

    name: str
    test: Callable[[Any], Any] | None

    def counts(self, state: MemberState) -> bool:
        return True if self.test is None else bool(self.test(state))


ROLLUP_BUCKETS = (
    RollupBucket("sent", None),
    RollupBucket("opened", lambda m: m.rung >= LADDER.index(OPENED)),
    RollupBucket("clicked", lambda m: m.rung >= LADDER.index(CLICKED)),
    RollupBucket("responded", lambda m: m.has_responded == True),
    RollupBucket("converted", lambda m: m.status == CONVERTED),
    RollupBucket("bounced", lambda m: m.status == BOUNCED),
    RollupBucket("unsubscribed", lambda m: m.status == UNSUBSCRIBED),
)
"""The rollup counters, in the order `rollup_buckets` returns them. Responded and converted are
tested on the stored `has_responded` and `status` so the member lists find them by index."""

ROLLUP_FIELDS = tuple(bucket.name for bucket in ROLLUP_BUCKETS)

BUCKET = {bucket.name: bucket for bucket in ROLLUP_BUCKETS}

VIEW_BUCKETS = {
    MemberView.ALL: (BUCKET["sent"],),
    MemberView.RESPONDED: (BUCKET["responded"],),
    MemberView.BOUNCED_UNSUBSCRIBED: (BUCKET["bounced"], BUCKET["unsubscribed"]),
    MemberView.CONVERTED: (BUCKET["converted"],),
}
"""Each member list view is the members of these (disjoint) buckets, so its size is the sum of
their counters."""


def rollup_buckets(state: MemberState | None) -> tuple[int, ...]:
    """Which rollup counters one member adds to (all zero for no member)."""
    if state is None:
        return (0,) * len(ROLLUP_BUCKETS)
    return tuple(int(bucket.counts(state)) for bucket in ROLLUP_BUCKETS)
