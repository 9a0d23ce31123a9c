"""Who a campaign reaches: audience criteria as queries, and the one rule for who is excluded."""

from __future__ import annotations

import json
from datetime import date, datetime, time

from peewee import Case, fn

from data.errors import ValidationError
from data.filters import FILTER_FIELDS, LEAD_ONLY_FILTERS, validate_filters
from data.models import Campaign, CampaignMember, Contact, Lead
from data.vocab import NEW, AudienceKind, ExclusionReason

ALREADY, DO_NOT_EMAIL, BOUNCED, CONVERTED_LEAD = (
    ExclusionReason.ALREADY_MEMBER,
    ExclusionReason.DO_NOT_EMAIL,
    ExclusionReason.BOUNCED,
    ExclusionReason.CONVERTED_LEAD,
)
EXCLUSION_REASONS = {reason: reason.label for reason in ExclusionReason if reason != ALREADY}
"""Why an audience member is left out, in the order the rule checks them."""


def parse_where(items: list[str]) -> dict:
    """`FIELD=V1,V2` arguments from the command line into a filters dict."""
    filters: dict = {}
    for item in items:
        field, sep, raw = item.partition("=")
        field = field.strip().replace("-", "_")
        if not sep:
            raise ValidationError(f"--where takes FIELD=VALUE, not {item!r}")
        if field == "title":
            field = "title_contains"
        if field in ("created", "created_after", "created_on_or_after"):
            field = "created_since"
        kind = FILTER_FIELDS.get(field)
        if kind == "list":
            filters[field] = [v.strip() for v in raw.split(",") if v.strip()]
        else:
            filters[field] = raw.strip()
    validate_filters(filters)
    return filters


def describe_filters(kind: str, filters: dict) -> str:
    """A one-line summary of an audience, for headers and confirmations."""
    parts = [AudienceKind(kind).label]
    for key, value in filters.items():
        label = key.replace("_", " ")
        if isinstance(value, list):
            parts.append(f"{label} in {', '.join(value)}")
        else:
            parts.append(f"{label} {value}")
    return "; ".join(parts)


def _matching(model, kind_filters: dict):
    """Conditions on one person table for the filters; None when a filter cannot match it."""
    conditions = []
    for key, value in kind_filters.items():
        if key in LEAD_ONLY_FILTERS and model is not Lead:
            if value:
                return None  # a contact has no lead source or lead status
            continue
        if key in ("country", "industry", "lead_source", "lead_status"):
            if value:
                conditions.append(getattr(model, key).in_(value))
        elif key == "title_contains" and value:
            conditions.append(model.title.contains(value))
        elif key == "created_since" and value:
            conditions.append(
                model.created_at >= datetime.combine(date.fromisoformat(value), time())
            )
    return conditions


def audience_sources(campaign, people: dict | None = None):
    """(model, conditions) for each person table the enrollment draws from.

    Without `people`, the campaign's audience criteria; with `people` ({"lead": ids, "contact":
    ids}), exactly those people. Both routes then pass through the same exclusion rule.
    """
    sources = []
    for model, key in ((Lead, "lead"), (Contact, "contact")):
        if people is not None:
            ids = people.get(key) or []
            if ids:
                sources.append((model, [model.id.in_(ids)]))
            continue
        if campaign.audience_kind not in (key + "s", AudienceKind.BOTH):
            continue
        conditions = _matching(model, campaign.filters)
        if conditions is not None:
            sources.append((model, conditions))
    return sources


def membership_category(model, campaign_id: int):
    """The exclusion rule, as one SQL expression over a person table: why this person is left
    out of the campaign, or NEW. A lead and the contact it became are one person."""
    M = CampaignMember
    if model is Lead:
        converted = Lead.converted_contact.is_null(False)
        member = fn.EXISTS(M.select(1).where((M.campaign == campaign_id) & (M.lead == Lead.id))) | (
            converted
            & fn.EXISTS(
                M.select(1).where(
                    (M.campaign == campaign_id) & (M.contact == Lead.converted_contact)
                )
            )
        )
        checks = [
            (member, ALREADY),
            (Lead.do_not_email, DO_NOT_EMAIL),
            (Lead.email_bounced, BOUNCED),
            (converted, CONVERTED_LEAD),
        ]
    else:
        SourceLead = Lead.alias("source_lead")
        member = fn.EXISTS(
            M.select(1).where((M.campaign == campaign_id) & (M.contact == model.id))
        ) | fn.EXISTS(
            SourceLead.select(1)
            .join(M, on=(M.lead == SourceLead.id))
            .where((SourceLead.converted_contact == model.id) & (M.campaign == campaign_id))
        )
        checks = [
            (member, ALREADY),
            (model.do_not_email, DO_NOT_EMAIL),
            (model.email_bounced, BOUNCED),
        ]
    return Case(None, checks, NEW)


def audience_query(model, conditions, campaign_id: int):
    """Select (id, category) for every person of `model` the conditions match."""
    query = model.select(model.id, membership_category(model, campaign_id).alias("category"))
    for condition in conditions:
        query = query.where(condition)
    return query


def count_matching(kind: str, filters: dict) -> int:
    """How many people match audience criteria, for the live count in the campaign form."""
    probe = Campaign(audience_kind=kind, audience_filters=json.dumps(filters))
    total = 0
    for model, conditions in audience_sources(probe):
        query = model.select(fn.COUNT(model.id))
        for condition in conditions:
            query = query.where(condition)
        total += query.scalar()
    return total
