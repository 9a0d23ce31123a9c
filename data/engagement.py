"""The member status lattice: the one place that says what a set of engagement events means.

A member record is a pure function of the set of events applied to it. Every field is merged with
an operation that is commutative, associative and idempotent (max of the rung, min of each
timestamp, or of each exit flag), so order and repetition cannot change the result.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

SENT, OPENED, CLICKED, RESPONDED, CONVERTED = "Sent", "Opened", "Clicked", "Responded", "Converted"
BOUNCED, UNSUBSCRIBED = "Bounced", "Unsubscribed"

LADDER = (SENT, OPENED, CLICKED, RESPONDED, CONVERTED)
"""The engagement ladder, lowest rung first; a member only ever climbs it."""

STATUSES = (*LADDER, BOUNCED, UNSUBSCRIBED)
"""All seven member statuses, in the order they are listed to users."""

EXITS = (BOUNCED, UNSUBSCRIBED)

EVENT_TYPES = ("open", "click", "respond", "convert", "bounce", "unsubscribe")

RUNG_OF_EVENT = {"open": 1, "click": 2, "respond": 3, "convert": 4}
"""The rung an engagement event raises a member to."""

EVENT_FOR_STATUS = {
    OPENED: "open",
    CLICKED: "click",
    RESPONDED: "respond",
    CONVERTED: "convert",
    BOUNCED: "bounce",
    UNSUBSCRIBED: "unsubscribe",
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
    def status(self) -> str:
        return displayed_status(self.rung, self.bounced, self.unsubscribed)

    @property
    def has_responded(self) -> bool:
        return self.rung >= LADDER.index(RESPONDED)

    def apply(self, event_type: str, at: datetime) -> MemberState:
        """The record after one more event; the same record when the event adds nothing."""
        if event_type == "bounce":
            return self if self.bounced else replace(self, bounced=True)
        if event_type == "unsubscribe":
            return self if self.unsubscribed else replace(self, unsubscribed=True)
        changes: dict = {}
        rung = RUNG_OF_EVENT[event_type]
        if rung > self.rung:
            changes["rung"] = rung
        if event_type in ("open", "click"):
            earliest = _earliest(self.first_opened_at, at)
            if earliest != self.first_opened_at:
                changes["first_opened_at"] = earliest
        milestone = {
            "click": "first_clicked_at",
            "respond": "response_date",
            "convert": "converted_at",
        }.get(event_type)
        if milestone:
            current = getattr(self, milestone)
            earliest = _earliest(current, at)
            if earliest != current:
                changes[milestone] = earliest
        return replace(self, **changes) if changes else self


def displayed_status(rung: int, bounced: bool, unsubscribed: bool) -> str:
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


def state_from_events(events) -> MemberState:
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


ROLLUP_FIELDS = ("sent", "opened", "clicked", "responded", "converted", "bounced", "unsubscribed")
"""The counters kept for every campaign, in the order `rollup_buckets` returns them."""


def rollup_buckets(state: MemberState | None) -> tuple[int, ...]:
    """Which rollup counters one member adds to (all zero for no member)."""
    if state is None:
        return (0,) * len(ROLLUP_FIELDS)
    status = state.status
    return (
        1,
        int(state.rung >= 1),
        int(state.rung >= 2),
        int(state.rung >= 3),
        int(state.rung >= 4),
        int(status == BOUNCED),
        int(status == UNSUBSCRIBED),
    )
