"""Likely duplicates (PRODUCT.md §10): the same mailbox written two ways, or the same name and
company, within leads or within contacts."""

from __future__ import annotations

import json

from data.duplicates import duplicates
from data.models import Account
from tests import factories as f
from tests.test_privacy import _close, campaigns


def people() -> None:
    f.lead(first_name="Bo", last_name="Dupe", email="Bo.Dupe+news@gmail.com")
    f.lead(first_name="Bo", last_name="D", email="bodupe@googlemail.com")
    f.lead(first_name="Bo", last_name="Dupe", email="bo.dupe@other.com", company="Acme")
    f.lead(first_name=" bo", last_name="DUPE", email="x@other.com", company="acme ")
    f.lead(first_name="Al", last_name="Solo", email="al+a@example.com")  # dots count here
    f.lead(first_name="Al", last_name="Solo", email="a.l@example.com")  # and no company
    f.lead(first_name="Cy", last_name="Twin", email="cy.lead@example.com")  # a lead: not grouped
    twins = [
        f.contact(first_name="Cy", last_name="Twin", email=e)
        for e in ("cy+1@example.com", "cy@example.com")
    ]
    initech = Account.create(name="Initech")
    for contact in twins:
        contact.account = initech
        contact.save()


EXPECTED = [
    {
        "kind": "lead",
        "why": "same mailbox",
        "records": [
            {"email": "bo.dupe+news@gmail.com", "name": "Bo Dupe", "kind": "lead"},
            {"email": "bodupe@googlemail.com", "name": "Bo D", "kind": "lead"},
        ],
    },
    {
        "kind": "lead",
        "why": "same name and company",
        "records": [
            {"email": "bo.dupe@other.com", "name": "Bo Dupe", "kind": "lead"},
            {"email": "x@other.com", "name": "bo DUPE", "kind": "lead"},
        ],
    },
    {
        "kind": "contact",
        "why": "same mailbox; same name and company",
        "records": [
            {"email": "cy+1@example.com", "name": "Cy Twin", "kind": "contact"},
            {"email": "cy@example.com", "name": "Cy Twin", "kind": "contact"},
        ],
    },
]


def test_duplicates_are_found_by_mailbox_and_by_name_and_company(fresh_db):
    people()
    assert [g.as_dict() for g in duplicates()] == EXPECTED


def test_no_people_no_duplicates(fresh_db):
    f.lead(last_name="One", email="one@example.com")
    assert duplicates() == []


def test_duplicates_from_the_command_line(fresh_db):
    people()
    _close()
    assert json.loads(campaigns(fresh_db, "people", "duplicates", "--json").stdout) == EXPECTED
    text = campaigns(fresh_db, "people", "duplicates").stdout
    assert "leads, same mailbox:\n  bo.dupe+news@gmail.com  Bo Dupe\n" in text
    assert text.endswith("3 groups of likely duplicates\n")
