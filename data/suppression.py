"""Suppression follows the address, not the record (PRODUCT.md §1).

An unsubscribe or a hard bounce suppresses the email address, with the event that caused it and
when. Every lead and contact with that address, now or imported later, is left out of every
enrollment (`identity.membership_category`) and shown as suppressed (`suppression_of`). Only a
user lifts a suppression, with a reason that is kept (`lift`); imports and events never do.

The per-record flags follow the address: suppressing sets *do not email* (unsubscribe, manual)
or *email bounced* (bounce) on every lead and contact with the address and on the lead or contact
linked to them by conversion; lifting clears both; an import that flags a person suppresses the
address; a person imported under a suppressed address gets the flag.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from peewee import EXCLUDED, chunked, fn

from data.emails import email_problem, normalize_email
from data.identity import addresses_of
from data.models import (
    Contact,
    Lead,
    Person,
    Suppression,
    ValidationError,
    length_problem,
    utcnow,
)
from data.progress import OnProgress
from data.sql import database, in_list, insert_rows
from data.tombstones import erased
from data.vocab import SuppressionKind

FLAG_OF_KIND = {kind.value: kind.flag for kind in SuppressionKind}
"""The per-record flag a suppression of each kind sets."""

ADDRESS_CHUNK = 5_000
"""Addresses per look-up (one parameter each)."""


@dataclass(frozen=True, slots=True)
class SuppressionEntry:
    """One cause to suppress an address: an unsubscribe or bounce event, or a user's action."""

    email: str
    kind: str
    at: datetime
    reason: str = ""
    event_id: str | None = None
    campaign_id: int | None = None


def suppress_addresses(entries: Iterable[SuppressionEntry], now: datetime | None = None) -> int:
    """Suppress these addresses and flag every record with them; a fixed number of statements
    per 5,000 addresses. Call inside the transaction that records the events.

    An address already suppressed keeps one suppression, the one with the earliest cause (so the
    outcome does not depend on the order events arrive in); a user's own suppression is kept as
    it is. A cause dated before a user lifted the address's suppression does not suppress it
    again (the user's re-subscription is later news). Returns how many addresses became
    suppressed."""
    now = now or utcnow()
    entries = [e for e in entries if e.email]
    if not entries:
        return 0
    S = Suppression
    last_lift: dict[str, object] = {}
    for chunk in chunked(sorted({e.email for e in entries}), ADDRESS_CHUNK):
        last_lift.update(
            S.select(S.email, fn.MAX(S.lifted_at))
            .where(in_list(S.email, chunk) & S.lifted_at.is_null(False))
            .group_by(S.email)
            .tuples()
        )
    live = [e for e in entries if not _lifted_since(last_lift.get(e.email), e.at)]
    earliest: dict[str, SuppressionEntry] = {}
    for e in live:
        if e.email not in earliest or e.at < earliest[e.email].at:
            earliest[e.email] = e
    addresses = sorted(earliest)
    made = -_active_count(addresses)
    # One prepared statement over every row: building a multi-row statement costs more here
    # than running it.
    insert_rows(
        S,
        [S.email, S.kind, S.reason, S.event_id, S.campaign, S.at, S.created_at],
        [
            (e.email, e.kind, e.reason, e.event_id, e.campaign_id, e.at, now)
            for e in (earliest[address] for address in addresses)
        ],
        conflict=lambda query: query.on_conflict(
            conflict_target=[S.email],
            conflict_where=S.lifted_at.is_null(),
            update={
                S.kind: EXCLUDED.kind,
                S.reason: EXCLUDED.reason,
                S.event_id: EXCLUDED.event_id,
                S.campaign: EXCLUDED.campaign_id,
                S.at: EXCLUDED.at,
            },
            where=(EXCLUDED.at < S.at) & (S.kind != "manual"),
        ),
    )
    made += _active_count(addresses)
    for flag in set(FLAG_OF_KIND.values()):
        flagged = sorted({e.email for e in live if FLAG_OF_KIND[e.kind] == flag})
        for part in chunked(flagged, ADDRESS_CHUNK):
            _flag_addresses(list(part), flag, True)
    return made


