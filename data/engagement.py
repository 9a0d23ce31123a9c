"""The member status lattice: the one place that says what a set of engagement events means.

A member record is a pure function of the set of events applied to it. Every field is merged with
an operation that is commutative, associative and idempotent (max of the rung, max of the label
along the campaign's label list, min of each timestamp, or of each exit flag), so order and
repetition cannot change the result.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Sequence
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

SETTLED = (CONVERTED, *EXITS)
"""The statuses engagement does not move a member out of: the only ones a list finds members by
(the Converted and Bounced/Unsubscribed views, the exits an enrollment skips)."""

EVENT_TYPES = values(EventType)

ENGAGEMENT_EVENT_TYPES = tuple(t for t in EVENT_TYPES if t != EventType.STATUS)
"""The events that need no label: engagement (open, click, respond, convert) and the exits."""

RUNG_OF_EVENT: dict[str, int] = {
    EventType.OPEN: 1,
    EventType.CLICK: 2,
    EventType.RESPOND: 3,
    EventType.CONVERT: 4,
}
"""The rung an engagement event raises a member to."""

MILESTONE_OF_EVENT: dict[str, str] = {
    EventType.CLICK: "first_clicked_at",
    EventType.RESPOND: "response_date",
    EventType.CONVERT: "converted_at",
}
"""The timestamp an event sets (the earliest wins); opens and clicks also set first_opened_at."""

EVENT_OF_RUNG = {rung: event for event, rung in RUNG_OF_EVENT.items()}
"""The engagement event that raises a member to a rung (a status event's label implies it)."""

EVENT_FOR_EXIT: dict[str, EventType] = {
    BOUNCED: EventType.BOUNCE,
    UNSUBSCRIBED: EventType.UNSUBSCRIBE,
}
"""A manual change to an exit is recorded as the event that would have produced it; a manual
change to a label is a status event naming it."""

RESPONDED_RUNG = LADDER.index(RESPONDED)
CONVERTED_RUNG = LADDER.index(CONVERTED)


@dataclass(frozen=True, slots=True)
class StatusLabel:
    """One of a campaign's member status labels: its name and the rung it counts as."""

    id: int
    name: str
    counts_as: int
    is_default: bool = False

    @property
    def responded(self) -> bool:
        """A label counting as Responded or higher is a responded label."""
        return self.counts_as >= RESPONDED_RUNG

    @property
    def rung_name(self) -> MemberStatus:
        return LADDER[self.counts_as]


class StatusLadder:
    """A campaign's labels in their order: what a status event may name, and which label an
    engagement event lifts a member to (the first label counting as its rung)."""

    __slots__ = ("labels", "_rank", "_by_name", "_first_of_rung")

    def __init__(self, labels: Sequence[StatusLabel]) -> None:
        self.labels = tuple(labels)
        self._rank = {label.id: i for i, label in enumerate(self.labels)}
        self._by_name = {label.name: label for label in self.labels}
        self._first_of_rung: dict[int, StatusLabel] = {}
        for label in self.labels:
            self._first_of_rung.setdefault(label.counts_as, label)

    def __iter__(self):
        return iter(self.labels)

    def rank(self, label_id: int | None) -> int:
        """A label's place along the list (-1 for none or a label not in it)."""
        return self._rank.get(label_id, -1) if label_id is not None else -1

    def find(self, name: str) -> StatusLabel | None:
        return self._by_name.get(name)

    def get(self, label_id: int | None) -> StatusLabel | None:
        rank = self.rank(label_id)
        return self.labels[rank] if rank >= 0 else None

    def first_of_rung(self, rung: int) -> StatusLabel | None:
        return self._first_of_rung.get(rung)

    @property
    def default(self) -> StatusLabel | None:
        return next((label for label in self.labels if label.is_default), None)

    @property
    def names(self) -> str:
        """The labels as a phrase for a message: "Invited, Opened, Attended"."""
        return ", ".join(label.name for label in self.labels)


def ladder_problem(labels: Sequence[StatusLabel]) -> str | None:
    """Why a list of labels breaks the rules (one line), or None: names unique and not an exit,
    the rung never going down along the list, exactly one default and it counting as Sent."""
    seen: set[str] = set()
    previous: StatusLabel | None = None
    for label in labels:
        if not label.name.strip():
            return "a status label needs a name"
        if label.name != label.name.strip():
            return "a status label cannot begin or end with spaces"
        if label.name in seen:
            return f"the campaign already has a status {label.name!r}"
        if label.name in EXITS:
            return f"{label.name} is an exit, not a label: every campaign has it already"
        if not 0 <= label.counts_as < len(LADDER):
            return f"a label counts as one of {', '.join(LADDER)}"
        if previous is not None and label.counts_as < previous.counts_as:
            return (
                f"{label.name} ({label.rung_name}) cannot come after {previous.name} "
                f"({previous.rung_name}): along the list the rung never goes down"
            )
        seen.add(label.name)
        previous = label
    defaults = [label for label in labels if label.is_default]
    if len(defaults) != 1:
        return "exactly one label is the default given on enrollment"
    if defaults[0].counts_as != 0:
        return (
            f"the default ({defaults[0].name}) must count as {SENT}: "
            "a member enrolled has not engaged yet"
        )
    return None


STATUS_EVENT = EventType.STATUS


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
    label_id: int | None = None
    """The highest of the campaign's labels reached (by its place in the campaign's list)."""

    @property
    def status(self) -> MemberStatus:
        return displayed_status(self.rung, self.bounced, self.unsubscribed)

    @property
    def has_responded(self) -> bool:
        return self.rung >= LADDER.index(RESPONDED)

    def apply(
        self,
        event_type: str,
        at: datetime,
        ladder: StatusLadder | None = None,
        label: StatusLabel | None = None,
    ) -> MemberState:
        """The record after one more event; the same record when the event adds nothing.

        With the campaign's `ladder`, the label rises too: to the status event's `label`, or
        for an engagement event to the first label counting as its rung. A status event is the
        engagement event of its label's rung (milestones included) plus the label."""
        if event_type == STATUS_EVENT:
            if label is None or ladder is None:
                raise ValueError("a status event names one of the campaign's labels")
            event = EVENT_OF_RUNG.get(label.counts_as)
            state = self.apply(event, at, ladder) if event else self
            return state._lifted(label, ladder)
        if event_type == EventType.BOUNCE:
            return self if self.bounced else replace(self, bounced=True)
        if event_type == EventType.UNSUBSCRIBE:
            return self if self.unsubscribed else replace(self, unsubscribed=True)
        rung = RUNG_OF_EVENT[event_type]
        before = [getattr(self, name) for name in MILESTONE_FIELDS]
        times = before.copy()
        for at_index in _TIMES_SET_BY[event_type]:
            current = times[at_index]
            if current is None or at < current:
                times[at_index] = at
        label_id = self.label_id
        if ladder is not None:
            first = ladder.first_of_rung(rung)
            if first is not None and ladder.rank(first.id) > ladder.rank(label_id):
                label_id = first.id
        raised = rung if rung > self.rung else self.rung
        if raised == self.rung and label_id == self.label_id and times == before:
            return self
        opened, clicked, responded, converted = times
        return MemberState(
            raised, self.bounced, self.unsubscribed, opened, clicked, responded, converted, label_id
        )

    def _lifted(self, label: StatusLabel, ladder: StatusLadder) -> MemberState:
        """The label raised to `label` if that is further along the list (a maximum)."""
        if ladder.rank(label.id) > ladder.rank(self.label_id):
            return replace(self, label_id=label.id)
        return self


def joined(a: MemberState, b: MemberState, ladder: StatusLadder | None = None) -> MemberState:
    """The record of the union of two sets of events: the highest rung, either exit, the
    earliest of each milestone, the label further along the campaign's `ladder` (what one
    member gets back when a removed record of the same person returns to it)."""
    times = {}
    for name in ("first_opened_at", "first_clicked_at", "response_date", "converted_at"):
        x, y = getattr(a, name), getattr(b, name)
        times[name] = y if x is None else x if y is None else min(x, y)
    label = a.label_id
    if ladder is not None and ladder.rank(b.label_id) > ladder.rank(a.label_id):
        label = b.label_id
    return MemberState(
        max(a.rung, b.rung),
        a.bounced or b.bounced,
        a.unsubscribed or b.unsubscribed,
        **times,
        label_id=label,
    )


@functools.cache  # a handful of combinations, asked for every member an ingest changes
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


def displayed_label(status: str, label: StatusLabel | None) -> str:
    """What a member's status shows as in its campaign: the exits as they are; a conversion as
    the label reached if that counts as Converted, else Converted; otherwise the label reached
    (the generic status for a member without one)."""
    if status in EXITS:
        return status
    if label is None:
        return status
    if status == CONVERTED and label.counts_as != CONVERTED_RUNG:
        return CONVERTED
    return label.name


def state_from_events(
    events: Iterable[tuple[str, datetime]] | Iterable[tuple[str, datetime, StatusLabel | None]],
    ladder: StatusLadder | None = None,
) -> MemberState:
    """Fold (type, at) or (type, at, label) events into a record, starting from a fresh
    enrollment (at the ladder's default label when there is a ladder)."""
    default = ladder.default if ladder is not None else None
    state = MemberState(label_id=default.id if default else None)
    for event in events:
        event_type, at, *label = event
        state = state.apply(event_type, at, ladder, label[0] if label else None)
    return state


class StatusChangeRefused(ValueError):
    """A manual change that would lower a member's status; the message says why."""


def manual_change(
    state: MemberState, target: str, at: datetime, ladder: StatusLadder
) -> MemberState:
    """Raise a member to `target` (one of the campaign's labels, or an exit) by the same rule
    as events, or refuse with the reason."""
    current = displayed_label(state.status, ladder.get(state.label_id))
    if current == target:
        raise StatusChangeRefused(f"The member is already {target}.")
    label = ladder.find(target)
    if target in EVENT_FOR_EXIT:
        after = state.apply(EVENT_FOR_EXIT[target], at)
    elif label is not None:
        after = state.apply(STATUS_EVENT, at, ladder, label)
    else:
        raise StatusChangeRefused(
            f"{target} is not a status of this campaign; its statuses are {ladder.names}, "
            f"{BOUNCED} and {UNSUBSCRIBED}."
        )
    if displayed_label(after.status, ladder.get(after.label_id)) == target:
        return after
    if state.status == CONVERTED:
        why = "a conversion outranks every other status"
    elif current == UNSUBSCRIBED:
        why = "an opt-out outranks everything but a conversion"
    elif target == BOUNCED:
        why = "the member has already engaged, which proves the email was delivered"
    else:
        why = f"{current} is already past {target}"
    raise StatusChangeRefused(f"Cannot lower {current} to {target}: {why}.")


def status_choices(state: MemberState, ladder: StatusLadder) -> list[tuple[str, str | None]]:
    """Every status a manual change could name (the labels in order, then the exits), each
    with None when it would raise the member, else why it is not offered."""
    choices: list[tuple[str, str | None]] = []
    for name in (*(label.name for label in ladder), *EVENT_FOR_EXIT):
        try:
            manual_change(state, name, datetime.min, ladder)
        except StatusChangeRefused as refused:
            choices.append((name, str(refused)))
        else:
            choices.append((name, None))
    return choices


STATE_FIELDS = tuple(f.name for f in fields(MemberState))
"""The stored fields a member's engagement consists of (the rest of its row is derived)."""

MILESTONE_FIELDS = tuple(
    name for name, kind in get_type_hints(MemberState).items() if kind == datetime | None
)
"""The milestone timestamps, in the order they are shown and exported."""

_TIMES_SET_BY: dict[str, tuple[int, ...]] = {
    event: tuple(
        i
        for i, name in enumerate(MILESTONE_FIELDS)
        if name == MILESTONE_OF_EVENT.get(event)
        or (name == "first_opened_at" and event in (EventType.OPEN, EventType.CLICK))
    )
    for event in RUNG_OF_EVENT
}
"""The milestones (by place in `MILESTONE_FIELDS`) each engagement event sets: its own, and for
opens and clicks the first open."""

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
    settled: bool = False
    """Whether it counts members of one of the settled statuses alone (`SETTLED`): in
    SQL, its test is then joined to theirs, which their partial index answers."""

    def counts(self, state: MemberState) -> bool:
        return True if self.test is None else bool(self.test(state))


ROLLUP_BUCKETS = (
    RollupBucket("sent", None),
    RollupBucket("opened", lambda m: m.rung >= LADDER.index(OPENED)),
    RollupBucket("clicked", lambda m: m.rung >= LADDER.index(CLICKED)),
    RollupBucket("responded", lambda m: m.has_responded),  # as its partial index says it
    RollupBucket("converted", lambda m: m.status == CONVERTED, settled=True),
    RollupBucket("bounced", lambda m: m.status == BOUNCED, settled=True),
    RollupBucket("unsubscribed", lambda m: m.status == UNSUBSCRIBED, settled=True),
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
