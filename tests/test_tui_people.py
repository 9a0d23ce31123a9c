"""People list, lead and contact detail with the memberships sidebar, Add to Campaign, Convert."""

from __future__ import annotations

import html
import re
import threading
import time

from textual.widgets import DataTable, Input, Select, TabbedContent

from data.campaigns import find_campaign
from data.db import database
from data.enrollment import enroll, remove_members
from data.ingest import set_member_status
from data.journal import entries
from data.members import memberships_of
from data.models import CampaignMember, Contact, Lead, Opportunity
from data.rollups import campaign_metrics
from data.undo import undo
from data.vocab import OpportunityStage
from screens.people import PeopleScreen, PeopleTable
from screens.person_detail import ConvertLeadScreen, PersonDetailScreen
from tests import factories
from tests.pilot import SIZE, fresh, palette_offers, settle, wait_until
from tests.pilot import column as rows_column


def lead_with_memberships(minimum: int = 2) -> Lead:
    """A demo lead in several campaigns (the sidebar then has something to order)."""
    for lead in Lead.select().order_by(Lead.id):
        if len(memberships_of(lead)) >= minimum and not lead.converted_contact_id:
            return lead
    raise AssertionError("the demo has no lead in several campaigns")


def cells(table, column: int = 0) -> list[str]:
    """A column of the memberships DataTable, or of a people list (a RowTable)."""
    if isinstance(table, DataTable):
        return [str(table.get_row_at(i)[column]) for i in range(table.row_count)]
    return rows_column(table, column)


def screen_text(app) -> str:
    """What the terminal shows, as plain text (markup in user text would be gone here)."""
    svg = app.export_screenshot()
    return html.unescape(re.sub(r"<[^>]+>", "", svg)).replace("\xa0", " ")


async def open_people(pilot) -> None:
    await settle(pilot)
    await pilot.app.push_screen(PeopleScreen())
    await settle(pilot)


async def open_person(pilot, kind: str, person_id: int) -> None:
    await settle(pilot)
    pilot.app.open_person(kind, person_id)
    await settle(pilot)


async def wait_for(pilot, condition, seconds: float = 3.0) -> bool:
    """Poll the screen with no key pressed, as a user watching it would."""
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        await pilot.pause(0.1)
        if condition():
            return True
    return condition()


# snapshots


def test_people_snapshot(snap_compare, make_tui):
    async def run_before(pilot):
        await open_people(pilot)

    assert snap_compare(make_tui(), terminal_size=SIZE, run_before=run_before)


def test_contacts_filtered_snapshot(snap_compare, make_tui):
    async def run_before(pilot):
        await open_people(pilot)
        await pilot.press("c", "slash", *"berg")
        await settle(pilot)

    assert snap_compare(make_tui(), terminal_size=SIZE, run_before=run_before)


def test_lead_detail_snapshot(snap_compare, make_tui, demo_db):
    lead = lead_with_memberships()

    async def run_before(pilot):
        await open_person(pilot, "lead", lead.id)

    assert snap_compare(make_tui(), terminal_size=SIZE, run_before=run_before)


def test_contact_detail_snapshot(snap_compare, make_tui, demo_db):
    flagged = Contact.select().where(Contact.do_not_email == True).order_by(Contact.id)
    contact = next(c for c in flagged if memberships_of(c))

    async def run_before(pilot):
        await open_person(pilot, "contact", contact.id)

    assert snap_compare(make_tui(), terminal_size=SIZE, run_before=run_before)


def test_convert_dialog_snapshot(snap_compare, make_tui, demo_db):
    lead = lead_with_memberships()

    async def run_before(pilot):
        await open_person(pilot, "lead", lead.id)
        await pilot.press("v")
        await settle(pilot)
        await pilot.press(*"Big deal", "tab", *"12000")
        await settle(pilot)

    assert snap_compare(make_tui(), terminal_size=SIZE, run_before=run_before)


# the people list


async def test_search_then_open_a_person(make_tui):
    """Typing narrows leads and contacts at once; enter opens the highlighted person."""
    target = Lead.select().order_by(Lead.id).first()
    app = make_tui()
    async with app.run_test(size=SIZE) as pilot:
        await open_people(pilot)
        leads = app.screen.query_one("#leads", PeopleTable)
        assert leads.total == Lead.select().count()
        assert len(leads.rows) < 200  # only what is on screen, and a page around it
        await pilot.press("slash", *target.email.split("@")[0], "enter")
        await settle(pilot)
        assert cells(leads, 1) == [target.email]
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, PersonDetailScreen)
        assert (app.screen.kind, app.screen.person_id) == ("lead", target.id)
        assert target.email in screen_text(app)


