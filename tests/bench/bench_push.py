"""Web Push and positions, measured on this machine:

1. pushes encrypted, signed and sent per second by one worker to a local push service;
2. position ingestion through the API (ETA refresh included) at batches of 1 and 50 pings;
3. ping to push: a ping that moves an ETA past the threshold, through the outbox and the
   worker, to the push service.

    python -m tests.bench.bench_push [--messages 12000] [--pings 20000] [--technicians 400]
                                     [--api 2]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import os
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import UUID

import httpx
import msgspec
import numpy as np
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from api.app import create_app
from infra.db import Connection, connect, create_pool
from infra.settings import Settings
from notifications.webpush import Sender, generate_vapid_keys
from notifications.worker import WorkerSettings, run
from tests.bench import http_load
from tests.bench.common import SECRET, percentiles, scratch_database, wait_for_service
from tests.live_server import free_port, serving

KEYS = generate_vapid_keys()


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


async def fleet(c: Connection, territory: UUID, size: int) -> list[tuple[UUID, UUID, tuple[float, float]]]:
    """`size` technicians on the road, each driving to a job 8 km south of them with two more
    planned after it: (technician, login, start) each."""
    now = datetime.now(UTC)
    rows = await c.fetch(
        """
        WITH t AS (
            INSERT INTO technicians (name, territory_id, home_latitude, home_longitude)
            SELECT 'Tech ' || i, $1, 44.9 + 0.072, -93.4 + i * 0.001 FROM generate_series(1, $2) i
            RETURNING id, home_latitude, home_longitude
        ), u AS (
            INSERT INTO users (email, password_hash, role, technician_id)
            SELECT 'tech-' || t.id || '@bench.example', 'x', 'technician', t.id FROM t
            RETURNING id, technician_id
        )
        SELECT t.id AS tech, u.id AS login, t.home_latitude, t.home_longitude
        FROM t JOIN u ON u.technician_id = t.id
        """,
        territory,
        size,
    )
    for r in rows:
        for n, status in enumerate(("en_route", "scheduled", "scheduled")):
            site = await c.fetchval(
                "INSERT INTO sites (territory_id, address_line, address_key, latitude, longitude)"
                " VALUES ($1, $2, $2, $3, $4) RETURNING id",
                territory,
                f"{r['tech']} {n}",
                r["home_latitude"] - 0.072 - 0.01 * n,
                r["home_longitude"],
            )
            start = now + timedelta(hours=n)
            await c.execute(
                "INSERT INTO jobs (site_id, problem_code, duration_s, window_start_at, window_end_at, status,"
                " technician_id, planned_start_at, eta_at, eta_told_at)"
                " VALUES ($1, 'broken_spring', 2400, $2, $3, $4, $5, $2, $2, $6)",
                site,
                start,
                start + timedelta(hours=2),
                status,
                r["tech"],
                start if status == "en_route" else None,
            )
    return [(r["tech"], r["login"], (r["home_latitude"], r["home_longitude"])) for r in rows]


@asynccontextmanager
async def api_processes(dsn: str, settings: Settings, count: int) -> AsyncIterator[list[str]]:
    """`count` processes of `truckroll serve`, each on its own port as behind a load balancer,
    so the clients here do not slow them and each gets an even share of the connections."""
    env = {
        **os.environ,
        "DATABASE_URL": dsn,
        "TRUCKROLL_DATA_DIR": str(settings.data_dir),
        "TRUCKROLL_JWT_SECRET": SECRET,
        "TRUCKROLL_RISK_SCAN_S": "0",
        "TRUCKROLL_LOG_LEVEL": "WARNING",
        "TRUCKROLL_POOL_MAX_SIZE": str(settings.pool_max_size),
    }
    ports = [free_port() for _ in range(count)]
    processes = [
        await asyncio.create_subprocess_exec(
            sys.executable, "-m", "api.cli", "serve", "--port", str(port), "--skip-migrations", env=env
        )
        for port in ports
    ]
    bases = [f"http://127.0.0.1:{port}" for port in ports]
    try:
        async with httpx.AsyncClient() as probe:
            for base in bases:
                for _ in range(400):
                    try:
                        if (await probe.get(f"{base}/health")).status_code == 200:
                            break
                    except httpx.TransportError:
                        pass
                    await asyncio.sleep(0.05)
        yield bases
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            await process.wait()


@asynccontextmanager
async def in_process(settings: Settings) -> AsyncIterator[list[str]]:
    async with serving(create_app(settings)) as base:
        yield [base]


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


async def page_events(conn: Connection) -> int:
    """The events pings write for the customers' open pages (each wakes their streams)."""
    count: int = await conn.fetchval("SELECT count(*) FROM job_events WHERE kind IN ('eta', 'position')")
    return count


