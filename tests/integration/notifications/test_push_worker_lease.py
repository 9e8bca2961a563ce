"""A worker's lease must outlast its longest send, or a batch still being sent is claimed again by
another worker and sent twice (a 5 s lease and the 10 s push timeout made 200 deliveries into 470
sends)."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

from infra.db import Connection
from tests.factories_matching import job, north, site, territory
from tests.integration.notifications.test_push import Browser, worker_env
from tests.integration.notifications.test_push_worker_faults import queue, subscribe


def run_worker(dsn: str, data_dir: Path, *args: str, timeout_s: str) -> subprocess.CompletedProcess[str]:
    env = worker_env(dsn, data_dir, TRUCKROLL_PUSH_TIMEOUT_S=timeout_s)
    command = [sys.executable, "-m", "api.cli", "worker", "--once", *args]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=60, check=False)


async def test_a_lease_that_does_not_outlast_the_push_timeout_is_refused_before_anything_is_claimed(
    conn: Connection, dsn: str, tmp_path: Path
) -> None:
    job_id = await job(conn, await site(conn, await territory(conn), north(1)), (8, 12))
    # Nothing listens there: had it been claimed, the delivery would show an attempt.
    await subscribe(conn, job_id, "http://127.0.0.1:9/push/0", Browser().keys())
    await queue(conn, job_id)

    for lease in ("5", "10", "10.5", "nan", "inf"):
        refused = await asyncio.to_thread(run_worker, dsn, tmp_path, "--lease-s", lease, timeout_s="10")
        assert refused.returncode == 2, refused.stderr
        assert "--lease-s" in refused.stderr
        assert "TRUCKROLL_PUSH_TIMEOUT_S is 10 s" in refused.stderr
        assert "must be from 11" in refused.stderr
    assert await conn.fetchval("SELECT count(*) FROM push_deliveries WHERE leased_until IS NOT NULL") == 0
    assert await conn.fetchval("SELECT count(*) FROM push_attempts") == 0

    accepted = await asyncio.to_thread(run_worker, dsn, tmp_path, "--lease-s", "11", timeout_s="10")
    assert accepted.returncode == 0, accepted.stderr
