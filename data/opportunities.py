"""Opportunities in sight: a person's deals, and changing a deal's stage.

A campaign's won amount is read from its sourced opportunities in Closed Won (`data.rollups`), so
moving a stage moves it; nothing is kept to update."""

from __future__ import annotations

from decimal import Decimal
from typing import NamedTuple

from peewee import JOIN

from data.errors import ValidationError
from data.identity import linked_people, member_contacts
from data.models import Campaign, Opportunity, Person
from data.vocab import OpportunityStage


class OpportunityRow(NamedTuple):
    id: int
    name: str
    amount: Decimal
    stage: str
    campaign: str
    """The campaign source's name, or "" when it has none."""


def opportunities_of(person: Person) -> list[OpportunityRow]:
    """The deals of this person (a lead's and those of the contact it became), newest first."""
    lead_ids, contact_ids = linked_people(person)
    O = Opportunity  # noqa: E741
    condition = O.lead.in_(lead_ids or [0]) | O.contact.in_(contact_ids or [0])
    query = (
        O.select(O.id, O.name, O.amount, O.stage, Campaign.name)
        .join(Campaign, JOIN.LEFT_OUTER, on=(O.campaign_source == Campaign.id))
        .where(condition)
        .order_by(O.id.desc())
    )
    return [
        OpportunityRow(i, name, Decimal(amount or 0), stage, campaign or "")
        for i, name, amount, stage, campaign in query.tuples()
    ]


def converted_opportunities(campaign_id: int, member_ids: list[int]) -> dict[int, OpportunityRow]:
    """The opportunity each of these members of the campaign converted to, by member id: a deal
    sourced by this campaign whose contact is the member's person (`identity.member_contacts`),
    so a lead member shows the deal of the contact it became. A member with several shows the
    latest created (no record says which deal a conversion made). Members without one are left
    out. One query for any number of members (a page of the Converted view)."""
    if not member_ids:
        return {}
    O = Opportunity  # noqa: E741
    people = member_contacts(member_ids).alias("people")
    query = (
        O.select(people.c.member_id, O.id, O.name, O.amount, O.stage, Campaign.name)
        .join(people, on=(people.c.contact_id == O.contact))
        .join_from(O, Campaign, on=(O.campaign_source == Campaign.id))
        .where(O.campaign_source == campaign_id)
        .order_by(O.created_at, O.id)
    )
    # Oldest first: a member's latest deal is the last one written into the dict.
    return {
        member_id: OpportunityRow(i, name, Decimal(amount or 0), stage, campaign)
        for member_id, i, name, amount, stage, campaign in query.tuples()
    }


def set_stage(opportunity_id: int, stage: str) -> None:
    """Move a deal to another stage (Closed Won counts in its campaign source's won amount)."""
    try:
        chosen = OpportunityStage(stage)
    except ValueError:
        raise ValidationError(
            f"unknown stage {stage!r}; use {', '.join(OpportunityStage)}"
        ) from None
    changed = Opportunity.update(stage=chosen).where(Opportunity.id == opportunity_id).execute()
    if not changed:
        raise ValidationError("that opportunity no longer exists")
