"""Opportunities in sight: a person's deals, and changing a deal's stage.

A campaign's won amount is read from its sourced opportunities in Closed Won (`data.rollups`), so
moving a stage moves it; nothing is kept to update."""

from __future__ import annotations

from decimal import Decimal
from typing import NamedTuple

from peewee import JOIN

from data.errors import ValidationError
from data.identity import linked_people
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
