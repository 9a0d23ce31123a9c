"""App benchmark, headless through Pilot: the PRODUCT.md §4 targets for the terminal app.

    python bench/bench_tui.py [--db /tmp/campaigns-bench/bench.db]

Uses the database `bench/bench_data.py` builds (200,000 people, 20 campaigns, over a million
members) and adds a 100-member campaign to compare with. Measures start-up to the first screen
(beside a minimal Textual app), opening the Members tab of a 200,000-member campaign (beside the
100-member one), End on that list, and the app's resident memory.

Then a campaign of 1,000,000 members (`--million`, a database of its own built on first use, about
a minute, and kept): opening its detail, when the gauges, the label counts ("Members by status")
and the first rows are on screen, opening it a second time, each beside the 100-member campaign of
the same database and beside raw sqlite3 reading the same rows (the floor).
"""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
import statistics
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SMALL = "Bench 100 members"
MILLION = "Bench 1,000,000 members"
NOW = datetime(2026, 11, 20, 12)

CHILD_MINIMAL = """
import time; start = time.perf_counter()
import asyncio
from textual.app import App
from textual.widgets import Footer, Header, Label
class Minimal(App):
    def compose(self):
        yield Header(); yield Label("hello"); yield Footer()
async def main():
    app = Minimal()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        print(time.perf_counter() - start)
asyncio.run(main())
"""

CHILD_APP = """
import time; start = time.perf_counter()
import asyncio, sys
sys.path.insert(0, {root!r})
from screens.campaign_list import CampaignTable
from tui_app.app import make_app
async def main():
    app = make_app({db!r})
    async with app.run_test(size=(120, 40)) as pilot:
        while True:  # the first screen is up when the campaigns are on it
            await pilot.pause(0.002)
            tables = app.screen.query(CampaignTable)
            if tables and tables.first().total:
                break
        print(time.perf_counter() - start)
asyncio.run(main())
"""


def _run_child(code: str) -> float:
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    if out.returncode:
        raise SystemExit(out.stderr)
    return float(out.stdout.strip().splitlines()[-1])


def startup(codes: list[str], runs: int = 9) -> list[float]:
    """Median start-up of each program, run in turns so a slow spell of the machine hits all."""
    times: list[list[float]] = [[] for _ in codes]
    for _ in range(runs):
        for i, code in enumerate(codes):
            times[i].append(_run_child(code))
    return [statistics.median(t) for t in times]


def prepare(db: str) -> tuple[int, int]:
    """The biggest campaign's id, and a 100-member campaign's (created on first use)."""
    from peewee import fn

    from data.campaigns import create_campaign
    from data.db import open_database
    from data.enrollment import enroll
    from data.models import Campaign, CampaignMember, Lead

    open_database(db)
    small = Campaign.get_or_none(Campaign.name == SMALL)
    if small is None:
        small = create_campaign(SMALL, "Email", "leads", {}, now=NOW)
        ids = [lid for (lid,) in Lead.select(Lead.id).order_by(Lead.id).limit(100).tuples()]
        enroll(small, {"lead": ids}, now=NOW)
    M = CampaignMember
    big, size = (
        M.select(M.campaign, fn.COUNT(M.id))
        .group_by(M.campaign)
        .order_by(fn.COUNT(M.id).desc())
        .tuples()
        .first()
    )
    print(f"big campaign: {size:,} members")
    return big, small.id


async def measure_app(db: str, big: int, small: int, runs: int = 5) -> dict[str, float]:
    from tui_app.app import make_app
    from tui_app.widgets.member_table import MemberTable

    app = make_app(db, now=NOW)
    results: dict[str, float] = {}
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause(0.5)

        async def open_members(campaign_id: int) -> float:
            start = time.perf_counter()
            app.open_campaign(campaign_id)
            while True:
                await pilot.pause(0.001)
                tables = app.screen.query(MemberTable)
                if tables and tables.first().current_row is not None:
                    break
            return time.perf_counter() - start

        for name, cid in (("small", small), ("big", big)):
            times = []
            for _ in range(runs):
                times.append(await open_members(cid))
                await app.workers.wait_for_complete()
                app.pop_screen()
                await pilot.pause(0.05)
            results[name] = statistics.median(times)

        await open_members(big)
        await app.workers.wait_for_complete()
        table = app.screen.query_one(MemberTable)
        ends = []
        for _ in range(runs):
            await pilot.press("home")
            await app.workers.wait_for_complete()
            await pilot.pause(0.05)
            start = time.perf_counter()
            await pilot.press("end")
            while not (table.cursor == table.total - 1 and table.current_row is not None):
                await pilot.pause(0.001)
            ends.append(time.perf_counter() - start)
        results["end"] = statistics.median(ends)
        results["rss_mb"] = rss_mb()
    return results


