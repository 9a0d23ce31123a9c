"""A whole team on one server: open apps follow a webhook receiver and an ingest stream.

    python bench/bench_team.py [--backend postgresql|sqlite] [--apps 20] [--textual N]
        [--seconds 120] [--rate 200] [--ingest-rate 20] [--db URL|PATH]

PRODUCT.md §4, the team target: 20 open apps, a webhook receiver taking 200 signed events/s and
an ingest, against one PostgreSQL, for two minutes: every app shows each commit within 1.5 s
(p99) and no update is lost.

The script makes a database of its own (on the server of `--db` or CAMPAIGNS_TEST_PG, or an
SQLite file in a temporary folder with `--backend sqlite`) and drops it afterwards. In it, a
campaign "Team bench" whose members have not opened anything, beside a small demo. Then:
- `--apps` sessions, each its own process, keep that campaign's detail screen open. The first
  `--textual` of them (all, by default) are the app itself, headless through Pilot
  (`App.run_test`); the rest are the same change watcher running the same queries the screen
  runs on each change (campaign, label counts, metrics, first page of members), coalesced as
  the screen coalesces them: for when that many Textual apps do not fit on the machine;
- `campaigns serve` receives `--rate` signed webhook requests a second (one open each, over 32
  keep-alive connections), and `campaigns ingest - --batch-size 1` is fed `--ingest-rate` events
  a second, each open raising a different member, so the campaign's Opened gauge counts commits.

Live lag: the k-th commit is on a screen once its Opened gauge shows k more opens than at the
start (commits become visible in commit order: a snapshot sees every commit before it). Its
lag is the moment the gauge was handed that figure minus the k-th earliest send time of an
event, which is no later than the k-th commit: the figures are upper bounds.

Printed: per-session lag p50/p99/max and re-reads, statements a second per open app (peewee's
`execute_sql`, counted in each app process; BEGIN/COMMIT not included) and new connections a
second, the server's CPU (from /proc: every process of the PostgreSQL server, which other users
may share, and the backends of this database as sampled), the receiver's and the ingest's CPU,
and afterwards every campaign's counters against a recount from its members, and every event
sent against the event log (0 differences is the target).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import queue
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

CAMPAIGN = "Team bench"
SOURCE = "Team bench"
"""The lead source of the campaign's own leads (its audience filter)."""
CLIENTS = 32
"""Keep-alive connections the webhook load is sent over (as a provider sends, many at once)."""
TARGET_P99 = 1.5
"""Seconds: every app shows each commit within this (p99), PRODUCT.md §4."""
OVERTIME = 1.5
"""A sender that falls behind stops at this many times `--seconds` (what it sent is reported)."""
SHOWN_PATIENCE = 60.0
"""Seconds a session may take, after the load, to show the last commit (else it is lost)."""


# A session: one open app (or its watcher and queries), in a process of its own ---------------


class StatementCounter:
    """Counts statements (peewee's `execute_sql`) and new connections in this process."""

    def __init__(self) -> None:
        import peewee

        self.statements = 0
        self.connections = 0
        execute = peewee.Database.execute_sql
        counter = self

        def counted_execute(db, sql, params=None):
            counter.statements += 1
            return execute(db, sql, params)

        peewee.Database.execute_sql = counted_execute  # type: ignore[method-assign]
        for backend in (peewee.SqliteDatabase, peewee.PostgresqlDatabase):
            self._count_connections(backend)

    def _count_connections(self, backend) -> None:
        connect = backend._connect

        def counted_connect(db, *args, **kwargs):
            self.connections += 1
            return connect(db, *args, **kwargs)

        backend._connect = counted_connect

    def reset(self) -> None:
        self.statements = self.connections = 0


def read_commands(into: queue.Queue) -> None:
    """The bench's commands on standard input: `go`, then `stop EXPECTED`."""
    for line in sys.stdin:
        into.put(line.split())
    into.put(["stop", "0"])


