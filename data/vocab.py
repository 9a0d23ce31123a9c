"""The product's vocabularies, one `StrEnum` each.

CHECK constraints, `validate()`, command-line choices and screens all read these. A member
equals its string (`CampaignStatus.PLANNED == "Planned"`), so stored values, JSON and CSV are
the plain strings.
"""

from __future__ import annotations

from enum import StrEnum


def values(vocabulary: type[StrEnum]) -> tuple[str, ...]:
    """The plain strings of a vocabulary, in order (for argparse `choices`, whose error message
    shows each choice's repr, and for anything that must not carry enum members)."""
    return tuple(member.value for member in vocabulary)


def is_one_of(value: object, vocabulary: type[StrEnum]) -> bool:
    """Whether `value` is one of a vocabulary's strings (`in` on the enum raises on 3.11)."""
    return value in values(vocabulary)


def listed(vocabulary: type[StrEnum]) -> str:
    """The values of a vocabulary as a phrase for an error message: "a, b, c"."""
    return ", ".join(vocabulary)


class CampaignStatus(StrEnum):
    PLANNED = "Planned"
    IN_PROGRESS = "In Progress"
    COMPLETED = "Completed"
    ABORTED = "Aborted"

    @property
    def is_closed(self) -> bool:
        """The campaign is over: nobody is added to it any more."""
        return self in (CampaignStatus.COMPLETED, CampaignStatus.ABORTED)


class CampaignType(StrEnum):
    EMAIL = "Email"
    WEBINAR = "Webinar"
    EVENT = "Event"
    CONTENT = "Content"
    ADVERTISEMENT = "Advertisement"
    OTHER = "Other"


class AudienceKind(StrEnum):
    """Which person tables a campaign's audience is drawn from."""

    LEADS = "leads"
    CONTACTS = "contacts"
    BOTH = "both"

    @property
    def label(self) -> str:
        return {"leads": "Leads", "contacts": "Contacts", "both": "Leads and contacts"}[self]


class MemberStatus(StrEnum):
    """The seven member statuses, the engagement ladder first, in the order users see them."""

    SENT = "Sent"
    OPENED = "Opened"
    CLICKED = "Clicked"
    RESPONDED = "Responded"
    CONVERTED = "Converted"
    BOUNCED = "Bounced"
    UNSUBSCRIBED = "Unsubscribed"


class MemberView(StrEnum):
    """The standard member list views."""

    ALL = "all"
    RESPONDED = "responded"
    BOUNCED_UNSUBSCRIBED = "bounced-unsubscribed"
    CONVERTED = "converted"

    @property
    def label(self) -> str:
        return _VIEW_TITLES[self]


_VIEW_TITLES = {
    MemberView.ALL: "All Members",
    MemberView.RESPONDED: "Responded",
    MemberView.BOUNCED_UNSUBSCRIBED: "Bounced / Unsubscribed",
    MemberView.CONVERTED: "Converted to Opportunity",
}


class ExclusionReason(StrEnum):
    """Why the exclusion rule leaves a person out of a campaign, in the order it checks them."""

    ALREADY_MEMBER = "already_member"
    DO_NOT_EMAIL = "do_not_email"
    BOUNCED = "bounced"
    SUPPRESSED = "suppressed"
    CONVERTED_LEAD = "converted_lead"
    CONTACT_INSTEAD = "contact_instead"

    @property
    def label(self) -> str:
        return _EXCLUSION_LABELS[self]


_EXCLUSION_LABELS = {
    ExclusionReason.ALREADY_MEMBER: "already a member",
    ExclusionReason.DO_NOT_EMAIL: "do not email",
    ExclusionReason.BOUNCED: "email bounced",
    ExclusionReason.SUPPRESSED: "address suppressed",
    ExclusionReason.CONVERTED_LEAD: "lead already converted to a contact",
    ExclusionReason.CONTACT_INSTEAD: "a contact with the same address is enrolled instead",
}

NEW = "new"
"""The category of a person no exclusion applies to: they can be enrolled."""


class EventType(StrEnum):
    """The engagement events an integration (or a manual change) sends."""

    OPEN = "open"
    CLICK = "click"
    RESPOND = "respond"
    CONVERT = "convert"
    BOUNCE = "bounce"
    UNSUBSCRIBE = "unsubscribe"
    STATUS = "status"
    """Names one of the campaign's member status labels (its `status` key)."""


class EventOutcome(StrEnum):
    """What a received event did, as recorded in the event log."""

    APPLIED = "applied"
    UNCHANGED = "unchanged"
    DUPLICATE = "duplicate"
    REJECTED = "rejected"
    MACHINE = "machine"
    """An open a machine made (a privacy proxy at delivery, a scanner): raises nothing."""


class OpportunityStage(StrEnum):
    PROSPECTING = "Prospecting"
    QUALIFICATION = "Qualification"
    PROPOSAL = "Proposal"
    NEGOTIATION = "Negotiation"
    CLOSED_WON = "Closed Won"
    CLOSED_LOST = "Closed Lost"


class LeadStatus(StrEnum):
    OPEN = "Open"
    WORKING = "Working"
    NURTURING = "Nurturing"
    QUALIFIED = "Qualified"
    UNQUALIFIED = "Unqualified"
    CONVERTED = "Converted"


class SuppressionKind(StrEnum):
    """What suppressed an email address (PRODUCT.md §1: suppression follows the address)."""

    UNSUBSCRIBE = "unsubscribe"
    BOUNCE = "bounce"
    MANUAL = "manual"

    @property
    def flag(self) -> str:
        """The per-record flag a suppression of this kind sets on every lead and contact."""
        return "email_bounced" if self is SuppressionKind.BOUNCE else "do_not_email"


class JournalAction(StrEnum):
    """The bulk changes the journal records, each of which can be undone."""

    ENROLL = "enroll"
    """A campaign's start: its audience enrolled."""
    ADD = "add"
    """People added by hand: the picker, a person's record, `members add`."""
    REMOVE = "remove"
    CLEAN = "clean"
    """Bounced and unsubscribed members removed."""
    STATUS = "status"
    """A status change made by a user."""
    IMPORT = "import"
    """A batch status import."""
    FORGET = "forget"
    """A person forgotten on request (`privacy.forget`): recorded, never undone."""
    MERGE = "merge"
    """Two records of one person merged (`merge.merge`); undone from its `JournalPayload`."""

    @property
    def adds_members(self) -> bool:
        """Undoing it removes the members it added."""
        return self in (JournalAction.ENROLL, JournalAction.ADD)

    @property
    def removes_members(self) -> bool:
        """Undoing it brings back the members it removed."""
        return self in (JournalAction.REMOVE, JournalAction.CLEAN)
