"""Campaign rollups: counters kept per campaign, and the metrics derived from them.

Counting a million members on every screen refresh is too slow, so each service that changes
members adjusts `CampaignStats` and `LabelStats` in the same transaction, once, through
`add_to_counters` (one lock order for every counter): enrollment adds to Sent and the default
label, ingest and status changes add the difference each member's change makes
(`rollup_buckets(after) - rollup_buckets(before)`, one off the old label and one on the new), and
removal and undo recount the campaign. `recount` is the from-scratch definition the tests hold
them to.
The buckets are `engagement.ROLLUP_BUCKETS`; `bucket_condition` reads them as SQL.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from decimal import Decimal

from peewee import Case, fn

from data.engagement import ROLLUP_BUCKETS, ROLLUP_FIELDS, RollupBucket
from data.models import (
    Campaign,
    CampaignMember,
    CampaignStats,
    LabelStats,
    MemberStatusLabel,
    Opportunity,
    settled,
)
from data.sql import is_sqlite
from data.vocab import OpportunityStage


def bucket_condition(bucket: RollupBucket):
    """The members a bucket counts, as a condition on `CampaignMember` (None: every member)."""
    if bucket.test is None:
        return None
    test = bucket.test(CampaignMember)
    return (test & settled()) if bucket.settled else test  # the equality first: it orders by id


def bucket_count(bucket: RollupBucket):
    """A bucket as an SQL aggregate over a group of members."""
    condition = bucket_condition(bucket)
    if condition is None:
        return fn.COUNT(CampaignMember.id)
    return fn.SUM(Case(None, [(condition, 1)], 0))


def recount(campaign_ids: Iterable[int]) -> None:
    """Recompute the counters of these campaigns from their members (their rollups and how many
    members hold each label), in campaign order (`add_to_counters`). Machine opens come from the
    event log, not from members: they stay as they are."""
    ids = sorted(set(campaign_ids))
    if not ids:
        return
    if not is_sqlite():  # wait for writers still adding to these counters, then count
        lock = CampaignStats.select(CampaignStats.campaign).where(CampaignStats.campaign.in_(ids))
        lock.order_by(CampaignStats.campaign).for_update("FOR NO KEY UPDATE").execute()  # type: ignore[arg-type]
    M, L = CampaignMember, MemberStatusLabel
    counted = M.select(M.campaign, *[bucket_count(b) for b in ROLLUP_BUCKETS])
    rows = {
        row[0]: row[1:] for row in counted.where(M.campaign.in_(ids)).group_by(M.campaign).tuples()
    }
    held = dict(
        M.select(M.label, fn.COUNT(M.id))
        .where(M.campaign.in_(ids) & M.label.is_null(False))
        .group_by(M.label)
        .tuples()
    )
    labels = L.select(L.campaign, L.id).where(L.campaign.in_(ids)).order_by(L.campaign, L.id)
    none = (0,) * len(ROLLUP_FIELDS)
    data = [{"campaign": cid, **dict(zip(ROLLUP_FIELDS, rows.get(cid, none)))} for cid in ids]
    (
        CampaignStats.insert_many(data)
        .on_conflict(
            conflict_target=[CampaignStats.campaign],
            preserve=[getattr(CampaignStats, f) for f in ROLLUP_FIELDS],
        )
        .execute()
    )
    counts = [
        {"label": lid, "campaign": cid, "members": held.get(lid, 0)} for cid, lid in labels.tuples()
    ]
    if counts:
        (
            LabelStats.insert_many(counts)
            .on_conflict(conflict_target=[LabelStats.label], preserve=[LabelStats.members])
            .execute()
        )


def add_to_counters(
    rollups: Mapping[int, Sequence[int]] | None = None,
    labels: Mapping[tuple[int, int], int] | None = None,
    machine_opens: Mapping[int, int] | None = None,
) -> None:
    """Add what a transaction changed to the counters, inside it: per campaign, differences
    to its rollups (in `ROLLUP_FIELDS` order) and machine opens, and per (campaign, label) to
    how many members hold the label.

    One call per transaction, with everything it changed: every counter is written in one
    order, by campaign, its rollups row first (it also stands for the campaign's label rows:
    taken even when only labels changed), then its labels by id. Two writers therefore lock
    the counters they share in the same order, whatever they changed, and cannot deadlock on
    them. A counter row found missing is recounted from the members in its place."""
    rollups, labels, machine_opens = rollups or {}, labels or {}, machine_opens or {}
    by_campaign: dict[int, list[tuple[int, int]]] = {}
    for (cid, lid), amount in labels.items():
        if amount:
            by_campaign.setdefault(cid, []).append((lid, amount))
    changed = {cid for cid, delta in rollups.items() if any(delta)}
    changed |= {cid for cid, amount in machine_opens.items() if amount}
    for cid in sorted(changed | set(by_campaign)):
        S = CampaignStats
        updates = {
            getattr(S, field): getattr(S, field) + amount
            for field, amount in zip(ROLLUP_FIELDS, rollups.get(cid, ()))
            if amount
        }
        if machine_opens.get(cid):
            updates[S.machine_opens] = S.machine_opens + machine_opens[cid]
        if updates:
            found = S.update(updates).where(S.campaign == cid).execute()
        elif is_sqlite():  # the one writer: nothing to wait for
            found = 1
        else:
            lock = S.select(S.campaign).where(S.campaign == cid).for_update("FOR NO KEY UPDATE")  # type: ignore[arg-type]
            found = len(lock.execute())
        if not found:  # a campaign without its counters row: made from its members
            recount([cid])
            if machine_opens.get(cid):
                S.update(machine_opens=S.machine_opens + machine_opens[cid]).where(
                    S.campaign == cid
                ).execute()
            continue
        for lid, amount in sorted(by_campaign.get(cid, ())):
            found = (
                LabelStats.update(members=LabelStats.members + amount)
                .where(LabelStats.label == lid)
                .execute()
            )
            if not found:
                recount([cid])
                break


@dataclass
class Metrics:
    campaign_id: int
    campaign: str
    type: str
    status: str
    sent: int
    opened: int
    clicked: int
    responded: int
    converted: int
    bounced: int
    unsubscribed: int
    machine_opens: int
    """Opens a machine made (privacy proxies, scanners): apart, so `opened` counts people."""
    delivered: int
    open_rate: float
    click_rate: float
    response_rate: float
    conversion_rate: float
    won_amount: float
    actual_cost: float
    cost_per_response: float | None

    def as_dict(self) -> dict:
        return asdict(self)


def _metrics(campaign: Campaign, counts: dict, won: Decimal | float | None) -> Metrics:
    sent = counts["sent"]

    def rate(n: int) -> float:
        return n / sent if sent else 0.0

    cost = float(campaign.actual_cost or 0)
    return Metrics(
        campaign_id=campaign.id,
        campaign=campaign.name,
        type=campaign.type,
        status=campaign.status,
        **counts,
        delivered=sent - counts["bounced"],
        open_rate=rate(counts["opened"]),
        click_rate=rate(counts["clicked"]),
        response_rate=rate(counts["responded"]),
        conversion_rate=rate(counts["converted"]),
        won_amount=float(won or 0),
        actual_cost=cost,
        cost_per_response=(cost / counts["responded"]) if counts["responded"] else None,
    )


def _won_amounts(campaign_ids: list[int] | None) -> dict[int, float]:
    Opp = Opportunity
    query = (
        Opp.select(Opp.campaign_source, fn.SUM(Opp.amount))
        .where(Opp.campaign_source.is_null(False) & (Opp.stage == OpportunityStage.CLOSED_WON))
        .group_by(Opp.campaign_source)
    )
    if campaign_ids is not None:
        query = query.where(Opp.campaign_source.in_(campaign_ids))
    return {cid: amount for cid, amount in query.tuples()}


def all_metrics(campaigns: Iterable[Campaign] | None = None) -> list[Metrics]:
    """Rollups of every campaign (or of those given), from the counters: one query each kind."""
    if campaigns is None:
        campaigns = list(Campaign.select().order_by(Campaign.name))
    else:
        campaigns = list(campaigns)
    ids = [c.id for c in campaigns]
    fields = (*ROLLUP_FIELDS, "machine_opens")
    counters = {
        row[0]: dict(zip(fields, row[1:]))
        for row in CampaignStats.select(
            CampaignStats.campaign, *[getattr(CampaignStats, f) for f in fields]
        ).tuples()
    }
    won = _won_amounts(None if len(ids) > 50 else ids)
    empty = dict.fromkeys(fields, 0)
    return [_metrics(c, counters.get(c.id, empty), won.get(c.id)) for c in campaigns]


def campaign_metrics(campaign: Campaign) -> Metrics:
    return all_metrics([campaign])[0]
