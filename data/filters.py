"""Audience filters: which a campaign may carry and what values they take (a leaf module)."""

from __future__ import annotations

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