def build_million(path: Path, members: int = 1_000_000) -> None:
    """A database with one campaign of `members` members (a quarter opened, some clicked,
    registered, attended, bounced), through the product's enrollment and recount, plus the
    100-member campaign. People are made by one INSERT … SELECT: the bench is about reading."""
    from data.campaigns import create_campaign
    from data.db import database, open_database
    from data.enrollment import enroll
    from data.models import Lead
    from data.rollups import recount

    path.parent.mkdir(parents=True, exist_ok=True)
    print(f"building {members:,} people and their campaign in {path} …", flush=True)
    start = time.perf_counter()
    open_database(str(path))
    with database.atomic():
        database.execute_sql(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?) "
            "INSERT INTO lead (first_name, last_name, email, title, country, industry, "
            "created_at, do_not_email, email_bounced, company, lead_source, lead_status) "
            "SELECT 'P' || i, 'Q' || (i % 9973), 'p' || i || '@example.com', '', "
            "CASE i % 3 WHEN 0 THEN 'DE' WHEN 1 THEN 'FR' ELSE 'US' END, '', ?, 0, 0, '', '', "
            "'Open' FROM n",
            (members, NOW.isoformat(" ")),
        )
    big = create_campaign(MILLION, "Webinar", "leads", {}, now=NOW)
    enroll(big, now=NOW)
    labels = dict(
        database.execute_sql(
            "SELECT name, id FROM member_status_label WHERE campaign_id = ?", (big.id,)
        ).fetchall()
    )
    with database.atomic():  # then counted afresh by the product's recount
        for rung, status, label, every in (
            (1, "Opened", "Opened", 4),
            (2, "Clicked", "Clicked", 12),
            (3, "Responded", "Registered", 40),
            (3, "Responded", "Attended", 120),
        ):
            database.execute_sql(
                "UPDATE campaign_member SET rung = ?, status = ?, label_id = ?, "
                "has_responded = ?, first_opened_at = ? WHERE campaign_id = ? AND id % ? = 0",
                (rung, status, labels[label], rung >= 3, NOW.isoformat(" "), big.id, every),
            )
        database.execute_sql(
            "UPDATE campaign_member SET status = 'Bounced', bounced = 1 "
            "WHERE campaign_id = ? AND id % 97 = 1",
            (big.id,),
        )
        recount([big.id])
    small = create_campaign(SMALL, "Webinar", "leads", {}, now=NOW)
    ids = [lid for (lid,) in Lead.select(Lead.id).order_by(Lead.id).limit(100).tuples()]
    enroll(small, {"lead": ids}, now=NOW)
    database.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    database.close()
    print(f"  built in {time.perf_counter() - start:.0f} s", flush=True)


def million_ids(path: Path) -> tuple[int, int]:
    con = sqlite3.connect(path)
    ids = dict(con.execute("SELECT name, id FROM campaign WHERE name IN (?, ?)", (MILLION, SMALL)))
    con.close()
    return ids[MILLION], ids[SMALL]


def detail_floor(path: Path, campaign_id: int, runs: int = 9) -> float:
    """Raw sqlite3 reading what the detail shows: the campaign, its counters, its labels with
    their counts, and its first page of members with their names and addresses."""
    con = sqlite3.connect(path)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        con.execute("SELECT * FROM campaign WHERE id = ?", (campaign_id,)).fetchall()
        con.execute("SELECT * FROM campaign_stats WHERE campaign_id = ?", (campaign_id,)).fetchall()
        con.execute(
            "SELECT l.name, s.members FROM member_status_label l LEFT JOIN label_stats s "
            "ON s.label_id = l.id WHERE l.campaign_id = ? ORDER BY l.position",
            (campaign_id,),
        ).fetchall()
        con.execute(
            "SELECT m.id, m.status, l.email, l.first_name, l.last_name FROM campaign_member m "
            "JOIN lead l ON l.id = m.lead_id WHERE m.campaign_id = ? ORDER BY m.id LIMIT 100",
            (campaign_id,),
        ).fetchall()
        times.append(time.perf_counter() - start)
    con.close()
    return statistics.median(times)


