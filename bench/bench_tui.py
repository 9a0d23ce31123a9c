"""App benchmark, headless through Pilot: the PRODUCT.md §4 targets for the terminal app.

    python bench/bench_tui.py [--db /tmp/campaigns-bench/bench.db]

Uses the database `bench/bench_data.py` builds (200,000 people, 20 campaigns, over a million
members) and adds a 100-member campaign to compare with. Measures start-up to the first screen
(beside a minimal Textual app), opening the Members tab of a 200,000-member campaign (beside the
100-member one), End on that list, and the app's resident memory.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SMALL = "Bench 100 members"
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


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default="/tmp/campaigns-bench/bench.db")
    args = parser.parse_args()
    if not Path(args.db).exists():
        raise SystemExit(f"{args.db} is missing: run `python bench/bench_data.py` first")
    big, small = prepare(args.db)
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
    print(f"\n{'measure':<36} {'ours':>12}  {'compared with':<26} {'target':<9} ok")
    for name, ours_text, floor, target, ok in rows:
        print(f"{name:<36} {ours_text:>12}  {floor:<26} {target:<9} {'yes' if ok else 'NO'}")


if __name__ == "__main__":
    main()
