"""Audience filters a campaign may carry, and the filter language of the picker, the member list
and People (a leaf module: it reads text, `data.matching` makes the query)."""

from __future__ import annotations

import difflib
import shlex
from dataclasses import dataclass
from datetime import date

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


def _read_term(word: str) -> Term | str:
    """A term, or why it cannot be read."""
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
        values = tuple(v.lower() for v in values)
        wrong = [v for v in values if v not in allowed]
        if wrong:
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


def parse_filter(text: str) -> ParsedFilter:
    """The terms of a filter box's text, and a problem for each term that cannot be read. A
    filter of more than `MOST_TERMS` terms is not read at all."""
    words, problems = _words(text)
    count = sum(_weight(word) for word in words)
    if count > MOST_TERMS:
        return ParsedFilter(
            (), (f"a filter takes at most {MOST_TERMS} terms; this one has {count}",)
        )
    terms: list[Term] = []
    for word in words:
        read = _read_term(word)
        if isinstance(read, str):
            problems.append(read)
        else:
            terms.append(read)
    return ParsedFilter(tuple(terms), tuple(problems))