async def test_tab_keys_and_typing_in_the_search_box(make_tui):
    """l and c switch lists, except while typing, when they are letters of the search."""
    app = make_tui()
    async with app.run_test(size=SIZE) as pilot:
        await open_people(pilot)
        tabs = app.screen.query_one("#people-tabs", TabbedContent)
        await pilot.press("c")
        assert tabs.active == "contact-tab"
        await pilot.press("slash", "l", "c")
        await settle(pilot)
        assert tabs.active == "contact-tab"
        assert app.screen.query_one("#people-filter", Input).value == "lc"
        await pilot.press("escape", "l")
        assert tabs.active == "lead-tab"
        await pilot.press("escape")
        assert not isinstance(app.screen, PeopleScreen)


async def test_paging_through_the_list_shows_everyone_once_in_name_order(make_tui):
    """PgDn to the end passes every lead once, by name; End lands on the last one at once."""
    total = Lead.select().count()
    last = Lead.select().order_by(Lead.last_name.desc(), Lead.first_name.desc()).first()
    app = make_tui()
    async with app.run_test(size=SIZE) as pilot:
        await open_people(pilot)
        leads = app.screen.query_one("#leads", PeopleTable)
        assert f"{total} leads" in screen_text(app)
        seen: dict[int, tuple] = {}
        while True:
            await settle(pilot)
            seen.update(leads.rows)
            if leads.cursor == total - 1:
                break
            await pilot.press("pagedown")
        assert sorted(seen) == list(range(total))
        assert len({row[0] for row in seen.values()}) == total  # nobody twice
        keys = [(row[2], row[1], row[0]) for _, row in sorted(seen.items())]
        assert keys == sorted(keys)
        await pilot.press("home")
        await settle(pilot)
        await pilot.press("end")
        await settle(pilot)
        assert leads.current_row[0] == last.id


async def test_a_reload_keeps_the_cursor_on_the_same_person(make_tui):
    app = make_tui()
    async with app.run_test(size=SIZE) as pilot:
        await open_people(pilot)
        leads = app.screen.query_one("#leads", PeopleTable)
        await pilot.press(*["pagedown"] * 5)  # past the first page: rows fetched by key
        await settle(pilot)
        await pilot.press(*["down"] * 5)
        await settle(pilot)
        before = leads.current_row
        app.notify_changed()
        await settle(pilot)
        assert leads.current_row == before


async def test_people_list_follows_another_writer(make_tui):
    """A person flagged by another connection shows the flag within a second, no key pressed."""
    target = Lead.select().where(Lead.do_not_email == False).order_by(Lead.id).first()
    app = make_tui(watch_interval=0.1)
    async with app.run_test(size=SIZE) as pilot:
        await open_people(pilot)
        await pilot.press("slash", *target.email)
        await settle(pilot)
        leads = app.screen.query_one("#leads", PeopleTable)
        assert cells(leads, 4) == [""]

        def write() -> None:
            with database.connection_context():
                Lead.update(do_not_email=True).where(Lead.id == target.id).execute()

        thread = threading.Thread(target=write)
        thread.start()
        thread.join()
        assert await wait_for(pilot, lambda: cells(leads, 4) == ["do not email"])


async def test_back_from_a_converted_lead_the_list_shows_the_new_contact(make_tui):
    lead = factories.lead(first_name="Ola", last_name="Zed", email="ola@zed.example")
    app = make_tui()
    async with app.run_test(size=SIZE) as pilot:
        await open_people(pilot)
        await pilot.press("slash", *"ola@zed", "enter")
        await settle(pilot)
        await pilot.press("enter", "v")
        await settle(pilot)
        await pilot.press("ctrl+s")  # no opportunity: just the contact
        await settle(pilot)
        assert (app.screen.kind, fresh(lambda: Lead.get_by_id(lead.id).converted_contact_id)) == (
            "contact",
            app.screen.person_id,
        )
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, PeopleScreen)
        assert cells(app.screen.query_one("#contacts", PeopleTable), 1) == ["ola@zed.example"]


# person detail


