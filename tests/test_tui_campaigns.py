"""The campaign list, the campaign form and the status flow, driven by keyboard."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest
from textual.widgets import Input, Select

from data.campaigns import find_campaign
from data.models import Campaign, CampaignMember
from data.people import people_count
from data.rollups import campaign_metrics
from screens.campaign_detail import CampaignDetailScreen
from screens.campaign_form import CampaignFormScreen
from screens.campaign_list import CampaignListScreen, CampaignTable
from screens.modals import ConfirmScreen, MessageScreen
from tests import factories
from tests.pilot import SIZE, settle, wait_until


def rendered_cells(app, selector: str = "#campaigns") -> list[str]:
    return [row[0][0] for row in app.screen.query_one(selector, CampaignTable).rows]


def test_campaign_list_snapshot(snap_compare, make_tui):
    """Every campaign with type, status, dates, Sent and the four rates."""

    async def run_before(pilot):
        await settle(pilot)

    assert snap_compare(make_tui(), terminal_size=SIZE, run_before=run_before)


def test_campaign_list_snapshot_small_terminal(snap_compare, make_tui):
    """The home screen still reads at 80×24."""

    async def run_before(pilot):
        await settle(pilot)

    assert snap_compare(make_tui(), terminal_size=(80, 24), run_before=run_before)


async def test_filter_by_text_and_status(make_tui):
    """Typing filters the list by name; the status filter narrows it further."""
    app = make_tui()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert len(rendered_cells(app)) == 8
        await pilot.press("slash", *"road")
        await settle(pilot)
        assert rendered_cells(app) == ["EMEA Roadshow"]
        await pilot.press("escape")
        await settle(pilot)
        assert len(rendered_cells(app)) == 8
        await pilot.press("f", "f", "f")  # any → Planned → In Progress → Completed
        await settle(pilot)
        assert "Completed" in str(app.screen.query_one("#status-filter").render())
        names = rendered_cells(app)
        assert names and all(
            Campaign.get(Campaign.name == name).status == "Completed" for name in names
        )


async def test_one_campaign_is_counted_in_the_singular(make_tui):
    """The line under the list says "1 campaign", not "1 campaigns"."""
    app = make_tui()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert "8 campaigns · " in str(app.screen.query_one("#campaign-summary").render())
        await pilot.press("slash", *"road")
        await settle(pilot)
        summary = str(app.screen.query_one("#campaign-summary").render())
        assert summary.startswith("1 campaign · "), summary


async def test_create_and_start_a_campaign(make_tui):
    """n opens the form with a live audience count; ctrl+s saves; t → In Progress previews and
    enrolls, then shows the result."""
    app = make_tui()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        assert isinstance(app.screen, CampaignFormScreen)
        await pilot.press(*"Winter Webinar")
        app.screen.query_one("#kind", Select).value = "leads"
        app.screen.query_one("#f-country", Input).value = "DE, FR"
        await settle(pilot)
        count_text = str(app.screen.query_one("#match-count").render())
        expected = sum(
            1 for _ in factories.Lead.select().where(factories.Lead.country.in_(["DE", "FR"]))
        )
        assert f"{expected:,} people match" in count_text
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, CampaignListScreen)
        campaign = find_campaign("Winter Webinar")
        assert campaign.audience_kind == "leads" and campaign.filters == {"country": ["DE", "FR"]}
        assert "Winter Webinar" in rendered_cells(app)

        # start it: filter down to it, enter goes back to the list, t changes the status
        await pilot.press("slash", *"Winter", "enter")
        await settle(pilot)
        await pilot.press("t")
        await settle(pilot)
        await pilot.press("enter")  # In Progress is the first choice for a Planned campaign
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        preview_text = str(app.screen.query_one(".dialog-body").render())
        assert "Will enroll" in preview_text
        await pilot.press("y")
        await settle(pilot)
        assert isinstance(app.screen, MessageScreen)
        enrolled = CampaignMember.select().where(CampaignMember.campaign == campaign.id).count()
        assert enrolled > 0
        assert f"Enrolled {enrolled:,}" in str(app.screen.query_one(".dialog-body").render())
        assert find_campaign("Winter Webinar").status == "In Progress"
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, CampaignListScreen)


async def test_escape_asks_before_discarding_a_half_filled_form(make_tui):
    """Esc on an untouched new campaign just closes; on a half-filled one it asks, n goes back
    with everything typed kept, y discards."""
    app = make_tui()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, CampaignListScreen)

        await pilot.press("n")
        await settle(pilot)
        await pilot.press(*"Half Done")
        app.screen.query_one("#f-country", Input).value = "DE"
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        assert "Discard this new campaign?" in str(app.screen.query_one(".dialog-title").render())
        await pilot.press("n")
        await settle(pilot)
        assert isinstance(app.screen, CampaignFormScreen)
        assert app.screen.query_one("#name", Input).value == "Half Done"
        assert app.screen.query_one("#f-country", Input).value == "DE"
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot)
        assert isinstance(app.screen, CampaignListScreen)
        assert Campaign.get_or_none(Campaign.name == "Half Done") is None

        await pilot.press("e")  # an edit, filled in and left as it was, closes without asking
        await settle(pilot)
        assert isinstance(app.screen, CampaignFormScreen)
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, CampaignListScreen)


async def test_form_refuses_bad_input_and_saves_nothing(make_tui):
    """A bad date or a duplicate name is one readable line; the form keeps what was typed."""
    app = make_tui()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        await pilot.press(*"Odd Dates")
        app.screen.query_one("#start_date", Input).value = "31/12/2026"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, CampaignFormScreen)
        assert Campaign.get_or_none(Campaign.name == "Odd Dates") is None
        messages = [n.message for n in app._notifications]
        assert any("Start date: type a date like" in m for m in messages)

        app.screen.query_one("#start_date", Input).value = ""
        app.screen.query_one("#name", Input).value = "EMEA Roadshow"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, CampaignFormScreen)
        assert any("already exists" in n.message for n in app._notifications)
        assert app.screen.query_one("#name", Input).value == "EMEA Roadshow"


async def test_edit_keeps_the_audience(make_tui):
    """e opens the form filled in; changing a filter and saving updates the campaign."""
    app = make_tui()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        names = rendered_cells(app)
        row = names.index("EMEA Roadshow")
        for _ in range(row):
            await pilot.press("down")
        await pilot.press("e")
        await settle(pilot)
        assert app.screen.query_one("#name", Input).value == "EMEA Roadshow"
        country = app.screen.query_one("#f-country", Input)
        assert "GB" in country.value
        country.value = "GB"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert find_campaign("EMEA Roadshow").filters["country"] == ["GB"]


@pytest.fixture
def marked_campaign(demo_db):
    """A campaign whose name is markup, with one member whose name is markup too."""
    campaign = factories.campaign("[bold]Mal[/bold] launch")
    person = factories.lead(first_name="[red]Eve", last_name="\x1b[31mBad", email="eve@x.example")
    from data.enrollment import enroll

    enroll(campaign, {"lead": [person.id]})
    return campaign


async def test_user_text_is_shown_literally(make_tui, marked_campaign):
    """Markup and escape sequences in names show as typed in the list and the detail."""
    app = make_tui()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert "[bold]Mal[/bold] launch" in rendered_cells(app)
        app.open_campaign(marked_campaign.id)
        await settle(pilot)
        facts = str(app.screen.query_one("#facts").render())
        assert "[bold]Mal[/bold] launch" in facts
        row = app.screen.query_one("MemberTable").current_row
        assert row.name.startswith("[red]Eve")
        lines = "".join(
            strip.text
            for strip in app.screen.query_one("MemberTable").render_lines(
                app.screen.query_one("MemberTable").region.reset_offset
            )
        )
        assert "[red]Eve" in lines


async def test_enter_opens_the_campaign(make_tui):
    app = make_tui()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, CampaignDetailScreen)
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, CampaignListScreen)


async def test_the_list_follows_an_ingest_in_another_process(make_tui, demo_db, tmp_path):
    """Sent and the rates on the home screen move when another process writes, no key pressed."""
    campaign = find_campaign("EMEA Roadshow")
    emails = [
        factories.Lead.get_by_id(m.lead_id).email
        for m in CampaignMember.select()
        .where((CampaignMember.campaign == campaign.id) & (CampaignMember.status == "Sent"))
        .where(CampaignMember.lead.is_null(False))
        .limit(20)
    ]
    feed = tmp_path / "opens.jsonl"
    feed.write_text(
        "".join(
            json.dumps(
                {
                    "type": "open",
                    "campaign": campaign.name,
                    "email": e,
                    "at": "2026-11-20T10:00:00Z",
                }
            )
            + "\n"
            for e in emails
        )
    )
    app = make_tui(watch_interval=0.1)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        row = rendered_cells(app).index("EMEA Roadshow")
        before = app.screen.query_one(CampaignTable).rows[row][6][0]
        subprocess.run(
            [sys.executable, "-m", "tui_app", "--db", str(demo_db), "ingest", str(feed)],
            check=True,
            capture_output=True,
        )
        started = time.monotonic()
        after = before
        while time.monotonic() - started < 5 and after == before:
            await pilot.pause(0.1)
            after = app.screen.query_one(CampaignTable).rows[row][6][0]
        opened = campaign_metrics(find_campaign("EMEA Roadshow")).open_rate
        assert after.strip() == f"{opened * 100:.1f}%" and after != before


HOLDER = """
import sqlite3, sys
con = sqlite3.connect(sys.argv[1], isolation_level=None)
con.execute("BEGIN IMMEDIATE")
print("holding", flush=True)
sys.stdin.readline()  # until the test says so
con.execute("COMMIT")
print("released", flush=True)
sys.stdin.readline()  # open until the app has closed
"""


async def test_a_save_that_waits_for_another_writer_says_so_then_lands(
    make_tui, demo_db, monkeypatch
):
    """Another program holds the write lock: the app's save waits as long as it must, tells the
    user it is waiting, and completes once the other program lets go."""
    from tests.conftest import backend_of

    if backend_of(demo_db) != "sqlite":
        pytest.skip("a server database queues writers on row locks, not on a file lock")
    monkeypatch.setenv("CAMPAIGNS_WAIT_NOTICE", "0.3")
    app = make_tui()
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(demo_db)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "holding"
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await pilot.press("n")
            await settle(pilot)
            await pilot.press(*"Patient Webinar", "ctrl+s")

            def told() -> bool:
                return any("waiting" in n.message.lower() for n in app._notifications)

            await wait_until(pilot, told, seconds=60)
            assert Campaign.get_or_none(Campaign.name == "Patient Webinar") is None
            holder.stdin.write("go\n")
            holder.stdin.flush()
            assert holder.stdout.readline().strip() == "released"

            def listed() -> bool:
                on_list = isinstance(app.screen, CampaignListScreen)
                return on_list and "Patient Webinar" in rendered_cells(app)

            await wait_until(pilot, listed, 60)
            assert Campaign.get_or_none(Campaign.name == "Patient Webinar") is not None
    finally:
        holder.kill()
        holder.wait()


def test_the_app_keeps_a_small_page_cache_on_every_connection(tmp_path):
    """The app reads pages of lists: each of its SQLite connections (a worker thread has its
    own) keeps a 16 MB page cache, not the command line's 64 MB, which kept it over 200 MB
    after a 170,000-person enrollment."""
    import threading

    from data.db import database
    from tui_app.app import APP_CACHE_KIB, make_app

    make_app(str(tmp_path / "app.db"))
    sizes = [database.execute_sql("PRAGMA cache_size").fetchone()[0]]

    def in_a_worker_thread():
        sizes.append(database.execute_sql("PRAGMA cache_size").fetchone()[0])
        database.close()

    thread = threading.Thread(target=in_a_worker_thread)
    thread.start()
    thread.join()
    database.close()
    assert sizes == [-APP_CACHE_KIB, -APP_CACHE_KIB]
    assert APP_CACHE_KIB <= 16_000


async def test_the_form_counts_whatever_the_case_and_says_which_criterion_matched_nobody(make_tui):
    """`de` counts the people of DE as the picker's country:de does; a country nobody has is
    named, so a count of 0 says why."""
    app = make_tui()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        app.screen.query_one("#kind", Select).value = "leads"
        app.screen.query_one("#f-country", Input).value = "de"
        await settle(pilot)
        expected = people_count("lead", "country:de")
        count_text = str(app.screen.query_one("#match-count").render())
        assert expected and f"{expected:,} people match" in count_text
        assert "Nobody has" not in count_text
        app.screen.query_one("#f-country", Input).value = "Germany"
        await settle(pilot)
        count_text = str(app.screen.query_one("#match-count").render())
        assert "0 people match" in count_text and "Nobody has country:Germany" in count_text
