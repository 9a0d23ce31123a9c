"""`campaigns demo`, and the demo database `campaigns --demo` opens."""

from __future__ import annotations

from pathlib import Path

from tui_app.cli.common import UserError, emit, open_db, progress_bar, say

DEMO_PEOPLE = 20_000
"""People in the database `campaigns --demo` creates on first use."""


def register(sub, common) -> None:
    p = sub.add_parser("demo", parents=[common], help="fill the database with demo data")
    p.add_argument("--people", type=int, default=2_000)
    p.add_argument("--campaigns", type=int, default=12)
    p.add_argument("--seed", type=int, default=7)
    p.set_defaults(handler=cmd_demo)


def cmd_demo(args) -> None:
    from data.demo import generate

    if args.people < 0 or args.campaigns < 0:
        raise UserError("--people and --campaigns take a number of zero or more")
    open_db(args, fill_demo=False)  # `campaigns --demo demo` fills the demo database as told
    with progress_bar(args, "generating demo data") as on_progress:
        made = generate(
            people=args.people, campaigns=args.campaigns, seed=args.seed, on_progress=on_progress
        )
    emit(args, made, ", ".join(f"{k} {v:,}" for k, v in made.items()))


def demo_location(args, fill: bool = True) -> str:
    """Open the demo database (`--db`, else demo.db in the data folder), filled on first use
    unless `fill` is off; its location."""
    from data.db import default_database_path, open_database
    from data.demo import generate
    from data.models import Campaign

    location = args.db or str(default_database_path().with_name("demo.db"))
    if "://" not in location:
        Path(location).parent.mkdir(parents=True, exist_ok=True)
    open_database(location, on_wait=say)
    if fill and not Campaign.select().exists():
        say(f"creating a demo database at {location} …")
        with progress_bar(args, "creating the demo database") as on_progress:
            generate(people=DEMO_PEOPLE, campaigns=12, seed=7, on_progress=on_progress)
    return location
