"""What every subcommand shares: the database option, opening the database, printing, input."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager

from data.progress import OnProgress
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
    demo_option(common, default=argparse.SUPPRESS)
    return common


def demo_option(parser: argparse.ArgumentParser, default=False) -> None:
    parser.add_argument(
        "--demo",
        action="store_true",
        default=default,
        help="use the demo database (demo.db beside the usual one, or --db), "
        "creating it on first use",
    )


def say(message: str) -> None:
    """A note on stderr while the command goes on (not an error)."""
    print(f"campaigns: {visible(message)}", file=sys.stderr, flush=True)


def open_db(args, fill_demo: bool = True) -> None:
    """Open the database the command names: --db, else $CAMPAIGNS_DB, else the usual file; with
    --demo the demo database (filled with demo data on first use unless `fill_demo` is off)."""
    from data.db import open_database

    if getattr(args, "demo", False):
        from tui_app.cli.demo import demo_location, fill_if_empty

        open_database(demo_location(args), on_wait=say)
        if fill_demo:
            fill_if_empty(args)
    else:
        open_database(args.db, on_wait=say)


@contextmanager
def progress_bar(args, description: str) -> Iterator[OnProgress | None]:
    """A progress bar on stderr for long work, as an `on_progress(done, total)` for the data
    services; None (nothing drawn, nothing extra written) when stderr is not a terminal or the
    result is --json. The bar is gone once the work is done."""
    stderr = sys.stderr
    if getattr(args, "json", False) or stderr is None or not stderr.isatty():
        yield None
        return
    from rich.console import Console
    from rich.progress import Progress, TimeElapsedColumn

    progress = Progress(
        *Progress.get_default_columns(),
        TimeElapsedColumn(),
        console=Console(file=stderr),
        transient=True,
        redirect_stdout=False,  # results go to stdout as they are, never through the bar
    )
    with progress:
        task = progress.add_task(visible(description), total=None)

        def on_progress(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        yield on_progress


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
    from data.db import refuse_database_file

    refuse_database_file(path)
    try:
        return open(path, encoding="utf-8-sig", newline="")
    except FileNotFoundError:
        raise UserError(f"no such file: {path}") from None
    except IsADirectoryError:
        raise UserError(f"{path} is a folder, not a file") from None
    except PermissionError:
        raise UserError(f"cannot read {path}: permission denied") from None


def command_group(sub, name: str, help: str):
    """The ACTION subparsers of the command group `name` (`person`, `people`): made here if no
    family made it yet, else the one already there, so several families add actions to one
    group whatever order they register in."""
    parser = sub.choices.get(name)
    if parser is None:
        parser = sub.add_parser(name, help=help)
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return action
    return parser.add_subparsers(dest="action", metavar="ACTION", required=True)
