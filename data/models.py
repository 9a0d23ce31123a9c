"""Peewee models: the rules that can live in the schema live there, the rest in `validate()`."""

from __future__ import annotations

import functools
import json
import operator
from collections.abc import Mapping
from datetime import UTC, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any, ClassVar

from peewee import (
    SQL,
    AutoField,
    BooleanField,
    CharField,
    Check,
    DateField,
    DateTimeField,
    DecimalField,
    Expression,
    FloatField,
    ForeignKeyField,
    IntegerField,
    Model,
    ModelSelect,
    NodeList,
    SmallIntegerField,
    TextField,
    fn,
)

from data.emails import email_problem, normalize_email
from data.engagement import LADDER, SETTLED, STATE_FIELDS, MemberState
from data.errors import ValidationError
from data.filters import validate_filters
from data.sql import database, one_of, quoted
from data.vocab import (
    AudienceKind,
    CampaignStatus,
    CampaignType,
    EventOutcome,
    EventType,
    JournalAction,
    LeadStatus,
    MemberStatus,
    OpportunityStage,
    SuppressionKind,
    is_one_of,
    listed,
    values,
)

# The vocabularies' values, for the names other modules already import.
CAMPAIGN_TYPES = values(CampaignType)
CAMPAIGN_STATUSES = values(CampaignStatus)
AUDIENCE_KINDS = values(AudienceKind)
OPPORTUNITY_STAGES = values(OpportunityStage)
LEAD_STATUSES = values(LeadStatus)
OUTCOMES = values(EventOutcome)


def utcnow() -> datetime:
    """Naive UTC, the form every timestamp is stored in."""
    return datetime.now(UTC).replace(tzinfo=None)


def _choices_check(column: str, vocabulary: type[StrEnum]) -> SQL | NodeList:
    """A CHECK constraint that keeps a column within a vocabulary."""
    return Check(one_of(column, vocabulary))


class BaseModel(Model):
    class Meta:
        database = database
        legacy_table_names = False

    if TYPE_CHECKING:
        # What Peewee adds at run time and its stubs cannot see, declared once for type checking:
        # the automatic primary key (every model but the counters and SchemaVersion has it), and
        # queries whose rows may be tuples or dicts (`.tuples()` keeps the query's static type).
        id: ClassVar[AutoField[int]]

        @classmethod
        def select(cls, *fields: Any) -> ModelSelect[Any]: ...

    def validate(self) -> None:
        """Raise ValidationError when the record breaks a rule; subclasses add their rules."""

    def save(self, *args, **kwargs):
        problem = length_problem(type(self), self.__data__)
        if problem:
            raise ValidationError(problem)
        self.validate()
        return super().save(*args, **kwargs)


def length_problem(model: type[Model], values: Mapping[str, object]) -> str | None:
    """The first text value its column cannot hold the same way on both backends, as a
    message, or None: one longer than the column allows, or one with a NUL character.

    PostgreSQL enforces VARCHAR lengths and refuses NUL in text; SQLite stores both: checking
    here gives one rule, and one readable line, on both."""
    for name, value in values.items():
        field = model._meta.fields.get(name)
        if isinstance(field, CharField) and isinstance(value, str):
            if len(value) > field.max_length:
                return f"{name.replace('_', ' ')} is longer than {field.max_length} characters"
            if "\x00" in value:
                return f"{name.replace('_', ' ')} contains a NUL character"
    return None


class Account(BaseModel):
    name = CharField(unique=True)
    industry = CharField(default="")
    country = CharField(default="")
    created_at = DateTimeField(default=utcnow)


class Person(BaseModel):
    """What leads and contacts share: a name, an email and the two reachability flags."""

    first_name = CharField(default="")
    last_name = CharField()
    email = CharField(unique=True)
    title = CharField(default="")
    country = CharField(default="", index=True)
    industry = CharField(default="", index=True)
    created_at = DateTimeField(default=utcnow)
    do_not_email = BooleanField(default=False)
    email_bounced = BooleanField(default=False)

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    def validate(self) -> None:
        if not (self.last_name or "").strip():
            raise ValidationError("last name is required")
        problem = email_problem(self.email or "")
        if problem:
            raise ValidationError(problem)
        self.email = normalize_email(self.email)


class Contact(Person):
    account = ForeignKeyField(Account, null=True, backref="contacts", on_delete="SET NULL")
    if TYPE_CHECKING:  # each foreign key's raw id, added by Peewee
        account_id: int | None

    class Meta:
        indexes = ((("last_name", "first_name", "id"), False),)

    @property
    def company(self) -> str:
        return self.account.name if self.account is not None else ""


