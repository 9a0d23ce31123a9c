"""What every subcommand shares: the database option, opening the database, printing, input."""

from __future__ import annotations

import argparse
import json
import sys


class UserError(Exception):
    """Bad input from the command line: printed as one line, exit status 1."""


def db_option(parser: argparse.ArgumentParser, default=None) -> None:
    parser.add_argument(
        "--db",
        default=default,
        metavar="PATH|URL",
        help="SQLite file or database URL "
        "(default: $CAMPAIGNS_DB, then a file in your data folder)",
    )


def common_options() -> argparse.ArgumentParser:
    """Options repeated on each subcommand, so `campaigns ingest f --db x` works too."""
    common = argparse.ArgumentParser(add_help=False)
    db_option(common, default=argparse.SUPPRESS)
    common.add_argument(
        "--json", action="store_true", default=argparse.SUPPRESS, help="print the result as JSON"
    )
    return common


def open_db(args):
    from data.db import open_database

    return open_database(args.db)


def emit(args, data: dict | list, text: str) -> None:
    """Print `data` as JSON with --json, else the human-readable `text`."""
    if getattr(args, "json", False):
        print(json.dumps(data, default=str))
    else:
        print(text)


def open_input(path: str):
    """The file to read, or standard input for "-"; a bad path is one line."""
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
