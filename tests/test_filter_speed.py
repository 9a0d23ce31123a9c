"""Filters on long lists: the word index finds what LIKE finds, the faster paths list the same
rows, the index is kept by the database through every write, and a stale query is stopped."""

from __future__ import annotations

import io
import threading

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from peewee import JOIN
from textual.widgets import Input

from data import word_index
from data.conversion import convert_lead
from data.db import database
from data.enrollment import enroll
from data.filters import fold
from data.interrupt import Interrupted, interrupted_when
from data.members import _member_query, member_count, member_page
from data.models import Account, Campaign, CampaignMember, Contact, Lead
from data.people import people_count, people_page
from data.rollups import recount
from data.sql import is_sqlite
from data.transfer import import_people
from tests import factories as f
from tests.conftest import backend_of
from tests.pilot import settle, wait_until
from tests.test_tui_campaign_detail import open_detail

PIECES = ["Anna", "anna", "ANN", "Müller", "müller", "straße", "o'neil", "50%", "a_b", "zoë", "Co"]
"""Text people hold: case, accents, quotes and LIKE's wildcards."""

TEXT = st.lists(st.sampled_from(PIECES), min_size=1, max_size=3).map("".join)


def _like_ids(model, word: str) -> set[int]:
    """The people whose name, email or company contains the word, whatever the case (the rule,
    `data.folding.fold`), read in Python."""
    wanted = fold(word)
    query = model.select(model.id, model.first_name, model.last_name, model.email)
    if model is Lead:
        query = query.select_extend(Lead.company)
    else:
        query = query.join(
            Account, on=(Contact.account == Account.id), join_type=JOIN.LEFT_OUTER
        ).select_extend(Account.name.alias("company"))
    return {
        pid
        for pid, first, last, email, company in query.tuples()
        if any(wanted in fold(text or "") for text in (f"{first} {last}", email, company))
    }


def _every_page(page) -> list:
    """Every row of a keyed list, page after page (small pages: the keys are exercised)."""
    rows, after = [], None
    while True:
        got = page(after)
        rows += got
        if len(got) < 3:
            return rows
        after = got[-1]


@pytest.mark.parametrize("probe", [0, 10**9], ids=["common", "rare"])
@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    people=st.lists(st.tuples(TEXT, TEXT, TEXT, st.booleans()), min_size=1, max_size=8),
    word=st.sampled_from(["anna", "ANNA", "ann", "üll", "MÜLLER", "50%", "a_b", "o'n", "co", "zz"]),
)
def test_a_bare_word_finds_what_like_finds(fresh_db, monkeypatch, probe, people, word):
    """On both backends, whether the word's people are found from the index (rare) or checked
    while walking the list (common): the same people and members as LIKE alone."""
    monkeypatch.setattr(word_index, "PROBE", probe)
    monkeypatch.setattr(word_index, "SORTED_PROBE", probe)
    Lead.delete().execute()
    Contact.delete().execute()
    Campaign.delete().execute()
    campaign = f.campaign()
    for n, (first, last, company, is_lead) in enumerate(people):
        email = f"{''.join(c for c in first.lower() if c.isascii() and c.isalpha())}.{n}@x.example"
        if is_lead:
            f.lead(first_name=first, last_name=last, email=email, company=company)
        else:
            account = Account.get_or_create(name=company)[0]
            f.contact(first_name=first, last_name=last, email=email, account=account)
    everyone = {"lead": [p.id for p in Lead.select()], "contact": [p.id for p in Contact.select()]}
    enroll(campaign, everyone)
    recount([campaign.id])
    leads, contacts = _like_ids(Lead, word), _like_ids(Contact, word)

    for kind, expected in (("lead", leads), ("contact", contacts)):
        listed = _every_page(
            lambda after, kind=kind: people_page(
                kind, word, after=after and tuple(after[8:]), limit=3
            )
        )
        assert {row[0] for row in listed} == expected
        assert people_count(kind, word) == len(expected)
    M = CampaignMember
    members = {
        mid
        for (mid,) in M.select(M.id)
        .where((M.lead.in_(sorted(leads) or [0])) | (M.contact.in_(sorted(contacts) or [0])))
        .tuples()
    }
    listed = _every_page(
        lambda after: member_page(campaign.id, "all", word, after=after and after.id, limit=3)
    )
    assert [row.id for row in listed] == sorted(members)
    assert member_count(campaign.id, "all", word) == len(members)