class Lead(Person):
    company = CharField(default="")
    lead_source = CharField(default="", index=True)
    lead_status = CharField(default=LeadStatus.OPEN, index=True)
    converted_contact = ForeignKeyField(
        Contact, null=True, backref="converted_leads", on_delete="SET NULL"
    )
    converted_at = DateTimeField(null=True)
    if TYPE_CHECKING:
        converted_contact_id: int | None

    class Meta:
        indexes = ((("last_name", "first_name", "id"), False),)


FILTER_INDEXES = ("country", "industry")
"""The list fields a filter matches whatever their case (`data.matching`): each person table has
an index on the column's LOWER, which is what the filter compares."""

for _model in (Lead, Contact):
    for _column in FILTER_INDEXES:
        _model.add_index(
            _model.index(
                fn.LOWER(getattr(_model, _column)),
                name=f"{_model._meta.table_name}_lower_{_column}",
            )
        )


class Campaign(BaseModel):
    name = CharField(unique=True)
    type = CharField(default=CampaignType.EMAIL, constraints=[_choices_check("type", CampaignType)])
    status = CharField(
        default=CampaignStatus.PLANNED,
        index=True,
        constraints=[_choices_check("status", CampaignStatus)],
    )
    start_date = DateField(null=True)
    end_date = DateField(null=True)
    budgeted_cost = DecimalField(max_digits=14, decimal_places=2, default=0)
    actual_cost = DecimalField(max_digits=14, decimal_places=2, default=0)
    description = TextField(default="")
    audience_kind = CharField(
        default=AudienceKind.BOTH, constraints=[_choices_check("audience_kind", AudienceKind)]
    )
    audience_filters = TextField(default="{}")
    """JSON: {"country": [...], "industry": [...], "lead_source": [...], "lead_status": [...],
    "title_contains": "...", "created_since": "YYYY-MM-DD"}"""
    created_at = DateTimeField(default=utcnow)
    parent = ForeignKeyField(
        "self", null=True, backref="children", on_delete="SET NULL", column_name="parent_id"
    )
    """The campaign this one rolls up into (`hierarchy`: at most five levels, no cycle)."""
    if TYPE_CHECKING:
        parent_id: int | None

    @property
    def filters(self) -> dict:
        return json.loads(self.audience_filters or "{}")

    def validate(self) -> None:
        if not (self.name or "").strip():
            raise ValidationError("campaign name is required")
        self.name = self.name.strip()
        if not is_one_of(self.type, CampaignType):
            raise ValidationError(
                f"unknown campaign type {self.type!r}; use one of {listed(CampaignType)}"
            )
        if not is_one_of(self.status, CampaignStatus):
            raise ValidationError(
                f"unknown status {self.status!r}; use one of {listed(CampaignStatus)}"
            )
        if not is_one_of(self.audience_kind, AudienceKind):
            raise ValidationError(
                f"unknown audience kind {self.audience_kind!r}; use leads, contacts or both"
            )
        if self.start_date and self.end_date and self.end_date < self.start_date:
            raise ValidationError("the end date is before the start date")
        validate_filters(self.filters)


class CampaignStats(BaseModel):
    """Rollup counters per campaign, kept current by every service that changes members."""

    campaign = ForeignKeyField(Campaign, primary_key=True, backref="stats", on_delete="CASCADE")
    sent = IntegerField(default=0)
    opened = IntegerField(default=0)
    clicked = IntegerField(default=0)
    responded = IntegerField(default=0)
    converted = IntegerField(default=0)
    bounced = IntegerField(default=0)
    unsubscribed = IntegerField(default=0)
    machine_opens = IntegerField(default=0)
    """Opens a machine made (a privacy proxy, a scanner): recorded, counted apart, raise nothing."""
    if TYPE_CHECKING:
        campaign_id: int


class MemberStatusLabel(BaseModel):
    """One of a campaign's member status labels, in its place along the campaign's list.

    The rules over the whole list (rung order, one default counting as Sent) are
    `engagement.ladder_problem`; at most one default per campaign is also a partial unique
    index. A label a member holds cannot be deleted (the member's foreign key)."""

    campaign = ForeignKeyField(  # indexed by the composite indexes below
        Campaign, backref="status_labels", on_delete="CASCADE", index=False
    )
    position = IntegerField()
    name = CharField()
    counts_as = SmallIntegerField(constraints=[Check(f"counts_as BETWEEN 0 AND {len(LADDER) - 1}")])
    is_default = BooleanField(default=False)
    if TYPE_CHECKING:
        campaign_id: int

    class Meta:
        indexes = (
            (("campaign", "name"), True),
            (("campaign", "position"), False),
        )


