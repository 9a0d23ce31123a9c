"""Demo data: realistic people, accounts, campaigns and engagement, the same for the same seed."""

from __future__ import annotations

import csv
import io
import json
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from importlib.resources import files

from peewee import JOIN, chunked, fn

from data.audience import parse_where
from data.campaigns import create_campaign
from data.content import content_of
from data.conversion import convert_lead, create_opportunity
from data.demo_content import demo_content
from data.enrollment import enroll
from data.ingest import BATCH_SIZE, Event, apply_resolved
from data.models import Account, Campaign, CampaignMember, Contact, Lead, utcnow
from data.progress import OnProgress
from data.sql import database, insert_rows
from data.vocab import CampaignStatus, MemberStatus

FIRST_NAMES = """
Ana Ben Chloe Dev Elena Farid Grace Hiro Ines Jonas Kofi Lena Mateo Nadia Omar Priya Quinn Rosa
Sven Tara Umar Vera Wei Ximena Yusuf Zoe Aisha Bruno Carmen Dmitri Emma Felix Greta Hamza Ivy
Jamal Kira Luca Maya Nils Olga Pablo Rhea Sami Theo Una Viktor Willa Yara Zane
""".split()
LAST_NAMES = """
Silva Novak Garcia Okafor Schmidt Tanaka Dubois Rossi Kowalski Haddad Larsen Patel Kim Murphy
Jensen Moreau Costa Ivanova Nguyen Fischer Brennan Alvarez Sato Lindqvist Mensah Kaur Romero
Weber Hughes Bakker Petrov Santos Meyer Lopez Ahmed Young Wright Becker Chen Walsh Nakamura Ortiz
Berg Varga Kaplan Ferreira Obi Laine Horvat Reyes Quinn
""".split()
COMPANY_ROOTS = """
Acme Globex Initech Umbrella Stark Wayne Hooli Vandelay Soylent Tyrell Cyberdyne Wonka Aperture
Gringotts Oceanic Nakatomi Pied Piper Massive Dynamic Monarch Vehement Sirius Blue Sun Ollivander
Duff Krusty Gekko Bluth Dunder Prestige Zorg Oscorp Yoyodyne Nimbus Falcon Juniper Cobalt
Meridian Summit Harbor Lumen Quanta Vertex Orbit Kestrel Atlas
""".split()
COMPANY_SUFFIXES = "Inc Labs Group GmbH Ltd Systems Partners Co".split()
COUNTRIES = "US US US GB GB DE DE FR CA AU NL ES IN BR JP SE".split()
"""Repeats weight the draw: a third of people are in the US."""
INDUSTRIES = "Software Finance Healthcare Retail Manufacturing Education Media Energy".split()
TITLES = (
    "VP Marketing, Marketing Manager, CTO, Software Engineer, Sales Director, Data Analyst, CEO, "
    "Head of Growth, Product Manager, Operations Lead, IT Director, Procurement Manager"
).split(", ")
LEAD_SOURCES = "Web, Webinar, Trade Show, Referral, Partner, Advertisement, Cold Call".split(", ")
LEAD_STATUSES = "Open Open Working Nurturing Qualified Unqualified".split()
"""Repeats weight the draw: open leads are the most common."""


CAMPAIGNS_FILE = "demo_campaigns.csv"
"""The campaign templates, one a row, shipped beside this module. `days_ago` counts from the
start (negative: it starts in the future); `audience` is in `--where` notation, `;` between
filters."""

DEMO_DOMAIN = ".example"
"""Every demo address is at a domain under `.example`, reserved for examples (RFC 2606): no
real mail goes there, which is also how a demo's people are told from real ones."""

MAX_PEOPLE = 1_000_000
MAX_CAMPAIGNS = 1_000
MAX_SEED = 2**63 - 1
"""The bounds of `campaigns demo`'s arguments: a demo fits in a few minutes and in memory (the
benchmarks, calling `generate` themselves, may go further)."""


@dataclass(frozen=True)
class CampaignTemplate:
    """A demo campaign: what it is, whom it reaches, and where it stands today."""

    name: str
    type: str
    status: str
    kind: str
    filters: dict
    days_ago: int
    days_long: int
    cost: int

    @classmethod
    def from_row(cls, row: dict[str, str]) -> CampaignTemplate:
        audience = [item for item in row["audience"].split(";") if item]
        return cls(
            name=row["name"],
            type=row["type"],
            status=row["status"],
            kind=row["kind"],
            filters=parse_where(audience),
            days_ago=int(row["days_ago"]),
            days_long=int(row["days_long"]),
            cost=int(row["cost"]),
        )


