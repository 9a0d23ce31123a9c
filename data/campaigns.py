"""Creating, editing, finding and moving campaigns through their statuses."""

from __future__ import annotations

import json
from datetime import date, datetime

from peewee import IntegrityError

from data.db import database
from data.enrollment import EnrollmentResult, enroll
from data.hierarchy import checked_parent
from data.labels import copy_template
from data.models import Campaign, CampaignStats, ValidationError
from data.vocab import AudienceKind, CampaignStatus, CampaignType, is_one_of, listed

IN_PROGRESS = CampaignStatus.IN_PROGRESS


def find_campaign(ref: str | int) -> Campaign:
    """A campaign by exact name or numeric id, or a ValidationError that says which was missing."""
    text = str(ref).strip()
    found = Campaign.get_or_none(Campaign.name == text)
    if found is None and text.isdigit():
        found = Campaign.get_or_none(Campaign.id == int(text))
    if found is None:
        raise ValidationError(f"no campaign named {text!r}")
    return found


def _save(campaign: Campaign) -> Campaign:
    clash = Campaign.get_or_none(
        (Campaign.name == (campaign.name or "").strip()) & (Campaign.id != (campaign.id or 0))
    )
    if clash is not None:
        raise ValidationError(f"a campaign named {campaign.name.strip()!r} already exists")
    try:
        with database.atomic():
            is_new = campaign.id is None
            if campaign.parent_id is not None:
                checked_parent(campaign.id, campaign.parent_id)
            campaign.save()
            if is_new:
                CampaignStats.insert(campaign=campaign.id).on_conflict_ignore().execute()
                copy_template(campaign)
    except IntegrityError as exc:
        raise ValidationError(f"cannot save campaign: {exc}") from None
    return campaign


def create_campaign(
    name: str,
    type: str = CampaignType.EMAIL,
    kind: str = AudienceKind.BOTH,
    filters: dict | None = None,
    *,
    status: str = CampaignStatus.PLANNED,
    start_date: date | None = None,
    end_date: date | None = None,
    budgeted_cost: float = 0,
    actual_cost: float = 0,
    description: str = "",
    parent: Campaign | None = None,
    now: datetime | None = None,
) -> Campaign:
    campaign = Campaign(
        name=name,
        type=type,
        status=status,
        audience_kind=kind,
        audience_filters=json.dumps(filters or {}),
        start_date=start_date,
        end_date=end_date,
        budgeted_cost=budgeted_cost,
        actual_cost=actual_cost,
        description=description,
        parent=parent,
    )
    if now is not None:
        campaign.created_at = now
    return _save(campaign)


def update_campaign(campaign: Campaign, **changes) -> Campaign:
    """Change fields of a campaign; `filters` replaces the audience filters."""
    if "filters" in changes:
        campaign.audience_filters = json.dumps(changes.pop("filters") or {})
    if "kind" in changes:
        campaign.audience_kind = changes.pop("kind")
    for key, value in changes.items():
        setattr(campaign, key, value)
    return _save(campaign)


def change_status(
    campaign: Campaign, status: str, now: datetime | None = None
) -> EnrollmentResult | None:
    """Move a campaign to `status`; moving it to In Progress enrolls its audience.

    Starting again later (or a campaign already In Progress) enrolls only newcomers."""
    if not is_one_of(status, CampaignStatus):
        raise ValidationError(f"unknown status {status!r}; use one of {listed(CampaignStatus)}")
    with database.atomic():
        campaign.status = status
        _save(campaign)
        if status == IN_PROGRESS:
            return enroll(campaign, now=now)
    return None


def list_campaigns(status: str | None = None, search: str = "") -> list[Campaign]:
    query = Campaign.select().order_by(Campaign.name)
    if status:
        query = query.where(Campaign.status == status)
    if search.strip():
        query = query.where(
            Campaign.name.contains(search.strip()) | Campaign.type.contains(search.strip())
        )
    return list(query)