def _word_index_is_whole() -> None:
    """SQLite: FTS5's own check of the index against the rows it was made from."""
    if is_sqlite():
        for table in word_index.WORD_COLUMNS:
            words = f"{table}_words"
            database.execute_sql(
                f"INSERT INTO {words}({words}, rank) VALUES ('integrity-check', 1)"
            )


def test_the_index_is_kept_through_imports_edits_conversion_and_deletion(fresh_db):
    """Whatever writes people, a word finds what LIKE finds, and (SQLite) the index matches
    its rows."""
    import_people(
        "lead",
        io.StringIO(
            "first_name,last_name,email,company\n"
            "Quentin,Zabriskie,qz@imported.example,Xylophone Ltd\n"
            "Anna,Berg,anna@imported.example,Acme\n"
        ),
    )
    lead = Lead.get(Lead.email == "qz@imported.example")
    assert {row[0] for row in people_page("lead", "abrisk")} == {lead.id}
    lead.last_name = "Yellowhammer"
    lead.save()
    assert people_page("lead", "abrisk") == []
    assert [row[0] for row in people_page("lead", "ellowham")] == [lead.id]
    import_people(  # an update by email, in bulk
        "lead",
        io.StringIO("first_name,last_name,email,company\nQ,Quarrington,qz@imported.example,Xyl\n"),
    )
    assert people_page("lead", "ellowham") == []
    assert [row[0] for row in people_page("lead", "arringt")] == [lead.id]
    convert_lead(Lead.get_by_id(lead.id))
    contact = Contact.get(Contact.email == "qz@imported.example")
    assert [row[0] for row in people_page("contact", "arringt")] == [contact.id]
    Lead.delete().where(Lead.id == lead.id).execute()
    assert people_page("lead", "arringt") == []
    for word in ("arringt", "anna", "imported"):
        assert {row[0] for row in people_page("lead", word)} == _like_ids(Lead, word)
        assert {row[0] for row in people_page("contact", word)} == _like_ids(Contact, word)
    _word_index_is_whole()


def test_a_database_of_the_version_before_gets_the_index_of_its_people(fresh_db):
    """The step to version 16 fills the index from the people there are."""
    from playhouse.migrate import SchemaMigrator

    from data.migrations import MIGRATIONS

    f.lead(first_name="Xanthippe", email="x@before.example")
    if backend_of(fresh_db) == "sqlite":
        for table in word_index.WORD_COLUMNS:
            for trigger in ("insert", "delete", "update"):
                database.execute_sql(f"DROP TRIGGER {table}_words_{trigger}")
            database.execute_sql(f"DROP TABLE {table}_words")
    else:
        for statement in (
            "DROP INDEX lead_words",
            "DROP INDEX contact_words",
            "DROP INDEX account_words",
        ):
            database.execute_sql(statement)
    MIGRATIONS[16](database.obj, SchemaMigrator.from_database(database.obj))
    assert word_index.has_word_index()
    assert len(people_page("lead", "anthipp")) == 1
    _word_index_is_whole()


def _plan(query) -> str:
    sql, params = query.sql()
    return " ".join(str(row) for row in database.execute_sql("EXPLAIN QUERY PLAN " + sql, params))


