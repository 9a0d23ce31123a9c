"""Forgetting a person (PRODUCT.md §10): every personal trace of the address goes, campaign counts
stay, the journal says who, when and how many, and a tombstone suppresses the address if it ever
comes back, by import, by ingest or by webhook."""

from __future__ import annotations

import io
import json
import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from data import privacy, suppression
from data.db import database, open_database
from data.enrollment import enroll
from data.errors import ValidationError
from data.ingest import ingest_records
from data.journal import entries
from data.models import (
    Account,
    CampaignMember,
    Contact,
    EngagementEvent,
    EngagementScore,
    JournalEntry,
    Lead,
    Suppression,
)
from data.rollups import campaign_metrics
from data.transfer import import_people
from data.undo import undo
from tests import factories as f
from tests.conftest import _close
from tests.serving import Keys, Server, events_request, mailgun_request, sendgrid_request

ADDRESS = "zoe.quixote@example.com"
NAME = "Quixotella"
COMPANY = "Wombatronics"
SECRET = "zanzibar-velvet-77"
"""An event's extra content: it must not survive either."""


def event(kind: str, campaign, email: str = ADDRESS, at: str = "2026-03-02T09:00:00Z", **extra):
    return {"type": kind, "campaign": campaign.name, "email": email, "at": at, **extra}


def person_with_history():
    """A lead and a contact with the address, both in campaigns, with events (one carrying
    extra content), a rejected event naming the address, a suppression and a score."""
    f.lead(first_name="Zoe", last_name=NAME, email=ADDRESS, company=COMPANY, title="CTO")
    contact = f.contact(first_name="Zoe", last_name=NAME, email=ADDRESS)
    contact.account = Account.create(name=COMPANY)
    contact.save()
    other = f.lead(last_name="Bystander", email="by@example.com")
    leads = f.campaign("Spring leads", kind="leads")
    contacts = f.campaign("Spring contacts", kind="contacts")
    enroll(leads)
    enroll(contacts)
    ingest_records(
        [
            event("open", contacts, id="e1", note=SECRET),
            event("click", contacts, id="e2"),
            event("open", leads, email="by@example.com", id="e3"),
            event("open", f.campaign("Autumn"), id="e4", note=SECRET),  # not a member: rejected
            event("unsubscribe", contacts, id="e5"),
        ]
    )
    return leads, contacts, other


def test_forget_anonymizes_the_person_and_keeps_campaign_counts(fresh_db):
    leads, contacts, other = person_with_history()
    before = [campaign_metrics(c) for c in (leads, contacts)]
    members_before = CampaignMember.select().count()
    assert Suppression.select().where(Suppression.email == ADDRESS).count() == 1

    dry = privacy.plan(ADDRESS)
    assert dry.counts() == {
        "leads anonymized": 1,
        "contacts anonymized": 1,
        "memberships kept (anonymous)": 2,
        "events blanked": 3,
        "rejected events deleted": 1,
        "suppressions deleted": 1,
        "scores deleted": 1,
        "journal summaries blanked": 0,
        "merge records deleted (those merges can no longer be undone)": 0,
        "companies deleted": 1,
    }
    assert Lead.select().where(Lead.email == ADDRESS).exists()  # a dry run changes nothing

    done = privacy.forget("  Zoe.Quixote@EXAMPLE.com ", who="dpo")
    assert done.counts() == dry.counts()
    for model in (Lead, Contact):
        row = model.get(model.last_name == privacy.PLACEHOLDER_NAME)
        assert (row.first_name, row.title) == ("", "")
        assert row.email.endswith("@forgotten.invalid") and row.do_not_email
    assert Lead.get(Lead.last_name == privacy.PLACEHOLDER_NAME).company == ""
    assert Contact.get(Contact.last_name == privacy.PLACEHOLDER_NAME).account_id is None
    assert not Account.select().where(Account.name == COMPANY).exists()
    # counts and rates unchanged, memberships kept
    assert [campaign_metrics(c) for c in (leads, contacts)] == before
    assert CampaignMember.select().count() == members_before
    # no trace in events, suppressions, scores
    E = EngagementEvent
    assert not E.select().where(E.email.contains("quixote")).exists()
    content = E.extra.contains(SECRET) | E.received_line.contains(SECRET)
    assert not E.select().where(content).exists()
    assert E.select().where(E.event_id == "e3", E.email == "by@example.com").exists()
    assert not Suppression.select().where(Suppression.email == ADDRESS).exists()
    assert not EngagementScore.select().where(EngagementScore.email == ADDRESS).exists()
    assert Lead.get_by_id(other.id).email == "by@example.com"
    # the journal: who, when, how many, never the address; not undoable
    (entry,) = JournalEntry.select().where(JournalEntry.action == "forget")
    assert (entry.who, entry.count) == ("dpo", done.records())
    assert "quixote" not in entry.summary.lower()
    with pytest.raises(ValidationError, match="cannot be undone"):
        undo(entry.id)
    assert [row.action for row in entries()][0] == "forget"
    with pytest.raises(ValidationError, match="nothing is held"):
        privacy.forget(ADDRESS)


