"""The push service down: the API answers as fast as ever (it only writes the outbox), the
backlog and the failed sends show on /metrics, and the backlog drains once the service is back."""

from __future__ import annotations

import asyncio
import re
import threading
import time
from datetime import timedelta
from http.server import ThreadingHTTPServer
from pathlib import Path

from litestar import Litestar
from litestar.testing import AsyncTestClient

from dispatch.tracking.links import create_link
from infra.db import Connection
from tests.conftest import Auth
from tests.factories_matching import at, job, north, site, territory
from tests.integration.notifications.test_push import Browser
from tests.integration.notifications.test_push_worker_faults import (
    SlowPushService,
    slow_service,
    subscribe,
    worker,
)
from tests.live_server import free_port

__all__ = ["slow_service"]  # the fixture, shared


def _gauge(metrics: str, name: str) -> float:
    found = re.search(rf"^{name} (\S+)$", metrics, re.MULTILINE)
    assert found is not None, f"{name} is not on /metrics"
    return float(found.group(1))


async def test_a_push_service_outage_grows_the_backlog_which_drains_when_it_returns(
    client: AsyncTestClient[Litestar], dispatcher: Auth, conn: Connection, dsn: str, tmp_path: Path
) -> None:
    port = free_port()  # nothing listens on it, for now
    metro = await territory(conn)
    keys = Browser().keys()
    tokens = []
    for i in range(5):
        job_id = await job(conn, await site(conn, metro, north(i)), (8, 12))
        await subscribe(conn, job_id, f"http://127.0.0.1:{port}/push/{i}", keys)
        tokens.append(
            (job_id, (await create_link(conn, job_id, window_end_at=at(12), ttl=timedelta(days=9))).token)
        )

    # The customers cancel while the push service is down: each answer is as quick as usual.
    for _, token in tokens:
        began = time.monotonic()
        cancelled = await client.post(f"/track/{token}/cancel", json={"reason": "Not needed"})
        assert cancelled.status_code == 200, cancelled.text
        assert time.monotonic() - began < 1.0
    assert await asyncio.to_thread(worker(dsn, tmp_path, "--once").wait) == 0

    metrics = (await client.get("/metrics")).text
    assert _gauge(metrics, "truckroll_outbox_pending") == 5
    assert _gauge(metrics, "truckroll_push_failed_attempts_5m") == 5
    rows = await conn.fetch("SELECT status, attempts, last_error FROM push_deliveries")
    assert [(r["status"], r["attempts"]) for r in rows] == [("pending", 1)] * 5
    assert all("Connect" in r["last_error"] for r in rows)

    # Back again: once the backoff has passed, the worker drains the backlog.
    server = ThreadingHTTPServer(("127.0.0.1", port), SlowPushService)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    SlowPushService.received = []
    try:
        await conn.execute("UPDATE push_deliveries SET next_attempt_at = now()")
        assert await asyncio.to_thread(worker(dsn, tmp_path, "--once").wait) == 0
    finally:
        server.shutdown()
        server.server_close()
    assert len(SlowPushService.received) == 5
    metrics = (await client.get("/metrics")).text
    assert _gauge(metrics, "truckroll_outbox_pending") == 0
    assert [r["status"] for r in await conn.fetch("SELECT status FROM push_deliveries")] == ["sent"] * 5


async def test_a_push_service_slower_than_the_timeout_is_retried_later_and_the_api_stays_fast(
    client: AsyncTestClient[Litestar], conn: Connection, dsn: str, tmp_path: Path, slow_service: str
) -> None:
    metro = await territory(conn)
    job_id = await job(conn, await site(conn, metro, north(1)), (8, 12))
    await subscribe(conn, job_id, f"{slow_service}/push/slow", Browser().keys())
    link = await create_link(conn, job_id, window_end_at=at(12), ttl=timedelta(days=9))
    cancelled = await client.post(f"/track/{link.token}/cancel", json={"reason": "Not needed"})
    assert cancelled.status_code == 200
    SlowPushService.delay_s = 3.0
    try:
        sending = worker(dsn, tmp_path, "--once", env={"TRUCKROLL_PUSH_TIMEOUT_S": "1"})
        await asyncio.to_thread(SlowPushService.arrived.wait, 30)
        # The worker waits on the push service; the API does not.
        began = time.monotonic()
        assert (await client.get(f"/track/{link.token}")).status_code == 200
        assert time.monotonic() - began < 1.0
        assert await asyncio.to_thread(sending.wait, 30) == 0
    finally:
        SlowPushService.delay_s = 0.0
    row = await conn.fetchrow("SELECT status, attempts, last_error FROM push_deliveries")
    assert row is not None
    assert row["status"] == "pending"
    assert row["attempts"] == 1
    assert row["last_error"].startswith("TimeoutError")
    metrics = (await client.get("/metrics")).text
    assert _gauge(metrics, "truckroll_push_failed_attempts_5m") == 1
