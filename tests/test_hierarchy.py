"""Campaign hierarchies: parents, the five-level and no-cycle rule (one function, property
tested), and a hierarchy's totals with each person counted once, on both backends."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from data.campaigns import update_campaign
from data.conversion import convert_lead
from data.enrollment import enroll
from data.errors import ValidationError
from data.hierarchy import (
    MAX_LEVELS,
    _depth,
    descendants,
    hierarchy_metrics,
    placement_problem,
    set_parent,
)
from data.ingest import ingest_records
from data.models import Campaign, Lead
from data.opportunities import opportunities_of, set_stage
from data.rollups import campaign_metrics
from tests import factories as f
from tests.conftest import FIXED_NOW
from tui_app.cli import main

# The rule, on any forest ------------------------------------------------------------------------


@st.composite
def forests(draw):
    """Campaign parents that obey the rule: each campaign under an earlier one or a root, no
    deeper than five levels."""
    parents: dict[int, int | None] = {}
    for campaign in range(draw(st.integers(1, 12))):
        options = [None] + [c for c in parents if _depth(parents, c) < MAX_LEVELS]
        parents[campaign] = draw(st.sampled_from(options))
    return parents


@given(forests(), st.data())
def test_a_placement_is_allowed_exactly_when_the_result_has_no_cycle_and_five_levels(parents, data):
    campaign = data.draw(st.sampled_from(sorted(parents)))
    parent = data.draw(st.sampled_from([None, *sorted(parents)]))
    problem = placement_problem(parents, campaign, parent)
    moved = {**parents, campaign: parent}

    def cycle(c: int) -> bool:
        seen = set()
        while c is not None:
            if c in seen:
                return True
            seen.add(c)
            c = moved[c]
        return False

    has_cycle = any(cycle(c) for c in moved)
    deepest = 0 if has_cycle else max(_depth(moved, c) for c in moved)
    assert (problem is None) == (not has_cycle and deepest <= MAX_LEVELS)
    if problem is None:
        assert all(_depth(moved, c) <= MAX_LEVELS for c in moved)


def test_a_new_campaign_may_go_under_level_four_but_not_five():
    chain = {1: None, 2: 1, 3: 2, 4: 3, 5: 4}
    assert placement_problem(chain, 99, 4) is None
    assert placement_problem(chain, 99, 5) == (
        "that would make the hierarchy 6 levels deep; at most 5"
    )
    assert descendants(chain, 3) == [3, 4, 5]


AT = "2026-11-02T10:00:00Z"

# In the database --------------------------------------------------------------------------------


def launch():
    """A launch with a webinar under it and an email under the webinar."""
    top = f.campaign("Launch", actual_cost=1000)
    webinar = f.campaign("Launch Webinar", parent=top, actual_cost=500)
    email = f.campaign("Launch Email", parent=webinar, actual_cost=250)
    return top, webinar, email


def test_cycles_and_a_sixth_level_are_refused_in_one_line(fresh_db):
    top, webinar, email = launch()
    with pytest.raises(ValidationError, match="under itself or under a campaign below it"):
        set_parent(top, email)
    with pytest.raises(ValidationError, match="under itself"):
        update_campaign(Campaign.get_by_id(top.id), parent=top.id)
    four = f.campaign("Level 4", parent=email)
    five = f.campaign("Level 5", parent=four)
    with pytest.raises(ValidationError, match="6 levels deep; at most 5"):
        f.campaign("Level 6", parent=five)
    assert not Campaign.select().where(Campaign.name == "Level 6").exists()
    loose = f.campaign("Loose")
    f.campaign("Loose child", parent=loose)
    with pytest.raises(ValidationError, match="6 levels deep"):
        set_parent(loose, four)  # its child would be the sixth level
    assert Campaign.get_by_id(loose.id).parent_id is None
    set_parent(loose, email)
    set_parent(email, None)
    assert Campaign.get_by_id(email.id).parent_id is None


def test_hierarchy_counts_each_person_once_and_sums_costs_and_won(fresh_db):
    top, webinar, email = launch()
    ana = f.lead(email="ana@example.com")
    f.lead(email="ben@example.com")
    cy = f.contact(email="cy@example.com")
    for campaign in (top, webinar, email):
        enroll(campaign)
    ingest_records(
        [
            {"type": "open", "campaign": "Launch", "email": "ana@example.com", "at": AT},
            {"type": "respond", "campaign": "Launch Webinar", "email": "ana@example.com", "at": AT},
            {"type": "click", "campaign": "Launch Email", "email": "cy@example.com", "at": AT},
            {"type": "bounce", "campaign": "Launch Email", "email": "ben@example.com", "at": AT},
        ],
        now=FIXED_NOW,
    )
    # ana becomes a contact: still one person across the hierarchy
    convert_lead(
        Lead.get_by_id(ana.id),
        opportunity_name="Deal",
        amount=Decimal("900"),
        campaign_source=webinar,
    )
    (deal,) = opportunities_of(Lead.get_by_id(ana.id))
    set_stage(deal.id, "Closed Won")
    m = hierarchy_metrics(top)
    assert (m.sent, m.opened, m.clicked, m.responded, m.converted, m.bounced) == (3, 2, 2, 1, 1, 1)
    assert m.actual_cost == 1750 and m.won_amount == 900
    assert m.cost_per_response == 1750
    assert m.campaign == "Launch"
    assert campaign_metrics(top).sent == 3  # its own numbers are its own
    below = hierarchy_metrics(email)
    assert (below.sent, below.actual_cost, below.won_amount) == (3, 250, 0)
    assert cy.id


def test_parents_from_the_command_line(fresh_db, capsys):
    db = str(fresh_db)

    def run(*args: str) -> int:
        return main([*args, "--db", db])

    assert run("campaign", "create", "Launch") == 0
    assert run("campaign", "create", "Launch Webinar", "--parent", "Launch", "--json") == 0
    capsys.readouterr()
    assert Campaign.get(Campaign.name == "Launch Webinar").parent.name == "Launch"
    assert run("campaign", "set-parent", "Launch", "Launch Webinar") == 1
    assert capsys.readouterr().err == (
        "campaigns: error: a campaign cannot be under itself or under a campaign below it\n"
    )
    assert run("campaign", "create", "Orphan", "--parent", "Nope") == 1
    assert "no campaign named 'Nope'" in capsys.readouterr().err
    assert not Campaign.select().where(Campaign.name == "Orphan").exists()
    assert run("metrics", "Launch", "--hierarchy", "--json") == 0
    data = json.loads(capsys.readouterr().out)
    assert run("metrics", "Launch", "--json") == 0
    assert data.keys() == json.loads(capsys.readouterr().out).keys()
    assert data["campaign"] == "Launch" and data["sent"] == 0
    assert run("metrics", "Launch", "--hierarchy") == 0
    assert "the 1 campaign(s) under it" in capsys.readouterr().out
    assert run("campaign", "set-parent", "Launch Webinar", "--none") == 0
    assert capsys.readouterr().out.strip() == "Launch Webinar: a root campaign (no parent)"
    assert Campaign.get(Campaign.name == "Launch Webinar").parent_id is None


def test_version_20_adds_the_parent_and_the_trend_index(fresh_db):
    """A database as version 17 left it: no parent column, no trend index."""
    from playhouse.migrate import SchemaMigrator

    from data.migrations import MIGRATIONS
    from data.sql import is_sqlite

    top = f.campaign("Launch")
    db = Campaign._meta.database.obj
    migrator = SchemaMigrator.from_database(db)
    db.execute_sql("DROP INDEX engagement_event_trend")
    db.execute_sql('DROP INDEX "campaign_parent_id"')
    legacy = {"legacy": True} if is_sqlite() else {}  # SQLite's own DROP refuses a reference
    migrator.drop_column("campaign", "parent_id", **legacy).run()
    assert "parent_id" not in {c.name for c in db.get_columns("campaign")}
    with db.atomic():
        MIGRATIONS[20](db, SchemaMigrator.from_database(db))
    indexes = {i.name for i in db.get_indexes("engagement_event")}
    assert "engagement_event_trend" in indexes
    assert "campaign_parent_id" in {i.name for i in db.get_indexes("campaign")}
    child = f.campaign("Launch Webinar", parent=top)
    assert hierarchy_metrics(Campaign.get_by_id(top.id)).sent == 0
    assert Campaign.get_by_id(child.id).parent_id == top.id


MOVER = """
import sys
from data.db import open_database
from data.errors import ValidationError
from data.campaigns import find_campaign
from data.hierarchy import set_parent
open_database(sys.argv[1])
child, parent, pairs = sys.argv[2], sys.argv[3], int(sys.argv[4])
print("ready", flush=True)
sys.stdin.readline()
refused = 0
for i in range(pairs):
    try:
        set_parent(find_campaign(f"{child}{i}"), find_campaign(f"{parent}{i}"))
    except ValidationError:
        refused += 1
