"""Data-layer benchmark: the PRODUCT.md §4 targets, each beside the same work in raw sqlite3.

    python bench/bench_data.py [--people 200000] [--dir /tmp/campaigns-bench]
                               [--db postgresql://USER@HOST:PORT/postgres]

Builds 200,000 people and 20 campaigns with over 1,000,000 members, then measures bulk
enrollment, event ingest through the command (events clustered on a sample of members, and
events in random order over every member), all-campaign rollups, `metrics --json` over every
campaign (rollups and label counts, beside raw sqlite3 reading the kept counters and counting the
members), the deepest page of a 200,000-member list and its first and last pages sorted by name.

With `--db postgresql://…` (a role that may create databases) the same measures run again on a
database `campaigns_bench` made afresh on that server, with the same people, campaigns and
events, and SQLite and PostgreSQL are printed side by side (target: within 2x, PRODUCT.md §6).
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import sqlite3
import statistics
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from data.campaigns import create_campaign
from data.db import database, open_database
from data.demo import COUNTRIES, generate
from data.enrollment import enroll
from data.members import member_page
from data.models import Campaign, CampaignMember, Contact, Lead
from data.rollups import all_metrics
from data.sorting import Order

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
    """The floor: parse each line and insert it into the event log with raw sqlite3 (no rule;
    a repeated id is logged as a duplicate, as the log's unique index of ids requires)."""
    con = sqlite3.connect(path)
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    start = time.perf_counter()
    rows, seen = [], set()
    received = NOW.isoformat(" ")
    for line in text.splitlines():
        e = json.loads(line)
        outcome = "duplicate" if e["id"] in seen else "applied"
        seen.add(e["id"])
        rows.append((e["id"], e["type"], e["campaign"], e["email"], e["at"], outcome, received))
    with con:
        con.executemany(
            "INSERT INTO engagement_event (event_id, type, campaign_ref, email, at, outcome,"
            " reason, extra, source, received_at, received_line)"
            " VALUES (?,?,?,?,?,?,'','','ingest',?,'')",
            rows,
        )
    elapsed = time.perf_counter() - start
    con.close()
    return elapsed


RUNG = {"open": 1, "click": 2, "respond": 3, "convert": 4}


def random_events(path: Path, count: int, seed: int = 11) -> tuple[str, list[int]]:
    """Events in random order over every member (not clustered by member), and the member each
    one is for (the raw floor raises members by that key)."""
    con = sqlite3.connect(path)
    top = con.execute("SELECT max(id) FROM campaign_member").fetchone()[0]
    rng = random.Random(seed)
    picks = [rng.randint(1, top) for _ in range(count)]
    who: dict[int, tuple[str, str]] = {}
    wanted = sorted(set(picks))
    for start in range(0, len(wanted), 5_000):
        chunk = wanted[start : start + 5_000]
        who.update(
            (mid, (name, email))
            for mid, name, email in con.execute(
                "SELECT m.id, c.name, coalesce(l.email, t.email) FROM campaign_member m"
                " JOIN campaign c ON c.id = m.campaign_id"
                " LEFT JOIN lead l ON l.id = m.lead_id LEFT JOIN contact t ON t.id = m.contact_id"
                f" WHERE m.id IN ({','.join('?' * len(chunk))})",
                chunk,
            )
        )
    con.close()
    kinds = ["open"] * 6 + ["click"] * 3 + ["respond", "bounce", "unsubscribe", "convert"]
    lines, keys = [], []
    for n, mid in enumerate(picks):
        if mid not in who:
            continue
        campaign, email = who[mid]
        event_id = f"rand-{rng.randrange(count)}" if rng.random() < 0.1 else f"rand-{n}"
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
        keys.append(mid)
    return "\n".join(lines) + "\n", keys


def raw_log_and_raise(path: Path, text: str, keys: list[int], batch: int = 20_000) -> float:
    """The floor: raw sqlite3 parses each line, logs it and raises its member by key
    (`rung = max(rung, …)` by member id), in transactions of `batch` events."""
    con = sqlite3.connect(path)
    con.execute("PRAGMA journal_mode=wal")
    con.execute("PRAGMA synchronous=normal")
    received = NOW.isoformat(" ")
    lines = text.splitlines()
    seen: set[str] = set()
    start = time.perf_counter()
    for first in range(0, len(lines), batch):
        logged, raised = [], []
        for line, mid in zip(lines[first : first + batch], keys[first : first + batch]):
            e = json.loads(line)
            outcome = "duplicate" if e["id"] in seen else "applied"
            seen.add(e["id"])
            logged.append(
                (e["id"], e["type"], e["campaign"], e["email"], e["at"], mid, outcome, received)
            )
            raised.append((RUNG.get(e["type"], 0), mid))
        with con:
            con.executemany(
                "INSERT INTO engagement_event (event_id, type, campaign_ref, email, at, member_id,"
                " outcome, reason, extra, source, received_at, received_line)"
                " VALUES (?,?,?,?,?,?,?,'','','ingest',?,'')",
                logged,
            )
            con.executemany("UPDATE campaign_member SET rung = max(rung, ?) WHERE id = ?", raised)
    elapsed = time.perf_counter() - start
    con.close()
    return elapsed


def cli_ingest(location: Path | str, text: str, feed: Path) -> tuple[float, dict]:
    """`campaigns ingest FILE --json` in its own process, as a user or a connector runs it."""
    feed.write_text(text)
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "tui_app", "--db", str(location), "ingest", str(feed), "--json"],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parents[1],
    )
    return time.perf_counter() - start, json.loads(proc.stdout)