def campaign_templates() -> tuple[CampaignTemplate, ...]:
    """The templates in `CAMPAIGNS_FILE`; more campaigns than templates repeat them with a
    numbered name."""
    text = files("data").joinpath(CAMPAIGNS_FILE).read_text(encoding="utf-8")
    return tuple(CampaignTemplate.from_row(row) for row in csv.DictReader(io.StringIO(text)))


ENGAGEMENT = {
    "open": 0.45,
    "click": 0.45,
    "respond": 0.35,
    "convert": 0.2,
    "bounce": 0.04,
    "unsubscribe": 0.02,
}
"""Chance of each next step: opened of those sent, clicked of those opened, and so on."""


def _people_rows(rng: random.Random, count: int, now: datetime, start: int, accounts: list[int]):
    leads, contacts = [], []
    for i in range(start, start + count):
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        company_root = rng.choice(COMPANY_ROOTS)
        row = {
            "first_name": first,
            "last_name": last,
            "email": f"{first}.{last}.{i}@{company_root}{DEMO_DOMAIN}".lower(),
            "title": rng.choice(TITLES),
            "country": rng.choice(COUNTRIES),
            "industry": rng.choice(INDUSTRIES),
            "created_at": now - timedelta(days=rng.randint(0, 720), minutes=rng.randint(0, 1439)),
            "do_not_email": rng.random() < 0.015,
            "email_bounced": rng.random() < 0.01,
        }
        if rng.random() < 0.6:
            row["company"] = f"{company_root} {rng.choice(COMPANY_SUFFIXES)}"
            row["lead_source"] = rng.choice(LEAD_SOURCES)
            row["lead_status"] = rng.choice(LEAD_STATUSES)
            leads.append(row)
        else:
            row["account"] = rng.choice(accounts) if accounts else None
            contacts.append(row)
    return leads, contacts


def _engagement_for(rng: random.Random, start: datetime, now: datetime):
    """The (type, at) events one member produces, in the order they happened."""
    events = []
    span = max((now - start).total_seconds(), 3600)
    at = start + timedelta(seconds=rng.uniform(0, span * 0.3))
    if rng.random() < ENGAGEMENT["bounce"]:
        return [("bounce", at)]
    for step in ("open", "click", "respond", "convert"):
        if rng.random() >= ENGAGEMENT[step]:
            break
        at = min(at + timedelta(seconds=rng.uniform(60, span * 0.2)), now)
        events.append((step, at))
    if rng.random() < ENGAGEMENT["unsubscribe"]:
        events.append(("unsubscribe", min(at + timedelta(hours=rng.uniform(1, 72)), now)))
    if events and rng.random() < 0.1:
        events.append(events[0])  # integrations send some events twice
    return events


def demo_bounds(people: int, campaigns: int, seed: int) -> str | None:
    """What is wrong with `campaigns demo`'s arguments, in one line, or None."""
    for name, value, top in (
        ("people", people, MAX_PEOPLE),
        ("campaigns", campaigns, MAX_CAMPAIGNS),
        ("seed", seed, MAX_SEED),
    ):
        if not 0 <= value <= top:
            return f"--{name} takes a number from 0 to {top:,}"
    return None


def is_empty() -> bool:
    """The open database holds no person and no campaign."""
    return not (Lead.select().exists() or Contact.select().exists() or Campaign.select().exists())


def records_not_from_demo() -> dict[str, int]:
    """What the open database holds that demo data does not look like: people whose address is
    not a demo address, campaigns not named as demo campaigns (only the kinds found)."""
    people = sum(
        model.select().where(~model.email.endswith(DEMO_DOMAIN)).count()
        for model in (Lead, Contact)
    )
    names = {template.name for template in campaign_templates()}
    campaigns = sum(
        1
        for (name,) in Campaign.select(Campaign.name).tuples().iterator()
        if name not in names and name.rsplit(" ", 1)[0] not in names
    )
    found = {"people": people, "campaigns": campaigns}
    return {kind: count for kind, count in found.items() if count}