print(refused, flush=True)
"""


def test_two_processes_moving_campaigns_under_each_other_never_make_a_cycle(fresh_db):
    """One process puts each A under its B while another puts each B under its A: for every
    pair exactly one move wins and the other is refused, whatever the interleaving."""
    import subprocess
    import sys

    pairs = 40
    for i in range(pairs):
        f.campaign(f"A{i}")
        f.campaign(f"B{i}")
    movers = [
        subprocess.Popen(
            [sys.executable, "-c", MOVER, str(fresh_db), child, parent, str(pairs)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for child, parent in (("A", "B"), ("B", "A"))
    ]
    for mover in movers:
        assert mover.stdout.readline().strip() == "ready"
    for mover in movers:  # both start at once
        mover.stdin.write("go\n")
        mover.stdin.flush()
    refused = [int(mover.communicate(timeout=120)[0].strip()) for mover in movers]
    assert sum(refused) == pairs
    parents = dict(Campaign.select(Campaign.id, Campaign.parent).tuples())
    for i in range(pairs):
        a = Campaign.get(Campaign.name == f"A{i}").id
        b = Campaign.get(Campaign.name == f"B{i}").id
        assert (parents[a] == b) != (parents[b] == a)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.lists(
        st.lists(st.tuples(st.integers(0, 5), st.booleans()), max_size=6), min_size=3, max_size=3
    )
)
def test_each_person_counts_once_across_the_hierarchy(fresh_db, memberships):
    """Records 0–3 are leads, 4 a contact with lead 0's address, 5 another contact: whichever
    campaigns of the hierarchy each is in, a person is sent and responded to once."""
    from data.models import CampaignMember, Contact

    CampaignMember.delete().execute()
    Campaign.update(parent=None).execute()
    Campaign.delete().execute()
    Contact.delete().execute()
    Lead.delete().execute()
    records = [f.lead(email=f"p{i}@example.com") for i in range(4)]
    records += [f.contact(email="p0@example.com"), f.contact(email="p5@example.com")]
    top = f.campaign("Top")
    chain = [top, f.campaign("Middle", parent=top)]
    chain.append(f.campaign("Bottom", parent=chain[1]))
    sent: set[str] = set()
    responded: set[str] = set()
    for campaign, members in zip(chain, memberships):
        taken: dict[str, tuple[int, bool]] = {}
        for record, answered in members:
            taken[records[record].email] = (record, answered)  # one membership a person
        for email, (record, answered) in taken.items():
            person = records[record]
            key = "contact" if record >= 4 else "lead"
            CampaignMember.create(
                campaign=campaign,
                **{key: person},
                status="Responded" if answered else "Sent",
                rung=3 if answered else 0,
                has_responded=answered,
            )
            sent.add(email)
            if answered:
                responded.add(email)
    m = hierarchy_metrics(Campaign.get_by_id(top.id))
    assert (m.sent, m.responded) == (len(sent), len(responded))
