"""The index a filter's bare word is found by: which people's name, email or company may contain it.

A bare word matches a person whose name, email or company contains it (`data.matching`): a LIKE
no ordinary index can answer, so every list read every person to find a rare word. A trigram
index answers it: the people whose text holds each three-letter piece of the word. It is only
a narrowing: the LIKE stays the rule, checked on the few rows the index names (so a word finds
exactly what it found without the index).

- SQLite: an FTS5 table per person table with the `trigram` tokenizer (case folded), reading
  its text from that table (external content, no second copy) and kept by triggers on every
  insert, update and delete, however the rows are written (imports, edits, conversion).
- PostgreSQL: the `pg_trgm` extension's GIN index over the same columns. Creating the extension
  needs the right to create one in the database (PostgreSQL 13 on: the owner of the database;
  the package: postgresql-contrib, installed with Debian's server). Without it the app works,
  reading every person for a bare word as before; the README says what the DBA runs.

Accounts are few beside people (a contact's company is its account's name): they are read
whole.
"""

from __future__ import annotations

from peewee import OP, SQL, Database, Expression, NodeList, Select, SqliteDatabase

from data.folding import containing
from data.sql import database, is_sqlite

WORD_COLUMNS = {
    "lead": ("first_name", "last_name", "email", "company"),
    "contact": ("first_name", "last_name", "email"),
}
"""The person tables and the columns of each a bare word is looked for in (besides a contact's
account's name)."""

TRIGRAM = 3
"""The shortest word the index can narrow: shorter ones read every person."""

PROBE = 5_000
"""A word whose index names fewer people than this is rare: a member list in id order starts
from those people (and sorts their members); otherwise it walks its own order, where matches of
a common word come soon."""

SORTED_PROBE = 50_000
"""The same for a list in name order (People, the picker): a name gathers its matches in one
stretch of that order, which a walk may take long to reach; sorting this many is quick."""

PG_EXTENSION = "CREATE EXTENSION IF NOT EXISTS pg_trgm"


def _words_table(table: str) -> str:
    return f"{table}_words"


def _sqlite_statements(table: str) -> list[str]:
    columns = WORD_COLUMNS[table]
    words = _words_table(table)
    listed = ", ".join(columns)
    new = ", ".join(f"new.{c}" for c in columns)
    old = ", ".join(f"old.{c}" for c in columns)
    forget = f"INSERT INTO {words}({words}, rowid, {listed}) VALUES ('delete', old.id, {old});"
    learn = f"INSERT INTO {words}(rowid, {listed}) VALUES (new.id, {new});"
    return [
        # detail=none: no positions (a third of the size); a word is looked for as all of its
        # trigrams, and the LIKE decides
        f"CREATE VIRTUAL TABLE IF NOT EXISTS {words} USING fts5({listed}, content='{table}', "
        "content_rowid='id', tokenize='trigram case_sensitive 0', detail=none)",
        f"CREATE TRIGGER IF NOT EXISTS {words}_insert AFTER INSERT ON {table} BEGIN {learn} END",
        f"CREATE TRIGGER IF NOT EXISTS {words}_delete AFTER DELETE ON {table} BEGIN {forget} END",
        f"CREATE TRIGGER IF NOT EXISTS {words}_update AFTER UPDATE OF {listed} ON {table} "
        f"BEGIN {forget} {learn} END",
        f"INSERT INTO {words}({words}) VALUES ('rebuild')",
    ]


def _postgres_index(table: str) -> str:
    columns = ", ".join(f"{c} gin_trgm_ops" for c in WORD_COLUMNS[table])
    return f"CREATE INDEX IF NOT EXISTS {_words_table(table)} ON {table} USING gin ({columns})"


POSTGRES_INDEXES = (
    *(_postgres_index(table) for table in WORD_COLUMNS),
    "CREATE INDEX IF NOT EXISTS account_words ON account USING gin (name gin_trgm_ops)",
)
"""The server's trigram indexes (the README gives them to a DBA, after the extension)."""


def install_word_index(db: Database) -> bool:
    """Create the index (and, on SQLite, fill it from the rows there are); whether it exists
    now. On a server without the `pg_trgm` extension, or without the right to create it,
    nothing is made and bare words read every person."""
    if isinstance(db, SqliteDatabase):
        for table in WORD_COLUMNS:
            for statement in _sqlite_statements(table):
                db.execute_sql(statement)
        return True
    try:
        with db.atomic():  # a savepoint: a refusal leaves the upgrade's transaction usable
            db.execute_sql(PG_EXTENSION)
    except Exception:  # not installed, or not ours to create: the lists work without it
        return False
    for statement in POSTGRES_INDEXES:
        db.execute_sql(statement)
    return True


