"""Other writers, killed ingests and old databases: the file stays right through all of them."""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from data.db import open_database
from data.ingest import ingest_records
from data.migrations import SCHEMA_VERSION, current_version
from tests.conftest import FIXED_NOW

FIXTURES = Path(__file__).parent / "fixtures"


def schema(path) -> dict:
    con = sqlite3.connect(path)
    tables = [
        r[0]
        for r in con.execute(
            "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%'"
        )
    ]
    shape = {t: [tuple(c[1:]) for c in con.execute(f'PRAGMA table_info("{t}")')] for t in tables}
    shape["indexes"] = sorted(
        r
        for r in con.execute(
            "SELECT name, tbl_name, sql FROM sqlite_master WHERE type='index' AND sql IS NOT NULL"
        )
    )
    con.close()
    return shape


def counts(path) -> dict:
    con = sqlite3.connect(path)
    result = {
        t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
        for t in (
            "lead",
            "contact",
            "account",
            "campaign",
            "campaign_member",
            "engagement_event",
            "opportunity",
        )
    }
    con.close()
    return result


def test_every_released_schema_upgrades_in_place_with_nothing_lost(tmp_path):
    fixtures = sorted(FIXTURES.glob("schema_v*.db"))
    assert fixtures, "keep a database of each released schema version in tests/fixtures"
    fresh = tmp_path / "fresh.db"
    open_database(str(fresh)).close()
    for fixture in fixtures:
        path = tmp_path / fixture.name
        shutil.copyfile(fixture, path)
        before = counts(path)
        db = open_database(str(path))
        assert current_version(db) == SCHEMA_VERSION
        db.close()
        assert counts(path) == before
        assert schema(path) == schema(fresh), f"{fixture.name} upgrades to the current schema"


def test_a_database_from_a_newer_program_is_refused(tmp_path):
    from data.db import DatabaseError
    from data.models import SchemaVersion

    path = tmp_path / "new.db"
    open_database(str(path))
    SchemaVersion.create(version=SCHEMA_VERSION + 1)
    with pytest.raises(DatabaseError, match="newer than this program"):
        open_database(str(path))


# Killed and resumed ingests ---------------------------------------------------------------------


def build_world(path, events: int, seed: int = 1):
    """A small demo database and an event file touching its members, some events repeated."""
    from data.demo import generate
    from data.models import Campaign, CampaignMember, Contact, Lead

    db = open_database(str(path))
    generate(people=300, campaigns=8, seed=seed, now=FIXED_NOW)
    M = CampaignMember
    members = list(
        M.select(Campaign.name, Lead.email).join(Campaign).switch(M).join(Lead).tuples()
    ) + list(M.select(Campaign.name, Contact.email).join(Campaign).switch(M).join(Contact).tuples())
    db.close()
    rng = random.Random(seed)
    lines = []
    for _ in range(events):
        campaign, email = rng.choice(members)
        event = {
            "type": rng.choice(["open", "click", "respond", "bounce", "unsubscribe", "convert"]),
            "campaign": campaign,
            "email": email,
            "at": f"2026-10-{rng.randint(1, 28):02d}T{rng.randint(0, 23):02d}:00:00Z",
        }
        if rng.random() < 0.7:
            event["id"] = f"k-{rng.randrange(events)}"
        lines.append(json.dumps(event) if rng.random() > 0.01 else "garbage")
    return "\n".join(lines) + "\n"


def state(path) -> dict:
    """Everything an ingest may change, without the wall-clock receive time."""
    con = sqlite3.connect(path)
    result = {
        "members": con.execute("SELECT * FROM campaign_member ORDER BY id").fetchall(),
        "leads": con.execute(
            "SELECT id, do_not_email, email_bounced FROM lead ORDER BY id"
        ).fetchall(),
        "contacts": con.execute(
            "SELECT id, do_not_email, email_bounced FROM contact ORDER BY id"
        ).fetchall(),
        "stats": con.execute("SELECT * FROM campaign_stats ORDER BY campaign_id").fetchall(),
        "events": con.execute(
            "SELECT id, event_id, type, campaign_id, email, at, member_id, outcome, reason, extra"
            " FROM engagement_event ORDER BY id"
        ).fetchall(),
    }
    con.close()
    return result


