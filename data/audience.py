"""Who a campaign reaches: audience criteria as queries (who is excluded is `data.identity`)."""

from __future__ import annotations

import json
from typing import Any, Protocol, runtime_checkable

from peewee import SQL, fn

from data.errors import ValidationError
from data.filters import (
    FILTER_FIELDS,
    WHERE_NAMES,
    audience_filter,
    validate_filters,
)
from data.identity import ALREADY as ALREADY  # the exclusion reasons, named once by the rule
from data.identity import BOUNCED as BOUNCED
from data.identity import CONTACT_INSTEAD as CONTACT_INSTEAD
from data.identity import CONVERTED_LEAD as CONVERTED_LEAD
from data.identity import DO_NOT_EMAIL as DO_NOT_EMAIL
from data.identity import SUPPRESSED_ADDRESS
from data.matching import PersonFields, term_condition
from data.models import Campaign, Contact, Lead
from data.vocab import NEW as NEW  # re-exported: the category of a person who can be enrolled
from data.vocab import AudienceKind, ExclusionReason

SUPPRESSED = SUPPRESSED_ADDRESS
EXCLUSION_REASONS = {reason: reason.label for reason in ExclusionReason if reason != ALREADY}
"""Why an audience member is left out (what an enrollment reports as excluded), in the order the
rule (`identity.membership_category`) checks them."""
CATEGORY_LABELS = {reason.value: reason.label for reason in ExclusionReason}
"""Why a person cannot be picked, for every category but NEW."""


def parse_where(items: list[str]) -> dict:
    """`FIELD=V1,V2` arguments from the command line into a filters dict."""
    filters: dict = {}
    for item in items:
        field, sep, raw = item.partition("=")
        field = field.strip().replace("-", "_")
        if not sep:
            raise ValidationError(f"--where takes FIELD=VALUE, not {item!r}")
        aliases = {name: key for key, name in WHERE_NAMES.items()}  # the filter language's names
        field = aliases.get(field, field)
        if field in ("created_after", "created_on_or_after"):
            field = "created_since"
        kind = FILTER_FIELDS.get(field)
        if kind == "list":
            filters[field] = [v.strip() for v in raw.split(",") if v.strip()]
        else:
            filters[field] = raw.strip()
    validate_filters(filters)
    return filters


def describe_filters(kind: str, filters: dict) -> str:
    """A one-line summary of an audience, for headers and confirmations."""
    parts = [AudienceKind(kind).label]
    for key, value in filters.items():
        label = key.replace("_", " ")
        if isinstance(value, list):
            parts.append(f"{label} in {', '.join(value)}")
        else:
            parts.append(f"{label} {value}")
    return "; ".join(parts)


def _matching(model, kind_filters: dict):
    """Conditions on one person table for the criteria, read as the filter language reads them
    (`data.matching`: one meaning of each field, case folded alike)."""
    fields = PersonFields(model)
    return [term_condition(term, fields) for term in audience_filter(kind_filters).terms]


@runtime_checkable
class ChosenPeople(Protocol):
    """People of one kind chosen by a condition rather than listed by id."""

    def condition(self, model) -> Any:
        """The chosen people, as a condition on `model` (the kind's table or an alias of it)."""
        ...


def source_conditions(campaign, key: str, model, people: dict | None = None):
    """Conditions on one person table (`model` may be an alias of it) for the people an
    enrollment draws from it, or None when it draws nobody from it.

    Without `people`, the campaign's audience criteria; with `people` ({"lead": ids, "contact":
    ids}), exactly those people; in place of ids, anything that gives them as a condition on the
    table (`ChosenPeople`, such as the picker's marks). Both routes then pass through the same
    exclusion rule."""
    if people is not None:
        chosen = people.get(key)
        if not chosen:
            return None
        if isinstance(chosen, ChosenPeople):
            return [chosen.condition(model)]
        return [model.id.in_(id_set(chosen))]
    if campaign.audience_kind not in (key + "s", AudienceKind.BOTH):
        return None
    return _matching(model, campaign.filters)


def audience_sources(campaign, people: dict | None = None):
    """(model, conditions) for each person table the enrollment draws from."""
    sources = []
    for model, key in ((Lead, "lead"), (Contact, "contact")):
        conditions = source_conditions(campaign, key, model, people)
        if conditions is not None:
            sources.append((model, conditions))
    return sources


def id_set(ids) -> SQL:
    """A literal list of integer ids for `IN` (no parameter per id, so no limit on the count;
    every id is made an int first, so nothing but digits reaches the SQL)."""
    return SQL("(" + ",".join(str(int(i)) for i in ids) + ")")


def count_matching(kind: str, filters: dict) -> int:
    """How many people match audience criteria, for the live count in the campaign form."""
    probe = Campaign(audience_kind=kind, audience_filters=json.dumps(filters))
    total = 0
    for model, conditions in audience_sources(probe):
        query = model.select(fn.COUNT(model.id))
        for condition in conditions:
            query = query.where(condition)
        total += query.scalar()
    return total


def unmatched_criteria(kind: str, filters: dict) -> list[str]:
    """The criteria that on their own match nobody of the audience's kind (why a count is 0),
    each as the filter language writes it (`country:Germany`)."""
    unmatched = []
    for term in audience_filter(filters).terms:
        key = next(key for key, name in WHERE_NAMES.items() if name == term.field)
        if count_matching(kind, {key: filters[key]}) == 0:
            operator = term.operator if term.operator != "=" else ""
            unmatched.append(f"{term.field}:{operator}{','.join(term.values)}")
    return unmatched
