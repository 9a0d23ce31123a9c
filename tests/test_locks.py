"""The app left open all day beside other commands keeps its SQLite locks and its live view.

On POSIX, closing any descriptor of a file drops every lock the process holds on it: a process
that opens its database file by hand (or a second time) while a connection is open loses its
locks, and the next command to exit believes it is the last user, checkpoints and deletes the
log under the open app. These tests run the real app in a process of its own, as `campaigns
--demo` and as `campaigns --db`, with commands coming and going beside it; and refuse any hand
open of the database file in a process that is connected."""

from __future__ import annotations

import builtins
import io
import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from data.campaigns import find_campaign
from data.db import database, open_database
from data.models import Campaign, CampaignMember, Lead
from data.rollups import campaign_metrics
from tests.pilot import fresh

PATIENCE = 120.0
"""Seconds the open app is given to show a change or finish a write (under load it is slow)."""

APP_DRIVER = """
import asyncio, json, sys, time
from textual.worker import WorkerState
from screens.campaign_list import CampaignTable
from tui_app import cli
from tui_app.app import CampaignsApp

PATIENCE = float(sys.argv[1])

async def until(pilot, condition):
    deadline = time.monotonic() + PATIENCE
    while not condition():
        if time.monotonic() > deadline:
            return False
        await pilot.pause(0.05)
    return True

def open_rate(app, name):
    table = app.screen.query_one("#campaigns", CampaignTable)
    cells = [row[0][0] for row in table.rows]
    return table.rows[cells.index(name)][6][0].strip() if name in cells else None

async def drive(app):
    async with app.run_test(size=(120, 40)) as pilot:
        busy = (WorkerState.PENDING, WorkerState.RUNNING)
        await until(pilot, lambda: app.screen.query("#campaigns") and not any(
            w.state in busy for w in app.workers))
        print("ready", flush=True)
        loop = asyncio.get_running_loop()
        while True:
            command = json.loads(await loop.run_in_executor(None, sys.stdin.readline))
            if command["do"] == "shows":  # wait until the home screen shows this open rate
                name, rate = command["campaign"], command["open_rate"]
                shown = await until(pilot, lambda: open_rate(app, name) == rate)
                print("shown" if shown else f"not shown: {open_rate(app, name)}", flush=True)
            elif command["do"] == "write":  # a write on one of the app's worker threads
                from data.campaigns import create_campaign

                worker = app.run_worker(
                    lambda: create_campaign(command["campaign"]), thread=True, exit_on_error=False
                )
                await until(pilot, lambda: worker.state not in busy)
                print("wrote" if worker.state is WorkerState.SUCCESS else
                      f"failed: {worker.error}", flush=True)
            else:
                break

def headless(self, **options):
    asyncio.run(drive(self))
    return 0

CampaignsApp.run_to_exit_status = headless  # the app exactly as the command builds it
sys.exit(cli.main(sys.argv[2:]))
"""


def campaigns_command(*args: str, timeout: float = PATIENCE) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "tui_app", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