MemberStatusLabel.add_index(
    MemberStatusLabel.index(
        MemberStatusLabel.campaign, unique=True, name="member_status_label_one_default"
    ).where(MemberStatusLabel.is_default)
)


class LabelStats(BaseModel):
    """How many members hold each status label: counters kept like `CampaignStats`, by the same
    writes in the same transactions (`rollups.add_to_counters`, `rollups.recount`). Counting
    them from the members read every member of a campaign (there is no index on the label)."""

    label = ForeignKeyField(MemberStatusLabel, primary_key=True, on_delete="CASCADE")
    campaign = ForeignKeyField(Campaign, on_delete="CASCADE")
    members = IntegerField(default=0)
    if TYPE_CHECKING:
        label_id: int
        campaign_id: int


class CampaignMember(BaseModel):
    campaign = ForeignKeyField(  # indexed by the composite indexes below
        Campaign, backref="members", on_delete="CASCADE", index=False
    )
    lead = ForeignKeyField(Lead, null=True, backref="memberships", on_delete="CASCADE")
    contact = ForeignKeyField(Contact, null=True, backref="memberships", on_delete="CASCADE")
    status = CharField(
        default=MemberStatus.SENT, constraints=[_choices_check("status", MemberStatus)]
    )
    rung = SmallIntegerField(
        default=0, constraints=[Check(f"rung BETWEEN 0 AND {len(LADDER) - 1}")]
    )
    bounced = BooleanField(default=False)
    unsubscribed = BooleanField(default=False)
    added_at = DateTimeField(default=utcnow)
    first_opened_at = DateTimeField(null=True)
    first_clicked_at = DateTimeField(null=True)
    response_date = DateTimeField(null=True)
    converted_at = DateTimeField(null=True)
    has_responded = BooleanField(default=False)
    label = ForeignKeyField(  # last, as the migration adds it; no index (see RESPONDED_INDEX)
        MemberStatusLabel, null=True, backref="members", index=False
    )
    """The highest of the campaign's labels the member reached (set on enrollment)."""
    if TYPE_CHECKING:
        campaign_id: int
        lead_id: int | None
        contact_id: int | None
        label_id: int | None

    class Meta:
        constraints = [
            SQL(
                "CONSTRAINT member_is_one_person CHECK ("
                "(lead_id IS NULL AND contact_id IS NOT NULL) OR "
                "(lead_id IS NOT NULL AND contact_id IS NULL))"
            )
        ]
        indexes = (
            (("campaign", "lead"), True),
            (("campaign", "contact"), True),
            (("campaign", "id"), False),
            # the member list's sorts by status and added date (migration 8); by first open below
            (("campaign", "rung", "id"), False),
            (("campaign", "added_at", "id"), False),
        )

    def validate(self) -> None:
        if (self.lead_id is None) == (self.contact_id is None):
            raise ValidationError(
                "a campaign member is exactly one person: set a lead or a contact, not both"
                if self.lead_id is not None
                else "a campaign member is exactly one person: set a lead or a contact"
            )
        if not is_one_of(self.status, MemberStatus):
            raise ValidationError(f"unknown member status {self.status!r}")

    @property
    def state(self) -> MemberState:
        return MemberState(**{name: getattr(self, name) for name in STATE_FIELDS})


SETTLED_INDEX = (
    "CREATE INDEX IF NOT EXISTS campaign_member_settled ON campaign_member "
    f"(campaign_id, status, id) WHERE {one_of('status', SETTLED)}"
)
CampaignMember.add_index(SQL(SETTLED_INDEX))
"""Members of a settled status, by campaign and status. Partial, so that the opens and clicks
an ingest applies (Sent to Opened to Clicked) never touch it."""

RESPONDED_INDEX = (
    "CREATE INDEX IF NOT EXISTS campaign_member_responded ON campaign_member "
    "(campaign_id, id) WHERE has_responded"
)
CampaignMember.add_index(SQL(RESPONDED_INDEX))
"""The members who responded, by campaign in id order (the Responded view). Partial, so that
enrolling adds no entry and a response adds one and removes none.

An ingest rewrites a member's rung, status and label together; every index over one of them is
rewritten with it, a page per member. So the member indexes are only those a list walks: the
status sort's (campaign, rung, id) and these partial ones. The label has none: its counts
(`labels.label_counts`, read by the label editor, the campaign's detail and `metrics`) are kept
as counters (`LabelStats`) instead of every event paying for an index."""

