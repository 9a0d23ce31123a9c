"""`campaigns serve` as a sender meets it: a real server process on loopback, signed requests
from Mailgun, SendGrid and our own format, each answered only after its events are committed."""

from __future__ import annotations

import json
import signal
import threading
import time

import httpx
import pytest

from data.models import Campaign, CampaignMember, Contact, EngagementEvent, Lead
from data.rollups import campaign_metrics
from tests.serving import (
    Keys,
    Server,
    events_request,
    mailgun_request,
    sendgrid_request,
)


def sent_members(limit: int) -> list[tuple[str, str, int]]:
    """(campaign name, email, member id) of members still at Sent, leads then contacts."""
    M = CampaignMember
    found = []
    for person in (Lead, Contact):
        found += list(
            M.select(Campaign.name, person.email, M.id)
            .join(Campaign)
            .switch(M)
            .join(person)
            .where((M.rung == 0) & ~M.bounced & ~M.unsubscribed)
            .order_by(M.id)
            .limit(limit)
            .tuples()
        )
    return found[:limit]


def outcomes(*event_ids: str) -> list[tuple[str, str, str]]:
    E = EngagementEvent
    return list(
        E.select(E.event_id, E.outcome, E.source)
        .where(E.event_id.in_(event_ids))
        .order_by(E.id)
        .tuples()
    )


def event_count() -> int:
    return EngagementEvent.select().count()


@pytest.fixture
def keys() -> Keys:
    return Keys()


@pytest.fixture
def server(demo_db, keys):
    running = Server(demo_db, keys.environ())
    yield running
    running.stop(signal.SIGKILL)


def post(server: Server, path: str, request) -> httpx.Response:
    body, headers = request
    return httpx.post(f"{server.url}{path}", content=body, headers=headers, timeout=30)


def test_a_signed_mailgun_open_applies(server):
    (campaign, email, member_id), *_ = sent_members(1)
    data = {  # as Mailgun's documentation shows an "opened" event
        "event": "opened",
        "id": "-laxIqj9QWubsjY_3pTq_g",
        "timestamp": time.time() - 60,
        "log-level": "info",
        "recipient": email,
        "recipient-domain": email.split("@")[1],
        "tags": ["newsletter"],
        "user-variables": {"campaign": campaign},
        "client-info": {"client-type": "browser", "client-os": "Linux"},
        "message": {"headers": {"message-id": "20130503182626.18666.16540@example.com"}},
    }
    answer = post(server, "/hooks/mailgun", mailgun_request(data))
    assert answer.status_code == 200, answer.text
    assert answer.json()["applied"] == 1
    assert outcomes("-laxIqj9QWubsjY_3pTq_g") == [("-laxIqj9QWubsjY_3pTq_g", "applied", "mailgun")]
    assert CampaignMember.get_by_id(member_id).status == "Opened"


def test_a_signed_sendgrid_batch_applies_and_machine_opens_raise_nothing(server, keys):
    (c1, e1, m1), (c2, e2, m2), (c3, e3, m3) = sent_members(3)
    now = int(time.time())
    batch = [  # as SendGrid's Event Webhook sends them
        {"email": e1, "timestamp": now, "event": "open", "sg_event_id": "sg-1",
         "sg_message_id": "14c5d75ce93.dfd.64b469.filter0001.16648.5515E0B88.0",
         "useragent": "Mozilla/5.0", "ip": "255.255.255.255", "campaign": c1,
         "sg_machine_open": False},
        {"email": e2, "timestamp": now, "event": "open", "sg_event_id": "sg-2",
         "campaign": c2, "sg_machine_open": True},
        {"email": e3, "timestamp": now, "event": "click", "sg_event_id": "sg-3",
         "url": "https://example.com/a", "campaign": c3},
        {"email": e3, "timestamp": now, "event": "delivered", "sg_event_id": "sg-4",
         "response": "250 OK", "campaign": c3},
        {"email": "nobody@example.com", "timestamp": now, "event": "open",
         "sg_event_id": "sg-5", "campaign": c3},
    ]  # fmt: skip
    machine_before = campaign_metrics(Campaign.get(Campaign.name == c2)).machine_opens
    answer = post(server, "/hooks/sendgrid", sendgrid_request(keys, batch))
    assert answer.status_code == 200, answer.text
    counts = answer.json()
    assert (counts["applied"], counts["machine"], counts["unchanged"], counts["rejected"]) == (
        2,
        1,
        1,
        1,
    )
    assert CampaignMember.get_by_id(m1).status == "Opened"
    assert CampaignMember.get_by_id(m2).status == "Sent", "a machine's open raises nothing"
    assert CampaignMember.get_by_id(m3).status == "Clicked"
    assert [o for _, o, _ in outcomes("sg-1", "sg-2", "sg-3", "sg-4", "sg-5")] == [
        "applied",
        "machine",
        "applied",
        "unchanged",
        "rejected",
    ]
    rejected = EngagementEvent.get(EngagementEvent.event_id == "sg-5")
    assert '"sg_event_id":"sg-5"' in rejected.received_line, "kept as received, to send again"
    after = campaign_metrics(Campaign.get(Campaign.name == c2)).machine_opens
    assert after == machine_before + 1


