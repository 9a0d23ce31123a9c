"""Connectors: whether a receiver runs on this database, events per source in the last hour,
and the last refusal, live while `campaigns serve` receives."""

from __future__ import annotations

import signal
from datetime import datetime

import httpx

from data.models import Receiver
from screens.connectors import ConnectorsScreen
from tests.pilot import SIZE, settle, wait_until
from tests.serving import Keys, Server, events_request


def a_stopped_receiver() -> None:
    """A receiver that ran and stopped at a fixed time, having refused one request."""
    Receiver.create(
        host="127.0.0.1",
        port=8025,
        pid=4242,
        endpoints="webhook,sendgrid",
        started_at=datetime(2026, 11, 20, 9, 0),
        seen_at=datetime(2026, 11, 20, 11, 59),
        stopped_at=datetime(2026, 11, 20, 12, 0),
        last_refusal="sendgrid: the SendGrid signature does not match the verification key (401)",
        last_refusal_at=datetime(2026, 11, 20, 11, 30),
    )


async def open_connectors(pilot) -> None:
    await settle(pilot)
    await pilot.press("c")
    await settle(pilot)


def text_of(app, selector: str) -> str:
    return str(app.screen.query_one(selector).render())


def test_connectors_snapshot(snap_compare, make_tui):
    """A receiver that has stopped, its last refusal, and nothing received in the last hour."""
    a_stopped_receiver()
    assert snap_compare(make_tui(), terminal_size=SIZE, run_before=open_connectors)


async def test_the_campaign_list_opens_connectors_and_escape_goes_back(make_tui):
    app = make_tui()
    async with app.run_test(size=SIZE) as pilot:
        await open_connectors(pilot)
        assert isinstance(app.screen, ConnectorsScreen)
        assert "No receiver running" in text_of(app, "#receiver")
        assert "Nothing refused" in text_of(app, "#last-refusal")
        await pilot.press("escape")
        await settle(pilot)
        assert not isinstance(app.screen, ConnectorsScreen)


async def test_a_running_receiver_its_events_and_refusals_show_live(make_tui, demo_db):
    from tests.test_serve import sent_members

    (campaign, email, _), *_ = sent_members(1)
    server = Server(demo_db, Keys().environ())
    try:
        app = make_tui(watch_interval=0.1)
        async with app.run_test(size=SIZE) as pilot:
            await open_connectors(pilot)
            await wait_until(pilot, lambda: "Receiver running" in text_of(app, "#receiver"), 30)
            table = app.screen.query_one("#sources")
            assert str(table.get_cell("webhook", table.ordered_columns[2].key)) == "0"
            event = {"id": "tui-1", "type": "open", "campaign": campaign, "email": email,
                     "at": "2026-03-02T09:00:00Z"}  # fmt: skip
            body, headers = events_request(event)
            answer = httpx.post(f"{server.url}/hooks/events", content=body, headers=headers)
            assert answer.status_code == 200
            await wait_until(
                pilot,
                lambda: str(table.get_cell("webhook", table.ordered_columns[2].key)) == "1",
                30,
            )
            bad = httpx.post(f"{server.url}/hooks/events", content=body, headers={})
            assert bad.status_code == 401
            await wait_until(
                pilot, lambda: "no X-Campaigns-Signature" in text_of(app, "#last-refusal"), 30
            )
    finally:
        server.stop(signal.SIGKILL)
