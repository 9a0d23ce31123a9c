"""Many writers at once, on both backends: real processes, and the records, counters and event log
stay exact (the team-server promise; on SQLite the same tests prove the embedded default)."""

from __future__ import annotations

import json
import random
import subprocess
import sys
import time

import pytest

from data.campaigns import find_campaign
from data.db import database
from data.enrollment import enroll, lock_campaign
from data.models import CampaignMember, CampaignStats, EngagementEvent, Lead
from data.rollups import recount
from tests import factories

MEMBERS = 400


def _run(db, *args) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "tui_app", "--db", str(db), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _finish(process: subprocess.Popen) -> str:
    out, err = process.communicate(timeout=300)
    assert process.returncode == 0, err
    return out


def _waiting_on_a_lock() -> bool:
    """Whether another session of this PostgreSQL database waits for a lock right now."""
    database.execute_sql("SELECT pg_stat_clear_snapshot()")
    waiting = database.execute_sql(
        "SELECT count(*) FROM pg_stat_activity"
        " WHERE datname = current_database() AND wait_event_type = 'Lock'"
    ).fetchone()[0]
    return waiting > 0


def _stats(campaign_id: int) -> dict:
    row = CampaignStats.get(CampaignStats.campaign == campaign_id)
    return {f: getattr(row, f) for f in ("sent", "opened", "clicked", "responded", "converted")}


def _recounted(campaign_id: int) -> dict:
    with database.atomic():
        recount([campaign_id])
        return _stats(campaign_id)


def _campaign_with_members(n: int = MEMBERS):
    campaign = factories.campaign("Team Launch", kind="leads")
    for i in range(n):
        factories.lead(email=f"member{i}@example.com")
    enroll(campaign)
    return campaign


def _feed(path, kind: str, emails: list[str], seed: int) -> None:
    order = list(emails)
    random.Random(seed).shuffle(order)
    with open(path, "w") as out:
        for i, email in enumerate(order):
            event = {
                "id": f"{kind}-{email}",
                "type": kind,
                "campaign": "Team Launch",
                "email": email,
                "at": f"2026-03-0{1 + i % 9}T10:00:00Z",
            }
            out.write(json.dumps(event) + "\n")


def test_two_ingests_at_once_lose_no_update(fresh_db, tmp_path):
    """Opens and clicks over the same members, each file in its own order, in two processes:
    every member ends Clicked and the counters equal a recount (no lost update)."""
    campaign = _campaign_with_members()
    emails = [f"member{i}@example.com" for i in range(MEMBERS)]
    _feed(tmp_path / "opens.jsonl", "open", emails, seed=1)
    _feed(tmp_path / "clicks.jsonl", "click", emails, seed=2)
    database.close()
    runs = [
        _run(fresh_db, "ingest", str(tmp_path / name), "--batch-size", "25", "--json")
        for name in ("opens.jsonl", "clicks.jsonl")
    ]
    reports = [json.loads(_finish(p)) for p in runs]
    database.connect(reuse_if_open=True)
    assert sum(r["applied"] + r["unchanged"] for r in reports) == 2 * MEMBERS
    statuses = CampaignMember.select(CampaignMember.status).where(
        CampaignMember.campaign == campaign.id
    )
    assert {m.status for m in statuses} == {"Clicked"}
    assert _stats(campaign.id) == {
        "sent": MEMBERS,
        "opened": MEMBERS,
        "clicked": MEMBERS,
        "responded": 0,
        "converted": 0,
    }
    assert _recounted(campaign.id) == _stats(campaign.id)


def test_the_same_events_from_two_processes_are_applied_once(fresh_db, tmp_path):
    """Two connectors delivering the same events (same ids) at once: each event is applied once,
    the other copy is a duplicate, whichever process got there first."""
    _campaign_with_members(200)
    emails = [f"member{i}@example.com" for i in range(200)]
    _feed(tmp_path / "a.jsonl", "respond", emails, seed=3)
    _feed(tmp_path / "b.jsonl", "respond", emails, seed=4)
    database.close()
    runs = [
        _run(fresh_db, "ingest", str(tmp_path / name), "--batch-size", "10", "--json")
        for name in ("a.jsonl", "b.jsonl")
    ]
    reports = [json.loads(_finish(p)) for p in runs]
    database.connect(reuse_if_open=True)
    assert sum(r["applied"] + r["unchanged"] for r in reports) == 200
    assert sum(r["duplicates"] for r in reports) == 200
    applied = EngagementEvent.select().where(EngagementEvent.outcome == "applied").count()
    assert applied == 200


