"""Merging two records of one person (PRODUCT.md §10): `campaigns people merge KEEP OTHER`.

OTHER goes into KEEP: KEEP's fields win unless empty, the reachability flags carry over (never
cleared); a membership of OTHER in a campaign KEEP is also in is joined into KEEP's by the
lattice (`engagement.joined`: highest rung and label, earliest milestones, exits kept) and its
events move to KEEP's member; OTHER's other memberships become KEEP's; OTHER's active
suppressions suppress KEEP's address too; leads converted into OTHER and OTHER's opportunities
point at KEEP; OTHER goes. One journal entry keeps everything as it was (both records, the
memberships it changed, each moved event's member, KEEP's address's suppressions), which `undo`
puts back exactly (`unmerge`). A lead and a contact are not merged: that is conversion.
"""

from __future__ import annotations

import json
from datetime import datetime

from data.emails import normalize_email
from data.engagement import STATE_FIELDS, joined
from data.errors import ValidationError
from data.journal import current_user
from data.labels import ladders
from data.models import (
    CampaignMember,
    Contact,
    EngagementEvent,
    JournalEntry,
    JournalPayload,
    Lead,
    Opportunity,
    Person,
    Suppression,
    utcnow,
)
from data.rollups import recount
from data.sql import database
from data.suppression import SuppressionEntry, suppress_addresses
from data.vocab import JournalAction

KEPT_FIELDS = ("first_name", "title", "country", "industry")
"""Text fields KEEP takes from OTHER where its own are empty (with each kind's own below)."""


def _pair(keep_email: str, other_email: str) -> tuple[type[Person], Person, Person]:
    keep_address, other_address = normalize_email(keep_email), normalize_email(other_email)
    if keep_address == other_address:
        raise ValidationError("give two different addresses: KEEP and OTHER")
    found = {}
    for address in (keep_address, other_address):
        found[address] = {
            "contact": Contact.get_or_none(Contact.email == address),
            "lead": Lead.get_or_none(Lead.email == address),
        }
        if not any(found[address].values()):
            raise ValidationError(f"no lead or contact with email {address}")
    for kind, model in (("contact", Contact), ("lead", Lead)):
        keep, other = found[keep_address][kind], found[other_address][kind]
        if keep is not None and other is not None:
            return model, keep, other
    raise ValidationError(
        f"{keep_address} and {other_address} are a lead and a contact: "
        "converting the lead joins them, merging does not"
    )


def _row(record) -> dict:
    data = record.__data__
    return {k: (v.isoformat(" ") if isinstance(v, datetime) else v) for k, v in data.items()}


def _person_column(model):
    return CampaignMember.lead if model is Lead else CampaignMember.contact


