"""Case folding: the one rule by which "case does not matter" in a filter, the same in Python and
in both databases.

The rule (`fold`) is Unicode's simple lower-casing, one character at a time: `ÉIRE` and `Éire`
fold alike, as do `MÜLLER` and `Müller`. In Python it is `data.filters.fold`; on a server it is
`lower()` under the `C.utf8` collation (the C library's Unicode lower-casing, the same rule
character for character, checked by the tests over every cased character). The app's columns
compare by code point (collation "C", `data.postgres`), under which `lower()` and `ILIKE` fold
ASCII letters only: a filter names `C.utf8` for its folding, and each list field's LOWER index
is made under it (`install_folded_indexes`). A server without that collation folds ASCII only.

SQLite's own `LOWER` and `LIKE` fold ASCII letters only. Rather than keep a second, folded copy
of each column (which every writer — imports, ingest, edits, conversion, another tool — would
have to keep), a SQLite connection the app opens carries `fold` as a deterministic SQL function
(`data.db`), and a filter uses it only in its WHERE: no index, trigger or generated column
depends on it, so the file stays usable by any SQLite tool. The `LOWER` index still finds the
rows: a value's few spellings under SQLite's `LOWER` (`_spellings`: `éire`, `Éire`) are looked up
in it, and `fold` decides among the rows found.
"""

from __future__ import annotations

import itertools
from functools import cache

from peewee import SQL, Database, NodeList, SqliteDatabase, Value, fn

from data.filters import fold, folded_table
from data.sql import database, is_sqlite

SERVER_COLLATIONS = ("C.utf8", "C.UTF-8")
"""The names a server gives the C library's Unicode collation (folding, not sorting, is used)."""

FOLDED_COLUMNS = {"lead": ("country", "industry"), "contact": ("country", "industry")}
"""The list fields found from an index on their folded value (`models.FILTER_INDEXES`)."""


def sql_fold(text):
    """`fold` as SQLite's `fold()` (`data.db`): NULL, and anything not text, as it is."""
    return fold(text) if isinstance(text, str) else text


@cache
def _preimages() -> dict[str, frozenset[str]]:
    """Folded character -> every character that folds to it (itself included)."""
    found: dict[str, set[str]] = {}
    for code, folded in folded_table().items():
        found.setdefault(str(folded), {str(folded)}).add(chr(code))
    return {key: frozenset(value) for key, value in found.items()}


MOST_SPELLINGS = 64
"""A value with more spellings than this under SQLite's LOWER is checked on every row instead."""


def _sqlite_lower(text: str) -> str:
    return "".join(c.lower() if c.isascii() else c for c in text)


def _spellings(folded: str) -> set[str] | None:
    """What SQLite's ASCII-only LOWER makes of every text that folds to `folded` (None when
    they are too many to list)."""
    choices = []
    total = 1
    for ch in folded:
        forms = {_sqlite_lower(c) for c in _preimages().get(ch, frozenset((ch,)))}
        total *= len(forms)
        if total > MOST_SPELLINGS:
            return None
        choices.append(sorted(forms))
    return {"".join(parts) for parts in itertools.product(*choices)}


def _server_collation(db: Database) -> str | None:
    found = db.execute_sql(
        "SELECT collname FROM pg_collation WHERE collname IN (%s, %s) AND collprovider = 'c' "
        "AND collencoding IN (-1, pg_char_to_encoding('UTF8')) ORDER BY collname DESC LIMIT 1",
        SERVER_COLLATIONS,
    ).fetchone()
    return found[0] if found else None


_COLLATIONS: dict[str, str | None] = {}
"""The folding collation of each server database, once asked."""


def _collated(expression):
    """The expression under the server's folding collation (itself on a server without one)."""
    key = str(database.obj.database)
    if key not in _COLLATIONS:
        _COLLATIONS[key] = _server_collation(database)
    name = _COLLATIONS[key]
    if name is None:
        return expression
    return NodeList((expression, SQL(f'COLLATE "{name}"')))


def install_folded_indexes(db: Database) -> None:
    """On a server, each list field's LOWER index made under the folding collation, so that a
    filter's term is found from it (SQLite's plain LOWER index is the models' own)."""
    if isinstance(db, SqliteDatabase):
        return
    name = _server_collation(db)
    for table, columns in FOLDED_COLUMNS.items():
        for column in columns:
            index = f"{table}_lower_{column}"
            folded = f'"{column}" COLLATE "{name}"' if name else f'"{column}"'
            db.execute_sql(f'DROP INDEX IF EXISTS "{index}"')
            db.execute_sql(f'CREATE INDEX "{index}" ON "{table}" (LOWER({folded}))')


def folded_in(expression, values):
    """SQL: `expression` folds to one of the values (folded here). On a server, its LOWER (an
    index on it finds the rows); on SQLite, the `LOWER` index narrows and `fold` decides."""
    wanted = sorted({fold(value) for value in values})
    if not is_sqlite():
        return fn.LOWER(_collated(expression)).in_(wanted)
    exact = fn.fold(expression).in_(wanted)
    spelled: set[str] = set()
    for value in wanted:
        forms = _spellings(value)
        if forms is None:
            return exact
        spelled |= forms
    if spelled == set(wanted):
        return fn.LOWER(expression).in_(wanted)  # SQLite's LOWER folds these exactly
    return fn.LOWER(expression).in_(sorted(spelled)) & exact


def containing(expression, word: str):
    """SQL: `expression` contains the word, whatever the case of either (a server's ILIKE folds
    under the folding collation by the same rule; SQLite's LIKE folds ASCII letters only, so
    other text is folded first)."""
    if not is_sqlite():
        return _collated(expression).contains(word)
    folded = fold(word)
    if _spellings(folded) == {folded}:  # no character another folds to: LIKE folds it exactly
        return expression.contains(word)
    exact = fn.fold(expression).contains(folded)
    if not folded.isascii():
        return exact
    # An ASCII word: LIKE folds text of ASCII alone exactly; `fold` is called only on the rows
    # with other characters (one of which, such as İ, may fold to the word's letters).
    other = NodeList((expression, SQL("GLOB"), Value(NOT_ASCII)))
    return expression.contains(word) | (other & exact)


NOT_ASCII = "*[^ -~]*"
"""A GLOB pattern: text holding a character outside printable ASCII."""
