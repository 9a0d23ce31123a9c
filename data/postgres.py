"""What a PostgreSQL server needs beyond the models' own DDL, so it behaves like SQLite.

- Text compares and sorts by code point ("C" collation), as SQLite's BINARY does, whatever locale
  the database was created with: lists come out in the same order on both backends.
- Every write announces itself on commit (statement-level triggers calling `pg_notify`), which
  is what live refresh listens for.
- Schema changes take an advisory lock, so several processes opening a new database at once
  wait for the first instead of colliding.
- The references of the tables written in bulk are checked once per statement, not once per row
  (`check_references_per_statement`).
"""

from __future__ import annotations

from dataclasses import dataclass

from peewee import CharField, Database, ForeignKeyField, Model, SqliteDatabase, TextField

from data.models import CHECKED_PER_STATEMENT, Campaign, MemberStatusLabel

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


@dataclass(frozen=True)
class Reference:
    """A foreign key: `table.column` holds an id of `parent`; `on_delete` says what becomes of
    the row when its parent goes (CASCADE, SET NULL, or "": the parent cannot go)."""

    table: str
    column: str
    parent: str
    on_delete: str

    @property
    def constraint(self) -> str:
        """The name PostgreSQL gives the foreign key (kept in the errors, as it would say)."""
        return f"{self.table}_{self.column}_fkey"

    def missing(self, rows: str) -> str:
        """Check that every id in `rows` (the statement's rows) is a parent's, holding those
        parents until the transaction ends as the foreign key would (FOR KEY SHARE: a parent
        deleted meanwhile is found gone, and its deletion waits for this commit). Each distinct
        id is looked up by the parent's key: a hash join would read the whole parent table for
        a few thousand ids."""
        column, parent = f'"{self.column}"', f'"{self.parent}"'
        return f"""
    SELECT min(n.id) FILTER (WHERE l.id IS NULL) INTO missing
    FROM (SELECT DISTINCT r.{column} AS id FROM {rows} AS r WHERE r.{column} IS NOT NULL) AS n
    LEFT JOIN LATERAL (SELECT p.id FROM {parent} AS p WHERE p.id = n.id FOR KEY SHARE OF p) AS l
        ON true;{self._not_present()}"""

    def missing_in_new(self) -> str:
        """The same check for one updated row (NEW)."""
        column, parent = f'"{self.column}"', f'"{self.parent}"'
        return f"""
    PERFORM FROM {parent} AS p WHERE p.id = NEW.{column} FOR KEY SHARE OF p;
    IF NOT FOUND THEN missing := NEW.{column}; END IF;{self._not_present()}"""

    def on_parent_deleted(self) -> str:
        """What deleting parents (the transition table `gone`) does to this table's rows."""
        table, column = f'"{self.table}"', f'"{self.column}"'
        gone = f"{column} IN (SELECT o.id FROM gone AS o)"
        if self.on_delete == "CASCADE":
            return f"\n    DELETE FROM {table} WHERE {gone};"
        if self.on_delete == "SET NULL":
            return f"\n    UPDATE {table} SET {column} = NULL WHERE {gone};"
        refusal = _refuse_if(
            "held",
            f'update or delete on table "{self.parent}" violates foreign key constraint '
            f'"{self.constraint}" on table "{self.table}"',
            f"'Key (id)=(' || held || ') is still referenced from table \"{self.table}\".'",
        )
        return f"\n    SELECT {column} INTO held FROM {table} WHERE {gone} LIMIT 1;{refusal}"

    def _not_present(self) -> str:
        return _refuse_if(
            "missing",
            f'insert or update on table "{self.table}" violates foreign key constraint '
            f'"{self.constraint}"',
            f"'Key ({self.column})=(' || missing || ') is not present in table \"{self.parent}\".'",
        )


def _refuse_if(variable: str, message: str, detail: str) -> str:
    """Raise a foreign key's error (`detail` an SQL expression) if `variable` is set."""
    return f"""
    IF {variable} IS NOT NULL THEN
        RAISE foreign_key_violation USING MESSAGE = '{message}', DETAIL = {detail};
    END IF;"""


def _references(models) -> list[Reference]:
    return [
        Reference(
            model._meta.table_name,
            field.column_name,
            field.rel_model._meta.table_name,
            (field.on_delete or "").upper(),
        )
        for model in models
        for field in model._meta.sorted_fields
        if isinstance(field, ForeignKeyField)
    ]