async def test_memberships_newest_first_enter_opens_that_members_history(make_tui):
    """Enter on a membership shows the person's own history in that campaign; g opens the
    whole campaign."""
    lead = lead_with_memberships()
    memberships = memberships_of(lead)
    expected = [m.campaign for m in memberships]
    app = make_tui()
    async with app.run_test(size=SIZE) as pilot:
        await open_person(pilot, "lead", lead.id)
        table = app.screen.query_one("#memberships", DataTable)
        assert cells(table) == expected
        added = cells(table, 2)
        assert added == sorted(added, reverse=True)
        await pilot.press("enter")
        await settle(pilot)
        assert type(app.screen).__name__ == "MemberEventsScreen"
        assert app.screen.member_id == memberships[0].member_id
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("g")
        await settle(pilot)
        assert type(app.screen).__name__ == "CampaignDetailScreen"
        assert app.screen.campaign_id == find_campaign(expected[0]).id


async def test_add_to_campaign(make_tui):
    """a offers only campaigns the person is not in; choosing one enrolls them."""
    person = factories.lead(first_name="Nia", last_name="New", email="nia@new.example")
    app = make_tui()
    async with app.run_test(size=SIZE) as pilot:
        await open_person(pilot, "lead", person.id)
        await pilot.press("a")
        await settle(pilot)
        await pilot.press("enter")  # the first campaign by name
        await settle(pilot)
        members = fresh(
            lambda: list(CampaignMember.select().where(CampaignMember.lead == person.id))
        )
        assert len(members) == 1 and members[0].status == "Sent"
        assert cells(app.screen.query_one("#memberships", DataTable)) == [members[0].campaign.name]
        assert any("enrolled 1" in n.message for n in app._notifications)


async def test_add_to_campaign_reports_a_do_not_email_person_excluded(make_tui):
    person = factories.lead(email="gone@away.example", do_not_email=True)
    app = make_tui()
    async with app.run_test(size=SIZE) as pilot:
        await open_person(pilot, "lead", person.id)
        assert "DO NOT EMAIL" in screen_text(app)
        await pilot.press("a")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert (
            fresh(lambda: CampaignMember.select().where(CampaignMember.lead == person.id).count())
            == 0
        )
        assert any("do not email 1" in n.message for n in app._notifications)


async def test_convert_with_an_opportunity_and_campaign_source(make_tui):
    lead = lead_with_memberships()
    source = memberships_of(lead)[0]
    app = make_tui()
    async with app.run_test(size=SIZE) as pilot:
        await open_person(pilot, "lead", lead.id)
        await pilot.press("v")
        await settle(pilot)
        assert isinstance(app.screen, ConvertLeadScreen)
        await pilot.press(*"Big deal", "tab", *"12000")
        app.screen.query_one("#source", Select).value = source.campaign_id
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, PersonDetailScreen) and app.screen.kind == "contact"
        converted = fresh(lambda: Lead.get_by_id(lead.id))
        assert converted.converted_contact_id == app.screen.person_id
        opportunity = Opportunity.get(Opportunity.name == "Big deal")
        assert opportunity.campaign_source_id == source.campaign_id
        assert opportunity.amount == 12000
        assert CampaignMember.get_by_id(source.member_id).status == "Converted"
        # the contact's sidebar shows the memberships it came with, through the lead
        table = app.screen.query_one("#memberships", DataTable)
        assert all("via lead" in name for name in cells(table))
        assert "Converted" in cells(table, 1)
        # back on the lead: it says what it became, and cannot be converted again
        await pilot.press("escape")
        app.open_person("lead", lead.id)
        await settle(pilot)
        assert "Converted to contact" in screen_text(app)
        assert not app.screen.check_action("convert", ())


async def test_convert_with_a_bad_amount_changes_nothing(make_tui):
    lead = lead_with_memberships()
    opportunities = Opportunity.select().count()
    app = make_tui()
    async with app.run_test(size=SIZE) as pilot:
        await open_person(pilot, "lead", lead.id)
        await pilot.press("v")
        await settle(pilot)
        await pilot.press(*"Deal", "tab", *"lots")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, ConvertLeadScreen)
        assert "amount must be a number" in str(app.screen.query_one("#convert-error").render())
        assert app.screen.query_one("#opportunity", Input).value == "Deal"
        assert app.screen.query_one("#amount", Input).value == "lots"
        assert fresh(lambda: Lead.get_by_id(lead.id).converted_contact_id) is None
        assert Opportunity.select().count() == opportunities


async def test_contacts_cannot_be_converted(make_tui):
    contact = Contact.select().first()
    app = make_tui()
    async with app.run_test(size=SIZE) as pilot:
        await open_person(pilot, "contact", contact.id)
        await pilot.press("v")
        await settle(pilot)
        assert isinstance(app.screen, PersonDetailScreen)
        assert "Convert lead" not in screen_text(app)


