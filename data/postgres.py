"""What a PostgreSQL server needs beyond the models' own DDL, so it behaves like SQLite.

- Text compares and sorts by code point ("C" collation), as SQLite's BINARY does, whatever locale
  the database was created with: lists come out in the same order on both backends.
- Every write announces itself on commit (statement-level triggers calling `pg_notify`), which
  is what live refresh listens for.
- Schema changes take an advisory lock, so several processes opening a new database at once
  wait for the first instead of colliding.
"""

from __future__ import annotations

from peewee import CharField, Database, Model, SqliteDatabase, TextField

CHANNEL = "campaigns_changed"
"""The NOTIFY channel every committed change is announced on."""

SCHEMA_LOCK = 0x43414D50
"""The advisory lock key that serialises schema changes ("CAMP")."""

_NOTIFY_FUNCTION = f"""
CREATE OR REPLACE FUNCTION campaigns_notify_change() RETURNS trigger AS $$
BEGIN
    PERFORM pg_notify('{CHANNEL}', TG_TABLE_NAME);
    RETURN NULL;
END;
$$ LANGUAGE plpgsql
"""


def _install_change_triggers(db: Database, tables: list[str]) -> None:
    """Make every write to `tables` announce itself when it commits."""
    db.execute_sql(_NOTIFY_FUNCTION)
    for table in tables:
        trigger = f"{table}_notify_change"
        db.execute_sql(f'DROP TRIGGER IF EXISTS {trigger} ON "{table}"')
        db.execute_sql(
            f'CREATE TRIGGER {trigger} AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON "{table}" '
            "FOR EACH STATEMENT EXECUTE FUNCTION campaigns_notify_change()"
        )


def _use_code_point_collation(db: Database, models: list[type[Model]]) -> None:
    for model in models:
        table = model._meta.table_name
        for field in model._meta.sorted_fields:
            if isinstance(field, CharField | TextField):
                kind = "TEXT" if isinstance(field, TextField) else f"VARCHAR({field.max_length})"
                db.execute_sql(
                    f'ALTER TABLE "{table}" ALTER COLUMN "{field.column_name}" '
                    f'TYPE {kind} COLLATE "C"'
                )


def prepare_schema(db: Database, models: list[type[Model]]) -> None:
    """After the models' tables are created on a server: collation and change notifications."""
    if isinstance(db, SqliteDatabase):
        return
    _use_code_point_collation(db, models)
    _install_change_triggers(db, [m._meta.table_name for m in models])


def lock_schema(db: Database) -> None:
    """Hold the schema lock until the transaction ends (SQLite's write lock already does)."""
    if not isinstance(db, SqliteDatabase):
        db.execute_sql(f"SELECT pg_advisory_xact_lock({SCHEMA_LOCK})")
