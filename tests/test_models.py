"""Rules in the schema and in validation; opening databases; keyset pages; conversion."""

from __future__ import annotations

import os
import sqlite3
import stat

import peewee
import pytest

from data.campaigns import create_campaign
from data.conversion import convert_lead
from data.db import DatabaseError, open_database
from data.enrollment import enroll
from data.ingest import ingest_records
from data.members import member_page, memberships_of
from data.migrations import SCHEMA_VERSION, current_version
from data.models import CampaignMember, Lead, Opportunity, ValidationError
from data.rollups import campaign_metrics
from tests import factories as f


def test_member_is_exactly_one_person_in_validation_and_in_the_schema(fresh_db):
    lead, contact, campaign = f.lead(), f.contact(), f.campaign()
    with pytest.raises(ValidationError, match="not both"):
        CampaignMember(campaign=campaign, lead=lead, contact=contact).save()
    with pytest.raises(ValidationError, match="set a lead or a contact"):
        CampaignMember(campaign=campaign).save()
    # below validation, the CHECK constraint holds on its own
    for lead_id, contact_id in ((lead.id, contact.id), (None, None)):
        with pytest.raises(peewee.IntegrityError):
            CampaignMember.insert(campaign=campaign, lead=lead_id, contact=contact_id).execute()


def _row_conditions(db) -> list[str]:
    """The text of every CHECK and partial-index condition the database tests per written row."""
    if isinstance(db, peewee.SqliteDatabase):
        texts = [
            r[0] for r in db.execute_sql("SELECT sql FROM sqlite_master WHERE sql IS NOT NULL")
        ]
        return [t for t in texts if "CHECK" in t or " WHERE " in t]
    return [
        r[0]
        for r in db.execute_sql(
            "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE contype = 'c' "
            "AND connamespace = 'public'::regnamespace UNION ALL "
            "SELECT indexdef FROM pg_indexes WHERE schemaname = 'public' "
            "AND position(' WHERE ' in indexdef) > 0"
        )
    ]


def test_no_condition_checked_per_row_is_an_in_list(fresh_db):
    """SQLite builds a lookup table for `IN` over three or more constants each time a statement
    runs, once per row under `executemany` (an ingest's member updates and log inserts): the
    vocabulary CHECKs and partial indexes say it as equalities, and still refuse what they did."""
    db = CampaignMember._meta.database.obj
    conditions = _row_conditions(db)
    assert any("Unsubscribed" in text for text in conditions)
    assert not [text for text in conditions if " IN (" in text or "ANY (" in text]
    member = CampaignMember.create(campaign=f.campaign(), lead=f.lead())
    with pytest.raises(peewee.IntegrityError):
        with db.atomic():
            CampaignMember.update(status="Lost").where(CampaignMember.id == member.id).execute()
    CampaignMember.update(status="Bounced").where(CampaignMember.id == member.id).execute()


def test_version_11_rewrites_in_lists_in_place(fresh_db):
    """The step to version 11 on a database whose conditions are still IN lists (as version 10
    left them): the same conditions as equalities, nothing else changed."""
    from playhouse.migrate import SchemaMigrator

    from data.migrations import MIGRATIONS

    db = CampaignMember._meta.database.obj
    member = CampaignMember.create(campaign=f.campaign(), lead=f.lead())
    old_member_check = (
        "status IN ('Sent', 'Opened', 'Clicked', 'Responded', 'Converted', 'Bounced', "
        "'Unsubscribed')"
    )
    db.execute_sql("DROP INDEX campaign_member_settled")
    db.execute_sql(
        "CREATE INDEX campaign_member_settled ON campaign_member (campaign_id, status, id) "
        "WHERE status IN ('Converted', 'Bounced', 'Unsubscribed')"
    )
    if isinstance(db, peewee.SqliteDatabase):
        sql = db.execute_sql(
            "SELECT sql FROM sqlite_master WHERE name = 'campaign_member'"
        ).fetchone()[0]
        new_check = CampaignMember.status.constraints[0].sql
        assert new_check in sql
        version = db.execute_sql("PRAGMA schema_version").fetchone()[0]
        db.execute_sql("PRAGMA writable_schema = ON")
        db.execute_sql(
            "UPDATE sqlite_master SET sql = ? WHERE name = 'campaign_member'",
            (sql.replace(new_check, f"CHECK ({old_member_check})"),),
        )
        db.execute_sql(f"PRAGMA schema_version = {version + 1}")
        db.execute_sql("PRAGMA writable_schema = OFF")
    else:
        db.execute_sql(
            "ALTER TABLE campaign_member DROP CONSTRAINT campaign_member_status_check, "
            f"ADD CONSTRAINT campaign_member_status_check CHECK ({old_member_check})"
        )
    assert [text for text in _row_conditions(db) if " IN (" in text or "ANY (" in text]
    with db.atomic():
        MIGRATIONS[11](db, SchemaMigrator.from_database(db))
    assert not [text for text in _row_conditions(db) if " IN (" in text or "ANY (" in text]
    if isinstance(db, peewee.SqliteDatabase):
        assert db.execute_sql("PRAGMA integrity_check").fetchone()[0] == "ok"
    with pytest.raises(peewee.IntegrityError):
        with db.atomic():
            CampaignMember.update(status="Lost").where(CampaignMember.id == member.id).execute()
    assert CampaignMember.get_by_id(member.id).status == "Sent"


