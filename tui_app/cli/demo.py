"""`campaigns demo`, and the demo database `campaigns --demo` opens."""

from __future__ import annotations

from pathlib import Path

from data.text import counted
from tui_app.cli.common import UserError, emit, open_db, progress_bar, say

DEMO_PEOPLE = 20_000
"""People in the database `campaigns --demo` creates on first use."""


def register(sub, common) -> None:
    p = sub.add_parser("demo", parents=[common], help="fill the database with demo data")
    p.add_argument("--people", type=int, default=2_000, help="how many people (up to 1,000,000)")
    p.add_argument("--campaigns", type=int, default=12, help="how many campaigns (up to 1,000)")
    p.add_argument("--seed", type=int, default=7, help="the same seed makes the same data")
    p.add_argument(
        "--force",
        action="store_true",
        help="add demo data even to a database holding records demo did not make",
    )
    p.set_defaults(handler=cmd_demo)


def cmd_demo(args) -> None:
    from data.demo import demo_bounds, generate, records_not_from_demo

    problem = demo_bounds(args.people, args.campaigns, args.seed)
    if problem:
        raise UserError(problem)
    open_db(args, fill_demo=False)  # `campaigns --demo demo` fills the demo database as told
    found = records_not_from_demo()
    if found and not args.force:
        nouns = {"people": ("person", "people"), "campaigns": ("campaign", "campaigns")}
        held = " and ".join(counted(count, *nouns[kind]) for kind, count in found.items())
        raise UserError(
            f"the database holds {held} that demo did not make; demo data goes only into an "
            "empty or demo database (--force adds it anyway)"
        )
    with progress_bar(args, "generating demo data") as on_progress:
        made = generate(
            people=args.people, campaigns=args.campaigns, seed=args.seed, on_progress=on_progress
        )
    emit(args, made, ", ".join(f"{k} {v:,}" for k, v in made.items()))


def demo_location(args) -> str:
    """Where the demo database is: `--db`, else demo.db beside the usual database (its folder
    made). Nothing is opened: a process opens its database once (`open_db`, `make_app`)."""
    from data.db import default_database_path

    location = args.db if args.db is not None else str(default_database_path().with_name("demo.db"))
    if "://" not in location and location.strip():
        Path(location).parent.mkdir(parents=True, exist_ok=True)
    return location


def fill_if_empty(args) -> None:
    """Fill the open demo database with the usual demo on first use: only when it holds no
    person and no campaign, so `--demo` never adds made-up records beside real ones."""
    from data.demo import generate, is_empty

    if not is_empty():
        return
    say(f"creating a demo database at {demo_location(args)} …")
    with progress_bar(args, "creating the demo database") as on_progress:
        generate(people=DEMO_PEOPLE, campaigns=12, seed=7, on_progress=on_progress)
