"""Member status labels per campaign: the templates by campaign type, reading a campaign's list,
editing it, and counting its members by label.

What a list of labels may be is `engagement.ladder_problem`, and what a label means for a member
is the lattice in `engagement`; this module keeps the lists in the database. Every edit runs in
one transaction that first locks the campaign's labels, so two editors cannot both decide from
the same old list; a label a member holds cannot be deleted (the member's foreign key says so,
whatever a concurrent writer did since the check).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import replace

from peewee import JOIN, IntegrityError, Value, chunked, fn

from data.engagement import (
    CLICKED,
    CONVERTED,
    LADDER,
    OPENED,
    RESPONDED,
    SENT,
    STATUS_EVENT,
    StatusLabel,
    StatusLadder,
    displayed_label,
    ladder_problem,
)
from data.errors import ValidationError
from data.models import (
    Campaign,
    CampaignMember,
    EngagementEvent,
    LabelStats,
    MemberStatusLabel,
    length_problem,
)
from data.sql import database, is_sqlite, rows_where_in
from data.text import counted
from data.vocab import CampaignType

EMAIL_TEMPLATE = ((SENT, 0), (OPENED, 1), (CLICKED, 2), (RESPONDED, 3), (CONVERTED, 4))
"""The five ladder names, Sent the default: Email, Content, Advertisement and Other."""

EVENT_TEMPLATE = (
    ("Invited", 0),
    (OPENED, 1),
    (CLICKED, 2),
    ("Registered", 3),
    ("Attended", 3),
    (CONVERTED, 4),
)
"""Webinars and events: Invited the default; Registered and Attended both count as Responded."""

TEMPLATES: dict[str, tuple[tuple[str, int], ...]] = {
    CampaignType.WEBINAR: EVENT_TEMPLATE,
    CampaignType.EVENT: EVENT_TEMPLATE,
}
"""The labels a new campaign of a type starts with (the first is the default); other types get
`EMAIL_TEMPLATE`."""

CHUNK = 5_000


def template_for(campaign_type: str) -> tuple[tuple[str, int], ...]:
    return TEMPLATES.get(campaign_type, EMAIL_TEMPLATE)


def copy_template(campaign: Campaign) -> None:
    """Give a new campaign its type's labels (inside the caller's transaction)."""
    rows = [
        {
            "campaign": campaign.id,
            "position": position,
            "name": name,
            "counts_as": rung,
            "is_default": position == 0,
        }
        for position, (name, rung) in enumerate(template_for(campaign.type))
    ]
    MemberStatusLabel.insert_many(rows).execute()
    L = MemberStatusLabel
    LabelStats.insert_from(
        L.select(L.id, L.campaign, Value(0)).where(L.campaign == campaign.id),
        [LabelStats.label, LabelStats.campaign, LabelStats.members],
    ).execute()


def _labels_query(campaign_ids: list[int]):
    L = MemberStatusLabel
    return L.select(L.campaign, L.id, L.name, L.counts_as, L.is_default).order_by(
        L.campaign, L.position, L.id
    )


def ladders(campaign_ids: Iterable[int], *, lock: bool = False) -> dict[int, StatusLadder]:
    """The label lists of these campaigns. `lock` (inside a write transaction) keeps them from
    changing until it ends: on a server a shared row lock, so a label cannot be removed while
    a member is being lifted to it; SQLite's write transaction already excludes every other
    writer."""
    ids = sorted(set(campaign_ids))
    found: dict[int, list[StatusLabel]] = {cid: [] for cid in ids}
    for chunk in chunked(ids, CHUNK):
        query = _labels_query(chunk)
        if lock and not is_sqlite():
            query = query.for_update("FOR SHARE")
        for cid, lid, name, counts_as, is_default in rows_where_in(
            query, MemberStatusLabel.campaign, chunk
        ):
            found[cid].append(StatusLabel(lid, name, counts_as, bool(is_default)))
    return {cid: StatusLadder(labels) for cid, labels in found.items()}


def label_names(campaign_id: int | None = None) -> list[str]:
    """The names a `status:` filter term may take besides the ladder's words: one campaign's
    labels in its order, or (None) every campaign's, each once."""
    L = MemberStatusLabel
    if campaign_id is not None:
        query = L.select(L.name).where(L.campaign == campaign_id).order_by(L.position, L.id)
        return [name for (name,) in query.tuples()]
    return sorted({name for (name,) in L.select(L.name).distinct().tuples()})