def test_a_bad_signature_a_stale_time_or_a_large_body_changes_nothing(server, keys):
    (campaign, email, member_id), *_ = sent_members(1)
    event = {"id": "x-1", "type": "open", "campaign": campaign, "email": email,
             "at": "2026-03-02T09:00:00Z"}  # fmt: skip
    before = event_count()
    body, headers = events_request(event)
    tampered = body.replace(b"open", b"click")
    stale = events_request(event, now=time.time() - 301)
    mailgun_wrong_key = mailgun_request({"event": "opened", "id": "x-2"}, key="not-the-key")
    other = Keys()
    sendgrid_wrong_key = sendgrid_request(other, [{"event": "open", "sg_event_id": "x-3"}])
    big = events_request([event] * 20_000)
    assert len(big[0]) > 1 << 20
    answers = [
        post(server, "/hooks/events", (tampered, headers)),
        post(server, "/hooks/events", (body, {})),
        post(server, "/hooks/events", stale),
        post(server, "/hooks/mailgun", mailgun_wrong_key),
        post(server, "/hooks/sendgrid", sendgrid_wrong_key),
        post(server, "/hooks/events", big),
        post(server, "/hooks/sendgrid", (b"not json", sendgrid_request(other, [])[1])),
    ]
    assert [a.status_code for a in answers] == [401, 401, 401, 401, 401, 413, 401]
    assert event_count() == before
    assert CampaignMember.get_by_id(member_id).status == "Sent"
    not_events = events_request("not an event")
    assert post(server, "/hooks/events", not_events).status_code == 400
    assert event_count() == before


def test_the_same_event_twice_is_one_duplicate(server):
    (campaign, email, _), *_ = sent_members(1)
    request = events_request(
        {
            "id": "twice",
            "type": "click",
            "campaign": campaign,
            "email": email,
            "at": "2026-03-02T09:00:00Z",
        }  # fmt: skip
    )
    first = post(server, "/hooks/events", request)
    body, _ = request
    retry = (body, events_request(json.loads(body), now=time.time() - 2)[1])  # signed anew
    second = post(server, "/hooks/events", retry)
    assert (first.json()["applied"], second.json()["duplicates"]) == (1, 1)
    assert [o for _, o, _ in outcomes("twice")] == ["applied", "duplicate"]


def test_an_endpoint_without_its_secret_answers_404_and_says_so(demo_db):
    running = Server(demo_db, {"CAMPAIGNS_WEBHOOK_SECRET": "only-this-one-is-set"})
    try:
        answer = httpx.post(f"{running.url}/hooks/sendgrid", content=b"[]", timeout=30)
        assert answer.status_code == 404
        assert "CAMPAIGNS_SENDGRID_VERIFICATION_KEY" in answer.json()["error"]
    finally:
        running.stop()
    said = "\n".join(running.log)
    assert "/hooks/sendgrid is off (404): CAMPAIGNS_SENDGRID_VERIFICATION_KEY is not set" in said
    assert "/hooks/events is on" in said


def send_concurrently(server: Server, requests: list, clients: int, stop_after=None) -> dict:
    """Send `requests` (event id, request) from `clients` threads; the ids answered 2xx and
    the statuses seen. Connection errors (the server killed) end a client's work."""
    answered: dict[str, int] = {}
    lock = threading.Lock()
    queue = list(reversed(requests))

    def client() -> None:
        with httpx.Client(base_url=server.url, timeout=60) as http:
            while True:
                with lock:
                    if not queue:
                        return
                    event_id, (body, headers) = queue.pop()
                try:
                    status = http.post("/hooks/events", content=body, headers=headers).status_code
                except httpx.TransportError:
                    return
                with lock:
                    answered[event_id] = status
                    if stop_after is not None and len(answered) == stop_after:
                        stop_after_event.set()

    stop_after_event = threading.Event()
    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    if stop_after is not None:
        stop_after_event.wait(timeout=120)
        server.stop(signal.SIGKILL)
    for thread in threads:
        thread.join()
    return answered


def load(count: int, prefix: str) -> list:
    members = sent_members(50)
    return [
        (
            f"{prefix}-{n}",
            events_request(
                {
                    "id": f"{prefix}-{n}",
                    "type": ("open", "click")[n % 2],
                    "campaign": members[n % len(members)][0],
                    "email": members[n % len(members)][1],
                    "at": f"2026-03-02T09:{n % 60:02d}:00Z",
                }
            ),
        )
        for n in range(count)
    ]


def test_2000_requests_from_8_clients_are_all_answered_and_committed(server):
    requests = load(2_000, "c")
    answered = send_concurrently(server, requests, clients=8)
    assert len(answered) == 2_000
    assert set(answered.values()) == {200}
    E = EngagementEvent
    committed = E.select().where(E.event_id.startswith("c-") & (E.outcome != "rejected"))
    assert committed.count() == 2_000


