"""Raising the status of many members at once (the member list's marked rows).

One transaction, one journal entry of action "status", and a fixed number of statements
whatever the number of members: the members are locked, then grouped by what the status rule
reads of them (rung, exits, label, which milestones are set). The rule itself,
`engagement.manual_change`, the same as for one member, decides once per group; for a group it
raises, the records are kept for undo, one INSERT … SELECT logs a manual status event for each
member and one UPDATE raises them. A member the rule would lower (or that is there already) is
left as it is, and not kept.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from peewee import SQL, Value, fn

from data import journal
from data.engagement import (
    DERIVED_FIELDS,
    MILESTONE_FIELDS,
    STATE_FIELDS,
    STATUS_EVENT,
    MemberState,
    StatusChangeRefused,
    manual_change,
    rollup_buckets,
)
from data.enrollment import lock_campaign
from data.errors import ValidationError
from data.labels import ladders
from data.members import Marked
from data.models import Campaign, CampaignMember, EngagementEvent, utcnow
from data.rollups import add_to_counters
from data.sql import database, is_sqlite
from data.vocab import EventOutcome, JournalAction

MANUAL = "manual"
"""The event log's source for a status change made by a user (as for one member)."""

_SET = datetime.min
"""Stands for a milestone that is already set: earlier than any change, so the rule keeps it."""


@dataclass
class StatusRaise:
    """What raising the marked members did."""

    status: str
    raised: int = 0
    unchanged: int = 0
    """Marked members already at the status or past it (a status is never lowered)."""

    def summary(self) -> str:
        text = f"raised {self.raised:,} to {self.status}"
        if self.unchanged:
            text += f", {self.unchanged:,} unchanged (already at or past it)"
        return text


def _column(name: str):
    return CampaignMember._meta.combined[name]


def _groups(chosen) -> list[tuple[MemberState, int]]:
    """The chosen members grouped by what the rule reads: a representative state and a count."""
    M = CampaignMember
    plain = [_column(name) for name in STATE_FIELDS if name not in MILESTONE_FIELDS]
    flags = [_column(name).is_null() for name in MILESTONE_FIELDS]
    query = (
        M.select(*plain, *flags, fn.COUNT(M.id))
        .where(chosen)
        .group_by(*[SQL(str(i)) for i in range(1, len(plain) + len(flags) + 1)])
    )
    groups = []
    for row in query.tuples():
        values = dict(zip([f.name for f in plain], row))
        values["label_id"] = values.pop("label")
        for name, empty in zip(MILESTONE_FIELDS, row[len(plain) : -1]):
            values[name] = None if empty else _SET
        values["bounced"], values["unsubscribed"] = (
            bool(values["bounced"]),
            bool(values["unsubscribed"]),
        )
        groups.append((MemberState(**values), row[-1]))
    return groups


def _in_group(state: MemberState):
    """The condition that picks the members a representative state stands for."""
    M = CampaignMember
    condition = (M.rung == state.rung) & (M.bounced == state.bounced)
    condition &= M.unsubscribed == state.unsubscribed
    condition &= M.label.is_null() if state.label_id is None else (M.label == state.label_id)
    for name in MILESTONE_FIELDS:
        column = _column(name)
        condition &= column.is_null() if getattr(state, name) is None else column.is_null(False)
    return condition


def _changes(before: MemberState, after: MemberState) -> dict:
    """The columns the raise writes: the state fields it changed and the derived ones."""
    values = {
        _column(name): getattr(after, name)
        for name in STATE_FIELDS
        if getattr(after, name) != getattr(before, name)
    }
    values.update({_column(name): getattr(after, name) for name in DERIVED_FIELDS})
    return values


def _lock(chosen) -> None:
    """Lock the chosen members in id order (as `ingest.applying.lock_members` does) so that no
    event changes them between the grouping and the update; SQLite's one writer holds them."""
    if is_sqlite():
        return
    M = CampaignMember
    sql, params = M.select(M.id).where(chosen).order_by(M.id).for_update().sql()
    database.execute_sql(f"SELECT COUNT(*) FROM ({sql}) AS locked", params)


def raise_marked(
    campaign: Campaign, marked: Marked, status: str, now: datetime | None = None
) -> StatusRaise:
    """Raise the marked members of `campaign` to `status`, one of its labels (never lowering
    anyone); undone by the journal entry's kept records. ValidationError for an unknown label."""
    now = now or utcnow()
    M = CampaignMember
    result = StatusRaise(status)
    with journal.record(JournalAction.STATUS, campaign, now) as change:
        lock_campaign(campaign.id)
        ladder = ladders([campaign.id], lock=True)[campaign.id]
        label = ladder.find(status)
        if label is None:
            raise ValidationError(
                f"{status} is not a status of this campaign; its statuses are {ladder.names}"
            )
        chosen = (M.campaign == campaign.id) & marked.condition()
        _lock(chosen)  # from here on no member leaves its group
        delta = [0] * len(rollup_buckets(MemberState()))
        labels: dict[tuple[int, int], int] = {}
        extra = json.dumps({"status": status}, ensure_ascii=False)
        for before, count in _groups(chosen):
            try:
                after = manual_change(before, status, now, ladder)
            except StatusChangeRefused:
                result.unchanged += count
                continue
            group = chosen & _in_group(before)
            change.keep_records(group)
            _log(group, campaign, now, extra)
            raised = M.update(_changes(before, after)).where(group).execute()
            result.raised += raised
            was, will = rollup_buckets(before), rollup_buckets(after)
            delta = [d + raised * (b - a) for d, a, b in zip(delta, was, will)]
            for held, amount in ((before.label_id, -raised), (after.label_id, raised)):
                if held is not None:
                    labels[campaign.id, held] = labels.get((campaign.id, held), 0) + amount
        add_to_counters({campaign.id: delta}, labels)
        change.done(result.raised, result.summary())
    return result


def _log(group, campaign: Campaign, now: datetime, extra: str) -> None:
    """One manual status event in the log for each member of the group, as for one member."""
    E, M = EngagementEvent, CampaignMember
    columns = {
        E.type: Value(STATUS_EVENT.value),
        E.campaign: Value(campaign.id),
        E.campaign_ref: Value(str(campaign.id)),
        E.email: Value(""),
        E.at: Value(now),
        E.member: M.id,
        E.outcome: Value(EventOutcome.APPLIED.value),
        E.reason: Value(""),
        E.extra: Value(extra),
        E.source: Value(MANUAL),
        E.received_at: Value(now),
        E.received_line: Value(""),
    }
    E.insert_from(M.select(*columns.values()).where(group), list(columns)).execute()
