"""Lead conversion and opportunities: the route by which a campaign earns its conversions."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from data.identity import linked_people
from data.ingest import Event, apply_resolved
from data.models import (
    OPPORTUNITY_STAGES,
    Account,
    Campaign,
    CampaignMember,
    Contact,
    Lead,
    Opportunity,
    ValidationError,
    utcnow,
)
from data.sql import database
from data.suppression import follow_flags
from data.text import visible
from data.vocab import LeadStatus, OpportunityStage


@dataclass
class ConversionResult:
    contact: Contact
    created_contact: bool
    opportunity: Opportunity | None
    source_member: CampaignMember | None
    """The membership in the campaign source that became Converted, if the person was in it."""


AMOUNT_PATTERN = re.compile(r"^(?:[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:\.[0-9]{1,2})?$")
"""Digits, optionally grouped in thousands by commas, with at most two decimals."""
MAX_AMOUNT = Decimal("999999999999.99")
"""The largest amount an opportunity holds (14 digits, 2 of them decimals)."""


def parse_amount(value) -> Decimal:
    """An opportunity amount, typed by a user or given as a number: zero or more, at most two
    decimals, thousands optionally separated by commas; empty means 0. Anything else is refused
    with one line: `NaN`, `inf`, `1e400`, `1,2,3`, `-5`, `12.345`."""
    amount: Decimal | None = None
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        text = repr(value) if isinstance(value, float) else str(value)
        try:
            amount = Decimal(text)
        except InvalidOperation:
            amount = None
        if amount is not None and not (
            amount.is_finite() and int(amount.as_tuple().exponent) >= -2
        ):
            amount = None
    else:
        text = str(value if value is not None else "").strip()
        if not text:
            return Decimal(0)
        if AMOUNT_PATTERN.match(text):
            amount = Decimal(text.replace(",", ""))
    shown = visible(text[:40])
    negative = text.startswith("-") and AMOUNT_PATTERN.match(text[1:].strip())
    if amount is None and not negative:
        raise ValidationError(
            f"amount must be a number like 12000 or 12,000.50 (at most two decimals), not {shown}"
        )
    if amount is None or amount < 0:
        raise ValidationError(f"amount must be zero or more, not {shown}")
    if amount > MAX_AMOUNT:
        raise ValidationError("amount is too large: at most 999,999,999,999.99")
    return amount


def _account_named(name: str, now: datetime) -> Account | None:
    name = name.strip()
    if not name:
        return None
    account, _ = Account.get_or_create(name=name, defaults={"created_at": now})
    return account


def create_opportunity(
    contact: Contact,
    name: str,
    amount=0,
    *,
    stage: str = OpportunityStage.PROSPECTING,
    close_date: date | None = None,
    campaign_source: Campaign | None = None,
    lead: Lead | None = None,
    now: datetime | None = None,
) -> tuple[Opportunity, CampaignMember | None]:
    """An opportunity for a contact; with a campaign source, the person's membership in that
    campaign becomes Converted (as a recorded conversion event)."""
    now = now or utcnow()
    if stage not in OPPORTUNITY_STAGES:
        raise ValidationError(
            f"unknown stage {stage!r}; use one of {', '.join(OPPORTUNITY_STAGES)}"
        )
    with database.atomic():
        opportunity = Opportunity(
            name=(name or "").strip(),
            amount=parse_amount(amount),
            stage=stage,
            close_date=close_date,
            contact=contact,
            account=contact.account_id,
            lead=lead,
            campaign_source=campaign_source,
            created_at=now,
        )
        opportunity.save()
        member = None
        if campaign_source is not None:
            member = _source_membership(contact, lead, campaign_source)
            if member is not None:
                event = Event(
                    type="convert",
                    campaign_ref=str(campaign_source.id),
                    at=now,
                    campaign_id=campaign_source.id,
                    member_id=member.id,
                    extra=f'{{"opportunity": {opportunity.id}}}',
                )
                apply_resolved([event], source="conversion", now=now)
                member = CampaignMember.get_by_id(member.id)
    return opportunity, member


def _source_membership(contact: Contact, lead: Lead | None, campaign: Campaign):
    lead_ids, contact_ids = linked_people(contact)
    if lead is not None and lead.id not in lead_ids:
        lead_ids.append(lead.id)
    M = CampaignMember
    return (
        M.select()
        .where((M.campaign == campaign.id) & (M.lead.in_(lead_ids) | M.contact.in_(contact_ids)))
        .first()
    )


def convert_lead(
    lead: Lead,
    *,
    opportunity_name: str | None = None,
    amount=0,
    stage: str = OpportunityStage.PROSPECTING,
    close_date: date | None = None,
    campaign_source: Campaign | None = None,
    now: datetime | None = None,
) -> ConversionResult:
    """Make the lead a contact (or link it to the contact with its email), optionally with an
    opportunity. The lead's memberships stay on the lead."""
    now = now or utcnow()
    if lead.converted_contact_id:
        raise ValidationError(f"{lead.email} was already converted")
    if campaign_source is not None and not (opportunity_name or "").strip():
        raise ValidationError("a campaign source needs an opportunity name")
    if (opportunity_name or "").strip():
        amount = parse_amount(amount)  # refused before anything is written
    with database.atomic():
        # Claimed by the database first: of two conversions at once, the second waits for the
        # first's row lock, then changes no row (the lead is converted by then).
        claimed = (
            Lead.update(converted_at=now, lead_status=LeadStatus.CONVERTED)
            .where((Lead.id == lead.id) & Lead.converted_contact.is_null())
            .execute()
        )
        if not claimed:
            raise ValidationError(f"{lead.email} was already converted")
        contact = Contact.get_or_none(Contact.email == lead.email)
        created = contact is None
        if contact is None:
            contact = Contact.create(
                first_name=lead.first_name,
                last_name=lead.last_name,
                email=lead.email,
                title=lead.title,
                country=lead.country,
                industry=lead.industry,
                account=_account_named(lead.company, now),
                created_at=now,
                do_not_email=lead.do_not_email,
                email_bounced=lead.email_bounced,
            )
        Lead.update(converted_contact=contact.id).where(Lead.id == lead.id).execute()
        lead.converted_contact, lead.converted_at = contact, now
        lead.lead_status = LeadStatus.CONVERTED
        # One person: an opt-out or bounce recorded on either holds for both.
        follow_flags([lead.email], now)
        contact = Contact.get_by_id(contact.id)
        opportunity = member = None
        if opportunity_name and opportunity_name.strip():
            opportunity, member = create_opportunity(
                contact,
                opportunity_name,
                amount,
                stage=stage,
                close_date=close_date,
                campaign_source=campaign_source,
                lead=lead,
                now=now,
            )
    return ConversionResult(contact, created, opportunity, member)
