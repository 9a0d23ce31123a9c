"""Undo in the app: `z` where the change was made, and the journal screen."""

from __future__ import annotations

from data.campaigns import find_campaign
from data.journal import entries
from data.models import CampaignMember
from data.rollups import campaign_metrics
from screens.journal import JournalScreen
from screens.modals import ConfirmScreen
from tests.pilot import SIZE, fresh, settle
from tests.test_tui_campaign_detail import ROADSHOW, open_detail
from tests.test_tui_small_terminal import SMALL
from tui_app.widgets.member_table import MemberTable


def roadshow_members() -> dict:
    M = CampaignMember
    query = M.select().where(M.campaign == find_campaign(ROADSHOW).id)
    return {row["id"]: row for row in query.dicts()}


async def clean_roadshow(pilot) -> None:
    await open_detail(pilot)
    await pilot.press("c")
    await settle(pilot)
    await pilot.press("y")
    await settle(pilot)


async def test_z_undoes_a_clean_on_the_campaign_with_every_record_back(make_tui):
    before = roadshow_members()
    metrics = campaign_metrics(find_campaign(ROADSHOW))
    app = make_tui()
    async with app.run_test(size=SIZE) as pilot:
        await clean_roadshow(pilot)
        assert fresh(lambda: len(roadshow_members())) < len(before)
        await pilot.press("z")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        assert "clean in EMEA Roadshow" in str(app.screen.query_one(".dialog-body").render())
        await pilot.press("y")
        await settle(pilot)
        assert fresh(roadshow_members) == before
        assert fresh(lambda: campaign_metrics(find_campaign(ROADSHOW))) == metrics
        assert app.screen.query_one(MemberTable).total == metrics.sent
        await pilot.press("z")  # the start before it is the next newest: asked, declined
        await settle(pilot)
        assert "enroll in EMEA Roadshow" in str(app.screen.query_one(".dialog-body").render())
        await pilot.press("n")
        await settle(pilot)
        assert fresh(roadshow_members) == before


async def test_the_journal_screen_lists_changes_and_undoes_the_selected_one(make_tui):
    before = roadshow_members()
    app = make_tui()
    async with app.run_test(size=SIZE) as pilot:
        await clean_roadshow(pilot)
        await pilot.press("j")
        await settle(pilot)
        pilot.app.clear_notifications()  # the clean's toast would go or stay by the clock
        await settle(pilot)
        assert isinstance(app.screen, JournalScreen)
        table = app.screen.query_one("#journal")
        assert table.row_count == len(fresh(lambda: entries(find_campaign(ROADSHOW).id)))
        await pilot.press("z")
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot)
        assert fresh(roadshow_members) == before
        assert "undone" in str(table.get_row_at(0))
        await pilot.press("z")
        await settle(pilot)
        assert not isinstance(app.screen, ConfirmScreen)  # already undone: said, not asked


def test_journal_snapshot(snap_compare, make_tui):
    async def run_before(pilot):
        await clean_roadshow(pilot)
        await pilot.press("j")
        await settle(pilot)
        pilot.app.clear_notifications()  # the clean's toast would go or stay by the clock
        await settle(pilot)

    assert snap_compare(make_tui(), terminal_size=SIZE, run_before=run_before)


def test_journal_snapshot_at_80x24(snap_compare, make_tui):
    async def run_before(pilot):
        await clean_roadshow(pilot)
        await pilot.press("escape", "j")
        await settle(pilot)
        pilot.app.clear_notifications()  # the clean's toast would go or stay by the clock
        await settle(pilot)

    assert snap_compare(make_tui(), terminal_size=SMALL, run_before=run_before)
