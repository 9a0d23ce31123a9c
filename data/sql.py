"""The database every model is bound to, and the SQL helpers bulk work runs through.

A leaf below the models: `data.db` opens a real database and points `database` at it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext

import peewee
from peewee import SQL, Database, DatabaseProxy, NodeList, SqliteDatabase

database = DatabaseProxy()
"""Every model is bound to this proxy; `data.db.open_database` points it at a real database."""


def is_sqlite(db: Database | None = None) -> bool:
    target = db if db is not None else database.obj
    return isinstance(target, SqliteDatabase)


def transaction() -> AbstractContextManager:
    """One transaction for the work inside: a new one, or the caller's when one is open.

    Not a savepoint, as a nested `atomic()` would be: inside a savepoint SQLite keeps a
    statement journal for every statement that could fail half-way, which made each member
    update checked by a foreign key about 50 times slower (ingest at 750 events/s instead of
    5,000). Whoever opened the transaction rolls it all back if the work fails."""
    return nullcontext() if database.in_transaction() else database.atomic()


def one_of(column: str, values) -> str:
    """`column IN (values)` for a condition SQLite checks row by row (a CHECK, a partial
    index's WHERE), written as equalities joined by OR, in parentheses (so that it can be
    ANDed as it is).

    SQLite answers `IN` over three or more constants from a small table it builds each time a
    statement runs, and `executemany` runs its statement once per row: about 3 µs a row for
    each such condition a written row meets (an ingest's member updates and log inserts met
    four). The equalities cost nothing like that; PostgreSQL treats both forms alike."""
    return "(" + " OR ".join(f"{column} = {quoted(value)}" for value in values) + ")"


def quoted(value: str) -> str:
    """A string as an SQL literal."""
    return "'" + str(value).replace("'", "''") + "'"


def data_version() -> int:
    """A number that changes whenever another connection commits (cheap: no table is read)."""
    if not is_sqlite():
        return 0
    return database.execute_sql("PRAGMA data_version").fetchone()[0]


@contextmanager
def fewer_checkpoints() -> Iterator[None]:
    """For a long run of large write transactions (a file's ingest), on SQLite: the write-ahead
    log is copied back into the database when it holds `BULK_CHECKPOINT_PAGES`, not after every
    commit that leaves 1,000. A page the run changes again and again (an index's, a busy
    table's) is then copied back once per that many pages instead of once per commit, which
    halves what such a run writes. On leaving, the log is copied back and commits copy it after
    1,000 pages again. Elsewhere it does nothing."""
    if not is_sqlite():
        yield
        return
    database.execute_sql(f"PRAGMA wal_autocheckpoint = {BULK_CHECKPOINT_PAGES}")
    try:
        yield
    finally:
        database.execute_sql(f"PRAGMA wal_autocheckpoint = {AUTOCHECKPOINT_PAGES}")
        database.execute_sql("PRAGMA wal_checkpoint(PASSIVE)")


AUTOCHECKPOINT_PAGES = 1000
"""SQLite's own default: a commit that leaves this many pages in the log copies them back."""

BULK_CHECKPOINT_PAGES = 65_536
"""The log's size (in pages, 256 MiB of 4 KiB pages) at which a bulk run copies it back."""


@contextmanager
def references_read_inside() -> Iterator[None]:
    """For a write transaction that only writes references it read inside itself (an ingest
    batch: the campaign, member and label ids it looked up after taking the write lock), on
    SQLite: its foreign keys are not checked row by row, which would only prove each id again
    (about a fifth of such a batch's time). Must be entered outside any transaction, as SQLite
    ignores the switch inside one. Other databases check as always."""
    if not is_sqlite() or database.in_transaction():
        yield
        return
    database.execute_sql("PRAGMA foreign_keys = OFF")
    try:
        yield
    finally:
        database.execute_sql("PRAGMA foreign_keys = ON")


def insert_rows(model, fields, rows, conflict=None) -> None:
    """Insert many rows with one prepared statement run over all of them (executemany).

    Peewee writes the statement from the first row (so it stays portable); building it once
    instead of once per row is what makes bulk writes fast. `conflict` adds an ON CONFLICT
    clause to the query (`lambda q: q.on_conflict(...)`).

    The statement's parameters are, in order: the row's values for `fields`; the defaults
    Peewee fills in for the model's unlisted columns that have one; the parameters of the ON
    CONFLICT clause. Only the first group comes from each row. The other two are taken from
    the first row's statement and appended to every row, so an unlisted column's default is
    computed once per call (a clock default gives every row of the batch the same time)."""
    if not rows:
        return
    plain = model.insert_many([rows[0]], fields=fields)
    columns = len(plain.sql()[1])  # the listed fields, then the unlisted columns' defaults
    sql, params = (conflict(plain) if conflict is not None else plain).sql()
    defaults = params[len(fields) : columns]
    conflict_params = params[columns:]
    # Only decimals need converting; the driver takes the other Python values as they are.
    decimals = [i for i, field in enumerate(fields) if isinstance(field, peewee.DecimalField)]
    if decimals or defaults or conflict_params:
        rows = [list(row) for row in rows]
        for row in rows:
            for i in decimals:
                row[i] = fields[i].db_value(row[i])
            row.extend(defaults)
            row.extend(conflict_params)
    database.cursor().executemany(sql, rows)


def chunked(values, size: int):
    """Successive slices of at most `size` values. (Peewee's `chunked` pads every chunk to
    `size` before trimming it, which costs a millisecond per call for a chunk size of thousands:
    too much for the small batches a webhook receiver commits.)"""
    values = values if isinstance(values, list) else list(values)
    for start in range(0, len(values), size):
        yield values[start : start + size]


PG_TYPES = {
    "AUTO": "integer",
    "INT": "integer",
    "BIGAUTO": "bigint",
    "BIGINT": "bigint",
    "SMALLINT": "smallint",
    "BOOL": "boolean",
    "DATETIME": "timestamp",
    "VARCHAR": "text",
    "CHAR": "text",
    "TEXT": "text",
}
"""What PostgreSQL calls each kind of column (Peewee's `field_type`), for a parameter that has
no type of its own (an array, a VALUES list)."""


def pg_type(field) -> str:
    return PG_TYPES[field.field_type]


ARRAY_PARAM = "%b"
"""The placeholder of an array parameter on PostgreSQL: psycopg 3's binary one (written in
binary, a list of 20,000 values costs the driver a third to a tenth of its text form)."""


def pg_array(values, field) -> SQL:
    """A list of values as ONE PostgreSQL array parameter of `field`'s type.

    On PostgreSQL a list goes to the server as one array, not one placeholder per value: the
    driver scans a query's text for placeholders on every run (a statement this long is not
    cached), and for the thousands of a batch's IN and VALUES lists that scan took a quarter
    of an ingest. The query's text stays the same whatever the count, so the server prepares it
    once."""
    return SQL(f"{ARRAY_PARAM}::{pg_type(field)}[]", [list(values)])


def in_list(field, values):
    """`field IN (…)` for a long list of plain values, without Peewee's per-value processing
    (which dominates for thousands of ids): on SQLite one placeholder each, on PostgreSQL
    `field = ANY(array)` (`pg_array`)."""
    values = list(values)
    if not values:
        return field.in_([])
    if not is_sqlite():
        return NodeList((field, SQL(" = ANY("), pg_array(values, field), SQL(")")), glue="")
    return field.in_(_Placeholders(values))


class _Placeholders(peewee.Node):
    """`(?, ?, …)` whose values go to the driver as they are, added to the statement's
    parameters at once. (Peewee's `SQL` node sends each one through `Context.value`, about
    5 µs a value; this uses the context's parameter list directly, as pinned Peewee keeps it.)"""

    def __init__(self, values: list) -> None:
        self.values = values

    def __sql__(self, ctx):
        ctx.literal("(" + ", ".join([ctx.state.param or "?"] * len(self.values)) + ")")
        ctx._values.extend(self.values)
        return ctx


def rows_where_in(query, field, values) -> list[tuple]:
    """Run `query` narrowed to `field IN values`, returning plain tuples.

    For hot paths: the values go straight to the driver (`in_list`), and the rows come back
    without Peewee's per-row processing."""
    values = list(values)
    if not values:
        return []
    sql, params = query.where(in_list(field, values)).sql()
    return database.execute_sql(sql, params).fetchall()


def day_of(column) -> peewee.ColumnBase:
    """SQL: the calendar day a timestamp falls on (a date, or its ISO text on SQLite)."""
    if is_sqlite():
        return peewee.fn.DATE(column)
    return peewee.fn.DATE_TRUNC("day", column).cast("date")


def week_of(column) -> peewee.ColumnBase:
    """SQL: the Monday of the ISO week a timestamp falls in (a date, or its ISO text on SQLite)."""
    if is_sqlite():
        return peewee.fn.DATE(column, "-6 days", "weekday 1")
    return peewee.fn.DATE_TRUNC("week", column).cast("date")
