"""Campaign impact at scale (PRODUCT.md §9), each figure beside a floor in raw sqlite3.

    python bench/bench_impact.py [--members 200000] [--dir /tmp/impact-bench]

Builds (in bulk, straight into the tables) `--members` leads, a five-campaign hierarchy (a
launch and four campaigns in a chain under it) each reaching all of them, so the hierarchy holds
5 × members memberships (1,000,000 by default), and 1.5 events a member of the launch spread
over 120 days. Then:
- `trend` of the launch (per week, it spans over 90 days): target under 200 ms; the floor is the
  same grouped count in raw sqlite3;
- the launch's hierarchy totals (`hierarchy_metrics`): target under 100 ms; the floor is one
  raw COUNT(DISTINCT address) over the hierarchy's memberships.
"""

from __future__ import annotations

import argparse
import random
import shutil
import sqlite3
import statistics
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from data.campaigns import create_campaign  # noqa: E402
from data.db import database, open_database  # noqa: E402
from data.hierarchy import hierarchy_metrics  # noqa: E402
from data.models import Campaign  # noqa: E402
from data.trend import campaign_trend  # noqa: E402

START = datetime(2026, 6, 1, 9)


def timed(fn, repeat: int = 7) -> tuple[float, object]:
    """Median wall milliseconds over `repeat` runs, and the last result."""
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times), result


def filler(con: sqlite3.Connection, table: str, given: tuple[str, ...]) -> str:
    """An INSERT for `table` naming every NOT NULL column: `given` ones as named parameters,
    the rest a neutral constant of their type."""
    columns, values = [], []
    for _, name, kind, notnull, default, pk in con.execute(f"PRAGMA table_info({table})"):
        if pk:
            continue
        if name in given:
            columns.append(name)
            values.append(f":{name}")
        elif notnull and default is None:
            columns.append(name)
            kind = kind.upper()
            values.append(
                "0"
                if "INT" in kind or "BOOL" in kind or "DEC" in kind or "REAL" in kind
                else "'2026-06-01 00:00:00'"
                if "DATE" in kind
                else "''"
            )
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join(values)})"


def build(path: Path, members: int) -> Campaign:
    open_database(str(path))
    top = create_campaign("Launch", actual_cost=5000)
    chain = [top]
    for name in ("Webinar", "Emails", "Ads", "Retargeting"):
        chain.append(create_campaign(f"Launch {name}", parent=chain[-1], actual_cost=1000))
    database.close()
    con = sqlite3.connect(path)
    rng = random.Random(7)
    sql = filler(con, "lead", ("last_name", "email"))
    con.executemany(
        sql, ({"last_name": f"Person{i}", "email": f"p{i}@example.com"} for i in range(members))
    )
    lead_ids = [r[0] for r in con.execute("SELECT id FROM lead ORDER BY id")]
    sql = filler(con, "campaign_member", ("campaign_id", "lead_id", "status"))
    for campaign in chain:
        con.executemany(
            sql,
            ({"campaign_id": campaign.id, "lead_id": lid, "status": "Sent"} for lid in lead_ids),
        )
    first = {
        lid: mid
        for mid, lid in con.execute(
            "SELECT id, lead_id FROM campaign_member WHERE campaign_id = ?", (top.id,)
        )
    }
    sql = filler(con, "engagement_event", ("type", "campaign_id", "member_id", "at", "outcome"))
    kinds = ["open", "open", "click", "respond"]
    events = (
        {
            "type": rng.choice(kinds),
            "campaign_id": top.id,
            "member_id": first[rng.choice(lead_ids)],
            "at": (START + timedelta(minutes=rng.randrange(120 * 24 * 60))).isoformat(" "),
            "outcome": "applied",
        }
        for _ in range(members * 3 // 2)
    )
    con.executemany(sql, events)
    con.execute(
        "UPDATE campaign_stats SET sent = ? WHERE campaign_id IN (SELECT id FROM campaign)",
        (members,),
    )
    con.commit()
    con.execute("ANALYZE")
    con.close()
    open_database(str(path))
    return Campaign.get_by_id(top.id)


RAW_TREND = (
    "SELECT DATE(at, '-6 days', 'weekday 1') AS b, "
    "COUNT(DISTINCT CASE WHEN type = 'open' THEN member_id END), "
    "COUNT(DISTINCT CASE WHEN type = 'click' THEN member_id END), "
    "COUNT(DISTINCT CASE WHEN type IN ('respond', 'convert') THEN member_id END) "
    "FROM engagement_event WHERE campaign_id = ? AND (outcome = 'applied' OR outcome = "
    "'unchanged') AND at IS NOT NULL GROUP BY 1 ORDER BY 1"
)
RAW_HIERARCHY = (
    "SELECT COUNT(DISTINCT l.email) FROM campaign_member m JOIN lead l ON l.id = m.lead_id "
    "WHERE m.campaign_id IN (SELECT id FROM campaign)"
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--members", type=int, default=200_000)
    parser.add_argument("--dir", type=Path, default=Path("/tmp/impact-bench"))
    args = parser.parse_args()
    shutil.rmtree(args.dir, ignore_errors=True)
    args.dir.mkdir(parents=True)
    path = args.dir / "impact.db"
    started = time.perf_counter()
    top = build(path, args.members)
    print(f"built {args.members:,} members × 5 campaigns in {time.perf_counter() - started:.0f} s")
    trend_ms, trend = timed(lambda: campaign_trend(top))
    hierarchy_ms, totals = timed(lambda: hierarchy_metrics(top))
    raw = sqlite3.connect(path)
    raw_trend_ms, _ = timed(lambda: raw.execute(RAW_TREND, (top.id,)).fetchall())
    raw_hierarchy_ms, _ = timed(lambda: raw.execute(RAW_HIERARCHY).fetchall())
    print(
        f"trend ({trend.by}, {len(trend.points)} buckets): {trend_ms:.0f} ms "
        f"(target < 200 ms; floor raw sqlite3 {raw_trend_ms:.0f} ms)"
    )
    print(
        f"hierarchy totals ({totals.sent:,} people, {5 * args.members:,} memberships): "
        f"{hierarchy_ms:.0f} ms (target < 100 ms; floor raw sqlite3 {raw_hierarchy_ms:.0f} ms)"
    )


if __name__ == "__main__":
    main()
