"""A working day on one host, deployed as in production, under load and (optionally) faults.

PostgreSQL, two API processes on their own ports, two push workers and a local push service run
as separate processes over the demo company. For `--duration` seconds the dispatcher books jobs,
each is matched, a customer follows it (a live stream on the API process that did not book it,
and a push subscription), a fifth are reassigned by the dispatcher, and the technician works it
through (dispatched, on the way with pings, on site, completed), retrying on failure with the
same Idempotency-Key as a phone on a flaky network would. Idle technicians ping too.

At the end it checks that every job's events are complete and in order, that every customer
message was delivered exactly once per subscription (and arrived at the push service), and that
no live listener missed an event; it prints throughput and latency percentiles per kind of
request, and each process's memory over the run.

With `--faults`: PostgreSQL is restarted at 35% of the run, one worker is killed with SIGKILL at
55%, and the push service is down for 5 s at 65%.

    python -m tests.bench.working_day [--duration 60] [--jobs-per-s 1.0] [--faults]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import os
import random
import shutil
import signal
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx
import jwt
import numpy as np
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from dispatch.demo import seed_demo
from dispatch.tracking.tracking_view import CUSTOMER_EVENTS
from infra.db import connect, migrate
from infra.local_postgres import LocalPostgres
from notifications.webpush import generate_vapid_keys
from tests.bench.common import SECRET
from tests.live_server import free_port

STATUSES = ["dispatched", "en_route", "on_site", "completed"]


def token(user: UUID, role: str, technician: UUID | None = None) -> str:
    now = datetime.now(UTC)
    claims = {
        "sub": str(user),
        "iat": int(now.timestamp()),
        "exp": int((now + timedelta(hours=4)).timestamp()),
        "extras": {
            "role": role,
            "technician_id": str(technician) if technician else None,
            "territory_id": None,
        },
    }
    return jwt.encode(claims, SECRET, algorithm="HS256")


def browser_keys() -> dict[str, str]:
    key = ec.generate_private_key(ec.SECP256R1()).public_key()
    raw = key.public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    return {
        "p256dh": base64.urlsafe_b64encode(raw).rstrip(b"=").decode(),
        "auth": base64.urlsafe_b64encode(os.urandom(16)).rstrip(b"=").decode(),
    }


@dataclass
class Stats:
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    statuses: dict[str, dict[int, int]] = field(default_factory=lambda: defaultdict(lambda: defaultdict(int)))
    unavailable: int = 0  # 503s and refused connections, retried
    first_errors: dict[str, str] = field(default_factory=dict)  # kind and status -> first answer
    gave_up: list[str] = field(default_factory=list)


class Api:
    """The clients' side: two API processes, retries as a phone would make them."""

    def __init__(self, bases: list[str], stats: Stats) -> None:
        self.clients = [httpx.AsyncClient(base_url=b, timeout=30) for b in bases]
        self.stats = stats

    async def call(
        self, kind: str, method: str, path: str, *, side: int, headers: dict[str, str], json: Any = None
    ) -> httpx.Response | None:
        """Retry 503s and lost connections for up to 60 s, with the same headers (and so the same
        Idempotency-Key): what was accepted once is never done twice."""
        deadline = time.monotonic() + 60
        while True:
            began = time.perf_counter()
            try:
                response = await self.clients[side].request(method, path, headers=headers, json=json)
            except httpx.TransportError:
                response = None
            took = time.perf_counter() - began
            if response is not None and response.status_code != 503:
                self.stats.latencies[kind].append(took)
                self.stats.statuses[kind][response.status_code] += 1
                if response.status_code >= 400:
                    self.stats.first_errors.setdefault(f"{kind} {response.status_code}", response.text[:300])
                return response
            self.stats.unavailable += 1
            if time.monotonic() > deadline:
                self.stats.gave_up.append(f"{kind} {path}")
                return None
            await asyncio.sleep(0.5 + random.random())

    async def close(self) -> None:
        for client in self.clients:
            await client.aclose()


@dataclass
class Listener:
    job_id: UUID
    start_id: int = 0
    received: list[int] = field(default_factory=list)
    reconnects: int = 0