async def ingest(
    bases: list[str],
    drivers: list[tuple[UUID, UUID, tuple[float, float]]],
    size: int,
    total: int,
    lanes: int,
) -> None:
    """`total` pings in batches of `size` from the whole fleet, as phones send them: each
    technician's fixes 5 s apart, driving south at 10 m/s toward their job (a batch of 50 is a
    4-minute backlog). Concurrent clients never hold two batches of one technician at once."""
    tokens = {tech: token_for(login, tech) for tech, login, _ in drivers}
    started = datetime.now(UTC) - timedelta(hours=3)
    sent = dict.fromkeys(tokens, 0)
    turn = iter(range(total // size))
    samples: list[float] = []

    def body(tech: UUID, start: tuple[float, float]) -> bytes:
        pings = []
        for _ in range(size):
            n = sent[tech]
            sent[tech] += 1
            at = started + timedelta(seconds=5 * n)
            pings.append(
                {
                    "recorded_at": at.isoformat(),
                    "latitude": start[0] - n * 50 / 111_200,
                    "longitude": start[1],
                }
            )
        return msgspec.json.encode({"pings": pings})

    async def client(lane: int, lanes: int) -> None:
        connection = await http_load.Connection.open(bases[lane % len(bases)])
        mine = [d for i, d in enumerate(drivers) if i % lanes == lane]
        try:
            for n in turn:
                tech, _, start = mine[n % len(mine)]
                payload = body(tech, start)
                t0 = time.perf_counter()
                status, answer = await connection.request(
                    "POST",
                    "/technicians/me/positions",
                    payload,
                    {"Authorization": f"Bearer {tokens[tech]}"},
                )
                samples.append(time.perf_counter() - t0)
                if status != 200:
                    raise RuntimeError(f"{status}: {answer[:300]!r}")
        finally:
            await connection.close()

    began = time.perf_counter()
    await asyncio.gather(*(client(lane, lanes) for lane in range(lanes)))
    elapsed = time.perf_counter() - began
    pings = len(samples) * size
    p99 = float(np.percentile(np.asarray(samples) * 1000, 99))
    print(
        f"pings at batches of {size}: {pings} pings from {len(drivers)} technicians on the road in"
        f" {elapsed:.1f} s = {pings / elapsed:.0f}/s ({len(samples) / elapsed:.0f} requests/s),"
        f" {lanes} connections to {len(bases)} API processes,"
        f" request {percentiles(samples)}, p99 {p99:.1f} ms"
    )


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument(
        "--messages",
        type=int,
        default=12000,
        help="pushes to send (default 12,000: several seconds, past the warm-up)",
    )
    parser.add_argument("--pings", type=int, default=20000, help="at batches of 1 (5 times more at 50)")
    parser.add_argument("--technicians", type=int, default=400)
    parser.add_argument(
        "--lanes",
        default="64,16",
        help="client connections at batches of 1 and of 50 (default 64,16: many phones each sending"
        " its latest fix, fewer sending a backlog)",
    )
    parser.add_argument("--api", type=int, default=2, help="API processes (default 2, one per core)")
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
        await wait_for_service(f"{endpoint}/stats")
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
            # The worker as `truckroll worker` runs it (default settings), until the push service
            # has received every message.
            stop = asyncio.Event()
            before = (await probe.get("/stats")).json()["received"]
            async with Sender(KEYS.private_key, "mailto:bench@example.com") as sender:
                began, cpu = time.perf_counter(), time.process_time()
                delivering = asyncio.create_task(
                    run(pool, sender, WorkerSettings(allow_insecure=True), stop=stop, dsn=dsn)
                )
                waited = await probe.get("/stats", params={"until": before + args.messages}, timeout=600)
                sent = waited.json()["received"] - before
                cpu = time.process_time() - cpu
                elapsed = time.perf_counter() - began
                stop.set()
                await delivering
            print(
                f"push: {sent} messages encrypted, signed and sent by one worker ({WorkerSettings().lanes}"
                f" batches of {WorkerSettings().batch} in flight) in {elapsed:.1f} s:"
                f" {sent / elapsed:.0f}/s, {cpu / sent * 1e6:.0f} µs of the worker's CPU each"
            )
            await conn.execute("DELETE FROM outbox")

            # 2. Ping ingestion through the API.
            settings = Settings(
                database_url=dsn,
                data_dir=Path(tempfile.mkdtemp(prefix="truckroll-bench-data-")),
                jwt_secret=SECRET,
                log_level="WARNING",
                risk_scan_s=0,
                pool_max_size=4,
                vapid_private_key=KEYS.private_key,
                vapid_public_key=KEYS.public_key,
                push_allow_insecure=True,
            )
            headers = {"Authorization": f"Bearer {token_for(w['user'], w['tech'])}"}
            drivers = await fleet(conn, w["territory"], args.technicians)
            server = in_process(settings) if args.in_process else api_processes(dsn, settings, args.api)
            async with (
                server as bases,
                httpx.AsyncClient(base_url=bases[0], headers=headers, timeout=30) as client,
            ):
                for size, lanes in zip((1, 50), map(int, args.lanes.split(",")), strict=True):
                    total = args.pings if size == 1 else args.pings * 5
                    before = await page_events(conn)
                    await ingest(bases, drivers, size, total, lanes)
                    written = await page_events(conn) - before
                    print(
                        f"  with them {written} job events for the customers' pages (ETA moved a minute,"
                        f" 200 m closer): {written * 1000 / total:.0f} per 1,000 pings"
                    )
                clock = [datetime.now(UTC) - timedelta(hours=2)]

                # 3. Ping to push: each ping moves the ETA past the threshold (alternating far and near).
                stop = asyncio.Event()
                async with Sender(KEYS.private_key, "mailto:bench@example.com") as sender:
                    delivering = asyncio.create_task(
                        run(pool, sender, WorkerSettings(allow_insecure=True), stop=stop, dsn=dsn)
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
                        stats = (await probe.get("/stats", params={"until": before + 1, "timeout": 1})).json()
                        if stats["received"] > before:
                            latencies.append(stats["arrivals"][-1][1] - t0)
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
