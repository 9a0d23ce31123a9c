"""Campaign rollups: counters kept per campaign, and the metrics derived from them.

Counting a million members on every screen refresh is too slow, so each service that changes
members adjusts `CampaignStats` and `LabelStats` in the same transaction through
`add_to_counters`, all written at once in one lock order (`CounterChanges.write`; a transaction
of several steps collects them in `counters_written_once`): enrollment adds to Sent and the default
label, ingest and status changes add the difference each member's change makes
(`rollup_buckets(after) - rollup_buckets(before)`, one off the old label and one on the new), and
removal and undo recount the campaign. `recount` is the from-scratch definition the tests hold
them to.
The buckets are `engagement.ROLLUP_BUCKETS`; `bucket_condition` reads them as SQL.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import asdict, dataclass, field
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


@dataclass
class CounterChanges:
    """What one transaction changes in the counters, written at once by `write`."""

    rollups: dict[int, list[int]] = field(default_factory=dict)
    """Per campaign, differences to its rollups (in `ROLLUP_FIELDS` order)."""
    labels: dict[tuple[int, int], int] = field(default_factory=dict)
    """Per (campaign, label), the difference in members holding it."""
    machine_opens: dict[int, int] = field(default_factory=dict)
    recounts: set[int] = field(default_factory=set)
    """Campaigns counted afresh from their members (their differences are in the count)."""

    def add(self, rollups, labels, machine_opens) -> None:
        for cid, delta in rollups.items():
            kept = self.rollups.setdefault(cid, [0] * len(ROLLUP_FIELDS))
            self.rollups[cid] = [a + b for a, b in zip(kept, delta)]
        for key, amount in labels.items():
            self.labels[key] = self.labels.get(key, 0) + amount
        for cid, amount in machine_opens.items():
            self.machine_opens[cid] = self.machine_opens.get(cid, 0) + amount

    def write(self) -> None:
        """Every counter changed, in one order: by campaign, its rollups row first (it also
        stands for the campaign's label rows: taken even when only labels changed), then its
        labels by id. Two writers lock the counters they share in the same order, whatever
        they changed, and cannot deadlock on them. A missing counter row is recounted."""
        by_campaign: dict[int, list[tuple[int, int]]] = {}
        for (cid, lid), amount in self.labels.items():
            if amount:
                by_campaign.setdefault(cid, []).append((lid, amount))
        changed = {cid for cid, delta in self.rollups.items() if any(delta)}
        changed |= {cid for cid, amount in self.machine_opens.items() if amount}
        S = CampaignStats
        for cid in sorted(changed | set(by_campaign) | self.recounts):
            machine = self.machine_opens.get(cid, 0)
            if cid in self.recounts or not self._add_to_rollups(cid):
                _recount(cid)
                if machine:
                    S.update(machine_opens=S.machine_opens + machine).where(
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
                    _recount(cid)
                    break

    def _add_to_rollups(self, cid: int) -> bool:
        """Add the campaign's differences to its rollups row, or lock the row; False when the
        campaign has none."""
        S = CampaignStats
        updates = {
            getattr(S, field): getattr(S, field) + amount
            for field, amount in zip(ROLLUP_FIELDS, self.rollups.get(cid, ()))
            if amount
        }
        if self.machine_opens.get(cid):
            updates[S.machine_opens] = S.machine_opens + self.machine_opens[cid]
        if updates:
            return bool(S.update(updates).where(S.campaign == cid).execute())
        if is_sqlite():  # the one writer: nothing to wait for
            return bool(S.select(S.campaign).where(S.campaign == cid).exists())
        lock = S.select(S.campaign).where(S.campaign == cid).for_update("FOR NO KEY UPDATE")  # type: ignore[arg-type]
        return len(lock.execute()) > 0


_collecting: ContextVar[CounterChanges | None] = ContextVar("counter_changes", default=None)


@contextmanager
def counters_written_once() -> Iterator[None]:
    """Collect the counter changes of the work inside (all of one transaction: put it inside
    the transaction) and write them once as it ends, in one order (`CounterChanges.write`).
    Work that changes the counters of several campaigns in several steps (a receiver's group
    of requests from several sources, an import's batches) runs inside one. Nested: the
    outermost writes. Not written when the work fails."""
    if _collecting.get() is not None:
        yield
        return
    changes = CounterChanges()
    token = _collecting.set(changes)
    try:
        yield
    finally:
        _collecting.reset(token)
    changes.write()


def add_to_counters(
    rollups: Mapping[int, Sequence[int]] | None = None,
    labels: Mapping[tuple[int, int], int] | None = None,
    machine_opens: Mapping[int, int] | None = None,
) -> None:
    """Add what the caller's transaction changed to the counters: per campaign, differences
    to its rollups (in `ROLLUP_FIELDS` order) and machine opens; per (campaign, label), to how
    many members hold the label. Collected until the end of `counters_written_once` when one
    is open, else written now (`CounterChanges.write`: one order for every counter)."""
    collecting = _collecting.get()
    changes = collecting if collecting is not None else CounterChanges()
    changes.add(rollups or {}, labels or {}, machine_opens or {})
    if collecting is None:
        changes.write()


def recount(campaign_ids: Iterable[int]) -> None:
    """Recompute the counters of these campaigns from their members (their rollups and how many
    members hold each label): at the end of `counters_written_once` when one is open, else
    now. Machine opens come from the event log, not from members: they stay as they are."""
    collecting = _collecting.get()
    changes = collecting if collecting is not None else CounterChanges()
    changes.recounts.update(campaign_ids)
    if collecting is None:
        changes.write()


def _recount(cid: int) -> None:
    """One campaign's counters from its members (in its place in `CounterChanges.write`)."""
    S, M, L = CampaignStats, CampaignMember, MemberStatusLabel
    if not is_sqlite():  # wait for writers still adding to these counters, then count
        S.select(S.campaign).where(S.campaign == cid).for_update("FOR NO KEY UPDATE").execute()  # type: ignore[arg-type]
    counted = M.select(*[bucket_count(b) for b in ROLLUP_BUCKETS]).where(M.campaign == cid)
    row = counted.tuples().first() or (0,) * len(ROLLUP_FIELDS)
    (
        S.insert({"campaign": cid, **dict(zip(ROLLUP_FIELDS, (n or 0 for n in row)))})
        .on_conflict(conflict_target=[S.campaign], preserve=[getattr(S, f) for f in ROLLUP_FIELDS])
        .execute()
    )
    held = dict(
        M.select(M.label, fn.COUNT(M.id))
        .where((M.campaign == cid) & M.label.is_null(False))
        .group_by(M.label)
        .tuples()
    )
    counts = [
        {"label": lid, "campaign": cid, "members": held.get(lid, 0)}
        for (lid,) in L.select(L.id).where(L.campaign == cid).order_by(L.id).tuples()
    ]
    if counts:
        (
            LabelStats.insert_many(counts)
            .on_conflict(conflict_target=[LabelStats.label], preserve=[LabelStats.members])
            .execute()
        )


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


def metrics_of(
    campaign: Campaign,
    counts: dict,
    won: Decimal | float | None,
    cost: Decimal | float | None = None,
) -> Metrics:
    """The metrics of a campaign's counts (`ROLLUP_FIELDS` and machine opens), won amount and
    cost (its own actual cost unless given: a hierarchy's is summed)."""
    sent = counts["sent"]

    def rate(n: int) -> float:
        return n / sent if sent else 0.0

    cost = float(campaign.actual_cost if cost is None else cost) or 0.0
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
    return [metrics_of(c, counters.get(c.id, empty), won.get(c.id)) for c in campaigns]


def campaign_metrics(campaign: Campaign) -> Metrics:
    return all_metrics([campaign])[0]
