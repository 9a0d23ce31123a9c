"""`campaigns campaign create|start|status|list|clean`."""

from __future__ import annotations

from data.text import counted, visible
from data.vocab import AudienceKind, CampaignStatus, CampaignType, values
from tui_app.cli.common import UserError, emit, open_db

IN_PROGRESS = CampaignStatus.IN_PROGRESS.value
"""The status `campaign start` moves a campaign to."""
STATUSES = values(CampaignStatus)


def register(sub, common) -> None:
    campaign = sub.add_parser("campaign", help="create, start and list campaigns")
    csub = campaign.add_subparsers(dest="action", metavar="ACTION", required=True)
    p = csub.add_parser("create", parents=[common], help="create a campaign")
    p.add_argument("name")
    p.add_argument("--type", default=CampaignType.EMAIL.value)
    p.add_argument("--kind", choices=values(AudienceKind), default=AudienceKind.BOTH.value)
    p.add_argument(
        "--where",
        action="append",
        default=[],
        metavar="FIELD=V1,V2",
        help="audience filter: country, industry, lead_source, lead_status "
        "(lists), title (contains), created_since (date); repeatable",
    )
    p.add_argument("--description", default="")
    p.add_argument("--parent", metavar="P", help="the campaign this one rolls up into")
    p.set_defaults(handler=cmd_create)
    p = csub.add_parser(
        "set-parent",
        parents=[common],
        help="put a campaign under another (at most 5 levels), or make it a root with --none",
    )
    p.add_argument("name")
    where = p.add_mutually_exclusive_group(required=True)
    where.add_argument("parent", nargs="?", help="the campaign it rolls up into")
    where.add_argument("--none", action="store_true", help="no parent: a root of its own")
    p.set_defaults(handler=cmd_set_parent)
    p = csub.add_parser(
        "start", parents=[common], help=f"move to {IN_PROGRESS} and enroll the audience"
    )
    p.add_argument("name")
    p.set_defaults(handler=cmd_start)
    p = csub.add_parser("status", parents=[common], help="set a campaign's status")
    p.add_argument("name")
    p.add_argument("status", help=", ".join(STATUSES[:-1]) + f" or {STATUSES[-1]}")
    p.set_defaults(handler=cmd_status)
    p = csub.add_parser("list", parents=[common], help="list campaigns")
    p.set_defaults(handler=cmd_list)
    p = csub.add_parser(
        "clean",
        parents=[common],
        help="remove bounced and unsubscribed members (undoable: campaigns undo)",
    )
    p.add_argument("name")
    p.set_defaults(handler=cmd_clean)


def cmd_create(args) -> None:
    from data.audience import describe_filters, parse_where
    from data.campaigns import create_campaign, find_campaign

    open_db(args)
    campaign = create_campaign(
        args.name,
        args.type,
        args.kind,
        parse_where(args.where),
        description=args.description,
        parent=find_campaign(args.parent) if args.parent else None,
    )
    emit(
        args,
        {"id": campaign.id, "name": campaign.name},
        f"created campaign '{visible(campaign.name)}' (id {campaign.id}): "
        f"{visible(describe_filters(campaign.audience_kind, campaign.filters))}",
    )


def cmd_set_parent(args) -> None:
    from data.campaigns import find_campaign
    from data.hierarchy import set_parent

    open_db(args)
    campaign = find_campaign(args.name)
    parent = None if args.none else find_campaign(args.parent)
    set_parent(campaign, parent)
    emit(
        args,
        {"campaign": campaign.name, "parent": parent.name if parent else None},
        f"{visible(campaign.name)}: "
        + (f"under {visible(parent.name)}" if parent else "a root campaign (no parent)"),
    )


def cmd_start(args) -> None:
    _change_status(args, None)


def cmd_status(args) -> None:
    _change_status(args, args.status)


def _change_status(args, typed: str | None) -> None:
    """`typed` is the status the user asked for; None starts the campaign."""
    from data.campaigns import change_status, find_campaign

    open_db(args)
    campaign = find_campaign(args.name)
    status = IN_PROGRESS if typed is None else status_named(typed)
    result = change_status(campaign, status)
    name = visible(campaign.name)
    if result is None:
        emit(args, {"campaign": campaign.name, "status": status}, f"{name}: {status}")
    else:
        emit(args, result.as_dict(), f"{name}: {IN_PROGRESS}; {result.summary()}")


def status_named(text: str) -> str:
    """The campaign status a user typed, forgiving case, spaces and hyphens."""
    for status in STATUSES:
        if status.lower().replace(" ", "") == text.lower().replace(" ", "").replace("-", ""):
            return status
    raise UserError(f"unknown status {text!r}; use one of {', '.join(STATUSES)}")


def cmd_list(args) -> None:
    from data.campaigns import list_campaigns

    open_db(args)
    rows = [
        {"id": c.id, "name": c.name, "type": c.type, "status": c.status} for c in list_campaigns()
    ]
    emit(
        args,
        rows,
        "\n".join(
            f"{r['id']:>4}  {visible(r['name']):<36} {r['type']:<14} {r['status']}" for r in rows
        )
        or "no campaigns yet",
    )


def cmd_clean(args) -> None:
    from data.campaigns import find_campaign
    from data.enrollment import clean_exits
    from data.journal import latest_open

    open_db(args)
    campaign = find_campaign(args.name)
    removed = clean_exits(campaign)
    entry = latest_open(campaign.id) if removed else None
    text = f"{visible(campaign.name)}: removed {counted(removed, 'bounced or unsubscribed member')}"
    if entry is not None:
        text += f" (journal entry {entry.id}; campaigns undo {entry.id} brings them back)"
    emit(
        args,
        {"campaign": campaign.name, "removed": removed, "journal": entry.id if entry else None},
        text,
    )