class OpenApp:
    """The app in a process of its own, told what to do one line at a time."""

    def __init__(self, *args: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-c", APP_DRIVER, str(PATIENCE), *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert self.answer() == "ready"

    def answer(self) -> str:
        line = self.process.stdout.readline().strip()
        if not line:
            self.process.wait(timeout=PATIENCE)
            pytest.fail(f"the app ended: {self.process.stderr.read()}")
        return line

    def ask(self, **command) -> str:
        self.process.stdin.write(json.dumps(command) + "\n")
        self.process.stdin.flush()
        return self.answer()

    def quit(self) -> int:
        self.process.stdin.write(json.dumps({"do": "quit"}) + "\n")
        self.process.stdin.flush()
        return self.process.wait(timeout=PATIENCE)

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def deleted_logs(self) -> list[str]:
        """The app's descriptors that point at a deleted -wal or -shm file (Linux)."""
        folder = Path(f"/proc/{self.process.pid}/fd")
        found = []
        for fd in folder.iterdir():
            try:
                target = os.readlink(fd)
            except FileNotFoundError:  # closed meanwhile
                continue
            if target.endswith(" (deleted)") and target[: -len(" (deleted)")].endswith(
                ("-wal", "-shm")
            ):
                found.append(target)
        return found


def opens_feed(folder: Path, campaign: Campaign) -> Path:
    """Open events for twenty of the campaign's members who have not opened it yet."""
    M = CampaignMember
    emails = [
        email
        for (email,) in M.select(Lead.email)
        .join(Lead, on=(M.lead == Lead.id))
        .where((M.campaign == campaign.id) & (M.status == "Sent"))
        .limit(20)
        .tuples()
    ]
    assert emails
    feed = folder / "opens.jsonl"
    lines = [
        {"type": "open", "campaign": campaign.name, "email": e, "at": "2026-11-20T10:00:00Z"}
        for e in emails
    ]
    feed.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return feed


def shown_rate(name: str) -> str:
    """The open rate the home screen shows for a campaign, as this process reads it now."""
    rate = fresh(lambda: campaign_metrics(find_campaign(name)).open_rate)
    return f"{rate * 100:.1f}%"


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="reads /proc/PID/fd (Linux)")
@pytest.mark.parametrize("how", ["--demo", "--db"])
def test_the_open_app_keeps_its_locks_while_other_commands_come_and_go(
    how, backend, demo_db, tmp_path
):
    """Open the app, run three commands that exit, then: the app holds no deleted log file, an
    ingest by a fourth process shows on its screen, its own write lands, the file is sound."""
    location = str(demo_db)
    target = ["--demo", "--db", location] if how == "--demo" else ["--db", location]
    name = "EMEA Roadshow"
    feed = opens_feed(tmp_path, find_campaign(name))
    database.close()  # from here on this process reads only through fresh connections

    app = OpenApp(*target)
    try:
        campaigns_command(*target, "campaign", "list")
        campaigns_command(*target, "metrics", "--json")
        campaigns_command("campaign", "list", "--json", *target)
        if backend == "sqlite":
            assert app.deleted_logs() == []

        before = shown_rate(name)
        campaigns_command(*target, "ingest", str(feed))
        expected = shown_rate(name)
        assert expected != before
        assert app.ask(do="shows", campaign=name, open_rate=expected) == "shown"

        assert app.ask(do="write", campaign="Written by the open app") == "wrote"
        assert fresh(lambda: find_campaign("Written by the open app").name)
        if backend == "sqlite":
            assert app.deleted_logs() == []
        assert app.quit() == 0
    finally:
        app.kill()
    if backend == "sqlite":
        with sqlite3.connect(location) as check:
            assert check.execute("PRAGMA integrity_check").fetchone() == ("ok",)


@pytest.fixture
def no_hand_opens(monkeypatch):
    """From now on, opening the connected database file (or a side file) by hand fails loudly:
    every open that Python code makes passes through `builtins.open`, `io.open` or `os.open`."""
    refused: list[str] = []

    def database_file(path) -> bool:
        db = database.obj
        if db is None or database.is_closed() or not isinstance(path, (str, bytes, os.PathLike)):
            return False
        own = os.path.realpath(db.database)
        name = os.path.realpath(os.fsdecode(path))
        return name in {own, own + "-wal", own + "-shm", own + "-journal"}

    def guard(real):
        def guarded(path, *args, **kwargs):
            if database_file(path):
                refused.append(os.fsdecode(path))
                raise AssertionError(f"the database file was opened by hand: {path}")
            return real(path, *args, **kwargs)

        return guarded

    monkeypatch.setattr(builtins, "open", guard(builtins.open))
    monkeypatch.setattr(io, "open", guard(io.open))
    monkeypatch.setattr(os, "open", guard(os.open))
    return refused


def test_opening_the_database_again_never_opens_its_file_by_hand(tmp_path, no_hand_opens):
    """Opening a database a second time in a process (a command run in-process, the demo, the
    app) leaves the file to SQLite while the first connection is open."""
    from tui_app.cli import main

    path = str(tmp_path / "again.db")
    open_database(path)
    database.connect(reuse_if_open=True)  # a connection holds the file's locks from here
    open_database(path)
    assert main(["--db", path, "campaign", "list"]) == 0
    assert main(["--demo", "--db", path, "demo", "--people", "20", "--campaigns", "1"]) == 0
    assert main(["--db", path, "metrics"]) == 0
    assert no_hand_opens == []


