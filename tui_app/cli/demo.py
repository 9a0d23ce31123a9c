"""`campaigns demo`, and the demo database `campaigns --demo` opens."""

from __future__ import annotations

import sys
from pathlib import Path

from tui_app.cli.common import UserError, emit, open_db, say

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
    open_db(args)
    made = generate(people=args.people, campaigns=args.campaigns, seed=args.seed)
    emit(args, made, ", ".join(f"{k} {v:,}" for k, v in made.items()))


def demo_location(db: str | None) -> str:
    """The demo database (`--db`, else demo.db in the data folder), filled on first use."""
    from data.db import default_database_path, open_database
    from data.demo import generate
    from data.models import Campaign

    location = db or str(default_database_path().with_name("demo.db"))
    if "://" not in location:
        Path(location).parent.mkdir(parents=True, exist_ok=True)
    open_database(location, on_wait=say)
    if not Campaign.select().exists():
        print(f"Creating a demo database at {location} …", file=sys.stderr)
        generate(people=DEMO_PEOPLE, campaigns=12, seed=7)
    return location
