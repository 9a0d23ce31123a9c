"""Long lists in a chosen order, paged by key: the database sorts, a page is found from a row's
sort key (never by position), and the row id breaks ties, so every row has exactly one place.

A list is the union of one or more `Part`s, each a query the database can walk along an index in
the list's order (the members who are leads, walked along the leads' name index; the members who
are contacts, along the contacts'); a page takes the first rows of each part after the key and
lets the database merge them. A key that may be NULL splits each part in two: NULLs come last,
whichever the direction, ordered by id.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from peewee import SQL, Select, Tuple


@dataclass(frozen=True)
class Order:
    """A list's order: one of its sortable columns (empty: the list's natural order) and a
    direction."""

    column: str = ""
    descending: bool = False

    def arrow(self) -> str:
        return "↓" if self.descending else "↑"


NATURAL = Order()
"""A list's own order, before any column's."""


def next_order(order: Order, columns: tuple[str, ...], natural: bool) -> Order:
    """The order the sort key moves to: each column up, then down, then the next column; after
    the last, the natural order (when the list has one apart from its columns) or the first."""
    if order.column and not order.descending:
        return Order(order.column, True)
    at = columns.index(order.column) + 1 if order.column in columns else 0
    if at < len(columns):
        return Order(columns[at])
    return Order() if natural else Order(columns[0])


@dataclass(frozen=True)
class Part:
    """Rows of a list the database can walk in order: `query` (its columns selected, filtered,
    not ordered), the sort `keys` within it and the row id `tie` that breaks ties."""

    query: Any
    keys: tuple
    tie: Any
    nullable: bool = False
    """Whether the (single) key may be NULL."""


def keyset_page(
    parts: list[Part],
    descending: bool,
    *,
    after: tuple | None = None,
    before: tuple | None = None,
    last: bool = False,
    limit: int,
    offset: int = 0,
) -> list[tuple]:
    """A page of the union of `parts` (each selecting the same columns) in key order
    (`descending` or not), as tuples of the parts' columns followed by the sort key (keys...,
    id). `after`: the rows following that key; `before`: the rows preceding it; `last`: the
    final rows; else the first rows. `offset` (a scan) is only for a jump far from any row at
    hand, such as a dragged scrollbar."""
    backwards = last or before is not None
    reverse = descending != backwards  # the direction the database walks each part
    cursor = before if before is not None else after
    pieces = []
    for part in parts:
        for is_null in (False, True) if part.nullable else (None,):
            query = _walk(part, is_null, cursor, reverse, backwards)
            if query is not None:
                pieces.append((query, is_null))
    if not pieces:
        return []
    width = len(parts[0].query.selected_columns) + len(parts[0].keys) + 1
    if len(pieces) == 1:
        query = pieces[0][0].limit(limit).offset(offset or None)
        rows = [tuple(row[:width]) for row in query.tuples()]
    else:
        union: Any = None
        for n, (query, _) in enumerate(pieces):
            wrapped = Select([query.limit(offset + limit).alias(f"p{n}")], [SQL("*")])
            union = wrapped if union is None else union + wrapped
        names = [f"k{i}" for i in range(len(parts[0].keys))] + ["tie"]
        order = [SQL(f"{name} DESC" if reverse else name) for name in names]
        if parts[0].nullable:  # NULL keys last walking forwards, first walking backwards
            order.insert(0, SQL("nulls DESC" if backwards else "nulls"))
        db = parts[0].query.model._meta.database
        cursor_rows = db.execute(union.order_by(*order).limit(limit).offset(offset or None))
        rows = [tuple(row[:width]) for row in cursor_rows.fetchall()]
    return rows[::-1] if backwards else rows


def _walk(part: Part, is_null: bool | None, cursor: tuple | None, reverse: bool, backwards: bool):
    """One part (or its NULL or non-NULL half) from the cursor on, in walking order; None when
    nothing of it comes after the cursor."""
    keys = part.keys
    query = part.query.select_extend(
        *[key.alias(f"k{i}") for i, key in enumerate(keys)],
        part.tie.alias("tie"),
        SQL("1" if is_null else "0").alias("nulls"),
    )
    if is_null is not None:
        query = query.where(keys[0].is_null(is_null))
    # walking forwards the non-NULL half comes first; backwards, the NULL half
    segment = 0 if is_null is None else int(is_null != backwards)
    if cursor is not None:
        *values, tie = cursor
        cursor_segment = 0 if is_null is None else int((values[0] is None) != backwards)
        if segment < cursor_segment:
            return None
        if segment == cursor_segment:
            query = query.where(_beyond(keys, part.tie, values, tie, reverse, is_null is True))
    direction = [key.desc() if reverse else key for key in ([] if is_null else list(keys))]
    return query.order_by(*direction, part.tie.desc() if reverse else part.tie)


def _beyond(keys: tuple, tie, values: list, tie_value, reverse: bool, null_half: bool):
    """Rows strictly past the cursor along the walk (all keys equal in a NULL half: by id)."""
    if null_half:
        return tie < tie_value if reverse else tie > tie_value
    if reverse:
        return (Tuple(*keys) <= Tuple(*values)) & (Tuple(*keys, tie) < Tuple(*values, tie_value))
    # the first condition alone reads an index range: the second breaks the ties
    return (Tuple(*keys) >= Tuple(*values)) & (Tuple(*keys, tie) > Tuple(*values, tie_value))
