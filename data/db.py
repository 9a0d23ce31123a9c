"""Opening the database: where it lives, how it is tuned, and the errors a user can cause."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import peewee
from peewee import SQL, Database, DatabaseProxy, SqliteDatabase

database = DatabaseProxy()
"""Every model is bound to this proxy; `open_database` points it at a real database."""

ENV_VAR = "CAMPAIGNS_DB"
"""The environment variable naming the database when `--db` is not given."""

BUSY_TIMEOUT_MS = 30_000
"""How long a writer waits for another writer before giving up (WAL allows one writer at a time)."""

SQLITE_PRAGMAS = {
    "journal_mode": "wal",
    "synchronous": "normal",
    "foreign_keys": 1,
    "busy_timeout": BUSY_TIMEOUT_MS,
    "cache_size": -64_000,
    "temp_store": "memory",
}


class DatabaseError(Exception):
    """A database the user pointed us at cannot be used; the message is one readable line."""


def default_database_path() -> Path:
    """The database used when neither `--db` nor CAMPAIGNS_DB says otherwise."""
    from platformdirs import user_data_dir

    return Path(user_data_dir("campaign-members", appauthor=False)) / "campaigns.db"


def resolve_location(db: str | None) -> str:
    """`--db` wins, then CAMPAIGNS_DB, then the default file in the user's data directory."""
    if db:
        return db
    if os.environ.get(ENV_VAR):
        return os.environ[ENV_VAR]
    path = default_database_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    return str(path)


def _is_url(location: str) -> bool:
    return "://" in location


def _sqlite_path(location: str) -> str | None:
    if location.startswith("sqlite:///"):
        return location[len("sqlite:///") :]
    if not _is_url(location):
        return location
    return None


def _check_sqlite_file(path: str) -> None:
    """Turn the usual ways a path can be wrong into one readable line before SQLite sees it."""
    if path == ":memory:":
        return
    file = Path(path)
    if file.is_dir():
        raise DatabaseError(f"{path} is a folder, not a database file")
    if not file.parent.exists():
        raise DatabaseError(f"cannot create {path}: folder {file.parent} does not exist")
    if file.exists():
        if not os.access(file, os.R_OK):
            raise DatabaseError(f"cannot read {path}: permission denied")
        if not os.access(file, os.W_OK):
            raise DatabaseError(f"{path} is read-only; campaigns needs to write to its database")
        with open(file, "rb") as handle:
            header = handle.read(16)
        if header and not header.startswith(b"SQLite format 3\x00"):
            raise DatabaseError(f"{path} is not a campaigns database (not an SQLite file)")
    else:
        if not os.access(file.parent, os.W_OK):
            raise DatabaseError(f"cannot create {path}: folder {file.parent} is read-only")
        # Personal data: the file is readable and writable by its owner only, from the start.
        fd = os.open(file, os.O_CREAT | os.O_WRONLY | os.O_EXCL, 0o600)
        os.close(fd)


def make_database(location: str) -> Database:
    """A Peewee database for a path or URL, tuned for several processes writing at once."""
    path = _sqlite_path(location)
    if path is not None:
        _check_sqlite_file(path)
        # IMMEDIATE: a write transaction takes the write lock when it begins, so two writers
        # queue on the busy timeout instead of failing with "database is locked" on upgrade.
        return SqliteDatabase(
            path,
            pragmas=SQLITE_PRAGMAS,
            timeout=BUSY_TIMEOUT_MS / 1000,
            lock_type="IMMEDIATE",
        )
    try:
        from playhouse.db_url import connect as connect_url  # only for URLs: keeps start-up light

        return connect_url(location)
    except Exception as exc:  # unknown scheme, missing driver
        raise DatabaseError(f"cannot use database {location}: {exc}") from None


def open_database(location: str | None = None, *, migrate: bool = True) -> Database:
    """Point the models at the database and bring its schema up to date."""
    from data.migrations import upgrade

    resolved = resolve_location(location)
    db = make_database(resolved)
    database.initialize(db)
    try:
        db.connect(reuse_if_open=True)
        if migrate:
            upgrade(db)
    except (peewee.DatabaseError, sqlite3.DatabaseError) as exc:
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        if "file is not a database" in message or "malformed" in message:
            message = "not a campaigns database (not an SQLite file)"
        raise DatabaseError(f"cannot open {resolved}: {message}") from None
    return db


def is_sqlite(db: Database | None = None) -> bool:
    target = db if db is not None else database.obj
    return isinstance(target, SqliteDatabase)


def data_version() -> int:
    """A number that changes whenever another connection commits (cheap: no table is read)."""
    if not is_sqlite():
        return 0
    return database.execute_sql("PRAGMA data_version").fetchone()[0]


def insert_rows(model, fields, rows, conflict=None) -> None:
    """Insert many rows with one prepared statement run over all of them (executemany).

    Peewee writes the statement (so it stays portable); building it once instead of once per
    row is what makes bulk writes fast. `conflict` adds an ON CONFLICT clause to the query."""
    if not rows:
        return
    query = model.insert_many([rows[0]], fields=fields)
    if conflict is not None:
        query = conflict(query)
    sql, params = query.sql()
    constants = params[len(fields) :]  # parameters of the ON CONFLICT clause, the same every row
    # Only decimals need converting; the driver takes the other Python values as they are.
    decimals = [i for i, field in enumerate(fields) if isinstance(field, peewee.DecimalField)]
    if decimals or constants:
        rows = [list(row) for row in rows]
        for row in rows:
            for i in decimals:
                row[i] = fields[i].db_value(row[i])
            row.extend(constants)
    database.cursor().executemany(sql, rows)


def in_list(field, values):
    """`field IN (…)` for a long list of plain values, with one placeholder each but without
    Peewee's per-value processing (which dominates for thousands of ids)."""
    values = list(values)
    if not values:
        return field.in_([])
    placeholders = ", ".join([database.param] * len(values))
    return field.in_(SQL(f"({placeholders})", values))


def rows_where_in(query, field, values) -> list[tuple]:
    """Run `query` narrowed to `field IN values`, returning plain tuples.

    For hot paths: the values go straight to the driver, skipping Peewee's per-value and
    per-row processing. The IN condition is added last, so its parameters come last."""
    values = list(values)
    if not values:
        return []
    placeholders = SQL("(" + ", ".join([database.param] * len(values)) + ")")
    sql, params = query.where(field.in_(placeholders)).sql()
    return database.execute_sql(sql, [*params, *values]).fetchall()