CampaignMember.add_index(
    SQL(
        "CREATE INDEX IF NOT EXISTS campaign_member_opened ON campaign_member "
        "(campaign_id, first_opened_at, id) WHERE first_opened_at IS NOT NULL"
    )
)
"""The members who opened, by campaign and first open (the member list's sort by it; those who
never opened follow, in id order). Partial, so that a first open adds an entry and removes none."""


def settled() -> Expression:
    """Members of a settled status, written as the partial index's own condition (the
    statuses inline, not as parameters) so that SQLite sees the index applies. AND it to any
    condition on a settled status for the index to serve it."""
    return functools.reduce(
        operator.or_, [CampaignMember.status == SQL(quoted(status)) for status in SETTLED]
    )


class Opportunity(BaseModel):
    name = CharField()
    amount = DecimalField(max_digits=14, decimal_places=2, default=0)
    stage = CharField(
        default=OpportunityStage.PROSPECTING,
        constraints=[_choices_check("stage", OpportunityStage)],
    )
    close_date = DateField(null=True)
    contact = ForeignKeyField(Contact, null=True, backref="opportunities", on_delete="SET NULL")
    account = ForeignKeyField(Account, null=True, backref="opportunities", on_delete="SET NULL")
    lead = ForeignKeyField(Lead, null=True, backref="opportunities", on_delete="SET NULL")
    campaign_source = ForeignKeyField(
        Campaign, null=True, backref="sourced_opportunities", on_delete="SET NULL"
    )
    created_at = DateTimeField(default=utcnow)
    if TYPE_CHECKING:
        contact_id: int | None
        account_id: int | None
        lead_id: int | None
        campaign_source_id: int | None

    def validate(self) -> None:
        if not (self.name or "").strip():
            raise ValidationError("opportunity name is required")
        if not is_one_of(self.stage, OpportunityStage):
            raise ValidationError(
                f"unknown stage {self.stage!r}; use one of {listed(OpportunityStage)}"
            )


class EngagementEvent(BaseModel):
    """Every event ever received, with what it did; rejected ones keep their reason."""

    event_id = CharField(null=True)
    type = CharField(default="")
    campaign = ForeignKeyField(
        Campaign, null=True, backref="events", on_delete="SET NULL", index=False
    )
    campaign_ref = CharField(default="")
    email = CharField(default="")
    at = DateTimeField(null=True)
    member = ForeignKeyField(  # indexed by (member, at) below
        CampaignMember, null=True, backref="events", on_delete="SET NULL", index=False
    )
    outcome = CharField(constraints=[_choices_check("outcome", EventOutcome)])
    reason = CharField(default="")
    extra = TextField(default="")
    """Keys beyond the known ones, as JSON."""
    source = CharField(default="ingest")
    received_at = DateTimeField(default=utcnow)
    received_line = TextField(default="")
    """A rejected event's line as received (bytes that are not UTF-8 escaped), to re-send."""
    content = CharField(null=True)
    """What a person engaged with (`content.content_of`), on events that count as engagement
    (applied or unchanged); None otherwise."""
    if TYPE_CHECKING:
        campaign_id: int | None
        member_id: int | None

    class Meta:
        indexes = ((("member", "at"), False),)


EngagementEvent.add_index(
    EngagementEvent.index(EngagementEvent.id, name="engagement_event_rejected").where(
        EngagementEvent.outcome == EventOutcome.REJECTED
    )
)
"""Rejected events are few and listed for repair; a partial index keeps ingest cheap."""

CONTENT_INDEX = (
    "CREATE INDEX IF NOT EXISTS engagement_event_content ON engagement_event "
    "(campaign_id, content, member_id) WHERE content IS NOT NULL"
)
EngagementEvent.add_index(SQL(CONTENT_INDEX))
"""What content worked, per campaign (`content.content_report`): the people who engaged with
each piece are counted from this index alone. Partial, so events without content add nothing."""

TREND_OUTCOMES = one_of("outcome", (EventOutcome.APPLIED, EventOutcome.UNCHANGED))
"""The events a person made (machine opens, duplicates and rejected events left out), as the
trend index's own condition (a query written with it uses the index)."""
TREND_INDEX = (
    "CREATE INDEX IF NOT EXISTS engagement_event_trend ON engagement_event "
    f"(campaign_id, at, type, member_id) WHERE {TREND_OUTCOMES}"
)
EngagementEvent.add_index(SQL(TREND_INDEX))
"""A campaign's engagement over time (`trend.campaign_trend`), read from this index alone."""