def campaign_ladder(campaign: Campaign | int) -> StatusLadder:
    cid = campaign if isinstance(campaign, int) else campaign.id
    return ladders([cid])[cid]


def status_named(extra: str | None) -> str:
    """The label a logged status event named (kept with its extra keys), or ""."""
    if not extra:
        return ""
    try:
        keys = json.loads(extra)
    except ValueError:
        return ""
    status = keys.get("status") if isinstance(keys, dict) else None
    return status.strip() if isinstance(status, str) else ""


def shown_status(member: CampaignMember) -> str:
    """What one member's status shows as in its campaign (`engagement.displayed_label`)."""
    ladder = campaign_ladder(member.campaign_id)
    return displayed_label(member.status, ladder.get(member.label_id))


def default_label_id(campaign_id: int) -> int | None:
    """The label a member enrolled now is given."""
    L = MemberStatusLabel
    return (
        L.select(L.id).where((L.campaign == campaign_id) & (L.is_default == True)).scalar()  # noqa: E712
    )


def label_counts(campaign_ids: Iterable[int] | None = None) -> dict[int, dict[str, int]]:
    """Per campaign (None: every one), each label (in list order) with the number of members
    holding it, from the kept counters (`LabelStats`)."""
    S, L = LabelStats, MemberStatusLabel
    query = (
        L.select(L.campaign, L.name, S.members)
        .join(S, JOIN.LEFT_OUTER, on=(S.label == L.id))
        .order_by(L.campaign, L.position, L.id)
    )
    found: dict[int, dict[str, int]] = {}
    if campaign_ids is None:
        rows = list(query.tuples())
    else:
        ids = sorted(set(campaign_ids))
        found = {cid: {} for cid in ids}
        rows = [
            row for chunk in chunked(ids, CHUNK) for row in rows_where_in(query, L.campaign, chunk)
        ]
    for cid, name, members in rows:
        found.setdefault(cid, {})[name] = members or 0
    return found


# Editing -----------------------------------------------------------------------------------------


class LabelRefused(ValidationError):
    """An edit that would break a rule of the label list; the message says which."""


def rung_named(text: str) -> int:
    """A rung by its name (Sent, Opened, Clicked, Responded, Converted; any case)."""
    for rung, name in enumerate(LADDER):
        if text.strip().lower() == name.lower():
            return rung
    raise LabelRefused(f"unknown rung {text!r}; a label counts as one of {', '.join(LADDER)}")


def _locked_ladder(campaign: Campaign) -> StatusLadder:
    """The campaign's labels, locked against other editors until the transaction ends."""
    L = MemberStatusLabel
    query = _labels_query([campaign.id]).where(L.campaign == campaign.id)
    if not is_sqlite():
        query = query.for_update()
    return StatusLadder(
        [
            StatusLabel(lid, name, counts_as, bool(is_default))
            for _, lid, name, counts_as, is_default in query.tuples()
        ]
    )


def _checked(labels: list[StatusLabel]) -> None:
    problem = ladder_problem(labels) or next(
        (
            problem
            for label in labels
            if (problem := length_problem(MemberStatusLabel, {"name": label.name}))
        ),
        None,
    )
    if problem:
        raise LabelRefused(problem)


def _label(ladder: StatusLadder, name: str) -> StatusLabel:
    found = ladder.find(name)
    if found is None:
        raise LabelRefused(f"no status {name!r} in this campaign; its statuses are {ladder.names}")
    return found


def add_label(
    campaign: Campaign, name: str, counts_as: str | int, after: str | None = None
) -> StatusLabel:
    """Add a label counting as a rung: after `after`, else after the last label of its rung
    (or before the first label of a higher one)."""
    rung = rung_named(counts_as) if isinstance(counts_as, str) else counts_as
    name = name.strip()
    with database.atomic():
        ladder = _locked_ladder(campaign)
        labels = list(ladder)
        if after is not None:
            index = labels.index(_label(ladder, after)) + 1
        else:
            index = sum(1 for label in labels if label.counts_as <= rung)
        new = StatusLabel(0, name, rung)
        _checked(labels[:index] + [new] + labels[index:])
        L = MemberStatusLabel
        _positions(labels[index:], offset=index + 1)
        created = L.create(
            campaign=campaign.id, position=index, name=name, counts_as=rung, is_default=False
        )
        LabelStats.create(label=created.id, campaign=campaign.id)
    return replace(new, id=created.id)


