"""References between rows hold on both backends: a row cannot name a parent that does not
exist, and a parent's deletion takes, unlinks or is refused by the rows naming it. On a server
the bulk-written tables check them per statement (`postgres.check_references_per_statement`),
so these tests pin the foreign keys' rules there, including while another session writes."""

from __future__ import annotations

import json
import subprocess
import sys
import threading

import peewee
import psycopg
import pytest

from data.db import database
from data.enrollment import enroll
from data.labels import add_label
from data.models import (
    Campaign,
    CampaignMember,
    EngagementEvent,
    JournalEntry,
    JournalMember,
    Lead,
    MemberStatusLabel,
)
from data.vocab import JournalAction
from tests import factories
from tests.test_team_server import _feed, _finish, _run, _waiting_on_a_lock

MISSING = 987_654


def _refused(write) -> None:
    with pytest.raises(peewee.IntegrityError):
        with database.atomic():
            write()


@pytest.fixture
def member(fresh_db):
    campaign = factories.campaign("Launch", kind="leads")
    factories.lead(email="ann@example.com")
    enroll(campaign)
    return CampaignMember.get()


def test_an_insert_naming_no_parent_is_refused(member):
    """Each reference of a bulk-written table, written alone or among good rows: refused."""
    good = {"campaign": member.campaign_id, "lead": member.lead_id, "label": member.label_id}
    spare = factories.lead(email="bob@example.com")
    for column in ("campaign", "lead", "label"):
        rows = [{**good, "lead": spare.id}, {**good, column: MISSING, "lead": spare.id}]
        _refused(lambda rows=rows: CampaignMember.insert_many(rows).execute())
    _refused(lambda: CampaignMember.insert(campaign=member.campaign_id, contact=MISSING).execute())
    event = {"event_id": "e1", "type": "open", "email": "ann@example.com", "outcome": "applied"}
    _refused(lambda: EngagementEvent.insert(**event, campaign=MISSING).execute())
    _refused(lambda: EngagementEvent.insert(**event, member=MISSING).execute())
    _refused(lambda: JournalMember.insert(entry=MISSING, member_id=1, campaign_id=1).execute())
    label = {"campaign": MISSING, "name": "Held", "counts_as": 0, "position": 9}
    _refused(lambda: MemberStatusLabel.insert(**label).execute())
    assert CampaignMember.select().count() == 1
    assert EngagementEvent.select().count() == 0


def test_an_update_naming_no_parent_is_refused(member):
    M = CampaignMember
    for column in (M.campaign, M.lead, M.label):
        _refused(lambda column=column: M.update({column: MISSING}).execute())
    event = EngagementEvent.create(
        event_id="e1", type="open", email="ann@example.com", outcome="applied", member=member.id
    )
    _refused(lambda: EngagementEvent.update(member=MISSING).execute())
    _refused(lambda: EngagementEvent.update(campaign=MISSING).execute())
    entry = JournalEntry.create(action=JournalAction.ADD)
    JournalMember.create(entry=entry, member_id=member.id, campaign_id=member.campaign_id)
    _refused(lambda: JournalMember.update(entry=MISSING).execute())
    assert M.get().campaign_id == member.campaign_id
    assert EngagementEvent.get_by_id(event.id).member_id == member.id
    # a row may still let go of an optional reference
    EngagementEvent.update(member=None).execute()


def test_deleting_parents_takes_unlinks_or_is_refused(member):
    """A label a member holds cannot go; a member's events lose their link when it goes; a
    person's memberships go with the person; a campaign takes its members and labels and its
    log rows keep their events without it; a journal entry takes its copies."""
    campaign = Campaign.get()
    event = EngagementEvent.create(
        event_id="e1",
        type="open",
        email="ann@example.com",
        outcome="applied",
        member=member.id,
        campaign=campaign.id,
    )
    held = MemberStatusLabel.id == member.label_id
    _refused(lambda: MemberStatusLabel.delete().where(held).execute())

    CampaignMember.delete().execute()
    assert EngagementEvent.get_by_id(event.id).member_id is None
    assert MemberStatusLabel.delete().where(held).execute() == 1

    enroll(campaign)
    again = CampaignMember.get()
    Lead.delete().where(Lead.id == again.lead_id).execute()
    assert CampaignMember.select().count() == 0

    factories.lead(email="cid@example.com")
    enroll(campaign)
    assert CampaignMember.select().count() == 1
    Campaign.delete().where(Campaign.id == campaign.id).execute()
    assert CampaignMember.select().count() == 0
    assert MemberStatusLabel.select().where(MemberStatusLabel.campaign == campaign.id).count() == 0
    assert EngagementEvent.get_by_id(event.id).campaign_id is None

    entry = JournalEntry.create(action=JournalAction.ADD)
    JournalMember.create(entry=entry, member_id=1, campaign_id=1)
    JournalEntry.delete().execute()
    assert JournalMember.select().count() == 0