def test_enrollments_and_an_ingest_at_once_keep_the_counters_exact(fresh_db, tmp_path):
    """Two overlapping enrollments by email and an ingest, all at once: every person is a member
    once and the counters equal a recount."""
    campaign = _campaign_with_members(200)
    for i in range(200, 400):
        factories.lead(email=f"member{i}@example.com")
    newcomers = [f"member{i}@example.com" for i in range(200, 400)]
    _feed(tmp_path / "opens.jsonl", "open", [f"member{i}@example.com" for i in range(200)], 5)
    database.close()
    runs = [
        _run(fresh_db, "members", "add", "Team Launch", *newcomers[:150]),
        _run(fresh_db, "members", "add", "Team Launch", *newcomers[50:]),
        _run(fresh_db, "ingest", str(tmp_path / "opens.jsonl"), "--batch-size", "20"),
    ]
    for process in runs:
        _finish(process)
    database.connect(reuse_if_open=True)
    campaign = find_campaign("Team Launch")
    assert CampaignMember.select().where(CampaignMember.campaign == campaign.id).count() == 400
    assert Lead.select().count() == 400
    assert _stats(campaign.id)["sent"] == 400
    assert _stats(campaign.id)["opened"] == 200
    assert _recounted(campaign.id) == _stats(campaign.id)


def test_an_ingest_is_not_held_up_by_an_enrollment_of_its_campaign(fresh_db, tmp_path, backend):
    """An enrollment holds its campaign against other enrollments, not against the events of
    its members: an ingest whose log rows refer to the campaign goes through meanwhile (were it
    held, an enrollment waiting on the counters the ingest holds would close a deadlock)."""
    campaign = _campaign_with_members(50)
    _feed(tmp_path / "opens.jsonl", "open", [f"member{i}@example.com" for i in range(50)], 6)

    if backend == "sqlite":  # one writer at a time there: nothing to hold the campaign by
        report = json.loads(
            _finish(_run(fresh_db, "ingest", str(tmp_path / "opens.jsonl"), "--json"))
        )
    else:
        with database.atomic():
            lock_campaign(campaign.id)
            process = _run(fresh_db, "ingest", str(tmp_path / "opens.jsonl"), "--json")
            try:
                while process.poll() is None:
                    assert not _waiting_on_a_lock(), "the ingest waits for the enrollment's lock"
                    time.sleep(0.05)
            finally:
                if process.poll() is None:
                    process.kill()
            report = json.loads(_finish(process))
    assert report["applied"] == 50


def test_several_processes_opening_a_new_database_at_once(empty_db):
    """Four commands on a database nobody has opened yet: all succeed and the schema is made
    once."""
    runs = [_run(empty_db, "campaign", "list", "--json") for _ in range(4)]
    for process in runs:
        assert json.loads(_finish(process)) == []
    from data.db import open_database
    from data.migrations import SCHEMA_VERSION, current_version

    db = open_database(str(empty_db))
    assert current_version(db) == SCHEMA_VERSION


EN_US = " TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE 'en-US' LOCALE 'C.UTF-8'"


@pytest.mark.pg_options(EN_US)
def test_names_sort_the_same_on_both_backends(empty_db):
    """Lists ordered by name come out in code-point order on both backends, even on a server
    database created with a locale that sorts otherwise (en-US: _under, alpha, Alpha, …)."""
    from data.campaigns import list_campaigns
    from data.db import open_database

    open_database(str(empty_db))
    for name in ("beta", "Zulu", "alpha", "Émile", "_under", "Alpha"):
        factories.campaign(name)
    assert [c.name for c in list_campaigns()] == sorted(
        ["beta", "Zulu", "alpha", "Émile", "_under", "Alpha"]
    )


