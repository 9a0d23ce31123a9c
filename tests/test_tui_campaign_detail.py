"""Campaign detail: gauges, the Members tab's views, member actions, export, live refresh."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
import time

from textual.widgets import TabbedContent

from data.campaigns import find_campaign
from data.members import member_count, member_page
from data.models import CampaignMember, Lead
from data.opportunities import opportunities_of
from data.people import person_model
from data.rollups import campaign_metrics
from data.vocab import OpportunityStage
from screens.campaign_detail import CampaignDetailScreen
from screens.event_history import MemberEventsScreen
from screens.modals import ConfirmScreen
from tests import factories
from tests.pilot import SIZE, fresh, palette_offers, settle, wait_until
from tui_app.widgets.formatting import money
from tui_app.widgets.member_table import MemberTable

ROADSHOW = "EMEA Roadshow"


async def open_detail(pilot, name: str = ROADSHOW) -> MemberTable:
    await settle(pilot)
    pilot.app.open_campaign(find_campaign(name).id)
    await settle(pilot)
    return pilot.app.screen.query_one(MemberTable)


async def focus_member(pilot, email: str) -> None:
    """Filter the list down to one member, and put the cursor on it."""
    await pilot.press("slash", *email, "enter")
    await settle(pilot)
    assert pilot.app.screen.query_one(MemberTable).current_row.email == email


ROADSHOW_LABELS = ["Invited", "Opened", "Clicked", "Registered", "Attended", "Converted"]
"""The Event campaign's member statuses (its type's template)."""


def member_with(status: str, campaign: str = ROADSHOW) -> tuple[CampaignMember, str]:
    member = (
        CampaignMember.select()
        .where(
            (CampaignMember.campaign == find_campaign(campaign).id)
            & (CampaignMember.status == status)
            & CampaignMember.lead.is_null(False)
        )
        .order_by(CampaignMember.id)
        .first()
    )
    return member, Lead.get_by_id(member.lead_id).email


def test_campaign_detail_snapshot(snap_compare, make_tui):
    """Facts, seven gauges, the Members tab with the All view."""

    async def run_before(pilot):
        await open_detail(pilot)

    assert snap_compare(make_tui(), terminal_size=SIZE, run_before=run_before)


def test_responded_view_snapshot(snap_compare, make_tui):
    async def run_before(pilot):
        await open_detail(pilot)
        await pilot.press("2")
        await settle(pilot)

    assert snap_compare(make_tui(), terminal_size=SIZE, run_before=run_before)


def test_converted_view_snapshot(snap_compare, make_tui):
    """The Converted view: each member's opportunity, amount and stage."""

    async def run_before(pilot):
        await open_detail(pilot)
        await pilot.press("4")
        await settle(pilot)

    assert snap_compare(make_tui(), terminal_size=SIZE, run_before=run_before)


def test_help_screen_snapshot(snap_compare, make_tui):
    """f1 lists the keys of every screen."""

    async def run_before(pilot):
        await settle(pilot)
        await pilot.press("f1")
        await settle(pilot)

    assert snap_compare(make_tui(), terminal_size=SIZE, run_before=run_before)


def test_start_confirmation_snapshot(snap_compare, make_tui):
    """Starting a planned campaign previews who will be enrolled and who is left out."""

    async def run_before(pilot):
        await open_detail(pilot, "Developer Conference")
        await pilot.press("t")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)

    assert snap_compare(make_tui(), terminal_size=SIZE, run_before=run_before)


def test_new_campaign_form_snapshot(snap_compare, make_tui):
    async def run_before(pilot):
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        await pilot.press(*"Autumn Webinar")
        await settle(pilot)

    assert snap_compare(make_tui(), terminal_size=SIZE, run_before=run_before)


async def test_views_show_their_members(make_tui):
    """1–4 switch views; each count comes from the rollups and rows match the view."""
    app = make_tui()
    async with app.run_test(size=SIZE) as pilot:
        table = await open_detail(pilot)
        metrics = campaign_metrics(find_campaign(ROADSHOW))
        assert table.total == metrics.sent
        await pilot.press("2")
        await settle(pilot)
        assert table.total == metrics.responded
        assert all(row.has_responded for row in table.rows.values())
        await pilot.press("3")
        await settle(pilot)
        assert table.total == metrics.bounced + metrics.unsubscribed
        assert {row.status for row in table.rows.values()} <= {"Bounced", "Unsubscribed"}
        await pilot.press("4")
        await settle(pilot)
        assert table.total == metrics.converted
        assert "members" in str(app.screen.query_one("#member-count").render())


