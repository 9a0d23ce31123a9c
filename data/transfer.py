"""CSV in and out: importing leads and contacts, exporting a campaign's members."""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import TextIO

from peewee import EXCLUDED, fn

from data.db import refuse_database_file
from data.emails import email_problem, normalize_email
from data.files import private_file
from data.members import (
    MEMBER_TIMES,
    Marked,
    MemberRow,
    member_count,
    member_rows_for_export,
    view_condition,
)
from data.models import (
    LEAD_STATUSES,
    Account,
    Contact,
    Lead,
    ValidationError,
    length_problem,
    utcnow,
)
from data.progress import OnProgress
from data.sql import database, in_list, insert_rows
from data.suppression import follow_flags
from data.vocab import MemberView

TEXT_COLUMNS = {
    "lead": (
        "first_name",
        "last_name",
        "email",
        "title",
        "company",
        "country",
        "industry",
        "lead_source",
        "lead_status",
    ),
    "contact": ("first_name", "last_name", "email", "title", "company", "country", "industry"),
}
"""The columns an import understands for each kind of person; others are ignored."""

FLAG_COLUMNS = ("do_not_email", "email_bounced")
"""Reachability flags an import may set; an import never clears them."""

ALIASES = {
    "account": "company",
    "first": "first_name",
    "last": "last_name",
    "email_address": "email",
    "source": "lead_source",
    "status": "lead_status",
    "firstname": "first_name",
    "lastname": "last_name",
}
TRUE_WORDS = {"1", "true", "yes", "y", "x"}
FALSE_WORDS = {"", "0", "false", "no", "n"}


@dataclass
class ImportReport:
    kind: str
    created: int = 0
    updated: int = 0
    invalid: list[tuple[int, str]] = field(default_factory=list)
    written: bool = False

    def as_dict(self) -> dict:
        return {
            "created": self.created,
            "updated": self.updated,
            "invalid": len(self.invalid),
            "written": self.written,
            "errors": [{"line": line, "reason": reason} for line, reason in self.invalid],
        }


def _header_key(name: str) -> str:
    key = name.strip().lower().replace(" ", "_").replace("-", "_")
    return ALIASES.get(key, key)


def _check_row(kind: str, row: dict) -> str | None:
    if not row.get("last_name"):
        return "last name is required"
    too_long = length_problem(Lead if kind == "lead" else Contact, row)
    if too_long:
        return too_long
    problem = email_problem(row.get("email", ""))
    if problem:
        return problem
    status = row.get("lead_status")
    if kind == "lead" and status and status not in LEAD_STATUSES:
        return f"unknown lead status {status!r}; use one of {', '.join(LEAD_STATUSES)}"
    for flag in FLAG_COLUMNS:
        if row.get(flag, "").lower() not in TRUE_WORDS | FALSE_WORDS:
            return f"{flag} must be true or false, not {row[flag]!r}"
    return None


UNDECODABLE = re.compile("[\udc80-\udcff]")
"""What a byte that is not UTF-8 becomes in text read with errors="surrogateescape"."""


def _undecodable(cells: list[str]) -> str | None:
    """Why a line is not UTF-8 text (read with errors="surrogateescape"), or None."""
    for cell in cells:
        found = UNDECODABLE.search(cell)
        if found:
            byte = ord(found.group()) - 0xDC00
            return f"not UTF-8 text (byte 0x{byte:02x}); save the file as UTF-8"
    return None


def _csv_lines(reader) -> Iterator[tuple[int, list[str] | None, str | None]]:
    """(line, cells, None) for each line a CSV reader reads, (line, None, reason) for each it
    cannot: the rest of the file is read on."""
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            reason = str(exc)
            if reason.startswith("field larger than field limit"):
                reason = f"a cell is longer than {csv.field_size_limit():,} characters"
            yield reader.line_num, None, reason
            continue
        yield reader.line_num, cells, _undecodable(cells)


def _lenient_text(stream: TextIO) -> TextIO:
    """`stream` reading bytes that are not UTF-8 as stand-ins (errors="surrogateescape"), so
    that their line is reported instead of the whole read failing."""
    reconfigure = getattr(stream, "reconfigure", None)
    if reconfigure is not None:
        reconfigure(errors="surrogateescape")
    return stream


