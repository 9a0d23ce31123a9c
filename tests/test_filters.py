"""The filter language: read once, explained when unreadable, and selecting exactly what a plain
Python reading of the same terms selects (on both backends)."""

from __future__ import annotations

import itertools
from datetime import date, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from peewee import JOIN

from data.filters import MOST_TERMS, ParsedFilter, Term, fold, parse_filter
from data.matching import PersonFields, filter_condition
from data.members import member_count, member_page
from data.models import Account, CampaignMember, Contact, Lead
from data.people import people_count, people_page
from data.rollups import recount
from data.suppression import suppress_addresses
from tests import factories as f
from tests.conftest import backend_of

# Reading ----------------------------------------------------------------------------------------


def test_the_example_reads_as_seven_terms():
    parsed = parse_filter(
        "country:DE,AT industry:software title:vp status:opened -status:clicked "
        "created:>=2026-01-01 acme"
    )
    assert parse_filter("zz:1").problems == (
        "unknown field 'zz': use country, industry, source, lead_status, title, company, "
        "created, opened, clicked, responded, type, flag, status",
    )
    assert parsed.problems == ()
    assert [(t.field, t.values, t.negated) for t in parsed.terms] == [
        ("country", ("DE", "AT"), False),
        ("industry", ("software",), False),
        ("title", ("vp",), False),
        ("status", ("opened",), False),
        ("status", ("clicked",), True),
        ("created", ("2026-01-01",), False),
        ("", ("acme",), False),
    ]
    assert parsed.terms[5].operator == ">=" and parsed.terms[5].day == date(2026, 1, 1)


def test_a_term_that_cannot_be_read_says_why_and_the_rest_still_apply():
    parsed = parse_filter('contry:DE created:>=2026-13-01 status:opend type: "acme corp')
    assert [(t.field, t.values) for t in parsed.terms] == [("", ("acme",)), ("", ("corp",))]
    assert parsed.problems == (
        'a quote is not closed: each " needs its pair',
        "unknown field 'contry': did you mean country?",
        "created: '2026-13-01' is not a date like created:>=2026-01-31",
        "status: 'opend' is not one of sent, opened, clicked, responded, converted, bounced, "
        "unsubscribed",
        "type: give a value, like type:lead",
    )


@given(st.text(max_size=60))
def test_any_text_reads_without_an_exception(text):
    parsed = parse_filter(text)
    assert all(isinstance(p, str) and p for p in parsed.problems)


# Selecting: SQL against a plain Python reading ---------------------------------------------------

COUNTRIES = ("DE", "AT", "US", "ÉIRE", "Éire")
INDUSTRIES = ("Software", "Finance", "Ingeniería")
TITLES = ("VP Sales", "CTO", "", "Svp Ops", "Jefa de Ingeniería")
COMPANIES = ("Acme", "Globex", "", "MÜLLER GmbH")
DAY0 = datetime(2026, 1, 1, 12, 0)

PERSON = st.fixed_dictionaries(
    {
        "country": st.sampled_from(COUNTRIES),
        "industry": st.sampled_from(INDUSTRIES),
        "title": st.sampled_from(TITLES),
        "company": st.sampled_from(COMPANIES),
        "created": st.integers(-3, 3),
        "dne": st.booleans(),
        "bounced": st.booleans(),
        "suppressed": st.booleans(),
        "kind": st.sampled_from(("lead", "contact")),
        "rung": st.integers(0, 4),
        "opened": st.none() | st.integers(-2, 2),
        "member_bounced": st.booleans(),
        "member": st.booleans(),
    }
)