class Session:
    """What one session saw: (time, Opened shown) each time its screen was handed figures."""

    def __init__(self, counter: StatementCounter) -> None:
        self.counter = counter
        self.shown: list[tuple[float, int]] = []
        self.commands: queue.Queue = queue.Queue()
        threading.Thread(target=read_commands, args=(self.commands,), daemon=True).start()
        self.started = time.time()
        self.cpu_started = time.process_time()
        self.expected: int | None = None
        self.out = os.fdopen(os.dup(1), "w")
        """The bench's end of standard output (a running app captures `print`)."""

    def tell(self, line: str) -> None:
        self.out.write(line + "\n")
        self.out.flush()

    def saw(self, opened: int) -> None:
        self.shown.append((time.time(), opened))

    def poll(self) -> bool:
        """Act on commands; False once stopped and the expected figure is shown (or too late)."""
        while not self.commands.empty():
            command = self.commands.get()
            if command[0] == "go":
                self.counter.reset()
                self.started, self.cpu_started = time.time(), time.process_time()
            elif command[0] == "stop" and self.expected is None:
                self.expected = int(command[1])
                self.stopped = time.time()
                self.cpu = time.process_time() - self.cpu_started
                self.statements, self.connections = (
                    self.counter.statements,
                    self.counter.connections,
                )
        if self.expected is None:
            return True
        last = self.shown[-1][1] if self.shown else -1
        return last < self.expected and time.time() - self.stopped < SHOWN_PATIENCE

    def report(self, rereads: int) -> None:
        seconds = self.stopped - self.started
        self.tell(
            json.dumps(
                {
                    "shown": self.shown,
                    "seconds": seconds,
                    "statements": self.statements,
                    "connections": self.connections,
                    "cpu": self.cpu,
                    "rereads": rereads,
                }
            )
        )


async def textual_session(location: str, campaign_id: int, session: Session) -> None:
    from tui_app.app import make_app
    from tui_app.widgets.gauge import MetricGauges

    show = MetricGauges.show

    def shown(gauges, primary, secondary, *args, **kwargs):
        session.saw(dict([*primary, *secondary])["Opened"])
        return show(gauges, primary, secondary, *args, **kwargs)

    MetricGauges.show = shown  # type: ignore[method-assign]
    app = make_app(location)
    async with app.run_test(headless=True, size=(120, 40)) as pilot:
        app.open_campaign(campaign_id)
        while not session.shown:
            await pilot.pause(0.05)
        session.tell("ready")
        while session.poll():
            await pilot.pause(0.05)
        session.report(app.screen.rereads.rereads)


def watcher_session(location: str, campaign_id: int, session: Session) -> None:
    """The campaign detail screen's watcher and queries, without Textual: each change wakes
    one re-read (changes meanwhile wake one more after it), as `CoalescedReread` does."""
    from data.db import database, open_database
    from data.labels import campaign_ladder, label_counts
    from data.members import member_count, member_page
    from data.models import Campaign
    from data.rollups import campaign_metrics
    from tui_app.live import ChangeWatcher

    open_database(location)
    database.close()
    changed = threading.Event()
    rereads = 0

    def reread() -> None:
        nonlocal rereads
        rereads += 1
        with database.connection_context():  # the screen's figures: one worker's connection
            campaign = Campaign.get_by_id(campaign_id)
            label_counts([campaign.id])
            campaign_ladder(campaign)
            opened = campaign_metrics(campaign).opened
        with database.connection_context():  # the member list: another worker's connection
            if len(member_page(campaign_id, "all", limit=100, offset=0)) == 100:
                member_count(campaign_id, "all")
        session.saw(opened)

    reread()
    session.tell("ready")
    watcher = ChangeWatcher(changed.set)
    watcher.start()
    while session.poll():
        if changed.wait(0.05):
            changed.clear()
            reread()
    watcher.stop()
    session.report(rereads)


def run_session(args) -> None:
    counter = StatementCounter()
    session = Session(counter)
    if args.session == "textual":
        asyncio.run(textual_session(args.db, args.campaign, session))
    else:
        watcher_session(args.db, args.campaign, session)


# The bench ------------------------------------------------------------------------------------


