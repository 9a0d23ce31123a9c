"""Reading events: bytes in, one record per non-blank line out, and never an exception.

Input is read as bytes, a line at a time, so that a line that is not UTF-8, not JSON or not an
event is rejected alone (its bytes kept, escaped, for repair) while every other line applies.
The format comes from `--format`, else the file's extension, else the first non-blank line: CSV
only when that line is a header naming the event columns, JSON Lines otherwise, so one junk
line never turns a JSON feed into CSV. A UTF-8 byte order mark at the start is skipped.
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import PurePath
from typing import BinaryIO

from data.content import content_of
from data.emails import normalize_email
from data.engagement import EVENT_TYPES, STATUS_EVENT
from data.ingest.record import Event
from data.text import counted

FORMATS = ("jsonl", "csv")
EXTENSIONS = {".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "jsonl", ".csv": "csv"}
BOM = b"\xef\xbb\xbf"
KNOWN_KEYS = ("id", "type", "campaign", "email", "at")
KNOWN_SET = frozenset(KNOWN_KEYS)
REQUIRED_KEYS = ("type", "campaign", "email", "at")
MAX_LINE = 1 << 20
"""Longer lines are rejected (their first MAX_LINE bytes kept): no event is that large."""
MAX_ID = 255
"""Event ids, campaign names and emails are at most this long (as the log's columns are)."""


@dataclass(slots=True)
class Received:
    """One non-blank line: its bytes, and its keys when it could be read as an event object."""

    raw: bytes
    fields: dict | None = None
    problem: tuple[str, str] | None = None
    """(reason kind, readable reason) when the line could not be read."""
    noted: bool = False
    """Recorded without effect whatever its type: a provider's event that is not one of its
    documented events with an effect (a connector maps only those to our types)."""

    @property
    def text(self) -> str:
        """The line as text; bytes that are not UTF-8 appear escaped (`\\xff`)."""
        return self.raw.decode("utf-8", "backslashreplace")


def split_lines(stream: BinaryIO) -> Iterator[bytes]:
    """The lines of a byte stream without their line endings, each cut at MAX_LINE + 1 bytes
    (so an overlong line is seen as such without being held whole)."""
    while True:
        line = stream.readline(MAX_LINE + 1)
        if not line:
            return
        if not line.endswith(b"\n") and len(line) > MAX_LINE:
            rest = line
            while rest and not rest.endswith(b"\n"):
                rest = stream.readline(MAX_LINE + 1)
        yield line.rstrip(b"\r\n")


def guess_format(first_line: bytes, name: str | None = None) -> str:
    """JSON Lines or CSV, from the file name's extension, else from the first non-blank line."""
    if name:
        by_extension = EXTENSIONS.get(PurePath(name).suffix.lower())
        if by_extension:
            return by_extension
    try:
        header = next(csv.reader([first_line.decode("utf-8")]))
    except (UnicodeDecodeError, csv.Error, StopIteration):
        return "jsonl"
    columns = {cell.strip().lower() for cell in header}
    return "csv" if columns.issuperset(REQUIRED_KEYS) else "jsonl"


def read_records(
    lines: Iterable[bytes], fmt: str | None = None, name: str | None = None
) -> Iterator[Received]:
    """Every non-blank line as a `Received` (a CSV header line excepted)."""
    lines = iter(lines)
    first = b""
    for number, line in enumerate(lines):
        if number == 0:
            line = line.removeprefix(BOM)
        if line.strip():
            first = line
            break
    if not first:
        return
    fmt = fmt or guess_format(first, name)
    if fmt == "csv":
        yield from _read_csv(first, lines)
        return
    yield _read_json_line(first)
    for line in lines:
        if line.strip():
            yield _read_json_line(line)


def _unreadable(raw: bytes) -> Received | None:
    """The rejection of a line that is too long or not UTF-8, else None."""
    if len(raw) > MAX_LINE:
        return Received(raw[:MAX_LINE], problem=("unreadable", "line longer than 1 MiB"))
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return Received(
            raw, problem=("unreadable", f"unreadable bytes: not UTF-8 at byte {exc.start + 1}")
        )
    return None


MAX_DIGITS = 4_300
"""Digits a whole number may have (Python's own limit for reading one)."""


class NotJSON(ValueError):
    """Text that is not JSON as the standard says it; the message says what is wrong."""


def _no_constant(name: str):
    raise NotJSON(f"{name} is not a JSON value")


def _whole_number(digits: str) -> int:
    count = len(digits.lstrip("-"))
    if count > MAX_DIGITS:
        raise NotJSON(f"a number of {count:,} digits, more than {MAX_DIGITS:,}")
    return int(digits)


def _finite_number(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise NotJSON(f"the number {text[:20]} is out of range")
    return value


_DECODER = json.JSONDecoder(
    parse_constant=_no_constant, parse_int=_whole_number, parse_float=_finite_number
)
"""JSON as the standard says it: NaN and Infinity are not values (nor a number too large to be
one), and a whole number has at most MAX_DIGITS digits."""


def load_json(raw: bytes | str):
    """One JSON value from UTF-8 bytes or text: the one parser of events, from a file, a stream
    or a webhook. Raises NotJSON saying what is wrong and where."""
    try:
        return _DECODER.decode(raw.decode("utf-8") if isinstance(raw, bytes) else raw)
    except UnicodeDecodeError as exc:
        raise NotJSON(f"not UTF-8 at byte {exc.start + 1}") from None
    except json.JSONDecodeError as exc:
        raise NotJSON(f"{exc.msg} at line {exc.lineno} column {exc.colno}") from None
    except RecursionError:
        raise NotJSON("nested too deeply") from None
    except NotJSON:
        raise
    except ValueError as exc:  # a number Python cannot read
        raise NotJSON(str(exc)) from None


def _lone_surrogate(value) -> str | None:
    """The first lone surrogate in any string of a parsed JSON value (walked without recursion:
    the value may nest as deep as the parser allowed)."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError as exc:
                return f"\\u{ord(item[exc.start]):04x}"
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return None


def _read_json_line(raw: bytes) -> Received:
    bad = _unreadable(raw)
    if bad:
        return bad
    try:
        value = load_json(raw)
    except NotJSON:
        return Received(raw, problem=("malformed", "malformed JSON: not a JSON object"))
    if not isinstance(value, dict):
        return Received(raw, problem=("malformed", "malformed JSON: not a JSON object"))
    # Text decoded from UTF-8 has no surrogates: only a \u escape can make one.
    surrogate = _lone_surrogate(value) if b"\\u" in raw else None
    if surrogate:
        return Received(raw, problem=("unreadable", f"unreadable text: lone surrogate {surrogate}"))
    return Received(raw, value)


def _read_csv(header_line: bytes, lines: Iterator[bytes]) -> Iterator[Received]:
    """CSV events, one per line (no event field spans lines), by the header's column names."""
    try:
        header = [cell.strip().lower() for cell in next(csv.reader([header_line.decode("utf-8")]))]
    except (UnicodeDecodeError, csv.Error, StopIteration):
        header = []
    for raw in lines:
        if not raw.strip():
            continue
        bad = _unreadable(raw)
        if bad:
            yield bad
            continue
        try:
            cells = next(csv.reader([raw.decode("utf-8")], strict=True))
        except (csv.Error, StopIteration) as exc:
            yield Received(raw, problem=("malformed", f"malformed CSV: {exc}"))
            continue
        if len(cells) > len(header):
            yield Received(
                raw,
                problem=(
                    "malformed",
                    f"malformed CSV: {counted(len(cells), 'cell')}, header has {len(header)}",
                ),
            )
            continue
        yield Received(raw, dict(zip(header, cells)))


def parse_time(value) -> datetime:
    """An ISO 8601 time as naive UTC; a time without an offset is taken as UTC.

    Raises ValueError for anything else, including a time whose UTC form is out of range."""
    if not isinstance(value, str):
        raise ValueError(value)
    parsed = datetime.fromisoformat(value.strip())
    if parsed.tzinfo is not None:
        try:
            parsed = parsed.astimezone(UTC).replace(tzinfo=None)
        except OverflowError:
            raise ValueError(value) from None
    return parsed


def _text(value) -> str | None:
    """A key's value as text: strings as they are, integers as digits; anything else is None."""
    if isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return None


def _field_with_nul(event: Event) -> str | None:
    """The first field that holds a NUL character (no id, name, address or type has one)."""
    for name, value in (
        ("id", event.event_id or ""),
        ("type", event.sent_type),
        ("campaign", event.campaign_ref),
        ("email", event.email),
    ):
        if "\x00" in value:
            return name
    return None


TEXT_KEYS = {"type": "text", "campaign": "a name or a whole number", "email": "text"}
"""What each of these keys must be when it is given (read by `_text`): a number with a
fraction, true, a list or an object is refused as such, not as a missing key."""


def _wrong_kind(record: dict) -> str | None:
    """Why a given key's value is not of its kind (`campaign must be …, not 2.0`), else None."""
    for key, kind in TEXT_KEYS.items():
        value = record.get(key)
        if value is None or _text(value) is not None:
            continue
        shown = json.dumps(value, ensure_ascii=False)
        shown = shown if len(shown) <= 40 else shown[:39] + "…"
        return f"{key} must be {kind}, not {shown}"
    return None


def parse_event(received: Received, noted: frozenset[str] = frozenset()) -> Event:
    """Validate one received line; the result carries its rejection reason when invalid.

    `noted` are further types (a provider's, from a connector) accepted without effect; an open
    with `"machine": true` is a machine's."""
    if received.fields is None:
        kind, detail = received.problem or ("malformed", "malformed")
        event = Event(line=received.raw)
        event.reject(kind, detail)
        return event
    record = received.fields
    campaign = record.get("campaign")
    event = Event(
        event_id=_text(record.get("id")) or None,
        sent_type=_text(record.get("type")) or "",
        campaign_ref=_text(campaign) or "",
        email=_text(record.get("email")) or "",
        line=received.raw,
    )
    if isinstance(campaign, int) and not isinstance(campaign, bool):
        event.campaign_number = campaign
    event.status = (_text(record.get("status")) or "").strip()
    if record.keys() - KNOWN_SET:
        extra = {k: v for k, v in record.items() if k not in KNOWN_SET}
        event.extra = json.dumps(extra, ensure_ascii=False)
        event.content = content_of(extra)
    event_type = event.sent_type.strip().lower()
    event.address = normalize_email(event.email)
    when = record.get("at")
    bad_time = False
    if when not in (None, ""):
        try:
            event.at = parse_time(when)
        except ValueError:
            bad_time = True
    nul = _field_with_nul(event) if b"\x00" in received.raw or b"\\u0000" in received.raw else None
    if nul:
        event.reject("bad_field", f"{nul} contains a NUL character")
    elif record.get("id") not in (None, "") and event.event_id is None:
        event.reject("bad_field", "id must be a string or a whole number")
    elif event.event_id is not None and len(event.event_id) > MAX_ID:
        event.reject("bad_field", f"id longer than {MAX_ID} characters")
    elif wrong := _wrong_kind(record):
        event.reject("bad_field", wrong)
    elif not event_type:
        event.reject("missing_field", "type is required")
    elif event_type not in EVENT_TYPES and event_type not in noted and not received.noted:
        event.reject("unknown_type", f"unknown type {event.sent_type!r}")
    elif event_type == STATUS_EVENT and not event.status:
        event.reject("missing_field", "status is required for a status event")
    elif not event.campaign_ref.strip():
        event.reject("missing_field", "campaign is required")
    elif not event.address:
        event.reject("missing_field", "email is required")
    elif when in (None, ""):
        event.reject("missing_field", "at is required")
    elif bad_time:
        event.reject("bad_timestamp", f"bad timestamp {when!r}")
    if not event.reason:
        event.type = event_type
        event.noted = received.noted or event_type in noted
        event.machine = event_type == "open" and record.get("machine") is True
    return event
