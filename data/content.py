"""What an event says was engaged with: its *content* (PRODUCT §8).

A click's `url` (with an optional `title`), a form's `form`, a webinar or event `session`, an
`asset`: the title if given, else the URL without its query string, else the form, session or
asset name. Worked out once where an event enters (`content_of`) and kept in the log's
`content` column, so per-campaign counts never parse JSON. Content is untrusted text: it is
stored as received (trimmed, capped) and made visible (`text.visible`) wherever it is shown.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

CONTENT_KEYS = ("title", "url", "form", "session", "asset")
"""The keys that name content, in the order they win."""

CONTENT_LENGTH = 255
"""The longest content kept (the column's width)."""


def _without_query(url: str) -> str:
    """A URL without its query string or fragment: tracking parameters are not content."""
    for mark in ("?", "#"):
        url = url.split(mark, 1)[0]
    return url


def content_of(fields: Mapping[str, object]) -> str | None:
    """The content an event's keys name, or None when they name none."""
    for key in CONTENT_KEYS:
        value = fields.get(key)
        if not isinstance(value, str):
            continue
        text = (_without_query(value) if key == "url" else value).strip()
        if text:
            return text[:CONTENT_LENGTH]
    return None


def content_from_extra(extra: str | None) -> str | None:
    """The content of an event as logged (its extra keys as JSON), or None."""
    if not extra:
        return None
    try:
        keys = json.loads(extra)
    except ValueError:
        return None
    return content_of(keys) if isinstance(keys, dict) else None


def content_kind(fields: Mapping[str, object]) -> str | None:
    """Which kind of content the keys name ("url", "form", "session", "asset"), or None."""
    for key in ("url", "form", "session", "asset"):
        if isinstance(fields.get(key), str) and str(fields.get(key)).strip():
            return key
    return None