def metrics_json(repeat: int = 20) -> float:
    """What `campaigns metrics --json` does once the database is open: every campaign's
    rollups and label counts, as JSON (median seconds)."""
    from data.labels import label_counts
    from tui_app.cli.metrics import _metrics_json

    def run() -> str:
        ms = all_metrics()
        by_status = label_counts([m.campaign_id for m in ms])
        return json.dumps([_metrics_json(m, by_status) for m in ms])

    return timed(run, repeat=repeat)[0]


def cli_seconds(location: Path | str, *command: str, repeat: int = 5) -> float:
    """Median wall time of `campaigns --db LOCATION COMMAND…` in its own process."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "tui_app", "--db", str(location), *command],
            capture_output=True,
            check=True,
            cwd=Path(__file__).resolve().parents[1],
        )
        times.append(time.perf_counter() - start)
    return statistics.median(times)


SIDE_BY_SIDE = (
    ("enroll", "bulk enrollment (members/s)", True),
    ("random", "ingest, random order (events/s)", True),
    ("clustered", "ingest, clustered (events/s)", True),
    ("rollups", "all-campaign rollups (ms)", False),
    ("page", "deepest page (ms)", False),
    ("metrics", "metrics --json, all campaigns (ms)", False),
)


SERVER = ("shared_buffers", "max_wal_size", "wal_compression")
"""The server settings a random-order ingest over a million members depends on most."""


def on_postgres(server: str, people: int, folder: Path, random_text: str, clustered: str) -> dict:
    """The same measures on a fresh PostgreSQL database: the same people (same seed), the same
    campaigns and the same event files as the SQLite run."""
    import psycopg

    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute("DROP DATABASE IF EXISTS campaigns_bench WITH (FORCE)")
        conn.execute("CREATE DATABASE campaigns_bench")
    url = urlsplit(server)._replace(path="/campaigns_bench").geturl()
    print(f"building {people:,} people on PostgreSQL …", flush=True)
    open_database(url)
    generate(people=people, campaigns=0, seed=1, now=NOW)
    ids = [
        create_campaign(name, "Email", kind, filters, now=NOW).id
        for name, kind, filters in audiences()
    ]
    figures: dict[str, float] = {}
    start = time.perf_counter()
    enrolled = sum(enroll(Campaign.get_by_id(cid), now=NOW).enrolled for cid in ids)
    figures["enroll"] = enrolled / (time.perf_counter() - start)
    # What autovacuum does after a bulk load, done before the clock starts rather than at some
    # moment during the ingest (the SQLite side checkpoints its log for the same reason).
    database.execute_sql("VACUUM ANALYZE")
    settings = [f"{name} {database.execute_sql(f'SHOW {name}').fetchone()[0]}" for name in SERVER]
    print(f"  the server's settings: {', '.join(settings)}")
    database.close()
    for key, text in (("random", random_text), ("clustered", clustered)):
        seconds, _ = cli_ingest(url, text, folder / f"{key}-pg.jsonl")
        figures[key] = len(text.splitlines()) / seconds
    open_database(url)
    figures["rollups"] = timed(all_metrics, repeat=20)[0] * 1000
    figures["metrics"] = metrics_json() * 1000
    M = CampaignMember
    biggest = max(ids, key=lambda cid: M.select().where(M.campaign == cid).count())
    figures["page"] = timed(lambda: member_page(biggest, last=True), repeat=20)[0] * 1000
    database.close()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=200_000)
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--dir", default="/tmp/campaigns-bench")
    parser.add_argument(
        "--db", help="also on PostgreSQL: postgresql://… of a role that may CREATE DATABASE"
    )
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
    sqlite_figures = {"enroll": ours_rate}
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
    clustered = make_events(args.events, sample)
    # Both sides start from a checkpointed file, as a database does once a bulk load is over
    # (otherwise the 1.6 million enrollment rows still sit in the write-ahead log).
    database.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    database.close()
    floor_db = folder / "floor.db"
    shutil.copyfile(main_db, floor_db)
    shutil.copyfile(main_db, folder / "before-ingest.db")  # to profile an ingest again

    text, keys = random_events(main_db, args.events)
    seconds, report = cli_ingest(main_db, text, folder / "random.jsonl")
    raw_seconds = raw_log_and_raise(floor_db, text, keys)
    assert sum(report[k] for k in ("applied", "unchanged", "duplicates", "rejected")) == len(keys)
    rate, floor = len(keys) / seconds, len(keys) / raw_seconds
    sqlite_figures["random"] = rate
    results.append(
        (
            "ingest, random order (events/s)",
            f"{rate:,.0f}",
            f"{floor:,.0f} log + raise by key",
            f">= {max(20_000, floor / 2):,.0f}",
            rate >= 20_000 and rate >= floor / 2,
        )
    )

    seconds, report = cli_ingest(main_db, clustered, folder / "clustered.jsonl")
    raw_seconds = raw_ingest(raw_db, clustered)
    rate = args.events / seconds
    sqlite_figures["clustered"] = rate
    assert sum(report[k] for k in ("applied", "unchanged", "duplicates", "rejected")) == args.events
    results.append(
        (
            "ingest, clustered (events/s)",
            f"{rate:,.0f}",
            f"{args.events / raw_seconds:,.0f} log only",
            ">= 20,000",
            rate >= 20_000,
        )
    )
    open_database(str(main_db))

    seconds, _ = timed(all_metrics, repeat=20)
    sqlite_figures["rollups"] = seconds * 1000
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

    seconds = metrics_json()
    sqlite_figures["metrics"] = seconds * 1000
    raw, _ = timed(
        lambda: (
            con.execute("SELECT * FROM campaign ORDER BY name").fetchall(),
            con.execute("SELECT * FROM campaign_stats").fetchall(),
            con.execute(
                "SELECT l.campaign_id, l.name, s.members FROM member_status_label l"
                " LEFT JOIN label_stats s ON s.label_id = l.id ORDER BY l.campaign_id, l.position"
            ).fetchall(),
        ),
        repeat=20,
    )
    raw_counting, _ = timed(
        lambda: con.execute(
            "SELECT campaign_id, label_id, count(*) FROM campaign_member"
            " GROUP BY campaign_id, label_id"
        ).fetchall(),
        repeat=3,
    )
    ran = cli_seconds(main_db, "metrics", "--json") - cli_seconds(main_db, "campaign", "list")
    results.append(
        (
            "metrics --json, all campaigns (ms)",
            f"{seconds * 1000:.2f}",
            f"{raw * 1000:.2f} kept / {raw_counting * 1000:.0f} counting",
            "< 50",
            seconds < 0.05,
        )
    )
    results.append(
        (
            "  the command, beyond `campaign list` (ms)",
            f"{ran * 1000:+.0f}",
            "",
            "< 50",
            ran < 0.05,
        )
    )

    biggest = max(ids.values(), key=lambda cid: M.select().where(M.campaign == cid).count())
    size = M.select().where(M.campaign == biggest).count()
    seconds, page = timed(lambda: member_page(biggest, last=True), repeat=20)
    sqlite_figures["page"] = seconds * 1000
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
    by_name = Order("name")
    seconds, _ = timed(lambda: member_page(biggest, order=by_name), repeat=20)
    deepest, _ = timed(lambda: member_page(biggest, order=by_name, last=True), repeat=20)
    results.append(
        (
            "sorted by name, first / last page (ms)",
            f"{seconds * 1000:.1f} / {deepest * 1000:.1f}",
            "",
            "< 100",
            max(seconds, deepest) < 0.1,
        )
    )
    total_members = M.select().count()
    con.close()
    database.close()

    print(f"\n{args.people:,} people, {len(ids)} campaigns, {total_members:,} members\n")
    print(f"{'measure':<40} {'campaigns':>14} {'raw sqlite3':>28}  {'target':<12} ok")
    for name, ours, raw_text, target, ok in results:
        print(f"{name:<40} {ours:>14} {raw_text:>28}  {target:<12} {'yes' if ok else 'NO'}")

    if args.db:
        postgres = on_postgres(args.db, args.people, folder, text, clustered)
        print(f"\n{'the same on both backends':<40} {'SQLite':>12} {'PostgreSQL':>12} {'ratio':>7}")
        for key, label, higher_is_better in SIDE_BY_SIDE:
            a, b = sqlite_figures[key], postgres[key]
            ratio = a / b if higher_is_better else b / a
            print(f"{label:<40} {a:>12,.1f} {b:>12,.1f} {ratio:>6.2f}x")
        print("(ratio: how many times slower PostgreSQL is; the target is under 2x)")


if __name__ == "__main__":
    main()
