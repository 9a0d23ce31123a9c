"""The campaign's Trend tab: people opening, clicking and responding over time, as sparklines.
Snapshots at 120x40 and 80x24."""

from __future__ import annotations

import pytest
from textual.widgets import Sparkline

from data.models import Campaign
from data.trend import campaign_trend
from screens.campaign_detail import CampaignDetailScreen
from tests import factories
from tests.pilot import SIZE, settle
from tui_app.widgets.trend_pane import TrendPane

SMALL = (80, 24)


async def open_trend(pilot, name: str = "EMEA Roadshow") -> None:
    await settle(pilot)
    pilot.app.open_campaign(Campaign.get(Campaign.name == name).id)
    await settle(pilot)
    await pilot.press("g")
    await settle(pilot)


@pytest.mark.parametrize("size", [SIZE, SMALL], ids=["120x40", "80x24"])
def test_trend_tab_snapshot(snap_compare, make_tui, size):
    async def run_before(pilot):
        await open_trend(pilot)

    assert snap_compare(make_tui(), terminal_size=size, run_before=run_before)


async def test_g_shows_the_campaigns_people_per_day(make_tui):
    app = make_tui()
    async with app.run_test(size=SMALL) as pilot:
        await open_trend(pilot)
        screen = app.screen
        assert isinstance(screen, CampaignDetailScreen)
        pane = screen.query_one(TrendPane)
        expected = campaign_trend(Campaign.get(Campaign.name == "EMEA Roadshow"))
        assert pane.trend == expected and len(expected.points) > 10
        assert list(screen.query_one("#trend-responded", Sparkline).data or []) == (
            expected.series("responded")
        )
        peak = str(screen.query_one("#trend-opened-peak").render())
        assert f"peak {max(expected.series('opened')):,}" in peak


def test_the_help_screen_names_the_trend_key():
    from screens.help import bindings_of

    assert ("g", "Trend") in bindings_of(CampaignDetailScreen)


async def test_a_campaign_without_events_says_so(make_tui):
    factories.campaign("Quiet Launch")
    app = make_tui()
    async with app.run_test(size=SMALL) as pilot:
        await open_trend(pilot, "Quiet Launch")
        note = str(app.screen.query_one("#trend-note").render())
        assert note.startswith("No opens, clicks or responses yet")