def merge(
    keep_email: str, other_email: str, *, who: str | None = None, now: datetime | None = None
) -> JournalEntry:
    """Merge OTHER into KEEP (see the module's doc); returns the journal entry."""
    now = now or utcnow()
    M, E = CampaignMember, EngagementEvent
    with database.atomic():
        model, keep, other = _pair(keep_email, other_email)
        column = _person_column(model)
        theirs = list(M.select().where(column == other.id).order_by(M.id))
        by_campaign = {
            m.campaign_id: m
            for m in M.select().where(
                (column == keep.id) & M.campaign.in_([m.campaign_id for m in theirs])
            )
        }
        moved = list(E.select(E.id, E.member).where(E.member.in_([m.id for m in theirs])).tuples())
        payload: dict = {
            "kind": "lead" if model is Lead else "contact",
            "keep": _row(keep),
            "other": _row(other),
            "keep_members": [_row(m) for m in by_campaign.values()],
            "other_members": [_row(m) for m in theirs],
            "events": moved,
            "suppressions": [],
            "converted_leads": [],
            "opportunities": [],
        }
        fields = {
            name: getattr(other, name)
            for name in (*KEPT_FIELDS, "company" if model is Lead else "account")
            if not getattr(keep, name) and getattr(other, name)
        }
        for flag in ("do_not_email", "email_bounced"):
            if getattr(other, flag) and not getattr(keep, flag):
                fields[flag] = True
        if fields:
            model.update(fields).where(model.id == keep.id).execute()
        ladder_of = ladders({m.campaign_id for m in theirs}, lock=True)
        for member in theirs:
            mine = by_campaign.get(member.campaign_id)
            if mine is None:
                M.update({column: keep.id}).where(M.id == member.id).execute()
                continue
            state = joined(mine.state, member.state, ladder_of[member.campaign_id])
            values = {name: getattr(state, name) for name in STATE_FIELDS if name != "label_id"}
            values.update(label=state.label_id, status=state.status)
            values.update(has_responded=state.has_responded)
            values["added_at"] = min(mine.added_at, member.added_at)
            M.update(values).where(M.id == mine.id).execute()
            E.update(member=mine.id).where(E.member == member.id).execute()
            M.delete().where(M.id == member.id).execute()
        S = Suppression
        payload["suppressions"] = [_row(s) for s in S.select().where(S.email == keep.email)]
        suppress_addresses(
            [
                SuppressionEntry(keep.email, s.kind, s.at, s.reason, s.event_id, s.campaign_id)
                for s in S.select().where((S.email == other.email) & S.lifted_at.is_null())
            ],
            now,
        )
        if model is Contact:
            converted = Lead.converted_contact == other.id
            payload["converted_leads"] = [
                i for (i,) in Lead.select(Lead.id).where(converted).tuples()
            ]
            Lead.update(converted_contact=keep.id).where(converted).execute()
        Opp = Opportunity
        link = Opp.lead if model is Lead else Opp.contact
        payload["opportunities"] = [
            i for (i,) in Opp.select(Opp.id).where(link == other.id).tuples()
        ]
        Opp.update({link: keep.id}).where(link == other.id).execute()
        model.delete().where(model.id == other.id).execute()
        recount({m.campaign_id for m in theirs})
        entry = JournalEntry.create(
            at=now,
            who=who if who is not None else current_user(),
            action=JournalAction.MERGE,
            count=len(theirs),
            summary=f"merged {other.email} into {keep.email}"[:255],
        )
        JournalPayload.create(entry=entry.id, payload=json.dumps(payload, default=str))
    return entry


def unmerge(entry: JournalEntry) -> int:
    """Put back everything a merge changed, as it was (inside `undo`'s transaction); returns
    the memberships given back."""
    stored = JournalPayload.get_or_none(JournalPayload.entry == entry.id)
    if stored is None:
        raise ValidationError(f"journal entry {entry.id}: what the merge changed is not kept")
    payload = json.loads(stored.payload)
    model = Lead if payload["kind"] == "lead" else Contact
    other, keep = payload["other"], payload["keep"]
    if model.select().where((model.email == other["email"]) | (model.id == other["id"])).exists():
        raise ValidationError(
            f"journal entry {entry.id}: {other['email']} is in use again; cannot undo the merge"
        )
    M, E = CampaignMember, EngagementEvent
    model.insert(**other).execute()
    model.update({k: v for k, v in keep.items() if k != "id"}).where(
        model.id == keep["id"]
    ).execute()
    for row in payload["keep_members"]:
        M.update({k: v for k, v in row.items() if k != "id"}).where(M.id == row["id"]).execute()
    for row in payload["other_members"]:
        values = {k: v for k, v in row.items() if k != "id"}
        if not M.update(values).where(M.id == row["id"]).execute():
            M.insert(**row).execute()
    for event_id, member_id in payload["events"]:
        E.update(member=member_id).where(E.id == event_id).execute()
    S = Suppression
    kept = payload["suppressions"]  # KEEP's address's suppressions as they were
    S.delete().where((S.email == keep["email"]) & S.id.not_in([r["id"] for r in kept])).execute()
    for row in kept:
        S.update({k: v for k, v in row.items() if k != "id"}).where(S.id == row["id"]).execute()
    if payload["converted_leads"]:
        Lead.update(converted_contact=other["id"]).where(
            Lead.id.in_(payload["converted_leads"])
        ).execute()
    Opp = Opportunity
    link = Opp.lead if model is Lead else Opp.contact
    if payload["opportunities"]:
        Opp.update({link: other["id"]}).where(Opp.id.in_(payload["opportunities"])).execute()
    campaigns = {row["campaign"] for row in payload["other_members"]}
    recount(campaigns)
    return len(payload["other_members"])
