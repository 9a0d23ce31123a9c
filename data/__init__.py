"""Campaign Members' data layer: models, services and the SQL they run, on SQLite or PostgreSQL.

Peewee imports the PostgreSQL driver (psycopg) as it is imported itself, whenever the driver is
installed: two thirds of Peewee's import time, paid by every start-up, even on SQLite, which never
uses it. So Peewee is imported here, first, with psycopg out of its sight, and the driver is
handed to Peewee only when a server is opened (`use_server_driver`)."""

from __future__ import annotations

import sys

if "peewee" not in sys.modules and "psycopg" not in sys.modules:
    sys.modules["psycopg"] = None  # type: ignore[assignment]  # None: "import psycopg" fails
    try:
        import peewee  # noqa: F401  # imported now, without the driver
    finally:
        del sys.modules["psycopg"]


def use_server_driver() -> None:
    """Give Peewee psycopg (what its own import would have found), before a server is opened."""
    import peewee

    if getattr(peewee, "psycopg", None) is not None:
        return
    try:
        import psycopg
        from psycopg.pq import TransactionStatus
        from psycopg.types.json import Json, Jsonb
    except ImportError:  # not installed: Peewee says so when asked to connect, as it would
        return

    found = {"psycopg": psycopg, "TransactionStatus": TransactionStatus}
    found |= {"Json_pg3": Json, "Jsonb_pg3": Jsonb}
    for name, value in found.items():  # what Peewee's import sets when psycopg is there
        setattr(peewee, name, value)
    adapter = peewee.Psycopg3Adapter  # and what its class body then reads
    adapter.txn_idle = TransactionStatus.IDLE
    adapter.txn_inerror = TransactionStatus.INERROR
    adapter.txn_unknown = TransactionStatus.UNKNOWN