def test_a_journal_summary_naming_the_address_is_blanked(fresh_db):
    f.lead(last_name=NAME, email=ADDRESS)
    JournalEntry.create(action="add", summary=f"added {ADDRESS} by hand", count=1)
    assert privacy.forget(ADDRESS).journal_entries == 1
    assert not JournalEntry.select().where(JournalEntry.summary.contains(ADDRESS)).exists()


def test_no_byte_of_the_forgotten_person_is_left_in_the_sqlite_file(fresh_db, backend):
    if backend != "sqlite":
        pytest.skip("the file's bytes are SQLite's; a server's rows are updated or deleted")
    person_with_history()
    database.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    path = Path(fresh_db)

    def held() -> bytes:
        return b"".join(p.read_bytes() for p in (path, Path(f"{path}-wal")) if p.exists()).lower()

    needles = [ADDRESS.encode(), NAME.lower().encode(), COMPANY.lower().encode(), SECRET.encode()]
    assert all(n in held() for n in needles)  # the scan would see them
    privacy.forget(ADDRESS)
    found = [n for n in needles if n in held()]
    assert found == []


def forgotten() -> None:
    f.lead(last_name=NAME, email=ADDRESS)
    privacy.forget(ADDRESS)


def erased_reason() -> str:
    s = suppression.active_suppression(ADDRESS)
    assert s is not None
    return suppression.describe(s)


def test_a_forgotten_address_imported_again_is_suppressed(fresh_db):
    forgotten()
    import_people("lead", io.StringIO(f"last_name,email\n{NAME},{ADDRESS.upper()}\n"))
    assert erased_reason().startswith("erased on ")
    assert Lead.get(Lead.email == ADDRESS).do_not_email
    assert enroll(f.campaign(kind="leads")).enrolled == 0


def test_a_forgotten_address_in_an_ingested_event_is_suppressed(fresh_db):
    forgotten()
    ingest_records([event("open", f.campaign("Later"), id="late")])
    assert erased_reason().startswith("erased on ")
    f.contact(last_name=NAME, email=ADDRESS)
    assert enroll(f.campaign(kind="contacts")).enrolled == 0


def test_the_tombstone_holds_no_address_and_one_key(fresh_db):
    forgotten()
    rows = database.execute_sql("SELECT digest FROM erased_address").fetchall()
    assert len(rows) == 1 and "quixote" not in rows[0][0]
    assert database.execute_sql("SELECT COUNT(*) FROM privacy_key").fetchone()[0] == 1
    f.lead(last_name="Other", email="other@example.com")
    privacy.forget("other@example.com")
    assert database.execute_sql("SELECT COUNT(*) FROM privacy_key").fetchone()[0] == 1


def test_an_unknown_or_bad_address_is_refused(fresh_db):
    with pytest.raises(ValidationError, match="nothing is held"):
        privacy.forget("nobody@example.com")
    with pytest.raises(ValidationError, match="not an email"):
        privacy.plan("nobody")


# From the command line ---------------------------------------------------------------------------


