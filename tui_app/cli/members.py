"""`campaigns members add|remove CAMPAIGN EMAIL…`: manual enrollment and removal."""

from __future__ import annotations

from data.text import visible
from tui_app.cli.common import emit, open_db


def register(sub, common) -> None:
    members = sub.add_parser("members", help="manual enrollment")
    msub = members.add_subparsers(dest="action", metavar="ACTION", required=True)
    p = msub.add_parser("add", parents=[common], help="enroll people by email")
    p.add_argument("campaign")
    p.add_argument("emails", nargs="+", metavar="EMAIL")
    p.set_defaults(handler=cmd_add)
    p = msub.add_parser(
        "remove", parents=[common], help="remove members by email (undoable: campaigns undo)"
    )
    p.add_argument("campaign")
    p.add_argument("emails", nargs="+", metavar="EMAIL")
    p.set_defaults(handler=cmd_remove)


def cmd_add(args) -> None:
    from data.campaigns import find_campaign
    from data.enrollment import enroll_emails

    open_db(args)
    campaign = find_campaign(args.campaign)
    result = enroll_emails(campaign, args.emails)
    text = f"{visible(campaign.name)}: {result.summary()}"
    if result.unknown_emails:
        text += "\nunknown: " + ", ".join(visible(email) for email in result.unknown_emails)
    emit(args, result.as_dict(), text)


def cmd_remove(args) -> None:
    from data.campaigns import find_campaign
    from data.enrollment import remove_emails
    from data.journal import latest_open

    open_db(args)
    campaign = find_campaign(args.campaign)
    removed, missing = remove_emails(campaign, args.emails)
    entry = latest_open(campaign.id) if removed else None
    text = f"{visible(campaign.name)}: removed {removed:,}"
    if entry is not None:
        text += f" (journal entry {entry.id})"
    if missing:
        text += "\nnot members: " + ", ".join(visible(email) for email in missing)
    data = {"removed": removed, "not_members": missing, "journal": entry.id if entry else None}
    emit(args, data, text)