ERASED_REASON = "erased on {:%Y-%m-%d}"
"""The reason a forgotten address that comes back is suppressed with."""


def suppress_erased(emails: Iterable[str], now: datetime | None = None) -> int:
    """Suppress those of these addresses that were forgotten (`tombstones`): a person who asked
    to be erased is never enrolled again by accident, whether the address returns in an import,
    an event or a webhook. Call inside the transaction that writes them. Returns how many
    addresses became suppressed."""
    now = now or utcnow()
    back = erased(emails)
    return suppress_addresses(
        [
            SuppressionEntry(email, "manual", now, reason=ERASED_REASON.format(at))
            for email, at in back.items()
        ],
        now,
    )


def _active_count(addresses: list[str]) -> int:
    """How many of these addresses are suppressed now."""
    S = Suppression
    return sum(
        S.select().where(in_list(S.email, chunk) & S.lifted_at.is_null()).count()
        for chunk in chunked(addresses, ADDRESS_CHUNK)
    )


def _lifted_since(lifted_at, at: datetime) -> bool:
    if lifted_at is None:
        return False
    if isinstance(lifted_at, str):
        lifted_at = datetime.fromisoformat(lifted_at)
    return lifted_at >= at


def _flag_addresses(emails: list[str], flag: str, value: bool) -> None:
    """Set (or clear) a flag on every lead and contact with these addresses, and on the lead or
    contact each is linked to by conversion: one person, one flag."""
    if not emails:
        return
    lead_flag, contact_flag = getattr(Lead, flag), getattr(Contact, flag)
    contacts = Contact.select(Contact.id).where(in_list(Contact.email, emails))
    converted = Lead.select(Lead.converted_contact).where(
        in_list(Lead.email, emails) & Lead.converted_contact.is_null(False)
    )
    # One statement per way in, so that each is a look-up by an index, never a table scan.
    for model, column, condition in (
        (Lead, lead_flag, in_list(Lead.email, emails)),
        (Lead, lead_flag, Lead.converted_contact.in_(contacts)),
        (Contact, contact_flag, in_list(Contact.email, emails)),
        (Contact, contact_flag, Contact.id.in_(converted)),
    ):
        model.update({column: value}).where(condition & (column != value)).execute()


FLAG_KINDS = (("do_not_email", "unsubscribe"), ("email_bounced", "bounce"))
"""Each reachability flag of a record, and the suppression kind it stands for."""


def follow_flags(
    emails: Iterable[str] | None = None,
    now: datetime | None = None,
    on_progress: OnProgress | None = None,
) -> None:
    """Make records and addresses agree after people were written outside the event path (an
    import, demo data): a flagged record suppresses its address, and every record with a
    suppressed address gets that suppression's flag. `emails` limits it to those addresses,
    ADDRESS_CHUNK at a time (each look-up one `in_list`); `on_progress` hears the addresses
    done of them."""
    now = now or utcnow()
    S = Suppression
    batches: list = [None]
    addresses: list[str] = []
    if emails is not None:
        addresses = list(dict.fromkeys(emails))
        batches = list(chunked(addresses, ADDRESS_CHUNK))
    done = 0
    for chunk in batches:
        if chunk is not None:
            suppress_erased(chunk, now)
        else:
            for model in (Lead, Contact):
                suppress_erased((e for (e,) in model.select(model.email).tuples()), now)
        entries: list[SuppressionEntry] = []
        for model in (Lead, Contact):
            flags = [getattr(model, flag) for flag, _ in FLAG_KINDS]
            query = model.select(model.email, *flags).where(flags[0] | flags[1])
            if chunk is not None:
                query = query.where(in_list(model.email, chunk))
            for email, *values in query.tuples():
                entries.extend(
                    SuppressionEntry(
                        email, kind, now, reason=f"recorded as {flag.replace('_', ' ')}"
                    )
                    for (flag, kind), value in zip(FLAG_KINDS, values, strict=True)
                    if value
                )
        suppress_addresses(entries, now)
        active = S.select(S.email, S.kind).where(S.lifted_at.is_null())
        if chunk is not None:
            active = active.where(in_list(S.email, chunk))
        by_flag: dict[str, list[str]] = {}
        for email, kind in active.tuples():
            by_flag.setdefault(FLAG_OF_KIND[kind], []).append(email)
        for flag, flagged in by_flag.items():
            for part in chunked(flagged, ADDRESS_CHUNK):
                _flag_addresses(list(part), flag, True)
        if on_progress and chunk is not None:
            done += len(chunk)
            on_progress(done, len(addresses))