def cli(db, *args, **kwargs):
    env = {**os.environ, "CAMPAIGNS_DB": str(db)}
    return subprocess.Popen(
        [sys.executable, "-m", "tui_app", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **kwargs,
    )


def test_an_ingest_killed_anywhere_and_rerun_ends_as_one_clean_run(tmp_path):
    world = tmp_path / "world.db"
    text = build_world(world, events=6_000)
    feed = tmp_path / "events.jsonl"
    feed.write_text(text)
    clean = tmp_path / "clean.db"
    shutil.copyfile(world, clean)
    proc = cli(clean, "ingest", str(feed), "--batch-size", "250", "--json")
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    expected = state(clean)
    clean_report = json.loads(out)

    for attempt, threshold in enumerate((0, 750, 2_500, 5_000)):
        victim = tmp_path / f"killed{attempt}.db"
        shutil.copyfile(world, victim)
        proc = cli(victim, "ingest", str(feed), "--batch-size", "250")
        while proc.poll() is None and committed(victim) < threshold:
            time.sleep(0.005)
        time.sleep(random.Random(attempt).uniform(0, 0.02))  # land anywhere inside a batch
        proc.send_signal(signal.SIGKILL)
        proc.communicate()
        if proc.returncode == 0:  # it finished before the signal: that is one clean run
            assert state(victim) == expected
            continue
        assert proc.returncode == -signal.SIGKILL
        rerun = cli(victim, "ingest", str(feed), "--batch-size", "250", "--json")
        out, err = rerun.communicate(timeout=120)
        assert rerun.returncode == 0, err
        report = json.loads(out)
        assert state(victim) == expected, f"killed after {threshold} events"
        for key in ("applied", "unchanged", "duplicates", "rejected"):
            assert report[key] == clean_report[key]


def committed(path) -> int:
    """Events an ingest has committed so far, read as another process would."""
    try:
        con = sqlite3.connect(path, timeout=5)
        row = con.execute("SELECT max(records_done) FROM ingest_run").fetchone()
        con.close()
    except sqlite3.OperationalError:  # the table is created by the first batch's migration
        return 0
    return row[0] or 0


def test_a_failure_midway_resumes_in_process(fresh_db):
    from data.demo import generate

    generate(people=80, campaigns=3, seed=2, now=FIXED_NOW)
    from data.models import CampaignMember, Lead

    member = CampaignMember.select().where(CampaignMember.lead.is_null(False)).first()
    email = Lead.get_by_id(member.lead_id).email
    records = [
        {
            "id": f"r{n}",
            "type": "open",
            "campaign": str(member.campaign_id),
            "email": email,
            "at": f"2026-10-01T{n % 24:02d}:00:00Z",
        }
        for n in range(50)
    ]

    def failing():
        for n, record in enumerate(records):
            if n == 23:
                raise KeyboardInterrupt
            yield record

    with pytest.raises(KeyboardInterrupt):
        ingest_records(failing(), batch_size=10, source="feed")
    report = ingest_records(records, batch_size=10, source="feed")
    assert report.resumed_from == 20
    assert report.applied + report.unchanged + report.duplicates == 50
    again = ingest_records(records, batch_size=10, source="feed")
    assert again.resumed_from == 0 and again.duplicates == 50  # a finished run is not resumed


# Concurrent writers ------------------------------------------------------------------------------


def test_ingest_enrollment_and_app_writes_at_once_lose_nothing(tmp_path):
    """The real app (headless, driven by keyboard), an ingest, campaign starts and a script write
    the same file together: none sees "database is locked" and every write lands."""
    db = tmp_path / "busy.db"
    text = build_world(db, events=8_000, seed=4)
    feed = tmp_path / "events.jsonl"
    feed.write_text(text)
    expected_events = len(text.splitlines())
    con = sqlite3.connect(db)
    planned = [r[0] for r in con.execute("SELECT name FROM campaign WHERE status = 'Planned'")]
    con.close()
    assert planned
    writer_script = """
import sys
from data.db import open_database
from data.campaigns import create_campaign, find_campaign
from data.enrollment import enroll
from data.ingest import set_member_status
from data.models import CampaignMember
open_database(sys.argv[1])
for n in range(40):  # what the app does: small interactive writes, one after another
    c = create_campaign(f"Interactive {n}", "Email", "both", {"country": ["US"]})
    enroll(c)
    m = CampaignMember.select().where(CampaignMember.campaign == c.id).first()
    if m is not None:
        set_member_status(m, "Responded")
print("ok")
"""
    app_script = """
import asyncio, sys, time
from peewee import fn
from textual.worker import WorkerState
from data.models import CampaignMember
from screens.campaign_detail import CampaignDetailScreen
from screens.modals import ChoiceScreen, ConfirmScreen
from tui_app.app import make_app
from tui_app.widgets.member_table import MemberTable

async def until(pilot, condition, what):
    deadline = time.monotonic() + 120
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(what)
        await pilot.pause(0.02)

async def settle(pilot, app):  # until no worker is pending or running (cancelled ones end)
    busy = (WorkerState.PENDING, WorkerState.RUNNING)
    await until(pilot, lambda: not any(w.state in busy for w in app.workers), "workers")

async def main():
    app = make_app(sys.argv[1], watch_interval=0.1)
    M = CampaignMember
    busiest = M.select(M.campaign).group_by(M.campaign).order_by(fn.COUNT(M.id).desc()).scalar()
    before = M.select().where(M.campaign == busiest).count()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot, app)
        app.open_campaign(busiest)
        await until(pilot, lambda: isinstance(app.screen, CampaignDetailScreen), "detail")
        await settle(pilot, app)
        def a_row():  # a worker's rows arrive in a message after it ends: settled is not enough
            tables = app.screen.query(MemberTable)
            return bool(tables) and tables.first().current_row is not None

        for _ in range(25):  # the real app, driven by keyboard, writing while others write
            await until(pilot, a_row, "a member row")
            await pilot.press("s")
            await until(pilot, lambda: isinstance(app.screen, ChoiceScreen), "status choice")
            await pilot.press("end", "enter")  # the last status offered (none for a conversion)
            await settle(pilot, app)
            if isinstance(app.screen, ChoiceScreen):  # nothing could be chosen
                await pilot.press("escape")
                await until(pilot, lambda: isinstance(app.screen, CampaignDetailScreen), "back")
            await pilot.press("d")
            await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), "confirm")
            await pilot.press("y")  # and remove the member
            await until(pilot, lambda: isinstance(app.screen, CampaignDetailScreen), "back")
            await settle(pilot, app)
    print("ok", busiest, before)

asyncio.run(main())
"""
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", app_script, str(db)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        ),
        cli(db, "ingest", str(feed), "--batch-size", "200", "--json"),
        *[cli(db, "campaign", "start", name, "--json") for name in planned],
        subprocess.Popen(
            [sys.executable, "-c", writer_script, str(db)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        ),
    ]
    outputs = [p.communicate(timeout=300) for p in procs]
    for proc, (_, err) in zip(procs, outputs):
        assert proc.returncode == 0, err
        assert "locked" not in err
    done, busiest, before = outputs[0][0].split()
    assert done == "ok", outputs[0]
    ingest = json.loads(outputs[1][0])
    assert (
        sum(ingest[k] for k in ("applied", "unchanged", "duplicates", "rejected"))
        == expected_events
    )
    con = sqlite3.connect(db)
    assert (
        con.execute("SELECT count(*) FROM engagement_event WHERE source = 'ingest'").fetchone()[0]
        == expected_events
    )
    assert (
        con.execute("SELECT count(*) FROM campaign WHERE name LIKE 'Interactive %'").fetchone()[0]
        == 40
    )
    # the app's own writes landed too: 25 members removed by keyboard (the opt-outs it tried are
    # mostly refused, as the ingest converts nearly everyone in this small world)
    members = "SELECT count(*) FROM campaign_member WHERE campaign_id = ?"
    assert con.execute(members, (int(busiest),)).fetchone()[0] == int(before) - 25
    for name in planned:
        assert (
            con.execute(
                "SELECT count(*) FROM campaign_member m JOIN campaign c ON c.id = m.campaign_id"
                " WHERE c.name = ?",
                (name,),
            ).fetchone()[0]
            > 0
        )
    kept = con.execute("SELECT * FROM campaign_stats ORDER BY campaign_id").fetchall()
    con.close()
    from data.models import Campaign
    from data.rollups import recount

    open_database(str(db))
    recount([c.id for c in Campaign.select()])
    con = sqlite3.connect(db)
    assert con.execute("SELECT * FROM campaign_stats ORDER BY campaign_id").fetchall() == kept
    con.close()


# Opening: several processes at once, and databases that are not ours ---------------------------


def campaigns(*args, env=None, **popen):
    """Start `campaigns …` as a user would, in its own process."""
    return subprocess.Popen(
        [sys.executable, "-m", "tui_app", *args],
        env={**os.environ, **(env or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **popen,
    )


OPENER = """
import os, sys, time
from data.db import open_database
gate = sys.argv[2]
deadline = time.monotonic() + 60
while not os.path.exists(gate) and time.monotonic() < deadline:
    pass  # all four start opening at the same moment
open_database(sys.argv[1])
print("ok")
"""


def test_four_processes_opening_one_new_database_all_succeed(tmp_path):
    for attempt in range(4):  # each round a new file: the first opening is the race
        path = tmp_path / f"new-{attempt}.db"
        gate = tmp_path / f"go-{attempt}"
        procs = [
            subprocess.Popen(
                [sys.executable, "-c", OPENER, str(path), str(gate)],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(4)
        ]
        gate.touch()
        for proc in procs:
            out, err = proc.communicate(timeout=120)
            assert proc.returncode == 0, err
            assert out.strip() == "ok" and err == ""
        assert current_version(open_database(str(path))) == SCHEMA_VERSION
        assert oct(path.stat().st_mode & 0o777) == "0o600"


CREATOR = """
import sqlite3, sys
con = sqlite3.connect(sys.argv[1], isolation_level=None)
con.execute("BEGIN IMMEDIATE")  # as a process does while it sets up a new file
print("holding", flush=True)
sys.stdin.readline()  # until the test says so
con.execute("COMMIT")
"""


def test_opening_waits_for_another_process_setting_up_the_same_new_file(tmp_path):
    """Switching a new file to WAL needs it alone for a moment; SQLite refuses that at once,
    without waiting, while another process holds a lock on it ("database is locked")."""
    path = tmp_path / "new.db"
    creator = subprocess.Popen(
        [sys.executable, "-c", CREATOR, str(path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert creator.stdout.readline().strip() == "holding"
    opener = campaigns("--db", str(path), "campaign", "list", env={"CAMPAIGNS_WAIT_NOTICE": "0.5"})
    assert "waiting for another program" in opener.stderr.readline()
    creator.communicate("go\n", timeout=60)
    out, err = opener.communicate(timeout=60)
    assert opener.returncode == 0, err
    assert out == "no campaigns yet\n" and err == ""
    con = sqlite3.connect(path)
    assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    con.close()


def file_state(path) -> tuple:
    """Everything about a database file that opening it could change."""
    siblings = sorted(p.name for p in path.parent.iterdir() if p.name.startswith(path.name))
    return path.read_bytes(), path.stat().st_mode, siblings


def test_another_programs_database_is_refused_before_anything_changes(tmp_path):
    path = tmp_path / "app.db"
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT)")
    con.execute("INSERT INTO users (name) VALUES ('someone')")
    con.commit()
    con.close()
    before = file_state(path)
    proc = campaigns("--db", str(path), "campaign", "list")
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 1
    assert err.count("\n") == 1 and "not made by campaigns" in err and "users" in err
    assert file_state(path) == before  # no table added, not switched to WAL
    con = sqlite3.connect(path)
    assert con.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    con.close()


def test_a_database_from_a_newer_program_is_not_switched_before_it_is_refused(tmp_path):
    path = tmp_path / "newer.db"
    open_database(str(path)).close()
    con = sqlite3.connect(path)
    con.execute("PRAGMA journal_mode = delete")
    con.execute(
        "INSERT INTO schema_version (version, applied_at) VALUES (?, '2030-01-01')",
        (SCHEMA_VERSION + 1,),
    )
    con.commit()
    con.close()
    before = file_state(path)
    proc = campaigns("--db", str(path), "metrics")
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 1
    assert err.count("\n") == 1 and "newer than this program" in err
    assert file_state(path) == before


HOLDER = """
import sqlite3, sys
con = sqlite3.connect(sys.argv[1], isolation_level=None)
con.execute("BEGIN IMMEDIATE")
con.execute("UPDATE schema_version SET applied_at = applied_at")
print("holding", flush=True)
sys.stdin.readline()  # until the test says so
con.execute("COMMIT")
print("released", flush=True)
"""


def test_a_second_writer_waits_as_long_as_it_must_and_says_so_once(tmp_path):
    path = tmp_path / "shared.db"
    open_database(str(path)).close()
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout.readline().strip() == "holding"
    # One round of waiting is 0.5 s here (5 s by default).
    writer = campaigns(
        "--db", str(path), "campaign", "create", "Second", env={"CAMPAIGNS_WAIT_NOTICE": "0.5"}
    )
    notice = writer.stderr.readline()
    assert "waiting for another program to finish writing" in notice
    assert writer.poll() is None  # still waiting, not failed
    time.sleep(3)  # hold the lock for six rounds of waiting
    assert writer.poll() is None
    holder.communicate("go\n", timeout=60)
    out, err = writer.communicate(timeout=60)
    assert writer.returncode == 0, err
    assert "created campaign 'Second'" in out
    assert err == ""  # the notice came once, and nothing else


def test_disk_full_is_reported_as_disk_full(tmp_path, monkeypatch, capsys):
    from data import db as db_module
    from tui_app.cli import main

    path = tmp_path / "small.db"
    open_database(str(path)).close()
    pages = sqlite3.connect(path).execute("PRAGMA page_count").fetchone()[0]
    monkeypatch.setitem(db_module.SQLITE_PRAGMAS, "max_page_count", pages + 3)
    leads = tmp_path / "leads.csv"
    rows = "\n".join(f"First{n},Last{n},p{n}@example.com,Company {n}" for n in range(3_000))
    leads.write_text("First Name,Last Name,Email,Company\n" + rows + "\n")
    assert main(["--db", str(path), "import", "leads", str(leads)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "disk is full" in err and "cannot rollback" not in err
    assert sqlite3.connect(path).execute("SELECT count(*) FROM lead").fetchone()[0] == 0