def test_a_removal_and_an_ingest_at_once_leave_no_event_naming_a_removed_member(fresh_db, tmp_path):
    """Real processes: members removed while an ingest logs their events. Whoever goes first,
    every logged event names a member that exists, or none."""
    campaign = factories.campaign("Team Launch", kind="leads")
    emails = [f"member{i}@example.com" for i in range(300)]
    for email in emails:
        factories.lead(email=email)
    enroll(campaign)
    _feed(tmp_path / "opens.jsonl", "open", emails, 3)
    database.close()
    ingest = _run(fresh_db, "ingest", str(tmp_path / "opens.jsonl"), "--json", "--batch-size", "25")
    removal = _run(fresh_db, "members", "remove", "Team Launch", *emails[::2], "--json")
    json.loads(_finish(ingest))
    assert json.loads(_finish(removal))["removed"] == 150
    database.connect(reuse_if_open=True)
    assert CampaignMember.select().count() == 150
    E, M = EngagementEvent, CampaignMember
    dangling = E.select().where(E.member.is_null(False) & ~E.member.in_(M.select(M.id)))
    assert dangling.count() == 0
    assert E.select().count() == 300


@pytest.fixture
def server(fresh_db, backend):
    if backend != "postgresql":
        pytest.skip("another session writing at the same moment is a server's")
    return str(fresh_db)


def test_a_label_deleted_while_a_member_is_enrolled_with_it_waits_then_is_refused(server):
    """The enrollment holds the label it gives (as a foreign key would): a deletion of the
    label in another session waits for the enrollment, then finds a member holding it."""
    campaign = factories.campaign("Launch", kind="leads")
    factories.lead(email="ann@example.com")
    label = add_label(campaign, "Invited", "Sent")
    with database.atomic():
        CampaignMember.insert(campaign=campaign.id, lead=Lead.get().id, label=label.id).execute()
        deletion = subprocess.Popen(
            [
                sys.executable,
                "-c",
                "import sys, psycopg\n"
                "with psycopg.connect(sys.argv[1]) as conn:\n"
                "    conn.execute('DELETE FROM member_status_label WHERE id = ' + sys.argv[2])\n",
                server,
                str(label.id),
            ],
            stderr=subprocess.PIPE,
            text=True,
        )
        while not _waiting_on_a_lock():
            assert deletion.poll() is None, deletion.stderr.read()
    _, err = deletion.communicate(timeout=60)
    assert deletion.returncode != 0
    assert "ForeignKeyViolation" in err and "campaign_member_label_id_fkey" in err
    assert MemberStatusLabel.get_by_id(label.id).name == "Invited"


def test_a_member_enrolled_with_a_label_deleted_meanwhile_is_refused(server):
    """The other order: the deletion is first but not yet committed; the insert waits for it
    and, once it commits, is refused instead of naming a label that is gone."""
    campaign = factories.campaign("Launch", kind="leads")
    lead = factories.lead(email="ann@example.com")
    label = add_label(campaign, "Invited", "Sent")
    other = psycopg.connect(server)
    other.execute("DELETE FROM member_status_label WHERE id = %s", (label.id,))
    outcome: list[BaseException | None] = []

    def insert() -> None:
        try:
            with database.connection_context(), database.atomic():
                CampaignMember.insert(campaign=campaign.id, lead=lead.id, label=label.id).execute()
            outcome.append(None)
        except BaseException as exc:  # the assertion below names it
            outcome.append(exc)

    writer = threading.Thread(target=insert)
    writer.start()
    try:
        while not _waiting_on_a_lock():
            assert writer.is_alive()
        other.commit()
    finally:
        other.close()
        writer.join(timeout=60)
    assert len(outcome) == 1 and isinstance(outcome[0], peewee.IntegrityError), outcome
    assert CampaignMember.select().count() == 0


def _foreign_keys() -> set[str]:
    rows = database.execute_sql("SELECT conname FROM pg_constraint WHERE contype = 'f'")
    return {name for (name,) in rows.fetchall()}


def test_version_13_puts_triggers_in_the_place_of_a_servers_foreign_keys(server):
    """A server at version 12 (a member's campaign checked by a foreign key, no trigger):
    the step leaves no foreign key on the bulk-written tables and the rules still hold."""
    from playhouse.migrate import SchemaMigrator

    from data.migrations import MIGRATIONS

    db = database.obj
    db.execute_sql("DROP TRIGGER campaign_member_references_inserted ON campaign_member")
    db.execute_sql(
        "ALTER TABLE campaign_member ADD CONSTRAINT campaign_member_campaign_id_fkey "
        "FOREIGN KEY (campaign_id) REFERENCES campaign (id) ON DELETE CASCADE"
    )
    assert "campaign_member_campaign_id_fkey" in _foreign_keys()
    with db.atomic():
        MIGRATIONS[13](db, SchemaMigrator.from_database(db))
    assert not {name for name in _foreign_keys() if name.startswith("campaign_member_")}
    factories.lead(email="ann@example.com")
    _refused(lambda: CampaignMember.insert(campaign=MISSING, lead=Lead.get().id).execute())
