"""Hostile data and failures: text from feeds never reaches the terminal raw or as markup, and
no worker failure, deleted record or crash ends the app quietly."""

from __future__ import annotations

from pathlib import Path

from textual.drivers.headless_driver import HeadlessDriver

from data.campaigns import find_campaign
from data.conversion import convert_lead
from data.enrollment import enroll
from data.models import Campaign, CampaignMember, Lead
from screens.campaign_detail import CampaignDetailScreen
from screens.campaign_list import CampaignListScreen
from screens.modals import ChoiceScreen
from screens.people import PeopleScreen
from screens.person_detail import PersonDetailScreen
from tests import factories
from tests.pilot import SIZE, fresh, palette_offers, settle, wait_until

HOSTILE_FIRST = "Eve\x1b]0;TITLE\x07\x1b[5;41m"
HOSTILE_COMPANY = "Evil\x1b[2JCorp"
HOSTILE_CAMPAIGN = "Gala\x1b]2;OWNED\x07\x9b31m"
MARKUP_CAMPAIGN = "Evil [/x] [bold red]RED[/bold red]"


class TerminalRecorder(HeadlessDriver):
    """A driver that keeps every byte the app would send to a real terminal."""

    written: list[str] = []

    @property
    def is_headless(self) -> bool:
        return False

    def write(self, data: str) -> None:
        TerminalRecorder.written.append(data)


def notifications(app) -> list[str]:
    return [str(n.message) for n in app._notifications]


def hostile_people():
    lead = factories.lead(
        first_name=HOSTILE_FIRST, last_name="Doe", company=HOSTILE_COMPANY, email="eve@evil.test"
    )
    campaign = factories.campaign(HOSTILE_CAMPAIGN)
    enroll(campaign, people={"lead": [lead.id]})
    return lead, campaign


async def test_hostile_names_reach_the_terminal_as_visible_symbols(make_tui):
    """Escape sequences in a name, a company and a campaign name are shown as ␛, never sent:
    the terminal's title stays, the screen is not cleared, nothing blinks."""
    lead, campaign = hostile_people()
    TerminalRecorder.written = []
    app = make_tui()
    app.driver_class = TerminalRecorder
    async with app.run_test(size=SIZE, headless=False, notifications=True) as pilot:
        await settle(pilot)
        app.open_campaign(campaign.id)  # header facts, member rows
        await settle(pilot)
        await pilot.press("t")  # a dialog titled with the campaign's name
        await settle(pilot)
        await pilot.press("escape")
        app.open_person("lead", lead.id)  # facts, memberships sidebar
        await settle(pilot)
        await app.push_screen(PeopleScreen())
        await settle(pilot)
        await pilot.press("ctrl+p", *"Eve")  # the palette's hits and their help lines
        await wait_until(pilot, lambda: palette_offers(app, "Doe"))
        await settle(pilot)
        await pilot.press("escape")
        await settle(pilot)
    sent = "".join(TerminalRecorder.written)
    assert "Doe" in sent and "Evil" in sent and "Gala" in sent
    for raw in ("\x1b]0;TITLE", "\x07\x1b[5;41m", "\x1b[5;41m", "\x1b[2J", "\x1b]2;", "\x9b"):
        assert raw not in sent
    assert "Eve␛]0;TITLE␇␛[5;41m" in sent
    assert "Evil␛[2JCorp" in sent
    assert "Gala␛]2;OWNED␇" in sent


async def test_a_hostile_deal_name_in_the_converted_view_is_shown_as_symbols(make_tui):
    """An opportunity named with escape sequences and markup reaches the Converted view's
    row as visible symbols, typed as it was."""
    lead, campaign = hostile_people()
    convert_lead(lead, opportunity_name="Deal\x1b[2J[bold]x", amount=5, campaign_source=campaign)
    TerminalRecorder.written = []
    app = make_tui()
    app.driver_class = TerminalRecorder
    async with app.run_test(size=SIZE, headless=False) as pilot:
        await settle(pilot)
        app.open_campaign(campaign.id)
        await settle(pilot)
        await pilot.press("4")
        await settle(pilot)
    sent = "".join(TerminalRecorder.written)
    assert "Deal␛[2J[bold]x" in sent and "$5.00" in sent
    assert "\x1b[2J" not in sent


