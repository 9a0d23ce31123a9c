"""Lead conversion and opportunities: the route by which a campaign earns its conversions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from data.db import database
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


@dataclass
class ConversionResult:
    contact: Contact
    created_contact: bool
    opportunity: Opportunity | None
    source_member: CampaignMember | None
    """The membership in the campaign source that became Converted, if the person was in it."""


def parse_amount(value) -> Decimal:
    try:
        amount = Decimal(str(value).strip().replace(",", ""))
    except InvalidOperation:
        raise ValidationError(f"amount must be a number, not {value!r}") from None
    if amount < 0 or not amount.is_finite():
        raise ValidationError("amount must be zero or more")
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
    stage: str = "Prospecting",
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
    stage: str = "Prospecting",
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
    with database.atomic():
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
        elif lead.do_not_email or lead.email_bounced:
            # One person: an opt-out or bounce recorded on the lead holds for the contact too.
            contact.do_not_email |= lead.do_not_email
            contact.email_bounced |= lead.email_bounced
            contact.save()
        lead.converted_contact = contact
        lead.converted_at = now
        lead.lead_status = "Converted"
        lead.save()
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