WORD_TERMS = st.sampled_from(
    [
        "country:DE,AT",
        "country:de",
        "country:éire",
        "country:ÉIRE,us",
        "industry:software",
        "industry:INGENIERÍA",
        "title:INGENIERÍA",
        "title:vp",
        "title:vp,cto",
        "company:acme",
        "created:>=2026-01-01",
        "created:<2026-01-02",
        "created:=2026-01-01",
        "created:>2025-12-31",
        "created:<=2026-01-02",
        "type:lead",
        "type:contact",
        "flag:suppressed",
        "flag:bounced",
        "status:opened",
        "status:clicked",
        "status:sent",
        "status:bounced",
        "status:converted,responded",
        "opened:>=2026-01-01",
        "acme",
        "glob",
        "müller",
        "Müller",
        "p3",
    ]
)
FILTERS = st.lists(st.tuples(st.booleans(), WORD_TERMS), max_size=4).map(
    lambda terms: " ".join(("-" if neg else "") + word for neg, word in terms)
)


def py_matches(person: dict, text: str, member_list: bool) -> bool:
    """The same filter read by hand: the definition the SQL is held to."""
    for term in parse_filter(text).terms:
        result = py_term(person, term, member_list)
        if result == term.negated:
            return False
    return True


def _in_dates(value, term) -> bool:
    if value is None:
        return False
    day = DAY0.date() + timedelta(days=value)
    return {
        ">=": day >= term.day,
        ">": day > term.day,
        "<=": day <= term.day,
        "<": day < term.day,
        "=": day == term.day,
    }[term.operator]


def py_term(p: dict, term, member_list: bool) -> bool:
    member = p["member"] or member_list
    company = p["company"]
    if not term.field:
        w = fold(term.values[0])
        return w in fold(p["name"]) or w in p["email"] or w in fold(company)
    if term.field in ("country", "industry"):
        return fold(p[term.field]) in [fold(v) for v in term.values]
    if term.field == "title":
        return any(fold(v) in fold(p["title"]) for v in term.values)
    if term.field == "company":
        return any(fold(v) in fold(company) for v in term.values)
    if term.field == "created":
        return _in_dates(p["created"], term)
    if term.field == "opened":
        return member and _in_dates(p["opened"], term)
    if term.field == "type":
        return p["kind"] in term.values
    if term.field == "flag":
        return ("suppressed" in term.values and (p["dne"] or p["suppressed"])) or (
            "bounced" in term.values and p["bounced"]
        )
    assert term.field == "status"
    if not member:
        return False
    rungs = ["sent", "opened", "clicked", "responded", "converted"]
    return any(
        p["member_bounced"] if v == "bounced" else p["rung"] >= rungs.index(v) for v in term.values
    )


_examples = itertools.count()


def _make(people: list[dict], n: int):
    """The people as leads and contacts, members of one campaign as drawn; their names."""
    campaign = f.campaign(f"Filters {n}")
    account = {c: Account.get_or_create(name=c)[0] for c in COMPANIES if c}
    suppressed = []
    for i, p in enumerate(people):
        values = {
            "first_name": "Pat",
            "last_name": f"P{i}x{n}",
            "email": f"p{i}.{n}@example.com",
            "country": p["country"],
            "industry": p["industry"],
            "title": p["title"],
            "created_at": DAY0 + timedelta(days=p["created"]),
            "do_not_email": p["dne"],
            "email_bounced": p["bounced"],
        }
        if p["kind"] == "lead":
            person = Lead.create(company=p["company"], **values)
        else:
            person = Contact.create(account=account.get(p["company"]), **values)
        p.update(name=f"Pat P{i}x{n}", email=values["email"], id=person.id)
        if p["suppressed"]:
            suppressed.append(values["email"])
        if p["member"]:
            key = "lead" if p["kind"] == "lead" else "contact"
            M = CampaignMember
            M.create(
                campaign=campaign,
                **{key: person.id},
                rung=p["rung"],
                bounced=p["member_bounced"],
                first_opened_at=None if p["opened"] is None else DAY0 + timedelta(days=p["opened"]),
            )
    from data.suppression import SuppressionEntry

    suppress_addresses([SuppressionEntry(email, "manual", DAY0) for email in suppressed], DAY0)
    recount([campaign.id])
    return campaign


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(people=st.lists(PERSON, min_size=1, max_size=8), text=FILTERS)
def test_a_filter_selects_exactly_what_the_plain_reading_selects(fresh_db, people, text):
    n = next(_examples)
    campaign = _make(people, n)
    mine = {(p["kind"], p["id"]) for p in people}
    for kind in ("lead", "contact"):
        model = Lead if kind == "lead" else Contact
        query = model.select(model.id)
        if model is Contact:
            query = query.join(Account, JOIN.LEFT_OUTER)
        condition = filter_condition(text, PersonFields(model))
        if condition is not None:
            query = query.where(condition)
        got = {(kind, pid) for (pid,) in query.tuples()} & mine
        want = {(kind, p["id"]) for p in people if p["kind"] == kind and py_matches(p, text, False)}
        assert got == want, (text, kind)
    members = {
        (r.person_type, r.person_id) for r in member_page(campaign.id, "all", text, limit=100)
    }
    want = {(p["kind"], p["id"]) for p in people if p["member"] and py_matches(p, text, True)}
    assert members == want, text
    assert member_count(campaign.id, "all", text) == len(want)


