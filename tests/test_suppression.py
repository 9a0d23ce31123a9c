"""Suppression follows the address: an unsubscribe or hard bounce keeps every lead and contact with
that address, now or imported later, out of every enrollment, until a user lifts it with a
reason."""

from __future__ import annotations

import io
import json
import os
import shutil
import sqlite3
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from data import suppression
from data.audience import SUPPRESSED
from data.db import database, open_database
from data.enrollment import enroll, enroll_emails
from data.ingest import ingest_records
from data.members import campaigns_open_to, picker_page
from data.models import CampaignMember, Contact, Lead, Suppression, ValidationError
from data.transfer import import_people
from tests import factories as f

FIXTURES = Path(__file__).parent / "fixtures"


def event(kind: str, campaign, email: str, at: str = "2026-03-02T09:00:00Z", **extra) -> dict:
    return {"type": kind, "campaign": campaign.name, "email": email, "at": at, **extra}


def members(campaign) -> int:
    return CampaignMember.select().where(CampaignMember.campaign == campaign.id).count()


def test_an_unsubscribe_as_a_lead_keeps_a_contact_imported_later_out(fresh_db):
    f.lead(email="ana@example.com")
    spring = f.campaign("Spring", kind="leads")
    enroll(spring)
    ingest_records([event("unsubscribe", spring, "ana@example.com", id="ev-1")])
    report = import_people("contact", io.StringIO("last_name,email\nSilva,ANA@example.com\n"))
    assert report.created == 1
    contact = Contact.get(Contact.email == "ana@example.com")
    contacts = f.campaign("Contacts only", kind="contacts")
    result = enroll(contacts)
    assert (result.enrolled, result.excluded_total) == (0, 1)
    assert members(contacts) == 0
    # shown as suppressed, with why; the record's flag agrees with the address
    why = suppression.suppression_of(contact)
    assert (why.kind, why.event_id, why.campaign_id) == ("unsubscribe", "ev-1", spring.id)
    assert why.at == datetime(2026, 3, 2, 9)
    assert contact.do_not_email
    assert "unsubscribed on 2026-03-02 (event ev-1)" in suppression.describe(why)


def test_a_suppressed_address_is_left_out_by_every_route(fresh_db):
    lead = f.lead(email="ana@example.com")
    suppression.add("ana@example.com", "asked by phone")
    contact = f.contact(email="ana@example.com")  # created behind the import's back: no flag
    assert not contact.do_not_email
    campaign = f.campaign(kind="both")
    assert enroll(campaign).enrolled == 0
    assert enroll(campaign, {"lead": [lead.id], "contact": [contact.id]}).enrolled == 0
    assert enroll_emails(campaign, ["ANA@example.com"]).enrolled == 0
    assert [r.category for r in picker_page(campaign, "contact")] == [SUPPRESSED]
    assert members(campaign) == 0
    assert suppression.suppression_of(contact).reason == "asked by phone"
    assert campaign.id in {c.id for c in campaigns_open_to(contact)}  # offered, then refused


def test_a_hard_bounce_suppresses_the_address_and_flags_every_record(fresh_db):
    lead = f.lead(email="ben@example.com")
    contact = f.contact(email="ben@example.com")
    campaign = f.campaign(kind="contacts")
    enroll(campaign)
    ingest_records([event("bounce", campaign, "ben@example.com")])
    assert Lead.get_by_id(lead.id).email_bounced and Contact.get_by_id(contact.id).email_bounced
    assert not Lead.get_by_id(lead.id).do_not_email
    assert suppression.active_suppression("BEN@example.com").kind == "bounce"


def test_imports_never_lift_a_suppression(fresh_db):
    f.lead(email="ana@example.com")
    campaign = f.campaign(kind="leads")
    enroll(campaign)
    ingest_records([event("unsubscribe", campaign, "ana@example.com")])
    text = "last_name,email,do_not_email,email_bounced\nSilva,ana@example.com,false,false\n"
    import_people("lead", io.StringIO(text))
    import_people("contact", io.StringIO(text))
    assert Lead.get().do_not_email and Contact.get().do_not_email
    assert suppression.active_suppression("ana@example.com") is not None


def test_an_import_that_flags_a_person_suppresses_the_address(fresh_db):
    contact = f.contact(email="cara@example.com")
    import_people(
        "lead", io.StringIO("last_name,email,email_bounced\nNovak,cara@example.com,yes\n")
    )
    assert suppression.active_suppression("cara@example.com").kind == "bounce"
    assert Contact.get_by_id(contact.id).email_bounced


def test_only_a_user_lifts_it_with_a_reason_that_is_kept(fresh_db):
    f.lead(email="ana@example.com")
    campaign = f.campaign(kind="leads")
    enroll(campaign)
    ingest_records([event("unsubscribe", campaign, "ana@example.com")])
    with pytest.raises(ValidationError, match="needs a reason"):
        suppression.lift("ana@example.com", "  ")
    with pytest.raises(ValidationError, match="is not suppressed"):
        suppression.lift("ben@example.com", "typo")
    when = datetime(2026, 3, 5, 10)
    suppression.lift("ANA@example.com", "re-subscribed by form on 2026-03-05", by="mia", now=when)
    assert not Lead.get().do_not_email
    (past,) = suppression.history("ana@example.com")
    assert (past.lifted_at, past.lifted_reason, past.lifted_by) == (
        when,
        "re-subscribed by form on 2026-03-05",
        "mia",
    )
    assert suppression.suppressions() == []
    assert [s.id for s in suppression.suppressions(include_lifted=True)] == [past.id]
    assert enroll(f.campaign(kind="leads")).enrolled == 1
    # a late unsubscribe from before the re-subscription does not undo it; a new one does
    ingest_records([event("unsubscribe", campaign, "ana@example.com", at="2026-03-04T00:00:00Z")])
    assert suppression.active_suppression("ana@example.com") is None
    ingest_records([event("unsubscribe", campaign, "ana@example.com", at="2026-03-06T00:00:00Z")])
    assert suppression.active_suppression("ana@example.com").at == datetime(2026, 3, 6)
    assert len(suppression.history("ana@example.com")) == 2


