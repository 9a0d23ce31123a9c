"""`campaigns ingest FILE` applies engagement events; `campaigns events` reads the event log."""

from __future__ import annotations

import sys
from pathlib import Path

from data.ingest.parsing import FORMATS
from data.text import counted, visible
from tui_app.cli.common import UserError, emit, open_db, progress_bar


def register(sub, common) -> None:
    p = sub.add_parser("ingest", parents=[common], help="apply engagement events (JSONL or CSV)")
    p.add_argument("file", help="file, or - for standard input")
    p.add_argument(
        "--format",
        choices=FORMATS,
        help="default: from the file's extension, else CSV if the first line is a header "
        "naming the event columns, else JSON Lines",
    )
    p.add_argument(
        "--batch-size",
        type=int,
        default=None,
        metavar="N",
        help="events per transaction (default 20,000)",
    )
    p.set_defaults(handler=cmd_ingest)

    p = sub.add_parser(
        "events", parents=[common], help="the event log: rejected events, or one member's timeline"
    )
    p.add_argument("--rejected", action="store_true", help="list rejected events with reasons")
    p.add_argument("--campaign", help="with --email: that member's timeline")
    p.add_argument("--email")
    p.add_argument("--limit", type=int, default=1_000)
    p.set_defaults(handler=cmd_events)


def open_bytes(path: str):
    """The input as bytes (each line is decoded, or rejected, on its own); "-" is stdin."""
    if path == "-":
        if sys.stdin is None:
            raise UserError("standard input is closed")
        return sys.stdin.buffer
    from data.db import refuse_database_file

    refuse_database_file(path)
    try:
        return open(path, "rb")
    except FileNotFoundError:
        raise UserError(f"no such file: {path}") from None
    except IsADirectoryError:
        raise UserError(f"{path} is a folder, not a file") from None
    except PermissionError:
        raise UserError(f"cannot read {path}: permission denied") from None


def cmd_ingest(args) -> None:
    from data.ingest import BATCH_SIZE, ingest_stream

    if args.batch_size is not None and args.batch_size < 1:
        raise UserError("--batch-size takes a number of one or more")
    batch_size = args.batch_size or BATCH_SIZE
    open_db(args)
    live = args.file == "-"
    with open_bytes(args.file) as stream, progress_bar(args, "ingesting") as on_progress:
        report = ingest_stream(
            stream,
            args.format,
            name=None if live else args.file,
            on_progress=None if live else on_progress,
            batch_size=batch_size,
            source=None if live else str(Path(args.file).resolve()),
            live=live,
        )
    text = ""
    if report.resumed_from:
        text = (
            "resumed an interrupted ingest of this input after "
            f"{counted(report.resumed_from, 'event')} it had already committed\n"
        )
    text += (
        f"applied {report.applied:,}, unchanged {report.unchanged:,}, "
        f"duplicates {report.duplicates:,}, rejected {report.rejected:,}"
    )
    if report.reasons:
        text += (
            " ("
            + ", ".join(f"{k.replace('_', ' ')} {v:,}" for k, v in report.reasons.items())
            + ")"
        )
    if report.machine:
        text += f"; machine opens {report.machine:,} (recorded, raising nothing)"
    emit(args, {**report.as_dict(), "resumed_from": report.resumed_from}, text)


def cmd_events(args) -> None:
    if args.rejected == bool(args.campaign or args.email):
        raise UserError("say --rejected, or --campaign and --email for a member's timeline")
    open_db(args)
    if args.rejected:
        _rejected(args)
    else:
        _timeline(args)


def _rejected(args) -> None:
    from data.events import rejected_count, rejected_events

    events = rejected_events(limit=args.limit)
    total = rejected_count()
    lines = [
        f"{e.received_at:%Y-%m-%d %H:%M:%S}  {visible(e.reason)}  {visible(e.as_sent())}"
        for e in events
    ]
    if total > len(events):
        lines.append(f"… {total - len(events):,} more (raise --limit)")
    emit(args, [e.as_dict() for e in events], "\n".join(lines) or "no rejected events")


def _timeline(args) -> None:
    from data.campaigns import find_campaign
    from data.events import member_timeline
    from data.identity import member_of

    if not (args.campaign and args.email):
        raise UserError("a member's timeline needs both --campaign and --email")
    campaign = find_campaign(args.campaign)
    member = member_of(campaign.id, args.email)  # the membership the address's events reach
    if member is None:
        raise UserError(f"{visible(args.email)} is not a member of {visible(campaign.name)}")
    events = member_timeline(member)
    lines = [
        f"{e.at.isoformat(' ') if e.at else '':<19}  {visible(e.type):<11} {e.outcome:<9} "
        f"{visible(e.source)}" + (f"  id {visible(e.event_id)}" if e.event_id else "")
        for e in events
    ]
    lines.append(f"status now: {member.status}")
    emit(args, {"status": member.status, "events": [e.as_dict() for e in events]}, "\n".join(lines))
