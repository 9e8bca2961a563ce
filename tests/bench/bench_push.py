"""Web Push and positions, measured on this machine:

1. pushes encrypted, signed and sent per second by one worker to a local push service;
2. position ingestion through the API (ETA refresh included) at batches of 1 and 50 pings;
3. ping to push: a ping that moves an ETA past the threshold, through the outbox and the
   worker, to the push service.

    python -m tests.bench.bench_push [--messages 3000] [--pings 20000]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import os
import socket
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import UUID

import httpx
import numpy as np
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from api.app import create_app
from infra.db import Connection, connect, create_pool
from infra.settings import Settings
from notifications.webpush import Sender, generate_vapid_keys
from notifications.worker import WorkerSettings, run, run_once
from tests.bench.common import SECRET, percentiles, scratch_database
from tests.live_server import serving

KEYS = generate_vapid_keys()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def browser_keys() -> tuple[str, str]:
    key = ec.generate_private_key(ec.SECP256R1()).public_key()
    raw = key.public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    return _b64(raw), _b64(os.urandom(16))


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


async def world(c: Connection) -> dict[str, UUID]:
    """A territory, a technician with a login, a job en route with a subscribed customer."""
    territory = await c.fetchval("INSERT INTO territories (name) VALUES ('Bench') RETURNING id")
    tech = await c.fetchval(
        "INSERT INTO technicians (name, territory_id, home_latitude, home_longitude)"
        " VALUES ('Ann Bench', $1, 44.9, -93.2) RETURNING id",
        territory,
    )
    user = await c.fetchval(
        "INSERT INTO users (email, password_hash, role, technician_id)"
        " VALUES ('ann@bench.example', 'x', 'technician', $1) RETURNING id",
        tech,
    )
    site = await c.fetchval(
        "INSERT INTO sites (territory_id, address_line, address_key, latitude, longitude)"
        " VALUES ($1, '1 Bench St', '1 bench st||', 44.95, -93.25) RETURNING id",
        territory,
    )
    now = datetime.now(UTC)
    job = await c.fetchval(
        "INSERT INTO jobs (site_id, problem_code, duration_s, window_start_at, window_end_at, status,"
        " technician_id, planned_start_at, eta_at, eta_told_at)"
        " VALUES ($1, 'broken_spring', 3600, $2, $3, 'en_route', $4, $2, $2, $2) RETURNING id",
        site,
        now,
        now + timedelta(hours=3),
        tech,
    )
    return {"territory": territory, "tech": tech, "user": user, "site": site, "job": job}


@asynccontextmanager
async def api_process(dsn: str, settings: Settings) -> AsyncIterator[str]:
    """`truckroll serve` in its own process, as deployed, so the clients here do not slow it."""
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": dsn,
        "TRUCKROLL_DATA_DIR": str(settings.data_dir),
        "TRUCKROLL_JWT_SECRET": SECRET,
        "TRUCKROLL_RISK_SCAN_S": "0",
        "TRUCKROLL_LOG_LEVEL": "WARNING",
        "TRUCKROLL_POOL_MAX_SIZE": "10",
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "api.cli", "serve", "--port", str(port), "--skip-migrations", env=env
    )
    base = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient(base_url=base) as probe:
            for _ in range(200):
                try:
                    if (await probe.get("/health")).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.05)
        yield base
    finally:
        process.terminate()
        await process.wait()


def token_for(user: UUID, tech: UUID) -> str:
    import jwt

    now = datetime.now(UTC)
    claims = {
        "sub": str(user),
        "iat": int(now.timestamp()),
        "exp": int((now + timedelta(hours=2)).timestamp()),
        "extras": {"role": "technician", "technician_id": str(tech), "territory_id": None},
    }
    return jwt.encode(claims, SECRET, algorithm="HS256")


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=3000)
    parser.add_argument("--pings", type=int, default=20000)
    parser.add_argument(
        "--in-process",
        action="store_true",
        help="serve the API in this process (it then shares the client's CPU)",
    )
    args = parser.parse_args()
    port = free_port()
    service = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.bench.push_service", str(port)
    )
    endpoint = f"http://127.0.0.1:{port}"
    probe = httpx.AsyncClient(base_url=endpoint)
    try:
        for _ in range(100):
            try:
                await probe.get("/stats")
                break
            except httpx.TransportError:
                await asyncio.sleep(0.05)
        async with scratch_database() as dsn:
            conn = await connect(dsn)
            w = await world(conn)
            p256dh, auth = browser_keys()
            sub = await conn.fetchval(
                "INSERT INTO push_subscriptions (job_id, endpoint, p256dh, auth)"
                " VALUES ($1, $2, $3, $4) RETURNING id",
                w["job"],
                f"{endpoint}/push/customer",
                p256dh,
                auth,
            )
            # 1. Pushes per second by one worker.
            await conn.execute(
                "INSERT INTO outbox (kind, audience, job_id, payload, topic, urgency, ttl_s)"
                " SELECT 'eta_changed', 'customer', $1, $3, 'job-bench', 'high', 1800"
                " FROM generate_series(1, $2)",
                w["job"],
                args.messages,
                {"technician": "Ann", "eta_at": datetime.now(UTC).isoformat()},
            )
            pool = await create_pool(dsn, min_size=2, max_size=4)
            async with Sender(KEYS.private_key, "mailto:bench@example.com") as sender:
                began = time.perf_counter()
                sent = 0
                while sent < args.messages:
                    tally = await run_once(pool, sender, WorkerSettings(batch=200))
                    sent += tally.sent
                    if not (tally.sent or tally.retried):
                        break
                elapsed = time.perf_counter() - began
            print(
                f"push: {sent} messages encrypted, signed and sent by one worker in {elapsed:.1f} s:"
                f" {sent / elapsed:.0f}/s"
            )
            await conn.execute("DELETE FROM outbox")

            # 2. Ping ingestion through the API.
            settings = Settings(
                database_url=dsn,
                data_dir=Path(tempfile.mkdtemp(prefix="truckroll-bench-data-")),
                jwt_secret=SECRET,
                log_level="WARNING",
                risk_scan_s=0,
                pool_max_size=10,
                vapid_private_key=KEYS.private_key,
                vapid_public_key=KEYS.public_key,
                push_allow_insecure=True,
            )
            headers = {"Authorization": f"Bearer {token_for(w['user'], w['tech'])}"}
            server = serving(create_app(settings)) if args.in_process else api_process(dsn, settings)
            async with (
                server as base,
                httpx.AsyncClient(base_url=base, headers=headers, timeout=30) as client,
            ):
                clock = [datetime.now(UTC) - timedelta(hours=2)]

                def batch(size: int) -> dict[str, object]:
                    pings = []
                    for _ in range(size):
                        clock[0] += timedelta(milliseconds=100)
                        pings.append(
                            {"recorded_at": clock[0].isoformat(), "latitude": 44.9, "longitude": -93.2}
                        )
                    return {"pings": pings}

                for size in (1, 50):
                    count = max(200, args.pings // size) if size > 1 else min(args.pings, 2000)
                    samples: list[float] = []
                    concurrency = 16
                    queue = asyncio.Queue[int]()
                    for i in range(count):
                        queue.put_nowait(i)

                    async def worker(queue: asyncio.Queue[int], size: int, samples: list[float]) -> None:
                        while not queue.empty():
                            queue.get_nowait()
                            body = batch(size)
                            t0 = time.perf_counter()
                            response = await client.post("/technicians/me/positions", json=body)
                            samples.append(time.perf_counter() - t0)
                            response.raise_for_status()

                    began = time.perf_counter()
                    await asyncio.gather(*(worker(queue, size, samples) for _ in range(concurrency)))
                    elapsed = time.perf_counter() - began
                    p99 = float(np.percentile(np.asarray(samples) * 1000, 99))
                    print(
                        f"pings at batches of {size}: {count * size} pings in {elapsed:.1f} s"
                        f" = {count * size / elapsed:.0f}/s,"
                        f" {concurrency} clients, request {percentiles(samples)}, p99 {p99:.1f} ms"
                    )

                # 3. Ping to push: each ping moves the ETA past the threshold (alternating far and near).
                stop = asyncio.Event()
                async with Sender(KEYS.private_key, "mailto:bench@example.com") as sender:
                    delivering = asyncio.create_task(
                        run(pool, sender, WorkerSettings(idle_s=0.02), stop=stop)
                    )
                    latencies = []
                    start = clock[0] + timedelta(minutes=1)
                    for i in range(40):
                        await conn.execute("UPDATE jobs SET eta_told_at = eta_at WHERE id = $1", w["job"])
                        before = (await probe.get("/stats")).json()["received"]
                        # Alternately 6 km and 0.5 km out, 2 minutes apart (a plausible drive, not a
                        # jump), after the fixes already sent: each ping moves the ETA by 12 minutes.
                        far = 6 if i % 2 == 0 else 0.5
                        recorded = start + timedelta(minutes=2 * i)
                        t0 = time.time()
                        ping = {
                            "pings": [
                                {
                                    "recorded_at": recorded.isoformat(),
                                    "latitude": 44.95 + far * 0.009,
                                    "longitude": -93.25,
                                }
                            ]
                        }
                        (await client.post("/technicians/me/positions", json=ping)).raise_for_status()
                        for _ in range(200):
                            stats = (await probe.get("/stats")).json()
                            if stats["received"] > before:
                                latencies.append(stats["arrivals"][-1][1] - t0)
                                break
                            await asyncio.sleep(0.005)
                    stop.set()
                    await delivering
                print(
                    f"ping to push (ETA moved, outbox, worker, push service): {len(latencies)} of 40:"
                    f" {percentiles(latencies)}"
                )
            await pool.close()
            await conn.close()
            del sub
    finally:
        await probe.aclose()
        service.terminate()
        await service.wait()


if __name__ == "__main__":
    asyncio.run(main())
