"""What one received event becomes on its way to the log, and what a run reports."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime


@dataclass
class IngestReport:
    applied: int = 0
    unchanged: int = 0
    duplicates: int = 0
    rejected: int = 0
    machine: int = 0
    """Opens a machine made: recorded, raising nothing (`EventOutcome.MACHINE`)."""
    reasons: Counter = field(default_factory=Counter)
    resumed_from: int = 0
    """Events an interrupted earlier run had already committed (skipped this time)."""

    def add(self, other: IngestReport) -> None:
        self.applied += other.applied
        self.unchanged += other.unchanged
        self.duplicates += other.duplicates
        self.rejected += other.rejected
        self.machine += other.machine
        self.reasons.update(other.reasons)

    @property
    def total(self) -> int:
        return self.applied + self.unchanged + self.duplicates + self.rejected + self.machine

    def as_dict(self) -> dict:
        return {
            "applied": self.applied,
            "unchanged": self.unchanged,
            "duplicates": self.duplicates,
            "rejected": self.rejected,
            "machine": self.machine,
            "rejected_by_reason": dict(self.reasons),
        }


def report_from(counts: dict) -> IngestReport:
    return IngestReport(
        applied=counts.get("applied", 0),
        unchanged=counts.get("unchanged", 0),
        duplicates=counts.get("duplicates", 0),
        rejected=counts.get("rejected", 0),
        machine=counts.get("machine", 0),
        reasons=Counter(counts.get("rejected_by_reason", {})),
    )


def storable(text: str) -> str:
    """Text as every backend can keep it: a NUL character, which PostgreSQL text cannot hold,
    escaped as `\\x00` (the way bytes that are not UTF-8 are kept)."""
    return text.replace("\x00", "\\x00") if "\x00" in text else text


@dataclass(slots=True)
class Event:
    """One received event on its way to the log; `reason` set means rejected."""

    event_id: str | None = None
    type: str = ""
    """The event type as read ("open", ...); `sent_type` as received, which a rejection keeps."""
    sent_type: str = ""
    campaign_ref: str = ""
    """The campaign as received: a name, or the digits of an id."""
    campaign_number: int | None = None
    """The campaign given as a JSON number: always an id, never a name."""
    email: str = ""
    """As received (the log keeps it so); `address` is what it is matched by."""
    address: str = ""
    at: datetime | None = None
    status: str = ""
    """The label a status event names (kept in the log with the extra keys)."""
    extra: str = ""
    """Keys beyond the known ones, as JSON."""
    content: str | None = None
    """What the extra keys say was engaged with (`content.content_of`)."""
    line: bytes = b""
    """The line as received, kept with a rejection so the event can be fixed and sent again."""
    reason: str = ""
    reason_kind: str = ""
    campaign_id: int | None = None
    member_id: int | None = None
    outcome: str = ""
    machine: bool = False
    """An open a machine made (a privacy proxy, a scanner): recorded as such, raising nothing."""
    noted: bool = False
    """A provider's event that means nothing for the member (delivered, a temporary failure):
    recorded unchanged under the provider's own type."""

    @property
    def raw(self) -> str:
        """The line as text, bytes that are not UTF-8 escaped (`\\xff`), and NUL too."""
        return storable(self.line.decode("utf-8", "backslashreplace"))

    def reject(self, kind: str, detail: str) -> None:
        self.reason_kind, self.reason = kind, detail
