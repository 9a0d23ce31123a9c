"""Data-layer benchmark: the PRODUCT.md §4 targets, each beside the same work in raw sqlite3.

    python bench/bench_data.py [--people 200000] [--dir /tmp/campaigns-bench]

Builds 200,000 people and 20 campaigns with over 1,000,000 members, then measures bulk
enrollment, event ingest, all-campaign rollups and the deepest page of a 200,000-member list.
"""

from __future__ import annotations

import argparse
import io
import json
import random
import shutil
import sqlite3
import statistics
import sys
import time
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from data.campaigns import create_campaign
from data.db import database, open_database
from data.demo import COUNTRIES, generate
from data.enrollment import enroll
from data.ingest import ingest_stream
from data.members import member_page
from data.models import Campaign, CampaignMember, Contact, Lead
from data.rollups import all_metrics

NOW = datetime(2026, 11, 20, 12)


def timed(fn, repeat: int = 1) -> tuple[float, object]:
    """Median seconds over `repeat` runs, and the last result."""
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def audiences() -> list[tuple[str, str, dict]]:
    """20 campaigns: five reach everyone, the rest a few countries each (> 1,000,000 in all)."""
    plans = [(f"Everyone {n}", "both", {}) for n in range(1, 6)]
    countries = sorted(set(COUNTRIES))
    rng = random.Random(3)
    for n in range(1, 16):
        plans.append(
            (
                f"Regional {n}",
                rng.choice(["leads", "contacts", "both"]),
                {"country": rng.sample(countries, 4)},
            )
        )
    return plans


RAW_ENROLL = {
    "lead": """
        INSERT INTO campaign_member (campaign_id, lead_id, status, rung, bounced, unsubscribed,
                                     added_at, has_responded)
        SELECT ?, l.id, 'Sent', 0, 0, 0, ?, 0 FROM lead l
        WHERE {where} NOT l.do_not_email AND NOT l.email_bounced AND l.converted_contact_id IS NULL
          AND NOT EXISTS (SELECT 1 FROM campaign_member m
                          WHERE m.campaign_id = ? AND m.lead_id = l.id)
        ON CONFLICT DO NOTHING""",
    "contact": """
        INSERT INTO campaign_member (campaign_id, contact_id, status, rung, bounced, unsubscribed,
                                     added_at, has_responded)
        SELECT ?, c.id, 'Sent', 0, 0, 0, ?, 0 FROM contact c
        WHERE {where} NOT c.do_not_email AND NOT c.email_bounced
          AND NOT EXISTS (SELECT 1 FROM campaign_member m
                          WHERE m.campaign_id = ? AND m.contact_id = c.id)
        ON CONFLICT DO NOTHING""",
}


def raw_enroll(path: Path, campaign_ids: dict[str, int]) -> tuple[float, int]:
    """The floor: the same enrollments as hand-written INSERT … SELECT in raw sqlite3."""
    con = sqlite3.connect(path)
    con.execute("PRAGMA journal_mode=wal")
    con.execute("PRAGMA synchronous=normal")
    total, start = 0, time.perf_counter()
    for name, kind, filters in audiences():
        with con:
            for person in ("lead", "contact"):
                if kind not in (person + "s", "both"):
                    continue
                alias = person[0]
                where, params = "", []
                if filters.get("country"):
                    where = f"{alias}.country IN ({','.join('?' * len(filters['country']))}) AND "
                    params = list(filters["country"])
                cid = campaign_ids[name]
                sql = RAW_ENROLL[person].format(where=where)
                total += con.execute(sql, [cid, NOW.isoformat(" "), *params, cid]).rowcount
    elapsed = time.perf_counter() - start
    con.close()
    return elapsed, total


def make_events(count: int, members: list[tuple[str, str]], seed: int = 5) -> str:
    rng = random.Random(seed)
    kinds = ["open"] * 6 + ["click"] * 3 + ["respond", "bounce", "unsubscribe", "convert"]
    lines = []
    for n in range(count):
        campaign, email = rng.choice(members)
        event_id = f"bench-{rng.randrange(count)}" if rng.random() < 0.1 else f"bench-{n}"
        lines.append(
            json.dumps(
                {
                    "id": event_id,
                    "type": rng.choice(kinds),
                    "campaign": campaign,
                    "email": email,
                    "at": f"2026-03-{rng.randint(1, 28):02d}T{rng.randint(0, 23):02d}:00:00Z",
                }
            )
        )
    return "\n".join(lines) + "\n"


