"""Bulk-work benchmark: issue 12's speed targets, on a copy of the 200,000-people database.

    python bench/bench_bulk.py [--db /tmp/campaigns-bench/bench.db] [--work /tmp/bench-bulk]

Uses the database `bench/bench_data.py` builds (200,000 people, 20 campaigns, over a million
members) and works on a copy of it, so the original stays as built. Measures:

- a field filter's first rows, through the app (headless, Pilot): the filter is typed into the
  box, and the time runs from its last key until the table draws its first row (and, beside
  it, until the list is counted: the rows do not wait for the count); on People
  (leads) and on the member list of the biggest campaign. Beside it, the data layer's own time
  for the first page and for the count the table asks for (target: first rows < 100 ms);
- marking everyone in a new campaign's Add Members picker (ctrl+t, ~170,000 people), enrolling
  them (ctrl+s, then y on the confirmation), in an app in a process of its own: its resident
  memory (VmRSS) once the enrollment is done, and its peak (VmHWM) (target: VmRSS < 200 MB);
- in the data layer, a clean of the biggest campaign with half its members made bounced or
  unsubscribed, and its undo; an enrollment of a whole-database audience, and its undo
  (target: undo < 2x the change).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.bench_data import timed  # noqa: E402  (after the path is set)

NOW = datetime(2026, 11, 20, 12)

PEOPLE_FILTER = "country:DE industry:software title:vp"
MEMBER_FILTERS = ("status:opened -status:clicked", "country:DE industry:software title:vp")
"""Filters of the biggest campaign's member list: one on a membership, one on its people."""


def proc_mb(field: str) -> float:
    """A /proc/self/status figure (VmRSS, VmHWM) in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


def copy_database(source: Path, folder: Path) -> Path:
    """A consistent copy of the built database (SQLite's backup, the write-ahead log included)."""
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    target = folder / "bulk.db"
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)
    src.close()
    dst.close()
    return target


def biggest_campaign() -> tuple[int, int]:
    from peewee import fn

    from data.models import CampaignMember as M

    return (
        M.select(M.campaign, fn.COUNT(M.id))
        .group_by(M.campaign)
        .order_by(fn.COUNT(M.id).desc())
        .tuples()
        .first()
    )


# a. A field filter's first rows -------------------------------------------------------------------


def data_filter_times(big: int) -> dict[str, tuple[float, float]]:
    """(first page, count) seconds in the data layer, as the tables ask for them."""
    from data.members import member_count, member_page
    from data.people import people_count, people_page

    figures = {}
    figures["people"] = (
        timed(lambda: people_page("lead", PEOPLE_FILTER), repeat=5)[0],
        timed(lambda: people_count("lead", PEOPLE_FILTER), repeat=5)[0],
    )
    for text in MEMBER_FILTERS:
        figures[text] = (
            timed(lambda: member_page(big, "all", text), repeat=5)[0],  # noqa: B023
            timed(lambda: member_count(big, "all", text), repeat=5)[0],  # noqa: B023
        )
    return figures


async def rest(pilot) -> None:
    """Until every worker is done and every message handled."""
    from textual.worker import WorkerCancelled

    for _ in range(3):
        try:
            await pilot.app.workers.wait_for_complete()
        except WorkerCancelled:  # superseded by a newer call: that one is waited for next
            pass
        await pilot.pause()


async def first_rows(pilot, box: str, table, text: str, runs: int = 3) -> tuple[float, float]:
    """Median times from the filter's last key until the table draws its first row, and until
    the list is counted. The last key goes in as a terminal sends it (Pilot's `press` would
    also wait until the whole app, its count included, is idle)."""
    from textual import events
    from textual.widgets import Input

    field = pilot.app.screen.query_one(box, Input)
    field.focus()
    drawn: list[float] = []
    before = table.source
    render_line = table.render_line

    def watched(y: int):
        strip = render_line(y)
        if y == 1 and not drawn and table.source is not before and 0 in table.rows:
            drawn.append(time.perf_counter())
        return strip

    table.render_line = watched
    shown, counted = [], []
    for _ in range(runs):
        field.value = ""
        await rest(pilot)
        await pilot.press(*text[:-1])
        await rest(pilot)
        before = table.source
        drawn.clear()
        start = time.perf_counter()
        pilot.app._driver.send_message(events.Key(text[-1], text[-1]))
        while not drawn:
            await asyncio.sleep(0.001)
        shown.append(drawn[0] - start)
        while not (table.source is not before and table.counted):
            await asyncio.sleep(0.001)
        counted.append(time.perf_counter() - start)
        assert table.source.search == text, table.source.search
    del table.render_line
    field.value = ""
    await rest(pilot)
    return statistics.median(shown), statistics.median(counted)