async def listen(base: str, link: str, listener: Listener, stop: asyncio.Event) -> None:
    """A customer's page: follows the job's stream, reconnecting with Last-Event-ID, until the
    job is completed (so the number of open streams stays level through the day)."""
    last = "0"  # from the job's first event: the check expects every one
    async with httpx.AsyncClient(base_url=base, timeout=httpx.Timeout(10, read=None)) as http:
        while not stop.is_set():
            try:
                headers = {"Last-Event-ID": last}
                async with http.stream("GET", f"/track/{link}/events", headers=headers) as response:
                    if response.status_code != 200:
                        raise httpx.TransportError(f"status {response.status_code}")
                    fields: dict[str, str] = {}
                    async for line in response.aiter_lines():
                        if stop.is_set():
                            return
                        if line == "":
                            if "id" in fields:
                                listener.received.append(int(fields["id"]))
                                last = fields["id"]
                                if '"completed"' in fields.get("data", ""):
                                    return  # the customer closes the page once the job is done
                            fields = {}
                        elif not line.startswith(":"):
                            name, _, value = line.partition(":")
                            fields[name] = value.strip()
            except (httpx.TransportError, httpx.HTTPError):
                pass
            listener.reconnects += 1
            await asyncio.sleep(0.5)


@dataclass
class World:
    dispatcher: dict[str, str]
    technicians: dict[UUID, dict[str, str]]  # technician id -> headers
    homes: dict[UUID, tuple[float, float]]
    sites: list[tuple[UUID, float, float]]
    problems: list[str]


async def load_world(dsn: str) -> World:
    conn = await connect(dsn)
    try:
        dispatcher = await conn.fetchval("SELECT id FROM users WHERE role = 'dispatcher'")
        techs = await conn.fetch(
            "SELECT u.id AS user_id, t.id, t.home_latitude, t.home_longitude FROM users u"
            " JOIN technicians t ON t.id = u.technician_id"
        )
        sites = await conn.fetch("SELECT id, latitude, longitude FROM sites ORDER BY id LIMIT 300")
        problems = [r["code"] for r in await conn.fetch("SELECT code FROM problems")]
    finally:
        await conn.close()
    return World(
        dispatcher={"Authorization": f"Bearer {token(dispatcher, 'dispatcher')}"},
        technicians={
            r["id"]: {"Authorization": f"Bearer {token(r['user_id'], 'technician', r['id'])}"} for r in techs
        },
        homes={r["id"]: (r["home_latitude"], r["home_longitude"]) for r in techs},
        sites=[(r["id"], r["latitude"], r["longitude"]) for r in sites],
        problems=problems,
    )


@dataclass
class Journey:
    job_id: UUID | None = None
    technician: UUID | None = None
    listener: Listener | None = None
    completed: bool = False
    reassigned: bool = False


