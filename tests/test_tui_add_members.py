"""The Add Members picker: marking by keyboard, mark-all by filter, excluded rows, enroll."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from textual.widgets import DataTable

from data.audience import NEW
from data.campaigns import find_campaign
from data.db import database
from data.enrollment import EnrollmentResult
from data.members import PickerRow, pickable_ids
from data.models import CampaignMember
from screens.add_members import AddMembersScreen, Selection
from screens.campaign_detail import CampaignDetailScreen
from tests import factories
from tests.pilot import SIZE, settle

PLANNED = "Developer Conference"
ACTIVE = "EMEA Roadshow"


def members_of(name: str) -> set[tuple]:
    database.close()
    database.connect()
    return {
        (m.lead_id, m.contact_id)
        for m in CampaignMember.select().where(CampaignMember.campaign == find_campaign(name).id)
    }


async def open_picker(pilot, name: str) -> list:
    """Open the picker over the campaign's detail, the way a user does (a)."""
    await settle(pilot)
    pilot.app.open_campaign(find_campaign(name).id)
    await settle(pilot)
    results: list = []
    screen = pilot.app.screen
    assert isinstance(screen, CampaignDetailScreen)
    pilot.app.push_screen(AddMembersScreen(screen.campaign_id), results.append)
    await settle(pilot)
    return results


def table(app, kind: str = "lead") -> DataTable:
    return app.screen.query_one(f"#pick-{kind}", DataTable)


def test_picker_snapshot_with_marks(snap_compare, make_tui):
    async def run_before(pilot):
        await open_picker(pilot, PLANNED)
        await pilot.press("space", "space", "down", "space")
        await settle(pilot)

    assert snap_compare(make_tui(), terminal_size=SIZE, run_before=run_before)


def test_picker_snapshot_contacts_with_excluded_rows(snap_compare, make_tui):
    async def run_before(pilot):
        await open_picker(pilot, ACTIVE)
        await pilot.press("c")
        await settle(pilot)

    assert snap_compare(make_tui(), terminal_size=SIZE, run_before=run_before)


async def test_mark_three_by_keyboard_and_enroll(make_tui):
    app = make_tui()
    async with app.run_test(size=SIZE) as pilot:
        results = await open_picker(pilot, PLANNED)
        rows = app.screen.rows["lead"][:3]
        assert all(r.category == NEW for r in rows)
        await pilot.press("space", "space", "space")  # space marks and moves down
        assert app.screen.selection.total() == 3
        assert "3 selected: 3 leads, 0 contacts" in str(app.screen.query_one("#picked").render())
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(results[0], EnrollmentResult) and results[0].enrolled == 3
        assert members_of(PLANNED) == {(r.id, None) for r in rows}
        assert isinstance(app.screen, CampaignDetailScreen)


async def test_excluded_rows_cannot_be_marked(make_tui):
    """Members already in the campaign and do-not-email people are shown, never marked."""
    app = make_tui()
    async with app.run_test(size=SIZE) as pilot:
        await open_picker(pilot, ACTIVE)
        rows = app.screen.rows["lead"]
        blocked = next(i for i, r in enumerate(rows) if r.category != NEW)
        for _ in range(blocked):
            await pilot.press("down")
        await pilot.press("space")
        assert app.screen.selection.total() == 0
        reason = str(table(app).get_row_at(blocked)[4])
        assert reason in {
            "already a member",
            "do not email",
            "email bounced",
            "converted to a contact",
        }


async def test_mark_all_matching_the_filter(make_tui):
    """ctrl+t marks every pickable person matching the filter, loaded or not."""
    campaign = find_campaign(PLANNED)
    expected = pickable_ids(campaign, "lead", "example")
    app = make_tui()
    async with app.run_test(size=SIZE) as pilot:
        results = await open_picker(pilot, PLANNED)
        await pilot.press("slash", *"example")
        await settle(pilot)
        await pilot.press("ctrl+t")
        await settle(pilot)
        assert app.screen.selection.ids["lead"] == set(expected)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert results[0].enrolled == len(expected)
        assert {lead for lead, _ in members_of(PLANNED)} == set(expected)


async def test_marks_survive_filtering_and_escape_writes_nothing(make_tui):
    app = make_tui()
    async with app.run_test(size=SIZE) as pilot:
        results = await open_picker(pilot, PLANNED)
        await pilot.press("space", "space")
        await pilot.press("slash", *"zzz-nobody")
        await settle(pilot)
        assert table(app).row_count == 0
        await pilot.press("ctrl+u")  # the filter box's own clear-line key
        await settle(pilot)
        assert app.screen.selection.total() == 2
        assert str(table(app).get_row_at(0)[0]) == "✓"
        await pilot.press("escape")
        await settle(pilot)
        assert results == [None]
        assert members_of(PLANNED) == set()


async def test_enter_with_nothing_marked_explains(make_tui):
    app = make_tui()
    async with app.run_test(size=SIZE) as pilot:
        await open_picker(pilot, PLANNED)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, AddMembersScreen)
        assert any("Mark people with space first" in n.message for n in app._notifications)


async def test_names_with_markup_show_literally(make_tui):
    factories.lead(first_name="[bold]Mal[/bold]", last_name="Z", email="mal@z.example")
    app = make_tui()
    async with app.run_test(size=SIZE) as pilot:
        await open_picker(pilot, PLANNED)
        await pilot.press("slash", *"mal@z")
        await settle(pilot)
        assert str(table(app).get_row_at(0)[1]) == "[bold]Mal[/bold] Z"


rows = st.lists(
    st.builds(
        PickerRow,
        id=st.integers(1, 30),
        name=st.just("n"),
        email=st.just("e"),
        company=st.just(""),
        category=st.sampled_from([NEW, NEW, "already_member", "do_not_email", "bounced"]),
    ),
    max_size=40,
)


@settings(max_examples=200)
@given(rows, st.sampled_from(["lead", "contact"]))
def test_selection_holds_exactly_the_pickable_rows_toggled_an_odd_number_of_times(toggles, kind):
    selection = Selection()
    for row in toggles:
        selection.toggle(kind, row)
    expected = set()
    for row in toggles:
        if row.category == NEW:
            expected ^= {row.id}
    assert selection.ids[kind] == expected
    assert selection.total() == len(expected)