async def app_filter_times(db: str, big: int) -> dict[str, tuple[float, float]]:
    from screens.people import PeopleTable
    from tui_app.app import make_app
    from tui_app.widgets.member_table import MemberTable

    app = make_app(db, now=NOW)
    figures = {}
    async with app.run_test(size=(120, 40)) as pilot:
        await rest(pilot)
        app.action_people()
        await rest(pilot)
        leads = app.screen.query_one("#leads", PeopleTable)
        figures["people"] = await first_rows(pilot, "#people-filter", leads, PEOPLE_FILTER)
        app.pop_screen()
        app.open_campaign(big)
        await rest(pilot)
        members = app.screen.query_one(MemberTable)
        for text in MEMBER_FILTERS:
            figures[text] = await first_rows(pilot, "#member-filter", members, text)
    return figures


# b. Marking and enrolling ~170,000 people in the picker ------------------------------------------

ENROLL_CHILD = "Bench picker enrollment"


async def picker_enrollment(db: str) -> dict:
    """In this (fresh) process: open a new campaign's picker, mark every match, enroll."""
    from data.campaigns import create_campaign
    from data.db import open_database
    from screens.add_members import AddMembersScreen
    from screens.modals import ConfirmScreen
    from tui_app.app import make_app

    open_database(db)
    campaign = create_campaign(f"{ENROLL_CHILD} {os.getpid()}", "Email", "both", {}, now=NOW)
    app = make_app(db, now=NOW)
    figures: dict = {"start_mb": proc_mb("VmRSS")}
    async with app.run_test(size=(120, 40)) as pilot:
        await rest(pilot)
        app.open_campaign(campaign.id)
        await rest(pilot)
        await pilot.press("a")
        await rest(pilot)
        picker = app.screen
        assert isinstance(picker, AddMembersScreen), picker
        figures["picker_mb"] = proc_mb("VmRSS")
        start = time.perf_counter()
        await pilot.press("ctrl+t")
        while not picker.selection.total():  # None while counting
            await pilot.pause(0.01)
        await rest(pilot)
        figures["mark_s"] = time.perf_counter() - start
        figures["marked"] = picker.selection.total()
        figures["marked_mb"] = proc_mb("VmRSS")
        start = time.perf_counter()
        await pilot.press("ctrl+s")
        while not isinstance(app.screen, ConfirmScreen):
            await pilot.pause(0.01)
        figures["preview_s"] = time.perf_counter() - start
        start = time.perf_counter()
        await pilot.press("y")
        while isinstance(app.screen, AddMembersScreen | ConfirmScreen):
            await pilot.pause(0.01)
        await rest(pilot)
        figures["enroll_s"] = time.perf_counter() - start
        figures["end_mb"] = proc_mb("VmRSS")
        figures["peak_mb"] = proc_mb("VmHWM")
    from data.models import CampaignMember as M

    open_database(db)
    figures["enrolled"] = M.select().where(M.campaign == campaign.id).count()
    return figures


# c. Undo beside the change, in the data layer -----------------------------------------------------


def clean_and_undo(big: int) -> dict:
    """Half the biggest campaign bounced or unsubscribed (set-based), cleaned, then undone."""
    from data.db import database
    from data.engagement import BOUNCED, UNSUBSCRIBED
    from data.enrollment import clean_exits
    from data.models import Campaign
    from data.models import CampaignMember as M
    from data.rollups import recount
    from data.undo import undo

    with database.atomic():
        M.update(status=BOUNCED, bounced=True).where(
            (M.campaign == big) & (M.id.bin_and(3) == 0)
        ).execute()
        M.update(status=UNSUBSCRIBED, unsubscribed=True).where(
            (M.campaign == big) & (M.id.bin_and(3) == 1)
        ).execute()
        recount([big])
    before = M.select().where(M.campaign == big).count()
    exits = M.select().where((M.campaign == big) & M.status.in_([BOUNCED, UNSUBSCRIBED])).count()
    change, removed = timed(lambda: clean_exits(Campaign.get_by_id(big), now=NOW))
    back, result = timed(lambda: undo(campaign_id=big, now=NOW))
    after = M.select().where(M.campaign == big).count()
    assert after == before and removed == exits, (before, after, removed, exits)
    return {"members": before, "count": removed, "change": change, "undo": back, "result": result}


