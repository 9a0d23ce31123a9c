"""`campaigns suppression list|add|lift`: the addresses nobody is enrolled under, and why."""

from __future__ import annotations

import getpass

from tui_app.cli.common import emit, open_db


def register(sub, common) -> None:
    suppression = sub.add_parser(
        "suppression", help="suppressed email addresses: list, add, lift (with a reason)"
    )
    ssub = suppression.add_subparsers(dest="action", metavar="ACTION", required=True)
    p = ssub.add_parser("list", parents=[common], help="list suppressed addresses")
    p.add_argument("--all", action="store_true", help="include lifted suppressions")
    p.add_argument("--email", help="only this address, with its whole history")
    p.set_defaults(handler=cmd_list)
    p = ssub.add_parser("add", parents=[common], help="suppress an address")
    p.add_argument("email")
    p.add_argument("--reason", required=True, help="why, kept with the suppression")
    p.set_defaults(handler=cmd_add)
    p = ssub.add_parser(
        "lift", parents=[common], help="lift an address's suppression (recorded, with a reason)"
    )
    p.add_argument("email")
    p.add_argument(
        "--reason", required=True, help='why, e.g. "re-subscribed by form on 2026-03-02"'
    )
    p.set_defaults(handler=cmd_lift)


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return ""


def as_dict(s) -> dict:
    return {
        "email": s.email,
        "kind": s.kind,
        "reason": s.reason,
        "event_id": s.event_id,
        "campaign_id": s.campaign_id,
        "at": s.at.isoformat(),
        "recorded_at": s.created_at.isoformat(),
        "lifted_at": s.lifted_at.isoformat() if s.lifted_at else None,
        "lifted_reason": s.lifted_reason or None,
        "lifted_by": s.lifted_by or None,
    }


def as_line(s) -> str:
    from data.suppression import describe
    from data.text import visible

    line = f"{visible(s.email)}  {visible(describe(s))}"
    if s.lifted_at:
        line += f"  — lifted {s.lifted_at:%Y-%m-%d %H:%M}"
        if s.lifted_by:
            line += f" by {visible(s.lifted_by)}"
        line += f": {visible(s.lifted_reason)}"
    return line


def cmd_list(args) -> None:
    from data import suppression

    open_db(args)
    if args.email:
        rows = suppression.history(args.email)
    else:
        rows = suppression.suppressions(include_lifted=args.all)
    empty = "no suppressed addresses" if not args.email else f"{args.email} was never suppressed"
    emit(args, [as_dict(s) for s in rows], "\n".join(as_line(s) for s in rows) or empty)


def cmd_add(args) -> None:
    from data import suppression

    open_db(args)
    row, created = suppression.add(args.email, args.reason, by=_user())
    verb = "suppressed" if created else "already suppressed"
    emit(args, {**as_dict(row), "created": created}, f"{verb}: {as_line(row)}")


def cmd_lift(args) -> None:
    from data import suppression

    open_db(args)
    row = suppression.lift(args.email, args.reason, by=_user())
    emit(args, as_dict(row), f"lifted: {as_line(row)}")
