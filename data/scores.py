"""Keeping each person's engagement score current as events apply (the rule is `score`).

One statement per batch, run by the database: each address's points are added to what is kept
(`INSERT … ON CONFLICT DO UPDATE`), so two writers never read, decide and overwrite."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from peewee import JOIN, fn

from data.models import CampaignMember, Contact, EngagementScore, Lead
from data.sql import chunked, database, is_sqlite


@dataclass(slots=True)
class Touch:
    """What one batch adds to one address's score."""

    points: float = 0.0
    stopped: bool = False
    last_at: datetime | None = None
    last_type: str = ""
    """The last touch's type, or a status event's label ("Attended")."""
    last_content: str | None = None
    last_campaign: int | None = None

    def add(
        self,
        points: float,
        at: datetime,
        event_type: str,
        content: str | None,
        campaign: int | None,
        *,
        touch: bool,
    ) -> None:
        """Add an event's points; an event that is engagement (`touch`) may be the last one."""
        self.points += points
        if touch and (
            self.last_at is None or (at, content or "") > (self.last_at, self.last_content or "")
        ):
            self.last_at, self.last_type = at, event_type
            self.last_content, self.last_campaign = content, campaign


def _upsert_sql() -> str:
    table = EngagementScore._meta.table_name
    p = database.param
    newer = (
        f"excluded.last_at IS NOT NULL AND ({table}.last_at IS NULL "
        f"OR excluded.last_at > {table}.last_at)"
    )
    latest = ", ".join(
        f"{column} = CASE WHEN {newer} THEN excluded.{column} ELSE {table}.{column} END"
        for column in ("last_type", "last_content", "last_campaign", "last_at")
    )
    return (
        f"INSERT INTO {table} (email, points, stopped, last_at, last_type, last_content, "
        f"last_campaign) VALUES ({', '.join([p] * 7)}) ON CONFLICT (email) DO UPDATE SET "
        f"points = CASE WHEN {table}.stopped OR excluded.stopped THEN 0 "
        f"ELSE {table}.points + excluded.points END, "
        f"stopped = ({table}.stopped OR excluded.stopped), {latest}"
    )


def add_to_scores(touches: dict[str, Touch]) -> None:
    """Add each address's touch to its kept score, inside the caller's transaction."""
    if not touches:
        return
    sqlite = is_sqlite()
    rows = []
    for email, t in sorted(touches.items()):  # in key order: two writers cannot deadlock
        at = t.last_at.isoformat(" ") if sqlite and t.last_at is not None else t.last_at
        points = 0.0 if t.stopped else t.points
        rows.append((email, points, t.stopped, at, t.last_type, t.last_content, t.last_campaign))
    database.cursor().executemany(_upsert_sql(), rows)


def members_addresses(member_ids: set[int]) -> dict[int, str]:
    """Each member's address (its lead's or contact's email)."""
    M = CampaignMember
    found: dict[int, str] = {}
    for chunk in chunked(sorted(member_ids), 5_000):
        query = (
            M.select(M.id, fn.COALESCE(Lead.email, Contact.email))
            .join_from(M, Lead, JOIN.LEFT_OUTER)
            .join_from(M, Contact, JOIN.LEFT_OUTER)
            .where(M.id.in_(chunk))
        )
        found.update(query.tuples())
    return found