def test_nothing_acknowledged_is_lost_when_the_server_is_killed(demo_db, keys):
    requests = load(2_000, "k")
    running = Server(demo_db, keys.environ())
    answered = send_concurrently(running, requests, clients=8, stop_after=500)
    acknowledged = {event_id for event_id, status in answered.items() if status == 200}
    assert len(acknowledged) >= 500
    E = EngagementEvent
    stored = {row[0] for row in E.select(E.event_id).where(E.event_id.startswith("k-")).tuples()}
    assert acknowledged <= stored, "every request answered 2xx was committed"
    restarted = Server(demo_db, keys.environ())
    try:
        again = send_concurrently(restarted, requests, clients=8)
    finally:
        restarted.stop()
    assert set(again.values()) == {200}
    seen = E.select(E.event_id, E.outcome).where(E.event_id.startswith("k-")).tuples()
    applied = [event_id for event_id, outcome in seen if outcome in ("applied", "unchanged")]
    assert sorted(applied) == sorted(event_id for event_id, _ in requests), "each took effect once"
    retried = [event_id for event_id, outcome in seen if outcome == "duplicate"]
    assert retried == [], "a committed request sent again byte for byte is answered, not logged"


def test_sigterm_finishes_what_was_accepted(demo_db, keys):
    running = Server(demo_db, keys.environ())
    requests = load(300, "t")
    answered: dict = {}
    sender = threading.Thread(
        target=lambda: answered.update(send_concurrently(running, requests, clients=4))
    )
    sender.start()
    deadline = time.monotonic() + 60
    E = EngagementEvent
    while E.select().where(E.event_id.startswith("t-")).count() < 50:
        assert time.monotonic() < deadline, "the load never arrived"
        time.sleep(0.01)
    running.stop(signal.SIGTERM)
    sender.join()
    acknowledged = {event_id for event_id, status in answered.items() if status == 200}
    stored = {row[0] for row in E.select(E.event_id).where(E.event_id.startswith("t-")).tuples()}
    assert acknowledged <= stored
    assert stored <= set(answered), "nothing was committed without its sender being answered"
    assert "stopped: every accepted request was committed and answered" in "\n".join(running.log)


def test_a_version_4_database_upgrades_to_record_machine_opens(tmp_path):
    """The outcome `machine` is allowed after the upgrade, and its id counts as seen."""
    import shutil
    from pathlib import Path

    from data.db import open_database
    from data.ingest import ingest_records

    path = tmp_path / "v4.db"
    shutil.copyfile(Path(__file__).parent / "fixtures" / "schema_v4.db", path)
    db = open_database(str(path))
    try:
        (campaign, email, member_id), *_ = sent_members(1)
        event = {"id": "m-1", "type": "open", "campaign": campaign, "email": email,
                 "at": "2026-03-02T09:00:00Z", "machine": True}  # fmt: skip
        assert ingest_records([event]).machine == 1
        assert ingest_records([event]).duplicates == 1
        assert CampaignMember.get_by_id(member_id).status == "Sent"
        assert campaign_metrics(Campaign.get(Campaign.name == campaign)).machine_opens == 1
    finally:
        db.close()


def test_a_version_5_schema_on_postgresql_upgrades(empty_db, backend):
    """The same upgrade on a server (from version 5): the CHECK is replaced, the seen-id index
    widened."""
    from data.db import open_database
    from data.ingest import ingest_records
    from tests import factories as f

    if backend != "postgresql":
        pytest.skip("the SQLite upgrade is checked from a version 4 file")
    db = open_database(str(empty_db))
    db.execute_sql(
        "ALTER TABLE engagement_event DROP CONSTRAINT engagement_event_outcome_check, "
        "ADD CONSTRAINT engagement_event_outcome_check CHECK "
        "(outcome IN ('applied', 'unchanged', 'duplicate', 'rejected'))"
    )
    db.execute_sql("DROP TABLE receiver, received_count")
    db.execute_sql("ALTER TABLE campaign_stats DROP COLUMN machine_opens")
    # Step 6 applied again to what it found at version 5 (later steps have their own tests).
    from playhouse.migrate import SchemaMigrator

    from data.migrations import MIGRATIONS

    with db.atomic():
        MIGRATIONS[6](db, SchemaMigrator.from_database(db))
    db.close()
    db = open_database(str(empty_db))
    try:
        f.lead(email="ana@example.com")
        from data.enrollment import enroll

        enroll(f.campaign("Upgraded"))
        event = {"id": "m-1", "type": "open", "campaign": "Upgraded", "machine": True,
                 "email": "ana@example.com", "at": "2026-03-02T09:00:00Z"}  # fmt: skip
        assert ingest_records([event]).machine == 1
        assert ingest_records([event]).duplicates == 1
    finally:
        db.close()


def mapped(fields: dict):
    """An event as a connector hands it on: a received record with its keys."""
    from data.ingest.parsing import Received

    return Received(json.dumps(fields).encode(), fields)