def raw_ingest(path: Path, text: str) -> float:
    """The floor: parse each line and insert it into the event log with raw sqlite3 (no rule)."""
    con = sqlite3.connect(path)
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    start = time.perf_counter()
    rows = []
    for line in text.splitlines():
        e = json.loads(line)
        rows.append(
            (
                e["id"],
                e["type"],
                e["campaign"],
                e["email"],
                e["at"],
                "applied",
                "",
                "",
                "ingest",
                NOW.isoformat(" "),
            )
        )
    with con:
        con.executemany(
            "INSERT INTO engagement_event (event_id, type, campaign_ref, email, at, outcome,"
            " reason, extra, source, received_at) VALUES (?,?,?,?,?,?,?,?,?,?)",
            rows,
        )
    elapsed = time.perf_counter() - start
    con.close()
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=200_000)
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--dir", default="/tmp/campaigns-bench")
    args = parser.parse_args()
    folder = Path(args.dir)
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    main_db, raw_db = folder / "bench.db", folder / "raw.db"

    print(f"building {args.people:,} people …", flush=True)
    db = open_database(str(main_db))
    seconds, _ = timed(lambda: generate(people=args.people, campaigns=0, seed=1, now=NOW))
    print(f"  demo people: {seconds:.1f} s")
    ids = {
        name: create_campaign(name, "Email", kind, filters, now=NOW).id
        for name, kind, filters in audiences()
    }
    db.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    shutil.copyfile(main_db, raw_db)
    results = []

    raw_seconds, raw_rows = raw_enroll(raw_db, ids)
    db = open_database(str(main_db))
    start = time.perf_counter()
    ours_rows = sum(enroll(Campaign.get_by_id(cid), now=NOW).enrolled for cid in ids.values())
    ours_seconds = time.perf_counter() - start
    assert ours_rows == raw_rows, (ours_rows, raw_rows)
    ours_rate, raw_rate = ours_rows / ours_seconds, raw_rows / raw_seconds
    results.append(
        (
            "bulk enrollment (members/s)",
            f"{ours_rate:,.0f}",
            f"{raw_rate:,.0f}",
            ">= half raw",
            ours_rate >= raw_rate / 2,
        )
    )
    print(f"  enrolled {ours_rows:,} members", flush=True)

    M = CampaignMember
    sample = list(
        M.select(Campaign.name, Lead.email)
        .join(Campaign)
        .switch(M)
        .join(Lead)
        .where(M.id % 97 == 0)
        .limit(20_000)
        .tuples()
    ) + list(
        M.select(Campaign.name, Contact.email)
        .join(Campaign)
        .switch(M)
        .join(Contact)
        .where(M.id % 89 == 0)
        .limit(20_000)
        .tuples()
    )
    text = make_events(args.events, sample)
    # Both sides start from a checkpointed file, as a database does once a bulk load is over
    # (otherwise the 1.6 million enrollment rows still sit in the write-ahead log).
    database.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    seconds, report = timed(lambda: ingest_stream(io.StringIO(text)))
    raw_seconds = raw_ingest(raw_db, text)
    rate = args.events / seconds
    assert report.total == args.events
    results.append(
        (
            "ingest (events/s, all recorded)",
            f"{rate:,.0f}",
            f"{args.events / raw_seconds:,.0f}",
            ">= 20,000",
            rate >= 20_000,
        )
    )

    seconds, _ = timed(all_metrics, repeat=20)
    con = sqlite3.connect(main_db)
    raw, _ = timed(
        lambda: con.execute(
            "SELECT campaign_id, count(*), sum(rung>=1), sum(rung>=2), sum(rung>=3), sum(rung=4),"
            " sum(status='Bounced'), sum(status='Unsubscribed') FROM campaign_member"
            " GROUP BY campaign_id"
        ).fetchall(),
        repeat=3,
    )
    raw_kept, _ = timed(lambda: con.execute("SELECT * FROM campaign_stats").fetchall(), repeat=20)
    results.append(
        (
            "all-campaign rollups (ms)",
            f"{seconds * 1000:.2f}",
            f"{raw * 1000:.1f} counting / {raw_kept * 1000:.2f} kept",
            "< 50",
            seconds < 0.05,
        )
    )

    biggest = max(ids.values(), key=lambda cid: M.select().where(M.campaign == cid).count())
    size = M.select().where(M.campaign == biggest).count()
    seconds, page = timed(lambda: member_page(biggest, last=True), repeat=20)
    raw, _ = timed(
        lambda: con.execute(
            "SELECT id FROM campaign_member WHERE campaign_id = ? ORDER BY id DESC LIMIT 100",
            (biggest,),
        ).fetchall(),
        repeat=20,
    )
    offset, _ = timed(
        lambda: con.execute(
            "SELECT id FROM campaign_member WHERE campaign_id = ? ORDER BY id LIMIT 100 OFFSET ?",
            (biggest, size - 100),
        ).fetchall(),
        repeat=5,
    )
    results.append(
        (
            f"deepest page of {size:,} members (ms)",
            f"{seconds * 1000:.2f}",
            f"{raw * 1000:.2f} (OFFSET: {offset * 1000:.1f})",
            "< 20",
            seconds < 0.02,
        )
    )
    total_members = M.select().count()
    con.close()
    database.close()

    print(f"\n{args.people:,} people, {len(ids)} campaigns, {total_members:,} members\n")
    print(f"{'measure':<40} {'campaigns':>14} {'raw sqlite3':>28}  {'target':<12} ok")
    for name, ours, raw_text, target, ok in results:
        print(f"{name:<40} {ours:>14} {raw_text:>28}  {target:<12} {'yes' if ok else 'NO'}")


if __name__ == "__main__":
    main()