def cpu_seconds(pid: int, children: bool = False) -> float:
    """A process's CPU time (user + system), with its reaped children's if asked."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    used = int(fields[11]) + int(fields[12])
    if children:
        used += int(fields[13]) + int(fields[14])
    return used / os.sysconf("SC_CLK_TCK")


def postgres_processes() -> tuple[int | None, list[int]]:
    """The server's postmaster (the PostgreSQL process whose parent is not one) and all its
    processes, read from /proc."""
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() == "postgres":
                    pids.append(int(entry.name))
            except OSError:
                continue
    master = None
    for pid in pids:
        try:
            parent = int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
        except OSError:
            continue
        if parent not in pids:
            master = pid
    return master, pids


def server_cpu() -> float | None:
    """All CPU the PostgreSQL server has used: its live processes and those it has reaped."""
    master, pids = postgres_processes()
    if master is None:
        return None
    total = 0.0
    for pid in pids:
        try:
            total += cpu_seconds(pid, children=pid == master)
        except OSError:
            continue  # it ended meanwhile: its time is the postmaster's children's now
    return total


class BackendSampler:
    """Samples the CPU of this database's backends (pg_stat_activity) twice a second: a lower
    bound, as a backend that ends between two samples loses its last half second."""

    def __init__(self, location: str) -> None:
        import psycopg

        self.conn = psycopg.connect(location, autocommit=True)
        self.first: dict[int, float] = {}
        self.last: dict[int, float] = {}
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self._sample(initial=True)

    def _sample(self, initial: bool = False) -> None:
        rows = self.conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid()"
        ).fetchall()
        for (pid,) in rows:
            try:
                used = cpu_seconds(pid)
            except OSError:
                continue
            self.first.setdefault(pid, used if initial else 0.0)
            self.last[pid] = used

    def _run(self) -> None:
        while not self.stopping.wait(0.5):
            self._sample()

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> float:
        self.stopping.set()
        self.thread.join()
        self._sample()
        self.conn.close()
        return sum(self.last[pid] - self.first[pid] for pid in self.last)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def make_location(args) -> tuple[str, Callable[[], None]]:
    """A new database for the bench, and how to remove it."""
    if args.backend == "sqlite":
        folder = Path(tempfile.mkdtemp(prefix="bench-team-"))
        return str(folder / "team.db"), lambda: shutil.rmtree(folder, ignore_errors=True)
    import psycopg

    server = args.db or os.environ.get("CAMPAIGNS_TEST_PG")
    if not server:
        raise SystemExit(
            "give --db postgresql://… or set CAMPAIGNS_TEST_PG (a role that may create databases)"
        )
    name = f"bench_team_{os.getpid()}"
    admin = urlsplit(server)._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")

    def drop() -> None:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")

    return urlsplit(server)._replace(path=f"/{name}").geturl(), drop


def fill(location: str, people: int) -> tuple[int, list[str]]:
    """A small demo, and the bench's campaign of `people` leads who have opened nothing."""
    from data.campaigns import create_campaign
    from data.db import database, open_database
    from data.demo import generate
    from data.enrollment import enroll
    from data.models import CampaignMember, Lead

    open_database(location)
    generate(people=1_000, campaigns=6, seed=3)
    rows = [
        {
            "first_name": "Team",
            "last_name": f"Member {n}",
            "email": f"team{n}@bench.example",
            "lead_source": SOURCE,
        }
        for n in range(people)
    ]
    with database.atomic():
        for start in range(0, len(rows), 5_000):
            Lead.insert_many(rows[start : start + 5_000]).execute()
    campaign = create_campaign(CAMPAIGN, "Email", "leads", {"lead_source": [SOURCE]})
    enroll(campaign)
    M = CampaignMember
    emails = [
        email
        for (email,) in Lead.select(Lead.email)
        .join(M, on=(M.lead == Lead.id))
        .where((M.campaign == campaign.id) & (M.status == "Sent"))
        .order_by(Lead.id)
        .tuples()
    ]
    database.close()
    return campaign.id, emails


