"""Schema versions and the path between them.

A new database is created from the current models and stamped with `SCHEMA_VERSION`. An older one
is brought forward by running, in order and each in its own transaction, the steps in `MIGRATIONS`
above its version. The tests check that both routes end in the same schema.
"""

from __future__ import annotations

from collections.abc import Callable

from peewee import Database
from playhouse.migrate import SchemaMigrator

from data.models import MODELS, SchemaVersion, utcnow

SCHEMA_VERSION = 1
"""The version the current models describe."""

MIGRATIONS: dict[int, Callable[[Database, SchemaMigrator], None]] = {}
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