def indexable(word: str) -> bool:
    """Whether the index can narrow this word (long enough; a quoted word with a space in it
    may span a first and a last name, which the index holds apart)."""
    return len(word) >= TRIGRAM and not any(ch.isspace() for ch in word)


def _match(word: str) -> str:
    """The FTS5 query for a word: every trigram of it (each quoted, as FTS5 reads strings)."""
    pieces = {word[i : i + TRIGRAM] for i in range(len(word) - TRIGRAM + 1)}
    return " AND ".join('"' + piece.replace('"', '""') + '"' for piece in sorted(pieces))


_SERVER_INDEXES: dict[tuple[str, str], bool] = {}
"""Whether each server database has each table's index, once asked (it is made with the
schema, or by a DBA: the app sees a DBA's index when next started)."""


def _has_postgres_index(table: str) -> bool:
    key = (str(database.obj.database), table)
    if key not in _SERVER_INDEXES:
        found = database.execute_sql(
            "SELECT 1 FROM pg_class WHERE relname = %s AND relkind = 'i' "
            "AND relnamespace = current_schema()::regnamespace",
            (_words_table(table),),
        ).fetchone()
        _SERVER_INDEXES[key] = found is not None
    return _SERVER_INDEXES[key]


def narrows_exactly() -> bool:
    """Whether `narrowing` names exactly the people whose text contains the word. On a server
    it is the same LIKE, column by column (a word the index narrows has no space, so it lies
    within the first or the last name), which the trigram index answers and rechecks; SQLite's
    FTS5 query is every trigram of the word, somewhere in the row, so the LIKE must decide."""
    return not is_sqlite()


def has_word_index() -> bool:
    """Whether the open database has the index (a server may lack the extension)."""
    return is_sqlite() or all(_has_postgres_index(table) for table in WORD_COLUMNS)


def _found(model, word: str, limit: int | None = None):
    """The people of `model` the index names for the word, as a subquery of their ids (an FTS5
    query, or a select the trigram index answers), reading no more than `limit` of them; None
    when the index cannot narrow the word."""
    table = model._meta.table_name
    if not indexable(word):
        return None
    if is_sqlite():
        words = _words_table(table)
        most = f" LIMIT {int(limit)}" if limit is not None else ""
        return SQL(f"(SELECT rowid FROM {words} WHERE {words} MATCH ?{most})", [_match(word)])
    if not _has_postgres_index(table):
        return None
    person = model.alias("worded")
    test = None
    for column in WORD_COLUMNS[table]:
        hit = containing(getattr(person, column), word)
        test = hit if test is None else (test | hit)
    found = person.select(person.id).where(test)
    return found if limit is None else found.limit(limit)


def narrowing(model, word: str, person_id, *, walked: bool = False):
    """SQL: the person `person_id` (an id of `model`, Lead or Contact) may contain the word in
    their name, email or company: true of every one who does, and of perhaps a few who do not
    (the caller keeps its LIKE). None when the index cannot narrow the word.

    `walked`: the list walks its own order and checks each row (the word is common), so the
    database must not start from the people named (on SQLite a unary plus says so)."""
    from data.models import Account, Contact

    found = _found(model, word)
    if found is None:
        return None
    if walked and is_sqlite():
        person_id = NodeList((SQL("+"), person_id), glue="")
    condition = Expression(person_id, OP.IN, found)
    if model is Contact:  # a contact's company is its account's name
        accounts = Account.select(Account.id).where(containing(Account.name, word))
        with_account = Contact.select(Contact.id).where(Contact.account.in_(accounts))
        condition = condition | Expression(person_id, OP.IN, with_account)
    return condition


def is_rare(model, word: str, fewer_than: int | None = None) -> bool:
    """Whether the index names fewer than `fewer_than` (`PROBE`) people for the word (reading
    no more)."""
    fewer_than = PROBE if fewer_than is None else fewer_than
    found = _found(model, word, limit=fewer_than)
    if found is None:
        return False
    if isinstance(found, Select):
        return found.count() < fewer_than
    probe = NodeList((SQL("SELECT count(*) FROM"), found, SQL("AS named")))
    sql, params = database.get_sql_context().sql(probe).query()
    return database.execute_sql(sql, params).fetchone()[0] < fewer_than