class Day:
    def __init__(self, api: Api, world: World, bases: list[str], push_base: str, stop: asyncio.Event) -> None:
        self.api, self.world, self.bases, self.push_base, self.stop = api, world, bases, push_base, stop
        self.locks: dict[UUID, asyncio.Lock] = defaultdict(asyncio.Lock)
        self.busy: set[UUID] = set()
        self.journeys: list[Journey] = []
        self.listening: list[asyncio.Task[None]] = []
        self.stop_listening = asyncio.Event()

    async def journey(self, number: int) -> None:
        j = Journey()
        self.journeys.append(j)
        side = number % 2
        site_id, lat, lon = random.choice(self.world.sites)
        now = datetime.now(UTC)
        created = await self.api.call(
            "book a job",
            "POST",
            "/jobs",
            side=side,
            headers={**self.world.dispatcher, "Idempotency-Key": str(uuid.uuid4())},
            json={
                "site_id": str(site_id),
                "problem_code": random.choice(self.world.problems),
                "duration_s": 1800,
                "window_start_at": (now + timedelta(minutes=30)).isoformat(),
                "window_end_at": (now + timedelta(hours=4)).isoformat(),
                "external_id": f"day-{number}-{uuid.uuid4().hex[:8]}",
            },
        )
        if created is None or created.status_code != 201:
            return
        j.job_id = UUID(created.json()["id"])
        matched = await self.api.call(
            "match",
            "POST",
            f"/jobs/{j.job_id}/assignment",
            side=side,
            headers=self.world.dispatcher,
            json={"auto": True},
        )
        if matched is None or matched.status_code != 200:
            return
        j.technician = UUID(matched.json()["job"]["technician_id"])
        link = await self.api.call(
            "tracking link",
            "POST",
            f"/jobs/{j.job_id}/tracking-links",
            side=side,
            headers=self.world.dispatcher,
        )
        if link is None or link.status_code != 201:
            return
        token_ = link.json()["token"]
        # The customer: a push subscription, and the page open on the other API process.
        await self.api.call(
            "subscribe",
            "POST",
            f"/track/{token_}/subscriptions",
            side=1 - side,
            headers={},
            json={"endpoint": f"{self.push_base}/push/{j.job_id}", "keys": browser_keys()},
        )
        view = await self.api.call("customer view", "GET", f"/track/{token_}", side=1 - side, headers={})
        j.listener = Listener(j.job_id, start_id=0)
        self.listening.append(
            asyncio.create_task(listen(self.bases[1 - side], token_, j.listener, self.stop_listening))
        )
        del view
        if random.random() < 0.2:
            await self.reassign(j, side)
        await self.work(j, lat, lon)

    async def reassign(self, j: Journey, side: int) -> None:
        ranked = await self.api.call(
            "candidates", "GET", f"/jobs/{j.job_id}/candidates", side=side, headers=self.world.dispatcher
        )
        current = await self.api.call(
            "read a job", "GET", f"/jobs/{j.job_id}", side=side, headers=self.world.dispatcher
        )
        if ranked is None or current is None or ranked.status_code != 200:
            return
        others = [
            c["technician_id"]
            for c in ranked.json()["candidates"]
            if UUID(c["technician_id"]) != j.technician
        ]
        if not others:
            return
        moved = await self.api.call(
            "reassign",
            "POST",
            f"/jobs/{j.job_id}/reassign",
            side=side,
            headers={**self.world.dispatcher, "If-Match": current.headers["ETag"]},
            json={"technician_id": others[0], "reason": "Closer after a cancellation"},
        )
        if moved is not None and moved.status_code == 200:
            j.technician = UUID(others[0])
            j.reassigned = True

    async def work(self, j: Journey, lat: float, lon: float) -> None:
        assert j.technician is not None
        headers = self.world.technicians[j.technician]
        side = random.randrange(2)
        async with self.locks[j.technician]:  # one job at a time, as a technician works
            self.busy.add(j.technician)
            try:
                for status in STATUSES:
                    # The dispatcher releases the job to the van; the technician reports the rest.
                    who = self.world.dispatcher if status == "dispatched" else headers
                    key = {"Idempotency-Key": str(uuid.uuid4())}
                    body = {"status": status, "client_at": datetime.now(UTC).isoformat()}
                    sent = await self.api.call(
                        "status",
                        "POST",
                        f"/jobs/{j.job_id}/status",
                        side=side,
                        headers={**who, **key},
                        json=body,
                    )
                    if sent is None or sent.status_code != 200:
                        return
                    if random.random() < 0.1:  # the answer was lost on the way: the phone sends it again
                        await self.api.call(
                            "status (retried)",
                            "POST",
                            f"/jobs/{j.job_id}/status",
                            side=1 - side,
                            headers={**who, **key},
                            json=body,
                        )
                    if status == "en_route":
                        await self.drive(j.technician, lat, lon, side)
                j.completed = True
            finally:
                self.busy.discard(j.technician)

    async def drive(self, technician: UUID, lat: float, lon: float, side: int) -> None:
        home = self.world.homes[technician]
        for step in range(1, 6):
            f = step / 5
            await asyncio.sleep(0.3)
            await self.ping(technician, home[0] + (lat - home[0]) * f, home[1] + (lon - home[1]) * f, side)

    async def ping(self, technician: UUID, lat: float, lon: float, side: int) -> None:
        body = {
            "pings": [
                {
                    "recorded_at": datetime.now(UTC).isoformat(),
                    "latitude": lat,
                    "longitude": lon,
                    "accuracy_m": 8,
                }
            ]
        }
        await self.api.call(
            "ping",
            "POST",
            "/technicians/me/positions",
            side=side,
            headers=self.world.technicians[technician],
            json=body,
        )

    async def idle_pings(self) -> None:
        """Technicians between jobs send their position every 2 s."""
        while not self.stop.is_set():
            pings = [
                self.ping(tech, lat + random.uniform(-1e-4, 1e-4), lon, random.randrange(2))
                for tech, (lat, lon) in self.world.homes.items()
                if tech not in self.busy
            ]
            await asyncio.gather(asyncio.sleep(2), *pings)


