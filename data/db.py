"""Opening the database: where it lives, how it is tuned, checking it is ours, migrating it, and
waiting for another writer. The one module that opens a database; `data.sql` holds the proxy
the models are bound to and the bulk SQL helpers (re-exported here for existing callers)."""

from __future__ import annotations

import errno
import os
import sqlite3
import stat
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import unquote_plus, urlsplit, urlunsplit

import peewee
from peewee import Database, SqliteDatabase

from data import use_server_driver
from data.errors import DatabaseError
from data.files import PRIVATE_MODE
from data.folding import sql_fold
from data.migrations import refusal, upgrade
from data.sql import data_version, database, in_list, insert_rows, is_sqlite, rows_where_in

__all__ = [
    "DatabaseError",
    "data_version",
    "database",
    "default_database_path",
    "in_list",
    "insert_rows",
    "is_sqlite",
    "make_database",
    "open_database",
    "refuse_database_file",
    "resolve_location",
    "rows_where_in",
    "safe_location",
]

ENV_VAR = "CAMPAIGNS_DB"
"""The environment variable naming the database when `--db` is not given."""

WAIT_ENV_VAR = "CAMPAIGNS_WAIT_NOTICE"
"""The environment variable that changes `WAIT_NOTICE_SECONDS` (a number of seconds)."""

WAIT_NOTICE_SECONDS = 5.0
"""How long a writer waits for another writer before it says that it is waiting. It then goes
on waiting for as long as the other writer needs: being second is never an error."""

SQLITE_PRAGMAS = {
    "synchronous": "normal",
    "foreign_keys": 1,
    "cache_size": -64_000,  # KiB: bulk writes from the command line keep their pages at hand
    "temp_store": "memory",
}
"""Set on every connection. WAL mode is not among them: it changes the file, so `open_database`
switches it once, after checking the file is ours."""

POSTGRES_HINT = "PostgreSQL needs its driver: pip install 'campaign-members[postgres]'"

Waiting = Callable[[str], None]
"""Told once, with a readable line, when a writer has waited `WAIT_NOTICE_SECONDS` for another."""


def default_database_path() -> Path:
    """The database used when neither `--db` nor CAMPAIGNS_DB says otherwise."""
    from platformdirs import user_data_dir

    return Path(user_data_dir("campaign-members", appauthor=False)) / "campaigns.db"


def resolve_location(db: str | None) -> str:
    """`--db` wins, then CAMPAIGNS_DB, then the default file in the user's data directory. An
    empty `--db` is an error rather than a quiet fall back to the default database."""
    if db is not None:
        if not db.strip():
            raise DatabaseError("--db needs a file path or a database URL, not an empty string")
        return db
    if os.environ.get(ENV_VAR):
        return os.environ[ENV_VAR]
    path = default_database_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    return str(path)


def _is_url(location: str) -> bool:
    return "://" in location


def safe_location(location: str) -> str:
    """A location fit to print: a URL's password is replaced by ***, wherever it is (after the
    user name, or as `password=` in the query string, as libpq also reads it)."""
    if not _is_url(location):
        return location
    try:
        parts = urlsplit(location)
        netloc = parts.netloc
        if parts.password is not None:
            host = parts.hostname or ""
            if parts.port is not None:
                host += f":{parts.port}"
            netloc = f"{parts.username or ''}:***@{host}"
        query = "&".join(
            f"{item.split('=', 1)[0]}=***"
            if unquote_plus(item.split("=", 1)[0]).strip().lower() == "password"
            else item
            for item in parts.query.split("&")
        )
        return urlunsplit(parts._replace(netloc=netloc, query=query))
    except ValueError:  # a URL too broken to take apart: print only its scheme
        return location.split("://", 1)[0] + "://…"


def _sqlite_path(location: str) -> str | None:
    """The file a location names, or None for a non-SQLite URL.

    `sqlite://` followed by the path: `sqlite://rel.db` is relative to the current folder,
    `sqlite:///abs/path.db` absolute."""
    if location.startswith("sqlite://"):
        path = location[len("sqlite://") :]
        if not path:
            raise DatabaseError("sqlite:// needs a file after it, as in sqlite:///path/to.db")
        return path
    if not _is_url(location):
        return location
    return None


SIDE_FILES = ("-wal", "-shm", "-journal")
"""The files SQLite keeps beside a database file while it is in use."""


