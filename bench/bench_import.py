"""CSV import benchmark: `import leads` of a large file, and whether its progress keeps moving.

    python bench/bench_import.py [--rows 1000000] [--db /tmp/bench-import.db | --db postgresql://…]

Writes a CSV of ROWS new leads (1 % do-not-email, 0.5 % bounced, so the suppression list has
work to do), imports it into a fresh database through the data layer as `campaigns import leads`
does, and reports:

- the whole import's time, and the rows per second;
- the longest the progress stood still (the longest gap between two reports to `on_progress`,
  the last one until the import returned included): a bar that sits at 100 % for tens of seconds
  is the finding of issue 27 (target: no gap over 5 s, the time a user waits before thinking the
  command hung);
- the time from the last row written to the end (the suppression list following the flags).
"""

from __future__ import annotations

import argparse
import io
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

LONGEST_STILL_FLOOR = 5.0
"""The longest the progress may stand still, in seconds."""


def leads_csv(rows: int) -> str:
    out = io.StringIO()
    out.write("first_name,last_name,email,company,country,do_not_email,email_bounced\n")
    for i in range(rows):
        dne = "true" if i % 100 == 7 else ""
        bounced = "true" if i % 200 == 3 else ""
        out.write(f"F{i},L{i},lead{i}@bench.example,Co{i % 5000},US,{dne},{bounced}\n")
    return out.getvalue()


def fresh_location(location: str) -> str:
    if "://" in location and not location.startswith("sqlite"):
        import psycopg

        from data.db import safe_location

        name = "bench_import"
        admin = location.rsplit("/", 1)[0] + "/postgres"
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
            conn.execute(f"CREATE DATABASE {name}")
        location = location.rsplit("/", 1)[0] + f"/{name}"
        print(f"database: {safe_location(location)}")
        return location
    for suffix in ("", "-wal", "-shm"):
        Path(location + suffix).unlink(missing_ok=True)
    print(f"database: {location}")
    return location


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--db", default="/tmp/bench-import.db")
    args = parser.parse_args()

    from data.db import open_database
    from data.models import Suppression
    from data.transfer import import_people

    text = leads_csv(args.rows)
    open_database(fresh_location(args.db))
    reports: list[tuple[float, int, int]] = []

    def on_progress(done: int, total: int) -> None:
        reports.append((time.perf_counter(), done, total))

    start = time.perf_counter()
    report = import_people("lead", io.StringIO(text), on_progress=on_progress)
    end = time.perf_counter()
    moments = [start] + [at for at, _, _ in reports] + [end]
    still = max(b - a for a, b in zip(moments, moments[1:], strict=False))
    last_row = next(at for at, done, total in reports if done >= args.rows)
    print(f"rows: {args.rows:,} (created {report.created:,})")
    print(f"import: {end - start:.1f} s ({args.rows / (end - start):,.0f} rows/s)")
    print(f"progress reports: {len(reports):,}")
    print(
        f"longest the progress stood still: {still:.1f} s "
        f"(floor {LONGEST_STILL_FLOOR:.0f} s: {'ok' if still <= LONGEST_STILL_FLOOR else 'OVER'})"
    )
    print(f"from the last row written to the end: {end - last_row:.1f} s")
    print(f"suppressed addresses: {Suppression.select().count():,}")
    os.environ.pop("CAMPAIGNS_DB", None)


if __name__ == "__main__":
    main()
