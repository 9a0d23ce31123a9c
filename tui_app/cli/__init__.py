"""The `campaigns` command: the TUI without a subcommand, scripting and connectors with one.

Each subcommand family is one module with a `register(subparsers, common)` that adds its parsers
and sets `handler` on each; adding a family is one module and one line in `SUBCOMMANDS`."""

from __future__ import annotations

import argparse
import csv
import sqlite3
import sys

import peewee

from data.errors import DatabaseError, ValidationError
from data.text import visible
from tui_app.cli import (
    campaign,
    demo,
    engaged,
    export,
    ingest,
    journal,
    lead,
    members,
    metrics,
    people_import,
    privacy,
    serve,
    statuses,
    suppression,
    trend,
)
from tui_app.cli.common import UserError, common_options, db_option, demo_option

SUBCOMMANDS = (
    demo,
    people_import,
    campaign,
    statuses,
    members,
    journal,
    ingest,
    metrics,
    trend,
    engaged,
    privacy,
    export,
    lead,
    suppression,
    serve,
)
"""The modules whose `register` adds a subcommand family, in the order `--help` lists them."""

__all__ = ["UserError", "build_parser", "main"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="campaigns",
        description="Campaign Members: campaigns and the leads and contacts they reach. "
        "Without a command, opens the terminal app.",
    )
    db_option(parser)
    demo_option(parser)
    common = common_options()
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in SUBCOMMANDS:
        module.register(sub, common)
    return parser


def run_app(args) -> int:
    from tui_app.app import make_app

    if args.demo:  # the demo database is opened once, by make_app, then filled on first use
        app = make_app(demo.demo_location(args), on_open=lambda: demo.fill_if_empty(args))
    else:
        app = make_app(args.db)
    return app.run_to_exit_status()


def _error(message: str) -> int:
    print(f"campaigns: error: {visible(message)}", file=sys.stderr)
    return 1


def _driver_errors() -> tuple[type[Exception], ...]:
    """The server driver's own errors, when it is loaded: bulk writes run on its cursor, where
    Peewee does not wrap what it raises (a read-only role's "permission denied", say)."""
    psycopg = sys.modules.get("psycopg")
    return (psycopg.Error,) if psycopg is not None else ()


def main(argv: list[str] | None = None) -> int:
    from data.db import describe
    from data.engagement import StatusChangeRefused

    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.command is None:
            return run_app(args)  # non-zero if the app crashed
        else:
            args.handler(args)
    except (UserError, DatabaseError, ValidationError, StatusChangeRefused) as exc:
        return _error(str(exc))
    except (UnicodeDecodeError, csv.Error) as exc:
        return _error(f"cannot read the input: {exc}")
    except (peewee.DatabaseError, sqlite3.DatabaseError, *_driver_errors()) as exc:
        return _error(f"database: {describe(exc)}")
    except BrokenPipeError:
        return 0
    except OSError as exc:
        where = f"{exc.filename}: " if exc.filename else ""
        return _error(f"{where}{exc.strerror or exc}")
    except KeyboardInterrupt:
        print("campaigns: interrupted", file=sys.stderr)
        return 130
    return 0
