"""SIGTERM, as a deploy or a scale-down sends it: the API ends its live streams at once with a
retry hint and exits cleanly; the push worker finishes the batch it holds and leaves nothing
leased."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import httpx

from dispatch.access.accounts import Role
from dispatch.tracking.links import create_link
from infra.db import Connection, connect
from tests.conftest import JWT_SECRET, make_user
from tests.factories_matching import at, job, north, site, technician, territory
from tests.integration.notifications.test_push import Browser
from tests.integration.notifications.test_push_worker_faults import (
    SlowPushService,
    queue,
    slow_service,
    subscribe,
    worker,
)
from tests.live_server import free_port

__all__ = ["slow_service"]  # the fixture, shared


def _serve(dsn: str, data_dir: Path, port: int, *, stderr: int | None = None) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "DATABASE_URL": dsn,
        "TRUCKROLL_DATA_DIR": str(data_dir),
        "TRUCKROLL_JWT_SECRET": JWT_SECRET,
        "TRUCKROLL_LOG_LEVEL": "WARNING",
        "TRUCKROLL_RISK_SCAN_S": "0",
    }
    command = [sys.executable, "-m", "api.cli", "serve", "--port", str(port), "--skip-migrations"]
    return subprocess.Popen(command, env=env, stderr=stderr)


async def test_sigterm_ends_live_streams_with_a_retry_hint_and_exits_cleanly(
    conn: Connection, dsn: str, tmp_path: Path
) -> None:
    job_id = await job(conn, await site(conn, await territory(conn), north(1)), (8, 12))
    link = await create_link(conn, job_id, window_end_at=at(12), ttl=timedelta(days=30))
    port = free_port()
    api = _serve(dsn, tmp_path, port)
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10) as http:
            await _wait_for_health(http)
            async with http.stream("GET", f"/track/{link.token}/events") as events:
                lines = events.aiter_lines()
                assert (await anext(lines)).startswith(": listening")
                api.send_signal(signal.SIGTERM)
                began = time.monotonic()
                rest = [line async for line in lines]
                ended_after = time.monotonic() - began
        assert ended_after < 3, f"the stream held the shutdown for {ended_after:.1f} s"
        assert "retry: 1000" in rest
        assert any(line.startswith(": closing") for line in rest)
        assert await asyncio.to_thread(api.wait, 10) == 0
    finally:
        if api.poll() is None:
            api.kill()
            api.wait()


async def test_sigterm_lets_a_request_in_flight_finish(conn: Connection, dsn: str, tmp_path: Path) -> None:
    # A request is held in flight by a lock this test holds (the technician's day), SIGTERM
    # arrives, then the lock is let go: the request still gets its full answer.
    metro = await territory(conn)
    ann = await technician(conn, metro, "Ann Springs", north(1))
    bob = await technician(conn, metro, "Bob Doors", north(2))
    job_id = await job(conn, await site(conn, metro, north(0)), (8, 12), technician_id=ann, planned=8.5)
    staff = await make_user(conn, Role.DISPATCHER)
    port = free_port()
    api = _serve(dsn, tmp_path, port)
    holder = await connect(dsn)
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as http:
            await _wait_for_health(http)
            async with holder.transaction():
                await holder.execute("SELECT 1 FROM technicians WHERE id = $1 FOR UPDATE", ann)
                moving = asyncio.create_task(
                    http.post(
                        f"/jobs/{job_id}/reassign",
                        json={"technician_id": str(bob), "reason": "Ann is sick"},
                        headers={**staff.headers, "If-Match": '"1"'},
                    )
                )
                await asyncio.sleep(0.5)  # the request is waiting for the lock
                api.send_signal(signal.SIGTERM)
                await asyncio.sleep(1.0)
                assert not moving.done()
            answer = await moving
        assert answer.status_code in (200, 409), answer.text  # answered, not cut off
        assert await asyncio.to_thread(api.wait, 15) == 0
    finally:
        await holder.close()
        if api.poll() is None:
            api.kill()
            api.wait()


async def _wait_for_health(http: httpx.AsyncClient) -> None:
    for _ in range(200):
        try:
            if (await http.get("/health")).status_code == 200:
                return
        except httpx.TransportError:
            await asyncio.sleep(0.1)


async def test_sigterm_lets_the_worker_finish_its_batch(
    conn: Connection, dsn: str, tmp_path: Path, slow_service: str
) -> None:
    metro = await territory(conn)
    keys = Browser().keys()
    for i in range(3):
        job_id = await job(conn, await site(conn, metro, north(i)), (8, 12))
        await subscribe(conn, job_id, f"{slow_service}/push/{i}", keys)
        await queue(conn, job_id)
    SlowPushService.delay_s = 2.0  # each send is in flight when the signal comes
    running = worker(dsn, tmp_path)
    try:
        for _ in range(200):
            if len(SlowPushService.received) >= 3:
                break
            await asyncio.sleep(0.05)
        assert len(SlowPushService.received) == 3
        running.send_signal(signal.SIGTERM)
        assert await asyncio.to_thread(running.wait, 15) == 0
    finally:
        SlowPushService.delay_s = 0.0
        if running.poll() is None:
            running.kill()
            running.wait()
    statuses = [r["status"] for r in await conn.fetch("SELECT status FROM push_deliveries")]
    assert statuses == ["sent"] * 3
    assert await conn.fetchval("SELECT count(*) FROM push_deliveries WHERE leased_until > now()") == 0
    assert len(SlowPushService.received) == 3  # nothing sent twice


def _open_stalled_stream(port: int, headers: dict[str, str]) -> socket.socket:
    """A board stream whose client stops reading (a phone gone to sleep, a stalled proxy): asked
    from the first event, the backlog fills its socket buffers and the server's send waits."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(("127.0.0.1", port))
    head = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
    sock.sendall(f"GET /board/stream?after=0 HTTP/1.1\r\nHost: 127.0.0.1\r\n{head}\r\n".encode())
    return sock


