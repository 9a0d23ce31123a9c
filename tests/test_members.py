"""Member list views: sizes from the kept counters agree with counting rows; pages by key."""

from __future__ import annotations

import csv
import io

import pytest

from data.campaigns import create_campaign
from data.engagement import MILESTONE_FIELDS
from data.members import VIEWS, _member_query, member_count, member_page
from data.models import Campaign
from data.sorting import Order
from data.transfer import EXPORT_COLUMNS, export_members


def test_view_sizes_from_counters_match_the_rows(demo_db):
    for campaign in Campaign.select():
        for view in VIEWS:
            assert member_count(campaign.id, view) == _member_query(campaign.id, view, "").count()


def test_offset_jump_lands_where_key_paging_does(demo_db):
    campaign = max(Campaign.select(), key=lambda c: member_count(c.id))
    walked, after = [], None
    while page := member_page(campaign.id, after=after, limit=37):
        walked += page
        after = page[-1].id
    jumped = member_page(campaign.id, offset=100, limit=37)
    assert [r.id for r in jumped] == [r.id for r in walked[100:137]]
    assert [r.id for r in member_page(campaign.id, last=True, limit=5)] == [
        r.id for r in walked[-5:]
    ]


def test_add_to_campaign_offers_only_open_campaigns_the_person_is_not_in(demo_db):
    from data.members import campaigns_open_to, memberships_of
    from data.models import Lead

    lead = next(p for p in Lead.select().order_by(Lead.id) if memberships_of(p))
    offered = campaigns_open_to(lead)
    taken = {m.campaign_id for m in memberships_of(lead)}
    assert offered and all(c.id not in taken for c in offered)
    assert {c.status for c in offered} <= {"Planned", "In Progress"}
    expected = Campaign.select().where(
        Campaign.status.in_(["Planned", "In Progress"]) & Campaign.id.not_in(list(taken))
    )
    assert {c.id for c in offered} == {c.id for c in expected}


def test_an_unknown_view_is_an_error_on_every_path(demo_db):
    busy = max(Campaign.select(), key=lambda c: member_count(c.id))
    empty = create_campaign("No members yet")
    for campaign_id in (busy.id, empty.id):
        with pytest.raises(ValueError, match="unknown view 'opened'; use all, responded"):
            member_count(campaign_id, "opened")
        with pytest.raises(ValueError, match="unknown view"):
            member_page(campaign_id, "opened")


def test_member_rows_carry_the_milestones_the_export_writes(demo_db):
    campaign = max(Campaign.select(), key=lambda c: member_count(c.id, "converted"))
    out = io.StringIO()
    export_members(campaign, "converted", out)
    header, first = out.getvalue().splitlines()[:2]
    assert header.split(",") == [*EXPORT_COLUMNS, "opportunity", "amount", "stage"]
    assert list(EXPORT_COLUMNS[3:8]) == ["added_at", *MILESTONE_FIELDS]
    row = member_page(campaign.id, "converted", limit=1)[0]
    assert row.converted_at is not None
    cells = dict(zip(header.split(","), next(csv.reader([first]))))
    assert cells["converted_at"] == row.converted_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert cells["status"] == "Converted"


def _page_plan(monkeypatch, page) -> str:
    """SQLite's plan for the ordered query a member page runs."""
    from data.sql import database

    real = database.obj
    seen: list[tuple[str, list]] = []
    run = real.execute_sql
    monkeypatch.setattr(
        real, "execute_sql", lambda sql, params=None: seen.append((sql, params)) or run(sql, params)
    )
    assert page()
    monkeypatch.undo()
    (sql, params), *_ = [(sql, params) for sql, params in seen if "ORDER BY" in sql]
    plan = real.connection().execute(f"EXPLAIN QUERY PLAN {sql}", params).fetchall()
    return " ".join(row[3] for row in plan)


@pytest.mark.parametrize(
    ("view", "index"),
    [
        ("converted", "campaign_member_settled (campaign_id=? AND status=?)"),
        ("responded", "campaign_member_responded (campaign_id=?"),
    ],
)
def test_a_view_pages_along_its_partial_index(view, index, demo_db, backend, monkeypatch):
    """The Converted and Responded views read a partial index in id order, not every member of
    the campaign: one of the settled statuses, which the opens and clicks of an ingest never
    rewrite, and one of those who responded, to which enrolling adds nothing."""
    if backend != "sqlite":
        pytest.skip("reads SQLite's query plan")
    campaign = max(Campaign.select(), key=lambda c: member_count(c.id, view))
    plan = _page_plan(monkeypatch, lambda: member_page(campaign.id, view, limit=20))
    assert index in plan
    assert "TEMP B-TREE" not in plan


def test_the_sort_by_first_open_walks_the_index_of_those_who_opened(demo_db, backend, monkeypatch):
    """The index of first opens holds only the members who opened (a first open adds an entry,
    removes none); the sort walks it, then those who never opened in id order."""
    if backend != "sqlite":
        pytest.skip("reads SQLite's query plan")
    campaign = max(Campaign.select(), key=lambda c: member_count(c.id))
    for descending in (False, True):
        order = Order("opened", descending)
        plan = _page_plan(
            monkeypatch, lambda order=order: member_page(campaign.id, order=order, limit=20)
        )
        # each half walked along an index, merged 20 rows each
        assert "CO-ROUTINE p0 SEARCH t1 USING INDEX campaign_member_opened (campaign_id=?" in plan
        assert "CO-ROUTINE p1 SEARCH t6 USING INDEX campaign_member_campaign_id_id" in plan