async def test_end_home_and_pages_on_a_long_list(make_tui, demo_db):
    """End reaches the last member by key, PgUp/PgDn move a page, rows held stay bounded."""
    campaign = factories.campaign("Long list")
    rows = [
        {"first_name": "P", "last_name": f"N{i:05}", "email": f"p{i}@long.example"}
        for i in range(3_000)
    ]
    Lead.insert_many(rows).execute()
    from data.enrollment import enroll

    enroll(campaign)
    last_id = max(
        m.id for m in CampaignMember.select().where(CampaignMember.campaign == campaign.id)
    )
    app = make_tui()
    async with app.run_test(size=SIZE) as pilot:
        table = await open_detail(pilot, "Long list")
        assert table.total >= 3_000
        await pilot.press("end")
        await settle(pilot)
        assert table.current_row.id == last_id
        await pilot.press("pageup")
        await settle(pilot)
        assert table.cursor == table.total - 1 - table.page_height
        assert table.current_row is not None
        for _ in range(40):
            await pilot.press("pageup")
        await settle(pilot)
        assert table.current_row is not None
        assert len(table.rows) <= 1_000
        await pilot.press("home")
        await settle(pilot)
        assert table.cursor == 0 and table.current_row.id < last_id


async def test_raise_a_status_and_refuse_lowering(make_tui):
    """s lists the campaign's labels: the ones that raise the member can be chosen, the others
    say why not; choosing one raises the member and nothing lowers it."""
    from textual.widgets import OptionList

    from screens.modals import ChoiceScreen

    member, email = member_with("Sent")
    app = make_tui()
    async with app.run_test(size=SIZE) as pilot:
        await open_detail(pilot)
        await focus_member(pilot, email)
        await pilot.press("s")
        await wait_until(pilot, lambda: isinstance(app.screen, ChoiceScreen))
        await settle(pilot)
        options = app.screen.query_one(OptionList)
        ids = [options.get_option_at_index(i).id for i in range(options.option_count)]
        assert ids == [*ROADSHOW_LABELS, "Bounced", "Unsubscribed"]
        assert options.get_option("Invited").disabled  # the member's own status
        options.highlighted = ids.index("Attended")
        await pilot.pause()
        assert options.has_focus
        await pilot.press("enter")
        await settle(pilot)
        assert fresh(lambda: CampaignMember.get_by_id(member.id).status) == "Responded"
        await wait_until(
            pilot, lambda: app.screen.query_one(MemberTable).current_row.status == "Attended"
        )

        await pilot.press("s")
        await wait_until(pilot, lambda: isinstance(app.screen, ChoiceScreen))
        options = app.screen.query_one(OptionList)
        registered = options.get_option("Registered")
        assert registered.disabled
        assert "Attended is already past Registered" in str(registered.prompt)
        assert not options.get_option("Converted").disabled
        await pilot.press("escape")
        await settle(pilot)
        assert fresh(lambda: CampaignMember.get_by_id(member.id).status) == "Responded"


async def test_remove_a_member_after_confirming(make_tui):
    member, email = member_with("Sent")
    app = make_tui()
    async with app.run_test(size=SIZE) as pilot:
        await open_detail(pilot)
        await focus_member(pilot, email)
        await pilot.press("d")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("n")
        await settle(pilot)
        assert fresh(lambda: CampaignMember.get_or_none(CampaignMember.id == member.id))
        await pilot.press("d")
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot)
        assert fresh(lambda: CampaignMember.get_or_none(CampaignMember.id == member.id)) is None
        assert app.screen.query_one(MemberTable).total == 0


async def test_clean_bounces_and_unsubscribes(make_tui):
    campaign = find_campaign(ROADSHOW)
    metrics = campaign_metrics(campaign)
    exits = metrics.bounced + metrics.unsubscribed
    app = make_tui()
    async with app.run_test(size=SIZE) as pilot:
        await open_detail(pilot)
        await pilot.press("c")
        await settle(pilot)
        assert f"Remove {exits:,} bounced" in str(app.screen.query_one(".dialog-body").render())
        await pilot.press("y")
        await settle(pilot)
        after = fresh(lambda: campaign_metrics(find_campaign(ROADSHOW)))
        assert after.sent == metrics.sent - exits
        assert after.bounced == after.unsubscribed == 0
        assert app.screen.query_one(MemberTable).total == after.sent


