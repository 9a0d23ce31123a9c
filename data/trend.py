"""A campaign's engagement over time: per day (or per week), the people who opened, clicked and
responded then, counted from the event log in one set-based query (`TREND_INDEX`)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta

from peewee import SQL, Case, NodeList, fn

from data.models import TREND_OUTCOMES, Campaign, EngagementEvent
from data.sql import day_of, week_of
from data.vocab import EventType

BY_DAY, BY_WEEK = "day", "week"
BUCKETS = (BY_DAY, BY_WEEK)
"""How a trend is bucketed: `--by day|week`."""

WEEKLY_AFTER_DAYS = 90
"""A campaign spanning more days than this is shown per week unless a bucket is asked for."""

SERIES = {
    "opened": (EventType.OPEN,),
    "clicked": (EventType.CLICK,),
    "responded": (EventType.RESPOND, EventType.CONVERT),
}
"""Each line of the trend and the events that count for it: a conversion is a response too."""


@dataclass(frozen=True)
class TrendPoint:
    date: date
    """The bucket's first day (a Monday for weeks)."""
    opened: int
    clicked: int
    responded: int

    def as_dict(self) -> dict:
        data = asdict(self)
        data["date"] = self.date.isoformat()
        return data


@dataclass(frozen=True)
class Trend:
    by: str
    points: list[TrendPoint]

    def series(self, name: str) -> list[int]:
        return [getattr(point, name) for point in self.points]


def _as_date(value) -> date:
    """A day read back from SQL (a date, a timestamp, or ISO text, as the backend gives it)."""
    if isinstance(value, datetime):
        return value.date()
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def _events(campaign_id: int):
    E = EngagementEvent
    return E.select().where((E.campaign == campaign_id) & SQL(TREND_OUTCOMES) & E.at.is_null(False))


def default_bucket(campaign: Campaign) -> str:
    """Per week when the campaign (its dates, else its events) spans more than ~90 days."""
    E = EngagementEvent
    # MIN and MAX apart: each alone is one step along the trend index, together a scan
    first = _events(campaign.id).select(fn.MIN(E.at)).scalar()
    last = _events(campaign.id).select(fn.MAX(E.at)).scalar()
    starts = [d for d in (campaign.start_date, first and _as_date(first)) if d]
    ends = [d for d in (campaign.end_date, last and _as_date(last)) if d]
    if not starts or not ends:
        return BY_DAY
    return BY_WEEK if (max(ends) - min(starts)).days > WEEKLY_AFTER_DAYS else BY_DAY


def campaign_trend(campaign: Campaign, by: str | None = None) -> Trend:
    """People opening, clicking and responding per bucket, from the first bucket with an event
    to the last (buckets without any are zeros, so a chart keeps its time axis)."""
    by = by or default_bucket(campaign)
    if by not in BUCKETS:
        raise ValueError(f"unknown bucket {by!r}")
    E = EngagementEvent
    bucket = (day_of if by == BY_DAY else week_of)(E.at)
    counts = [
        fn.COUNT(NodeList((SQL("DISTINCT"), Case(None, [(E.type.in_(types), E.member)], None))))
        for types in SERIES.values()
    ]
    rows = (
        _events(campaign.id)
        .select(bucket.alias("bucket"), *counts)
        .where(E.type.in_([t for types in SERIES.values() for t in types]))
        .group_by(SQL("1"))
        .order_by(SQL("1"))
        .tuples()
    )
    found = {_as_date(day): tuple(n or 0 for n in numbers) for day, *numbers in rows}
    if not found:
        return Trend(by, [])
    step = timedelta(days=1 if by == BY_DAY else 7)
    points, day = [], min(found)
    while day <= max(found):
        points.append(TrendPoint(day, *found.get(day, (0, 0, 0))))
        day += step
    return Trend(by, points)
