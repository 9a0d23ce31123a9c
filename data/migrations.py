"""Schema versions and the path between them.

A new database is created from the current models and stamped with `SCHEMA_VERSION`. An older one
is brought forward by running, in order and each in its own transaction, the steps in `MIGRATIONS`
above its version. The tests check that both routes end in the same schema.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

from peewee import (
    AutoField,
    BooleanField,
    CharField,
    Check,
    Database,
    DateTimeField,
    FloatField,
    ForeignKeyField,
    IntegerField,
    Model,
    SmallIntegerField,
    SqliteDatabase,
    TextField,
)

from data.content import content_from_extra
from data.emails import normalize_email
from data.errors import DatabaseError
from data.folding import install_folded_indexes
from data.models import CONTENT_INDEX, MODELS, TREND_INDEX, SchemaVersion, utcnow
from data.postgres import check_references_per_statement, lock_schema, prepare_schema
from data.score import STOPPING, counts, points, weight
from data.scores import Touch, add_to_scores
from data.sql import one_of
from data.word_index import install_word_index

if TYPE_CHECKING:  # imported where a step runs: it brings every server dialect of Peewee
    from playhouse.migrate import SchemaMigrator

SCHEMA_VERSION = 20
"""The version the current models describe."""

MIGRATION_CHUNK = 5_000
"""Log rows read at a time by a step that works over every event."""


def _add_ingest_runs(db: Database, migrator: SchemaMigrator) -> None:
    """Version 2: ingest progress, so an interrupted ingest resumes where it stopped."""

    class IngestRun(Model):  # frozen as it was at version 2
        source = CharField()
        batch_size = IntegerField()
        records_done = IntegerField(default=0)
        prefix_sha = CharField(default="")
        counts = TextField(default="{}")
        started_at = DateTimeField()
        updated_at = DateTimeField()
        finished = BooleanField(default=False)

        class Meta:
            database = db
            table_name = "ingest_run"
            legacy_table_names = False
            indexes = ((("source", "finished"), False),)

    db.create_tables([IngestRun])


def _keep_rejected_lines_and_seen_ids(db: Database, migrator: SchemaMigrator) -> None:
    """Version 3: a rejected event keeps its line as received; an event id takes effect once,
    by a unique index (any second copy already applied becomes the duplicate it was)."""
    from playhouse.migrate import migrate

    migrate(migrator.add_column("engagement_event", "received_line", TextField(default="")))
    db.execute_sql(
        "UPDATE engagement_event SET outcome = 'duplicate' "
        "WHERE event_id IS NOT NULL AND outcome IN ('applied', 'unchanged') AND id NOT IN "
        "(SELECT min(id) FROM engagement_event WHERE event_id IS NOT NULL "
        "AND outcome IN ('applied', 'unchanged') GROUP BY event_id)"
    )
    db.execute_sql("DROP INDEX IF EXISTS engagement_event_event_id_outcome")
    db.execute_sql(
        "CREATE UNIQUE INDEX IF NOT EXISTS engagement_event_seen_id ON engagement_event "
        "(event_id) WHERE outcome IN ('applied', 'unchanged')"
    )


def _add_suppressions(db: Database, migrator: SchemaMigrator) -> None:
    """Version 4: suppression follows the address. Every address already flagged do-not-email or
    bounced on some lead or contact becomes a suppressed address, and the flags are set on every
    lead and contact with that address, so nobody is reachable under a second record."""

    class Campaign(Model):  # only referenced, never created here
        class Meta:
            database = db
            table_name = "campaign"

    class Suppression(Model):  # frozen as it was at version 4
        email = CharField()
        kind = CharField(constraints=[Check("kind IN ('unsubscribe', 'bounce', 'manual')")])
        reason = CharField(default="")
        event_id = CharField(null=True)
        campaign = ForeignKeyField(Campaign, null=True, on_delete="SET NULL", index=False)
        at = DateTimeField()
        created_at = DateTimeField()
        lifted_at = DateTimeField(null=True)
        lifted_reason = CharField(default="")
        lifted_by = CharField(default="")

        class Meta:
            database = db
            table_name = "suppression"
            legacy_table_names = False
            indexes = ((("email", "lifted_at"), False),)

    Suppression.add_index(
        Suppression.index(Suppression.email, unique=True, name="suppression_active").where(
            Suppression.lifted_at.is_null()
        )
    )
    db.create_tables([Suppression])
    now, p = utcnow(), db.param
    for flag, kind in (("do_not_email", "unsubscribe"), ("email_bounced", "bounce")):
        db.execute_sql(
            "INSERT INTO suppression (email, kind, reason, at, created_at, lifted_reason, "
            f"lifted_by) SELECT email, {p}, {p}, {p}, {p}, '', '' FROM "
            f"(SELECT email FROM lead WHERE {flag} UNION SELECT email FROM contact WHERE {flag}) "
            "AS flagged "
            "WHERE NOT EXISTS (SELECT 1 FROM suppression s WHERE s.email = flagged.email "
            "AND s.lifted_at IS NULL)",
            (
                kind,
                f"flagged {flag.replace('_', ' ')} before suppression followed the address",
                now,
                now,
            ),
        )
    for table in ("lead", "contact"):
        for flag, kind in (("do_not_email", "unsubscribe"), ("email_bounced", "bounce")):
            db.execute_sql(
                f"UPDATE {table} SET {flag} = {p} WHERE NOT {flag} AND email IN "
                f"(SELECT email FROM suppression WHERE lifted_at IS NULL AND kind = {p})",
                (True, kind),
            )


def _add_journal(db: Database, migrator: SchemaMigrator) -> None:
    """Version 5: the journal of bulk changes, with what each removed or changed, to undo it."""

    class Campaign(Model):  # only referenced, never created here
        class Meta:
            database = db
            table_name = "campaign"

    actions = "'enroll', 'add', 'remove', 'clean', 'status', 'import'"

    class JournalEntry(Model):  # frozen as it was at version 5
        at = DateTimeField()
        who = CharField(default="")
        action = CharField(constraints=[Check(f"action IN ({actions})")])
        campaign = ForeignKeyField(Campaign, null=True, on_delete="SET NULL", index=False)
        campaign_name = CharField(default="")
        count = IntegerField(default=0)
        summary = CharField(default="")
        last_event_id = IntegerField(default=0)
        undone_at = DateTimeField(null=True)
        undone_by = CharField(default="")
        undo_summary = CharField(default="")

        class Meta:
            database = db
            table_name = "journal_entry"
            legacy_table_names = False
            indexes = ((("campaign", "id"), False),)

    class JournalMember(Model):
        entry = ForeignKeyField(JournalEntry, on_delete="CASCADE", index=False)
        member_id = IntegerField()
        campaign_id = IntegerField()
        lead_id = IntegerField(null=True)
        contact_id = IntegerField(null=True)
        status = CharField(null=True)
        rung = SmallIntegerField(null=True)
        bounced = BooleanField(null=True)
        unsubscribed = BooleanField(null=True)
        added_at = DateTimeField(null=True)
        first_opened_at = DateTimeField(null=True)
        first_clicked_at = DateTimeField(null=True)
        response_date = DateTimeField(null=True)
        converted_at = DateTimeField(null=True)
        has_responded = BooleanField(null=True)

        class Meta:
            database = db
            table_name = "journal_member"
            legacy_table_names = False
            indexes = (
                (("entry", "member_id"), True),
                (("lead_id",), False),
                (("contact_id",), False),
            )

    class JournalEvent(Model):
        entry = ForeignKeyField(JournalEntry, on_delete="CASCADE", index=False)
        event_id = IntegerField()
        member_id = IntegerField()

        class Meta:
            database = db
            table_name = "journal_event"
            legacy_table_names = False
            indexes = ((("entry", "member_id"), False),)

    db.create_tables([JournalEntry, JournalMember, JournalEvent])


OUTCOMES_V5 = "outcome IN ('applied', 'unchanged', 'duplicate', 'rejected')"
OUTCOMES_V6 = "outcome IN ('applied', 'unchanged', 'duplicate', 'rejected', 'machine')"


def _allow_outcome(db: Database, old: str, new: str) -> None:
    """Widen the CHECK on the event log's outcome. On a server, the constraint is replaced. In
    SQLite a CHECK cannot be altered; widening one changes nothing stored (every row already
    passes), so the table's recorded definition is rewritten in place, the documented way
    (sqlite.org/lang_altertable.html, "making other kinds of table schema changes")."""
    if not isinstance(db, SqliteDatabase):
        name = db.execute_sql(
            "SELECT conname FROM pg_constraint WHERE conrelid = 'engagement_event'::regclass "
            "AND contype = 'c' AND position('outcome' in pg_get_constraintdef(oid)) > 0"
        ).fetchone()[0]
        db.execute_sql(f'ALTER TABLE engagement_event DROP CONSTRAINT "{name}"')
        db.execute_sql(f'ALTER TABLE engagement_event ADD CONSTRAINT "{name}" CHECK ({new})')
        return
    sql = db.execute_sql(
        "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'engagement_event'"
    ).fetchone()[0]
    if f"CHECK ({old})" not in sql:
        raise DatabaseError("the event log's outcome column is not as version 5 left it")
    version = db.execute_sql("PRAGMA schema_version").fetchone()[0]
    db.execute_sql("PRAGMA writable_schema = ON")
    db.execute_sql(
        "UPDATE sqlite_master SET sql = ? WHERE type = 'table' AND name = 'engagement_event'",
        (sql.replace(f"CHECK ({old})", f"CHECK ({new})"),),
    )
    db.execute_sql(f"PRAGMA schema_version = {version + 1}")
    db.execute_sql("PRAGMA writable_schema = OFF")


def _add_connectors(db: Database, migrator: SchemaMigrator) -> None:
    """Version 6: webhook receivers. Machine opens are an outcome of their own, counted per
    campaign, and their ids count as seen (a provider's retry is a duplicate); receivers say
    that they run and what they committed per source and minute."""
    from playhouse.migrate import migrate

    _allow_outcome(db, OUTCOMES_V5, OUTCOMES_V6)
    db.execute_sql("DROP INDEX IF EXISTS engagement_event_seen_id")
    db.execute_sql(
        "CREATE UNIQUE INDEX IF NOT EXISTS engagement_event_seen_id ON engagement_event "
        "(event_id) WHERE outcome IN ('applied', 'unchanged', 'machine')"
    )
    migrate(migrator.add_column("campaign_stats", "machine_opens", IntegerField(default=0)))

    class Receiver(Model):  # frozen as it was at version 6
        host = CharField()
        port = IntegerField()
        pid = IntegerField()
        endpoints = CharField(default="")
        started_at = DateTimeField()
        seen_at = DateTimeField()
        stopped_at = DateTimeField(null=True)
        last_refusal = CharField(default="")
        last_refusal_at = DateTimeField(null=True)

        class Meta:
            database = db
            table_name = "receiver"
            legacy_table_names = False

    class ReceivedCount(Model):  # frozen as it was at version 6
        source = CharField()
        minute = DateTimeField()
        events = IntegerField(default=0)

        class Meta:
            database = db
            table_name = "received_count"
            legacy_table_names = False
            indexes = ((("source", "minute"), True),)

    db.create_tables([Receiver, ReceivedCount])


_V6_TEMPLATES = {
    "event": (
        ("Invited", 0),
        ("Opened", 1),
        ("Clicked", 2),
        ("Registered", 3),
        ("Attended", 3),
        ("Converted", 4),
    ),
    "email": (("Sent", 0), ("Opened", 1), ("Clicked", 2), ("Responded", 3), ("Converted", 4)),
}
"""The label templates as they were at version 6 (Webinar and Event; every other type)."""


def _add_status_labels(db: Database, migrator: SchemaMigrator) -> None:
    """Version 6: member status labels per campaign. Each campaign gets its type's template,
    and each member the first label counting as its rung, so every member keeps its status."""
    from playhouse.migrate import migrate

    class Campaign(Model):  # only referenced, never created here
        class Meta:
            database = db
            table_name = "campaign"

    class MemberStatusLabel(Model):  # frozen as it was at version 6
        id = AutoField()
        campaign = ForeignKeyField(Campaign, on_delete="CASCADE", index=False)
        position = IntegerField()
        name = CharField()
        counts_as = SmallIntegerField(constraints=[Check("counts_as BETWEEN 0 AND 4")])
        is_default = BooleanField(default=False)

        class Meta:
            database = db
            table_name = "member_status_label"
            legacy_table_names = False
            indexes = ((("campaign", "name"), True), (("campaign", "position"), False))

    MemberStatusLabel.add_index(
        MemberStatusLabel.index(
            MemberStatusLabel.campaign, unique=True, name="member_status_label_one_default"
        ).where(MemberStatusLabel.is_default)
    )
    db.create_tables([MemberStatusLabel])
    p = db.param
    for key, labels in _V6_TEMPLATES.items():
        which = "IN" if key == "event" else "NOT IN"
        for position, (name, rung) in enumerate(labels):
            db.execute_sql(
                "INSERT INTO member_status_label (campaign_id, position, name, counts_as, "
                f"is_default) SELECT id, {p}, {p}, {p}, {p} FROM campaign "
                f"WHERE type {which} ('Webinar', 'Event')",
                (position, name, rung, position == 0),
            )
    migrate(
        migrator.add_column(
            "campaign_member",
            "label_id",
            ForeignKeyField(MemberStatusLabel, field=MemberStatusLabel.id, null=True, index=False),
        )
    )
    migrate(migrator.add_column("journal_member", "label_id", IntegerField(null=True)))
    db.execute_sql(
        "UPDATE campaign_member SET label_id = (SELECT l.id FROM member_status_label l "
        "WHERE l.campaign_id = campaign_member.campaign_id AND l.counts_as = campaign_member.rung "
        "ORDER BY l.position LIMIT 1)"
    )
    db.execute_sql(
        'CREATE INDEX IF NOT EXISTS "campaign_member_campaign_id_label_id" '
        'ON "campaign_member" ("campaign_id", "label_id")'
    )


def _add_sort_indexes(db: Database, migrator: SchemaMigrator) -> None:
    """Version 8: a member list sorts by status, added date or first open, each walked along a
    (campaign, column, id) index."""
    for column in ("rung", "added_at", "first_opened_at"):
        db.execute_sql(
            f'CREATE INDEX IF NOT EXISTS "campaign_member_campaign_id_{column}_id" '
            f'ON "campaign_member" ("campaign_id", "{column}", "id")'
        )


def _partial_member_indexes(db: Database, migrator: SchemaMigrator) -> None:
    """Version 9: members are found by status only for the settled statuses (converted, bounced,
    unsubscribed), and sorted by first open only among those who opened, so those two indexes
    keep only such members: the opens and clicks an ingest applies rewrite less."""
    db.execute_sql('DROP INDEX IF EXISTS "campaign_member_campaign_id_status_id"')
    db.execute_sql('DROP INDEX IF EXISTS "campaign_member_campaign_id_first_opened_at_id"')
    db.execute_sql(
        "CREATE INDEX IF NOT EXISTS campaign_member_settled ON campaign_member "
        "(campaign_id, status, id) WHERE status IN ('Converted', 'Bounced', 'Unsubscribed')"
    )
    db.execute_sql(
        "CREATE INDEX IF NOT EXISTS campaign_member_opened ON campaign_member "
        "(campaign_id, first_opened_at, id) WHERE first_opened_at IS NOT NULL"
    )


def _add_filter_indexes(db: Database, migrator: SchemaMigrator) -> None:
    """Version 10: a filter's country or industry (any case) is found from an index on the
    column's LOWER in each person table."""
    for table in ("lead", "contact"):
        for column in ("country", "industry"):
            db.execute_sql(
                f'CREATE INDEX IF NOT EXISTS "{table}_lower_{column}" '
                f'ON "{table}" (LOWER("{column}"))'
            )


_IN_CHECK = re.compile(r"CHECK \((\w+) IN \(((?:'(?:[^']|'')*'(?:, )?)+)\)\)")
_QUOTED = re.compile(r"'((?:[^']|'')*)'")


def _no_in_lists(db: Database, migrator: SchemaMigrator) -> None:
    """Version 11: every condition checked on each written row says `column IN (…)` as
    equalities joined by OR (`sql.one_of`): the vocabulary CHECKs and the two partial indexes a
    member update or a log insert meets. Same rows allowed, same rows indexed; SQLite just no
    longer builds a lookup table for each row. On SQLite the tables' recorded definitions are
    rewritten in place, as `_allow_outcome` does (nothing stored changes: every row passes
    both forms); on a server the constraints are replaced."""
    if isinstance(db, SqliteDatabase):
        tables = db.execute_sql(
            "SELECT name, sql FROM sqlite_master WHERE type = 'table' AND sql LIKE '% IN (%'"
        ).fetchall()
        version = db.execute_sql("PRAGMA schema_version").fetchone()[0]
        db.execute_sql("PRAGMA writable_schema = ON")
        for name, sql in tables:
            db.execute_sql(
                "UPDATE sqlite_master SET sql = ? WHERE type = 'table' AND name = ?",
                (_IN_CHECK.sub(_as_equalities, sql), name),
            )
        db.execute_sql(f"PRAGMA schema_version = {version + 1}")
        db.execute_sql("PRAGMA writable_schema = OFF")
    else:
        for model in MODELS:
            table = model._meta.table_name
            for field in model._meta.sorted_fields:
                for constraint in field.constraints or ():
                    text = getattr(constraint, "sql", "")
                    if text.startswith("CHECK (") and " OR " in text:
                        _replace_check(db, table, field.column_name, text)
    db.execute_sql("DROP INDEX IF EXISTS campaign_member_settled")
    db.execute_sql(
        "CREATE INDEX campaign_member_settled ON campaign_member (campaign_id, status, id) "
        f"WHERE {one_of('status', ('Converted', 'Bounced', 'Unsubscribed'))}"
    )
    db.execute_sql("DROP INDEX IF EXISTS engagement_event_seen_id")
    db.execute_sql(
        "CREATE UNIQUE INDEX engagement_event_seen_id ON engagement_event (event_id) "
        f"WHERE {one_of('outcome', ('applied', 'unchanged', 'machine'))}"
    )


def _as_equalities(match: re.Match) -> str:
    values = [value.replace("''", "'") for value in _QUOTED.findall(match.group(2))]
    return f"CHECK ({one_of(match.group(1), values)})"


def _replace_check(db: Database, table: str, column: str, check: str) -> None:
    """Replace the server's CHECK on one column of a table (named as the server named it)."""
    row = db.execute_sql(
        "SELECT c.conname FROM pg_constraint c JOIN pg_attribute a "
        "ON a.attrelid = c.conrelid AND c.conkey = ARRAY[a.attnum] "
        "WHERE c.conrelid = %s::regclass AND c.contype = 'c' AND a.attname = %s",
        (f'"{table}"', column),
    ).fetchone()
    if row is None:
        return
    db.execute_sql(
        f'ALTER TABLE "{table}" DROP CONSTRAINT "{row[0]}", ADD CONSTRAINT "{row[0]}" {check}'
    )


def _fewer_member_indexes(db: Database, migrator: SchemaMigrator) -> None:
    """Version 12: an ingest rewrote two member indexes no list walks. The label's goes (its
    counts count the campaign's members); has_responded's keeps only those who responded."""
    db.execute_sql('DROP INDEX IF EXISTS "campaign_member_campaign_id_label_id"')
    db.execute_sql('DROP INDEX IF EXISTS "campaign_member_campaign_id_has_responded_id"')
    db.execute_sql(
        "CREATE INDEX IF NOT EXISTS campaign_member_responded ON campaign_member "
        "(campaign_id, id) WHERE has_responded"
    )


def _references_per_statement(db: Database, migrator: SchemaMigrator) -> None:
    """Version 13: on a server, the foreign keys of members, log rows, journal copies and labels
    become triggers that check each statement's rows at once (`check_references_per_statement`).
    SQLite keeps its foreign keys: it checks a row's in well under a microsecond."""
    if not isinstance(db, SqliteDatabase):
        check_references_per_statement(db)


def _add_seen_requests(db: Database, migrator: SchemaMigrator) -> None:
    """Version 14: the signed requests receivers committed, kept until their signature expires
    (a replayed Mailgun token or request is refused by every receiver on the database)."""

    class SeenRequest(Model):  # frozen as it was at version 14
        key = CharField(primary_key=True)
        digest = CharField()
        expires_at = DateTimeField(index=True)

        class Meta:
            database = db
            table_name = "seen_request"
            legacy_table_names = False

    db.create_tables([SeenRequest])


def _keep_label_counts(db: Database, migrator: SchemaMigrator) -> None:
    """Version 15: how many members hold each status label, kept as counters (`LabelStats`)
    and filled here from the members, one pass over them."""

    class Campaign(Model):  # only referenced, never created here
        class Meta:
            database = db
            table_name = "campaign"

    class MemberStatusLabel(Model):  # only referenced, never created here
        class Meta:
            database = db
            table_name = "member_status_label"

    class LabelStats(Model):  # frozen as it was at version 15
        label = ForeignKeyField(MemberStatusLabel, primary_key=True, on_delete="CASCADE")
        campaign = ForeignKeyField(Campaign, on_delete="CASCADE")
        members = IntegerField(default=0)

        class Meta:
            database = db
            table_name = "label_stats"
            legacy_table_names = False

    db.create_tables([LabelStats])
    db.execute_sql(
        "INSERT INTO label_stats (label_id, campaign_id, members) "
        "SELECT l.id, l.campaign_id, COALESCE(held.n, 0) FROM member_status_label l LEFT JOIN "
        "(SELECT label_id, COUNT(*) AS n FROM campaign_member WHERE label_id IS NOT NULL "
        "GROUP BY label_id) held ON held.label_id = l.id"
    )


def _add_content_and_scores(db: Database, migrator: SchemaMigrator) -> None:
    """Version 17: what a person engaged with. Each engaged event's content, worked out from
    its stored extra keys (`content.content_from_extra`) into a column indexed per campaign;
    and each address's engagement score (`score`), added up from the events already logged."""
    migrator.add_column("engagement_event", "content", CharField(null=True)).run()
    db.execute_sql(CONTENT_INDEX)

    class EngagementScore(Model):  # frozen as it was at version 17
        email = CharField(primary_key=True)
        points = FloatField(default=0.0)
        stopped = BooleanField(default=False)
        last_at = DateTimeField(null=True)
        last_type = CharField(default="")
        last_content = CharField(null=True)
        last_campaign = IntegerField(null=True)

        class Meta:
            database = db
            table_name = "engagement_score"

    db.create_tables([EngagementScore])
    db.execute_sql('CREATE INDEX "engagement_score_points" ON "engagement_score" ("points")')
    p = db.param
    rungs = {
        (campaign, name): rung
        for campaign, name, rung in db.execute_sql(
            "SELECT campaign_id, name, counts_as FROM member_status_label"
        )
    }
    now = utcnow()
    touches: dict[str, Touch] = {}
    last = 0
    while True:
        rows = db.execute_sql(
            "SELECT e.id, e.type, e.outcome, e.at, e.extra, e.campaign_id, e.email, "
            "COALESCE(l.email, c.email) FROM engagement_event e "
            "LEFT JOIN campaign_member m ON m.id = e.member_id "
            "LEFT JOIN lead l ON l.id = m.lead_id LEFT JOIN contact c ON c.id = m.contact_id "
            f"WHERE e.id > {p} AND {one_of('e.outcome', ('applied', 'unchanged'))} "
            f"ORDER BY e.id LIMIT {MIGRATION_CHUNK}",
            (last,),
        ).fetchall()
        if not rows:
            break
        last = rows[-1][0]
        contents = []
        for eid, kind, outcome, at, extra, campaign, email, member_email in rows:
            content = content_from_extra(extra)
            if content is not None:
                contents.append((content, eid))
            if isinstance(at, str):
                at = datetime.fromisoformat(at)
            rung = rungs.get((campaign, _status_named(extra))) if kind == "status" else None
            gained = points(weight(kind, rung), at, now) if at is not None else 0.0
            stops = kind in STOPPING
            address = normalize_email(email or "") or member_email
            if not (gained or stops) or not address or not counts(kind, outcome):
                continue
            touch = touches.setdefault(address, Touch())
            touch.stopped = touch.stopped or stops
            what = _status_named(extra) if kind == "status" else kind
            touch.add(gained, at, what, content, campaign, touch=not stops)
        if contents:
            db.cursor().executemany(
                f"UPDATE engagement_event SET content = {p} WHERE id = {p}", contents
            )
    add_to_scores(touches)


def _status_named(extra: str | None) -> str:
    """The label a logged status event named (as `labels.status_named` reads it)."""
    try:
        keys = json.loads(extra or "")
    except ValueError:
        return ""
    status = keys.get("status") if isinstance(keys, dict) else None
    return status.strip() if isinstance(status, str) else ""


def _add_word_index(db: Database, migrator: SchemaMigrator) -> None:
    """Version 16: the index a filter's bare word is found by (`data.word_index`): trigrams of
    people's names, emails and companies, kept by the database, filled here from the rows there
    are (on SQLite about 20 s for a million people)."""
    install_word_index(db)


JOURNAL_ACTIONS_17 = ("enroll", "add", "remove", "clean", "status", "import")
"""The journal's actions before version 18 added "forget" and "merge"."""


def _add_tombstones(db: Database, migrator: SchemaMigrator) -> None:
    """Version 18: forgetting and merging people (`privacy`, `merge`). The tombstones of
    forgotten addresses (a keyed hash each) and the key, what a merge keeps to be undone, and
    "forget" and "merge" among the journal's actions: on SQLite the
    table's recorded CHECK is rewritten in place (every row passes both), on a server it is
    replaced."""

    class PrivacyKey(Model):  # frozen as it was at version 18
        id = IntegerField(primary_key=True)
        key = CharField()

        class Meta:
            database = db
            table_name = "privacy_key"

    class ErasedAddress(Model):  # frozen as it was at version 18
        digest = CharField(primary_key=True)
        erased_at = DateTimeField()

        class Meta:
            database = db
            table_name = "erased_address"

    class JournalEntry(Model):  # only referenced, never created here
        class Meta:
            database = db
            table_name = "journal_entry"

    class JournalPayload(Model):  # frozen as it was at version 18
        entry = ForeignKeyField(JournalEntry, primary_key=True, on_delete="CASCADE")
        payload = TextField()

        class Meta:
            database = db
            table_name = "journal_payload"

    db.create_tables([PrivacyKey, ErasedAddress, JournalPayload])
    old = one_of("action", JOURNAL_ACTIONS_17)
    new = one_of("action", (*JOURNAL_ACTIONS_17, "forget", "merge"))
    if isinstance(db, SqliteDatabase):
        (sql,) = db.execute_sql(
            "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'journal_entry'"
        ).fetchone()
        version = db.execute_sql("PRAGMA schema_version").fetchone()[0]
        db.execute_sql("PRAGMA writable_schema = ON")
        db.execute_sql(
            "UPDATE sqlite_master SET sql = ? WHERE type = 'table' AND name = 'journal_entry'",
            (sql.replace(old, new),),
        )
        db.execute_sql(f"PRAGMA schema_version = {version + 1}")
        db.execute_sql("PRAGMA writable_schema = OFF")
    else:
        _replace_check(db, "journal_entry", "action", f"CHECK ({new})")


def _add_trend_and_hierarchy(db: Database, migrator: SchemaMigrator) -> None:
    """Version 20: a campaign's engagement over time read from one index on the event log
    (`TREND_INDEX`), and a parent on each campaign (a hierarchy, `data.hierarchy`)."""
    db.execute_sql(TREND_INDEX)

    class Campaign(Model):  # frozen as it was at version 20
        id = AutoField()

        class Meta:
            database = db
            table_name = "campaign"

    parent = ForeignKeyField(Campaign, field=Campaign.id, null=True, on_delete="SET NULL")
    migrator.add_column("campaign", "parent_id", parent).run()
    db.execute_sql('CREATE INDEX IF NOT EXISTS "campaign_parent_id" ON "campaign" ("parent_id")')


def _fold_filter_indexes(db: Database, migrator: SchemaMigrator) -> None:
    """Version 19: on a server, the list fields' LOWER indexes fold every letter, not only ASCII
    ones (`data.folding`)."""
    install_folded_indexes(db)


MIGRATIONS: dict[int, Callable[[Database, SchemaMigrator], None]] = {
    2: _add_ingest_runs,
    3: _keep_rejected_lines_and_seen_ids,
    4: _add_suppressions,
    5: _add_journal,
    6: _add_connectors,
    7: _add_status_labels,
    8: _add_sort_indexes,
    9: _partial_member_indexes,
    10: _add_filter_indexes,
    11: _no_in_lists,
    12: _fewer_member_indexes,
    13: _references_per_statement,
    14: _add_seen_requests,
    15: _keep_label_counts,
    16: _add_word_index,
    17: _add_content_and_scores,
    18: _add_tombstones,
    19: _fold_filter_indexes,
    20: _add_trend_and_hierarchy,
}
"""version -> the step that upgrades a database from version - 1 to it."""


def current_version(db: Database) -> int:
    if not db.table_exists(SchemaVersion._meta.table_name):
        return 0
    row = SchemaVersion.select(SchemaVersion.version).order_by(SchemaVersion.version.desc()).first()
    return row.version if row else 0


def refusal(db: Database) -> str | None:
    """Why this program must not touch this database, or None if it may (ours, or empty).

    Only reads: it is asked before anything is changed (even the journal mode), and again in
    the upgrade's transaction. The tables are listed first, in one statement: another process
    creating the schema commits its tables and their version together, so a version table
    seen here has its version."""
    tables = [t for t in db.get_tables() if not t.startswith("sqlite_")]
    if not tables:
        return None
    if SchemaVersion._meta.table_name not in tables:
        shown = ", ".join(tables[:3]) + (", …" if len(tables) > 3 else "")
        return f"this database was not made by campaigns (it has other tables: {shown})"
    version = current_version(db)
    if version > SCHEMA_VERSION:
        return (
            f"this database has schema version {version}, newer than this program's "
            f"{SCHEMA_VERSION}; upgrade campaign-members"
        )
    return None


def upgrade(db: Database) -> int:
    """Bring the database to `SCHEMA_VERSION`; return the version it had before."""
    if current_version(db) == SCHEMA_VERSION:
        return SCHEMA_VERSION
    # One transaction (IMMEDIATE on SQLite, holding an advisory lock on PostgreSQL): a second
    # process opening the same new database waits, then finds the work done.
    with db.atomic():
        lock_schema(db)
        problem = refusal(db)
        if problem:
            raise DatabaseError(problem)
        before = current_version(db)
        if before == 0:
            db.create_tables(MODELS)
            prepare_schema(db, list(MODELS))
            install_word_index(db)
            install_folded_indexes(db)
            SchemaVersion.create(version=SCHEMA_VERSION, applied_at=utcnow())
            return before
        from playhouse.migrate import SchemaMigrator

        migrator = SchemaMigrator.from_database(db)
        for version in sorted(v for v in MIGRATIONS if before < v <= SCHEMA_VERSION):
            MIGRATIONS[version](db, migrator)
            SchemaVersion.create(version=version, applied_at=utcnow())
        prepare_schema(db, list(MODELS))  # tables and columns the steps added, on a server
        return before