@pytest.fixture
def read_only_url(fresh_db, backend):
    """The URL of a role that may only SELECT in the test's database (a sales rep's)."""
    if backend != "postgresql":
        pytest.skip("roles are a server's")
    from urllib.parse import urlsplit

    factories.campaign("Readable")
    database.execute_sql("DROP ROLE IF EXISTS campaigns_rep")
    database.execute_sql("CREATE ROLE campaigns_rep LOGIN")
    database.execute_sql("GRANT SELECT ON ALL TABLES IN SCHEMA public TO campaigns_rep")
    database.close()
    parts = urlsplit(str(fresh_db))
    yield parts._replace(netloc=f"campaigns_rep@{parts.hostname}:{parts.port}").geturl()
    database.close()
    database.connect(reuse_if_open=True)
    database.execute_sql("REVOKE ALL ON ALL TABLES IN SCHEMA public FROM campaigns_rep")
    database.close()


def test_a_read_only_role_reads_and_is_told_it_cannot_write(read_only_url):
    """A sales rep's role may only SELECT: the read commands work and a write is one line
    saying the connection is read-only (no traceback)."""
    rep = read_only_url
    listed = json.loads(_finish(_run(rep, "campaign", "list", "--json")))
    assert [c["name"] for c in listed] == ["Readable"]
    refused = _run(rep, "campaign", "create", "Another", "--type", "Email")
    out, err = refused.communicate(timeout=120)
    assert refused.returncode == 1
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert "read-only" in err


async def test_the_app_on_a_read_only_role_says_so_when_a_write_is_refused(read_only_url):
    """The app opens on a read-only role and shows the campaigns; saving a new campaign is
    refused with a notification saying the connection is read-only, and the app goes on."""
    from screens.campaign_form import CampaignFormScreen
    from tests.conftest import FIXED_NOW
    from tests.pilot import SIZE, settle
    from tui_app.app import make_app

    app = make_app(read_only_url, now=FIXED_NOW)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        assert isinstance(app.screen, CampaignFormScreen)
        await pilot.press(*"Not Allowed", "ctrl+s")
        await settle(pilot)
        messages = [n.message for n in app._notifications]
        assert any("read-only" in m for m in messages), messages
        assert app.is_running


def test_text_longer_than_its_column_is_refused_the_same_way_on_both(fresh_db, tmp_path):
    """A 300-character campaign name or lead title: one line on both backends (PostgreSQL
    enforces VARCHAR(255), SQLite would store it)."""
    database.close()
    process = _run(fresh_db, "campaign", "create", "x" * 300, "--type", "Email")
    _, err = process.communicate(timeout=120)
    assert process.returncode == 1
    assert err.strip() == "campaigns: error: name is longer than 255 characters"
    leads = tmp_path / "leads.csv"
    leads.write_text(f"first_name,last_name,email,title\nAna,Lima,ana@x.co,{'t' * 256}\n")
    process = _run(fresh_db, "import", "leads", str(leads))
    _, err = process.communicate(timeout=120)
    assert process.returncode == 1
    assert "line 2" in err and "title is longer than 255 characters" in err
    database.connect(reuse_if_open=True)
    assert Lead.select().count() == 0


def test_credentials_from_pg_variables_and_a_password_never_shown(fresh_db, backend):
    """`postgresql:///NAME` takes the server and role from PGHOST, PGPORT and PGUSER (libpq's
    own rules, ~/.pgpass too); a refused connection names the URL with its password masked."""
    if backend != "postgresql":
        pytest.skip("connection variables are a server's")
    import os
    from urllib.parse import urlsplit

    factories.campaign("Found by the variables")
    database.close()
    parts = urlsplit(str(fresh_db))
    env = {
        **os.environ,
        "PGHOST": parts.hostname or "",
        "PGPORT": str(parts.port or 5432),
        "PGUSER": parts.username or "",
    }
    listed = subprocess.run(
        [sys.executable, "-m", "tui_app", "--db", f"postgresql:///{parts.path.lstrip('/')}"]
        + ["campaign", "list", "--json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert listed.returncode == 0, listed.stderr
    assert [c["name"] for c in json.loads(listed.stdout)] == ["Found by the variables"]
    wrong = parts._replace(netloc=f"nobody:s3cret-word@{parts.hostname}:{parts.port}").geturl()
    refused = _run(wrong, "campaign", "list")
    out, err = refused.communicate(timeout=120)
    assert refused.returncode == 1
    assert "s3cret-word" not in out + err and "***" in err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1
