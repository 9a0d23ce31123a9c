"""Sorted lists: walking every keyset page, either way, gives exactly the rows of a plain sort."""

from __future__ import annotations

import itertools
from datetime import datetime

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from data import members as members_module
from data.members import MEMBER_ORDERS, Marked, member_count, member_page
from data.models import CampaignMember, Contact, Lead
from data.people import PEOPLE_ORDERS, people_page
from data.sorting import NATURAL, Order, next_order
from tests import factories

_examples = itertools.count()

DATES = [None, datetime(2026, 1, 5, 9), datetime(2026, 1, 5, 9), datetime(2026, 2, 1)]
MEMBER = st.fixed_dictionaries(
    {
        "kind": st.sampled_from(["lead", "contact"]),
        "last": st.sampled_from(["Ng", "ng", "Ortiz", "Ørsted"]),
        "first": st.sampled_from(["", "Al", "al"]),
        "mail": st.sampled_from(["a", "b", "c"]),
        "rung": st.integers(0, 4),
        "added": st.sampled_from(DATES[1:]),
        "opened": st.sampled_from(DATES),
        "marked": st.booleans(),
    }
)


def _key(row, column):
    if column == "name":
        return (row["last"], row["first"])
    return (row[{"status": "rung"}.get(column, column)],)


def plain_sort(rows: list[dict], column: str, descending: bool) -> list[int]:
    """The order a reader expects: by the column, ties by id, a missing date last either way."""
    present = [r for r in rows if _key(r, column)[0] is not None]
    missing = [r for r in rows if _key(r, column)[0] is None]
    present.sort(key=lambda r: (_key(r, column), r["id"]), reverse=descending)
    missing.sort(key=lambda r: r["id"], reverse=descending)
    return [r["id"] for r in present + missing]


def walk(fetch, key, size: int) -> tuple[list, list]:
    """Every row, page by page by key: forwards from the first, and backwards from the last."""
    forwards, after = [], None
    while page := fetch(after=after, limit=size):
        forwards += page
        after = key(page[-1])
    backwards, page = [], fetch(last=True, limit=size)
    while page:
        backwards = page + backwards
        page = fetch(before=key(page[0]), limit=size)
    return forwards, backwards


def _make(rows: list[dict], n: int):
    campaign = factories.campaign(f"Sorted {n}")
    seen = set()
    for row in rows:
        email = f"{row['mail']}{n}@example.com"
        if (row["kind"], email) in seen:  # an address is one lead (or one contact)
            email = f"{row['mail']}{n}.{len(seen)}@example.com"
        seen.add((row["kind"], email))
        make = factories.lead if row["kind"] == "lead" else factories.contact
        person = make(
            first_name=row["first"],
            last_name=row["last"],
            email=email,
            country=row.get("country", "US"),
        )
        member = CampaignMember.create(
            campaign=campaign,
            rung=row["rung"],
            added_at=row["added"],
            first_opened_at=row["opened"],
            **{row["kind"]: person},
        )
        row.update(id=member.id, email=email)
    return campaign


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    rows=st.lists(MEMBER, max_size=9),
    size=st.integers(1, 4),
    walk_tables=st.booleans(),
    search=st.sampled_from(["", "type:contact", "status:opened", "-type:contact"]),
    only_marked=st.booleans(),
)
def test_member_pages_walk_to_exactly_the_plain_sort(
    fresh_db, rows, size, walk_tables, search, only_marked
):
    n = next(_examples)
    campaign = _make(rows, n)
    wanted = [
        r
        for r in rows
        if (search != "type:contact" or r["kind"] == "contact")
        and (search != "status:opened" or r["rung"] >= 1)
        and (search != "-type:contact" or r["kind"] == "lead")
        and (not only_marked or r["marked"])
    ]
    marked = None
    if only_marked:
        marked = Marked(campaign.id, frozenset(r["id"] for r in rows if r["marked"]))
    share = members_module.WALK_SHARE
    # walk the lead and contact tables along their indexes, or sort the members themselves
    members_module.WALK_SHARE = 10**9 if walk_tables else 1
    try:
        for column in MEMBER_ORDERS:
            for descending in (False, True):
                order = Order(column, descending)

                def fetch(order=order, **where):
                    return member_page(
                        campaign.id, "all", search, marked=marked, order=order, **where
                    )

                forwards, backwards = walk(fetch, lambda row: row.key, size)
                expected = plain_sort(wanted, column, descending)
                assert [r.id for r in forwards] == expected, (column, descending)
                assert [r.id for r in backwards] == expected, (column, descending)
    finally:
        members_module.WALK_SHARE = share