def _positions(labels: list[StatusLabel], offset: int) -> None:
    """Number these labels from `offset` on, in the order given."""
    L = MemberStatusLabel
    for position, label in enumerate(labels, start=offset):
        L.update(position=position).where(L.id == label.id).execute()


def rename_label(campaign: Campaign, old: str, new: str) -> None:
    """Rename a label; the members holding it follow (they hold the label, not its name)."""
    new = new.strip()
    with database.atomic():
        ladder = _locked_ladder(campaign)
        target = _label(ladder, old)
        _checked([replace(lb, name=new) if lb.id == target.id else lb for lb in ladder])
        try:
            MemberStatusLabel.update(name=new).where(MemberStatusLabel.id == target.id).execute()
        except IntegrityError:
            raise LabelRefused(f"the campaign already has a status {new!r}") from None
        _follow_in_log(campaign.id, target.name, new)


def _follow_in_log(campaign_id: int, old: str, new: str) -> None:
    """The campaign's logged status events that named the label by its old name name it by the
    new one: an event names the label it reached, as a member holds it, so an undo that applies
    them again (`data.undo`) reaches the same label after a rename. The event log keeps no
    label id; the name, followed through renames, is one."""
    if old == new:
        return
    E = EngagementEvent
    escaped = json.dumps(old, ensure_ascii=False)[1:-1]  # as it appears in the JSON text
    query = E.select(E.id, E.extra).where(
        (E.campaign == campaign_id)
        & (fn.LOWER(fn.TRIM(E.type)) == STATUS_EVENT)
        & E.extra.contains(escaped)
    )
    named = [(i, extra) for i, extra in query.tuples() if status_named(extra) == old]
    for event_id, extra in named:
        keys = json.loads(extra)
        keys["status"] = new
        extra = json.dumps(keys, ensure_ascii=False)
        E.update(extra=extra).where(E.id == event_id).execute()


def remove_label(campaign: Campaign, name: str) -> None:
    """Remove a label no member holds."""
    with database.atomic():
        ladder = _locked_ladder(campaign)
        target = _label(ladder, name)
        if target.is_default:
            raise LabelRefused(
                f"{target.name} is the default given on enrollment: make another label the "
                "default first"
            )
        S = LabelStats  # the kept count (the members' reference refuses the deletion anyway)
        holding = S.select(S.members).where(S.label == target.id).scalar() or 0
        if holding:
            raise LabelRefused(
                f"{counted(holding, 'member holds', 'members hold')} {target.name}: a "
                "status is removed only while no member holds it"
            )
        _checked([lb for lb in ladder if lb.id != target.id])
        try:
            with database.atomic():
                MemberStatusLabel.delete().where(MemberStatusLabel.id == target.id).execute()
        except IntegrityError:
            raise LabelRefused(
                f"a member now holds {target.name}: a status is removed only while no member "
                "holds it"
            ) from None
        _positions([lb for lb in ladder if lb.id != target.id], offset=0)


def set_default(campaign: Campaign, name: str) -> None:
    """Make a label (one counting as Sent) the one given on enrollment."""
    with database.atomic():
        ladder = _locked_ladder(campaign)
        target = _label(ladder, name)
        _checked([replace(lb, is_default=lb.id == target.id) for lb in ladder])
        L = MemberStatusLabel
        L.update(is_default=False).where(
            (L.campaign == campaign.id) & (L.id != target.id)
        ).execute()
        L.update(is_default=True).where(L.id == target.id).execute()


def move_label(campaign: Campaign, name: str, step: int) -> None:
    """Move a label one place up (step -1) or down (+1) the list, within its rung."""
    with database.atomic():
        ladder = _locked_ladder(campaign)
        labels = list(ladder)
        index = labels.index(_label(ladder, name))
        other = index + step
        if not 0 <= other < len(labels):
            raise LabelRefused(f"{name} is already {'first' if step < 0 else 'last'}")
        labels[index], labels[other] = labels[other], labels[index]
        if labels[index].counts_as != labels[other].counts_as:
            raise LabelRefused(
                f"{name} counts as {labels[other].rung_name} and {labels[index].name} as "
                f"{labels[index].rung_name}: a label moves only among labels of its rung"
            )
        _checked(labels)
        _positions(labels, offset=0)
