"""The member list's marked rows: space marks one, ctrl+t every match; then d removes them (z
brings them back), s raises their status, x exports them."""

from __future__ import annotations

import csv

from textual.widgets import OptionList, Static

from data import journal
from data.campaigns import find_campaign
from data.members import member_page
from data.models import CampaignMember
from screens.modals import ChoiceScreen, ConfirmScreen
from tests.pilot import SIZE, fresh, settle, wait_until
from tests.test_tui_campaign_detail import ROADSHOW, ROADSHOW_LABELS, open_detail

SMALL = (80, 24)


async def keys(pilot, *pressed: str) -> None:
    for key in pressed:
        await pilot.press(key)
        await settle(pilot)


def count_line(app) -> str:
    return str(app.screen.query_one("#member-count", Static).render())


def existing(ids: list[int]) -> int:
    return fresh(lambda: CampaignMember.select().where(CampaignMember.id.in_(ids)).count())


def standing(ids: list[int]) -> dict[int, tuple[str, int]]:
    """Each member's status and label."""
    M = CampaignMember
    return {
        i: (s, label)
        for i, s, label in M.select(M.id, M.status, M.label).where(M.id.in_(ids)).tuples()
    }


async def test_mark_rows_remove_them_after_confirming_and_undo(make_tui):
    app = make_tui()
    async with app.run_test(size=SIZE) as pilot:
        table = await open_detail(pilot)
        total = table.total
        chosen = [table.rows[0].id, table.rows[1].id]
        await keys(pilot, "space", "space")
        assert table.marks.count == 2 and "2 marked" in count_line(app)
        assert table.cursor == 2, "space moves on to the next row"
        await keys(pilot, "d")
        assert isinstance(app.screen, ConfirmScreen)
        body = str(app.screen.query_one(".dialog-body").render())
        assert "Remove 2 marked members" in body
        await keys(pilot, "y")
        assert existing(chosen) == 0
        await wait_until(pilot, lambda: table.total == total - 2)
        assert not table.marks and "marked" not in count_line(app)
        [entry] = fresh(lambda: journal.entries(find_campaign(ROADSHOW).id, limit=1))
        assert (entry.action, entry.count) == ("remove", 2)
        await keys(pilot, "z")
        assert isinstance(app.screen, ConfirmScreen)
        await keys(pilot, "y")
        assert existing(chosen) == 2
        await wait_until(pilot, lambda: table.total == total)


async def test_mark_every_match_but_one_and_raise_their_status(make_tui):
    """ctrl+t marks every member the filter matches (without holding their ids), space unmarks
    one, s raises the rest to the label chosen: one journal entry; z undoes it."""
    campaign = find_campaign(ROADSHOW)
    app = make_tui()
    async with app.run_test(size=SIZE) as pilot:
        table = await open_detail(pilot)
        await keys(pilot, "slash", *"type:contact", "enter")
        matching = [row.id for row in member_page(campaign.id, search="type:contact", limit=10_000)]
        before = fresh(lambda: standing(matching))
        await keys(pilot, "ctrl+t")
        assert table.marks.ids == set(), "a filter stands for the matches"
        assert table.marks.count == len(matching) and f"{len(matching):,} marked" in count_line(app)
        spared = table.current_row.id
        await keys(pilot, "space")
        assert table.marks.count == len(matching) - 1
        await keys(pilot, "s")
        await wait_until(pilot, lambda: isinstance(app.screen, ChoiceScreen))
        await settle(pilot)
        options = app.screen.query_one(OptionList)
        ids = [options.get_option_at_index(i).id for i in range(options.option_count)]
        assert ids == ROADSHOW_LABELS
        options.highlighted = ids.index("Attended")
        await keys(pilot, "enter")
        after = fresh(lambda: standing(matching))
        assert after[spared] == before[spared]
        assert {after[i][0] for i in matching if i != spared} <= {"Responded", "Converted"}
        [entry] = fresh(lambda: journal.entries(campaign.id, limit=1))
        raised = sum(1 for i in matching if after[i] != before[i])
        assert (entry.action, entry.count) == ("status", raised) and raised
        await keys(pilot, "z", "y")
        restored = fresh(lambda: standing(matching))
        assert restored == before


async def test_changing_the_filter_drops_a_mark_of_every_match(make_tui):
    app = make_tui()
    async with app.run_test(size=SIZE) as pilot:
        table = await open_detail(pilot)
        await keys(pilot, "ctrl+t")
        assert table.marks.count == table.total
        await keys(pilot, "2")
        assert not table.marks


async def test_export_only_the_marked_rows(make_tui, tmp_path):
    app = make_tui()
    async with app.run_test(size=SIZE) as pilot:
        table = await open_detail(pilot)
        await keys(pilot, "down", "space", "down", "space")
        chosen = [table.rows[1].email, table.rows[3].email]
        await keys(pilot, "x", "enter")
    [path] = list(tmp_path.glob("emea-roadshow-marked-*.csv"))
    with open(path, newline="") as handle:
        assert [row["email"] for row in csv.DictReader(handle)] == chosen


async def marked_rows(pilot) -> None:
    await open_detail(pilot)
    await keys(pilot, "space", "down", "space", "space")
    pilot.app.clear_notifications()
    await settle(pilot)


def test_marked_rows_snapshot(snap_compare, make_tui):
    """Three rows marked: the mark column and the count beside the filter."""
    assert snap_compare(make_tui(), terminal_size=SIZE, run_before=marked_rows)


def test_marked_rows_snapshot_at_80x24(snap_compare, make_tui):
    assert snap_compare(make_tui(), terminal_size=SMALL, run_before=marked_rows)


async def test_marks_that_stand_for_nobody_are_not_acted_on(make_tui):
    """Every match marked, then the one match unmarked: d says so instead of asking."""
    app = make_tui()
    async with app.run_test(size=SIZE) as pilot:
        table = await open_detail(pilot)
        email = table.rows[0].email
        await keys(pilot, "slash", *email, "enter", "ctrl+t")
        assert table.marks.count == 1
        await keys(pilot, "space")
        assert table.marks and table.marks.count == 0
        await keys(pilot, "d")
        assert not isinstance(app.screen, ConfirmScreen)
        assert any("No rows are marked" in n.message for n in app._notifications)