async def test_names_with_markup_show_literally(make_tui):
    person = factories.lead(
        first_name="[bold]Mal[/bold]", last_name="\x1b[2Jx", email="mal@x.example"
    )
    campaign = factories.campaign("[red]Launch")
    enroll(campaign, {"lead": [person.id]})
    app = make_tui()
    async with app.run_test(size=SIZE) as pilot:
        await open_people(pilot)
        await pilot.press("slash", *"mal@x", "enter")
        await settle(pilot)
        assert cells(app.screen.query_one("#leads", PeopleTable))[0].startswith("[bold]Mal[/bold]")
        assert "[bold]Mal[/bold]" in screen_text(app)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, PersonDetailScreen)
        assert "[bold]Mal[/bold]" in screen_text(app)
        assert "[red]Launch" in screen_text(app)
        assert cells(app.screen.query_one("#memberships", DataTable)) == ["[red]Launch"]


async def test_sidebar_follows_another_writer(make_tui):
    """A status change committed elsewhere shows in the sidebar with no key pressed."""
    lead = lead_with_memberships()
    first = memberships_of(lead)[0]
    app = make_tui(watch_interval=0.1)
    async with app.run_test(size=SIZE) as pilot:
        await open_person(pilot, "lead", lead.id)
        table = app.screen.query_one("#memberships", DataTable)

        def write() -> None:
            with database.connection_context():
                set_member_status(CampaignMember.get_by_id(first.member_id), "Converted")

        thread = threading.Thread(target=write)
        thread.start()
        thread.join()
        assert await wait_for(pilot, lambda: cells(table, 1)[0] == "Converted")


async def test_palette_jumps_to_a_person(make_tui):
    """ctrl+p finds a contact by email and opens the contact."""
    contact = Contact.select().order_by(Contact.id).first()
    app = make_tui()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+p", *contact.email)
        await wait_until(pilot, lambda: palette_offers(app, contact.email))
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, PersonDetailScreen)
        assert (app.screen.kind, app.screen.person_id) == ("contact", contact.id)


def test_palette_shows_names_literally():
    from tui_app.palette import highlighted

    text = highlighted("[bold]Mal[/bold] <mal@x.example>", "mal@x")
    assert text.plain == "[bold]Mal[/bold] <mal@x.example>"
    assert text.spans and text.plain[text.spans[0].start : text.spans[0].end] == "mal@x"


async def test_a_person_shows_when_and_how_they_were_added_and_removed(make_tui):
    """Under the memberships: each addition and removal with its campaign, how and by whom,
    newest first, and whether it was undone; a lead's history includes its contact's."""
    lead = lead_with_memberships()
    member = CampaignMember.get(CampaignMember.lead == lead.id)
    campaign = member.campaign
    remove_members(campaign, [member.id])
    app = make_tui()
    async with app.run_test(size=SIZE) as pilot:
        await open_person(pilot, "lead", lead.id)
        history = str(app.screen.query_one("#history").render())
        first = history.splitlines()[0]
        assert f"removed from {campaign.name} by hand · tester" in first
        assert "undone" not in first
        assert "added to" in history and "at its start" in history
        undo(entries(limit=1)[0].id)
        await settle(pilot)
        assert await wait_for(
            pilot, lambda: "undone" in str(app.screen.query_one("#history").render())
        )


async def test_o_changes_an_opportunity_stage_and_the_won_amount_follows(make_tui):
    """A contact shows its opportunities; `o` moves one to Closed Won, and its campaign source's
    won amount grows by the deal's amount."""
    O = Opportunity  # noqa: E741
    deal = (
        O.select()
        .where(O.contact.is_null(False), O.campaign_source.is_null(False), O.stage != "Closed Won")
        .order_by(O.id)
        .first()
    )
    campaign = deal.campaign_source
    won = campaign_metrics(campaign).won_amount
    app = make_tui()
    async with app.run_test(size=SIZE) as pilot:
        await open_person(pilot, "contact", deal.contact_id)
        assert "Opportunities" in screen_text(app) and deal.stage in screen_text(app)
        await pilot.press("o")
        await settle(pilot)
        stages = [s for s in OpportunityStage if s != deal.stage]
        await pilot.press(*["down"] * stages.index(OpportunityStage.CLOSED_WON), "enter")
        await settle(pilot)
        assert fresh(lambda: O.get_by_id(deal.id).stage) == "Closed Won"
        assert fresh(lambda: campaign_metrics(campaign).won_amount) == won + float(deal.amount)
        assert await wait_for(pilot, lambda: "Closed Won" in screen_text(app))
