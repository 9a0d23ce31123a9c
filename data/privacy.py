"""Forgetting a person and answering what is held about them (PRODUCT.md §10).

`forget` erases every personal trace of one address in one transaction: the leads and contacts
with it become anonymous placeholders (their memberships stay, so campaign counts and rates do
not move), their events lose the address, extra keys and received lines, rejected events naming
the address go, and so do the address's suppressions, score and journal summaries naming it.
What stays is its tombstone (`tombstones`), which suppresses the address if it ever comes back.
On SQLite the work runs with `secure_delete` on and the log is then copied back and emptied, so
no deleted byte lingers in the file; on a server the rows are updated or deleted and the server's
vacuum reclaims the old versions. The journal records who, when and how many, never the address.

`holdings` is the access request's answer: everything held about the address, as plain data.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime

from peewee import fn

from data.emails import email_problem, normalize_email
from data.errors import ValidationError
from data.journal import current_user
from data.models import (
    Account,
    Campaign,
    CampaignMember,
    Contact,
    EngagementEvent,
    EngagementScore,
    JournalEntry,
    JournalMember,
    JournalPayload,
    Lead,
    Opportunity,
    Suppression,
    utcnow,
)
from data.sql import database, is_sqlite
from data.tombstones import bury
from data.vocab import EventOutcome, JournalAction

PLACEHOLDER_NAME = "(forgotten)"
"""The last name an anonymous placeholder record keeps (a person needs one)."""

PLACEHOLDER_DOMAIN = "forgotten.invalid"
"""The domain of a placeholder's address: `.invalid` is reserved, so it never reaches anyone."""


@dataclass
class Forgetting:
    """What forgetting an address removes or blanks, per kind of record."""

    email: str
    leads: list[int] = field(default_factory=list)
    contacts: list[int] = field(default_factory=list)
    memberships: int = 0
    events: int = 0
    rejected_events: int = 0
    suppressions: int = 0
    scores: int = 0
    journal_entries: int = 0
    journal_payloads: int = 0
    accounts: int = 0

    @property
    def found(self) -> bool:
        return bool(self.leads or self.contacts or self.events or self.rejected_events) or bool(
            self.suppressions or self.scores or self.journal_entries or self.journal_payloads
        )

    def counts(self) -> dict[str, int]:
        """Per kind of record, how many (memberships are kept, with their counts)."""
        return {
            "leads anonymized": len(self.leads),
            "contacts anonymized": len(self.contacts),
            "memberships kept (anonymous)": self.memberships,
            "events blanked": self.events,
            "rejected events deleted": self.rejected_events,
            "suppressions deleted": self.suppressions,
            "scores deleted": self.scores,
            "journal summaries blanked": self.journal_entries,
            "merge records deleted (those merges can no longer be undone)": self.journal_payloads,
            "companies deleted": self.accounts,
        }

    def records(self) -> int:
        return sum(n for kind, n in self.counts().items() if not kind.startswith("memberships"))


def _address(email: str) -> str:
    problem = email_problem(email or "")
    if problem:
        raise ValidationError(problem)
    return normalize_email(email)


def _contains(column, text: str):
    """The column holds the text, whatever the case (a LIKE that may also match where a `_`
    of the text stands for another character: erring towards erasing)."""
    return column.contains(text)


def _members(leads: list[int], contacts: list[int]):
    M = CampaignMember
    return M.select(M.id).where(M.lead.in_(leads) | M.contact.in_(contacts))


def _rejected(email: str):
    """The rejected events naming the address (the partial index of rejected events, then the
    few rows it names)."""
    E = EngagementEvent
    return (E.outcome == EventOutcome.REJECTED) & (
        (fn.LOWER(E.email) == email) | _contains(E.received_line, email)
    )


def _orphan_rejected(email: str, members):
    """Rejected events naming the address that no membership of the person holds (those are
    blanked with the person's other events)."""
    E = EngagementEvent
    return _rejected(email) & (E.member.is_null() | E.member.not_in(members))


def _named_entries(email: str, names: list[str]):
    E = JournalEntry
    condition = _contains(E.summary, email) | _contains(E.undo_summary, email)
    for name in names:
        condition |= _contains(E.summary, name) | _contains(E.undo_summary, name)
    return condition


def _named_payload(email: str):
    """What merges kept to be undone that names the address (a merged record's copy)."""
    return _contains(JournalPayload.payload, email)


def _names(leads: list[int], contacts: list[int]) -> list[str]:
    """The full names of the records, lower-cased, for finding them in journal summaries."""
    names = set()
    for model, ids in ((Lead, leads), (Contact, contacts)):
        for first, last in (
            model.select(model.first_name, model.last_name).where(model.id.in_(ids)).tuples()
        ):
            full = f"{first} {last}".strip().lower()
            if len(full) >= 4:  # a short name would blank unrelated summaries
                names.add(full)
    return sorted(names)


def plan(email: str) -> Forgetting:
    """What `forget` would remove or blank for this address (the dry run)."""
    address = _address(email)
    found = Forgetting(address)
    found.leads = [i for (i,) in Lead.select(Lead.id).where(Lead.email == address).tuples()]
    found.contacts = [
        i for (i,) in Contact.select(Contact.id).where(Contact.email == address).tuples()
    ]
    E = EngagementEvent
    members = _members(found.leads, found.contacts)
    found.memberships = members.count()
    found.events = E.select().where(E.member.in_(members)).count()
    found.rejected_events = E.select().where(_orphan_rejected(address, members)).count()
    found.suppressions = Suppression.select().where(Suppression.email == address).count()
    found.scores = EngagementScore.select().where(EngagementScore.email == address).count()
    names = _names(found.leads, found.contacts)
    found.journal_entries = JournalEntry.select().where(_named_entries(address, names)).count()
    found.journal_payloads = JournalPayload.select().where(_named_payload(address)).count()
    found.accounts = len(_own_accounts(found.contacts))
    return found