def read_people(kind: str, stream: TextIO) -> tuple[list[dict], list[tuple[int, str]]]:
    """Valid rows (normalised) and (line, reason) for every bad one: a line that is not CSV or
    not UTF-8 is a bad row too (the stream is read with errors="surrogateescape")."""
    reader = csv.reader(_lenient_text(stream))
    lines = _csv_lines(reader)
    first = next(lines, None)
    if first is None:
        raise ValidationError("the file is empty; expected a header row with an email column")
    if first[2]:
        raise ValidationError(f"the header row cannot be read: {first[2]}")
    header = [_header_key(h) for h in first[1] or ()]
    if "email" not in header:
        raise ValidationError("the header row has no email column")
    known = set(TEXT_COLUMNS[kind]) | set(FLAG_COLUMNS)
    columns = [(i, name) for i, name in enumerate(header) if name in known]
    good: list[dict] = []
    bad: list[tuple[int, str]] = []
    seen: dict[str, int] = {}
    for line, cells, unreadable in lines:
        if unreadable or cells is None:
            bad.append((line, unreadable or "cannot be read"))
            continue
        if not any(c.strip() for c in cells):
            continue
        row = {name: (cells[i].strip() if i < len(cells) else "") for i, name in columns}
        reason = _check_row(kind, row)
        if reason is None:
            row["email"] = normalize_email(row["email"])
            if row["email"] in seen:
                reason = f"email {row['email']} already appears on line {seen[row['email']]}"
            else:
                seen[row["email"]] = line
        if reason:
            bad.append((line, reason))
        else:
            good.append(row)
    return good, bad


IMPORT_CHUNK = 10_000
"""Rows written per statement by an import (and per report to `on_progress`)."""


def import_people(
    kind: str,
    stream: TextIO,
    *,
    skip_invalid: bool = False,
    now: datetime | None = None,
    on_progress: OnProgress | None = None,
) -> ImportReport:
    """Upsert people by email. All or nothing unless skip_invalid; never clears a flag.
    `on_progress` hears the work done of twice the valid rows: each row is written, then the
    suppression of its address followed."""
    now = now or utcnow()
    model = Lead if kind == "lead" else Contact
    good, bad = read_people(kind, stream)
    report = ImportReport(kind=kind, invalid=bad)
    if bad and not skip_invalid:
        return report
    with database.atomic():
        existing: set[str] = set()
        emails = [row["email"] for row in good]
        for start in range(0, len(emails), 10_000):
            existing.update(
                e
                for (e,) in model.select(model.email)
                .where(in_list(model.email, emails[start : start + 10_000]))
                .tuples()
            )
        if model is Contact:
            _attach_accounts(good, now)
        text = [c for c in TEXT_COLUMNS[kind] if c != "company" or model is Lead]
        if model is Contact:
            text.append("account")
        fields = (
            [getattr(model, c) for c in text]
            + [getattr(model, f) for f in FLAG_COLUMNS]
            + [model.created_at]
        )
        rows = [
            tuple(row.get(c, "") if c != "account" else row.get("account") for c in text)
            + tuple(row.get(f, "").lower() in TRUE_WORDS for f in FLAG_COLUMNS)
            + (now,)
            for row in good
        ]
        update = {
            getattr(model, c): fn.COALESCE(fn.NULLIF(getattr(EXCLUDED, c), ""), getattr(model, c))
            for c in text
            if c not in ("email", "account")
        }
        if model is Contact:
            update[Contact.account] = fn.COALESCE(EXCLUDED.account_id, Contact.account)
        for flag in FLAG_COLUMNS:  # set, never clear: re-importing must not re-subscribe anyone
            update[getattr(model, flag)] = getattr(EXCLUDED, flag) | getattr(model, flag)
        work = 2 * len(rows)  # each row is written, then its address's suppression followed
        for start in range(0, len(rows), IMPORT_CHUNK):
            insert_rows(
                model,
                fields,
                rows[start : start + IMPORT_CHUNK],
                conflict=lambda q: q.on_conflict(conflict_target=[model.email], update=update),
            )
            if on_progress:
                on_progress(min(start + IMPORT_CHUNK, len(rows)), work)
        # suppression follows the address, also into this import
        follow_flags(
            emails,
            now,
            on_progress and (lambda done, _total: on_progress(len(rows) + done, work)),
        )
    report.created = len(good) - len(existing)
    report.updated = len(existing)
    report.written = True
    return report