async def test_export_the_current_view(make_tui, tmp_path):
    """x, then enter, writes the view on screen (here Responded) to a CSV in the proposed
    folder."""
    app = make_tui()
    async with app.run_test(size=SIZE) as pilot:
        await open_detail(pilot)
        await pilot.press("2")
        await settle(pilot)
        await pilot.press("x")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
    files = list(tmp_path.glob("emea-roadshow-responded-*.csv"))
    assert len(files) == 1
    with open(files[0], newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == member_count(find_campaign(ROADSHOW).id, "responded")
    assert {row["has_responded"] for row in rows} == {"true"}


async def test_history_shows_the_members_events(make_tui):
    member, email = member_with("Responded")
    app = make_tui()
    async with app.run_test(size=SIZE) as pilot:
        await open_detail(pilot)
        await focus_member(pilot, email)
        await pilot.press("h")
        await settle(pilot)
        assert isinstance(app.screen, MemberEventsScreen)
        table = app.screen.query_one("#timeline")
        assert table.row_count >= 1
        outcomes = {str(table.get_row_at(i)[2]) for i in range(table.row_count)}
        assert outcomes <= {"applied", "unchanged", "duplicate"}


async def test_palette_jumps_to_a_campaign(make_tui):
    app = make_tui()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+p")
        await pilot.press(*"Roadshow")
        await wait_until(pilot, lambda: palette_offers(app, ROADSHOW))
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, CampaignDetailScreen)
        assert app.screen.campaign_id == find_campaign(ROADSHOW).id


async def test_an_ingest_in_another_process_shows_within_a_second(make_tui, demo_db, tmp_path):
    """Live: events fed to `campaigns ingest` by another process tick the gauges and rows up
    with no key pressed."""
    member, email = member_with("Sent")
    before = campaign_metrics(find_campaign(ROADSHOW))
    events = tmp_path / "events.jsonl"
    events.write_text(
        json.dumps(
            {
                "id": "live-1",
                "type": "click",
                "campaign": ROADSHOW,
                "email": email,
                "at": "2026-11-20T11:00:00Z",
            }
        )
        + "\n"
    )
    app = make_tui(watch_interval=0.1)
    async with app.run_test(size=SIZE) as pilot:
        table = await open_detail(pilot)
        await focus_member(pilot, email)
        subprocess.run(
            [sys.executable, "-m", "tui_app", "--db", str(demo_db), "ingest", str(events)],
            check=True,
            capture_output=True,
        )
        started = time.monotonic()
        while time.monotonic() - started < 5:
            await pilot.pause(0.1)
            if table.current_row.status == "Clicked":
                break
        assert table.current_row.status == "Clicked"
        assert time.monotonic() - started < 2.5  # polled every 0.1 s here; 0.5 s in use
        await settle(pilot)
        assert app.screen.gauge_figures["Clicked"] == before.clicked + 1


def test_empty_campaign_snapshot(snap_compare, make_tui):
    """A planned campaign with no members says how to get some."""

    async def run_before(pilot):
        await open_detail(pilot, "Developer Conference")

    assert snap_compare(make_tui(), terminal_size=SIZE, run_before=run_before)


def test_start_result_snapshot(snap_compare, make_tui):
    """After a start: what was enrolled and who was left out, and why."""

    async def run_before(pilot):
        await open_detail(pilot, "Developer Conference")
        await pilot.press("t")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot)

    assert snap_compare(make_tui(), terminal_size=SIZE, run_before=run_before)


async def test_machine_opens_show_beside_the_gauges_and_leave_opened_alone(
    make_tui, demo_db, tmp_path
):
    """An open a privacy proxy made is counted apart: Opened and the member stay as they were."""
    member, email = member_with("Sent")
    opened = campaign_metrics(find_campaign(ROADSHOW)).opened
    events = tmp_path / "machine.jsonl"
    events.write_text(
        json.dumps(
            {
                "id": "mpp-1",
                "type": "open",
                "campaign": ROADSHOW,
                "email": email,
                "at": "2026-03-02T09:00:00Z",
                "machine": True,
            }  # fmt: skip
        )
        + "\n"
    )
    app = make_tui(watch_interval=0.1)
    async with app.run_test(size=SIZE) as pilot:
        await open_detail(pilot)
        assert app.screen.gauge_figures["Machine opens"] == 0
        done = subprocess.run(
            [sys.executable, "-m", "tui_app", "--db", str(demo_db), "ingest", str(events)],
            check=True,
            capture_output=True,
            text=True,
        )
        assert "applied 0" in done.stdout
        await wait_until(pilot, lambda: app.screen.gauge_figures["Machine opens"] == 1)
        await settle(pilot)
        assert app.screen.gauge_figures["Opened"] == opened
    assert fresh(lambda: CampaignMember.get_by_id(member.id).status) == "Sent"


async def test_o_shows_the_about_tab_and_a_view_key_goes_back(make_tui):
    app = make_tui()
    async with app.run_test(size=SIZE) as pilot:
        await open_detail(pilot)
        tabs = app.screen.query_one("#tabs", TabbedContent)
        assert tabs.active == "members-tab"
        await pilot.press("o")
        await settle(pilot)
        assert tabs.active == "about-tab"
        about = app.screen.query_one("#about")
        assert about.region.height > 0  # on screen, not only selected
        assert "Budgeted cost" in str(about.render())
        await pilot.press("1")
        await settle(pilot)
        assert tabs.active == "members-tab"
        assert app.focused is app.screen.query_one(MemberTable)