def test_people_and_members_take_the_same_filter(demo_db):
    text = "country:DE,AT -flag:suppressed"
    leads = people_page("lead", text, limit=500)
    assert leads and all(row[5] in ("DE", "AT") for row in leads)
    assert people_count("lead", text) >= len(leads)


@pytest.mark.parametrize("kind", ["lead", "contact"])
def test_a_country_or_industry_term_is_found_from_an_index(fresh_db, kind):
    """The list fields compare the column's LOWER, which an index of each person table holds
    (no COALESCE around a column that cannot be NULL hides it from the index)."""
    from data.db import database
    from data.people import _people_query

    for text, index in (("country:de", "country"), ("industry:SOFTWARE", "industry")):
        query, _ = _people_query(kind, text)
        sql, params = query.sql()
        with database.atomic():
            if backend_of(fresh_db) == "postgresql":
                database.execute_sql("SET LOCAL enable_seqscan = off")  # tables this small
                plan = database.execute_sql("EXPLAIN " + sql, params).fetchall()
            else:
                plan = database.execute_sql("EXPLAIN QUERY PLAN " + sql, params).fetchall()
        assert f"{kind}_lower_{index}" in str(plan), (text, plan)


# Case: one rule for what "whatever the case" means, in Python and in both databases -----------


def test_a_value_typed_as_it_is_stored_finds_it_whatever_its_letters(fresh_db):
    f.lead(country="ÉIRE", last_name="Müller", industry="Ingeniería")
    f.contact(country="Éire", last_name="ÖZTÜRK")
    for text in ("country:ÉIRE", "country:éire", "MÜLLER", "müller", "industry:INGENIERÍA"):
        assert people_count("lead", text) == 1, text
    for text in ("country:ÉIRE", "country:Éire", "öztürk"):
        assert people_count("contact", text) == 1, text
    assert people_count("lead", "country:eire") == 0  # an accent is not a case


CASED = st.characters(
    whitelist_categories=("Lu", "Ll", "Lt"),
    max_codepoint=0x52F,  # Latin, Greek, Cyrillic: the letters names and places are written in
)


def _recased(data, text: str) -> str:
    """The text with each letter's case chosen at random."""
    cases = (lambda c: c, str.upper, str.lower, str.swapcase)
    return "".join(data.draw(st.sampled_from(cases))(c) for c in text)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(stored=st.text(CASED, min_size=1, max_size=6), data=st.data())