SEEN_OUTCOMES = one_of(
    "outcome", (EventOutcome.APPLIED, EventOutcome.UNCHANGED, EventOutcome.MACHINE)
)
"""The events whose id counts as seen, as the unique index's own condition (a look-up written
with it uses the index)."""
SEEN_INDEX = (
    "CREATE UNIQUE INDEX IF NOT EXISTS engagement_event_seen_id ON engagement_event "
    f"(event_id) WHERE {SEEN_OUTCOMES}"
)
EngagementEvent.add_index(SQL(SEEN_INDEX))
"""An event id takes effect once: a second writer's copy fails instead of applying twice."""


class EngagementScore(BaseModel):
    """A person's engagement (by address), kept current as events apply (`score.add_to_scores`).

    `points` is the sum of the events' weights, each grown by the half-life from a fixed epoch
    to its time: the score now is `points` decayed from the epoch to now (`score.score_now`),
    so ranking by `points` is ranking by today's score without reading any event."""

    email = CharField(primary_key=True)
    points = FloatField(default=0.0)
    stopped = BooleanField(default=False)
    """A bounce or an unsubscribe: the score is 0 for good."""
    last_at = DateTimeField(null=True)
    """The last touch: the newest event that counts as engagement, its type, content, campaign."""
    last_type = CharField(default="")
    last_content = CharField(null=True)
    last_campaign = IntegerField(null=True)


EngagementScore.add_index(
    EngagementScore.index(EngagementScore.points, name="engagement_score_points")
)
"""The hot list walks it, best first."""


class IngestRun(BaseModel):
    """Progress of one ingest: how much of its input is committed, so a killed run resumes.

    `prefix_sha` fingerprints the first `records_done` records; a later run over input that
    starts the same way skips them instead of recording them twice."""

    source = CharField()
    batch_size = IntegerField()
    records_done = IntegerField(default=0)
    prefix_sha = CharField(default="")
    counts = TextField(default="{}")
    started_at = DateTimeField(default=utcnow)
    updated_at = DateTimeField(default=utcnow)
    finished = BooleanField(default=False)

    class Meta:
        indexes = ((("source", "finished"), False),)


class Suppression(BaseModel):
    """An email address nobody may be enrolled under, and why; a lifted one stays as history.

    At most one suppression per address is active (`lifted_at` null): a partial unique index."""

    email = CharField()
    kind = CharField(constraints=[_choices_check("kind", SuppressionKind)])
    reason = CharField(default="")
    event_id = CharField(null=True)
    """The id of the event that caused it, as the integration sent it."""
    campaign = ForeignKeyField(
        Campaign, null=True, backref="suppressions", on_delete="SET NULL", index=False
    )
    at = DateTimeField()
    """When the address was suppressed (the event's time)."""
    created_at = DateTimeField(default=utcnow)
    lifted_at = DateTimeField(null=True)
    lifted_reason = CharField(default="")
    lifted_by = CharField(default="")

    class Meta:
        indexes = ((("email", "lifted_at"), False),)


Suppression.add_index(
    Suppression.index(Suppression.email, unique=True, name="suppression_active").where(
        Suppression.lifted_at.is_null()
    )
)


class JournalEntry(BaseModel):
    """One bulk change a user made (who, when, what, how many), so that it can be undone."""

    at = DateTimeField(default=utcnow)
    who = CharField(default="")
    action = CharField(constraints=[_choices_check("action", JournalAction)])
    campaign = ForeignKeyField(
        Campaign, null=True, backref="journal", on_delete="SET NULL", index=False
    )
    campaign_name = CharField(default="")
    """The campaign's name when the change was made (kept if it is renamed or deleted)."""
    count = IntegerField(default=0)
    """Members added, removed or changed."""
    summary = CharField(default="")
    last_event_id = IntegerField(default=0)
    """The newest event logged when the change was committed: events after it came later."""
    undone_at = DateTimeField(null=True)
    undone_by = CharField(default="")
    undo_summary = CharField(default="")
    if TYPE_CHECKING:
        campaign_id: int | None

    class Meta:
        indexes = ((("campaign", "id"), False),)


