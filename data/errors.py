"""The errors the data layer raises for a user to read: each message is one readable line.

A leaf: it imports nothing of the product, so every module (models, migrations, opening the
database, services, the CLI and the app) can raise and catch these without an import cycle."""

from __future__ import annotations


class DatabaseError(Exception):
    """A database the user pointed us at cannot be used (or stopped working mid-run)."""


class ValidationError(ValueError):
    """A record breaks a domain rule; the message is readable as it is."""