def enroll_and_undo() -> dict:
    """A new campaign for everyone (leads and contacts), enrolled, then undone."""
    from data.campaigns import create_campaign
    from data.enrollment import enroll
    from data.undo import undo

    campaign = create_campaign("Bench undo enrollment", "Email", "both", {}, now=NOW)
    change, result = timed(lambda: enroll(campaign, now=NOW))
    back, undone = timed(lambda: undo(campaign_id=campaign.id, now=NOW))
    return {"count": result.enrolled, "change": change, "undo": back, "result": undone}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default="/tmp/campaigns-bench/bench.db")
    parser.add_argument("--work", default="/tmp/bench-bulk")
    parser.add_argument("--picker-child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.picker_child:
        print(json.dumps(asyncio.run(picker_enrollment(args.picker_child))))
        return
    if not Path(args.db).exists():
        raise SystemExit(f"{args.db} is missing: run `python bench/bench_data.py` first")
    from data.db import database, open_database

    print(f"copying {args.db} …", flush=True)
    db = str(copy_database(Path(args.db), Path(args.work)))
    open_database(db)
    big, size = biggest_campaign()
    print(f"biggest campaign: {size:,} members; load {os.getloadavg()[0]:.1f}", flush=True)
    data_times = data_filter_times(big)
    database.close()
    app_times = asyncio.run(app_filter_times(db, big))
    print("filters measured", flush=True)

    child = subprocess.run(
        [sys.executable, __file__, "--picker-child", db], capture_output=True, text=True
    )
    if child.returncode:
        raise SystemExit(child.stderr)
    picker = json.loads(child.stdout.strip().splitlines()[-1])
    print("picker measured", flush=True)

    open_database(db)
    clean = clean_and_undo(big)
    enrolled = enroll_and_undo()
    database.close()

    rows = []
    for key, label in (("people", "People (leads)"), *((t, "members") for t in MEMBER_FILTERS)):
        page, count = data_times[key]
        shown, counted = app_times[key]
        text = PEOPLE_FILTER if key == "people" else key
        rows.append(
            (
                f"first rows: {label} `{text}`",
                f"{shown * 1000:.0f} ms",
                f"counted {counted * 1000:.0f}; data: page {page * 1000:.0f}, count"
                f" {count * 1000:.0f} ms",
                "< 100 ms",
                shown < 0.1,
            )
        )
    rows.append(
        (
            f"RSS after marking {picker['marked']:,} + enrolling",
            f"{picker['end_mb']:.0f} MB",
            f"start {picker['start_mb']:.0f}, peak {picker['peak_mb']:.0f} MB",
            "< 200 MB",
            picker["end_mb"] < 200,
        )
    )
    for name, figures in (("clean", clean), ("enrollment", enrolled)):
        ratio = figures["undo"] / figures["change"]
        rows.append(
            (
                f"undo a {figures['count']:,}-member {name}",
                f"{figures['undo']:.1f} s",
                f"the {name} {figures['change']:.1f} s ({ratio:.2f}x)",
                "< 2x",
                ratio < 2,
            )
        )
    load = ", ".join(f"{n:.1f}" for n in os.getloadavg())
    print(
        f"\npicker: marked in {picker['mark_s']:.1f} s, confirmation in"
        f" {picker['preview_s']:.1f} s, enrolled {picker['enrolled']:,} in"
        f" {picker['enroll_s']:.1f} s; RSS with the picker open {picker['picker_mb']:.0f} MB,"
        f" marked {picker['marked_mb']:.0f} MB"
    )
    print(f"load average at the end: {load}\n")
    print(f"{'measure':<58} {'ours':>9}  {'beside':<36} {'target':<9} ok")
    for name, ours, beside, target, ok in rows:
        print(f"{name:<58} {ours:>9}  {beside:<36} {target:<9} {'yes' if ok else 'NO'}")


if __name__ == "__main__":
    main()
