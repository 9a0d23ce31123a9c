"""The Add Members picker: marking by keyboard, mark-all by filter, excluded rows, enroll."""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st
from textual.widgets import Input

from data.audience import NEW
from data.campaigns import find_campaign
from data.enrollment import EnrollmentResult, enroll
from data.members import PickerRow, pickable_ids
from data.models import CampaignMember
from screens.add_members import WHY_NOT, AddMembersScreen, PickerTable, Selection
from screens.modals import ConfirmScreen
from tests import factories
from tests.pilot import SIZE, fresh, settle

PLANNED = "Developer Conference"  # Planned, no members yet
ACTIVE = "EMEA Roadshow"  # In Progress, 195 members


def members_of(name: str) -> set[tuple]:
    """(lead id, contact id) of every member, read on a new connection to see the app's commits."""
    return fresh(
        lambda: {
            (m.lead_id, m.contact_id)
            for m in CampaignMember.select().where(
                CampaignMember.campaign == find_campaign(name).id
            )
        }
    )


async def open_picker(pilot, name: str) -> list:
    """Push the picker straight over the home screen; the returned list gets the dismiss value."""
    await settle(pilot)
    results: list = []
    await pilot.app.push_screen(AddMembersScreen(find_campaign(name).id), results.append)
    await settle(pilot)
    return results


def table(app, kind: str = "lead") -> PickerTable:
    return app.screen.query_one(f"#pick-{kind}", PickerTable)


def cell(app, index: int, col: int, kind: str = "lead") -> str:
    return table(app, kind).cells_at(index)[col][0]


def loaded(app, kind: str = "lead") -> list[PickerRow]:
    """The rows at hand, in list order."""
    return [row for _, row in sorted(table(app, kind).rows.items())]


def picked_line(app) -> str:
    return str(app.screen.query_one("#picked").render())


def dialog_text(app) -> str:
    assert isinstance(app.screen, ConfirmScreen)
    return str(app.screen.query_one(".dialog-body").render())


def test_picker_snapshot_with_marks(snap_compare, make_tui):
    async def run_before(pilot):
        await open_picker(pilot, PLANNED)
        await pilot.press("space", "down", "space", "down", "space")
        await settle(pilot)

    assert snap_compare(make_tui(), terminal_size=SIZE, run_before=run_before)


def test_picker_snapshot_contacts_filtered_with_excluded_rows(snap_compare, make_tui):
    async def run_before(pilot):
        await open_picker(pilot, ACTIVE)
        await pilot.press("c", "slash", *"Oceanic")
        await settle(pilot)
        await pilot.press("tab", "down", "down", "space")  # the first pickable match
        await settle(pilot)

    assert snap_compare(make_tui(), terminal_size=SIZE, run_before=run_before)


async def test_mark_three_by_keyboard_and_enroll(make_tui):
    app = make_tui()
    async with app.run_test(size=SIZE) as pilot:
        home = app.screen
        results = await open_picker(pilot, PLANNED)
        rows = loaded(app)
        assert [r.category for r in rows[:3]] == [NEW, NEW, NEW]
        # space marks and moves down: mark 0 and 1, unmark 1, mark 1 again, mark 2
        await pilot.press("space", "space", "up", "space", "up", "space", "space")
        assert app.screen.selection.ids["lead"] == {rows[0].id, rows[1].id, rows[2].id}
        assert "3 selected: 3 leads, 0 contacts" in picked_line(app)
        assert [cell(app, i, 0) for i in range(4)] == ["✓", "✓", "✓", ""]
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)  # the counts first
        assert "Will enroll 3, already members 0, excluded 0" in dialog_text(app)
        await pilot.press("y")
        await settle(pilot)
        assert isinstance(results[0], EnrollmentResult) and results[0].enrolled == 3
        assert members_of(PLANNED) == {(r.id, None) for r in rows[:3]}
        assert app.screen is home


async def test_excluded_rows_show_why_and_cannot_be_marked(make_tui):
    """Members already in the campaign and do-not-email people are shown, never marked."""
    app = make_tui()
    async with app.run_test(size=SIZE) as pilot:
        await open_picker(pilot, ACTIVE)
        seen = set()
        for kind, category in (
            ("lead", "already_member"),
            ("contact", "already_member"),
            ("contact", "do_not_email"),
        ):
            await pilot.press(kind[0])  # l or c switches tabs
            rows = loaded(app, kind)
            index = next(i for i, r in enumerate(rows) if r.category == category)
            table(app, kind).move_to(index)
            await pilot.press("space")
            await settle(pilot)
            assert table(app, kind).cursor == index  # space on an excluded row stays put
            cells = table(app, kind).cells_at(index)
            assert cells[0][0] == "" and cells[4][0] == WHY_NOT[category]
            assert cells[1][1] == "dim"
            seen.add(category)
        assert seen == {"already_member", "do_not_email"}
        assert app.screen.selection.total() == 0
        assert "0 selected" in picked_line(app)


