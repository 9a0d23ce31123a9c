"""Reading the event log: a member's engagement timeline, and the rejected events to repair."""

from __future__ import annotations

import json
from datetime import datetime
from typing import NamedTuple

from data.content import CONTENT_KEYS, content_of
from data.labels import status_named
from data.models import CampaignMember, EngagementEvent
from data.vocab import EventOutcome


class LoggedEvent(NamedTuple):
    id: int
    event_id: str | None
    type: str
    campaign_ref: str
    email: str
    at: datetime | None
    outcome: str
    reason: str
    source: str
    extra: str
    received_at: datetime
    raw: str

    @property
    def label(self) -> str:
        """The label a status event named (empty for any other event)."""
        return status_named(self.extra) if self.type == "status" else ""

    def in_words(self) -> str:
        """The event's extra keys for a person to read: its content first (`content`), then
        the other keys as "key value", never as JSON."""
        try:
            keys = json.loads(self.extra) if self.extra else {}
        except ValueError:
            return self.extra
        if not isinstance(keys, dict):
            return self.extra
        content = content_of(keys)
        words = [f"‘{content}’"] if content else []
        skipped = {*CONTENT_KEYS, "status"} if content else {"status"}
        words += [
            f"{key} {value}"
            for key, value in keys.items()
            if key not in skipped and isinstance(value, (str, int, float, bool))
        ]
        return " · ".join(words)

    def original(self) -> dict | None:
        """The event as it was sent (to fix and send again); None for a line that was not a
        JSON object (its text is `raw`)."""
        if self.raw:
            try:
                record = json.loads(self.raw)
            except ValueError:
                return None
            return record if isinstance(record, dict) else None
        if self.reason.startswith("malformed"):
            return None
        record = {"type": self.type, "campaign": self.campaign_ref, "email": self.email}
        if self.event_id:
            record = {"id": self.event_id, **record}
        if self.at is not None:
            record["at"] = self.at.isoformat() + "Z"
        if self.extra:
            try:
                extra = json.loads(self.extra)
            except ValueError:
                extra = {}
            if isinstance(extra, dict):
                record.update(extra)
        return record

    def as_sent(self) -> str:
        """The event as one line to send again: the line as received when it was kept, else
        the event's JSON object."""
        if self.raw:
            return self.raw
        original = self.original()
        if original is not None:
            return json.dumps(original, ensure_ascii=False)
        return self.raw or self.extra

    def as_dict(self) -> dict:
        data = {
            "log_id": self.id,
            "received_at": self.received_at.isoformat(timespec="seconds"),
            "source": self.source,
            "outcome": self.outcome,
            "reason": self.reason,
            "event": self.original(),
        }
        if data["event"] is None:
            data["raw"] = self.raw or self.extra
        return data


_FIELDS = (
    EngagementEvent.id,
    EngagementEvent.event_id,
    EngagementEvent.type,
    EngagementEvent.campaign_ref,
    EngagementEvent.email,
    EngagementEvent.at,
    EngagementEvent.outcome,
    EngagementEvent.reason,
    EngagementEvent.source,
    EngagementEvent.extra,
    EngagementEvent.received_at,
    EngagementEvent.received_line,
)


def member_timeline(member: CampaignMember | int) -> list[LoggedEvent]:
    """Every event recorded for a member, oldest first, each with what it did."""
    member_id = member if isinstance(member, int) else member.id
    E = EngagementEvent
    query = E.select(*_FIELDS).where(E.member == member_id).order_by(E.at, E.id)
    return [LoggedEvent(*row) for row in query.tuples()]


def rejected_events(
    after: int | None = None, limit: int = 200, offset: int = 0
) -> list[LoggedEvent]:
    """Rejected events, oldest first, a page at a time by log id (`offset`, a scan, only for a
    jump far from any row at hand)."""
    E = EngagementEvent
    query = E.select(*_FIELDS).where(E.outcome == EventOutcome.REJECTED)
    if after is not None:
        query = query.where(E.id > after)
    query = query.order_by(E.id).limit(limit)
    return [LoggedEvent(*row) for row in (query.offset(offset) if offset else query).tuples()]


def rejected_count() -> int:
    return EngagementEvent.select().where(EngagementEvent.outcome == EventOutcome.REJECTED).count()
