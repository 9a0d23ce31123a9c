"""Privacy commands at scale: `people duplicates` over 200,000 people (target: under 5 s),
forgetting one person among them (target: under 1 s) and merging two people with 20
memberships each (target: under 100 ms), each beside its floor.

    python bench/bench_privacy.py [--people 200000] [--db PATH|URL]

Half the people are leads, half contacts; one in fifty has a second record (a `+tag`, dots on
a Gmail address, or the same name and company). The floor of `duplicates` is one bare
`GROUP BY email` over both tables (the least a set-based pass over every person costs); the
floor of forgetting is reading the person's rows by the indexes it uses.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from data.campaigns import create_campaign
from data.db import database, open_database
from data.duplicates import duplicates
from data.enrollment import enroll
from data.merge import merge
from data.models import Contact, Lead
from data.privacy import forget
from data.sql import insert_rows


def fill(count: int) -> None:
    for model, prefix in ((Lead, "l"), (Contact, "c")):
        rows = []
        for n in range(count // 2):
            email = f"{prefix}.person{n}@gmail.com" if n % 3 == 0 else f"{prefix}{n}@example.com"
            rows.append(("First", f"Last{n}", email))
            if n % 50 == 0:
                rows.append(("First", f"Last{n}", email.replace("@", "+news@")))
        with database.atomic():
            insert_rows(model, [model.first_name, model.last_name, model.email], rows)


def timed(what, *args) -> float:
    start = time.perf_counter()
    what(*args)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--people", type=int, default=200_000)
    parser.add_argument("--db", help="default: a new SQLite file in a temporary folder")
    args = parser.parse_args()
    location = args.db or str(Path(tempfile.mkdtemp()) / "privacy.db")
    open_database(location)
    fill(args.people)
    floor = timed(
        lambda: [
            database.execute_sql(
                f"SELECT email, COUNT(*) FROM {t} GROUP BY email HAVING COUNT(*) > 1"
            ).fetchall()
            for t in ("lead", "contact")
        ]
    )
    groups = []
    took = timed(lambda: groups.extend(duplicates()))
    print(
        f"people duplicates: {took:.2f} s for {args.people:,} people, {len(groups):,} groups "
        f"(target 5 s; floor, a bare GROUP BY email: {floor:.2f} s)"
    )
    read = timed(lambda: Lead.get(Lead.email == "l7@example.com"))
    took = timed(lambda: forget("l7@example.com", who="bench"))
    print(
        f"person forget: {took * 1000:.0f} ms (target 1 s; floor, the person's read: "
        f"{read * 1000:.1f} ms)"
    )
    pair = [Lead.get(Lead.email == e).id for e in ("l8@example.com", "l10@example.com")]
    for n in range(20):
        campaign = create_campaign(f"Bench merge {n}", kind="leads")
        enroll(campaign, {"lead": pair})
    took = timed(lambda: merge("l8@example.com", "l10@example.com", who="bench"))
    print(f"people merge: {took * 1000:.0f} ms for 20 memberships each (target 100 ms)")


if __name__ == "__main__":
    main()
