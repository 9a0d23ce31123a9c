"""What a person engaged with, in the app: the person screen's summary, score, weekly activity
and timeline; the hot list; a campaign's Content tab. Snapshots at 120x40 and 80x24."""

from __future__ import annotations

import pytest

from data.engaged import find_person, hot_list, person_activity, timeline_count
from data.ingest import ingest_records
from data.members import memberships_of
from data.models import Campaign, Lead
from screens.event_history import MemberEventsScreen
from screens.hot_list import HotListScreen, HotTable
from screens.person_detail import PersonDetailScreen
from tests.conftest import FIXED_NOW
from tests.pilot import SIZE, palette_offers, settle, wait_until
from tui_app.widgets.activity_table import ActivityTable

SMALL = (80, 24)


def engaged_person():
    """The demo's best-scored lead: content, responses and clicks on record."""
    best = next(p for p in hot_list(FIXED_NOW, limit=20) if p.kind == "lead")
    return Lead.get_by_id(best.id)


async def open_engaged(pilot, view: str = "") -> None:
    await settle(pilot)
    pilot.app.open_person("lead", engaged_person().id)
    await settle(pilot)
    if view:
        await pilot.press(view)
        await settle(pilot)


@pytest.mark.parametrize("size", [SIZE, SMALL], ids=["120x40", "80x24"])
def test_person_with_content_snapshot(snap_compare, make_tui, size):
    async def run_before(pilot):
        await open_engaged(pilot)

    assert snap_compare(make_tui(), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", [SIZE, SMALL], ids=["120x40", "80x24"])
def test_person_activity_snapshot(snap_compare, make_tui, size):
    async def run_before(pilot):
        await open_engaged(pilot, "2")

    assert snap_compare(make_tui(), terminal_size=size, run_before=run_before)


def test_person_score_explained_snapshot(snap_compare, make_tui):
    async def run_before(pilot):
        await open_engaged(pilot, "3")

    assert snap_compare(make_tui(), terminal_size=SMALL, run_before=run_before)


@pytest.mark.parametrize("size", [SIZE, SMALL], ids=["120x40", "80x24"])
def test_hot_list_snapshot(snap_compare, make_tui, size):
    async def run_before(pilot):
        await settle(pilot)
        pilot.app.action_hot_list()
        await settle(pilot)

    assert snap_compare(make_tui(), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", [SIZE, SMALL], ids=["120x40", "80x24"])
def test_content_tab_snapshot(snap_compare, make_tui, size):
    async def run_before(pilot):
        await settle(pilot)
        pilot.app.open_campaign(Campaign.get(Campaign.name == "EMEA Roadshow").id)
        await settle(pilot)
        await pilot.press("o", "left")
        await settle(pilot)

    assert snap_compare(make_tui(), terminal_size=size, run_before=run_before)


async def test_person_screen_says_what_they_engaged_with_and_pages_the_timeline(make_tui):
    lead = engaged_person()
    member = memberships_of(lead)[0]
    # a long history: more events than one page of the timeline
    ingest_records(
        [
            {
                "type": "click",
                "campaign": member.campaign_id,
                "email": lead.email,
                "at": f"2026-11-{1 + i % 19:02d}T10:{i % 60:02d}:00Z",
                "title": f"Pricing page {i}",
            }
            for i in range(250)
        ],
        now=FIXED_NOW,
    )
    expected = person_activity(lead, FIXED_NOW)
    app = make_tui()
    async with app.run_test(size=SMALL) as pilot:
        await open_engaged(pilot, "2")
        screen = app.screen
        assert isinstance(screen, PersonDetailScreen)
        summary = str(screen.query_one("#summary").render())
        assert expected.summary[0][:30] in summary
        table = screen.query_one(ActivityTable)
        ids = [m.member_id for m in memberships_of(lead)]
        assert table.total == timeline_count(ids) > 250
        assert len(table.rows) < table.total  # fetched page by page, not all at once
        await pilot.press("end")
        await settle(pilot)
        assert table.cursor == table.total - 1 and table.total - 1 in table.rows


async def test_enter_on_a_membership_opens_that_members_history_with_content_in_words(make_tui):
    lead = engaged_person()
    first = memberships_of(lead)[0]
    app = make_tui()
    async with app.run_test(size=SIZE) as pilot:
        await open_engaged(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, MemberEventsScreen)
        assert app.screen.member_id == first.member_id
        text = app.export_screenshot()
        assert '{"' not in text and "&#123;&quot;" not in text  # no raw JSON


def first_names(table, count: int = 10) -> list[str]:
    """The Name column of the table's first rows (those on screen are fetched)."""
    return [table.cells_at(i)[1][0] for i in range(min(count, table.total))]


async def test_hot_list_from_people_and_palette_filters_and_opens(make_tui):
    app = make_tui()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.action_people()
        await settle(pilot)
        await pilot.press("k")
        await settle(pilot)
        assert isinstance(app.screen, HotListScreen)
        table = app.screen.query_one(HotTable)
        best = hot_list(FIXED_NOW, limit=200)
        assert first_names(table) == [p.name for p in best[:10]]
        country = find_person(best[0].email).country
        await pilot.press("slash", *f"country:{country}")
        await settle(pilot)
        filtered = hot_list(FIXED_NOW, limit=200, filter_text=f"country:{country}")
        assert first_names(table) == [p.name for p in filtered[:10]]
        await pilot.press("space", *"-nope:x")
        await settle(pilot)
        assert "unknown field" in str(app.screen.query_one("#hot-problems").render())
        assert first_names(table) == [p.name for p in filtered[:10]]  # the rows stay
        await pilot.press("escape", "enter")
        await settle(pilot)
        assert isinstance(app.screen, PersonDetailScreen)
        assert app.screen.person_id == filtered[0].id
        await pilot.press("escape", "escape", "escape")
        await settle(pilot)
        await pilot.press("ctrl+p", *"hot list")
        await wait_until(pilot, lambda: palette_offers(app, "Hot list"))
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, HotListScreen)