def _attach_accounts(rows: list[dict], now: datetime) -> None:
    names = sorted({row["company"] for row in rows if row.get("company")})
    if names:
        insert_rows(
            Account,
            [Account.name, Account.created_at],
            [(n, now) for n in names],
            conflict=lambda q: q.on_conflict_ignore(),
        )
    ids = dict(
        Account.select(Account.name, Account.id).where(in_list(Account.name, names)).tuples()
    )
    for row in rows:
        row["account"] = ids.get(row.get("company")) if row.get("company") else None


# Export ------------------------------------------------------------------------------------------

EXPORT_COLUMNS = (
    "email",
    "person_type",
    "status",
    *MEMBER_TIMES,
    "has_responded",
    "name",
    "company",
    "counts_as",
)
DEAL_COLUMNS = ("opportunity", "amount", "stage")
"""The Converted view's export adds each member's deal, as the view shows it (empty without)."""
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def export_columns(view: str) -> tuple[str, ...]:
    """The header of a view's export."""
    return (*EXPORT_COLUMNS, *DEAL_COLUMNS) if view == MemberView.CONVERTED else EXPORT_COLUMNS


def safe_cell(value: str) -> str:
    """Spreadsheets run cells that start like a formula; a leading quote makes them text."""
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def iso_utc(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ") if value else ""


def member_csv_row(row: MemberRow, deals: bool = False) -> list[str]:
    """A member's cells; with `deals`, its opportunity's (the DEAL_COLUMNS) too."""
    cells = [
        safe_cell(row.email),
        row.person_type,
        safe_cell(row.status),
        *[iso_utc(getattr(row, name)) for name in MEMBER_TIMES],
        "true" if row.has_responded else "false",
        safe_cell(row.name),
        safe_cell(row.company),
        row.counts_as,
    ]
    if deals:
        deal = row.opportunity
        cells += (
            ["", "", ""]
            if deal is None
            else [safe_cell(deal.name), f"{deal.amount:.2f}", deal.stage]
        )
    return cells


EXPORT_REPORT_EVERY = 5_000
"""Rows an export writes between two reports to `on_progress`."""


def write_members(
    rows: Iterable[MemberRow],
    out: TextIO,
    total: int = 0,
    on_progress: OnProgress | None = None,
    view: str = MemberView.ALL,
) -> int:
    """Write the rows of a view as CSV under its `export_columns`; the number written."""
    writer = csv.writer(out, lineterminator="\n")
    columns = export_columns(view)
    writer.writerow(columns)
    deals = columns != EXPORT_COLUMNS
    count = 0
    for row in rows:
        writer.writerow(member_csv_row(row, deals))
        count += 1
        if on_progress and count % EXPORT_REPORT_EVERY == 0:
            on_progress(count, max(total, count))
    if on_progress:
        on_progress(count, count)
    return count


def export_members(
    campaign,
    view: str,
    out: TextIO,
    search: str = "",
    marked: Marked | None = None,
    on_progress: OnProgress | None = None,
) -> int:
    """Write a view's rows (only the `marked` ones, if given) as CSV; the number written.
    `on_progress` hears the rows written so far of the view's count (counted first, only when
    someone listens)."""
    view_condition(view)  # unknown views fail before anything is written
    total = member_count(campaign.id, view, search) if on_progress and marked is None else 0
    rows = member_rows_for_export(campaign.id, view, search, marked)
    return write_members(rows, out, total, on_progress, view)


def write_members_csv(
    campaign,
    view: str,
    search: str,
    path: str,
    marked: Marked | None = None,
    on_progress: OnProgress | None = None,
) -> int:
    """Export a view (or the marked members) to a file (the app's export, `export -o`); the
    number of rows written."""
    refuse_database_file(path)
    with private_file(path, newline="") as out:
        return export_members(campaign, view, out, search, marked, on_progress)