async def test_a_campaign_named_like_markup_survives_a_status_change(make_tui):
    """`[/x]` in a campaign's name is shown as typed in the dialog and the notification
    after the change; it used to end the app with a MarkupError (and exit status 0)."""
    factories.campaign(MARKUP_CAMPAIGN)
    app = make_tui()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        await pilot.press("slash", *"Evil", "enter")
        await settle(pilot)
        await pilot.press("t")
        await settle(pilot)
        assert isinstance(app.screen, ChoiceScreen)
        await pilot.press("down", "enter")  # Completed
        await settle(pilot)
        assert isinstance(app.screen, CampaignListScreen)
        assert f"{MARKUP_CAMPAIGN} is now Completed." in notifications(app)
        await pilot.press("e")  # the edit form shows the name as typed, too
        await settle(pilot)
        assert app.screen.query_one("#name").value == MARKUP_CAMPAIGN
    assert app.return_code in (None, 0) and app._exception is None


async def test_a_campaign_deleted_elsewhere_sends_its_screen_back(make_tui):
    """Open a campaign, delete it from another connection, press c: a message and the list,
    not a WorkerFailed that ends the app."""
    campaign = find_campaign("EMEA Roadshow")
    app = make_tui(watch_interval=3600)  # the keypress, not the change watcher, finds it gone
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        app.open_campaign(campaign.id)
        await settle(pilot)
        assert isinstance(app.screen, CampaignDetailScreen)
        fresh(
            lambda: CampaignMember.delete().where(CampaignMember.campaign == campaign.id).execute()
        )
        fresh(lambda: Campaign.delete_by_id(campaign.id))
        await pilot.press("c")
        await settle(pilot)
        assert isinstance(app.screen, CampaignListScreen)
        assert "This campaign no longer exists." in notifications(app)
        assert app.is_running
    assert app._exception is None


async def test_a_person_deleted_elsewhere_sends_their_screen_back(make_tui):
    lead = factories.lead(first_name="Gone", last_name="Soon")
    app = make_tui(watch_interval=3600)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        app.open_person("lead", lead.id)
        await settle(pilot)
        assert isinstance(app.screen, PersonDetailScreen)
        fresh(lambda: Lead.delete_by_id(lead.id))
        await pilot.press("a")
        await settle(pilot)
        assert isinstance(app.screen, CampaignListScreen)
        assert "This person no longer exists." in notifications(app)
    assert app._exception is None


async def test_a_failing_worker_is_a_notification(make_tui, monkeypatch):
    """An unexpected error in a database worker is reported; the app and the screen stay."""
    import screens.campaign_detail as detail

    def broken(campaign):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(detail, "exits_count", broken)
    app = make_tui(watch_interval=3600)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        app.open_campaign(find_campaign("EMEA Roadshow").id)
        await settle(pilot)
        await pilot.press("c")
        await settle(pilot)
        assert isinstance(app.screen, CampaignDetailScreen)
        assert any("disk on fire" in note for note in notifications(app))
    assert app._exception is None


def test_a_crash_makes_a_non_zero_exit_status(make_tui, monkeypatch):
    """If the app ever does die of an error, the status it exits with says so."""

    def crash(self):
        raise RuntimeError("a bug")

    monkeypatch.setattr(CampaignListScreen, "on_mount", crash)
    assert make_tui().run_to_exit_status(headless=True, size=SIZE) == 1


def test_a_clean_quit_exits_zero(make_tui, monkeypatch):
    monkeypatch.setattr(CampaignListScreen, "on_mount", lambda self: self.app.exit())
    assert make_tui().run_to_exit_status(headless=True, size=SIZE) == 0


def test_the_command_exits_with_the_apps_status(make_tui, demo_db, monkeypatch):
    """`campaigns` with no subcommand runs the app and exits with its status."""
    from tui_app import cli
    from tui_app.app import CampaignsApp

    monkeypatch.setattr(CampaignsApp, "run", lambda self, **_: setattr(self, "_return_code", 1))
    assert cli.main(["--db", str(demo_db)]) == 1
    monkeypatch.setattr(CampaignsApp, "run", lambda self, **_: setattr(self, "_return_code", 0))
    assert cli.main(["--db", str(demo_db)]) == 0


def test_every_worker_goes_through_reads_or_writes():
    """Workers start only through `reads` (exclusive) and `writes` (never exclusive), both with
    exit_on_error off, and report back by message, never by a call_from_thread callback."""
    root = Path(__file__).resolve().parents[1]
    for path in [*(root / "screens").glob("*.py"), *(root / "tui_app").rglob("*.py")]:
        text = path.read_text()
        assert "@work" not in text, path
        assert "call_from_thread" not in text, path
        assert "textual.widgets._" not in text, path  # no private Textual module


async def test_a_commit_seen_while_the_app_closes_is_ignored(make_tui):
    """The change watcher can report a commit after the last screen is gone."""
    from tui_app.app import CommittedElsewhere

    app = make_tui()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
    assert not app.screen_stack
    app.on_committed_elsewhere(CommittedElsewhere())
    app.notify_changed()
