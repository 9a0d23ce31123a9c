"""Undo that keeps what came after it: status events applied again to the label they named, even
renamed since, and an enrollment whose members engaged undone only when asked twice."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime

from data.campaigns import create_campaign, find_campaign
from data.db import database
from data.enrollment import enroll, remove_emails
from data.ingest import ingest_records
from data.labels import campaign_ladder, rename_label
from data.models import CampaignMember, EngagementEvent
from data.status_import import import_statuses
from data.undo import EngagedMembers, undo
from screens.modals import ConfirmScreen
from tests import factories
from tests.pilot import SIZE, fresh, settle
from tests.test_tui_small_terminal import SMALL

AT = "2026-03-02T09:00:00Z"


def _webinar(people: int = 3):
    """A webinar (labels Invited … Registered, Attended … Converted) with `people` leads."""
    campaign = create_campaign("Live Demo", "Webinar", "leads", {})
    for i in range(people):
        factories.lead(email=f"guest{i}@example.com")
    enroll(campaign)
    return campaign


def _member(campaign, email: str) -> CampaignMember:
    M = CampaignMember
    [member] = [m for m in M.select().where(M.campaign == campaign.id) if m.lead.email == email]
    return member


def _label_of(campaign, email: str) -> str:
    label = campaign_ladder(campaign.id).get(_member(campaign, email).label_id)
    return label.name if label else ""


def _status_event(campaign, email: str, status: str, at: str = AT) -> dict:
    return {"type": "status", "campaign": campaign.name, "email": email, "at": at, "status": status}


def test_undoing_an_import_keeps_a_later_status_event_whose_label_was_renamed(fresh_db):
    """Import raises guest0 to Registered; an ingested event then raises it to Attended, which
    is renamed "Attended live"; undoing the import leaves guest0 at the renamed label, with the
    event's response date (not back at Invited while the log says the event applied)."""
    campaign = _webinar()
    import_statuses(campaign, [(2, "guest0@example.com", "Registered")])
    assert _label_of(campaign, "guest0@example.com") == "Registered"
    report = ingest_records([_status_event(campaign, "guest0@example.com", "Attended")])
    assert report.applied == 1
    rename_label(campaign, "Attended", "Attended live")
    result = undo()
    assert result.action == "import"
    assert _label_of(campaign, "guest0@example.com") == "Attended live"
    member = _member(campaign, "guest0@example.com")
    assert member.response_date == datetime(2026, 3, 2, 9, 0)
    assert member.has_responded


def test_undoing_a_removal_applies_a_status_event_whose_label_was_renamed_meanwhile(fresh_db):
    """guest1 is removed; a status event Attended arrives for it (no such member, logged);
    Attended is renamed; undoing the removal brings guest1 back at "Attended live"."""
    campaign = _webinar()
    removed, _missing = remove_emails(campaign, ["guest1@example.com"])
    assert removed == 1
    report = ingest_records([_status_event(campaign, "guest1@example.com", "Attended")])
    assert report.rejected == 1
    rename_label(campaign, "Attended", "Attended live")
    result = undo()
    assert (result.restored, result.replayed) == (1, 1)
    assert _label_of(campaign, "guest1@example.com") == "Attended live"


def test_a_status_event_names_the_label_it_reached_through_renames(fresh_db):
    """Renamed twice, with a new label taking the first old name: each logged event still
    names the label it reached (the later "Attended" is the new label's, not the old one's)."""
    campaign = _webinar()
    ingest_records([_status_event(campaign, "guest0@example.com", "Attended")])
    rename_label(campaign, "Attended", "Attended live")
    rename_label(campaign, "Registered", "Attended")
    ingest_records([_status_event(campaign, "guest2@example.com", "Attended")])
    named = [
        json.loads(e.extra)["status"]
        for e in EngagementEvent.select().order_by(EngagementEvent.id)
        if e.type == "status"
    ]
    assert named == ["Attended live", "Attended"]


def _engaged_enrollment():
    """A webinar started with three guests, two of whom engaged (an open; a bounce)."""
    campaign = _webinar()
    ingest_records(
        [
            {"type": "open", "campaign": campaign.name, "email": "guest0@example.com", "at": AT},
            {"type": "bounce", "campaign": campaign.name, "email": "guest1@example.com", "at": AT},
        ]
    )
    return campaign


def test_undoing_an_enrollment_whose_members_engaged_is_refused_with_their_count(fresh_db):
    campaign = _engaged_enrollment()
    try:
        undo()
    except EngagedMembers as refused:
        assert refused.engaged == 2
        assert "2 members it added have engaged" in str(refused)
    else:
        raise AssertionError("the undo was not refused")
    assert CampaignMember.select().where(CampaignMember.campaign == campaign.id).count() == 3
    assert undo(force=True).removed == 3
    assert CampaignMember.select().where(CampaignMember.campaign == campaign.id).count() == 0


def test_campaigns_undo_refuses_an_engaged_enrollment_unless_forced(fresh_db):
    """The shell: one readable line with the count, exit status 1, nothing removed; then
    `--force` undoes it."""
    campaign = _engaged_enrollment()
    database.close()
    env = {**os.environ, "CAMPAIGNS_DB": str(fresh_db)}

    def campaigns(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "tui_app", *args],
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
        )

    refused = campaigns("undo")
    assert refused.returncode == 1
    assert "2 members it added have engaged" in refused.stderr
    assert "--force" in refused.stderr and "Traceback" not in refused.stderr
    assert fresh(lambda: CampaignMember.select().count()) == 3
    forced = campaigns("undo", "--force")
    assert forced.returncode == 0, forced.stderr
    assert "removed 3 members it added" in forced.stdout
    assert (
        fresh(lambda: CampaignMember.select().where(CampaignMember.campaign == campaign.id).count())
        == 0
    )


async def test_the_apps_undo_of_an_engaged_enrollment_says_how_many_engaged(make_tui):
    """On the demo: `z` on the campaign list offers the newest change; for an enrollment whose
    members engaged, the confirmation says how many, and confirming undoes it."""
    from data.journal import latest_open
    from data.undo import engaged_added

    entry = latest_open()
    assert entry is not None and entry.action == "enroll"
    engaged = engaged_added(entry.id)
    assert engaged > 0
    campaign_id = find_campaign(entry.campaign).id
    app = make_tui()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("z")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        body = str(app.screen.query_one(".dialog-body").render())
        assert f"{engaged:,} members it added have engaged" in body
        await pilot.press("y")
        await settle(pilot)
    M = CampaignMember
    assert fresh(lambda: M.select().where(M.campaign == campaign_id).count()) == 0


async def _ask_to_undo(pilot) -> None:
    await settle(pilot)
    await pilot.press("z")
    await settle(pilot)


def test_engaged_enrollment_undo_confirmation_snapshot(snap_compare, make_tui):
    assert snap_compare(make_tui(), terminal_size=SIZE, run_before=_ask_to_undo)


def test_engaged_enrollment_undo_confirmation_snapshot_at_80x24(snap_compare, make_tui):
    assert snap_compare(make_tui(), terminal_size=SMALL, run_before=_ask_to_undo)
