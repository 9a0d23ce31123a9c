"""SQLite beside PostgreSQL: the same bulk enrollment and event ingest on both backends.

    python bench/bench_backends.py --pg postgresql://USER@HOST:PORT/postgres [--people 50000]

The PostgreSQL URL names a role that may create databases; a database `campaigns_bench` is made
afresh on that server. Both backends get the same demo people and the same events; the target
(PRODUCT.md §4, §6) is PostgreSQL within 2x of SQLite.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from data.campaigns import create_campaign
from data.db import database, open_database
from data.demo import generate
from data.enrollment import enroll
from data.ingest import ingest_records
from data.models import CampaignMember, Contact, Lead

NOW = datetime(2026, 11, 20, 12)
TYPES = ("open", "click", "respond", "bounce", "unsubscribe")


def events_for(emails: list[str], campaigns: list[str], count: int) -> list[dict]:
    """`count` events over these members in random order (not clustered by member)."""
    rng = random.Random(11)
    return [
        {
            "id": f"bench-{n}",
            "type": rng.choice(TYPES),
            "campaign": rng.choice(campaigns),
            "email": rng.choice(emails),
            "at": f"2026-03-{1 + n % 28:02d}T{n % 24:02d}:00:00Z",
        }
        for n in range(count)
    ]


def run(location: str, people: int, event_count: int) -> dict[str, float]:
    open_database(location)
    generate(people=people, campaigns=0, seed=5, now=NOW)
    campaigns = [create_campaign(f"Bench {n}", "Email", "both", {}) for n in range(1, 4)]
    start = time.perf_counter()
    enrolled = sum(enroll(c, now=NOW).enrolled for c in campaigns)
    enroll_s = time.perf_counter() - start
    emails = [e for (e,) in Lead.select(Lead.email).tuples()] + [
        e for (e,) in Contact.select(Contact.email).tuples()
    ]
    events = events_for(emails, [c.name for c in campaigns], event_count)
    start = time.perf_counter()
    report = ingest_records(events, now=NOW)
    ingest_s = time.perf_counter() - start
    assert report.total == event_count, report
    members = CampaignMember.select().count()
    database.close()
    return {
        "members": members,
        "enroll_per_s": enrolled / enroll_s,
        "ingest_per_s": event_count / ingest_s,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--pg", required=True, help="postgresql://… of a role that may CREATE DATABASE"
    )
    parser.add_argument("--people", type=int, default=50_000)
    parser.add_argument("--events", type=int, default=100_000)
    args = parser.parse_args()

    import psycopg

    with psycopg.connect(args.pg, autocommit=True) as conn:
        conn.execute("DROP DATABASE IF EXISTS campaigns_bench WITH (FORCE)")
        conn.execute("CREATE DATABASE campaigns_bench")
    pg_url = urlsplit(args.pg)._replace(path="/campaigns_bench").geturl()
    with tempfile.TemporaryDirectory() as folder:
        sqlite = run(str(Path(folder) / "bench.db"), args.people, args.events)
    postgres = run(pg_url, args.people, args.events)
    print(f"{'':28}{'SQLite':>12}{'PostgreSQL':>12}{'ratio':>8}")
    for key, label in (
        ("enroll_per_s", "bulk enrollment, members/s"),
        ("ingest_per_s", "ingest, events/s"),
    ):
        ratio = sqlite[key] / postgres[key]
        print(f"{label:28}{sqlite[key]:>12,.0f}{postgres[key]:>12,.0f}{ratio:>7.2f}x")
    print(json.dumps({"sqlite": sqlite, "postgresql": postgres}))


if __name__ == "__main__":
    main()
