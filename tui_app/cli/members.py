"""`campaigns members add|remove CAMPAIGN EMAIL…`: manual enrollment and removal; `members
set-status CAMPAIGN FILE.csv`: the batch status import."""

from __future__ import annotations

import sys

from data.text import visible
from tui_app.cli.common import emit, open_db, open_input, progress_bar


def register(sub, common) -> None:
    members = sub.add_parser("members", help="manual enrollment, removal and the status import")
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
    p = msub.add_parser(
        "set-status",
        parents=[common],
        help="raise members to the statuses an email,status CSV names (undoable)",
        description="Each row is a status event: a member is raised to the named label, never "
        "lowered. Rows with an unknown email or label are reported with their line numbers.",
    )
    p.add_argument("campaign")
    p.add_argument("file", metavar="FILE.csv", help='an email,status CSV ("-" for standard input)')
    p.add_argument(
        "--dry-run", action="store_true", help="show what it would do and change nothing"
    )
    p.set_defaults(handler=cmd_set_status)


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


def cmd_set_status(args) -> None:
    from data.campaigns import find_campaign
    from data.journal import latest_open
    from data.status_import import import_statuses, read_status_rows

    open_db(args)
    campaign = find_campaign(args.campaign)
    stream = open_input(args.file)
    try:
        rows = read_status_rows(stream)
    finally:
        if stream is not sys.stdin:
            stream.close()
    with progress_bar(args, "setting statuses") as on_progress:
        report = import_statuses(campaign, rows, dry_run=args.dry_run, on_progress=on_progress)
    entry = latest_open(campaign.id) if report.applied and not args.dry_run else None
    lines = [f"{campaign.name}: {report.summary()}"]
    if entry is not None:
        lines[0] += f" (journal entry {entry.id})"
    lines += [f"line {line}: {reason}" for line, reason in report.rejections]
    data = report.as_dict() | {"journal": entry.id if entry else None}
    emit(args, data, "\n".join(lines))