def campaigns(db, *args, expect: int = 0, stdin: str | None = None):
    env = {k: v for k, v in os.environ.items() if not k.startswith("CAMPAIGNS_")}
    proc = subprocess.run(
        [sys.executable, "-m", "tui_app", "--db", str(db), *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert proc.returncode == expect, proc.stderr
    assert "Traceback" not in proc.stderr
    return proc


def test_forget_from_the_command_line_asks_or_refuses_and_dry_runs(fresh_db):
    person_with_history()
    _close()
    dry = campaigns(fresh_db, "person", "forget", ADDRESS, "--dry-run")
    assert "leads anonymized: 1" in dry.stdout and "rejected events deleted: 1" in dry.stdout
    counts = json.loads(
        campaigns(fresh_db, "person", "forget", ADDRESS, "--dry-run", "--json").stdout
    )["counts"]
    assert counts["events blanked"] == 3
    refused = campaigns(fresh_db, "person", "forget", ADDRESS, expect=1, stdin="")
    assert refused.stderr.strip() == (
        "campaigns: error: forgetting cannot be undone: add --yes to confirm without a terminal"
    )
    gone = campaigns(fresh_db, "person", "forget", ADDRESS, "--yes")
    assert gone.stdout.startswith("Forgot a person: ")
    assert ADDRESS not in gone.stdout
    nothing = campaigns(fresh_db, "person", "forget", ADDRESS, "--yes", expect=1)
    assert nothing.stderr.strip() == f"campaigns: error: nothing is held about {ADDRESS}"
    bad = campaigns(fresh_db, "person", "forget", "not-an-address", "--yes", expect=1)
    assert bad.stderr.count("\n") == 1


def test_export_holds_everything_about_the_address_in_a_private_file(fresh_db, tmp_path):
    person_with_history()
    _close()
    out = tmp_path / "zoe.json"
    campaigns(fresh_db, "person", "export", ADDRESS.upper(), "-o", str(out))
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    held = json.loads(out.read_text())
    assert held["email"] == ADDRESS
    assert [p["last_name"] for p in held["leads"]] == [NAME]
    assert held["contacts"][0]["company"] == COMPANY
    assert sorted(m["campaign_name"] for m in held["memberships"]) == [
        "Spring contacts",
        "Spring leads",
    ]
    assert sorted(e["event_id"] for e in held["events"]) == ["e1", "e2", "e5"]
    assert [e["event_id"] for e in held["rejected_events"]] == ["e4"]
    assert [s["kind"] for s in held["suppressions"]] == ["unsubscribe"]
    assert held["engagement_score"]["email"] == ADDRESS
    assert {j["action"] for j in held["journal"]} == {"enroll"}
    printed = json.loads(campaigns(fresh_db, "person", "export", ADDRESS).stdout)
    assert printed == held
    campaigns(fresh_db, "person", "export", "nobody@example.com", expect=1)


# By webhook --------------------------------------------------------------------------------------


def test_a_forgotten_address_arriving_by_webhook_is_suppressed(fresh_db, keys):
    forgotten()
    campaign = f.campaign("Webhooked")
    _close()
    running = Server(fresh_db, keys.environ())
    try:
        sent = [
            ("/hooks/events", events_request(event("open", campaign, id="w1"))),
            (
                "/hooks/mailgun",
                mailgun_request(
                    {
                        "event": "opened",
                        "id": "w2",
                        "timestamp": time.time() - 60,
                        "recipient": ADDRESS,
                        "user-variables": {"campaign": campaign.name},
                    }
                ),  # fmt: skip
            ),
            (
                "/hooks/sendgrid",
                sendgrid_request(
                    keys,
                    [
                        {
                            "event": "open",
                            "sg_event_id": "w3",
                            "timestamp": int(time.time()) - 60,
                            "email": ADDRESS,
                            "campaign": campaign.name,
                        }
                    ],
                ),  # fmt: skip
            ),
        ]
        for path, (body, headers) in sent:
            answer = httpx.post(f"{running.url}{path}", content=body, headers=headers, timeout=30)
            assert answer.status_code == 200, answer.text
    finally:
        running.stop(signal.SIGTERM)
    open_database(str(fresh_db))
    assert erased_reason().startswith("erased on ")
    assert (
        EngagementEvent.select().where(EngagementEvent.event_id.in_(["w1", "w2", "w3"])).count()
        == 3
    )


@pytest.fixture
def keys() -> Keys:
    return Keys()