def _trigger(db: Database, name: str, table: str, when: str, body: str) -> None:
    """(Re)create the function `name` with `body` and the trigger of that name calling it."""
    db.execute_sql(
        f'CREATE OR REPLACE FUNCTION "{name}"() RETURNS trigger AS $$\n'
        "DECLARE missing bigint; held bigint;\n"
        f"BEGIN{body}\n    RETURN NULL;\nEND;\n$$ LANGUAGE plpgsql"
    )
    db.execute_sql(f'DROP TRIGGER IF EXISTS "{name}" ON "{table}"')
    db.execute_sql(f'CREATE TRIGGER "{name}" {when} EXECUTE FUNCTION "{name}"()')


FEW_PER_STATEMENT = (Campaign._meta.table_name, MemberStatusLabel._meta.table_name)
"""Parents a statement's rows refer to only a few of (their campaign, its labels): an update's
references to them are checked over the statement's rows at once. The others (a person, a
member, a journal entry) are one per row and updated rarely, so they are checked row by row
when they change (checking them all would look up every updated row's)."""


def check_references_per_statement(db: Database) -> None:
    """Put triggers in the place of the foreign keys of `CHECKED_PER_STATEMENT`'s tables.

    PostgreSQL checks a foreign key row by row: a query per row and reference, about 5 µs each,
    which was half of an enrollment's insert and two thirds of an ingest's log write. These
    triggers keep the same rules over each statement's rows at once:
    - rows inserted: every id they refer to is a parent's (each parent held FOR KEY SHARE, as
      the foreign key holds it, so that it cannot go before the rows commit);
    - rows updated: the same for their references to `FEW_PER_STATEMENT`, and row by row for a
      changed reference to anything else;
    - parents deleted: their rows go with them (CASCADE), lose the reference (SET NULL), or the
      deletion is refused. A table's dependents are dealt with before the table itself (members
      before their campaign's labels).
    The errors are the foreign key's own (SQLSTATE 23503, the same message). Ids never change,
    so a parent's id update is not watched."""
    references = _references(CHECKED_PER_STATEMENT)
    for ref in references:
        db.execute_sql(f'ALTER TABLE "{ref.table}" DROP CONSTRAINT IF EXISTS "{ref.constraint}"')
    for model in CHECKED_PER_STATEMENT:
        table = model._meta.table_name
        own = [ref for ref in references if ref.table == table]
        each_statement = f'ON "{table}" REFERENCING NEW TABLE AS written FOR EACH STATEMENT'
        _trigger(
            db,
            f"{table}_references_inserted",
            table,
            f"AFTER INSERT {each_statement}",
            "".join(ref.missing("written") for ref in own),
        )
        few = [ref for ref in own if ref.parent in FEW_PER_STATEMENT]
        if few:
            _trigger(
                db,
                f"{table}_references_updated",
                table,
                f"AFTER UPDATE {each_statement}",
                "".join(ref.missing("written") for ref in few),
            )
        for ref in own:
            if ref in few:
                continue
            column = f'"{ref.column}"'
            _trigger(
                db,
                f"{table}_{ref.column}_updated",
                table,
                f'AFTER UPDATE OF {column} ON "{table}" FOR EACH ROW WHEN '
                f"(NEW.{column} IS NOT NULL AND NEW.{column} IS DISTINCT FROM OLD.{column})",
                ref.missing_in_new(),
            )
    for parent in dict.fromkeys(ref.parent for ref in references):
        dependents = [ref for ref in reversed(references) if ref.parent == parent]
        _trigger(
            db,
            f"{parent}_references_deleted",
            parent,
            f'AFTER DELETE ON "{parent}" REFERENCING OLD TABLE AS gone FOR EACH STATEMENT',
            "".join(ref.on_parent_deleted() for ref in dependents),
        )


def prepare_schema(db: Database, models: list[type[Model]]) -> None:
    """After the models' tables are created on a server: collation, change notifications and
    references checked per statement."""
    if isinstance(db, SqliteDatabase):
        return
    _use_code_point_collation(db, models)
    _install_change_triggers(db, [m._meta.table_name for m in models])
    check_references_per_statement(db)


HIERARCHY_LOCK = 0x43414D48
"""The advisory lock key that serialises changes to campaign parents ("CAMH")."""


def lock_hierarchy(db: Database) -> None:
    """Hold the hierarchy lock until the transaction ends (SQLite's write lock already does):
    a parent is checked against the others and written while no one else moves one."""
    if not isinstance(db, SqliteDatabase):
        db.execute_sql(f"SELECT pg_advisory_xact_lock({HIERARCHY_LOCK})")


def lock_schema(db: Database) -> None:
    """Hold the schema lock until the transaction ends (SQLite's write lock already does)."""
    if not isinstance(db, SqliteDatabase):
        db.execute_sql(f"SELECT pg_advisory_xact_lock({SCHEMA_LOCK})")