class JournalMember(BaseModel):
    """A member a journal entry touched: its full record as it was before the change (a removal,
    a status change), or only who it is (an enrollment, undone by removing it)."""

    entry = ForeignKeyField(JournalEntry, backref="members", on_delete="CASCADE", index=False)
    member_id = IntegerField()
    campaign_id = IntegerField()
    lead_id = IntegerField(null=True)
    contact_id = IntegerField(null=True)
    status = CharField(null=True)
    rung = SmallIntegerField(null=True)
    bounced = BooleanField(null=True)
    unsubscribed = BooleanField(null=True)
    added_at = DateTimeField(null=True)
    first_opened_at = DateTimeField(null=True)
    first_clicked_at = DateTimeField(null=True)
    response_date = DateTimeField(null=True)
    converted_at = DateTimeField(null=True)
    has_responded = BooleanField(null=True)
    label = IntegerField(null=True, column_name="label_id")
    """The member's label (`CampaignMember.label`), kept like the rest of its record."""

    class Meta:
        indexes = (
            (("entry", "member_id"), True),
            (("lead_id",), False),
            (("contact_id",), False),
        )


class JournalEvent(BaseModel):
    """An event that was linked to a member a journal entry removed: linked again on return."""

    entry = ForeignKeyField(JournalEntry, on_delete="CASCADE", index=False)
    event_id = IntegerField()
    member_id = IntegerField()

    class Meta:
        indexes = ((("entry", "member_id"), False),)


class JournalPayload(BaseModel):
    """What a journal entry that is not about one campaign's members keeps to be undone (a
    merge: both records, the memberships and events it changed), as JSON."""

    entry = ForeignKeyField(JournalEntry, primary_key=True, on_delete="CASCADE")
    payload = TextField()


class Receiver(BaseModel):
    """A webhook receiver (`campaigns serve`) on this database: where it listens, whether it
    still runs (`seen_at` is refreshed while it does) and the last request it refused."""

    host = CharField()
    port = IntegerField()
    pid = IntegerField()
    endpoints = CharField(default="")
    """The sources it accepts, comma-separated (an endpoint without its secret is off)."""
    started_at = DateTimeField(default=utcnow)
    seen_at = DateTimeField(default=utcnow)
    stopped_at = DateTimeField(null=True)
    last_refusal = CharField(default="")
    last_refusal_at = DateTimeField(null=True)


class ReceivedCount(BaseModel):
    """Events a receiver committed, per source and minute (what the Connectors screen sums)."""

    source = CharField()
    minute = DateTimeField()
    events = IntegerField(default=0)

    class Meta:
        indexes = ((("source", "minute"), True),)


class SeenRequest(BaseModel):
    """A signed request a receiver committed, remembered until its signature expires, so that
    several receivers on one database refuse a replay (`data.receiver`): a Mailgun token, or
    the hash of a signed timestamp and body. `digest` is the hash of the whole request: the
    same key with another body is a forgery, with the same body a resend."""

    key = CharField(primary_key=True)
    digest = CharField()
    expires_at = DateTimeField(index=True)


class PrivacyKey(BaseModel):
    """The key of the tombstones' keyed hash (`tombstones`): one row, made on first use."""

    id = IntegerField(primary_key=True)
    key = CharField()


class ErasedAddress(BaseModel):
    """A tombstone: the keyed hash of a forgotten address and when it was forgotten, so that
    the address coming back is suppressed (`suppression.suppress_erased`), never the address."""

    digest = CharField(primary_key=True)
    erased_at = DateTimeField()


class SchemaVersion(BaseModel):
    """The migrations applied to this database, one row each."""

    version = IntegerField(primary_key=True)
    applied_at = DateTimeField(default=utcnow)


MODELS = (
    Account,
    Contact,
    Lead,
    Campaign,
    CampaignStats,
    MemberStatusLabel,
    LabelStats,
    CampaignMember,
    Opportunity,
    EngagementEvent,
    EngagementScore,
    IngestRun,
    Suppression,
    JournalEntry,
    JournalMember,
    JournalEvent,
    JournalPayload,
    Receiver,
    ReceivedCount,
    SeenRequest,
    PrivacyKey,
    ErasedAddress,
    SchemaVersion,
)
"""Every table, in an order that creates referenced tables first."""

CHECKED_PER_STATEMENT = (MemberStatusLabel, CampaignMember, EngagementEvent, JournalMember)
"""Tables whose references a server checks once per statement, not once per row
(`postgres.check_references_per_statement`): members, log rows and journal copies are written
thousands at a time, and a label goes with its campaign in the same step as its members."""

EVENT_TYPE_SET = frozenset(EventType)
