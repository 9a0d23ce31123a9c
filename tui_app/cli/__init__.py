"""The `campaigns` command: the TUI without a subcommand, scripting and connectors with one.

Each subcommand family is one module with a `register(subparsers, common)` that adds its parsers
and sets `handler` on each; adding a family is one module and one line in `SUBCOMMANDS`."""

from __future__ import annotations

import argparse
import csv
import sqlite3
import sys

import peewee

from data.db import DatabaseError
from tui_app.cli import campaign, demo, export, ingest, lead, members, metrics, people_import
from tui_app.cli.common import UserError, common_options, db_option

SUBCOMMANDS = (demo, people_import, campaign, members, ingest, metrics, export, lead)
"""The modules whose `register` adds a subcommand family, in the order `--help` lists them."""

__all__ = ["UserError", "build_parser", "main"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="campaigns",
        description="Campaign Members: campaigns and the leads and contacts they reach. "
        "Without a command, opens the terminal app.",
    )
    db_option(parser)
    parser.add_argument(
        "--demo",
        action="store_true",
        help="open the app on a demo database, creating it on first use",
    )
    common = common_options()
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in SUBCOMMANDS:
        module.register(sub, common)
    return parser


def run_app(args) -> None:
    from tui_app.app import make_app

    location = demo.demo_location(args.db) if args.demo else args.db
    make_app(location).run()


def main(argv: list[str] | None = None) -> int:
    from data.engagement import StatusChangeRefused
    from data.models import ValidationError

    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.command is None:
            run_app(args)
        else:
            args.handler(args)
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