def open_event(n: int, email: str) -> dict:
    return {
        "id": f"team-{n}",
        "type": "open",
        "campaign": CAMPAIGN,
        "email": email,
        "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }


async def send_webhooks(port: int, events: list[dict], rate: float, started: float):
    """Each event in its own signed request, event i sent at `started + i / rate`; returns
    (send times, indexes of the events sent, statuses, latencies)."""
    from tests.serving import events_request

    sent: list[float] = []
    sent_ids: list[int] = []
    statuses: list[int] = []
    latencies: list[float] = []
    upcoming = iter(range(len(events)))
    deadline = started + OVERTIME * len(events) / rate

    async def client() -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            for i in upcoming:
                if time.time() > deadline:
                    break
                delay = started + i / rate - time.time()
                if delay > 0:
                    await asyncio.sleep(delay)
                body, headers = events_request(events[i])
                head = [
                    "POST /hooks/events HTTP/1.1",
                    f"Host: 127.0.0.1:{port}",
                    f"Content-Length: {len(body)}",
                    *(f"{k}: {v}" for k, v in headers.items()),
                ]
                sent_at = time.time()
                sent.append(sent_at)
                sent_ids.append(i)
                writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + body)
                await writer.drain()
                answer = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in answer.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":", 1)[1])
                await reader.readexactly(length)
                latencies.append(time.time() - sent_at)
                statuses.append(int(answer.split(b" ", 2)[1]))
        finally:
            writer.close()

    await asyncio.gather(*(client() for _ in range(CLIENTS)))
    return sent, sent_ids, statuses, latencies


def feed_ingest(stdin, events: list[dict], rate: float, started: float, sent: list[float]):
    deadline = started + OVERTIME * len(events) / rate
    for i, event in enumerate(events):
        if time.time() > deadline:
            break
        delay = started + i / rate - time.time()
        if delay > 0:
            time.sleep(delay)
        sent.append(time.time())
        stdin.write((json.dumps(event) + "\n").encode())
        stdin.flush()
    stdin.close()


def start_sessions(args, location: str, campaign_id: int) -> list[subprocess.Popen]:
    sessions = []
    for n in range(args.apps):
        kind = "textual" if n < args.textual else "watcher"
        sessions.append(
            subprocess.Popen(
                [
                    sys.executable,
                    __file__,
                    "--session",
                    kind,
                    "--db",
                    location,
                    "--campaign",
                    str(campaign_id),
                ],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
                cwd=ROOT,
            )
        )
    for proc in sessions:  # each says "ready" once its screen shows the campaign
        line = proc.stdout.readline()
        if line.strip() != "ready":
            raise SystemExit(f"a session did not start: {line!r}")
    return sessions


def lags(shown: list[tuple[float, int]], base: int, sent: list[float]) -> tuple[list[float], int]:
    """Each commit's lag on one session's screen, and how many it never showed."""
    shown = sorted(shown)
    result, lost, at = [], 0, 0
    for k, sent_at in enumerate(sorted(sent), start=1):
        while at < len(shown) and shown[at][1] < base + k:
            at += 1
        if at == len(shown):
            lost += 1
        else:
            result.append(shown[at][0] - sent_at)
    return result, lost


