"""`campaigns serve` against a sender who means harm or is careless: replayed signatures, huge
or slow requests, too many connections, senders that read only after writing, provider events
named like ours, and values that are not what they claim."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from datetime import timedelta

import pytest

from data.models import CampaignMember, EngagementEvent, SeenRequest, Suppression, utcnow
from data.webhooks import sign_events
from tests.serving import (
    PATIENCE,
    WEBHOOK_SECRET,
    Keys,
    Server,
    events_request,
    mailgun_request,
    sendgrid_request,
)
from tests.test_serve import event_count, outcomes, post, sent_members


@pytest.fixture
def keys() -> Keys:
    return Keys()


@pytest.fixture
def server(demo_db, keys):
    running = Server(demo_db, keys.environ())
    yield running
    running.stop(signal.SIGKILL)


def mailgun_event(email: str, campaign: str, event: str, event_id: str) -> dict:
    return {
        "event": event,
        "id": event_id,
        "timestamp": time.time() - 5,
        "recipient": email,
        "user-variables": {"campaign": campaign},
    }


def with_signature_of(captured: bytes, event_data: dict) -> bytes:
    """Another event-data under a captured request's signature (what an attacker can send)."""
    body = json.loads(captured)
    body["event-data"] = event_data
    return json.dumps(body).encode()


# Replays -----------------------------------------------------------------------------------------


def test_a_mailgun_token_used_again_for_other_event_data_is_refused(server):
    (c1, e1, m1), (c2, e2, m2) = sent_members(2)
    captured, headers = mailgun_request(mailgun_event(e1, c1, "opened", "mg-open-1"))
    assert post(server, "/hooks/mailgun", (captured, headers)).status_code == 200
    forged = with_signature_of(captured, mailgun_event(e2, c2, "unsubscribed", "mg-unsub-1"))
    before = event_count()
    answer = post(server, "/hooks/mailgun", (forged, headers))
    assert answer.status_code == 401, answer.text
    assert "already used" in answer.json()["error"]
    assert event_count() == before
    assert not CampaignMember.get_by_id(m2).unsubscribed
    assert not Suppression.select().where(Suppression.email == e2).exists()
    resent = post(server, "/hooks/mailgun", (captured, headers))
    assert resent.status_code == 200, "Mailgun's own retry of the same request"
    assert resent.json()["duplicates"] == 1
    assert event_count() == before
    assert outcomes("mg-open-1") == [("mg-open-1", "applied", "mailgun")]


def test_tokens_are_shared_by_every_receiver_on_the_database(demo_db, keys):
    (c1, e1, _), (c2, e2, m2) = sent_members(2)
    first, second = Server(demo_db, keys.environ()), Server(demo_db, keys.environ())
    try:
        captured, headers = mailgun_request(mailgun_event(e1, c1, "clicked", "mg-click-1"))
        assert post(first, "/hooks/mailgun", (captured, headers)).status_code == 200
        forged = with_signature_of(captured, mailgun_event(e2, c2, "unsubscribed", "mg-u-2"))
        assert post(second, "/hooks/mailgun", (forged, headers)).status_code == 401
    finally:
        first.stop(signal.SIGKILL)
        second.stop(signal.SIGKILL)
    assert not CampaignMember.get_by_id(m2).unsubscribed


def test_our_request_sent_again_byte_for_byte_changes_nothing_even_without_an_id(server):
    (campaign, email, member_id), *_ = sent_members(1)
    request = events_request(
        [
            {"type": "open", "campaign": campaign, "email": email, "at": "2026-03-02T09:00:00Z"},
            {"type": "click", "campaign": campaign, "email": email, "at": "2026-03-02T09:01:00Z"},
        ]
    )
    first = post(server, "/hooks/events", request)
    assert first.status_code == 200 and first.json()["applied"] == 2, first.text
    logged = event_count()
    again = post(server, "/hooks/events", request)
    assert again.status_code == 200, again.text
    assert (again.json()["applied"], again.json()["duplicates"]) == (0, 2)
    assert event_count() == logged
    assert CampaignMember.get_by_id(member_id).status == "Clicked"