def _check_sqlite_file(path: str) -> None:
    """Turn the usual ways a path can be wrong into one readable line before SQLite sees it.

    The file itself is never opened here: on POSIX, closing any descriptor of a file drops every
    lock this process holds on it, so a connection of this process (the app's, a worker's)
    would lose its locks and another process could delete the log under it. What the file
    holds is SQLite's to judge (`refusal`, "file is not a database"); here only the path, by
    its metadata, and a new file is created (never an existing one opened)."""
    if path == ":memory:" or path.startswith("file:"):
        raise DatabaseError(
            f"{path} is not a file path: give the database's file (an in-memory database "
            "would lose every change when the program ends, and SQLite URI names are not taken)"
        )
    file = Path(path)
    try:
        info = file.stat()
    except FileNotFoundError:
        info = None
    except OSError as exc:
        raise DatabaseError(f"cannot use {path}: {exc.strerror or exc}") from None
    if info is not None and stat.S_ISDIR(info.st_mode):
        raise DatabaseError(f"{path} is a folder, not a database file")
    if info is not None and not stat.S_ISREG(info.st_mode):
        raise DatabaseError(
            f"{path} is not a regular file (a pipe or a device cannot be a database)"
        )
    if not file.parent.exists():
        raise DatabaseError(f"cannot create {path}: folder {file.parent} does not exist")
    if info is None or info.st_size == 0:
        # SQLite writes a file's header before its log exists: a log beside a new or empty
        # file is another database's (or left over), and SQLite would take it as this one's.
        if os.path.lexists(path + "-wal"):
            raise DatabaseError(
                f"{path}-wal is left over beside a database that is new or empty; "
                "it belongs to another database: move it away first"
            )
    if info is not None:
        if not os.access(file, os.R_OK):
            raise DatabaseError(f"cannot read {path}: permission denied")
        if not os.access(file, os.W_OK):
            raise DatabaseError(f"{path} is read-only; campaigns needs to write to its database")
        if info.st_size == 0 and info.st_mode & 0o077 and info.st_uid == os.geteuid():
            os.chmod(file, PRIVATE_MODE)  # an empty file made beforehand gets a new file's mode
        return
    if not os.access(file.parent, os.W_OK):
        raise DatabaseError(f"cannot create {path}: folder {file.parent} is read-only")
    # Personal data: the file is readable and writable by its owner only, from the start.
    # O_EXCL: only a file this call creates is opened (and closed), never one in use; another
    # process creating it at the same moment is not an error.
    try:
        os.close(os.open(file, os.O_CREAT | os.O_EXCL | os.O_WRONLY, PRIVATE_MODE))
    except FileExistsError:
        pass


class DatabaseFileRefused(OSError):
    """A file to read or write by hand is the database in use or one of its side files. An
    OSError, so every place that reports a file it cannot open reports this one alike."""


def refuse_database_file(path: str | os.PathLike) -> None:
    """Refuse to read or write `path` by hand when it is the open database or one of its side
    files: closing a descriptor of it would drop this process's SQLite locks (and writing
    would destroy it)."""
    db = database.obj
    if not isinstance(db, SqliteDatabase):
        return
    try:
        target = os.path.realpath(path)
    except (OSError, ValueError):  # a name no file can have (a NUL byte): opening it says so
        return
    own = os.path.realpath(db.database)
    if target in {own, *(own + side for side in SIDE_FILES)} or _same_file(target, own):
        raise DatabaseFileRefused(
            errno.EBUSY,
            "it is the database in use (or its log); choose another file",
            os.fspath(path),
        )


def _same_file(a: str, b: str) -> bool:
    """Both paths name one file (a hard link), judged by metadata alone."""
    try:
        return os.path.samefile(a, b)
    except (OSError, ValueError):
        return False


def _is_busy(exc: Exception) -> bool:
    """Another connection holds the lock this statement needs (SQLITE_BUSY)."""
    cause = exc.__cause__ if isinstance(exc, peewee.PeeweeException) else exc
    code = getattr(cause, "sqlite_errorcode", None)
    if code is not None:
        return code & 0xFF == sqlite3.SQLITE_BUSY
    return "database is locked" in str(exc)


def wait_notice_seconds() -> float:
    """`WAIT_NOTICE_SECONDS`, or the number of seconds in $CAMPAIGNS_WAIT_NOTICE."""
    text = os.environ.get(WAIT_ENV_VAR, "")
    try:
        seconds = float(text) if text else WAIT_NOTICE_SECONDS
    except ValueError:
        raise DatabaseError(f"{WAIT_ENV_VAR} takes a number of seconds, not {text!r}") from None
    if not 0 < seconds < 86_400:
        raise DatabaseError(f"{WAIT_ENV_VAR} takes a number of seconds above 0")
    return seconds