async def spawn(*args: str, env: dict[str, str]) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(sys.executable, *args, env=env)


async def wait_up(url: str) -> None:
    async with httpx.AsyncClient() as probe:
        for _ in range(600):
            try:
                if (await probe.get(url)).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.05)
    raise RuntimeError(f"{url} did not come up")


def rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def pct(samples: list[float]) -> str:
    ms = np.asarray(samples) * 1000
    p50, p95, p99 = np.percentile(ms, [50, 95, 99])
    return f"p50 {p50:6.1f}  p95 {p95:6.1f}  p99 {p99:6.1f} ms"


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of booking (default 60)")
    parser.add_argument("--jobs-per-s", type=float, default=1.0)
    parser.add_argument(
        "--faults", action="store_true", help="restart PostgreSQL, kill a worker, stop the push service"
    )
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    random.seed(args.seed)

    base_dir = Path(tempfile.mkdtemp(prefix="truckroll-day-"))
    os.chmod(base_dir, 0o755)  # noqa: S103 - the postgres user must enter it when we run as root
    pg = LocalPostgres(base_dir / "pg", fast_unsafe=True)
    pg.start()
    processes: dict[str, asyncio.subprocess.Process] = {}
    try:
        conn = await connect(pg.dsn())
        await migrate(conn)
        print("seeding the demo company...", flush=True)
        await seed_demo(conn)
        await conn.close()
        keys = generate_vapid_keys()
        env = {
            **os.environ,
            "DATABASE_URL": pg.dsn(),
            "TRUCKROLL_DATA_DIR": str(base_dir / "data"),
            "TRUCKROLL_JWT_SECRET": SECRET,
            "TRUCKROLL_LOG_LEVEL": "ERROR",
            "TRUCKROLL_VAPID_PRIVATE_KEY": keys.private_key,
            "TRUCKROLL_VAPID_PUBLIC_KEY": keys.public_key,
            "TRUCKROLL_PUSH_ALLOW_INSECURE": "1",
            # The workers' 5 s lease (a killed one's rows return quickly) needs sends of at most 4 s.
            "TRUCKROLL_PUSH_TIMEOUT_S": "4",
        }
        push_port = free_port()
        push_base = f"http://127.0.0.1:{push_port}"
        processes["push service"] = await spawn("-m", "tests.bench.push_service", str(push_port), env=env)
        ports = [free_port(), free_port()]
        for i, port in enumerate(ports):
            processes[f"api {i + 1}"] = await spawn(
                "-m", "api.cli", "serve", "--port", str(port), "--skip-migrations", env=env
            )
        for i in range(2):
            processes[f"worker {i + 1}"] = await spawn(
                "-m", "api.cli", "worker", "--skip-migrations", "--lease-s", "5", env=env
            )
        bases = [f"http://127.0.0.1:{p}" for p in ports]
        for url in [f"{b}/ready" for b in bases] + [f"{push_base}/stats"]:
            await wait_up(url)
        world = await load_world(pg.dsn())
        stats = Stats()
        api = Api(bases, stats)
        stop = asyncio.Event()
        day = Day(api, world, bases, push_base, stop)
        memory: dict[str, list[float]] = defaultdict(list)
        received_before_restart: dict[str, int] = {}

        async def sample_memory() -> None:
            while not stop.is_set():
                for name, process in processes.items():
                    memory[name].append(rss_mb(process.pid))
                await asyncio.sleep(1)

        async def at(fraction: float, what: Callable[[], Awaitable[None]]) -> None:
            await asyncio.sleep(args.duration * fraction)
            await what()

        async def restart_postgres() -> None:
            print(f"{time.strftime('%X')} fault: restarting PostgreSQL", flush=True)
            await asyncio.to_thread(pg.stop)
            await asyncio.sleep(3)
            await asyncio.to_thread(pg.start)

        async def kill_worker() -> None:
            print(f"{time.strftime('%X')} fault: SIGKILL worker 1", flush=True)
            processes["worker 1"].send_signal(signal.SIGKILL)

        async def push_service_outage() -> None:
            nonlocal received_before_restart
            print(f"{time.strftime('%X')} fault: push service down for 5 s", flush=True)
            async with httpx.AsyncClient() as probe:
                received_before_restart = (await probe.get(f"{push_base}/counts")).json()
            processes["push service"].terminate()
            await processes["push service"].wait()
            await asyncio.sleep(5)
            processes["push service"] = await spawn("-m", "tests.bench.push_service", str(push_port), env=env)

        began = time.monotonic()
        background = [asyncio.create_task(sample_memory()), asyncio.create_task(day.idle_pings())]
        if args.faults:
            background += [
                asyncio.create_task(at(0.35, restart_postgres)),
                asyncio.create_task(at(0.55, kill_worker)),
                asyncio.create_task(at(0.65, push_service_outage)),
            ]
        journeys = []
        number = 0
        while time.monotonic() - began < args.duration:
            journeys.append(asyncio.create_task(day.journey(number)))
            number += 1
            await asyncio.sleep(random.expovariate(args.jobs_per_s))
        print(f"{time.strftime('%X')} booking stopped; finishing the jobs under way", flush=True)
        await asyncio.wait(journeys, timeout=120)
        elapsed = time.monotonic() - began
        stop.set()
        for task in background:
            task.cancel()
        # Let the outbox drain before counting deliveries.
        conn = await connect(pg.dsn())
        for _ in range(240):
            pending = await conn.fetchval(
                "SELECT (SELECT count(*) FROM outbox WHERE sent_at IS NULL AND failed_at IS NULL)"
                " + (SELECT count(*) FROM push_deliveries WHERE status = 'pending')"
            )
            if not pending:
                break
            await asyncio.sleep(0.5)
        await asyncio.sleep(2)  # the last SSE events reach their listeners
        day.stop_listening.set()
        for task in day.listening:
            task.cancel()
        await api.close()
        async with httpx.AsyncClient() as probe:
            counts = (await probe.get(f"{push_base}/counts")).json()
        for path, n in received_before_restart.items():
            counts[path] = counts.get(path, 0) + n
        await report(conn, day, stats, counts, memory, elapsed, args)
        await conn.close()
    finally:
        for process in processes.values():
            if process.returncode is None:
                process.terminate()
        for process in processes.values():
            await process.wait()
        pg.stop()
        shutil.rmtree(base_dir, ignore_errors=True)


