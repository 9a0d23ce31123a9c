"""The webhook receiver under load, beside `campaigns ingest` of the same events from a file.

    python bench/bench_serve.py [--db PATH|URL] [--events 6000] [--clients 48] [--batch 1]

A `campaigns serve` process on loopback receives signed `/hooks/events` requests (`--batch`
events each) from `--clients` concurrent keep-alive connections; every answer comes after its
events are committed. Printed: signed events per second, latency percentiles, and the rate of
`campaigns ingest FILE` for the same events on a copy of the same database. Target (PRODUCT.md
§4): at least 1,000 signed events per second, p99 latency under 100 ms at that rate.

The load is sent by a small asyncio client that writes pre-signed requests and reads each
answer's status line and Content-Length: the sender's own cost stays low on a busy machine.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from data.db import database, open_database  # noqa: E402
from data.demo import generate  # noqa: E402
from data.models import Campaign, CampaignMember, Contact, Lead  # noqa: E402
from tests.serving import Keys, Server, events_request  # noqa: E402

TYPES = ("open", "open", "open", "click", "respond")


def members(limit: int = 5_000) -> list[tuple[str, str]]:
    M = CampaignMember
    found: list[tuple[str, str]] = []
    for person in (Lead, Contact):
        found += list(
            M.select(Campaign.name, person.email)
            .join(Campaign)
            .switch(M)
            .join(person)
            .limit(limit)
            .tuples()
        )
    return found


def make_events(pairs: list[tuple[str, str]], count: int) -> list[dict]:
    rng = random.Random(13)
    events = []
    for n in range(count):
        campaign, email = rng.choice(pairs)
        events.append(
            {
                "id": f"serve-bench-{n}",
                "type": rng.choice(TYPES),
                "campaign": campaign,
                "email": email,
                "at": f"2026-03-{1 + n % 28:02d}T{n % 24:02d}:{n % 60:02d}:00Z",
            }
        )
    return events


def raw_request(port: int, events: list[dict]) -> bytes:
    body, headers = events_request(events if len(events) > 1 else events[0])
    head = [
        "POST /hooks/events HTTP/1.1",
        f"Host: 127.0.0.1:{port}",
        f"Content-Length: {len(body)}",
        *(f"{k}: {v}" for k, v in headers.items()),
    ]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


async def one_client(port: int, requests: list[bytes], latencies: list[float], statuses: list):
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        for request in requests:
            started = time.perf_counter()
            writer.write(request)
            await writer.drain()
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n"):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":", 1)[1])
            await reader.readexactly(length)
            latencies.append(time.perf_counter() - started)
            statuses.append(int(head.split(b" ", 2)[1]))
    finally:
        writer.close()


async def send_all(port: int, requests: list[bytes], clients: int):
    latencies: list[float] = []
    statuses: list[int] = []
    shares = [requests[n::clients] for n in range(clients)]
    started = time.perf_counter()
    await asyncio.gather(*(one_client(port, s, latencies, statuses) for s in shares if s))
    return time.perf_counter() - started, latencies, statuses


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def copy_database(location: str, target: Path) -> str | None:
    """A copy of a SQLite database for the ingest run (None for a server URL: not copied)."""
    if "://" in location and not location.startswith("sqlite"):
        return None
    database.obj.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    shutil.copyfile(location, target)
    return str(target)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", help="a database to use (default: a new demo file)")
    parser.add_argument("--people", type=int, default=5_000)
    parser.add_argument("--events", type=int, default=6_000)
    parser.add_argument("--clients", type=int, default=48)
    parser.add_argument("--batch", type=int, default=1, help="events per request")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="bench-serve-"))
    location = args.db or str(folder / "serve.db")
    open_database(location)
    if not args.db:
        generate(people=args.people, campaigns=6, seed=3)
    events = make_events(members(), args.events)
    ingest_copy = copy_database(location, folder / "ingest.db")
    database.close()

    keys = Keys()
    server = Server(location, keys.environ())
    try:
        groups = [events[n : n + args.batch] for n in range(0, len(events), args.batch)]
        requests = [raw_request(server.port, group) for group in groups]
        elapsed, latencies, statuses = asyncio.run(send_all(server.port, requests, args.clients))
    finally:
        server.stop()
    bad = [s for s in statuses if s != 200]
    rate = len(events) / elapsed

    ingest_rate = None
    if ingest_copy:
        source = folder / "events.jsonl"
        source.write_text("".join(json.dumps(e) + "\n" for e in events))
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "tui_app", "--db", ingest_copy, "ingest", str(source)],
            check=True,
            capture_output=True,
        )
        ingest_rate = len(events) / (time.perf_counter() - started)

    print(f"campaigns serve: {len(events):,} signed events in {len(requests):,} requests")
    print(f"  ({args.batch} event(s) a request) from {args.clients} keep-alive clients")
    print(f"  {rate:>10,.0f} events/s, every one committed before its answer (target >= 1,000)")
    print(
        f"  latency p50 {percentile(latencies, 0.5) * 1000:.1f} ms, "
        f"p99 {percentile(latencies, 0.99) * 1000:.1f} ms (target < 100 ms), "
        f"max {max(latencies) * 1000:.1f} ms; answers not 200: {len(bad)}"
    )
    if ingest_rate:
        print(f"campaigns ingest FILE, same events: {ingest_rate:>10,.0f} events/s (one process,")
        print("  batches of 20,000, start-up included)")
    shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
