"""The `campaigns` command end to end, as a user runs it: real subprocesses on a real file."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import sqlite3
import subprocess
import sys

import pytest


def run(db, *args, stdin: str | None = None, expect: int = 0):
    env = {**os.environ, "CAMPAIGNS_DB": str(db)}
    proc = subprocess.run(
        [sys.executable, "-m", "tui_app", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert proc.returncode == expect, proc.stderr
    assert "Traceback" not in proc.stderr
    return proc


@pytest.fixture
def db(tmp_path):
    return tmp_path / "cli.db"


LEADS = """First Name,Last Name,Email,Company,Country,Industry,Lead Source
Ana,Silva,ana@example.com,Acme,US,Software,Web
Ben,Okafor,ben@example.com,Globex,DE,Finance,Webinar
Cara,Novak,cara@example.com,Initech,US,Software,Web
Dev,Patel,dev@example.com,Initech,FR,Retail,Partner
"""


def test_the_whole_lifecycle_from_the_shell(db, tmp_path):
    leads = tmp_path / "leads.csv"
    leads.write_text(LEADS)
    out = json.loads(run(db, "import", "leads", str(leads), "--json").stdout)
    assert (out["created"], out["updated"]) == (4, 0)
    run(
        db,
        "campaign",
        "create",
        "Spring Webinar",
        "--type",
        "Webinar",
        "--kind",
        "leads",
        "--where",
        "country=US,DE",
    )
    started = json.loads(run(db, "campaign", "start", "Spring Webinar", "--json").stdout)
    assert (started["enrolled"], started["already_members"], started["excluded"]) == (3, 0, 0)
    events = (
        "\n".join(
            json.dumps(e)
            for e in [
                {
                    "id": "evt-1",
                    "type": "open",
                    "campaign": "Spring Webinar",
                    "email": "ana@example.com",
                    "at": "2026-03-02T09:15:00Z",
                },
                {
                    "id": "evt-2",
                    "type": "click",
                    "campaign": "Spring Webinar",
                    "email": "ana@example.com",
                    "at": "2026-03-02T09:16:00Z",
                    "url": "https://example.com",
                },
                {
                    "id": "evt-3",
                    "type": "unsubscribe",
                    "campaign": "Spring Webinar",
                    "email": "ben@example.com",
                    "at": "2026-03-02T10:00:00Z",
                },
                {
                    "id": "evt-4",
                    "type": "open",
                    "campaign": "Spring Webinar",
                    "email": "nobody@example.com",
                    "at": "2026-03-02T10:00:00Z",
                },
            ]
        )
        + "\nnot json\n"
    )
    first = json.loads(run(db, "ingest", "-", "--json", stdin=events).stdout)
    assert {k: first[k] for k in ("applied", "unchanged", "duplicates", "rejected")} == {
        "applied": 3,
        "unchanged": 0,
        "duplicates": 0,
        "rejected": 2,
    }
    again = json.loads(run(db, "ingest", "-", "--json", stdin=events).stdout)
    assert (again["applied"], again["duplicates"]) == (0, 3)
    metrics = json.loads(run(db, "metrics", "Spring Webinar", "--json").stdout)
    assert (metrics["sent"], metrics["opened"], metrics["clicked"], metrics["unsubscribed"]) == (
        3,
        1,
        1,
        1,
    )
    assert metrics["open_rate"] == pytest.approx(1 / 3)
    listing = json.loads(run(db, "metrics", "--json").stdout)
    assert [m["campaign"] for m in listing] == ["Spring Webinar"]
    # a second run of the start adds only newcomers; ben unsubscribed, so a new campaign skips him
    run(db, "campaign", "create", "Follow-up", "--kind", "leads", "--where", "country=DE")
    follow = json.loads(run(db, "campaign", "start", "Follow-up", "--json").stdout)
    assert (follow["enrolled"], follow["excluded"]) == (0, 1)
    converted = json.loads(
        run(
            db,
            "lead",
            "convert",
            "ana@example.com",
            "--opportunity",
            "Acme deal",
            "--amount",
            "5000",
            "--campaign-source",
            "Spring Webinar",
            "--json",
        ).stdout
    )
    assert converted["source_member_status"] == "Converted"
    exported = run(db, "export", "members", "Spring Webinar", "--view", "converted").stdout
    rows = list(csv.DictReader(io.StringIO(exported)))
    assert [(r["email"], r["person_type"], r["status"], r["has_responded"]) for r in rows] == [
        ("ana@example.com", "lead", "Converted", "true")
    ]
    added = json.loads(
        run(
            db, "members", "add", "Follow-up", "cara@example.com", "who@example.com", "--json"
        ).stdout
    )
    assert added["enrolled"] == 1 and added["unknown_emails"] == ["who@example.com"]


def test_import_is_all_or_nothing_and_names_bad_lines(db, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("last_name,email\nSilva,ana@example.com\n,ben@example.com\nNovak,nope\n")
    proc = run(db, "import", "leads", str(bad), expect=1)
    assert "line 3: last name is required" in proc.stderr
    assert "line 4: 'nope' is not an email address" in proc.stderr
    assert proc.stderr.strip().splitlines()[-1].startswith("campaigns: error:")
    ok = json.loads(run(db, "import", "leads", str(bad), "--skip-invalid", "--json").stdout)
    assert ok["created"] == 1 and ok["invalid"] == 2


@pytest.mark.parametrize(
    "args, message",
    [
        (["metrics", "Nope"], "no campaign named 'Nope'"),
        (["ingest", "/no/such/file.jsonl"], "no such file"),
        (["campaign", "create", "X", "--type", "Fax"], "unknown campaign type"),
        (["campaign", "create", "X", "--where", "colour=red"], "unknown audience filter"),
        (["lead", "convert", "who@example.com"], "no lead with email"),
        (["campaign", "status", "X", "Paused"], "no campaign named"),
    ],
)
def test_bad_input_is_one_line_and_a_nonzero_exit(db, args, message):
    proc = run(db, *args, expect=1)
    assert message in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_bad_database_locations(tmp_path):
    missing = run(tmp_path / "missing" / "x.db", "metrics", expect=1)
    assert "does not exist" in missing.stderr
    junk = tmp_path / "junk.db"
    junk.write_text("not a database")
    assert "not an SQLite file" in run(junk, "metrics", expect=1).stderr
    assert len(run(junk, "metrics", expect=1).stderr.strip().splitlines()) == 1


def test_db_option_wins_over_the_environment(db, tmp_path):
    other = tmp_path / "other.db"
    run(db, "--db", str(other), "campaign", "create", "Only Here")
    assert "Only Here" in run(db, "campaign", "list", "--db", str(other)).stdout
    assert "Only Here" not in run(db, "campaign", "list").stdout
    assert oct(other.stat().st_mode & 0o777) == "0o600"


def test_demo_fills_the_database(db):
    made = json.loads(run(db, "demo", "--people", "300", "--campaigns", "5", "--json").stdout)
    assert made["leads"] + made["contacts"] == 300 and made["campaigns"] == 5
    metrics = json.loads(run(db, "metrics", "--json").stdout)
    assert any(m["sent"] > 0 and 0 < m["open_rate"] < 1 for m in metrics)


def test_demo_option_selects_the_demo_database_for_every_command(fresh_db, tmp_path, monkeypatch):
    """`campaigns --demo ingest FILE` (or `ingest FILE --demo`) works on the demo database,
    never on the usual one ($CAMPAIGNS_DB here)."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    made = json.loads(
        run(fresh_db, "--demo", "demo", "--people", "80", "--campaigns", "2", "--json").stdout
    )
    assert made["campaigns"] == 2  # filled as told, not first with the usual demo size
    demo_file = tmp_path / "data" / "campaign-members" / "demo.db"
    assert demo_file.exists()
    assert run(fresh_db, "campaign", "list", "--json").stdout.strip() == "[]"
    listed = json.loads(run(fresh_db, "campaign", "list", "--json", "--demo").stdout)
    name = listed[0]["name"]
    export = run(fresh_db, "--demo", "export", "members", name).stdout
    email = next(csv.DictReader(io.StringIO(export)))["email"]
    events = tmp_path / "events.jsonl"
    events.write_text(
        json.dumps(
            {"type": "respond", "campaign": name, "email": email, "at": "2026-11-20T10:00:00Z"}
        )
        + "\n"
    )
    applied = json.loads(run(fresh_db, "--demo", "ingest", str(events), "--json").stdout)
    assert applied["rejected"] == 0 and applied["applied"] + applied["unchanged"] == 1
    usual = json.loads(run(fresh_db, "ingest", str(events), "--json").stdout)
    assert (usual["applied"], usual["rejected"]) == (0, 1)  # the usual database has no campaign
    again = json.loads(run(fresh_db, "ingest", str(events), "--demo", "--json").stdout)
    assert again["rejected"] == 0


