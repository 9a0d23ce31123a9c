"""Schema versions and the path between them.

A new database is created from the current models and stamped with `SCHEMA_VERSION`. An older one
is brought forward by running, in order and each in its own transaction, the steps in `MIGRATIONS`
above its version. The tests check that both routes end in the same schema.
"""

from __future__ import annotations

from collections.abc import Callable

from peewee import (
    BooleanField,
    CharField,
    Database,
    DateTimeField,
    IntegerField,
    Model,
    TextField,
)
from playhouse.migrate import SchemaMigrator

from data.models import MODELS, SchemaVersion, utcnow

SCHEMA_VERSION = 2
"""The version the current models describe."""


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


MIGRATIONS: dict[int, Callable[[Database, SchemaMigrator], None]] = {
    2: _add_ingest_runs,
}
"""version -> the step that upgrades a database from version - 1 to it."""


def current_version(db: Database) -> int:
    if not db.table_exists(SchemaVersion._meta.table_name):
        return 0
    row = SchemaVersion.select(SchemaVersion.version).order_by(SchemaVersion.version.desc()).first()
    return row.version if row else 0


def upgrade(db: Database) -> int:
    """Bring the database to `SCHEMA_VERSION`; return the version it had before."""
    from data.db import DatabaseError

    if current_version(db) == SCHEMA_VERSION:
        return SCHEMA_VERSION
    # One transaction (IMMEDIATE on SQLite): a second process opening the same new file waits,
    # then finds the work done.
    with db.atomic():
        before = current_version(db)
        if before > SCHEMA_VERSION:
            raise DatabaseError(
                f"this database has schema version {before}, newer than this program's "
                f"{SCHEMA_VERSION}; upgrade campaign-members"
            )
        if before == 0:
            if any(db.table_exists(m._meta.table_name) for m in MODELS):
                raise DatabaseError("this database was not made by campaigns (unknown tables)")
            db.create_tables(MODELS)
            SchemaVersion.create(version=SCHEMA_VERSION, applied_at=utcnow())
            return before
        migrator = SchemaMigrator.from_database(db)
        for version in range(before + 1, SCHEMA_VERSION + 1):
            MIGRATIONS[version](db, migrator)
            SchemaVersion.create(version=version, applied_at=utcnow())
        return before
