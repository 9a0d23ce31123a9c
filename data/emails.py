"""Email address rules: how addresses are compared and what counts as one (a leaf module)."""

from __future__ import annotations

import re

EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def normalize_email(email: str) -> str:
    """Emails compare case-insensitively, so they are stored trimmed and lower-cased."""
    return email.strip().lower()


def email_problem(email: str) -> str | None:
    """Why this is not a usable email address, or None."""
    value = email.strip()
    if not value:
        return "email is required"
    if not EMAIL_PATTERN.match(value):
        return f"{value!r} is not an email address"
    return None
