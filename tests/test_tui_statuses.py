"""The Statuses screen (a campaign's labels) and the status import with its preview."""

from __future__ import annotations

from textual.widgets import DataTable, Input

from data.campaigns import find_campaign
from data.labels import campaign_ladder, shown_status
from data.models import CampaignMember, Lead
from screens.status_import import StatusImportScreen
from screens.status_labels import LabelDialog, StatusLabelsScreen
from tests.pilot import SIZE, settle, wait_until

WEBINAR = "Spring Product Webinar"
SMALL = (80, 24)


async def open_statuses(pilot) -> None:
    await settle(pilot)
    pilot.app.open_campaign(find_campaign(WEBINAR).id)
    await settle(pilot)
    await pilot.press("l")
    await settle(pilot)


def attendance_file(tmp_path, count: int = 3):
    """A CSV marking the webinar's first `count` lead members Attended, plus an unknown email."""
    campaign = find_campaign(WEBINAR)
    members = list(
        CampaignMember.select(CampaignMember, Lead.email)
        .join(Lead)
        .where(CampaignMember.campaign == campaign.id)
        .order_by(CampaignMember.id)
        .limit(count)
    )
    path = tmp_path / "attendance.csv"
    lines = ["email,status"] + [f"{m.lead.email},Attended" for m in members]
    path.write_text("\n".join(lines + ["nobody@nowhere.example,Attended"]) + "\n")
    return path, [m.id for m in members]


async def open_import_preview(pilot, path) -> None:
    await settle(pilot)
    pilot.app.open_campaign(find_campaign(WEBINAR).id)
    await settle(pilot)
    await pilot.press("i")
    await settle(pilot)
    # typed relative to the app's folder (here the test's), as a user would
    pilot.app.screen.query_one("#import-path", Input).value = path.name
    await pilot.press("enter")
    await settle(pilot)


def test_statuses_snapshot(snap_compare, make_tui):
    """A Webinar's labels in order, with what each counts as, the default and member counts."""
    assert snap_compare(make_tui(), terminal_size=SIZE, run_before=open_statuses)


def test_statuses_snapshot_at_80x24(snap_compare, make_tui):
    assert snap_compare(make_tui(), terminal_size=SMALL, run_before=open_statuses)


def test_status_import_preview_snapshot(snap_compare, make_tui, tmp_path):
    """The preview before anything is applied: applied, unchanged and rejected with lines."""
    path, _ = attendance_file(tmp_path)

    async def run_before(pilot):
        await open_import_preview(pilot, path)

    assert snap_compare(make_tui(), terminal_size=SIZE, run_before=run_before)


def test_status_import_preview_snapshot_at_80x24(snap_compare, make_tui, tmp_path):
    path, _ = attendance_file(tmp_path)

    async def run_before(pilot):
        await open_import_preview(pilot, path)

    assert snap_compare(make_tui(), terminal_size=SMALL, run_before=run_before)


async def test_a_label_is_added_from_the_statuses_screen(make_tui):
    app = make_tui()
    async with app.run_test(size=SIZE) as pilot:
        await open_statuses(pilot)
        assert isinstance(app.screen, StatusLabelsScreen)
        names = [label.name for label in campaign_ladder(find_campaign(WEBINAR))]
        assert app.screen.query_one(DataTable).row_count == len(names)
        await pilot.press("a")
        await settle(pilot)
        assert isinstance(app.screen, LabelDialog)
        app.screen.query_one("#label-name", Input).value = "Waitlisted"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, StatusLabelsScreen)
        after = [label.name for label in campaign_ladder(find_campaign(WEBINAR))]
        assert "Waitlisted" in after and len(after) == len(names) + 1
        await wait_until(pilot, lambda: app.screen.query_one(DataTable).row_count == len(after))


async def test_the_status_import_previews_then_applies(make_tui, tmp_path):
    """Nothing changes until ctrl+s; then the listed members hold the label."""
    path, member_ids = attendance_file(tmp_path)
    app = make_tui()
    async with app.run_test(size=SIZE) as pilot:
        await open_import_preview(pilot, path)
        assert isinstance(app.screen, StatusImportScreen)
        preview = str(app.screen.query_one("#import-preview").render())
        assert "rejected" in preview.lower() and "line 5" in preview.lower()
        before = [shown_status(CampaignMember.get_by_id(i)) for i in member_ids]
        assert "Attended" not in before
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert not isinstance(app.screen, StatusImportScreen)
        after = [shown_status(CampaignMember.get_by_id(i)) for i in member_ids]
        assert after == ["Attended"] * len(member_ids)