def generate(
    people: int = 2_000,
    campaigns: int = 12,
    seed: int = 7,
    now: datetime | None = None,
    on_progress: OnProgress | None = None,
) -> dict:
    """Fill the open database with demo data; returns counts of what was made.

    `on_progress` hears steps: the people are the first, then each campaign is one."""
    rng = random.Random(seed)
    now = (now or utcnow()).replace(microsecond=0)
    start_id = (Lead.select().count() + Contact.select().count()) + 1
    with database.atomic():
        names = sorted(
            {
                f"{rng.choice(COMPANY_ROOTS)} {rng.choice(COMPANY_SUFFIXES)}"
                for _ in range(max(people // 8, 5))
            }
        )
        existing = {name for (name,) in Account.select(Account.name).tuples()}
        rows = [
            {
                "name": n,
                "industry": rng.choice(INDUSTRIES),
                "country": rng.choice(COUNTRIES),
                "created_at": now - timedelta(days=rng.randint(100, 1500)),
            }
            for n in names
            if n not in existing
        ]
        for chunk in chunked(rows, 500):
            Account.insert_many(chunk).execute()
        accounts = [aid for (aid,) in Account.select(Account.id).order_by(Account.id).tuples()]
        leads, contacts = _people_rows(rng, people, now, start_id, accounts)
        for model, batch in ((Lead, leads), (Contact, contacts)):
            if batch:
                fields = [getattr(model, key) for key in batch[0]]
                insert_rows(
                    model,
                    fields,
                    [tuple(row.values()) for row in batch],
                    conflict=lambda q: q.on_conflict_ignore(),
                )
    made = {
        "accounts": len(rows),
        "leads": len(leads),
        "contacts": len(contacts),
        "campaigns": 0,
        "members": 0,
        "events": 0,
        "opportunities": 0,
    }
    steps = campaigns + 1
    taken = {name for (name,) in Campaign.select(Campaign.name).tuples()}
    templates = campaign_templates()
    for n in range(campaigns):
        template = templates[n % len(templates)]
        name = template.name
        if n >= len(templates):
            name = f"{name} {n // len(templates) + 1}"
        if on_progress:
            on_progress(n + 1, steps)  # the people and the campaigns before this one are done
        if name in taken:
            continue
        planned = template.status == CampaignStatus.PLANNED
        starts = now - timedelta(days=template.days_ago)
        campaign = create_campaign(
            name,
            template.type,
            template.kind,
            template.filters,
            status=template.status,
            start_date=starts.date(),
            end_date=(starts + timedelta(days=template.days_long)).date(),
            budgeted_cost=template.cost,
            actual_cost=0 if planned else round(template.cost * rng.uniform(0.6, 1.1), 2),
            description=f"{template.type} campaign for {template.kind}: "
            + json.dumps(template.filters),
            now=starts,
        )
        made["campaigns"] += 1
        if planned:
            continue
        made["members"] += enroll(campaign, now=starts).enrolled
        made["events"] += _engage(rng, campaign, starts, now, template.name)
        made["opportunities"] += _convert_some(rng, campaign, now)
    if on_progress:
        on_progress(steps, steps)
    return made


def _engage(
    rng: random.Random, campaign: Campaign, start: datetime, now: datetime, template: str = ""
) -> int:
    M = CampaignMember
    members = (
        M.select(M.id, fn.COALESCE(Lead.email, Contact.email))
        .join_from(M, Lead, JOIN.LEFT_OUTER)
        .join_from(M, Contact, JOIN.LEFT_OUTER)
        .where(M.campaign == campaign.id)
        .order_by(M.id)
        .tuples()
    )
    events: list[Event] = []
    count = 0
    for member_id, address in members.iterator():
        produced = _engagement_for(rng, start, now)
        for etype, at in produced:
            n = produced.index((etype, at))  # a re-sent event carries its original id
            keys = demo_content(template, etype, member_id)
            events.append(
                Event(
                    event_id=f"demo-{campaign.id}-{member_id}-{n}",
                    type=etype,
                    campaign_ref=campaign.name,
                    at=at,
                    campaign_id=campaign.id,
                    member_id=member_id,
                    address=address,
                    extra=json.dumps(keys) if keys else "",
                    content=content_of(keys),
                )
            )
    for chunk in chunked(events, BATCH_SIZE):
        apply_resolved(list(chunk), source="demo", now=now)
        count += len(chunk)
    return count


def _convert_some(rng: random.Random, campaign: Campaign, now: datetime) -> int:
    """Give a few converted members real opportunities with this campaign as their source."""
    M = CampaignMember
    converted = list(
        M.select()
        .where((M.campaign == campaign.id) & (M.status == MemberStatus.CONVERTED))
        .order_by(M.id)
        .limit(4)
    )
    made = 0
    for member in converted:
        stage = rng.choice(("Closed Won", "Closed Won", "Negotiation", "Proposal", "Closed Lost"))
        amount = rng.randrange(5_000, 120_000, 500)
        when = member.converted_at or now
        if member.lead_id:
            lead = Lead.get_by_id(member.lead_id)
            if lead.converted_contact_id:
                continue
            convert_lead(
                lead,
                opportunity_name=f"{campaign.name}: {lead.company or lead.last_name}",
                amount=amount,
                stage=stage,
                campaign_source=campaign,
                now=when,
            )
        else:
            contact = Contact.get_by_id(member.contact_id)
            create_opportunity(
                contact,
                f"{campaign.name}: {contact.company or contact.last_name}",
                amount,
                stage=stage,
                campaign_source=campaign,
                now=when,
            )
        made += 1
    return made
