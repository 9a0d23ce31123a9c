"""Small builders for test data, through the same models the services use."""

from __future__ import annotations

import itertools

from data.campaigns import create_campaign
from data.models import Account, Contact, Lead

_counter = itertools.count(1)


def lead(**fields) -> Lead:
    n = next(_counter)
    values = {
        "first_name": "Lea",
        "last_name": f"Lead{n}",
        "email": f"lead{n}@example.com",
        "country": "US",
        "industry": "Software",
    }
    values.update(fields)
    return Lead.create(**values)


def contact(**fields) -> Contact:
    n = next(_counter)
    account = fields.pop("account", None) or Account.get_or_create(name="Acme")[0]
    values = {
        "first_name": "Con",
        "last_name": f"Contact{n}",
        "email": f"contact{n}@example.com",
        "country": "US",
        "industry": "Software",
        "account": account,
    }
    values.update(fields)
    return Contact.create(**values)


def campaign(name: str | None = None, kind: str = "both", filters: dict | None = None, **kw):
    return create_campaign(name or f"Campaign {next(_counter)}", "Email", kind, filters or {}, **kw)