async def test_ctrl_c_with_three_board_streams_open_exits_at_once_and_logs_no_error(
    conn: Connection, dsn: str, tmp_path: Path
) -> None:
    # Two streams read along; the third stopped reading with megabytes of history still to send
    # (30,000 events of ~300 bytes against socket buffers of a few hundred kilobytes).
    job_id = await job(conn, await site(conn, await territory(conn), north(1)), (8, 12))
    await conn.execute(
        "INSERT INTO job_events (job_id, kind, actor, reason) SELECT $1, 'note', 'system', repeat('x', 120)"
        " FROM generate_series(1, 30000)",
        job_id,
    )
    staff = await make_user(conn, Role.DISPATCHER)
    port = free_port()
    api = _serve(dsn, tmp_path, port, stderr=subprocess.PIPE)
    stalled: socket.socket | None = None
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10) as http:
            await _wait_for_health(http)
            async with (
                http.stream("GET", "/board/stream", headers=staff.headers) as first,
                http.stream("GET", "/board/stream", headers=staff.headers) as second,
            ):
                readers = [first.aiter_lines(), second.aiter_lines()]
                for lines in readers:
                    assert (await anext(lines)).startswith(": listening")
                stalled = _open_stalled_stream(port, staff.headers)
                await asyncio.sleep(2.0)  # its buffers are full
                api.send_signal(signal.SIGINT)
                began = time.monotonic()
                rests = [[line async for line in lines] for lines in readers]
                code = await asyncio.to_thread(api.wait, 30)
                exited_after = time.monotonic() - began
        assert api.stderr is not None
        log = api.stderr.read().decode()
        assert exited_after < 4, f"the shutdown took {exited_after:.1f} s"
        assert code == 0, log
        for rest in rests:
            assert any(line.startswith(": closing") for line in rest)
        for sign in ("ERROR", "Traceback", "never retrieved", "already running", "destroyed"):
            assert sign not in log, log
    finally:
        if stalled is not None:
            stalled.close()
        if api.poll() is None:
            api.kill()
            api.wait()
        if api.stderr is not None:
            api.stderr.close()
