"""A parent campaign's screen shows its hierarchy's totals (each person once). Snapshots at
120x40 and 80x24."""

from __future__ import annotations

import pytest

from data.hierarchy import hierarchy_metrics, set_parent
from data.models import Campaign
from tests.pilot import SIZE, settle

SMALL = (80, 24)


def a_launch() -> Campaign:
    """The demo's EMEA Roadshow with two other campaigns under it."""
    top = Campaign.get(Campaign.name == "EMEA Roadshow")
    others = Campaign.select().where(Campaign.id != top.id).order_by(Campaign.name).limit(2)
    for campaign in others:
        set_parent(campaign, top)
    return top


async def open_campaign(pilot, campaign: Campaign) -> None:
    await settle(pilot)
    pilot.app.open_campaign(campaign.id)
    await settle(pilot)


@pytest.mark.parametrize("size", [SIZE, SMALL], ids=["120x40", "80x24"])
def test_parent_campaign_snapshot(snap_compare, make_tui, size):
    top = a_launch()

    async def run_before(pilot):
        await open_campaign(pilot, top)

    assert snap_compare(make_tui(), terminal_size=size, run_before=run_before)


async def test_a_parent_shows_its_hierarchy_totals_and_a_child_does_not(make_tui):
    top = a_launch()
    totals = hierarchy_metrics(top)
    app = make_tui()
    async with app.run_test(size=SIZE) as pilot:
        await open_campaign(pilot, top)
        facts = str(app.screen.query_one("#facts").render())
        assert "Hierarchy of 3 campaigns" in facts
        assert f"Sent {totals.sent:,}" in facts and f"Responded {totals.responded:,}" in facts
        assert totals.sent > top.stats.get().sent
        child = Campaign.get(Campaign.parent == top.id)
        await pilot.press("escape")
        await open_campaign(pilot, child)
        assert "Hierarchy" not in str(app.screen.query_one("#facts").render())
