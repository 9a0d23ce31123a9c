"""The `campaigns` command: the TUI without a subcommand, scripting and connectors with one."""

from __future__ import annotations

import argparse
import csv
import json
import sqlite3
import sys
from pathlib import Path

import peewee

from data.db import DatabaseError

VIEW_CHOICES = ("all", "responded", "bounced-unsubscribed", "converted")
DEMO_PEOPLE = 20_000
"""People in the database `campaigns --demo` creates on first use."""


class UserError(Exception):
    """Bad input from the command line: printed as one line, exit status 1."""


def _db_option(parser: argparse.ArgumentParser, default=None) -> None:
    parser.add_argument(
        "--db",
        default=default,
        metavar="PATH|URL",
        help="SQLite file or database URL "
        "(default: $CAMPAIGNS_DB, then a file in your data folder)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="campaigns",
        description="Campaign Members: campaigns and the leads and contacts they reach. "
        "Without a command, opens the terminal app.",
    )
    _db_option(parser)
    parser.add_argument(
        "--demo",
        action="store_true",
        help="open the app on a demo database, creating it on first use",
    )
    # Options repeated on each subcommand, so `campaigns ingest f --db x` works too.
    common = argparse.ArgumentParser(add_help=False)
    _db_option(common, default=argparse.SUPPRESS)
    common.add_argument(
        "--json", action="store_true", default=argparse.SUPPRESS, help="print the result as JSON"
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("demo", parents=[common], help="fill the database with demo data")
    p.add_argument("--people", type=int, default=2_000)
    p.add_argument("--campaigns", type=int, default=12)
    p.add_argument("--seed", type=int, default=7)

    p = sub.add_parser("import", parents=[common], help="import leads or contacts from CSV")
    p.add_argument("kind", choices=("leads", "contacts"))
    p.add_argument("file", help="CSV file, or - for standard input")
    p.add_argument(
        "--skip-invalid", action="store_true", help="write the valid rows and report the others"
    )

    campaign = sub.add_parser("campaign", help="create, start and list campaigns")
    csub = campaign.add_subparsers(dest="action", metavar="ACTION", required=True)
    p = csub.add_parser("create", parents=[common], help="create a campaign")
    p.add_argument("name")
    p.add_argument("--type", default="Email")
    p.add_argument("--kind", choices=("leads", "contacts", "both"), default="both")
    p.add_argument(
        "--where",
        action="append",
        default=[],
        metavar="FIELD=V1,V2",
        help="audience filter: country, industry, lead_source, lead_status "
        "(lists), title (contains), created_since (date); repeatable",
    )
    p.add_argument("--description", default="")
    p = csub.add_parser(
        "start", parents=[common], help="move to In Progress and enroll the audience"
    )
    p.add_argument("name")
    p = csub.add_parser("status", parents=[common], help="set a campaign's status")
    p.add_argument("name")
    p.add_argument("status", help="Planned, In Progress, Completed or Aborted")
    csub.add_parser("list", parents=[common], help="list campaigns")

    members = sub.add_parser("members", help="manual enrollment")
    msub = members.add_subparsers(dest="action", metavar="ACTION", required=True)
    p = msub.add_parser("add", parents=[common], help="enroll people by email")
    p.add_argument("campaign")
    p.add_argument("emails", nargs="+", metavar="EMAIL")

    p = sub.add_parser("ingest", parents=[common], help="apply engagement events (JSONL or CSV)")
    p.add_argument("file", help="file, or - for standard input")
    p.add_argument("--format", choices=("jsonl", "csv"), help="default: guessed from the content")
    p.add_argument(
        "--batch-size",
        type=int,
        default=None,
        metavar="N",
        help="events per transaction (default 20,000)",
    )

    p = sub.add_parser("metrics", parents=[common], help="rollups of one or all campaigns")
    p.add_argument("campaign", nargs="?")

    export = sub.add_parser("export", help="export members as CSV")
    esub = export.add_subparsers(dest="what", metavar="WHAT", required=True)
    p = esub.add_parser("members", parents=[common], help="a campaign's members, CSV to stdout")
    p.add_argument("campaign")
    p.add_argument("--view", choices=VIEW_CHOICES, default="all")
    p.add_argument("-o", "--output", help="write to this file instead of standard output")

    p = sub.add_parser(
        "events", parents=[common], help="the event log: rejected events, or one member's timeline"
    )
    p.add_argument("--rejected", action="store_true", help="list rejected events with reasons")
    p.add_argument("--campaign", help="with --email: that member's timeline")
    p.add_argument("--email")
    p.add_argument("--limit", type=int, default=1_000)

    lead = sub.add_parser("lead", help="lead conversion")
    lsub = lead.add_subparsers(dest="action", metavar="ACTION", required=True)
    p = lsub.add_parser("convert", parents=[common], help="convert a lead into a contact")
    p.add_argument("email")
    p.add_argument("--opportunity", metavar="NAME")
    p.add_argument("--amount", default="0")
    p.add_argument("--stage", default="Prospecting")
    p.add_argument("--campaign-source", metavar="CAMPAIGN")
    return parser


def _open(args):
    from data.db import open_database

    return open_database(args.db)


def _print(args, data: dict | list, text: str) -> None:
    if getattr(args, "json", False):
        print(json.dumps(data, default=str))
    else:
        print(text)


def _input(path: str):
    if path == "-":
        return sys.stdin
    try:
        return open(path, encoding="utf-8-sig", newline="")
    except FileNotFoundError:
        raise UserError(f"no such file: {path}") from None
    except IsADirectoryError:
        raise UserError(f"{path} is a folder, not a file") from None
    except PermissionError:
        raise UserError(f"cannot read {path}: permission denied") from None


def cmd_demo(args) -> None:
    from data.demo import generate

    if args.people < 0 or args.campaigns < 0:
        raise UserError("--people and --campaigns take a number of zero or more")
    _open(args)
    made = generate(people=args.people, campaigns=args.campaigns, seed=args.seed)
    _print(args, made, ", ".join(f"{k} {v:,}" for k, v in made.items()))


def cmd_import(args) -> None:
    from data.transfer import import_people

    _open(args)
    kind = args.kind[:-1]
    with _input(args.file) as stream:
        report = import_people(kind, stream, skip_invalid=args.skip_invalid)
    lines = [f"line {line}: {reason}" for line, reason in report.invalid]
    if report.written:
        text = f"{args.kind}: created {report.created:,}, updated {report.updated:,}"
        if report.invalid:
            text += f", skipped {len(report.invalid):,} invalid rows"
        _print(args, report.as_dict(), "\n".join([*lines, text]))
        return
    if getattr(args, "json", False):
        print(json.dumps(report.as_dict()))
    else:
        print("\n".join(lines), file=sys.stderr)
    raise UserError(
        f"{len(report.invalid):,} invalid rows; nothing was imported "
        "(fix them, or use --skip-invalid to import the valid rows)"
    )


def cmd_campaign(args) -> None:
    from data.audience import describe_filters, parse_where
    from data.campaigns import change_status, create_campaign, find_campaign, list_campaigns

    _open(args)
    if args.action == "create":
        campaign = create_campaign(
            args.name,
            args.type,
            args.kind,
            parse_where(args.where),
            description=args.description,
        )
        _print(
            args,
            {"id": campaign.id, "name": campaign.name},
            f"created campaign {campaign.name!r} (id {campaign.id}): "
            f"{describe_filters(campaign.audience_kind, campaign.filters)}",
        )
    elif args.action in ("start", "status"):
        campaign = find_campaign(args.name)
        status = "In Progress" if args.action == "start" else _status_name(args.status)
        result = change_status(campaign, status)
        if result is None:
            _print(
                args, {"campaign": campaign.name, "status": status}, f"{campaign.name}: {status}"
            )
        else:
            _print(args, result.as_dict(), f"{campaign.name}: In Progress; {result.summary()}")
    else:
        rows = [
            {"id": c.id, "name": c.name, "type": c.type, "status": c.status}
            for c in list_campaigns()
        ]
        _print(
            args,
            rows,
            "\n".join(f"{r['id']:>4}  {r['name']:<36} {r['type']:<14} {r['status']}" for r in rows)
            or "no campaigns yet",
        )


def _status_name(text: str) -> str:
    from data.models import CAMPAIGN_STATUSES

    for status in CAMPAIGN_STATUSES:
        if status.lower().replace(" ", "") == text.lower().replace(" ", "").replace("-", ""):
            return status
    raise UserError(f"unknown status {text!r}; use one of {', '.join(CAMPAIGN_STATUSES)}")


def cmd_members(args) -> None:
    from data.campaigns import find_campaign
    from data.enrollment import enroll_emails

    _open(args)
    campaign = find_campaign(args.campaign)
    result = enroll_emails(campaign, args.emails)
    text = f"{campaign.name}: {result.summary()}"
    if result.unknown_emails:
        text += "\nunknown: " + ", ".join(result.unknown_emails)
    _print(args, result.as_dict(), text)


def cmd_ingest(args) -> None:
    from data.ingest import BATCH_SIZE, ingest_stream

    batch_size = args.batch_size or BATCH_SIZE
    if batch_size < 1:
        raise UserError("--batch-size takes a number of one or more")
    _open(args)
    source = "-" if args.file == "-" else str(Path(args.file).resolve())
    with _input(args.file) as stream:
        report = ingest_stream(stream, args.format, batch_size=batch_size, source=source)
    text = ""
    if report.resumed_from:
        text = (
            f"resumed an interrupted ingest of this input after {report.resumed_from:,} "
            "events it had already committed\n"
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
    _print(args, {**report.as_dict(), "resumed_from": report.resumed_from}, text)


def _metrics_json(metrics) -> dict:
    data = metrics.as_dict()
    data.pop("campaign_id")
    return data


def cmd_metrics(args) -> None:
    from data.campaigns import find_campaign
    from data.rollups import all_metrics, campaign_metrics

    _open(args)
    if args.campaign:
        m = campaign_metrics(find_campaign(args.campaign))
        _print(args, _metrics_json(m), _metrics_text([m]))
    else:
        ms = all_metrics()
        _print(args, [_metrics_json(m) for m in ms], _metrics_text(ms))


def _metrics_text(ms) -> str:
    head = (
        f"{'campaign':<32} {'status':<12} {'sent':>9} {'open':>6} {'click':>6} "
        f"{'resp':>6} {'conv':>6} {'bounced':>8} {'unsub':>7}"
    )
    lines = [head]
    for m in ms:
        lines.append(
            f"{m.campaign[:32]:<32} {m.status:<12} {m.sent:>9,} {m.open_rate:>6.1%} "
            f"{m.click_rate:>6.1%} {m.response_rate:>6.1%} {m.conversion_rate:>6.1%} "
            f"{m.bounced:>8,} {m.unsubscribed:>7,}"
        )
    return "\n".join(lines)


def cmd_export(args) -> None:
    from data.campaigns import find_campaign
    from data.transfer import export_members, write_members_csv

    _open(args)
    campaign = find_campaign(args.campaign)
    if args.output:
        try:
            count = write_members_csv(campaign, args.view, "", args.output)
        except OSError as exc:
            raise UserError(f"cannot write {args.output}: {exc.strerror}") from None
        print(f"wrote {count:,} members to {args.output}", file=sys.stderr)
    else:
        export_members(campaign, args.view, sys.stdout)


def cmd_lead(args) -> None:
    from data.campaigns import find_campaign
    from data.conversion import convert_lead
    from data.models import Lead
    from data.people import normalize_email

    _open(args)
    lead = Lead.get_or_none(Lead.email == normalize_email(args.email))
    if lead is None:
        raise UserError(f"no lead with email {args.email}")
    source = find_campaign(args.campaign_source) if args.campaign_source else None
    result = convert_lead(
        lead,
        opportunity_name=args.opportunity,
        amount=args.amount,
        stage=args.stage,
        campaign_source=source,
    )
    data = {
        "contact_id": result.contact.id,
        "created_contact": result.created_contact,
        "opportunity_id": result.opportunity.id if result.opportunity else None,
        "source_member_status": result.source_member.status if result.source_member else None,
    }
    text = f"{lead.email}: converted to contact {result.contact.id}" + (
        " (new)" if result.created_contact else " (existing)"
    )
    if result.opportunity:
        text += f"; opportunity {result.opportunity.name!r}"
    if source is not None:
        text += (
            f"; {source.name} membership is now {result.source_member.status}"
            if result.source_member
            else f"; not a member of {source.name}"
        )
    _print(args, data, text)


def cmd_events(args) -> None:
    from peewee import JOIN

    from data.campaigns import find_campaign
    from data.events import member_timeline, rejected_count, rejected_events
    from data.models import CampaignMember, Contact, Lead
    from data.people import normalize_email

    _open(args)
    if args.rejected == bool(args.campaign or args.email):
        raise UserError("say --rejected, or --campaign and --email for a member's timeline")
    if args.rejected:
        events = rejected_events(limit=args.limit)
        total = rejected_count()
        lines = [
            f"{e.received_at:%Y-%m-%d %H:%M:%S}  {e.reason}  "
            + (json.dumps(e.original()) if e.original() else repr(e.extra))
            for e in events
        ]
        if total > len(events):
            lines.append(f"… {total - len(events):,} more (raise --limit)")
        _print(args, [e.as_dict() for e in events], "\n".join(lines) or "no rejected events")
        return
    if not (args.campaign and args.email):
        raise UserError("a member's timeline needs both --campaign and --email")
    campaign = find_campaign(args.campaign)
    email = normalize_email(args.email)
    M = CampaignMember
    member = (
        M.select()
        .join(Lead, JOIN.LEFT_OUTER, on=(M.lead == Lead.id))
        .join_from(M, Contact, JOIN.LEFT_OUTER, on=(M.contact == Contact.id))
        .where((M.campaign == campaign.id) & ((Lead.email == email) | (Contact.email == email)))
        .first()
    )
    if member is None:
        raise UserError(f"{args.email} is not a member of {campaign.name}")
    events = member_timeline(member)
    lines = [
        f"{e.at:%Y-%m-%d %H:%M:%S}  {e.type:<11} {e.outcome:<9} {e.source}"
        + (f"  id {e.event_id}" if e.event_id else "")
        for e in events
    ]
    lines.append(f"status now: {member.status}")
    _print(
        args, {"status": member.status, "events": [e.as_dict() for e in events]}, "\n".join(lines)
    )


def run_app(args) -> None:
    from tui_app.app import make_app

    location = args.db
    if args.demo:
        location = _demo_location(args.db)
    make_app(location).run()


def _demo_location(db: str | None) -> str:
    from data.db import default_database_path, open_database
    from data.demo import generate
    from data.models import Campaign

    location = db or str(default_database_path().with_name("demo.db"))
    Path(location).parent.mkdir(parents=True, exist_ok=True) if "://" not in location else None
    open_database(location)
    if not Campaign.select().exists():
        print(f"Creating a demo database at {location} …", file=sys.stderr)
        generate(people=DEMO_PEOPLE, campaigns=12, seed=7)
    return location


COMMANDS = {
    "demo": cmd_demo,
    "import": cmd_import,
    "campaign": cmd_campaign,
    "members": cmd_members,
    "ingest": cmd_ingest,
    "events": cmd_events,
    "metrics": cmd_metrics,
    "export": cmd_export,
    "lead": cmd_lead,
}


def main(argv: list[str] | None = None) -> int:
    from data.engagement import StatusChangeRefused
    from data.models import ValidationError

    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.command is None:
            run_app(args)
        else:
            COMMANDS[args.command](args)
    except (UserError, DatabaseError, ValidationError, StatusChangeRefused) as exc:
        print(f"campaigns: error: {exc}", file=sys.stderr)
        return 1
    except (UnicodeDecodeError, csv.Error) as exc:
        print(f"campaigns: error: cannot read the input: {exc}", file=sys.stderr)
        return 1
    except (peewee.OperationalError, sqlite3.OperationalError) as exc:
        print(f"campaigns: error: database: {exc}", file=sys.stderr)
        return 1
    except BrokenPipeError:
        return 0
    except KeyboardInterrupt:
        print("campaigns: interrupted", file=sys.stderr)
        return 130
    return 0
