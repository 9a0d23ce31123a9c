"""`campaigns journal` and `campaigns undo`: the bulk changes made, and taking one back."""

from __future__ import annotations

from data.text import visible
from tui_app.cli.common import UserError, emit, open_db


def register(sub, common) -> None:
    p = sub.add_parser(
        "journal",
        parents=[common],
        help="bulk changes (enroll, add, remove, clean, status changes, imports), newest first",
    )
    p.add_argument("--campaign", metavar="CAMPAIGN", help="only this campaign's")
    p.set_defaults(handler=cmd_journal)
    p = sub.add_parser(
        "undo", parents=[common], help="undo a journal entry (default: the latest not undone)"
    )
    p.add_argument("id", nargs="?", type=int, metavar="ID")
    p.add_argument(
        "--force",
        action="store_true",
        help="undo an enrollment or addition even though members it added have engaged since "
        "(their records are deleted)",
    )
    p.set_defaults(handler=cmd_undo)


def cmd_journal(args) -> None:
    from data.campaigns import find_campaign
    from data.journal import entries

    open_db(args)
    campaign_id = find_campaign(args.campaign).id if args.campaign else None
    rows = entries(campaign_id)
    lines = [
        f"{r.id:>5}  {r.at:%Y-%m-%d %H:%M}  {r.action:<7} {visible(r.campaign)[:30]:<30} "
        f"{r.count:>9,}  {'undone' if r.undone else ''}"
        for r in rows
    ]
    header = f"{'id':>5}  {'at':<16}  {'action':<7} {'campaign':<30} {'count':>9}"
    emit(
        args, [r.as_dict() for r in rows], "\n".join([header, *lines]) if rows else "no changes yet"
    )


def cmd_undo(args) -> None:
    from data.errors import ValidationError
    from data.undo import undo

    open_db(args)
    try:
        result = undo(args.id, force=args.force)
    except ValidationError as exc:
        raise UserError(str(exc)) from None
    text = f"undid journal entry {result.entry_id} ({result.action}, "
    text += f"{visible(result.campaign)}): {result.summary()}"
    emit(args, result.as_dict(), text)