async def test_the_converted_view_shows_each_deal_and_a_changed_stage(make_tui):
    """4 shows each converted member's opportunity, amount and stage; after `o` on the person
    moves the deal to Closed Won, back on the campaign the row shows the new stage."""
    campaign = find_campaign(ROADSHOW)
    row = next(  # a member whose person has this one deal (`o` goes straight to its stage)
        r
        for r in member_page(campaign.id, "converted", limit=1_000)
        if r.opportunity is not None
        and r.opportunity.stage != OpportunityStage.CLOSED_WON
        and len(opportunities_of(person_model(r.person_type).get_by_id(r.person_id))) == 1
    )
    deal = row.opportunity
    app = make_tui()
    async with app.run_test(size=SIZE) as pilot:
        table = await open_detail(pilot)
        assert "Opportunity" not in [c.title for c in table.columns]
        await pilot.press("4")
        await settle(pilot)
        titles = [c.title for c in table.columns]
        deal_at = titles.index("Opportunity")
        assert titles[deal_at - 1 : deal_at + 3] == ["Status", "Opportunity", "Amount", "Stage"]
        cells = {table.rows[i].email: [text for text, _ in table.cells_at(i)] for i in table.rows}
        assert len(cells) == member_count(campaign.id, "converted")
        assert cells[row.email][deal_at : deal_at + 3] == [
            deal.name,
            money(deal.amount),
            deal.stage,
        ]
        await focus_member(pilot, row.email)
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("o")
        await settle(pilot)
        stages = [s for s in OpportunityStage if s != deal.stage]
        await pilot.press(*["down"] * stages.index(OpportunityStage.CLOSED_WON), "enter")
        await settle(pilot)
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, CampaignDetailScreen)
        assert table.current_row.email == row.email
        stage = table.cells_at(table.cursor)[titles.index("Stage")]
        assert stage == ("Closed Won", "bold green")
        await pilot.press("space")  # a marked row: the mark column first, the deal still after
        await settle(pilot)
        assert [c.title for c in table.columns] == [" ", *titles]
        assert table.cells_at(table.cursor)[titles.index("Stage") + 1][0] == "Closed Won"


async def test_opening_a_campaign_reads_it_once_and_coming_back_reads_it_again(
    make_tui, monkeypatch
):
    """Opening the detail reads the facts, gauges and labels once and the member list's first
    page once (a 1,000,000-member campaign's were read twice, in overlapping threads); coming
    back to it from a screen pushed over it reads both again."""
    import screens.campaign_detail as detail
    from tui_app.widgets.member_table import Members

    reads = {"metrics": 0, "pages": 0}
    metrics, page = detail.campaign_metrics, Members.page

    def counted_metrics(campaign):
        reads["metrics"] += 1
        return metrics(campaign)

    def counted_page(self, plan):
        reads["pages"] += 1
        return page(self, plan)

    monkeypatch.setattr(detail, "campaign_metrics", counted_metrics)
    monkeypatch.setattr(Members, "page", counted_page)
    app = make_tui()
    async with app.run_test(size=SIZE) as pilot:
        await open_detail(pilot)
        assert reads == {"metrics": 1, "pages": 1}
        await pilot.press("j")  # the journal, over the detail
        await settle(pilot)
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, CampaignDetailScreen)
        assert reads == {"metrics": 2, "pages": 2}


async def test_the_member_filter_takes_the_campaigns_labels_and_keeps_its_rows_while_unread(
    make_tui,
):
    """`status:registered -status:attended` lists who registered but did not attend; while the
    filter does not read, the list and its count stay those of the last filter that did."""
    app = make_tui()
    async with app.run_test(size=SIZE) as pilot:
        table = await open_detail(pilot)
        await pilot.press("slash", *"status:registered -status:attended", "enter")
        await settle(pilot)
        problems = app.screen.query_one("#member-problems")
        assert not problems.display
        campaign_id = find_campaign(ROADSHOW).id
        expected = member_count(campaign_id, "all", "status:registered -status:attended")
        assert table.total == expected > 0
        statuses = {row.status for row in table.rows.values()}
        assert "Registered" in statuses and not statuses & {"Attended", "Converted", "Invited"}
        shown = set(table.rows)
        box = app.screen.query_one("#member-filter")
        box.value = "status:registered -status:attended status:registerd"
        await settle(pilot)
        assert problems.display and "registerd" in str(problems.render())
        assert table.total == expected and set(table.rows) == shown
        count = str(app.screen.query_one("#member-count").render())
        assert f"{expected:,} member" in count and "filter not read" in count
