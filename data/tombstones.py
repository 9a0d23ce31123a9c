"""Tombstones: what is kept of a forgotten address, a keyed hash of it (PRODUCT.md §10).

The hash is HMAC-SHA256 of the normalised address under a key made once per database (random,
kept in `privacy_key`): the address cannot be read back from it, nor found by hashing a list of
guessed addresses without the database, yet the same address coming back is recognised."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterable
from datetime import datetime

from data.emails import normalize_email
from data.models import ErasedAddress, PrivacyKey
from data.sql import chunked

KEY_ROW = 1
LOOKUP_CHUNK = 5_000


def tombstone_key() -> bytes:
    """The database's tombstone key, made on first use (two first users agree: one insert wins)."""
    row = PrivacyKey.get_or_none(PrivacyKey.id == KEY_ROW)
    if row is None:
        PrivacyKey.insert(id=KEY_ROW, key=secrets.token_hex(32)).on_conflict_ignore().execute()
        row = PrivacyKey.get(PrivacyKey.id == KEY_ROW)
    return bytes.fromhex(row.key)


def digest(email: str, key: bytes) -> str:
    """The tombstone of an address under a key."""
    return hmac.new(key, normalize_email(email).encode("utf-8"), hashlib.sha256).hexdigest()


def bury(email: str, at: datetime) -> None:
    """Keep the tombstone of a forgotten address (the earliest erasure date if it has one)."""
    ErasedAddress.insert(
        digest=digest(email, tombstone_key()), erased_at=at
    ).on_conflict_ignore().execute()


def erased(emails: Iterable[str]) -> dict[str, datetime]:
    """Those of these addresses that were forgotten, with when: one look-up by the hashes per
    5,000 addresses, none when nothing was ever forgotten."""
    wanted = {normalize_email(e) for e in emails if e and e.strip()}
    if not wanted or not ErasedAddress.select().exists():
        return {}
    key = tombstone_key()
    by_digest = {digest(e, key): e for e in wanted}
    found: dict[str, datetime] = {}
    for chunk in chunked(list(by_digest), LOOKUP_CHUNK):
        for d, at in (
            ErasedAddress.select(ErasedAddress.digest, ErasedAddress.erased_at)
            .where(ErasedAddress.digest.in_(chunk))
            .tuples()
        ):
            found[by_digest[d]] = at if isinstance(at, datetime) else datetime.fromisoformat(at)
    return found