async def measure_detail(db: str, big: int, small: int, runs: int = 5) -> dict[str, float]:
    """Per campaign, medians over `runs` openings of its detail: until the gauges and label
    counts are on screen (one message: both are kept counters), until the first rows are,
    until everything is (the member count too); and a second opening right after the first."""
    from screens.campaign_detail import CampaignDetailScreen
    from tui_app.app import make_app
    from tui_app.widgets.member_table import MemberTable

    app = make_app(db, now=NOW)
    results: dict[str, float] = {}
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause(0.5)

        async def open_detail(campaign_id: int) -> dict[str, float]:
            start = time.perf_counter()
            app.open_campaign(campaign_id)
            seen: dict[str, float] = {}
            while len(seen) < 3:
                await pilot.pause(0.001)
                screen = app.screen
                if not isinstance(screen, CampaignDetailScreen):
                    continue
                now = time.perf_counter() - start
                table = screen.query_one(MemberTable)
                if screen.gauge_figures:
                    seen.setdefault("gauges", now)
                if table.current_row is not None:
                    seen.setdefault("rows", now)
                if table.counted and screen.gauge_figures:
                    seen.setdefault("all", now)
            await app.workers.wait_for_complete()
            return seen

        async def back() -> None:
            app.pop_screen()
            await app.workers.wait_for_complete()
            await pilot.pause(0.05)

        for name, cid in (("small", small), ("big", big)):
            runs_seen, again = [], []
            for _ in range(runs):  # each time opened, left, and opened again at once
                runs_seen.append(await open_detail(cid))
                await back()
                again.append((await open_detail(cid))["all"])
                await back()
            for key in ("gauges", "rows", "all"):
                results[f"{name} {key}"] = statistics.median(r[key] for r in runs_seen)
            results[f"{name} again"] = statistics.median(again)
    return results


TYPED_FILTERS = ("status:opened", "country:DE", "gekko", "lindqvist", "zzqx")
"""Filters typed into the biggest campaign's member list, key by key: a status, a country, a
word many people's company holds, a last name (gathered in one stretch of the name order) and
a word nobody's text holds."""

KEY_GAP = 0.1
"""Seconds between two keys: a person typing 10 keys a second."""


async def measure_typed_filters(db: str, big: int, runs: int = 3) -> dict[str, tuple]:
    """The time from the last key of a filter typed as a person types (never waiting for the
    app between keys) to its first rows on screen, median of `runs`; beside the data layer's
    own time for that first page (the floor): filter -> (typed seconds, floor seconds)."""
    from textual.widgets import Input

    from data.members import member_page
    from tui_app.app import make_app
    from tui_app.widgets.member_table import MemberTable

    app = make_app(db, now=NOW)
    results: dict[str, tuple] = {}
    async with app.run_test(size=(120, 40)) as pilot:
        app.open_campaign(big)
        while not app.screen.query(MemberTable) or app.screen.query_one(MemberTable).rows == {}:
            await pilot.pause(0.01)
        table = app.screen.query_one(MemberTable)
        box = app.screen.query_one("#member-filter", Input)

        def shown(text: str) -> bool:
            source = table.source
            if source is None or source.search != text:
                return False
            return 0 in table.rows or (table.counted and table.total == 0)

        for text in TYPED_FILTERS:
            times = []
            for _ in range(runs):
                box.focus()
                box.value = ""
                while not shown(""):
                    await pilot.pause(0.01)
                await app.workers.wait_for_complete()
                last_key = 0.0
                for n, key in enumerate(text):
                    if n:  # the next key a tenth of a second after the one before
                        await asyncio.sleep(max(0.0, KEY_GAP - (time.perf_counter() - last_key)))
                    last_key = time.perf_counter()
                    send_key(app, key)
                while not shown(text):  # not Pilot's pause: it waits for the screen to settle
                    await asyncio.sleep(0.001)
                times.append(time.perf_counter() - last_key)
            await app.workers.wait_for_complete()  # the count, before the floor is timed
            floor = []
            for _ in range(runs):
                start = time.perf_counter()
                await asyncio.to_thread(_in_connection, member_page, big, "all", text)
                floor.append(time.perf_counter() - start)
            results[text] = (statistics.median(times), statistics.median(floor))
            await app.workers.wait_for_complete()
    return results


