"""Every screen at 80×24: the columns that matter (name, status) stay readable, the rest give
way, and the footer shows `f1 Help`. One snapshot per screen."""

from __future__ import annotations

import io

import pytest

from data.campaigns import find_campaign
from data.ingest import ingest_stream
from screens.people import PeopleScreen
from tests.conftest import FIXED_NOW
from tests.pilot import settle
from tests.test_tui_events import BAD_EVENTS, responded_member
from tests.test_tui_people import lead_with_memberships

SMALL = (80, 24)


async def detail(pilot, name: str = "EMEA Roadshow") -> None:
    await settle(pilot)
    pilot.app.open_campaign(find_campaign(name).id)
    await settle(pilot)


async def keys(pilot, *pressed: str) -> None:
    for key in pressed:
        await pilot.press(key)
        await settle(pilot)


async def campaign_detail(pilot) -> None:
    await detail(pilot)


async def converted_view(pilot) -> None:
    await detail(pilot)
    await keys(pilot, "4")


async def add_members_picker(pilot) -> None:
    await detail(pilot)
    await keys(pilot, "a")


async def member_status_choice(pilot) -> None:
    await detail(pilot)
    await keys(pilot, "s")


async def start_confirmation(pilot) -> None:
    await detail(pilot, "Developer Conference")
    await keys(pilot, "t", "enter")


async def people(pilot) -> None:
    await settle(pilot)
    await pilot.app.push_screen(PeopleScreen())
    await settle(pilot)


async def lead_detail(pilot) -> None:
    lead = lead_with_memberships()
    await settle(pilot)
    pilot.app.open_person("lead", lead.id)
    await settle(pilot)


async def convert_dialog(pilot) -> None:
    await lead_detail(pilot)
    await keys(pilot, "v")


async def member_timeline(pilot) -> None:
    member = responded_member()
    await settle(pilot)
    pilot.app.open_member_events(member.id)
    await settle(pilot)


async def rejected_events(pilot) -> None:
    ingest_stream(io.StringIO(BAD_EVENTS), now=FIXED_NOW)
    await settle(pilot)
    await keys(pilot, "r")


async def connectors(pilot) -> None:
    from tests.test_tui_connectors import a_stopped_receiver

    a_stopped_receiver()
    await settle(pilot)
    await keys(pilot, "c")


async def new_campaign_form(pilot) -> None:
    await settle(pilot)
    await keys(pilot, "n")


async def help_screen(pilot) -> None:
    await settle(pilot)
    await keys(pilot, "f1")


SCREENS = (
    campaign_detail,
    converted_view,
    add_members_picker,
    member_status_choice,
    start_confirmation,
    people,
    lead_detail,
    convert_dialog,
    member_timeline,
    rejected_events,
    connectors,
    new_campaign_form,
    help_screen,
)


@pytest.mark.parametrize("route", SCREENS, ids=[route.__name__ for route in SCREENS])
def test_snapshot_at_80x24(snap_compare, make_tui, route):
    assert snap_compare(make_tui(), terminal_size=SMALL, run_before=route)