async def report(
    conn: Any,
    day: Day,
    stats: Stats,
    counts: dict[str, int],
    memory: dict[str, list[float]],
    elapsed: float,
    args: argparse.Namespace,
) -> None:
    booked = [j for j in day.journeys if j.job_id is not None]
    done = [j for j in booked if j.completed]
    problems: list[str] = []
    # 1. Every job's events complete and in order.
    for j in done:
        rows = await conn.fetch(
            "SELECT id, kind, to_status, occurred_at FROM job_events WHERE job_id = $1 ORDER BY id", j.job_id
        )
        statuses = [r["to_status"] for r in rows if r["kind"] == "status"]
        if statuses != STATUSES:
            problems.append(f"job {j.job_id}: status events {statuses}")
        times = [r["occurred_at"] for r in rows]
        if times != sorted(times):
            problems.append(f"job {j.job_id}: events out of order")
        final = await conn.fetchval("SELECT status FROM jobs WHERE id = $1", j.job_id)
        if final != "completed":
            problems.append(f"job {j.job_id}: ended {final}")
    # 2. Every customer message delivered exactly once per subscription.
    ids = [j.job_id for j in booked]
    pairs = await conn.fetch(
        """
        SELECT o.id AS outbox_id, s.id AS subscription_id, s.endpoint,
               count(d.id) AS deliveries, count(d.id) FILTER (WHERE d.status = 'sent') AS sent
        FROM outbox o JOIN push_subscriptions s ON s.job_id = o.job_id
        LEFT JOIN push_deliveries d ON d.outbox_id = o.id AND d.subscription_id = s.id
        WHERE o.audience = 'customer' AND o.job_id = ANY($1::uuid[]) AND s.created_at <= o.created_at
        GROUP BY o.id, s.id, s.endpoint
        """,
        ids,
    )
    not_once = [p for p in pairs if p["deliveries"] != 1 or p["sent"] != 1]
    if not_once:
        problems.append(f"{len(not_once)} of {len(pairs)} customer messages not delivered exactly once")
    sent_per_endpoint: dict[str, int] = defaultdict(int)
    for row in await conn.fetch(
        "SELECT endpoint, count(*) AS sent FROM push_deliveries WHERE status = 'sent' GROUP BY endpoint"
    ):
        sent_per_endpoint["/" + row["endpoint"].split("/", 3)[3]] += row["sent"]
    arrived_short = sum(max(0, n - counts.get(path, 0)) for path, n in sent_per_endpoint.items())
    arrived_twice = sum(max(0, counts.get(path, 0) - n) for path, n in sent_per_endpoint.items())
    if arrived_short:
        problems.append(f"{arrived_short} messages recorded as sent never reached the push service")
    # 3. No live listener missed an event.
    missed = 0
    listeners = [j.listener for j in booked if j.listener is not None]
    for listener in listeners:
        expected = {
            r["id"]
            for r in await conn.fetch("SELECT id, kind FROM job_events WHERE job_id = $1", listener.job_id)
            if r["kind"] in CUSTOMER_EVENTS
        }
        got = set(listener.received)
        if listener.received and expected - got:
            missed += len(expected - got)
        if len(listener.received) != len(got):
            problems.append(f"job {listener.job_id}: a listener got an event twice")
    if missed:
        problems.append(f"live listeners missed {missed} events")
    heard = sum(1 for listener in listeners if listener.received)

    total = sum(len(v) for v in stats.latencies.values())
    print()
    print(
        f"working day: {elapsed:.0f} s, {len(booked)} jobs booked, {len(done)} completed,"
        f" {sum(j.reassigned for j in booked)} reassigned; {total} requests = {total / elapsed:.0f}/s"
        f" over 2 API processes; 2 workers; faults: {'yes' if args.faults else 'no'}"
    )
    print(f"{'request':18} {'count':>6}  latency                                  statuses")
    for kind in sorted(stats.latencies):
        codes = ", ".join(f"{c}×{n}" for c, n in sorted(stats.statuses[kind].items()))
        print(f"{kind:18} {len(stats.latencies[kind]):6d}  {pct(stats.latencies[kind])}   {codes}")
    print(f"503s or lost connections retried: {stats.unavailable}; given up: {len(stats.gave_up)}")
    for what, answer in sorted(stats.first_errors.items()):
        print(f"  first {what}: {answer}")
    print(
        f"customer messages: {len(pairs)} (message × subscription), {len(pairs) - len(not_once)} delivered"
        f" exactly once; arrivals at the push service beyond one per delivery: {arrived_twice}"
    )
    reconnects = sum(listener.reconnects for listener in listeners)
    print(
        f"live listeners: {len(listeners)}, {heard} heard events, {reconnects} reconnects,"
        f" {missed} events missed"
    )
    print("memory (RSS MB): process, first quarter of the second half -> last quarter")
    for name, samples in memory.items():
        n = len(samples)
        a, b = samples[n // 2 : 3 * n // 4], samples[3 * n // 4 :]
        if a and b and not np.isnan(b).all():  # (a killed worker has no figures after)
            growth = (np.nanmean(b) - np.nanmean(a)) / np.nanmean(a) * 100
            print(f"  {name:13} {np.nanmean(a):7.1f} -> {np.nanmean(b):7.1f}  ({growth:+.1f}%)")
    print("checks:", "all passed" if not problems else "FAILED")
    for problem in problems[:20]:
        print("  -", problem)
    if problems:
        raise SystemExit(1)


if __name__ == "__main__":
    asyncio.run(main())
