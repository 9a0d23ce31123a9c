"""The engagement score: 0–100 per person, from their events, with a half-life (PRODUCT §8).

The rule, written once (the README states it):
- each event a person made weighs `WEIGHTS[kind]`: a response or an attendance most, then a
  click, then an open; machine opens, duplicates and rejected events count nothing;
- an event's weight halves every `HALF_LIFE_DAYS`; an event over `MAX_AGE_DAYS` old counts
  nothing (it arrives too late to be added, and by then has halved twelve times anyway);
- the score is the sum, rounded, at most 100; a bounce or an unsubscribe makes it 0 for good.

It is kept per address as events apply (`add_to_scores`, in the ingest's transaction): `points`
holds the weights grown from `EPOCH` to each event's time, so adding an event is one addition
(in any order, by any writer, done by the database) and the score now is `points` decayed from
the epoch to now (`score_now`). `score_of` computes the same from a list of events; the tests
hold the two together.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from data.engagement import CLICKED, LADDER, OPENED, RESPONDED
from data.vocab import EventType

HALF_LIFE_DAYS = 30
"""An event's weight halves every 30 days."""

MAX_AGE_DAYS = 365
"""Events older than a year count nothing."""

MAX_SCORE = 100

WEIGHTS: dict[str, float] = {
    EventType.OPEN: 3.0,
    EventType.CLICK: 10.0,
    EventType.RESPOND: 30.0,
    EventType.CONVERT: 30.0,
}
"""What one event of each kind weighs when new. A status event weighs as its label's rung
(an "Attended" label counting as Responded weighs as a response)."""

STOPPING = frozenset((EventType.BOUNCE, EventType.UNSUBSCRIBE))
"""Events that make the score 0 for good."""

EPOCH = datetime(2020, 1, 1)
"""The fixed time `points` are grown from (any fixed time would do)."""

_HALF_LIFE = timedelta(days=HALF_LIFE_DAYS).total_seconds()
_RUNG_EVENT = {
    LADDER.index(OPENED): EventType.OPEN,
    LADDER.index(CLICKED): EventType.CLICK,
    LADDER.index(RESPONDED): EventType.RESPOND,
}


def counts(event_type: str, outcome: str) -> bool:
    """Whether a logged event counts: a person converts once in a campaign, so a conversion
    logged again (unchanged) adds nothing; a second click or response does count."""
    return not (event_type == EventType.CONVERT and outcome == "unchanged")


def weight(event_type: str, label_rung: int | None = None) -> float:
    """What an event weighs when new (0 for one that is not engagement)."""
    if event_type == EventType.STATUS:
        if label_rung is None:
            return 0.0
        event = _RUNG_EVENT.get(min(label_rung, LADDER.index(RESPONDED)))
        return WEIGHTS[event] if event else 0.0
    return WEIGHTS.get(event_type, 0.0)


def _growth(at: datetime) -> float:
    return 2.0 ** ((at - EPOCH).total_seconds() / _HALF_LIFE)


def points(event_weight: float, at: datetime, now: datetime) -> float:
    """An event's contribution to the kept `points` (nothing when it is over a year old)."""
    if event_weight <= 0 or now - at > timedelta(days=MAX_AGE_DAYS):
        return 0.0
    return event_weight * _growth(min(at, now))


def decayed(event_weight: float, at: datetime, now: datetime) -> float:
    """What one event gives to the score at `now` (the person screen's explanation)."""
    if event_weight <= 0 or now - at > timedelta(days=MAX_AGE_DAYS):
        return 0.0
    return event_weight * 2.0 ** (-max((now - at).total_seconds(), 0.0) / _HALF_LIFE)


def score_now(kept_points: float, stopped: bool, now: datetime) -> int:
    """The score at `now` from the kept points: 0–100."""
    if stopped or kept_points <= 0:
        return 0
    return min(MAX_SCORE, round(kept_points / _growth(now)))


@dataclass(frozen=True, slots=True)
class Scored:
    """One event as the score reads it."""

    type: str
    at: datetime
    label_rung: int | None = None
    machine: bool = False


def score_of(events: Iterable[Scored], now: datetime) -> int:
    """The score of a person with these events (machine opens count nothing)."""
    total = 0.0
    for event in events:
        if event.type in STOPPING:
            return 0
        if not event.machine:
            total += decayed(weight(event.type, event.label_rung), event.at, now)
    return min(MAX_SCORE, round(total))
