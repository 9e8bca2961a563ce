"""A push worker killed mid-batch: its leased deliveries go to the next worker once the lease
runs out; nothing is lost, and only messages that were in flight may arrive twice (their Topic
collapses them on the phone)."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

from infra.db import Connection
from notifications import push_queries
from tests.factories_matching import job, north, site, territory
from tests.integration.notifications.test_push import Browser, worker_env


class SlowPushService(BaseHTTPRequestHandler):
    received: list[str] = []
    delay_s = 0.0
    arrived = threading.Event()  # set by the first push, for a test waiting on another process

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["Content-Length"]))
        type(self).received.append(self.headers.get("Topic", ""))
        type(self).arrived.set()
        time.sleep(type(self).delay_s)
        self.send_response(201)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *_: Any) -> None:
        pass


@pytest.fixture
def slow_service() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), SlowPushService)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    SlowPushService.received, SlowPushService.arrived = [], threading.Event()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


def worker(
    dsn: str, data_dir: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.Popen[bytes]:
    # A lease of 8 s, so a test can wait for it to run out, needs sends of at most 7 s.
    defaults = {"TRUCKROLL_LOG_LEVEL": "WARNING", "TRUCKROLL_PUSH_TIMEOUT_S": "5"}
    env = worker_env(dsn, data_dir, **{**defaults, **(env or {})})
    return subprocess.Popen([sys.executable, "-m", "api.cli", "worker", "--lease-s", "8", *args], env=env)


async def subscribe(conn: Connection, job_id: UUID, endpoint: str, keys: dict[str, str]) -> None:
    """A customer's browser subscribed to the job (keys as the browser made them)."""
    await conn.execute(
        "INSERT INTO push_subscriptions (job_id, endpoint, p256dh, auth) VALUES ($1, $2, $3, $4)",
        job_id,
        endpoint,
        keys["p256dh"],
        keys["auth"],
    )


async def queue(conn: Connection, job_id: UUID, topic: str = "t") -> None:
    """An "arrived" message for the job's customer, waiting in the outbox."""
    await conn.execute(
        "INSERT INTO outbox (kind, audience, job_id, topic, payload)"
        " VALUES ('arrived', 'customer', $1, $2, '{}')",
        job_id,
        topic,
    )


async def test_a_killed_worker_loses_nothing(
    conn: Connection, dsn: str, tmp_path: Path, slow_service: str
) -> None:
    metro = await territory(conn)
    job_ids = [await job(conn, await site(conn, metro, north(i)), (8, 12)) for i in range(5)]
    browser = Browser()
    keys = browser.keys()
    for i, job_id in enumerate(job_ids):
        await subscribe(conn, job_id, f"{slow_service}/push/{i}", keys)
        await queue(conn, job_id, "job-" + job_id.hex[:24])
    SlowPushService.delay_s = 5.0  # long enough to be killed while sending
    first = worker(dsn, tmp_path)
    try:
        for _ in range(200):
            if len(SlowPushService.received) >= 5:
                break
            await asyncio.sleep(0.05)
        assert len(SlowPushService.received) == 5, "the first worker should be sending all five"
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait()
    leased = await conn.fetchval(
        "SELECT count(*) FROM push_deliveries WHERE status = 'pending' AND leased_until > now()"
    )
    assert leased == 5
    SlowPushService.delay_s = 0.0
    # Before the lease runs out, another worker leaves them alone; after, it takes them over.
    assert worker(dsn, tmp_path, "--once").wait() == 0
    assert await conn.fetchval("SELECT count(*) FROM push_deliveries WHERE status = 'sent'") == 0
    for _ in range(300):
        if not await conn.fetchval("SELECT count(*) FROM push_deliveries WHERE leased_until > now()"):
            break
        await asyncio.sleep(0.05)
    assert worker(dsn, tmp_path, "--once").wait() == 0
    assert await conn.fetchval("SELECT count(*) FROM push_deliveries WHERE status = 'sent'") == 5
    # Each message arrived at most twice (the killed worker's attempt and the retry), same Topic.
    topics = SlowPushService.received
    assert sorted(set(topics)) == sorted("job-" + j.hex[:24] for j in job_ids)
    assert all(topics.count(t) == 2 for t in set(topics))


async def test_a_subscription_that_cannot_be_encrypted_to_fails_alone(
    conn: Connection, dsn: str, tmp_path: Path, slow_service: str
) -> None:
    metro = await territory(conn)
    good, bad = [await job(conn, await site(conn, metro, north(i)), (8, 12)) for i in range(2)]
    keys = Browser().keys()
    # A stored key that is not a point on the curve (written before validation, or corrupted).
    for job_id, p256dh in ((good, keys["p256dh"]), (bad, "B" + "A" * 86)):
        await subscribe(conn, job_id, f"{slow_service}/push/{job_id}", {**keys, "p256dh": p256dh})
        await queue(conn, job_id)
    assert worker(dsn, tmp_path, "--once").wait() == 0
    rows = {
        r["job_id"]: r
        for r in await conn.fetch(
            "SELECT o.job_id, d.status, d.attempts, d.last_error FROM push_deliveries d"
            " JOIN outbox o ON o.id = d.outbox_id"
        )
    }
    assert rows[good]["status"] == "sent"
    assert rows[bad]["status"] == "pending"
    assert rows[bad]["attempts"] == 1
    assert rows[bad]["last_error"].startswith("could not encrypt")
    assert len(SlowPushService.received) == 1


async def test_a_subscription_deleted_after_its_message_was_handed_over_is_not_sent_to(
    conn: Connection, dsn: str, tmp_path: Path, slow_service: str
) -> None:
    job_id = await job(conn, await site(conn, await territory(conn), north(1)), (8, 12))
    keys = Browser().keys()
    for name in ("kept", "left"):
        await subscribe(conn, job_id, f"{slow_service}/push/{name}", keys)
    await queue(conn, job_id)
    assert await push_queries.expand_outbox(conn) == 1
    await conn.execute("DELETE FROM push_subscriptions WHERE endpoint LIKE '%/left'")
    assert worker(dsn, tmp_path, "--once").wait() == 0
    rows = await conn.fetch("SELECT endpoint, status FROM push_deliveries ORDER BY endpoint")
    assert [(r["endpoint"].rsplit("/", 1)[1], r["status"]) for r in rows] == [
        ("kept", "sent"),
        ("left", "gone"),
    ]
    assert len(SlowPushService.received) == 1