INDEXED_SEARCHES = {
    "country:de": lambda r: r["country"].lower() == "de",
    "country:DE,at -type:contact": lambda r: (
        r["country"].lower() in ("de", "at") and r["kind"] == "lead"
    ),
    "country:at status:opened": lambda r: r["country"].lower() == "at" and r["rung"] >= 1,
}
"""Filters with a country term: their members are found from people (`matching.indexed`)."""


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    rows=st.lists(
        st.tuples(MEMBER, st.sampled_from(["DE", "de", "AT", ""])).map(
            lambda pair: {**pair[0], "country": pair[1]}
        ),
        max_size=9,
    ),
    size=st.integers(1, 4),
    search=st.sampled_from(sorted(INDEXED_SEARCHES)),
    only_marked=st.booleans(),
)
def test_members_found_from_people_page_in_member_order(fresh_db, rows, size, search, only_marked):
    """A filter by a person's country finds the lead and the contact members from the people
    and merges them: every page, either way or by position, is the plain list in id order."""
    n = next(_examples)
    campaign = _make(rows, n)
    expected = [
        r["id"]
        for r in sorted(rows, key=lambda r: r["id"])
        if INDEXED_SEARCHES[search](r) and (not only_marked or r["marked"])
    ]
    marked = None
    if only_marked:
        marked = Marked(campaign.id, frozenset(r["id"] for r in rows if r["marked"]))

    def fetch(**where):
        return member_page(campaign.id, "all", search, marked=marked, **where)

    forwards, backwards = walk(fetch, lambda row: row.id, size)
    assert [r.id for r in forwards] == expected
    assert [r.id for r in backwards] == expected
    for offset in range(len(expected)):
        assert [r.id for r in fetch(offset=offset, limit=size)] == expected[offset : offset + size]
    if not only_marked:
        assert member_count(campaign.id, "all", search) == len(expected)


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(rows=st.lists(MEMBER, max_size=8), size=st.integers(1, 4))
def test_people_pages_walk_to_exactly_the_plain_sort(fresh_db, rows, size):
    _make(rows, next(_examples))
    for kind, model in (("lead", Lead), ("contact", Contact)):
        everyone = [
            {"id": pid, "first": first, "last": last, "email": email}
            for pid, first, last, email in model.select(
                model.id, model.first_name, model.last_name, model.email
            ).tuples()
        ]
        for column in PEOPLE_ORDERS:
            for descending in (False, True):
                order = Order(column, descending)

                def fetch(kind=kind, order=order, **where):
                    return people_page(kind, order=order, **where)

                forwards, backwards = walk(fetch, lambda row: tuple(row[8:]), size)
                expected = plain_sort(everyone, column, descending)
                assert [r[0] for r in forwards] == expected
                assert [r[0] for r in backwards] == expected


def test_the_sort_key_visits_each_column_up_then_down():
    columns = ("name", "email")
    seen, order = [], NATURAL
    for _ in range(5):
        order = next_order(order, columns, natural=True)
        seen.append((order.column, order.descending))
    assert seen == [("name", False), ("name", True), ("email", False), ("email", True), ("", False)]
    assert next_order(Order("email", True), columns, natural=False) == Order("name")


def test_a_sorted_first_page_is_the_start_of_the_whole_sorted_list(demo_db):
    """On the demo's largest campaign (walked along the people's name index)."""
    from data.models import Campaign

    campaign = max(Campaign.select(), key=lambda c: c.members.count())
    first = member_page(campaign.id, order=Order("name"), limit=5)
    everyone = member_page(campaign.id, order=Order("name"), limit=100_000)
    assert [r.id for r in first] == [r.id for r in everyone[:5]]
