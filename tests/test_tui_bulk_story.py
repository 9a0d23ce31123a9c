"""A marketer's bulk work from end to end, at 80x24: build an audience with the filter language in
the picker, enroll it after the confirmation, undo that, clean bounces and undo that with every
record back as it was."""

from __future__ import annotations

from data.campaigns import find_campaign
from data.members import pickable_ids
from data.models import CampaignMember
from data.rollups import campaign_metrics
from screens.add_members import AddMembersScreen
from screens.campaign_detail import CampaignDetailScreen
from screens.modals import ConfirmScreen
from tests.pilot import fresh, settle
from tests.test_tui_campaign_detail import open_detail
from tests.test_tui_small_terminal import SMALL

AUDIENCE = "country:DE,AT industry:software title:vp status:opened -status:clicked"
PLANNED = "Developer Conference"
ACTIVE = "EMEA Roadshow"


def records(name: str) -> dict:
    """Every member's full record, read on a new connection to see the app's commits."""
    M = CampaignMember

    def read():
        query = M.select().where(M.campaign == find_campaign(name).id)
        return {row["id"]: row for row in query.dicts()}

    return fresh(read)


def dialog(app) -> str:
    assert isinstance(app.screen, ConfirmScreen), app.screen
    return str(app.screen.query_one(".dialog-body").render())


async def test_build_enroll_undo_clean_undo_at_80x24(make_tui):
    campaign = find_campaign(PLANNED)
    vps = set(pickable_ids(campaign, "lead", AUDIENCE))
    assert vps and not pickable_ids(campaign, "contact", AUDIENCE)
    roadshow = records(ACTIVE)
    roadshow_metrics = campaign_metrics(find_campaign(ACTIVE))
    app = make_tui()
    async with app.run_test(size=SMALL) as pilot:
        await open_detail(pilot, PLANNED)
        await pilot.press("a")
        await settle(pilot)
        assert isinstance(app.screen, AddMembersScreen)
        await pilot.press("slash", *AUDIENCE, "ctrl+t")
        await settle(pilot)
        assert app.screen.selection.counts == {"lead": len(vps), "contact": 0}
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert f"Will enroll {len(vps)}, already members 0, excluded 0" in dialog(app)
        await pilot.press("y")
        await settle(pilot)
        assert isinstance(app.screen, CampaignDetailScreen)
        assert {r["lead"] for r in records(PLANNED).values()} == vps

        await pilot.press("z")
        await settle(pilot)
        assert f"add in {PLANNED}" in dialog(app)
        await pilot.press("y")
        await settle(pilot)
        assert records(PLANNED) == {}

        await pilot.press("escape")
        await open_detail(pilot, ACTIVE)
        await pilot.press("c")
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot)
        cleaned = records(ACTIVE)
        assert len(cleaned) < len(roadshow)
        assert not [r for r in cleaned.values() if r["bounced"] or r["unsubscribed"]]

        await pilot.press("z")
        await settle(pilot)
        assert f"clean in {ACTIVE}" in dialog(app)
        await pilot.press("y")
        await settle(pilot)
        assert records(ACTIVE) == roadshow
        assert fresh(lambda: campaign_metrics(find_campaign(ACTIVE))) == roadshow_metrics