@pytest.mark.parametrize("side", ["", "-wal", "-shm", "-journal"])
def test_files_the_commands_read_or_write_are_never_the_database(tmp_path, capsys, side):
    """Reading the open database (or its log) as an input, or saving over it, is one line; the
    file is never opened by hand, so the process keeps its locks and the database its data."""
    from tui_app.cli import main

    path = str(tmp_path / "in-use.db")
    open_database(path)
    from data.campaigns import create_campaign

    create_campaign("Kept")
    database.close()
    target = path + side
    for argv in (
        ["--db", path, "ingest", target],
        ["--db", path, "import", "leads", target],
        ["--db", path, "export", "members", "Kept", "-o", target],
    ):
        capsys.readouterr()
        assert main(argv) == 1, argv
        error = capsys.readouterr().err
        assert error.count("\n") == 1 and "database in use" in error, error
    with sqlite3.connect(path) as check:
        assert check.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert check.execute("SELECT name FROM campaign").fetchall() == [("Kept",)]


def test_a_hand_open_while_connected_is_refused_in_the_app_and_the_commands(
    tmp_path, no_hand_opens, capsys
):
    """With the guard on, the commands that take a file name refuse the database's own names
    before anything opens them (the guard would fail the test if one were opened)."""
    from tui_app.cli import main

    path = str(tmp_path / "guarded.db")
    open_database(path)
    from data.campaigns import create_campaign

    create_campaign("Nothing yet")
    for argv in (
        ["--db", path, "ingest", path + "-wal"],
        ["--db", path, "import", "leads", path],
        ["--db", path, "export", "members", "Nothing yet", "-o", path + "-shm"],
    ):
        assert main(argv) == 1
    assert no_hand_opens == []
    assert capsys.readouterr().err.count("database in use") == 3


async def test_live_updates_that_fail_say_so_once_and_come_back(make_tui, monkeypatch):
    """When following other connections' commits fails, the app says so in one notice (not one
    per retry), keeps trying with a growing pause, and says so when live updates resume."""
    import threading

    from data.changes import ChangeFeed
    from tests.pilot import SIZE, settle, wait_until

    failing = threading.Event()
    failing.set()
    tries = []
    real_wait = ChangeFeed.wait

    def wait(self, timeout):
        if failing.is_set():
            tries.append(1)
            raise sqlite3.OperationalError("disk I/O error")
        return real_wait(self, timeout)

    monkeypatch.setattr(ChangeFeed, "wait", wait)
    app = make_tui(watch_interval=0.02)

    def notices(text: str) -> list[str]:
        return [n.message for n in app._notifications if text in n.message]

    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: len(tries) >= 4, seconds=PATIENCE)
        await wait_until(pilot, lambda: notices("live updates paused"), seconds=PATIENCE)
        assert notices("live updates paused") == [
            "live updates paused: disk I/O error. What shows may be out of date; reconnecting…"
        ]
        failing.clear()
        await wait_until(pilot, lambda: notices("live updates resumed"), seconds=PATIENCE)
        assert len(notices("live updates paused")) == 1
        assert app.watcher._retry == app.watcher.interval  # the next pause starts patient again
        await settle(pilot)


@pytest.mark.parametrize("side", ["", "-wal"])
async def test_the_app_will_not_save_over_its_database(make_tui, demo_db, side, backend):
    """Saving an export onto the database in use (or its log) is one line under the path: the
    file is never opened, and the database keeps its data."""
    if backend != "sqlite":
        pytest.skip("a file database")
    from tests.test_tui_save_file import export_dialog, keys, problem, type_path

    app = make_tui()
    async with app.run_test(size=(120, 40)) as pilot:
        await export_dialog(pilot)
        await type_path(pilot, f"{demo_db}{side}")
        if "already exists" in problem(app):  # the dialog asks first, as for any file
            await keys(pilot, "enter")
        assert problem(app) == (
            f"Cannot write {demo_db}{side}: it is the database in use (or its log); "
            "choose another file"
        )
    with sqlite3.connect(demo_db) as check:
        assert check.execute("PRAGMA integrity_check").fetchone() == ("ok",)
