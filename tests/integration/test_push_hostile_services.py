"""Push services that answer like an attacker's, against `truckroll worker` itself: a browser's
endpoint is the subscriber's choice, so whoever holds a tracking link chooses a server the worker
talks to. Whatever that server answers costs the worker little."""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from uuid import UUID

import httpx
import pytest

from infra.db import Connection
from tests.factories_matching import job, north, site, territory
from tests.integration.test_push import Browser
from tests.integration.test_push_worker_faults import queue, subscribe, worker
from tests.live_server import free_port


@pytest.fixture
def hostile() -> Iterator[str]:
    """tests/hostile_push_service.py in its own process: the path of an endpoint picks its answer."""
    port = free_port()
    service = subprocess.Popen([sys.executable, "-m", "tests.hostile_push_service", str(port)])
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            with contextlib.suppress(httpx.TransportError):
                httpx.get(f"{base}/counts")
                break
            time.sleep(0.05)
        yield base
    finally:
        service.terminate()
        service.wait()


async def a_job(conn: Connection) -> UUID:
    return await job(conn, await site(conn, await territory(conn), north(1)), (8, 12))


def peak_rss_mb(process: subprocess.Popen[bytes]) -> float:
    """Wait for the process, watching its peak resident memory (VmHWM) until it exits."""
    peak = 0.0
    while process.poll() is None:
        with contextlib.suppress(FileNotFoundError, ProcessLookupError):
            for line in Path(f"/proc/{process.pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    peak = max(peak, int(line.split()[1]) / 1024)
        time.sleep(0.02)
    return peak


async def test_endless_and_huge_answers_cost_the_worker_a_few_kilobytes_each(
    conn: Connection, dsn: str, tmp_path: Path, hostile: str
) -> None:
    job_id = await a_job(conn)
    keys = Browser().keys()
    paths = (
        [f"/push/endless/{i}" for i in range(3)] + [f"/push/body/300/{i}" for i in range(3)] + ["/push/ok/0"]
    )
    for path in paths:
        await subscribe(conn, job_id, hostile + path, keys)
    await queue(conn, job_id)

    sending = worker(dsn, tmp_path, "--once", env={"TRUCKROLL_PUSH_TIMEOUT_S": "3"})
    peak = await asyncio.to_thread(peak_rss_mb, sending)
    assert sending.returncode == 0
    # At rest the worker holds about 55 MB; reading these answers whole took it to 490 MB.
    assert peak < 150, f"the worker's memory peaked at {peak:.0f} MB"
    # The status is all a push needs: each was accepted, and its body left unread.
    statuses = await conn.fetch("SELECT status, last_error FROM push_deliveries")
    assert [(r["status"], r["last_error"]) for r in statuses] == [("sent", None)] * len(paths)
