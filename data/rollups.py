"""Campaign rollups: counters kept per campaign, and the metrics derived from them.

Counting a million members on every screen refresh is too slow, so each service that changes
members adjusts `CampaignStats` in the same transaction: enrollment adds to Sent, ingest adds the
difference each member's change makes (`rollup_buckets(after) - rollup_buckets(before)`), and
removal recounts the campaign. `recount` is the from-scratch definition the tests hold them to.
The buckets are `engagement.ROLLUP_BUCKETS`; `bucket_condition` reads them as SQL.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from decimal import Decimal

from peewee import Case, fn

from data.engagement import ROLLUP_BUCKETS, ROLLUP_FIELDS, RollupBucket
from data.models import Campaign, CampaignMember, CampaignStats, Opportunity, settled
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
    """Recompute the counters of these campaigns from their members."""
    ids = list(campaign_ids)
    if not ids:
        return
    M = CampaignMember
    counted = M.select(M.campaign, *[bucket_count(b) for b in ROLLUP_BUCKETS])
    rows = {
        row[0]: row[1:] for row in counted.where(M.campaign.in_(ids)).group_by(M.campaign).tuples()
    }
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


def add_to_counters(deltas: Mapping[int, Sequence[int]]) -> None:
    """Add per-campaign differences to the counters (inside the caller's transaction), in
    campaign order, so two writers lock the counters in the same order."""
    for campaign_id, delta in sorted(deltas.items()):
        if not any(delta):
            continue
        updates = {
            getattr(CampaignStats, field): getattr(CampaignStats, field) + amount
            for field, amount in zip(ROLLUP_FIELDS, delta)
            if amount
        }
        changed = (
            CampaignStats.update(updates).where(CampaignStats.campaign == campaign_id).execute()
        )
        if not changed:
            recount([campaign_id])


def add_machine_opens(counts: Mapping[int, int]) -> None:
    """Count machine opens per campaign (inside the caller's transaction). They come from the
    event log, not from members, so `recount` leaves them as they are."""
    for campaign_id, amount in sorted(counts.items()):
        for _ in range(2):
            changed = (
                CampaignStats.update(machine_opens=CampaignStats.machine_opens + amount)
                .where(CampaignStats.campaign == campaign_id)
                .execute()
            )
            if changed:
                break
            recount([campaign_id])  # the campaign's counters row, made from its members


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