def test_rejected_events_can_be_listed_fixed_and_sent_again(db):
    run(db, "campaign", "create", "Spring", "--kind", "leads")
    leads = "last_name,email\nSilva,ana@example.com\n"
    run(db, "import", "leads", "-", stdin=leads)
    run(db, "campaign", "start", "Spring")
    bad = json.dumps(
        {
            "id": "e1",
            "type": "open",
            "campaign": "Sprnig",
            "email": "ana@example.com",
            "at": "2026-03-02T09:00:00Z",
            "url": "https://x",
        }
    )
    assert (
        json.loads(run(db, "ingest", "-", "--json", stdin=bad + "\n{oops\n").stdout)["rejected"]
        == 2
    )
    listed = json.loads(run(db, "events", "--rejected", "--json").stdout)
    assert [e["reason"] for e in listed] == [
        "unknown campaign 'Sprnig'",
        "malformed JSON: not a JSON object",
    ]
    assert listed[1]["raw"] == "{oops"
    fixed = dict(listed[0]["event"], campaign="Spring")
    assert fixed["url"] == "https://x"
    resent = json.loads(run(db, "ingest", "-", "--json", stdin=json.dumps(fixed)).stdout)
    assert resent["applied"] == 1  # a rejected id is not a duplicate: it never took effect
    timeline = json.loads(
        run(db, "events", "--campaign", "Spring", "--email", "ana@example.com", "--json").stdout
    )
    assert timeline["status"] == "Opened"
    assert [(e["event"]["type"], e["outcome"]) for e in timeline["events"]] == [("open", "applied")]