async def test_mark_all_matching_the_filter_then_enroll_in_one_go(make_tui):
    """ctrl+t marks every pickable person matching the filter, loaded or not, in both tabs;
    enrolling says first how many it will enroll and who the filter matched but cannot add."""
    campaign = find_campaign(PLANNED)
    leads = set(pickable_ids(campaign, "lead", "-flag:bounced"))
    contacts = set(pickable_ids(campaign, "contact", "-flag:bounced"))
    assert len(contacts) > 100  # more than the first page the picker loads
    app = make_tui()
    async with app.run_test(size=SIZE) as pilot:
        results = await open_picker(pilot, PLANNED)
        await pilot.press("slash", *"-flag:bounced", "ctrl+t")
        await settle(pilot)
        assert len(table(app, "contact").rows) == 100  # the rest was never fetched
        selection = app.screen.selection
        assert selection.counts == {"lead": len(leads), "contact": len(contacts)}
        assert selection.ids == {"lead": set(), "contact": set()}  # a filter stands for them
        for kind, ids in (("lead", leads), ("contact", contacts)):
            ticks = {r.id for i, r in enumerate(loaded(app, kind)) if cell(app, i, 0, kind) == "✓"}
            assert ticks == {r.id for r in loaded(app, kind)} & ids
        total = len(leads) + len(contacts)
        assert f"{total} selected: {len(leads)} leads, {len(contacts)} contacts" in (
            picked_line(app)
        )
        await pilot.press("ctrl+s")
        await settle(pilot)
        body = dialog_text(app)
        assert f"Will enroll {total}, already members 0, excluded 0" in body
        assert "The filter also matches people who cannot be added: do not email" in body
        await pilot.press("n")  # not yet: nothing enrolled, marks kept
        await settle(pilot)
        assert app.screen.selection.counts == {"lead": len(leads), "contact": len(contacts)}
        await pilot.press("ctrl+s")
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot)
        assert results[0].enrolled == total
        members = members_of(PLANNED)
        assert {lead for lead, _ in members if lead} == leads
        assert {contact for _, contact in members if contact} == contacts


async def test_unmarking_after_mark_all_and_a_second_filter_enroll_exactly_those_marked(make_tui):
    """Marks standing for a filter: a row unmarked by hand stays out, a second filter's matches
    join the first's, and the count is the database's."""
    campaign = find_campaign(PLANNED)
    bounced_free = set(pickable_ids(campaign, "lead", "-flag:bounced"))
    all_leads = set(pickable_ids(campaign, "lead"))
    contacts = set(pickable_ids(campaign, "contact"))
    app = make_tui()
    async with app.run_test(size=SIZE) as pilot:
        results = await open_picker(pilot, PLANNED)
        await pilot.press("slash", *"-flag:bounced", "ctrl+t")
        await settle(pilot)
        await pilot.press("tab", "space")  # unmark the first lead
        await settle(pilot)
        first = loaded(app)[0].id
        assert cell(app, 0, 0) == "" and cell(app, 1, 0) == "✓"
        assert app.screen.selection.counts["lead"] == len(bounced_free) - 1
        await pilot.press("slash", "ctrl+u", "ctrl+t")  # every lead, the unmarked one too
        await settle(pilot)
        assert app.screen.selection.counts["lead"] == len(all_leads)
        await pilot.press("tab", "space")  # and out again
        await settle(pilot)
        assert app.screen.selection.counts["lead"] == len(all_leads) - 1
        await pilot.press("ctrl+s")
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot)
        assert results[0].enrolled == len(all_leads) - 1 + len(contacts)
        members = members_of(PLANNED)
        assert {lead for lead, _ in members if lead} == all_leads - {first}
        assert {contact for _, contact in members if contact} == contacts


async def test_clearing_marks(make_tui):
    app = make_tui()
    async with app.run_test(size=SIZE) as pilot:
        await open_picker(pilot, PLANNED)
        await pilot.press("space", "space", "ctrl+r")
        assert app.screen.selection.total() == 0
        assert cell(app, 0, 0) == ""


async def test_marks_survive_filtering_and_switching_tabs(make_tui):
    app = make_tui()
    async with app.run_test(size=SIZE) as pilot:
        await open_picker(pilot, PLANNED)
        first = loaded(app)[0]
        await pilot.press("space", "space", "c", "space", "l")
        await pilot.press("slash", *"zzz-nobody")
        await settle(pilot)
        assert table(app).total == 0
        assert "3 selected: 2 leads, 1 contact" in picked_line(app)
        await pilot.press("ctrl+u")  # the filter box's own clear-line key
        await settle(pilot)
        assert app.screen.selection.total() == 3
        assert loaded(app)[0] == first
        assert cell(app, 0, 0) == "✓"
        assert cell(app, 0, 0, "contact") == "✓"


