"""The batch status import (the import wizard): `email,status` rows become status events.

Each row is a status event naming one of the campaign's labels for the member with that
address, applied by the ingest's own path (`ingest.applying`: members locked, the lattice in
`engagement`), so a row can only raise a member and the same file applied twice changes nothing
the second time. The whole file is one transaction and one journal entry (undone by putting
each changed member's record back); a dry run does the same work and rolls it back, so its
counts are exactly what applying would do.
"""

from __future__ import annotations

import csv
import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import TextIO

from peewee import chunked

from data import journal
from data.emails import normalize_email
from data.engagement import STATUS_EVENT
from data.errors import ValidationError
from data.ingest.applying import apply_resolved, resolve_members
from data.ingest.record import Event
from data.models import Campaign, CampaignMember, utcnow
from data.progress import OnProgress
from data.sql import database
from data.vocab import EventOutcome, JournalAction

COLUMNS = ("email", "status")
BATCH = 5_000
"""Rows applied per statement group (all in the one transaction)."""


@dataclass
class StatusImportReport:
    applied: int = 0
    unchanged: int = 0
    rejections: list[tuple[int, str]] = field(default_factory=list)
    """(line number, reason) for each row that could not apply."""
    raised_to: Counter = field(default_factory=Counter)
    """Label -> members a row raised to it."""
    dry_run: bool = False

    @property
    def rejected(self) -> int:
        return len(self.rejections)

    def as_dict(self) -> dict:
        return {
            "applied": self.applied,
            "unchanged": self.unchanged,
            "rejected": self.rejected,
            "rejections": [{"line": line, "reason": reason} for line, reason in self.rejections],
            "raised_to": dict(self.raised_to),
            "dry_run": self.dry_run,
        }

    def summary(self) -> str:
        verb = "would apply" if self.dry_run else "applied"
        text = (
            f"{verb} {self.applied:,}, unchanged {self.unchanged:,} (already at or past it), "
            f"rejected {self.rejected:,}"
        )
        if self.raised_to:
            text += " — " + ", ".join(f"{label} {n:,}" for label, n in self.raised_to.items())
        return text


def read_status_rows(stream: TextIO) -> list[tuple[int, str, str]]:
    """(line number, email, status) for every row of an `email,status` CSV; a file without
    those columns is one ValidationError."""
    reader = csv.reader(stream)
    header = next(reader, None)
    if header is None:
        raise ValidationError("the file is empty; it needs the columns email,status")
    names = [cell.strip().lower() for cell in header]
    missing = [c for c in COLUMNS if c not in names]
    if missing:
        raise ValidationError(
            f"the file has no {' or '.join(missing)} column; it needs the columns email,status"
        )
    email_at, status_at = names.index("email"), names.index("status")
    rows = []
    for cells in reader:
        if not any(cell.strip() for cell in cells):
            continue
        cells += [""] * (max(email_at, status_at) + 1 - len(cells))
        rows.append((reader.line_num, cells[email_at], cells[status_at]))
    return rows


def _event(campaign: Campaign, email: str, status: str, now: datetime) -> Event:
    event = Event(
        type=STATUS_EVENT,
        sent_type=STATUS_EVENT,
        campaign_ref=campaign.name,
        campaign_id=campaign.id,
        email=email,
        address=normalize_email(email),
        status=status.strip(),
        at=now,
        extra=json.dumps({"status": status.strip()}, ensure_ascii=False),
    )
    if not event.address:
        event.reject("missing_field", "email is required")
    elif not event.status:
        event.reject("missing_field", "status is required")
    return event


def import_statuses(
    campaign: Campaign,
    rows: list[tuple[int, str, str]],
    *,
    dry_run: bool = False,
    now: datetime | None = None,
    on_progress: OnProgress | None = None,
) -> StatusImportReport:
    """Apply the rows as status events (source "import"), or with `dry_run` only count what
    they would do. `on_progress` hears the rows done so far."""
    now = now or utcnow()
    report = StatusImportReport(dry_run=dry_run)
    with database.atomic() as transaction:
        with journal.record(JournalAction.IMPORT, campaign, now) as change:
            done = 0
            for batch in chunked(rows, BATCH):
                events = [_event(campaign, email, status, now) for _, email, status in batch]
                members = resolve_members(events)
                change.keep_records(CampaignMember.id.in_(list(members)))
                part = apply_resolved(events, source="import", now=now, members=members)
                report.applied += part.applied
                report.unchanged += part.unchanged
                for (line, _, _), event in zip(batch, events):
                    if event.outcome == EventOutcome.REJECTED:
                        report.rejections.append((line, event.reason))
                    elif event.outcome == EventOutcome.APPLIED:
                        report.raised_to[event.status] += 1
                done += len(batch)
                if on_progress:
                    on_progress(done, len(rows))
            change.done(report.applied, f"status import: {report.summary()}")
        if dry_run:
            transaction.rollback()
    return report