def test_remembered_requests_are_forgotten_once_their_signature_expires(demo_db):
    from data.receiver import forget_expired

    now = utcnow()
    SeenRequest.insert_many(
        [
            {"key": "old", "digest": "d", "expires_at": now - timedelta(seconds=1)},
            {"key": "live", "digest": "d", "expires_at": now + timedelta(seconds=299)},
        ]
    ).execute()
    assert forget_expired(now) == 1
    assert [row.key for row in SeenRequest.select()] == ["live"]


# Huge and slow requests, many connections --------------------------------------------------------


def connect(server: Server) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=PATIENCE)
    return sock


def answer_on(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection."""
    received = b""
    while chunk := sock.recv(65536):
        received += chunk
    return received


def rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS")


def test_huge_headers_are_refused_early_and_a_valid_request_is_not_held_up(server):
    (campaign, email, _), *_ = sent_members(1)
    before = rss_kib(server.proc.pid)
    sock = connect(server)
    refused_early = False
    try:
        sock.sendall(b"POST /hooks/events HTTP/1.1\r\nHost: x\r\nX-Pad: ")
        for _ in range(64):  # up to 64 MiB, as an attacker sent
            sock.sendall(b"a" * (1 << 20))
    except OSError:
        refused_early = True
    assert refused_early, "the server read 64 MiB of headers"
    try:
        answer = answer_on(sock)
        assert answer == b"" or answer.startswith(b"HTTP/1.1 431 ")
    except ConnectionResetError:
        pass  # closed under a sender still writing: it was refused
    finally:
        sock.close()
    assert rss_kib(server.proc.pid) - before < 20_000
    event = {"id": "after-huge", "type": "open", "campaign": campaign, "email": email,
             "at": "2026-03-02T09:00:00Z"}  # fmt: skip
    assert post(server, "/hooks/events", events_request(event)).status_code == 200


def test_headers_of_64_kib_and_more_are_answered_431(server):
    sock = connect(server)
    try:
        sock.sendall(b"POST /hooks/events HTTP/1.1\r\nHost: x\r\nX-Pad: " + b"a" * (65 << 10))
        answer = answer_on(sock)
    finally:
        sock.close()
    assert answer.startswith(b"HTTP/1.1 431 "), answer[:100]
    assert b"larger than 64 KiB" in answer


@pytest.fixture
def strict_server(demo_db, keys):
    running = Server(
        demo_db,
        keys.environ(),
        "--header-timeout",
        "0.5",
        "--body-timeout",
        "0.5",
    )
    yield running
    running.stop(signal.SIGKILL)


def test_headers_that_do_not_arrive_in_time_are_answered_408_and_closed(strict_server):
    silent, partial = connect(strict_server), connect(strict_server)
    try:
        partial.sendall(b"POST /hooks/events HTTP/1.1\r\nHost: x\r\n")  # and never the rest
        assert answer_on(partial).startswith(b"HTTP/1.1 408 ")
        assert b"headers did not arrive within 0.5 s" in answer_on(silent)
    finally:
        silent.close()
        partial.close()


def test_a_body_that_stalls_is_answered_408_and_nothing_is_written(strict_server):
    before = event_count()
    (campaign, email, _), *_ = sent_members(1)
    body, headers = events_request(
        {
            "id": "stalled",
            "type": "open",
            "campaign": campaign,
            "email": email,
            "at": "2026-03-02T09:00:00Z",
        }  # fmt: skip
    )
    head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    sock = connect(strict_server)
    try:
        sock.sendall(
            b"POST /hooks/events HTTP/1.1\r\nHost: x\r\n"
            + f"{head}Content-Length: {len(body)}\r\n\r\n".encode()
            + body[:-5]
        )
        answer = answer_on(sock)
    finally:
        sock.close()
    assert answer.startswith(b"HTTP/1.1 408 "), answer[:100]
    assert b"body did not arrive" in answer
    assert event_count() == before


@pytest.fixture
def capped_server(demo_db, keys):
    """At most 4 connections (its timeouts as they are: the held ones stay open)."""
    running = Server(demo_db, keys.environ(), "--max-connections", "4")
    yield running
    running.stop(signal.SIGKILL)


def test_connections_beyond_the_cap_are_answered_503_and_the_receiver_recovers(capped_server):
    held = [connect(capped_server) for _ in range(4)]
    try:
        extra = connect(capped_server)
        try:
            assert answer_on(extra).startswith(b"HTTP/1.1 503 ")
        finally:
            extra.close()
    finally:
        for sock in held:
            sock.close()
    (campaign, email, _), *_ = sent_members(1)
    event = {"id": "after-cap", "type": "open", "campaign": campaign, "email": email,
             "at": "2026-03-02T09:00:00Z"}  # fmt: skip
    deadline = time.monotonic() + PATIENCE
    while (
        status := post(capped_server, "/hooks/events", events_request(event)).status_code
    ) != 200:
        assert status == 503 and time.monotonic() < deadline  # the closes not yet seen
    assert outcomes("after-cap")[0][1] == "applied"


def test_a_sender_that_writes_all_before_reading_reads_the_413(server):
    body, headers = events_request([{"id": f"big-{n}", "type": "open"} for n in range(60_000)])
    assert 1 << 20 < len(body) < 8 << 20
    request = urllib.request.Request(f"{server.url}/hooks/events", data=body, headers=headers)
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=PATIENCE)
    assert refused.value.code == 413
    assert "larger than 1 MiB" in json.loads(refused.value.read())["error"]


# Provider events, values and secrets -------------------------------------------------------------


def test_provider_events_named_like_ours_are_recorded_without_effect(server, keys):
    members = (c1, e1, m1), (c2, e2, m2), (c3, e3, m3) = sent_members(3)
    now = int(time.time())
    batch = [
        {"email": email, "timestamp": now, "event": name, "sg_event_id": f"sg-{name}",
         "campaign": campaign}
        for (campaign, email, _), name in zip(members, ("convert", "respond", "Open"))
    ]  # fmt: skip
    answer = post(server, "/hooks/sendgrid", sendgrid_request(keys, batch))
    assert answer.status_code == 200, answer.text
    assert (answer.json()["applied"], answer.json()["unchanged"]) == (0, 3)
    mailgun = mailgun_request(mailgun_event(e1, c1, "convert", "mg-conv"))
    assert post(server, "/hooks/mailgun", mailgun).json()["unchanged"] == 1
    for member in (m1, m2, m3):
        assert CampaignMember.get_by_id(member).status == "Sent"
    assert [o for _, o, _ in outcomes("sg-convert", "sg-respond", "sg-Open", "mg-conv")] == [
        "unchanged"
    ] * 4


def test_nan_and_infinity_are_refused_as_ingest_refuses_them(server):
    (campaign, email, _), *_ = sent_members(1)
    for constant in (b"NaN", b"Infinity", b"-Infinity", b"1e999"):
        body = (
            b'{"id": "nan", "type": "open", "campaign": "' + campaign.encode() + b'", "email": "'
            + email.encode() + b'", "at": "2026-03-02T09:00:00Z", "score": ' + constant + b"}"
        )  # fmt: skip
        headers = {"X-Campaigns-Signature": sign_events(WEBHOOK_SECRET, body, int(time.time()))}
        answer = post(server, "/hooks/events", (body, headers))
        assert answer.status_code == 400, (constant, answer.text)
    assert outcomes("nan") == []


def test_a_mailgun_id_of_5000_digits_and_a_fractional_campaign_say_what_is_wrong(server):
    (campaign, email, _), *_ = sent_members(1)
    data = mailgun_event(email, campaign, "opened", "x")
    body, headers = mailgun_request(data)
    long_id = body.replace(b'"id": "x"', b'"id": ' + b"7" * 5000)
    answer = post(server, "/hooks/mailgun", (long_id, headers))
    assert answer.status_code == 400
    assert answer.json()["error"] == (
        "the body is not valid JSON: a number of 5,000 digits, more than 4,300"
    )
    fractional = events_request(
        {
            "id": "frac",
            "type": "open",
            "campaign": 2.0,
            "email": email,
            "at": "2026-03-02T09:00:00Z",
        }  # fmt: skip
    )
    assert post(server, "/hooks/events", fractional).json()["rejected"] == 1
    reason = EngagementEvent.get(EngagementEvent.event_id == "frac").reason
    assert reason == "campaign must be a name or a whole number, not 2.0"


def test_a_webhook_secret_under_16_bytes_is_refused_at_start(demo_db):
    env = {"CAMPAIGNS_WEBHOOK_SECRET": "x", "PATH": "/usr/bin:/bin"}
    done = subprocess.run(
        [sys.executable, "-m", "tui_app", "--db", str(demo_db), "serve", "--port", "0"],
        env=env,
        capture_output=True,
        text=True,
        timeout=PATIENCE,
    )
    assert done.returncode != 0
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert "CAMPAIGNS_WEBHOOK_SECRET: 1 byte is too short" in lines[0]


def at_once(*sends) -> list[int]:
    """Each (server, path, request) posted from its own thread, all released together."""
    import threading

    start = threading.Barrier(len(sends))
    statuses = [0] * len(sends)

    def send(slot: int) -> None:
        target, path, request = sends[slot]
        start.wait()
        statuses[slot] = post(target, path, request).status_code

    threads = [threading.Thread(target=send, args=(slot,)) for slot in range(len(sends))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return statuses


def test_a_token_sent_to_two_receivers_at_once_is_taken_by_one(demo_db, keys):
    """The database decides which of two receivers takes a token: never both."""
    members = sent_members(40)
    first, second = Server(demo_db, keys.environ()), Server(demo_db, keys.environ())
    answers = []
    try:
        for n in range(20):
            (c1, e1, _), (c2, e2, _) = members[2 * n], members[2 * n + 1]
            captured, headers = mailgun_request(mailgun_event(e1, c1, "opened", f"race-o-{n}"))
            forged = with_signature_of(
                captured, mailgun_event(e2, c2, "unsubscribed", f"race-u-{n}")
            )
            answers.append(
                at_once(
                    (first, "/hooks/mailgun", (captured, headers)),
                    (second, "/hooks/mailgun", (forged, headers)),
                )
            )
    finally:
        first.stop(signal.SIGKILL)
        second.stop(signal.SIGKILL)
    assert all(sorted(pair) == [200, 401] for pair in answers), answers
    E = EngagementEvent
    logged = E.select().where(E.event_id.startswith("race-")).count()
    assert logged == 20, "one event of each pair, the other refused"


def test_the_step_to_version_14_makes_the_table_of_seen_requests(empty_db):
    from playhouse.migrate import SchemaMigrator

    from data.db import open_database
    from data.migrations import MIGRATIONS

    db = open_database(str(empty_db))
    try:
        db.execute_sql('DROP TABLE "seen_request"')
        with db.atomic():
            MIGRATIONS[14](db, SchemaMigrator.from_database(db))
        SeenRequest.create(key="k", digest="d", expires_at=utcnow())
        assert SeenRequest.select().count() == 1
    finally:
        db.close()


def test_a_body_too_large_to_drain_or_not_yet_sent_is_answered_413_at_once(server):
    """The drain is for senders already writing: one that waits for 100 Continue, or declares
    more than is worth reading, is answered before it sends anything."""
    for extra in (
        "Content-Length: 104857600\r\n",
        "Content-Length: 2000000\r\nExpect: 100-continue\r\n",
    ):
        sock = connect(server)
        try:
            sock.sendall(f"POST /hooks/events HTTP/1.1\r\nHost: x\r\n{extra}\r\n".encode())
            head = sock.recv(65536)
        finally:
            sock.close()
        assert head.startswith(b"HTTP/1.1 413 "), (extra, head[:80])
