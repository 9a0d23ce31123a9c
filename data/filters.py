"""Audience filters a campaign may carry, and the filter language of the picker, the member list
and People (a leaf module: it reads text, `data.matching` makes the query)."""

from __future__ import annotations

import difflib
import shlex
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date
from functools import cache

from data.errors import ValidationError

FILTER_FIELDS = {
    "country": "list",
    "industry": "list",
    "lead_source": "list",
    "lead_status": "list",
    "title_contains": "text",
    "created_since": "date",
}
"""The audience filters a campaign may carry, and the kind of value each takes."""

LEAD_ONLY_FILTERS = ("lead_source", "lead_status")


def validate_filters(filters: dict) -> None:
    for key, value in filters.items():
        kind = FILTER_FIELDS.get(key)
        if kind is None:
            raise ValidationError(
                f"unknown audience filter {key!r}; use {', '.join(FILTER_FIELDS)}"
            )
        if kind == "list" and not (
            isinstance(value, list) and all(isinstance(v, str) for v in value)
        ):
            raise ValidationError(f"audience filter {key} takes a list of values")
        if kind == "text" and not isinstance(value, str):
            raise ValidationError(f"audience filter {key} takes text")
        if kind == "date":
            try:
                date.fromisoformat(value)
            except (TypeError, ValueError):
                raise ValidationError(
                    f"audience filter {key} takes a date like 2026-01-31, not {value!r}"
                ) from None


# Case folding: what "whatever the case" means; `data.folding` applies it in both databases ------


def _simple_lower(ch: str) -> str:
    lowered = ch.lower()
    if len(lowered) == 1:
        return lowered
    return lowered[0] if ch == "\u0130" else ch  # İ: Python's full mapping adds a combining dot


@cache
def folded_table() -> dict[int, str]:
    """Every character that folds to another (made when first needed: it takes a moment)."""
    return {
        code: _simple_lower(chr(code))
        for code in range(0x80, 0x1F000)  # no character above folds
        if _simple_lower(chr(code)) != chr(code)
    } | {ord(letter): letter.lower() for letter in "ABCDEFGHIJKLMNOPQRSTUVWXYZ"}


def fold(text: str) -> str:
    """Text with case folded: two texts that differ only by case fold alike."""
    if text.isascii():
        return text.lower()
    return text.translate(folded_table())


# The filter language of the picker, the member list and People --------------------------------
#
# `country:DE,AT industry:software title:vp status:opened -status:clicked created:>=2026-01-01 acme`
# A term is `field:v1,v2` (any of), `-field:v` (none of), `field:>=DATE` for dates, or a bare word
# (name, email or company contains). Parsed here, once, into terms; `data.matching` turns them into
# a query. A term that cannot be read is left out and explained (`problems`).

LIST_FIELDS = {
    "country": "country",
    "industry": "industry",
    "source": "lead_source",
    "lead_status": "lead_status",
}
"""Fields matched by any of the values (case does not matter): field -> column."""

TEXT_FIELDS = ("title", "company")
"""Fields matched by containing any of the values."""

DATE_FIELDS = {
    "created": "created_at",
    "opened": "first_opened_at",
    "clicked": "first_clicked_at",
    "responded": "response_date",
}
"""Fields compared with a date: field -> column (the last three are a membership's)."""

CHOICE_FIELDS = {
    "type": ("lead", "contact"),
    "flag": ("suppressed", "bounced"),
    "status": ("sent", "opened", "clicked", "responded", "converted", "bounced", "unsubscribed"),
}
"""Fields that take one of a few words."""

FILTER_TERMS = (*LIST_FIELDS, *TEXT_FIELDS, *DATE_FIELDS, *CHOICE_FIELDS)
"""Every field a term may name, in the order the help lists them."""

DATE_OPERATORS = (">=", "<=", ">", "<", "=")


@dataclass(frozen=True)
class Term:
    """One readable term: `field` ("" for a bare word), its values, and whether it is negated.
    A date term has one value, a date, and its operator."""

    field: str
    values: tuple[str, ...]
    negated: bool = False
    operator: str = ""
    day: date | None = None


@dataclass(frozen=True)
class ParsedFilter:
    terms: tuple[Term, ...] = ()
    problems: tuple[str, ...] = ()

    @property
    def is_empty(self) -> bool:
        return not self.terms


def _words(text: str) -> tuple[list[str], list[str]]:
    """The text's terms (quotes keep spaces in a value) and any problem splitting it."""
    try:
        return shlex.split(text), []
    except ValueError:
        words = [word.strip("\"'") for word in text.split()]
        return [word for word in words if word], ['a quote is not closed: each " needs its pair']


