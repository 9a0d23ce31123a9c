"""What every subcommand shares: the database option, opening the database, printing, input."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager

from data.text import visible


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


def say(message: str) -> None:
    """A note on stderr while the command goes on (not an error)."""
    print(f"campaigns: {visible(message)}", file=sys.stderr, flush=True)


def open_db(args):
    from data.db import open_database

    return open_database(args.db, on_wait=say)


@contextmanager
def writing_stdout() -> Iterator:
    """Standard output to write a result to, flushed at the end. Closed or full, it is a
    one-line error rather than a lost result; a reader that went away (a pipe into `head`)
    ends the command quietly."""
    if sys.stdout is None:
        raise UserError("standard output is closed; nothing was written")
    try:
        yield sys.stdout
        sys.stdout.flush()
    except BrokenPipeError:
        _silence_stdout()
        raise
    except OSError as exc:
        _silence_stdout()
        raise UserError(f"cannot write to standard output: {exc.strerror or exc}") from None


def _silence_stdout() -> None:
    """After a write to stdout failed, point it at /dev/null so the flush at exit fails no more."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)


def emit(args, data: dict | list, text: str) -> None:
    """Print `data` as JSON with --json, else the human-readable `text`, each of its lines
    shown literally (`visible`: no control character from the data reaches the terminal)."""
    if getattr(args, "json", False):
        text = json.dumps(data, default=str)
    else:
        text = "\n".join(visible(line) for line in text.split("\n"))
    with writing_stdout() as out:
        print(text, file=out)


def open_input(path: str):
    """The file to read, or standard input for "-"; a bad path is one line."""
    if path == "-":
        if sys.stdin is None:
            raise UserError("standard input is closed; nothing to read")
        return sys.stdin
    try:
        return open(path, encoding="utf-8-sig", newline="")
    except FileNotFoundError:
        raise UserError(f"no such file: {path}") from None
    except IsADirectoryError:
        raise UserError(f"{path} is a folder, not a file") from None
    except PermissionError:
        raise UserError(f"cannot read {path}: permission denied") from None