class CampaignsSqlite(SqliteDatabase):
    """SQLite as this product uses it: writers queue for as long as it takes, and a failed
    statement's own error is the one reported.

    Every write transaction is IMMEDIATE: it takes the write lock when it begins, so a second
    writer waits at BEGIN (where retrying is safe) instead of failing half-way. SQLite's busy
    timeout is one round of waiting; after the first round the writer says so once, through
    `on_wait`, and keeps waiting."""

    def __init__(self, path: str, *, wait: float, on_wait: Waiting | None = None, **kwargs):
        super().__init__(path, timeout=wait, lock_type="IMMEDIATE", **kwargs)
        # the filter's case folding (`data.folding`): used in queries only, never in the schema
        self.register_function(sql_fold, "fold", 1, deterministic=True)
        self.on_wait = on_wait
        self._told = False

    def _patiently(self, action: Callable[[], object]):
        while True:
            try:
                return action()
            except (peewee.OperationalError, sqlite3.OperationalError) as exc:
                if not _is_busy(exc):
                    raise
            if not self._told:
                self._told = True
                if self.on_wait is not None:
                    self.on_wait(
                        f"waiting for another program to finish writing to {self.database} "
                        "(it will go on as soon as it may)"
                    )
            time.sleep(0.05)  # SQLite gives up at once on some locks; do not spin

    def begin(self, lock_type=None):
        self._patiently(lambda: super(CampaignsSqlite, self).begin(lock_type))

    def execute_sql(self, sql, params=None):
        if self._in_transaction():  # inside a transaction the lock is held: nothing to wait for
            return super().execute_sql(sql, params)
        # A statement on its own is its own transaction: if it was refused, it did nothing.
        return self._patiently(lambda: super(CampaignsSqlite, self).execute_sql(sql, params))

    def _in_transaction(self) -> bool:
        return self.transaction_depth() > 0 or (
            not self.is_closed() and self.connection().in_transaction
        )

    def rollback(self):
        # SQLite rolls a transaction back itself on some errors (disk full, out of memory);
        # rolling back again would raise "no transaction is active" and hide the real error.
        if self.is_closed() or self.connection().in_transaction:
            super().rollback()


def make_database(
    location: str, on_wait: Waiting | None = None, cache_kib: int | None = None
) -> Database:
    """A Peewee database for a path or URL, tuned for several processes writing at once.
    `cache_kib`: each SQLite connection's page cache, instead of `SQLITE_PRAGMAS`' own."""
    path = _sqlite_path(location)
    if path is not None:
        _check_sqlite_file(path)
        pragmas = dict(SQLITE_PRAGMAS)
        if cache_kib is not None:
            pragmas["cache_size"] = -cache_kib
        return CampaignsSqlite(path, pragmas=pragmas, wait=wait_notice_seconds(), on_wait=on_wait)
    scheme = location.split("://", 1)[0].lower()
    try:
        from playhouse.db_url import connect as connect_url  # only for URLs: keeps start-up light

        use_server_driver()
        if scheme.startswith("postgres") and "options=" not in location:
            # No JIT compilation: it costs about a second on each large statement (a rollup, an
            # enrollment) and never pays that back in this kind of work.
            return connect_url(location, options="-c jit=off")
        return connect_url(location)
    except RuntimeError:  # db_url's way of saying it does not know the scheme
        raise DatabaseError(
            f"cannot use database {safe_location(location)}: unknown kind of database "
            f"{scheme!r}; give a file path, sqlite://PATH or postgresql://…"
        ) from None
    except Exception as exc:
        raise DatabaseError(f"cannot use database {safe_location(location)}: {exc}") from None


def _switch_to_wal(db: CampaignsSqlite) -> None:
    """WAL mode lets readers go on while one process writes. Switching needs the file to
    itself for a moment, and SQLite refuses at once (without a busy wait) when another process
    opening it is in the way: wait that out like any other writer."""
    db._patiently(lambda: db.connection().execute("PRAGMA journal_mode = wal").fetchone())


def open_database(
    location: str | None = None,
    *,
    migrate: bool = True,
    on_wait: Waiting | None = None,
    cache_kib: int | None = None,
) -> Database:
    """Point the models at the database, check it is ours and bring its schema up to date.

    Nothing in a database that is not ours (another program's tables, or a newer schema) is
    changed: it is refused first. `on_wait` is told once if a write has to wait long for
    another writer (the command line prints it on stderr)."""
    resolved = resolve_location(location)
    shown = safe_location(resolved)
    db = make_database(resolved, on_wait, cache_kib)
    database.initialize(db)
    try:
        db.connect(reuse_if_open=True)
        problem = refusal(db)
        if problem:
            db.close()
            raise DatabaseError(f"cannot open {shown}: {problem}")
        if isinstance(db, CampaignsSqlite):
            _switch_to_wal(db)
        if migrate:
            upgrade(db)
    except peewee.ImproperlyConfigured as exc:
        if "postgres" in str(exc).lower():
            raise DatabaseError(f"cannot open {shown}: {POSTGRES_HINT}") from None
        raise DatabaseError(f"cannot open {shown}: {exc}") from None
    except DatabaseError as exc:
        if str(exc).startswith("cannot open"):
            raise
        raise DatabaseError(f"cannot open {shown}: {exc}") from None
    except (peewee.DatabaseError, sqlite3.DatabaseError) as exc:
        raise DatabaseError(f"cannot open {shown}: {describe(exc)}") from None
    return db


def describe(exc: BaseException) -> str:
    """A database driver's error as one line a user can act on."""
    message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    if "file is not a database" in message:
        return "not a campaigns database (not an SQLite file)"
    if "malformed" in message:
        return "the database file is damaged (database disk image is malformed)"
    if "disk is full" in message:
        return "the disk is full (database or disk is full)"
    if message.startswith("permission denied for") or "read-only transaction" in message:
        return f"this connection is read-only: it may read but not write ({message})"
    if "cannot contain NUL" in message:
        return f"text with a NUL character cannot be stored ({message})"
    if message.startswith("value too long for type"):
        return f"a value is longer than its column allows ({message})"
    return message
