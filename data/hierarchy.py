"""Campaign hierarchies: a campaign may have a parent, up to five levels, never a cycle; and a
hierarchy's totals, with each person counted once across its campaigns.

`placement_problem` is the rule, written once: creating a campaign under a parent and moving one
both ask it, inside a transaction that holds the hierarchy lock (`lock_hierarchy`), so two
writers cannot each make half of a cycle."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from peewee import SQL, Case, NodeList, fn

from data.db import database
from data.engagement import ROLLUP_BUCKETS
from data.errors import ValidationError
from data.identity import with_person
from data.models import Campaign, CampaignMember, CampaignStats, Opportunity
from data.postgres import lock_hierarchy
from data.rollups import Metrics, bucket_condition, metrics_of
from data.vocab import OpportunityStage

MAX_LEVELS = 5
"""A hierarchy is at most this deep (a root and four levels under it), as in Salesforce."""

Parents = Mapping[int, int | None]
"""Each campaign's parent (None for a root), by campaign id."""


def _depth(parents: Parents, campaign: int) -> int:
    """Levels from the root down to `campaign`, itself included (a root is level 1)."""
    depth, seen = 1, {campaign}
    node = parents.get(campaign)
    while node is not None and node not in seen:
        seen.add(node)
        depth += 1
        node = parents.get(node)
    return depth


def descendants(parents: Parents, campaign: int) -> list[int]:
    """The campaign and every campaign under it, the campaign first."""
    children: dict[int, list[int]] = {}
    for child, parent in parents.items():
        if parent is not None:
            children.setdefault(parent, []).append(child)
    found, todo = [campaign], [campaign]
    while todo:
        for child in sorted(children.get(todo.pop(), ())):
            if child not in found:
                found.append(child)
                todo.append(child)
    return found


def _height(parents: Parents, campaign: int) -> int:
    """Levels in the campaign's subtree, itself included (1 for a campaign without children)."""
    return max(_depth(parents, c) for c in descendants(parents, campaign)) - (
        _depth(parents, campaign) - 1
    )


def placement_problem(parents: Parents, campaign: int, parent: int | None) -> str | None:
    """Why `campaign` cannot go under `parent` (one line), or None when it can. A campaign not
    in `parents` is a new one, without children."""
    if parent is None:
        return None
    if parent == campaign or parent in descendants(parents, campaign):
        return "a campaign cannot be under itself or under a campaign below it"
    levels = _depth(parents, parent) + (_height(parents, campaign) if campaign in parents else 1)
    if levels > MAX_LEVELS:
        return f"that would make the hierarchy {levels} levels deep; at most {MAX_LEVELS}"
    return None


def parents_map() -> dict[int, int | None]:
    return dict(Campaign.select(Campaign.id, Campaign.parent).tuples())


def checked_parent(campaign_id: int | None, parent_id: int | None) -> None:
    """Refuse a parent that would make a cycle or a sixth level (a ValidationError, one line).
    Call inside the transaction that writes the parent: it takes the hierarchy lock."""
    lock_hierarchy(database.obj)
    if parent_id is None:
        return
    problem = placement_problem(parents_map(), campaign_id or 0, parent_id)
    if problem:
        raise ValidationError(problem)


def set_parent(campaign: Campaign, parent: Campaign | None) -> Campaign:
    """Put a campaign under another (or make it a root, with None)."""
    parent_id = parent.id if parent else None
    with database.atomic():
        checked_parent(campaign.id, parent_id)
        Campaign.update(parent=parent_id).where(Campaign.id == campaign.id).execute()
    campaign.parent_id = parent_id
    return campaign


def in_hierarchy(campaign: Campaign) -> list[int]:
    """The ids of the campaign and every campaign under it, the campaign first."""
    return descendants(parents_map(), campaign.id)


def hierarchy_metrics(campaign: Campaign) -> Metrics:
    """The same metrics as one campaign's, over it and every campaign under it: each person
    counted once across them (in a bucket when any of their memberships is), costs, machine
    opens and won amounts summed. Named and typed after the campaign at the top."""
    ids = in_hierarchy(campaign)
    M = CampaignMember
    query, key = with_person(M.select())
    counted = [
        fn.COUNT(
            NodeList((SQL("DISTINCT"), key if cond is None else Case(None, [(cond, key)], None)))
        )
        for cond in (bucket_condition(b) for b in ROLLUP_BUCKETS)
    ]
    row = query.select(*counted).where(M.campaign.in_(ids)).tuples().get()
    counts = {b.name: n or 0 for b, n in zip(ROLLUP_BUCKETS, row)}
    S = CampaignStats
    counts["machine_opens"] = (
        S.select(fn.COALESCE(fn.SUM(S.machine_opens), 0)).where(S.campaign.in_(ids)).scalar()
    )
    C = Campaign
    cost = C.select(fn.COALESCE(fn.SUM(C.actual_cost), 0)).where(C.id.in_(ids)).scalar()
    Opp = Opportunity
    won = (
        Opp.select(fn.COALESCE(fn.SUM(Opp.amount), 0))
        .where(Opp.campaign_source.in_(ids) & (Opp.stage == OpportunityStage.CLOSED_WON))
        .scalar()
    )
    return metrics_of(campaign, counts, Decimal(won or 0), cost=Decimal(cost or 0))
