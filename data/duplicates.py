"""Likely duplicates within leads or within contacts (PRODUCT.md §10).

Two records are likely one person when their addresses are the same mailbox written two ways
(addresses are stored lower-cased, so case is already one; a `+tag` after the local part; dots in
the local part on Gmail-like domains, which ignore them), or when their names and company are the
same once trimmed and lower-cased (a record without a company is never matched by name alone).
Each rule is one set-based statement per table: the records grouped by the normalised key (a
count over each key's partition), those whose group holds more than one kept.
"""

from __future__ import annotations

from dataclasses import dataclass

from peewee import SQL, Case, fn

from data.models import Account, Contact, Lead
from data.sql import database, is_sqlite

DOTLESS_DOMAINS = ("gmail.com", "googlemail.com")
"""Domains whose mailboxes ignore dots in the local part (and are one provider)."""

SAME_MAILBOX = "same mailbox"
SAME_NAME_AND_COMPANY = "same name and company"


@dataclass(frozen=True, slots=True)
class Record:
    kind: str
    id: int
    email: str
    name: str

    def as_dict(self) -> dict:
        return {"email": self.email, "name": self.name, "kind": self.kind}


@dataclass(slots=True)
class Group:
    """Records of one kind that are likely one person, and why."""

    kind: str
    why: list[str]
    records: list[Record]

    def as_dict(self) -> dict:
        return {
            "kind": self.kind,
            "why": "; ".join(self.why),
            "records": [r.as_dict() for r in self.records],
        }


def _position(text, needle: str):
    return fn.INSTR(text, needle) if is_sqlite() else fn.STRPOS(text, needle)


def mailbox_key(email):
    """SQL: the mailbox a stored (lower-cased) address reaches: without a `+tag`, without dots
    in the local part on a dotless domain, with that provider's one domain."""
    at = _position(email, "@")
    local = fn.SUBSTR(email, 1, at - 1)
    domain = fn.SUBSTR(email, at + 1)
    plus = _position(local, "+")
    untagged = Case(None, [(plus > 0, fn.SUBSTR(local, 1, plus - 1))], local)
    dotless = domain.in_(DOTLESS_DOMAINS)
    return (
        Case(None, [(dotless, fn.REPLACE(untagged, ".", ""))], untagged)
        .concat("@")
        .concat(Case(None, [(dotless, DOTLESS_DOMAINS[0])], domain))
    )


def _name_key(model, company):
    return (
        fn.LOWER(fn.TRIM(model.first_name))
        .concat(" ")
        .concat(fn.LOWER(fn.TRIM(model.last_name)))
        .concat("|")
        .concat(fn.LOWER(fn.TRIM(company)))
    )


def _groups_by(model, kind: str, key, company_column, why: str, *, join=None) -> list[Group]:
    """One statement: the records whose key another record of the table shares (each record's
    key counted over its partition: one sort of the table by the key)."""
    keyed = model.select(
        model.id,
        model.email,
        model.first_name,
        model.last_name,
        key.alias("k"),
        fn.COUNT(SQL("*")).over(partition_by=[key]).alias("n"),
    )
    if join is not None:
        keyed = keyed.join(join[0], on=join[1])
    if company_column is not None:
        keyed = keyed.where(fn.TRIM(company_column) != "")
    keyed = keyed.alias("keyed")
    query = (
        model.select(keyed.c.id, keyed.c.email, keyed.c.first_name, keyed.c.last_name, keyed.c.k)
        .from_(keyed)
        .where(keyed.c.n > 1)
        .order_by(keyed.c.k, keyed.c.id)
    )
    groups: dict[str, Group] = {}
    for pid, email, first, last, k in query.tuples():
        group = groups.setdefault(k, Group(kind, [why], []))
        group.records.append(Record(kind, pid, email, f"{first} {last}".strip()))
    return list(groups.values())


def duplicates() -> list[Group]:
    """Every group of likely duplicates: leads, then contacts; a group both rules find once,
    with both reasons."""
    found: list[Group] = []
    with database.atomic():  # one snapshot for every statement
        for model, kind in ((Lead, "lead"), (Contact, "contact")):
            groups = _groups_by(model, kind, mailbox_key(model.email), None, SAME_MAILBOX)
            if model is Lead:
                key = _name_key(Lead, Lead.company)
                named = _groups_by(Lead, kind, key, Lead.company, SAME_NAME_AND_COMPANY)
            else:
                key = _name_key(Contact, Account.name)
                named = _groups_by(
                    Contact,
                    kind,
                    key,
                    Account.name,
                    SAME_NAME_AND_COMPANY,
                    join=(Account, Contact.account == Account.id),
                )
            by_members = {frozenset(r.id for r in g.records): g for g in groups}
            for group in named:
                same = by_members.get(frozenset(r.id for r in group.records))
                if same is not None:
                    same.why.append(SAME_NAME_AND_COMPANY)
                else:
                    groups.append(group)
            found.extend(groups)
    return found