ANY_LABEL = None
"""`labels` for a reading that takes any status word as a label's name (the query: a name no
campaign has matches nobody)."""


def _read_term(word: str, labels: Collection[str] | None = ()) -> Term | str:
    """A term, or why it cannot be read. `labels`: the status labels a `status:` term may
    name besides the ladder's words (`ANY_LABEL`: any)."""
    negated = word.startswith("-") and len(word) > 1
    body = word[1:] if negated else word
    field, colon, value = body.partition(":")
    if not colon:
        return Term("", (body,), negated)
    field = field.lower()
    if field not in FILTER_TERMS:
        close = difflib.get_close_matches(field, FILTER_TERMS, n=1)
        if close:
            return f"unknown field {field!r}: did you mean {close[0]}?"
        return f"unknown field {field!r}: use {', '.join(FILTER_TERMS)}"
    if field in DATE_FIELDS:
        operator = next((op for op in DATE_OPERATORS if value.startswith(op)), "=")
        text = value.removeprefix(operator) if value.startswith(operator) else value
        try:
            day = date.fromisoformat(text)
        except ValueError:
            return f"{field}: {text!r} is not a date like {field}:>=2026-01-31"
        return Term(field, (text,), negated, operator, day)
    values = tuple(v for v in value.split(",") if v.strip())
    if not values:
        return f"{field}: give a value, like {_EXAMPLES.get(field, field + ':text')}"
    if field in CHOICE_FIELDS:
        allowed = CHOICE_FIELDS[field]
        values = tuple(fold(v) for v in values)
        named = set() if labels is ANY_LABEL else {fold(label) for label in labels}
        wrong = [
            v
            for v in values
            if v not in allowed and not (field == "status" and (labels is ANY_LABEL or v in named))
        ]
        if wrong:
            if field == "status" and labels:
                own = [label for label in labels if fold(label) not in allowed]
                shown = ", ".join((*allowed, *dict.fromkeys(own)))
                return f"{field}: {wrong[0]!r} is not one of {shown}"
            return f"{field}: {wrong[0]!r} is not one of {', '.join(allowed)}"
    return Term(field, values, negated)


_EXAMPLES = {
    "country": "country:DE,AT",
    "industry": "industry:software",
    "source": "source:web",
    "lead_status": "lead_status:working",
    "type": "type:lead",
    "flag": "flag:suppressed",
    "status": "status:opened",
}


MOST_TERMS = 40
"""The most terms a filter takes (each value of a title or company term counts as one): each is
a condition the database nests in the one before, and SQLite's parser stops at about 80."""


def _weight(word: str) -> int:
    field, colon, value = word.removeprefix("-").partition(":")
    if colon and field.lower() in TEXT_FIELDS:
        return max(1, len([v for v in value.split(",") if v.strip()]))
    return 1


WHERE_NAMES = {
    "country": "country",
    "industry": "industry",
    "lead_source": "source",
    "lead_status": "lead_status",
    "title_contains": "title",
    "created_since": "created",
}
"""An audience's stored criteria (and `--where`'s older names) -> the filter language's field."""


def audience_filter(filters: dict) -> ParsedFilter:
    """A campaign's audience criteria as the filter language's terms: each criterion one term,
    read by the same compiler as every list's filter (so `country` ignores case everywhere)."""
    terms = []
    for key, value in filters.items():
        field = WHERE_NAMES[key]
        if field == "created":
            if value:
                terms.append(Term(field, (value,), False, ">=", date.fromisoformat(value)))
        elif isinstance(value, list):
            if value:
                terms.append(Term(field, tuple(value)))
        elif value:
            terms.append(Term(field, (value,)))
    return ParsedFilter(tuple(terms))


def parse_filter(text: str, labels: Collection[str] | None = ()) -> ParsedFilter:
    """The terms of a filter box's text, and a problem for each term that cannot be read. A
    filter of more than `MOST_TERMS` terms is not read at all. `status:` takes the ladder's
    words and the names of `labels` (a campaign's member status labels), whatever the case."""
    words, problems = _words(text)
    count = sum(_weight(word) for word in words)
    if count > MOST_TERMS:
        return ParsedFilter(
            (), (f"a filter takes at most {MOST_TERMS} terms; this one has {count}",)
        )
    terms: list[Term] = []
    for word in words:
        read = _read_term(word, labels)
        if isinstance(read, str):
            problems.append(read)
        else:
            terms.append(read)
    return ParsedFilter(tuple(terms), tuple(problems))