def test_a_common_status_walks_the_members_in_id_order_a_rare_one_takes_the_rung_index(fresh_db):
    """SQLite: a page of `status:opened` when many opened walks the campaign's members in id
    order (its first rows at once) instead of reading every match from the rung index and
    sorting them; when few did, the rung index finds them. The same rows either way."""
    if backend_of(fresh_db) != "sqlite":
        pytest.skip("the plan is SQLite's; PostgreSQL plans from its statistics")
    campaign = f.campaign()
    leads = [f.lead().id for _ in range(60)]
    enroll(campaign, {"lead": leads})
    M = CampaignMember
    opened = [mid for (mid,) in M.select(M.id).where(M.campaign == campaign.id).tuples()][::3]
    M.update(rung=1, status="Opened").where(M.id.in_(opened)).execute()
    recount([campaign.id])
    walked = _member_query(campaign.id, "all", "status:opened", walk_rungs=True)
    assert "rung" not in _plan(walked.order_by(M.id).limit(100))
    indexed = _member_query(campaign.id, "all", "status:opened")
    assert "campaign_member_campaign_id_rung_id" in _plan(indexed.order_by(M.id).limit(100))
    assert [row.id for row in member_page(campaign.id, "all", "status:opened")] == opened
    assert [row.id for row in member_page(campaign.id, "all", "status:clicked")] == []
    assert [r.id for r in member_page(campaign.id, "all", "status:opened", last=True, limit=5)] == (
        opened[-5:]
    )


def _endless_query() -> None:
    """A read of a minute or more, unless it is stopped (bounded, so that a run where nothing
    stops it fails on its deadline and still ends)."""
    if is_sqlite():
        database.execute_sql(
            "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 3e9) "
            "SELECT count(*) FROM n"
        )
    else:
        database.execute_sql("SELECT pg_sleep(90)")


def test_a_read_given_up_on_is_stopped_in_the_database(fresh_db):
    given_up = threading.Event()
    outcome: list[str] = []

    def read() -> None:
        with database.connection_context():
            try:
                with interrupted_when(given_up):
                    _endless_query()
                outcome.append("finished")
            except Interrupted:
                outcome.append("stopped")

    reader = threading.Thread(target=read)
    reader.start()
    reader.join(0.3)
    assert reader.is_alive()  # still reading
    given_up.set()
    reader.join(30)
    assert not reader.is_alive() and outcome == ["stopped"]


async def test_a_stale_filter_query_is_stopped_and_its_rows_never_shown(make_tui, monkeypatch):
    """A filter typed on while its query still runs: that query is stopped in the database (it
    could not end otherwise) and the list shows the text typed since."""
    from tui_app.widgets import member_table

    started, outcome = threading.Event(), []
    listed = member_table.member_page

    def page(campaign_id, view, search, **options):
        if search != "endless":
            return listed(campaign_id, view, search, **options)
        started.set()
        try:
            _endless_query()
        except Exception as exc:
            outcome.append(type(exc).__name__)
            raise
        outcome.append("finished")
        return [listed(campaign_id, view, "", **options)[0]._replace(name="STALE")]

    monkeypatch.setattr(member_table, "member_page", page)
    app = make_tui()
    async with app.run_test(size=(120, 40)) as pilot:
        table = await open_detail(pilot)
        box = app.screen.query_one("#member-filter", Input)
        box.focus()
        box.value = "endless"
        await wait_until(pilot, started.is_set)
        box.value = "endles"
        await wait_until(pilot, lambda: bool(outcome), seconds=30)
        await settle(pilot)
        assert outcome != ["finished"]
        assert table.source.search == "endles" and table.counted
        assert all(row.name != "STALE" for row in table.rows.values())


async def test_a_filter_that_does_not_read_yet_keeps_the_rows_before(make_tui):
    """`status:o` is a term still being typed: the line under the box says why it does not
    read, and the list keeps the rows of the text that last read."""
    app = make_tui()
    async with app.run_test(size=(120, 40)) as pilot:
        table = await open_detail(pilot)
        box = app.screen.query_one("#member-filter", Input)
        box.focus()
        box.value = "status:opened"
        await settle(pilot)
        opened = dict(table.rows)
        box.value = "status:opene"
        await settle(pilot)
        assert table.source.search == "status:opened" and table.rows == opened
        assert "not one of" in str(app.screen.query_one("FilterProblems").render())