def recount_differences() -> list[str]:
    """Every campaign's kept counters against a count of its members (as `rollups.recount`)."""
    from data.engagement import ROLLUP_BUCKETS, ROLLUP_FIELDS
    from data.models import CampaignMember as M
    from data.models import CampaignStats
    from data.rollups import bucket_count

    counted = {
        row[0]: row[1:]
        for row in M.select(M.campaign, *[bucket_count(b) for b in ROLLUP_BUCKETS])
        .group_by(M.campaign)
        .tuples()
    }
    differences = []
    for stats in CampaignStats.select():
        fresh = counted.get(stats.campaign_id, (0,) * len(ROLLUP_FIELDS))
        for field, value in zip(ROLLUP_FIELDS, fresh):
            if getattr(stats, field) != (value or 0):
                differences.append(
                    f"campaign {stats.campaign_id} {field}: kept {getattr(stats, field)}, "
                    f"recounted {value}"
                )
    return differences


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=("postgresql", "sqlite"), default="postgresql")
    parser.add_argument("--db", help="PostgreSQL: a server URL to make the bench's database on")
    parser.add_argument("--apps", type=int, help="open sessions (default 20; 5 on SQLite)")
    parser.add_argument("--textual", type=int, help="how many are Textual apps (default: all)")
    parser.add_argument("--seconds", type=float, default=120.0)
    parser.add_argument("--rate", type=float, default=200.0, help="webhook events a second")
    parser.add_argument("--ingest-rate", type=float, default=20.0, help="ingest events a second")
    parser.add_argument("--save", help="write every session's figures and the send times here")
    parser.add_argument("--session", choices=("textual", "watcher"), help=argparse.SUPPRESS)
    parser.add_argument("--campaign", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.session:
        run_session(args)
        return
    if args.apps is None:
        args.apps = 20 if args.backend == "postgresql" else 5
    args.textual = args.apps if args.textual is None else min(args.textual, args.apps)

    webhook_count = int(args.rate * args.seconds)
    ingest_count = int(args.ingest_rate * args.seconds)
    location, remove = make_location(args)
    try:
        bench(args, location, webhook_count, ingest_count)
    finally:
        remove()


def bench(args, location: str, webhook_count: int, ingest_count: int) -> None:
    from data.db import database, open_database
    from data.models import CampaignStats, EngagementEvent
    from tests.serving import Keys, Server

    print(f"making the database ({webhook_count + ingest_count:,} members to open)…", flush=True)
    campaign_id, emails = fill(location, webhook_count + ingest_count)
    events = [open_event(n, email) for n, email in enumerate(emails)]
    hooks, fed = events[:webhook_count], events[webhook_count : webhook_count + ingest_count]
    on_server = args.backend == "postgresql"

    server = Server(location, Keys().environ())
    ingest = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tui_app",
            "--db",
            location,
            "ingest",
            "-",
            "--format",
            "jsonl",
            "--batch-size",
            "1",
            "--json",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=ROOT,
    )
    print(f"opening {args.apps} sessions ({args.textual} Textual apps)…", flush=True)
    opened_at = time.time()
    sessions = start_sessions(args, location, campaign_id)
    print(f"  all showing the campaign after {time.time() - opened_at:.1f} s", flush=True)
    open_database(location, migrate=False)
    base = CampaignStats.get_by_id(campaign_id).opened
    database.close()

    sampler = BackendSampler(location) if on_server else None
    server_before = server_cpu() if on_server else None
    receiver_before, ingest_before = cpu_seconds(server.proc.pid), cpu_seconds(ingest.pid)
    for proc in sessions:
        proc.stdin.write("go\n")
        proc.stdin.flush()
    if sampler:
        sampler.start()
    load_before = os.getloadavg()
    started = time.time() + 0.2
    fed_sent: list[float] = []
    feeder = threading.Thread(
        target=feed_ingest, args=(ingest.stdin, fed, args.ingest_rate, started, fed_sent)
    )
    feeder.start()
    hook_sent, hook_ids, statuses, latencies = asyncio.run(
        send_webhooks(server.port, hooks, args.rate, started)
    )
    hooks_took = time.time() - started
    feeder.join()
    fed_took = time.time() - started
    ingest.stdin = None  # closed by the feeder: the end of the stream
    reaped = resource.getrusage(resource.RUSAGE_CHILDREN)
    ingest_out, ingest_err = ingest.communicate(timeout=600)  # it may be behind: let it finish
    now_reaped = resource.getrusage(resource.RUSAGE_CHILDREN)  # the ingest is the one reaped
    ingest_cpu = (
        now_reaped.ru_utime + now_reaped.ru_stime - reaped.ru_utime - reaped.ru_stime
    ) - ingest_before
    loaded = time.time() - started
    receiver_cpu = cpu_seconds(server.proc.pid) - receiver_before
    server_used = server_cpu() - server_before if on_server else None
    backends_used = sampler.stop() if sampler else None
    server.stop()

    open_database(location, migrate=False)
    final = CampaignStats.get_by_id(campaign_id).opened
    for proc in sessions:
        proc.stdin.write(f"stop {final}\n")
        proc.stdin.flush()
    results = [json.loads(proc.stdout.readline()) for proc in sessions]
    for proc in sessions:
        proc.stdin.close()
        proc.wait(timeout=60)

    sent = hook_sent + fed_sent
    hooks, fed = [hooks[i] for i in hook_ids], fed[: len(fed_sent)]  # a late sender stops
    if args.save:
        Path(args.save).write_text(
            json.dumps({"base": base, "hooks": hook_sent, "fed": fed_sent, "sessions": results})
        )
    applied = (
        EngagementEvent.select()
        .where(
            EngagementEvent.event_id.in_([e["id"] for e in hooks + fed])
            & (EngagementEvent.outcome == "applied")
        )
        .count()
    )
    differences = recount_differences()
    database.close()

    # the report
    print()
    print(
        "load average (1, 5, 15 min) before and after: "
        + " / ".join(", ".join(f"{x:.1f}" for x in load) for load in (load_before, os.getloadavg()))
    )
    print(
        f"Team bench on {args.backend}: {args.apps} open sessions ({args.textual} Textual apps "
        f"headless, {args.apps - args.textual} watcher + screen queries), {hooks_took:.0f} s of "
        f"sending, {loaded:.0f} s until the ingest had committed all it was sent"
    )
    bad = sum(1 for s in statuses if s != 200)
    print(
        f"  receiver: {len(hooks):,} signed events sent of {webhook_count:,} asked, "
        f"at {len(hooks) / hooks_took:,.0f}/s "
        f"(asked {args.rate:,.0f}/s), answers not 200: {bad}, latency p50 "
        f"{percentile(latencies, 0.5) * 1000:.0f} ms "
        f"p99 {percentile(latencies, 0.99) * 1000:.0f} ms"
    )
    report = json.loads(ingest_out or b"{}") if ingest_out.strip() else {}
    print(
        f"  ingest -: {len(fed):,} events of {ingest_count:,}, at {len(fed) / fed_took:,.0f}/s, "
        "one commit each; "
        f"its report: {report.get('applied', '?')} applied"
        + (f"; stderr: {ingest_err.decode()[:200]}" if ingest.returncode else "")
    )
    print(f"  per session: live lag from send to screen (target p99 <= {TARGET_P99} s)")
    all_lags: list[float] = []
    all_lost = 0
    for n, result in enumerate(results):
        kind = "app    " if n < args.textual else "watcher"
        lag, lost = lags([tuple(s) for s in result["shown"]], base, sent)
        all_lags += lag
        all_lost += lost
        print(
            f"    {n + 1:>2} {kind} p50 {percentile(lag, 0.5):5.2f} s  p99 "
            f"{percentile(lag, 0.99):5.2f} s  max {max(lag, default=float('nan')):5.2f} s  "
            f"not shown {lost}  re-reads {result['rereads'] / result['seconds']:4.1f}/s  "
            f"statements {result['statements'] / result['seconds']:5.1f}/s  "
            f"connections {result['connections'] / result['seconds']:4.1f}/s  "
            f"CPU {result['cpu'] / result['seconds'] * 100:4.1f} %"
        )
    apps = results[: args.textual]
    if apps:
        rate = sum(r["statements"] / r["seconds"] for r in apps) / len(apps)
        print(f"  statements a second per open app (mean of the Textual apps): {rate:.1f}")
    print(
        f"  every session: lag p50 {percentile(all_lags, 0.5):.2f} s, p99 "
        f"{percentile(all_lags, 0.99):.2f} s (target {TARGET_P99} s), "
        f"max {max(all_lags, default=float('nan')):.2f} s; commits never shown: {all_lost}"
    )
    if on_server:
        print(
            f"  PostgreSQL CPU: {server_used / loaded * 100:.0f} % of one core, all its "
            f"processes (shared with any other users of that server); this database's "
            f"backends as sampled: at least {backends_used / loaded * 100:.0f} %"
        )
    print(
        f"  receiver CPU {receiver_cpu / loaded * 100:.0f} % of one core, ingest "
        f"{ingest_cpu / loaded * 100:.0f} %"
    )
    print(
        f"  afterwards: {applied:,} of {len(sent):,} events applied "
        f"({len(sent) - applied} missing); Opened {final - base:,} up "
        f"({final - base - len(sent)} off); counters against a recount: "
        f"{len(differences)} differences"
    )
    for line in differences[:10]:
        print(f"    {line}")


if __name__ == "__main__":
    main()