def test_folding_agrees_between_python_and_the_database(fresh_db, stored, data):
    """A value finds a stored one exactly when both fold alike, by a list field's term and by a
    bare word, on both backends (and a server's LOWER is the same rule)."""
    from data.db import database

    other = data.draw(st.text(CASED, max_size=6))
    typed = data.draw(st.sampled_from((_recased(data, stored), other)))
    lead = f.lead(country=stored, last_name=stored)
    if backend_of(fresh_db) == "postgresql":
        assert database.execute_sql("SELECT lower(%s)", (stored,)).fetchone()[0] == fold(stored)
    fields = PersonFields(Lead)
    query = Lead.select(Lead.id).where(Lead.id == lead.id)
    listed = filter_condition(ParsedFilter((Term("country", (typed,)),)), fields)
    assert query.where(listed).exists() == (fold(typed) == fold(stored)), (stored, typed)
    if typed:
        worded = filter_condition(ParsedFilter((Term("", (typed,)),)), fields)
        assert query.where(worded).exists() == (fold(typed) in fold(f"Lea {stored}")), (
            stored,
            typed,
        )
    lead.delete_instance()


def test_a_filter_of_too_many_terms_is_refused_in_one_line(fresh_db):
    words = " ".join(f"w{i}" for i in range(79))
    parsed = parse_filter(words)
    assert parsed.terms == ()
    assert parsed.problems == (f"a filter takes at most {MOST_TERMS} terms; this one has 79",)
    titles = "title:" + ",".join(f"t{i}" for i in range(60))
    assert parse_filter(titles).problems == (
        f"a filter takes at most {MOST_TERMS} terms; this one has 60",
    )


def test_the_most_terms_a_filter_takes_all_reach_the_database(fresh_db):
    f.lead(last_name="Kiwi", title="Ingeniería")
    words = " ".join(["kiwi"] * (MOST_TERMS // 2) + ["-zzz"] * (MOST_TERMS // 2))
    assert parse_filter(words).problems == ()
    assert people_count("lead", words) == 1
    titles = "title:" + ",".join(["INGENIERÍA"] * MOST_TERMS)
    assert people_count("lead", titles) == 1
    campaign = f.campaign("Many terms")
    assert member_count(campaign.id, "all", words) == 0


# status: a campaign's labels ------------------------------------------------------------------


def test_status_takes_a_campaigns_labels_as_reached_in_its_order(fresh_db):
    from data.campaigns import create_campaign
    from data.enrollment import enroll
    from data.ingest import set_member_status

    webinar = create_campaign("Label webinar", "Webinar", "leads", {})
    registered, attended, invited = (f.lead(last_name=n) for n in ("Reg", "Att", "Inv"))
    enroll(webinar, {"lead": [registered.id, attended.id, invited.id]})
    member = {m.lead_id: m for m in CampaignMember.select()}
    set_member_status(member[registered.id], "Registered")
    set_member_status(member[attended.id], "Attended")
    recount([webinar.id])

    def listed(text: str) -> set[str]:
        rows = member_page(webinar.id, "all", text, limit=10)
        assert member_count(webinar.id, "all", text) == len(rows), text
        return {row.name.split()[-1] for row in rows}

    assert listed("status:registered") == {"Reg", "Att"}
    assert listed("status:REGISTERED") == {"Reg", "Att"}
    assert listed("status:registered -status:attended") == {"Reg"}
    assert listed("status:invited") == {"Reg", "Att", "Inv"}
    assert listed("status:responded") == {"Reg", "Att"}
    assert listed("status:nosuchlabel") == set()
    assert people_count("lead", "status:attended") == 1
    assert people_count("lead", "-status:registered") == people_count("lead", "") - 2


def test_a_status_word_is_read_against_the_labels_it_may_name():
    labels = ["Invited", "Opened", "Registered", "Attended"]
    assert parse_filter("status:registered", labels).problems == ()
    assert parse_filter("status:Attended,opened", labels).terms[0].values == ("attended", "opened")
    assert parse_filter("status:registerd", labels).problems == (
        "status: 'registerd' is not one of sent, opened, clicked, responded, converted, "
        "bounced, unsubscribed, Invited, Registered, Attended",
    )
    assert parse_filter("status:registered").problems  # no campaign names it