def test_adding_needs_a_reason_and_a_real_address(fresh_db):
    with pytest.raises(ValidationError, match="reason"):
        suppression.add("ana@example.com", "")
    with pytest.raises(ValidationError, match="not an email address"):
        suppression.add("not-an-address", "x")
    first, created = suppression.add("ana@example.com", "legal request")
    again, created_again = suppression.add("ANA@example.com", "second time")
    assert (created, created_again, again.id) == (True, False, first.id)


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    events=st.lists(
        st.tuples(st.sampled_from(["unsubscribe", "bounce"]), st.integers(1, 28)),
        min_size=1,
        max_size=5,
    ),
    order=st.randoms(use_true_random=False),
)
def test_the_suppression_kept_is_the_earliest_whatever_the_order(fresh_db, events, order):
    with database.atomic() as txn:
        f.lead(email="ana@example.com")
        campaign = f.campaign(kind="leads")
        enroll(campaign)
        records = [
            event(kind, campaign, "ana@example.com", at=f"2026-03-{day:02d}T00:00:00Z", id=f"{n}")
            for n, (kind, day) in enumerate(events)
        ]
        shuffled = records[:]
        order.shuffle(shuffled)
        for record in shuffled:  # one at a time: each in its own batch
            ingest_records([record])
        kept = suppression.active_suppression("ana@example.com")
        first = min(records, key=lambda r: r["at"])
        assert kept.at == datetime.fromisoformat(first["at"][:-1])
        assert Suppression.select().count() == 1
        lead = Lead.get()
        assert lead.do_not_email == any(r["type"] == "unsubscribe" for r in records)
        assert lead.email_bounced == any(r["type"] == "bounce" for r in records)
        txn.rollback()


def test_an_older_database_gets_its_flagged_addresses_suppressed(tmp_path):
    path = tmp_path / "v2.db"
    shutil.copyfile(FIXTURES / "schema_v2.db", path)
    con = sqlite3.connect(path)
    flagged_before = {
        e
        for (e,) in con.execute(
            "SELECT email FROM lead WHERE do_not_email OR email_bounced "
            "UNION SELECT email FROM contact WHERE do_not_email OR email_bounced"
        )
    }
    con.close()
    open_database(str(path))
    try:
        assert "ana@example.com" in flagged_before
        assert {s.email for s in suppression.suppressions()} == flagged_before
        assert Contact.get(Contact.email == "ana@example.com").do_not_email  # was the lead only
    finally:
        database.close()


# The command line ------------------------------------------------------------------------------


def run(db, *args, expect: int = 0) -> subprocess.CompletedProcess:
    env = {**os.environ, "CAMPAIGNS_DB": str(db)}
    proc = subprocess.run(
        [sys.executable, "-m", "tui_app", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert proc.returncode == expect, proc.stderr
    assert "Traceback" not in proc.stderr
    return proc


def test_suppression_commands_add_list_and_lift_with_a_reason(tmp_path):
    db = tmp_path / "cli.db"
    leads = tmp_path / "leads.csv"
    leads.write_text("last_name,email\nSilva,ana@example.com\nOkafor,ben@example.com\n")
    run(db, "import", "leads", str(leads))
    added = json.loads(
        run(
            db, "suppression", "add", "ANA@example.com", "--reason", "legal\x1b[2J", "--json"
        ).stdout
    )
    assert (added["email"], added["kind"], added["created"]) == ("ana@example.com", "manual", True)
    listed = run(db, "suppression", "list").stdout
    assert "ana@example.com" in listed and "\x1b" not in listed
    run(db, "campaign", "create", "Spring", "--kind", "leads")
    out = json.loads(run(db, "members", "add", "Spring", "ana@example.com", "--json").stdout)
    assert (out["enrolled"], out["excluded"]) == (0, 1)
    missing = run(db, "suppression", "lift", "ana@example.com", expect=2).stderr
    assert "--reason" in missing
    blank = run(db, "suppression", "lift", "ana@example.com", "--reason", " ", expect=1).stderr
    assert blank.count("\n") == 1 and "needs a reason" in blank
    lifted = json.loads(
        run(
            db, "suppression", "lift", "ana@example.com", "--reason", "re-subscribed", "--json"
        ).stdout
    )
    assert lifted["lifted_reason"] == "re-subscribed" and lifted["lifted_at"]
    assert json.loads(run(db, "suppression", "list", "--json").stdout) == []
    history = json.loads(run(db, "suppression", "list", "--all", "--json").stdout)
    assert [h["lifted_reason"] for h in history] == ["re-subscribed"]
    again = run(db, "suppression", "lift", "ana@example.com", "--reason", "x", expect=1).stderr
    assert "is not suppressed" in again
    out = json.loads(run(db, "members", "add", "Spring", "ana@example.com", "--json").stdout)
    assert out["enrolled"] == 1
