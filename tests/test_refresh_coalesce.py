"""Live refresh coalesces: a burst of commits while a screen re-reads is one more re-read, not
one per commit, and the last commit is always shown."""

from __future__ import annotations

import threading

import screens.campaign_detail as campaign_detail
from data.campaigns import find_campaign
from data.ingest import ingest_records
from data.models import CampaignMember, Lead
from tests.pilot import SIZE, settle, wait_until
from tui_app.widgets.member_table import MemberTable

ROADSHOW = "EMEA Roadshow"
BURST = 12
"""Commits in a burst (each raises one member to Opened)."""


def sent_members(count: int) -> list[str]:
    """Emails of members of the Roadshow who have not opened anything yet."""
    M = CampaignMember
    query = (
        Lead.select(Lead.email)
        .join(M, on=(M.lead == Lead.id))
        .where((M.campaign == find_campaign(ROADSHOW).id) & (M.status == "Sent"))
        .order_by(M.id)
        .limit(count)
    )
    emails = [email for (email,) in query.tuples()]
    assert len(emails) == count
    return emails


def commit_open(n: int, email: str) -> None:
    """One commit, as a webhook's would be: `email` opened the Roadshow."""
    event = {
        "id": f"burst-{n}",
        "type": "open",
        "campaign": ROADSHOW,
        "email": email,
        "at": "2026-11-20T11:00:00Z",
    }
    report = ingest_records([event], batch_size=1)
    assert report.applied == 1


class Gate:
    """Counts the campaign detail's label counts (one per re-read of its figures) and can hold
    them in flight until opened."""

    def __init__(self, monkeypatch) -> None:
        self.calls = 0
        self.entered = threading.Event()
        self.open = threading.Event()
        self.open.set()
        real = campaign_detail.label_counts

        def counting(*args, **kwargs):
            self.calls += 1
            self.entered.set()
            assert self.open.wait(30), "the test never let the read finish"
            return real(*args, **kwargs)

        monkeypatch.setattr(campaign_detail, "label_counts", counting)


async def open_roadshow(pilot):
    await settle(pilot)
    pilot.app.open_campaign(find_campaign(ROADSHOW).id)
    await settle(pilot)
    return pilot.app.screen


async def test_commits_during_a_reread_are_one_more_reread_and_the_last_is_shown(
    make_tui, monkeypatch
):
    """The first commit's re-read is held in flight while eleven more commit and are reported,
    each handled by the screen; when it ends, exactly one more re-read runs, and it shows all."""
    emails = sent_members(BURST)
    gate = Gate(monkeypatch)
    app = make_tui(watch_interval=3600)  # commits are reported below, one by one
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_roadshow(pilot)
        opened = screen.gauge_figures["Opened"]
        calls, rereads = gate.calls, screen.rereads.rereads

        gate.open.clear()
        gate.entered.clear()
        commit_open(0, emails[0])
        app.notify_changed()
        await wait_until(pilot, gate.entered.is_set)
        for n, email in enumerate(emails[1:], start=1):
            commit_open(n, email)
            app.notify_changed()
            await pilot.pause()  # the report is handled while the first re-read is in flight
        assert screen.rereads.again
        gate.open.set()

        await wait_until(pilot, lambda: screen.gauge_figures["Opened"] == opened + BURST)
        await settle(pilot)
        assert gate.calls - calls == 2
        assert screen.rereads.rereads - rereads == 2
        assert screen.gauge_figures["Opened"] == opened + BURST
        assert not screen.rereads.in_flight


async def test_a_burst_reported_at_once_is_two_rereads_at_most(make_tui, monkeypatch):
    """Twelve commits reported back to back (as the watcher does under a webhook burst): the
    screen re-reads at most twice, and the member list shows the last commit too."""
    emails = sent_members(BURST)
    gate = Gate(monkeypatch)
    app = make_tui(watch_interval=3600)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_roadshow(pilot)
        opened = screen.gauge_figures["Opened"]
        calls = gate.calls
        for n, email in enumerate(emails):
            commit_open(n, email)
            app.notify_changed()
        await wait_until(pilot, lambda: screen.gauge_figures["Opened"] == opened + BURST)
        await settle(pilot)
        assert gate.calls - calls <= 2
        await pilot.press("slash", *emails[-1], "enter")
        await settle(pilot)
        assert screen.query_one(MemberTable).current_row.status == "Opened"


async def test_a_screen_left_during_a_reread_reads_no_more(make_tui, monkeypatch):
    """Commits reported while a re-read is in flight, then the screen is left: when the read
    ends nothing more is read for the closed screen, and the app goes on without an error."""
    emails = sent_members(2)
    gate = Gate(monkeypatch)
    app = make_tui(watch_interval=3600)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_roadshow(pilot)
        gate.open.clear()
        gate.entered.clear()
        commit_open(0, emails[0])
        app.notify_changed()
        await wait_until(pilot, gate.entered.is_set)
        commit_open(1, emails[1])
        app.notify_changed()
        await wait_until(pilot, lambda: screen.rereads.again)
        rereads, calls = screen.rereads.rereads, gate.calls
        await pilot.press("escape")
        await wait_until(pilot, lambda: screen not in app.screen_stack)
        gate.open.set()
        await settle(pilot)
        assert (screen.rereads.rereads, gate.calls) == (rereads, calls)
        assert app.is_running
