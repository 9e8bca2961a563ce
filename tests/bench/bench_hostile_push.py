"""The push worker against push services that answer like an attacker's, measured on this machine.

Whoever subscribes a browser chooses the endpoint, so a push service may answer with a body of
hundreds of megabytes or one that never ends, a byte every half second, headers that never end,
or a Retry-After no clock can hold. For each, `truckroll worker` (the real command, in its own
process) delivers one message to a job whose customer has 20 honest browsers and a few hostile
ones; printed: the worker's memory (resident at rest, and its peak), how many copies each honest
browser got, and what was recorded for the hostile ones. Then fair share: a technician's message
written while one job has thousands of deliveries queued, and how soon it arrives.

    python -m tests.bench.bench_hostile_push [--hostile 3] [--seconds 12] [--flood 2000]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import quote
from uuid import UUID

import httpx

from infra.db import Connection, connect
from tests.bench.bench_push import browser_keys, world
from tests.bench.common import scratch_database, wait_for_service
from tests.integration.notifications.test_push import worker_env
from tests.live_server import free_port

HONEST = 20
ABSURD_RETRY_AFTER = ("1e12", "inf", "nan", "-1", "9" * 30, "Fri, 31 Dec 9999 23:59:59 GMT")


def scenarios(hostile: int) -> list[tuple[str, list[str]]]:
    """(what the hostile browsers' push service does, their endpoint paths)."""
    return [
        ("300 MB body", [f"/push/body/300/{i}" for i in range(hostile)]),
        ("endless body", [f"/push/endless/{i}" for i in range(hostile)]),
        ("slow drip", [f"/push/drip/{i}" for i in range(hostile)]),
        ("endless headers", [f"/push/headers/{i}" for i in range(hostile)]),
        ("absurd Retry-After", [f"/push/retry/{quote(v, safe='')}/x" for v in ABSURD_RETRY_AFTER]),
    ]


def memory_mb(pid: int) -> tuple[float, float]:
    """(resident now, peak resident) of a process, in MB."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        fields[name] = value
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


async def get_json(url: str) -> Any:
    async with httpx.AsyncClient(timeout=10) as client:
        return (await client.get(url)).json()


async def clear(conn: Connection) -> None:
    await conn.execute("DELETE FROM push_deliveries; DELETE FROM outbox; DELETE FROM push_subscriptions")


async def subscribe(conn: Connection, job_id: UUID, endpoints: list[str]) -> None:
    p256dh, auth = browser_keys()
    await conn.executemany(
        "INSERT INTO push_subscriptions (job_id, endpoint, p256dh, auth) VALUES ($1, $2, $3, $4)",
        [(job_id, endpoint, p256dh, auth) for endpoint in endpoints],
    )


async def start_worker(
    dsn: str, data_dir: Path, timeout_s: float, lease_s: float
) -> asyncio.subprocess.Process:
    env = worker_env(dsn, data_dir, TRUCKROLL_PUSH_TIMEOUT_S=str(timeout_s), TRUCKROLL_LOG_LEVEL="CRITICAL")
    command = [sys.executable, "-m", "api.cli", "worker", "--skip-migrations", "--lease-s", str(lease_s)]
    return await asyncio.create_subprocess_exec(*command, env=env, stdout=asyncio.subprocess.DEVNULL)


async def stop(process: asyncio.subprocess.Process) -> None:
    if process.returncode is None:
        process.terminate()
    await process.wait()


async def hostile_run(
    conn: Connection,
    dsn: str,
    base: str,
    job_id: UUID,
    name: str,
    paths: list[str],
    args: argparse.Namespace,
) -> None:
    await clear(conn)
    honest = [f"{base}/push/ok/{name.replace(' ', '-')}-{i}" for i in range(HONEST)]
    await subscribe(conn, job_id, honest + [base + p for p in paths])
    worker = await start_worker(dsn, Path(tempfile.mkdtemp()), args.timeout, args.lease)
    try:
        await asyncio.sleep(2.0)  # started, connected, idle
        rest, _ = memory_mb(worker.pid)
        await conn.execute(
            "INSERT INTO outbox (kind, audience, job_id, payload, topic)"
            " VALUES ('arrived', 'customer', $1, '{}', 't')",
            job_id,
        )
        peak, ended = rest, time.monotonic() + args.seconds
        while time.monotonic() < ended and worker.returncode is None:
            peak = max(peak, memory_mb(worker.pid)[1])
            await asyncio.sleep(0.05)
        alive = worker.returncode is None
    finally:
        await stop(worker)
    counts = await get_json(f"{base}/counts")
    copies = Counter(counts.get(e.removeprefix(base), 0) for e in honest)
    rows = await conn.fetch(
        "SELECT d.status, d.attempts, d.next_attempt_at - now() AS wait, d.last_error FROM push_deliveries d"
        " WHERE d.endpoint = ANY($1::text[])",
        [base + p for p in paths],
    )
    recorded = dict(sorted(Counter(r["status"] for r in rows).items()))
    waits = [r["wait"].total_seconds() for r in rows if r["status"] == "pending"]
    retry = f", next attempt in {min(waits):.0f} to {max(waits):.0f} s" if waits else ""
    errors = sorted({(r["last_error"] or "")[:40] for r in rows if r["last_error"]})
    print(
        f"{name:<20} worker {rest:3.0f} MB at rest, peak {peak:5.0f} MB, {'running' if alive else 'DIED'};"
        f" honest browsers by copies received {dict(sorted(copies.items()))};"
        f" hostile {recorded}{retry} {errors[:1]}"
    )


async def fair_share(
    conn: Connection, dsn: str, base: str, w: dict[str, UUID], args: argparse.Namespace
) -> None:
    """A technician's message while one job has `flood` deliveries queued."""
    await clear(conn)
    await subscribe(conn, w["job"], [f"{base}/push/ok/flood-{i}" for i in range(args.flood)])
    p256dh, auth = browser_keys()
    await conn.execute(
        "INSERT INTO push_subscriptions (user_id, endpoint, p256dh, auth) VALUES ($1, $2, $3, $4)",
        w["user"],
        f"{base}/push/ok/technician",
        p256dh,
        auth,
    )
    worker = await start_worker(dsn, Path(tempfile.mkdtemp()), args.timeout, args.lease)
    try:
        await asyncio.sleep(2.0)
        async with conn.transaction():
            await conn.execute(
                "INSERT INTO outbox (kind, audience, job_id, payload)"
                " VALUES ('eta_changed', 'customer', $1, '{}')",
                w["job"],
            )
            await conn.execute(
                "INSERT INTO outbox (kind, audience, job_id, technician_id, payload)"
                " VALUES ('job_added', 'technician', $1, $2, '{}')",
                w["job"],
                w["tech"],
            )
        written = time.time()
        ended = time.monotonic() + args.seconds
        while time.monotonic() < ended:
            counts = await get_json(f"{base}/counts")
            flooded = sum(v for k, v in counts.items() if "flood" in k)
            if counts.get("/push/ok/technician") and flooded >= args.flood:
                break
            await asyncio.sleep(0.2)
    finally:
        await stop(worker)
    arrivals = await get_json(f"{base}/arrivals")
    flood = [t for path, t in arrivals if "/flood-" in path]
    technician = [t for path, t in arrivals if path == "/push/ok/technician"]
    if not technician:
        print(f"fair share: {len(flood)} of {args.flood} flood pushes sent, not the technician's message")
        return
    ahead = sum(1 for t in flood if t < technician[0])
    print(
        f"fair share: a technician's message written with one job's {args.flood} deliveries queued arrived"
        f" {technician[0] - written:.2f} s after it was written, behind {ahead} of that job's pushes"
        f" (the whole flood took {max(flood) - written:.2f} s)"
    )


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--hostile", type=int, default=3, help="hostile browsers per scenario (default 3)")
    parser.add_argument("--seconds", type=float, default=12.0, help="each scenario's time (default 12)")
    parser.add_argument("--timeout", type=float, default=5.0, help="TRUCKROLL_PUSH_TIMEOUT_S (default 5)")
    parser.add_argument("--lease", type=float, default=8.0, help="--lease-s of the worker (default 8)")
    parser.add_argument("--flood", type=int, default=2000, help="one job's subscriptions (default 2,000)")
    parser.add_argument("--only", default="", help="run only the scenarios whose name contains this")
    args = parser.parse_args()
    port = free_port()
    service = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.hostile_push_service", str(port)
    )
    base = f"http://127.0.0.1:{port}"
    try:
        await wait_for_service(f"{base}/counts")
        async with scratch_database() as dsn:
            conn = await connect(dsn)
            w = await world(conn)
            for name, paths in scenarios(args.hostile):
                if args.only in name:
                    await hostile_run(conn, dsn, base, w["job"], name, paths, args)
            if args.only in "fair share":
                await fair_share(conn, dsn, base, w, args)
            await conn.close()
    finally:
        await stop(service)


if __name__ == "__main__":
    asyncio.run(main())