def _own_accounts(contacts: list[int]) -> list[int]:
    """The companies only these contacts belong to (no other contact, no opportunity): a
    company shared with others is not this person's to erase."""
    C = Contact
    mine = [
        a
        for (a,) in C.select(C.account)
        .where(C.id.in_(contacts) & C.account.is_null(False))
        .distinct()
        .tuples()
    ]
    others = {
        a
        for (a,) in C.select(C.account).where(C.account.in_(mine) & C.id.not_in(contacts)).tuples()
    }
    others.update(
        a
        for (a,) in Opportunity.select(Opportunity.account)
        .where(Opportunity.account.in_(mine))
        .tuples()
    )
    return [a for a in mine if a not in others]


@contextmanager
def _securely() -> Iterator[None]:
    """On SQLite: what the block deletes or overwrites is zeroed in the file, and after it the
    log is copied back into the file and emptied (the old pages it held go with it)."""
    if not is_sqlite():
        yield
        return
    database.execute_sql("PRAGMA secure_delete = ON")
    try:
        yield
    finally:
        database.execute_sql("PRAGMA secure_delete = OFF")
    database.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)")


def forget(email: str, *, who: str | None = None, now: datetime | None = None) -> Forgetting:
    """Erase every personal trace of the address (see the module's doc); not undoable.
    Returns what went. An address nothing is held about is refused."""
    now = now or utcnow()
    with _securely():
        with database.atomic():
            found = plan(email)
            if not found.found:
                raise ValidationError(f"nothing is held about {found.email}")
            address = found.email
            names = _names(found.leads, found.contacts)
            accounts = _own_accounts(found.contacts)
            placeholder = f"forgotten-{secrets.token_hex(8)}@{PLACEHOLDER_DOMAIN}"
            blank = {"first_name": "", "title": "", "country": "", "industry": ""}
            Lead.update(
                **blank,
                last_name=PLACEHOLDER_NAME,
                email=placeholder,
                company="",
                lead_source="",
                do_not_email=True,
            ).where(Lead.id.in_(found.leads)).execute()
            Contact.update(
                **blank,
                last_name=PLACEHOLDER_NAME,
                email=placeholder,
                account=None,
                do_not_email=True,
            ).where(Contact.id.in_(found.contacts)).execute()
            if accounts:
                Account.delete().where(Account.id.in_(accounts)).execute()
            E = EngagementEvent
            members = _members(found.leads, found.contacts)
            E.delete().where(_orphan_rejected(address, members)).execute()
            E.update(email="", extra="", received_line="", reason="").where(
                E.member.in_(members)
            ).execute()
            Suppression.delete().where(Suppression.email == address).execute()
            EngagementScore.delete().where(EngagementScore.email == address).execute()
            J = JournalEntry
            J.update(summary="", undo_summary="").where(_named_entries(address, names)).execute()
            JournalPayload.delete().where(_named_payload(address)).execute()
            bury(address, now)
            J.create(
                at=now,
                who=who if who is not None else current_user(),
                action=JournalAction.FORGET,
                count=found.records(),
                summary=f"forgot a person on request: {found.records()} records",
            )
    return found


# What is held -----------------------------------------------------------------------------------


def _row(model_instance, *, leave: tuple[str, ...] = ()) -> dict:
    return {k: v for k, v in model_instance.__data__.items() if k not in leave}


def holdings(email: str) -> dict:
    """Everything held about the address, for an access request: its leads and contacts, their
    memberships (with each campaign's name) and events, rejected events naming it, its
    suppressions (lifted ones too), its engagement score and the journal entries about it."""
    address = _address(email)
    leads = list(Lead.select().where(Lead.email == address))
    contacts = list(Contact.select().where(Contact.email == address))
    lead_ids, contact_ids = [p.id for p in leads], [p.id for p in contacts]
    M, E = CampaignMember, EngagementEvent
    members = list(
        M.select(M, Campaign.name)
        .join(Campaign)
        .where(M.lead.in_(lead_ids) | M.contact.in_(contact_ids))
        .order_by(M.id)
    )
    events = list(E.select().where(E.member.in_([m.id for m in members])).order_by(E.id))
    rejected = list(E.select().where(_orphan_rejected(address, _members(lead_ids, contact_ids))))
    names = _names(lead_ids, contact_ids)
    J, JM = JournalEntry, JournalMember
    about = J.id.in_(
        JM.select(JM.entry).where(JM.lead_id.in_(lead_ids) | JM.contact_id.in_(contact_ids))
    )
    journal = list(J.select().where(about | _named_entries(address, names)).order_by(J.id))
    score = EngagementScore.get_or_none(EngagementScore.email == address)
    S = Suppression
    suppressions = list(S.select().where(S.email == address).order_by(S.id))
    if not (leads or contacts or rejected or suppressions) and score is None:
        raise ValidationError(f"nothing is held about {address}")
    return {
        "email": address,
        "leads": [_row(p) for p in leads],
        "contacts": [
            {**_row(p), "company": p.account.name if p.account_id else ""} for p in contacts
        ],
        "memberships": [{**_row(m), "campaign_name": m.campaign.name} for m in members],
        "events": [_row(e) for e in events],
        "rejected_events": [_row(e) for e in rejected],
        "suppressions": [_row(s) for s in suppressions],
        "engagement_score": _row(score) if score else None,
        "journal": [_row(j) for j in journal],
    }
