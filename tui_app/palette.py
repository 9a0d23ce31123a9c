"""Command palette: jump to any campaign or person by name or email."""

from __future__ import annotations

import asyncio
from functools import partial

from rich.text import Text
from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.markup import escape

from data.db import database
from data.models import Campaign
from data.people import people_page
from data.text import visible

LIMIT = 8
"""Hits of each kind (campaigns, leads, contacts) the palette offers for one query."""


def find_targets(query: str) -> list[tuple[str, str, int, str]]:
    """(kind, label, id, help) of campaigns and people whose name or email contains the query.

    Labels and help lines are made `visible` here; the palette reads help as markup, so the
    help line is escaped too."""
    term = query.strip()
    found: list[tuple[str, str, int, str]] = []
    with database.connection_context():
        campaigns = Campaign.select(Campaign.id, Campaign.name, Campaign.type, Campaign.status)
        if term:
            campaigns = campaigns.where(Campaign.name.contains(term))
        for c in campaigns.order_by(Campaign.name).limit(LIMIT):
            help_line = escape(visible(f"Campaign · {c.type} · {c.status}"))
            found.append(("campaign", visible(c.name), c.id, help_line))
        if term:
            for kind in ("lead", "contact"):
                for pid, first, last, email, company, *_ in people_page(kind, term, limit=LIMIT):
                    label = visible(f"{first} {last}".strip() + f" <{email}>")
                    help_line = escape(visible(f"{kind.title()} · {company or '—'}"))
                    found.append((kind, label, pid, help_line))
    return found


def highlighted(label: str, query: str) -> Text:
    """The label as typed (never markup), with the query's first occurrence emphasised."""
    text = Text(label)
    at = label.lower().find(query.strip().lower()) if query.strip() else -1
    if at >= 0:
        text.stylize("bold underline", at, at + len(query.strip()))
    return text


class FindProvider(Provider):
    """Campaigns, leads and contacts by name or email."""

    async def discover(self) -> Hits:
        for kind, label, target, help_text in await asyncio.to_thread(find_targets, ""):
            yield DiscoveryHit(Text(label), self._opener(kind, target), text=label, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for kind, label, target, help_text in await asyncio.to_thread(find_targets, query):
            score = matcher.match(label) or 0.5
            yield Hit(
                score,
                highlighted(label, query),
                self._opener(kind, target),
                text=label,
                help=help_text,
            )

    def _opener(self, kind: str, target: int):
        if kind == "campaign":
            return partial(self.app.open_campaign, target)
        return partial(self.app.open_person, kind, target)
