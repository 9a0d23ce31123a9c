"""Event history screens: a member's timeline from the member list, and the rejected events."""

from __future__ import annotations

import io
import json

from textual.widgets import DataTable

from data.campaigns import find_campaign
from data.ingest import ingest_stream
from data.models import CampaignMember, Lead
from screens.event_history import MemberEventsScreen, RejectedEventsScreen, RejectedTable
from screens.modals import ChoiceScreen
from tests.conftest import FIXED_NOW
from tests.pilot import SIZE, column, settle


def _event(type_: str, campaign: str, email: str, at: str = "2026-11-01T10:00:00Z") -> str:
    return json.dumps({"type": type_, "campaign": campaign, "email": email, "at": at})


BAD_EVENTS = "\n".join(
    [
        _event("teleport", "EMEA Roadshow", "a@b.c"),
        "not json at all",  # not first: a first line that is not JSON reads as a CSV header
        _event("open", "No Such Campaign", "a@b.c"),
        _event("open", "EMEA Roadshow", "nobody@nowhere.example"),
        _event("open", "EMEA Roadshow", "[bold]x@y.z", at="yesterday"),
        "",
    ]
)


def responded_member() -> CampaignMember:
    M = CampaignMember
    return (
        M.select()
        .where(
            (M.campaign == find_campaign("EMEA Roadshow").id)
            & (M.status == "Responded")
            & M.lead.is_null(False)
        )
        .order_by(M.id)
        .first()
    )


def test_member_timeline_snapshot(snap_compare, make_tui):
    member = responded_member()

    async def run_before(pilot):
        await settle(pilot)
        pilot.app.open_member_events(member.id)
        await settle(pilot)

    assert snap_compare(make_tui(), terminal_size=SIZE, run_before=run_before)


def test_rejected_events_snapshot(snap_compare, make_tui):
    ingest_stream(io.StringIO(BAD_EVENTS), now=FIXED_NOW)

    async def run_before(pilot):
        await settle(pilot)
        await pilot.press("r")
        await settle(pilot)

    assert snap_compare(make_tui(), terminal_size=SIZE, run_before=run_before)


def test_member_status_choice_snapshot(snap_compare, make_tui):
    """The status dialog: every other status, coloured, with the rule stated."""
    member = responded_member()
    email = Lead.get_by_id(member.lead_id).email

    async def run_before(pilot):
        await settle(pilot)
        pilot.app.open_campaign(member.campaign_id)
        await settle(pilot)
        await pilot.press("slash", *email, "enter")
        await settle(pilot)
        await pilot.press("s")
        await settle(pilot)

    assert snap_compare(make_tui(), terminal_size=SIZE, run_before=run_before)


async def test_timeline_lists_every_event_oldest_first(make_tui):
    member = responded_member()
    app = make_tui()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.open_member_events(member.id)
        await settle(pilot)
        table = app.screen.query_one("#timeline", DataTable)
        times = [str(table.get_row_at(i)[0]) for i in range(table.row_count)]
        assert times == sorted(times) and len(times) >= 2
        assert "respond" in {str(table.get_row_at(i)[1]) for i in range(table.row_count)}


async def test_rejected_events_are_listed_and_saved_for_resending(make_tui, tmp_path):
    ingest_stream(io.StringIO(BAD_EVENTS), now=FIXED_NOW)
    app = make_tui()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("r")
        await settle(pilot)
        assert isinstance(app.screen, RejectedEventsScreen)
        table = app.screen.query_one("#rejected", RejectedTable)
        assert table.total == 5
        sent = column(table, 2)
        assert any("[bold]x@y.z" in line for line in sent)  # shown as sent, not as markup
        await pilot.press("x")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
    saved = list(tmp_path.glob("rejected-events-*.jsonl"))
    assert len(saved) == 1
    assert oct(saved[0].stat().st_mode & 0o777) == "0o600"  # personal data: the owner's only
    lines = saved[0].read_text().splitlines()
    assert len(lines) == 5 and "not json at all" in lines


async def test_history_key_from_the_member_list(make_tui):
    member = responded_member()
    app = make_tui()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.open_campaign(member.campaign_id)
        await settle(pilot)
        await pilot.press("s")
        await settle(pilot)
        assert isinstance(app.screen, ChoiceScreen)
        await pilot.press("escape", "h")
        await settle(pilot)
        assert isinstance(app.screen, MemberEventsScreen)