def send_key(app, character: str) -> None:
    """A key as the terminal sends it, without waiting for the app (Pilot's `press` waits until
    the process is idle, which a query on a worker thread is not: a person does not wait)."""
    from textual import events
    from textual.keys import _character_to_key

    key = character if character.isalnum() else _character_to_key(character)
    app._driver.send_message(events.Key(key, character))


def _in_connection(function, *args):
    from data.db import database

    with database.connection_context():
        return function(*args)


def typed_rows(figures: dict[str, tuple]) -> list[tuple]:
    """The report's rows for `measure_typed_filters`."""
    return [
        (
            f"filter typed: {text}",
            f"{typed * 1000:.0f} ms",
            f"first page alone {floor * 1000:.1f} ms",
            "< 100 ms",
            typed < 0.1,
        )
        for text, (typed, floor) in figures.items()
    ]


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default="/tmp/campaigns-bench/bench.db")
    parser.add_argument(
        "--million",
        default="/tmp/campaigns-bench/million.db",
        help="the 1,000,000-member campaign's database (built on first use); '' to skip it",
    )
    parser.add_argument(
        "--only-million", action="store_true", help="measure only the 1,000,000-member campaign"
    )
    parser.add_argument(
        "--typed-only", action="store_true", help="only the filters typed key by key"
    )
    args = parser.parse_args()
    if args.only_million:
        million(Path(args.million))
        return
    if not Path(args.db).exists():
        raise SystemExit(f"{args.db} is missing: run `python bench/bench_data.py` first")
    big, small = prepare(args.db)
    typed = typed_rows(asyncio.run(measure_typed_filters(args.db, big)))
    if args.typed_only:
        report(typed)
        return
    minimal, ours = startup([CHILD_MINIMAL, CHILD_APP.format(root=str(ROOT), db=args.db)])
    figures = asyncio.run(measure_app(args.db, big, small))
    rows = [
        (
            "start-up to first screen",
            f"{ours * 1000:.0f} ms",
            f"minimal app {minimal * 1000:.0f} ms",
            "<= 1.5x",
            ours <= 1.5 * minimal,
        ),
        (
            "open Members tab, biggest campaign",
            f"{figures['big'] * 1000:.1f} ms",
            f"100 members {figures['small'] * 1000:.1f} ms",
            "<= 1.5x",
            figures["big"] <= 1.5 * figures["small"],
        ),
        (
            "End on that list",
            f"{figures['end'] * 1000:.1f} ms",
            "",
            "< 100 ms",
            figures["end"] < 0.1,
        ),
        (
            "resident memory, database open",
            f"{figures['rss_mb']:.0f} MB",
            "",
            "< 200 MB",
            figures["rss_mb"] < 200,
        ),
    ]
    report(rows + typed)
    if args.million:
        million(Path(args.million))


def report(rows: list[tuple]) -> None:
    print(f"\n{'measure':<36} {'ours':>12}  {'compared with':<30} {'target':<9} ok")
    for name, ours_text, floor, target, ok in rows:
        print(f"{name:<36} {ours_text:>12}  {floor:<30} {target:<9} {'yes' if ok else 'NO'}")


def million(path: Path) -> None:
    if not path.exists():
        build_million(path)
    big, small = million_ids(path)
    floor_big, floor_small = detail_floor(path, big), detail_floor(path, small)
    figures = asyncio.run(measure_detail(str(path), big, small))
    print(
        f"\n{'1,000,000-member campaign detail':<36} {'ours':>10} {'100 members':>12} "
        f"{'raw sqlite3':>12}  target   ok"
    )
    for key, label in (
        ("gauges", "gauges and Members by status"),
        ("rows", "first rows"),
        ("all", "everything (with the count)"),
        ("again", "opened a second time"),
    ):
        ours, small_ms = figures[f"big {key}"] * 1000, figures[f"small {key}"] * 1000
        ok = ours <= 1.5 * small_ms
        print(
            f"{label:<36} {ours:>8.0f} ms {small_ms:>9.0f} ms "
            f"{floor_big * 1000:>9.1f} ms  <= 1.5x  {'yes' if ok else 'NO'}"
        )
    print(f"(raw sqlite3 for 100 members: {floor_small * 1000:.1f} ms)")


if __name__ == "__main__":
    main()
