"""ctrl+o sorts the member list, People and the picker: the header's arrow, the first row, and
End then Home still landing on the right rows."""

from __future__ import annotations

import pytest

from data.campaigns import find_campaign
from data.members import member_page, picker_page
from data.people import people_page
from data.sorting import Order
from screens.add_members import AddMembersScreen, PickerTable
from screens.people import PeopleScreen, PeopleTable
from tests.pilot import SIZE, settle
from tui_app.widgets.member_table import MemberTable

ROADSHOW = "EMEA Roadshow"


def header(table) -> str:
    return table.render_line(0).text


async def sort_and_check(pilot, table, expected_first, expected_last, key) -> None:
    """The first row after sorting, the last after End, the first again after Home."""
    assert key(table.current_row) == expected_first
    await pilot.press("end")
    await settle(pilot)
    assert key(table.current_row) == expected_last
    await pilot.press("home")
    await settle(pilot)
    assert key(table.current_row) == expected_first


async def test_ctrl_o_sorts_the_member_list(make_tui):
    app = make_tui()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        campaign_id = find_campaign(ROADSHOW).id
        app.open_campaign(campaign_id)
        await settle(pilot)
        table = app.screen.query_one(MemberTable)
        assert "↑" not in header(table) and "↓" not in header(table)
        for column, descending, title in (
            ("name", False, "Name ↑"),
            ("name", True, "Name ↓"),
            ("email", False, "Email ↑"),
        ):
            await pilot.press("ctrl+o")
            await settle(pilot)
            assert title in header(table)
            rows = member_page(campaign_id, order=Order(column, descending), limit=100_000)
            await sort_and_check(pilot, table, rows[0].id, rows[-1].id, lambda r: r.id)
        for _ in range(8):  # email down, status, added, opened both ways, then its own order
            await pilot.press("ctrl+o")
            await settle(pilot)
        assert "↑" not in header(table) and "↓" not in header(table)
        assert table.current_row.id == member_page(campaign_id, limit=1)[0].id


async def test_a_sort_by_a_column_hidden_at_80_columns_is_named_in_the_header(make_tui):
    """At 80 columns the member list shows name, email and status: sorted by the added date or
    the first open, the first column's title says so, arrow and all."""
    app = make_tui()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        app.open_campaign(find_campaign(ROADSHOW).id)
        await settle(pilot)
        table = app.screen.query_one(MemberTable)
        seen = []
        for _ in range(10):
            await pilot.press("ctrl+o")
            await settle(pilot)
            seen.append(header(table).split()[:5])
        assert seen == [
            ["Name", "↑", "Email", "Status"],
            ["Name", "↓", "Email", "Status"],
            ["Name", "Email", "↑", "Status"],
            ["Name", "Email", "↓", "Status"],
            ["Name", "Email", "Status", "↑"],
            ["Name", "Email", "Status", "↓"],
            ["Name", "·", "by", "Added", "↑"],
            ["Name", "·", "by", "Added", "↓"],
            ["Name", "·", "by", "Opened", "↑"],
            ["Name", "·", "by", "Opened", "↓"],
        ]


async def test_ctrl_o_sorts_people_by_email_and_back_to_name(make_tui):
    app = make_tui()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await app.push_screen(PeopleScreen())
        await settle(pilot)
        table = app.screen.query_one("#leads", PeopleTable)
        assert "Name ↑" in header(table)
        await pilot.press("ctrl+o")
        await settle(pilot)
        assert "Name ↓" in header(table)
        rows = people_page("lead", order=Order("name", True), limit=100_000)
        await sort_and_check(pilot, table, rows[0][0], rows[-1][0], lambda r: r[0])
        await pilot.press("ctrl+o")
        await settle(pilot)
        assert "Email ↑" in header(table) and "Name ↑" not in header(table)
        rows = people_page("lead", order=Order("email"), limit=100_000)
        await sort_and_check(pilot, table, rows[0][0], rows[-1][0], lambda r: r[0])
        await pilot.press("ctrl+o", "ctrl+o")
        await settle(pilot)
        assert "Name ↑" in header(table)


async def test_ctrl_o_sorts_the_picker_even_while_typing_a_filter(make_tui):
    app = make_tui()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        campaign = find_campaign(ROADSHOW)
        await app.push_screen(AddMembersScreen(campaign.id))
        await settle(pilot)
        await pilot.press("slash", "ctrl+o")
        await settle(pilot)
        table = app.screen.query_one("#pick-lead", PickerTable)
        assert "Name ↑" in header(table)
        rows = picker_page(campaign, "lead", order=Order("name"), limit=100_000)
        table.focus()
        await settle(pilot)
        await sort_and_check(pilot, table, rows[0].id, rows[-1].id, lambda r: r.id)


@pytest.mark.parametrize("size", [SIZE, (80, 24)], ids=["120x40", "80x24"])
def test_sorted_member_list_snapshot(snap_compare, make_tui, size):
    async def run_before(pilot):
        await settle(pilot)
        pilot.app.open_campaign(find_campaign(ROADSHOW).id)
        await settle(pilot)
        await pilot.press("ctrl+o", "ctrl+o")  # name, downwards
        await settle(pilot)

    assert snap_compare(make_tui(), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", [SIZE, (80, 24)], ids=["120x40", "80x24"])
def test_sorted_people_snapshot(snap_compare, make_tui, size):
    async def run_before(pilot):
        await settle(pilot)
        await pilot.app.push_screen(PeopleScreen())
        await settle(pilot)
        await pilot.press("ctrl+o", "ctrl+o")  # email, upwards
        await settle(pilot)

    assert snap_compare(make_tui(), terminal_size=size, run_before=run_before)