async def test_escape_cancels_and_writes_nothing(make_tui):
    app = make_tui()
    async with app.run_test(size=SIZE) as pilot:
        results = await open_picker(pilot, PLANNED)
        await pilot.press("space", "space", "escape")
        await settle(pilot)
        assert results == [None]
        assert not isinstance(app.screen, AddMembersScreen)
        assert members_of(PLANNED) == set()


async def test_enter_with_nothing_marked_explains(make_tui):
    app = make_tui()
    async with app.run_test(size=SIZE) as pilot:
        results = await open_picker(pilot, PLANNED)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, AddMembersScreen) and results == []
        assert any("Mark people with space first" in n.message for n in app._notifications)


async def test_tab_moves_between_filter_and_list(make_tui):
    app = make_tui()
    async with app.run_test(size=SIZE) as pilot:
        await open_picker(pilot, PLANNED)
        assert app.focused is table(app)
        await pilot.press("slash")
        assert isinstance(app.focused, Input)
        await pilot.press("tab")
        assert app.focused is table(app)
        await pilot.press("tab")
        assert isinstance(app.focused, Input)


async def test_rows_are_fetched_as_they_come_into_view(make_tui):
    """The list knows its length at once, holds only the rows near the view, and paging down
    passes every lead once, in id order."""
    app = make_tui()
    async with app.run_test(size=SIZE) as pilot:
        await open_picker(pilot, PLANNED)
        assert table(app).total == 238
        assert len(table(app).rows) == 100
        seen: dict[int, PickerRow] = {}
        while True:
            await settle(pilot)
            seen.update(table(app).rows)
            if table(app).cursor == 237:
                break
            await pilot.press("pagedown")
        assert sorted(seen) == list(range(238))
        ids = [row.id for _, row in sorted(seen.items())]
        assert ids == sorted(set(ids))


async def test_someone_else_enrolling_refreshes_rows_and_drops_their_marks(make_tui):
    app = make_tui()
    async with app.run_test(size=SIZE) as pilot:
        await open_picker(pilot, PLANNED)
        await pilot.press("space", "space", "down")
        taken = loaded(app)[0]
        fresh(lambda: enroll(find_campaign(PLANNED), {"lead": [taken.id]}))
        app.notify_changed()
        await settle(pilot)
        assert cell(app, 0, 4) == "already a member"
        assert app.screen.selection.ids["lead"] == {loaded(app)[1].id}
        assert table(app).cursor == 3  # the cursor stays where it was


async def test_names_with_markup_show_literally(make_tui, demo_db):
    factories.lead(first_name="[bold]Mal[/bold]", last_name="Z", email="mal@z.example")
    app = make_tui()
    async with app.run_test(size=SIZE) as pilot:
        await open_picker(pilot, PLANNED)
        await pilot.press("slash", *"mal@z")
        await settle(pilot)
        assert table(app).total == 1
        assert cell(app, 0, 1) == "[bold]Mal[/bold] Z"
        await pilot.press("tab", "space", "enter")
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot)
        assert len(members_of(PLANNED)) == 1


async def test_random_key_sequences_enroll_exactly_the_marked_pickable_rows(make_tui):
    """A model of the keys (space marks pickable rows and moves down) predicts what is enrolled."""
    rng = random.Random(20261120)
    app = make_tui()
    async with app.run_test(size=SIZE) as pilot:
        results = await open_picker(pilot, PLANNED)
        rows = loaded(app)
        for round_ in range(3):
            cursor, marked = 0, set()
            table(app).move_to(0)
            keys = rng.choices(["space", "space", "down", "up"], k=20)
            for key in keys:
                if key == "down":
                    cursor = min(cursor + 1, len(rows) - 1)
                elif key == "up":
                    cursor = max(cursor - 1, 0)
                elif rows[cursor].category == NEW:
                    marked ^= {rows[cursor].id}
                    cursor += 1
            await pilot.press(*keys)
            await settle(pilot)
            assert app.screen.selection.ids["lead"] == marked
            ticks = {r.id for i, r in enumerate(rows) if cell(app, i, 0) == "✓"}
            assert ticks == marked
            if round_ < 2:
                await pilot.press("ctrl+r")
        assert marked  # the seed leaves something to enroll
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot)
        assert results[0].enrolled == len(marked)
        assert members_of(PLANNED) == {(lead, None) for lead in marked}


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
    people = selection.people()
    assert set(people) == ({kind} if expected else set())
    assert not expected or people[kind].ids == expected