def test_emails_compare_case_insensitively(fresh_db):
    f.lead(email="Ana@Example.com")
    with pytest.raises(peewee.IntegrityError):
        f.lead(email="ana@example.COM")


def test_campaign_validation_messages(fresh_db):
    with pytest.raises(ValidationError, match="unknown campaign type"):
        create_campaign("X", "Fax")
    f.campaign("Spring")
    with pytest.raises(ValidationError, match="already exists"):
        f.campaign("Spring")
    with pytest.raises(ValidationError, match="unknown audience filter"):
        f.campaign("Other", filters={"shoe_size": ["9"]})


def test_new_database_is_private_and_versioned(tmp_path):
    path = tmp_path / "new.db"
    db = open_database(str(path))
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert current_version(db) == SCHEMA_VERSION
    assert db.execute_sql("PRAGMA journal_mode").fetchone()[0] == "wal"
    db.close()


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda p: str(p / "missing" / "x.db"), "does not exist"),
        (
            lambda p: (p / "junk.db").write_text("hello") and str(p / "junk.db"),
            "not an SQLite file",
        ),
        (lambda p: str(p), "is a folder"),
    ],
)
def test_unusable_paths_give_one_line(tmp_path, make, message):
    with pytest.raises(DatabaseError, match=message) as error:
        open_database(make(tmp_path))
    assert "\n" not in str(error.value)


def test_read_only_file_gives_one_line(tmp_path, monkeypatch):
    path = tmp_path / "ro.db"
    open_database(str(path)).close()
    real_access = os.access
    # root may write anywhere, so ask as an ordinary user would be answered
    monkeypatch.setattr(
        os,
        "access",
        lambda p, mode: (
            False if (mode == os.W_OK and str(p) == str(path)) else real_access(p, mode)
        ),
    )
    with pytest.raises(DatabaseError, match="read-only"):
        open_database(str(path))


def test_a_foreign_sqlite_database_is_refused(tmp_path):
    path = tmp_path / "other.db"
    sqlite3.connect(path).execute("CREATE TABLE lead (x)").connection.commit()
    with pytest.raises(DatabaseError, match="not made by campaigns"):
        open_database(str(path))


def test_member_pages_by_key_cover_the_list_once(fresh_db):
    for _ in range(25):
        f.lead()
    campaign = f.campaign()
    enroll(campaign)
    seen, after = [], None
    while True:
        page = member_page(campaign.id, after=after, limit=7)
        if not page:
            break
        seen += [r.id for r in page]
        after = page[-1].id
    assert len(seen) == 25 == len(set(seen)) and seen == sorted(seen)
    last = member_page(campaign.id, last=True, limit=7)
    assert [r.id for r in last] == seen[-7:]
    before = member_page(campaign.id, before=last[0].id, limit=7)
    assert [r.id for r in before] == seen[-14:-7]


def test_member_views_and_filter(fresh_db):
    ana = f.lead(email="ana@example.com", last_name="Silva")
    f.lead(email="ben@example.com", last_name="Okafor")
    campaign = f.campaign("Spring")
    enroll(campaign)
    ingest_records(
        [
            {"type": "respond", "campaign": "Spring", "email": ana.email, "at": "2026-03-02"},
            {
                "type": "bounce",
                "campaign": "Spring",
                "email": "ben@example.com",
                "at": "2026-03-02",
            },
        ]
    )
    assert [r.email for r in member_page(campaign.id, "responded")] == ["ana@example.com"]
    assert [r.status for r in member_page(campaign.id, "bounced-unsubscribed")] == ["Bounced"]
    assert member_page(campaign.id, "converted") == []
    assert [r.name for r in member_page(campaign.id, search="Okaf")] == ["Lea Okafor"]


def test_conversion_with_campaign_source_converts_the_membership(fresh_db):
    lead = f.lead(email="ana@example.com", company="Acme")
    campaign = f.campaign("Spring")
    enroll(campaign)
    result = convert_lead(
        lead,
        opportunity_name="Acme deal",
        amount="12000",
        stage="Closed Won",
        campaign_source=campaign,
    )
    assert result.created_contact and result.contact.company == "Acme"
    assert result.source_member.status == "Converted"
    assert result.source_member.lead_id == lead.id  # memberships stay on the lead
    metrics = campaign_metrics(campaign)
    assert (metrics.converted, metrics.won_amount) == (1, 12000.0)
    assert Opportunity.get().campaign_source_id == campaign.id
    assert [m.campaign for m in memberships_of(result.contact)] == ["Spring"]
    with pytest.raises(ValidationError, match="already converted"):
        convert_lead(Lead.get_by_id(lead.id))


def test_conversion_links_to_an_existing_contact(fresh_db):
    contact = f.contact(email="ana@example.com")
    lead = f.lead(email="ana@example.com", do_not_email=True)
    result = convert_lead(lead)
    assert not result.created_contact and result.contact.id == contact.id
    assert result.contact.do_not_email