# A user's actions -------------------------------------------------------------------------------


def _address(email: str) -> str:
    problem = email_problem(email or "")
    if problem:
        raise ValidationError(problem)
    return normalize_email(email)


def _check_text(values: dict[str, str]) -> None:
    """Text a user gives a suppression, held to the columns' rule on both backends."""
    problem = length_problem(Suppression, values)
    if problem:
        raise ValidationError(problem)


def active_suppression(email: str) -> Suppression | None:
    S = Suppression
    return S.get_or_none((S.email == normalize_email(email)) & S.lifted_at.is_null())


def add(email: str, reason: str, *, by: str = "", now: datetime | None = None):
    """A user suppresses an address. Returns (suppression, created); an address already
    suppressed keeps its suppression."""
    address = _address(email)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError("say why the address is suppressed (--reason)")
    reason += f" (by {by})" if by else ""
    _check_text({"reason": reason})
    now = now or utcnow()
    with database.atomic():
        existing = active_suppression(address)
        if existing is not None:
            return existing, False
        suppress_addresses([SuppressionEntry(address, "manual", now, reason=reason)], now)
        return active_suppression(address), True


def lift(email: str, reason: str, *, by: str = "", now: datetime | None = None) -> Suppression:
    """A user lifts an address's suppression, with the reason kept; the address's records can be
    emailed again (both flags cleared)."""
    address = _address(email)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError("lifting a suppression needs a reason (--reason)")
    _check_text({"lifted_reason": reason, "lifted_by": by})
    now = now or utcnow()
    S = Suppression
    with database.atomic():
        lifted = (
            S.update(lifted_at=now, lifted_reason=reason, lifted_by=by)
            .where((S.email == address) & S.lifted_at.is_null())
            .execute()
        )
        if not lifted:
            raise ValidationError(f"{address} is not suppressed")
        for flag in ("do_not_email", "email_bounced"):
            _flag_addresses([address], flag, False)
    return S.select().where(S.email == address).order_by(S.lifted_at.desc(), S.id.desc()).get()


def suppressions(*, include_lifted: bool = False, limit: int | None = None) -> list[Suppression]:
    """Suppressed addresses, newest first; with `include_lifted`, the lifted ones too."""
    S = Suppression
    query = S.select().order_by(S.created_at.desc(), S.id.desc())
    if not include_lifted:
        query = query.where(S.lifted_at.is_null())
    if limit is not None:
        query = query.limit(limit)
    return list(query)


def history(email: str) -> list[Suppression]:
    """Every suppression the address ever had, oldest first (lifted ones with why and by whom)."""
    S = Suppression
    return list(S.select().where(S.email == normalize_email(email)).order_by(S.id))


def suppression_of(person: Person) -> Suppression | None:
    """Why this lead or contact cannot be emailed by address: the active suppression of any
    address the person goes by, or None. (The do-not-email and bounced flags say the rest.)"""
    S = Suppression
    return (
        S.select()
        .where(S.email.in_(addresses_of(person)) & S.lifted_at.is_null())
        .order_by(S.at)
        .first()
    )


def describe(suppression: Suppression) -> str:
    """One line: what suppressed the address and when (for screens and the command line)."""
    what = {
        SuppressionKind.UNSUBSCRIBE: "unsubscribed",
        SuppressionKind.BOUNCE: "hard bounce",
        SuppressionKind.MANUAL: "suppressed by a user",
    }[SuppressionKind(suppression.kind)]
    if suppression.kind == SuppressionKind.MANUAL and suppression.reason.startswith("erased on "):
        return suppression.reason  # a forgotten address that came back
    text = f"{what} on {suppression.at:%Y-%m-%d}"
    if suppression.event_id:
        text += f" (event {suppression.event_id})"
    if suppression.reason:
        text += f": {suppression.reason}"
    return text