def shell(db, script: str, *args: str):
    """`campaigns` run by a shell script ("$0" is Python), for redirections a user would type."""
    env = {**os.environ, "CAMPAIGNS_DB": str(db)}
    return subprocess.run(
        ["sh", "-c", script, sys.executable, *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


def one_line_error(proc, *words: str) -> None:
    assert proc.returncode == 1, (proc.returncode, proc.stderr)
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("campaigns: error:"), proc.stderr
    for word in words:
        assert word in lines[0]


def test_a_batch_size_below_one_is_refused(db, tmp_path):
    events = tmp_path / "e.jsonl"
    events.write_text("")
    for size in ("0", "-3"):
        one_line_error(
            run(db, "ingest", str(events), "--batch-size", size, expect=1), "one or more"
        )


@pytest.fixture
def damaged_db(tmp_path):
    """A database with pages in the middle of the file overwritten, as a failing disk leaves it."""
    db = tmp_path / "damaged.db"
    run(db, "demo", "--people", "3000", "--campaigns", "4")
    run(db, "campaign", "create", "Fresh")
    con = sqlite3.connect(db)
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    campaign = con.execute("SELECT name FROM campaign WHERE status = 'In Progress'").fetchone()[0]
    con.close()
    size = db.stat().st_size
    with open(db, "r+b") as f:
        f.seek(size * 2 // 5 // 4096 * 4096)
        f.write(b"\xff" * (size // 5 // 4096 * 4096))
    return db, campaign


def test_a_damaged_database_is_one_line_in_every_command(damaged_db, tmp_path):
    db, campaign = damaged_db
    events = tmp_path / "e.jsonl"
    events.write_text(
        json.dumps({"type": "open", "campaign": campaign, "email": "x@example.com"}) + "\n"
    )
    for args in (
        ["export", "members", campaign],
        ["ingest", str(events)],
        ["campaign", "start", "Fresh"],
    ):
        one_line_error(run(db, *args, expect=1), "damaged")


def test_a_closed_or_full_standard_output_is_an_error_not_a_lost_export(db):
    run(db, "campaign", "create", "Spring")
    closed = shell(db, '"$0" -m tui_app export members Spring >&-')
    one_line_error(closed, "standard output is closed")
    full = shell(db, '"$0" -m tui_app export members Spring > /dev/full')
    one_line_error(full, "cannot write to standard output", "No space left")
    full_list = shell(db, '"$0" -m tui_app campaign list > /dev/full')
    one_line_error(full_list, "cannot write to standard output")


def test_a_closed_standard_input_is_an_error(db):
    one_line_error(shell(db, '"$0" -m tui_app ingest - <&-'), "standard input is closed")


def test_sqlite_urls_name_relative_and_absolute_files(tmp_path):
    here = tmp_path / "work"
    here.mkdir()
    env = {**os.environ}
    env.pop("CAMPAIGNS_DB", None)

    def campaigns(*args):
        proc = subprocess.run(
            [sys.executable, "-m", "tui_app", *args],
            capture_output=True,
            text=True,
            cwd=here,
            env=env,
            timeout=120,
        )
        assert proc.returncode == 0 and proc.stderr == "", proc.stderr
        return proc

    campaigns("campaign", "create", "Rel", "--db", "sqlite://rel.db")
    assert (here / "rel.db").exists()
    absolute = tmp_path / "abs.db"
    campaigns("campaign", "create", "Abs", "--db", f"sqlite://{absolute}")
    assert (
        absolute.exists() and "Abs" in campaigns("campaign", "list", "--db", str(absolute)).stdout
    )


def test_unknown_or_driverless_database_urls_are_one_line_without_the_password(tmp_path):
    one_line_error(
        run(tmp_path / "x.db", "metrics", "--db", "mongodb://ana:s3cret@host/crm", expect=1),
        "unknown kind of database",
        "ana:***@host",
    )
    # PostgreSQL without its driver installed: the hint says how to install it.
    no_driver = (
        "import sys; sys.modules['psycopg'] = sys.modules['psycopg2'] = None; "
        "from tui_app.cli import main; sys.exit(main())"
    )
    proc = subprocess.run(
        [sys.executable, "-c", no_driver, "metrics", "--db", "postgresql://ana:s3cret@db/crm"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    one_line_error(proc, "pip install 'campaign-members[postgres]'")
    for shown in (proc.stdout, proc.stderr):
        assert "s3cret" not in shown


def test_an_export_file_is_readable_by_its_owner_only(db, tmp_path):
    run(db, "campaign", "create", "Spring")
    out = tmp_path / "members.csv"
    run(db, "export", "members", "Spring", "-o", str(out))
    assert oct(out.stat().st_mode & 0o777) == "0o600"
    assert out.read_text().startswith("email,")


CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")
"""Control characters a terminal would act on (tab and newline aside)."""

HOSTILE = "Evil\x1b]0;TITLE\x07\x1b[2J\x9b5m"


def test_no_line_of_the_command_line_carries_raw_control_characters(db, tmp_path):
    def shown(*args, expect=0, stdin=None):
        proc = run(db, *args, expect=expect, stdin=stdin)
        for text in (proc.stdout, proc.stderr):
            assert not CONTROL.search(text), (args, text)
        return proc

    shown("campaign", "create", HOSTILE, "--kind", "leads", "--where", f"country={HOSTILE}")
    shown("import", "leads", "-", stdin=f"first_name,last_name,email\n{HOSTILE},Silva,a@x.co\n")
    shown("import", "leads", "-", stdin=f"last_name,email\nX,{HOSTILE}\n", expect=1)
    shown("members", "add", HOSTILE, "a@x.co", f"{HOSTILE}@x.co")
    shown("campaign", "start", HOSTILE)
    shown("campaign", "list")
    shown("metrics")
    shown("metrics", HOSTILE)
    feed = [
        {
            "id": f"id-{HOSTILE}",
            "type": "open",
            "campaign": HOSTILE,
            "email": "a@x.co",
            "at": "2026-03-02T09:00:00Z",
        },
        {"type": HOSTILE, "campaign": HOSTILE, "email": "a@x.co"},
        {"type": "open", "campaign": HOSTILE, "email": f"{HOSTILE}@x.co"},
    ]
    shown("ingest", "-", stdin="\n".join(json.dumps(e) for e in feed) + f"\n{HOSTILE}\n")
    assert "2J" in shown("events", "--rejected").stdout
    assert "id-Evil" in shown("events", "--campaign", HOSTILE, "--email", "a@x.co").stdout
    shown("events", "--campaign", HOSTILE, "--email", f"{HOSTILE}@x.co", expect=1)
