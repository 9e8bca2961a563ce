"""PostgreSQL restarted under a running API: while it is down every request that needs it gets a
prompt 503 with Retry-After (not a hang, not a 500); when it is back the API reconnects by
itself and everything it had accepted is still there."""

from __future__ import annotations

import asyncio
import shutil
import tempfile
import time
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from api.app import create_app
from dispatch.access.accounts import Role
from dispatch.jobs.job_queries import insert_job_event
from dispatch.models import JobStatus
from dispatch.tracking.links import create_link
from infra.db import connect, migrate
from infra.local_postgres import LocalPostgres
from infra.settings import Settings
from tests.conftest import JWT_SECRET, make_user
from tests.factories_matching import at, job, north, site, territory
from tests.live_server import serving


@pytest.fixture
async def own_cluster() -> AsyncIterator[LocalPostgres]:
    """A cluster of this test's own (durable: fsync on), since the test stops it."""
    base = Path(tempfile.mkdtemp(prefix="truckroll-restart-"))
    await asyncio.to_thread(base.chmod, 0o755)  # the postgres user enters it when we run as root
    pg = LocalPostgres(base)
    await asyncio.to_thread(pg.start)
    try:
        conn = await connect(pg.dsn())
        try:
            await migrate(conn)
        finally:
            await conn.close()
        yield pg
    finally:
        await asyncio.to_thread(pg.stop)
        shutil.rmtree(base, ignore_errors=True)


async def _timed(
    client: AsyncTestClient[Litestar], path: str, headers: dict[str, str]
) -> tuple[int, float, str]:
    began = time.monotonic()
    response = await client.get(path, headers=headers)
    return response.status_code, time.monotonic() - began, response.headers.get("Retry-After", "")


async def test_the_api_answers_503_while_the_database_is_down_then_recovers(
    own_cluster: LocalPostgres, tmp_path: Path
) -> None:
    conn = await connect(own_cluster.dsn())
    try:
        dispatcher = await make_user(conn, Role.DISPATCHER)
    finally:
        await conn.close()
    settings = Settings(database_url=None, data_dir=tmp_path, jwt_secret=JWT_SECRET, risk_scan_s=0)
    async with AsyncTestClient(create_app(settings, dsn=own_cluster.dsn()), timeout=30) as client:
        created = await client.post("/customers", json={"name": "Ada Byron"}, headers=dispatcher.headers)
        assert created.status_code == 201, created.text

        await asyncio.to_thread(own_cluster.stop)
        for path in ("/customers", f"/customers/{created.json()['id']}", "/jobs", "/ready"):
            status, took, retry_after = await _timed(client, path, dispatcher.headers)
            assert status == 503, f"{path}: {status}"
            assert took < 5, f"{path} took {took:.1f} s"
            if path != "/ready":
                assert retry_after == "2"
        write = await client.post("/customers", json={"name": "Lost?"}, headers=dispatcher.headers)
        assert write.status_code == 503
        assert (await client.get("/health")).status_code == 200  # the process itself is alive

        await asyncio.to_thread(own_cluster.start)
        deadline = time.monotonic() + 20
        while True:
            listed = await client.get("/customers", headers=dispatcher.headers)
            if listed.status_code == 200 or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.2)
        assert listed.status_code == 200, listed.text
        assert [c["name"] for c in listed.json()["items"]] == ["Ada Byron"]
        assert (await client.get("/ready")).status_code == 200


async def _next_event(lines: AsyncIterator[str], timeout_s: float) -> dict[str, str]:
    """The next SSE event's fields (comments skipped)."""
    fields: dict[str, str] = {}
    async with asyncio.timeout(timeout_s):
        async for line in lines:
            if not line:
                if "data" in fields:
                    return fields
                fields = {}
                continue
            if line.startswith(":"):
                continue
            name, _, value = line.partition(":")
            fields[name] = value.strip()
    raise AssertionError("the stream ended")


async def test_live_listeners_catch_up_after_the_database_restarts(
    own_cluster: LocalPostgres, tmp_path: Path
) -> None:
    conn = await connect(own_cluster.dsn())
    try:
        job_id = await job(conn, await site(conn, await territory(conn), north(1)), (8, 12))
        link = await create_link(conn, job_id, window_end_at=at(12), ttl=timedelta(days=30))
    finally:
        await conn.close()

    async def event(kind: str) -> None:
        conn = await connect(own_cluster.dsn())
        try:
            await insert_job_event(conn, job_id, kind, None, to_status=JobStatus.NEW)
        finally:
            await conn.close()

    settings = Settings(database_url=None, data_dir=tmp_path, jwt_secret=JWT_SECRET, risk_scan_s=0)
    url = f"/track/{link.token}/events"
    async with (
        serving(create_app(settings, dsn=own_cluster.dsn())) as base,
        httpx.AsyncClient(base_url=base, timeout=30) as http,
    ):
        async with http.stream("GET", url) as before:
            lines = before.aiter_lines()
            await event("intake")
            seen = await _next_event(lines, 10)
        await asyncio.to_thread(own_cluster.stop)
        await asyncio.to_thread(own_cluster.start)
        # A browser reconnects with the last id it saw, and gets what happened meanwhile.
        await event("assigned")
        deadline = time.monotonic() + 20
        while True:
            try:
                async with http.stream("GET", url, headers={"Last-Event-ID": seen["id"]}) as after:
                    assert after.status_code == 200
                    lines = after.aiter_lines()
                    caught_up = await _next_event(lines, 10)
                    # And hears what happens next, once the API listens to PostgreSQL again.
                    await event("status")
                    live = await _next_event(lines, 10)
                    break
            except (AssertionError, TimeoutError):
                if time.monotonic() > deadline:
                    raise
                await asyncio.sleep(0.5)
    assert int(caught_up["id"]) > int(seen["id"])
    assert int(live["id"]) > int(caught_up["id"])
