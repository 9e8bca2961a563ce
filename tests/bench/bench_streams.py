"""Live tracking streams over a busy history, measured on this machine:

1. the API process's memory (RSS) with `--streams` tracking pages open, each on a job whose last
   event is older than a history of `--events` other job events (written set-wise, one INSERT of
   generate_series), and how long the next event of each job takes to reach its page;
2. the API's RSS before and after `--anonymous` anonymous requests resuming from
   `Last-Event-ID: 0` (each on a job with an event before and one after the history), held open
   as an attacker would, and how long /health takes meanwhile.

    python -m tests.bench.bench_streams [--events 3000000] [--streams 100] [--rounds 5]
                                        [--anonymous 5] [--code DIR] [--rss-limit-mb 6000]

The API runs as its own process (`truckroll serve`), so its RSS is the server's alone. `--code DIR`
serves another checkout of the code (say, the one before a change) on the same history; the API
is killed if its RSS passes `--rss-limit-mb`, since this machine is shared.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from uuid import UUID

import httpx

from infra.db import Connection, connect
from tests.bench.common import SECRET, percentiles, scratch_database
from tests.live_server import free_port

HISTORY_JOBS = 1000


@dataclass
class World:
    tracked: list[tuple[UUID, str]]  # job, link token: the ordinary open pages
    resumed: list[tuple[UUID, str]]  # job, link token: the anonymous Last-Event-ID: 0 requests
    written_s: float


async def build(dsn: str, *, events: int, streams: int, anonymous: int) -> World:
    conn = await connect(dsn)
    try:
        began = time.monotonic()
        territory = await conn.fetchval(
            "INSERT INTO territories (name, timezone) VALUES ('Bench', 'America/Chicago') RETURNING id"
        )
        await conn.execute(
            """
            INSERT INTO sites (address_line, city, postal_code, address_key, latitude, longitude,
                               territory_id)
            SELECT g || ' Elm Street', 'Minneapolis', '55401', g || ' elm street|minneapolis|55401',
                   44.9 + g * 1e-5, -93.2, $1
            FROM generate_series(1, $2) g
            """,
            territory,
            streams + anonymous + HISTORY_JOBS,
        )
        jobs: list[UUID] = [
            r["id"]
            for r in await conn.fetch(
                """
                INSERT INTO jobs (site_id, problem_code, duration_s, window_start_at, window_end_at)
                SELECT id, 'broken_spring', 3600, now() + interval '1 day', now() + interval '1 day 2 hours'
                FROM sites ORDER BY address_line
                RETURNING id
                """
            )
        ]
        followed, history = jobs[: streams + anonymous], jobs[streams + anonymous :]
        # Every followed job's first event, then the busy history of other jobs, then one more event
        # for each job resumed from 0: its two events are the whole history apart.
        await conn.execute(
            "INSERT INTO job_events (job_id, kind) SELECT unnest($1::uuid[]), 'created'", followed
        )
        await conn.execute(
            """
            INSERT INTO job_events (job_id, kind)
            SELECT ($1::uuid[])[1 + g % cardinality($1::uuid[])], 'note' FROM generate_series(0, $2 - 1) g
            """,
            history,
            events,
        )
        await conn.execute(
            "INSERT INTO job_events (job_id, kind) SELECT unnest($1::uuid[]), 'assigned'", followed[streams:]
        )
        links = [(job_id, secrets.token_urlsafe(32)) for job_id in followed]
        await conn.executemany(
            "INSERT INTO tracking_tokens (job_id, token_hash, expires_at)"
            " VALUES ($1, $2, now() + interval '30 days')",
            [(job_id, hashlib.sha256(token.encode()).digest()) for job_id, token in links],
        )
        await conn.execute("ANALYZE")
        return World(links[:streams], links[streams:], time.monotonic() - began)
    finally:
        await conn.close()


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for {pid}")


@dataclass
class Api:
    process: subprocess.Popen[bytes]
    base_url: str
    limit_mb: float
    peak_mb: float = 0.0
    killed: bool = False

    def rss(self) -> float:
        now = rss_mb(self.process.pid)
        self.peak_mb = max(self.peak_mb, now)
        return now

    async def guard(self) -> None:
        while self.process.poll() is None:
            if self.rss() > self.limit_mb:
                self.killed = True
                self.process.kill()
                return
            await asyncio.sleep(0.2)


def serve(dsn: str, code: Path | None, data_dir: Path, port: int) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "DATABASE_URL": dsn,
        "TRUCKROLL_DATA_DIR": str(data_dir),
        "TRUCKROLL_JWT_SECRET": SECRET,
        "TRUCKROLL_LOG_LEVEL": "WARNING",
        "TRUCKROLL_RISK_SCAN_S": "0",
    }
    if code is not None:
        env["PYTHONPATH"] = str(code)
    command = [sys.executable, "-m", "api.cli", "serve", "--port", str(port), "--skip-migrations"]
    return subprocess.Popen(command, env=env, cwd=code)


@dataclass
class Page:
    """One open tracking stream, and when each of its events arrived."""

    arrived: dict[int, float] = field(default_factory=dict)
    listening: asyncio.Event = field(default_factory=asyncio.Event)
    heard: asyncio.Event = field(default_factory=asyncio.Event)


async def follow(http: httpx.AsyncClient, token: str, page: Page, headers: dict[str, str]) -> None:
    async with http.stream("GET", f"/track/{token}/events", headers=headers) as response:
        event_id: int | None = None
        async for line in response.aiter_lines():
            if line.startswith(": listening"):
                page.listening.set()
            elif line.startswith("id:"):
                event_id = int(line[3:])
            elif not line and event_id is not None:
                page.arrived[event_id] = time.monotonic()
                page.heard.set()
                event_id = None


async def wait_all(pages: list[Page], until: float, arrived_after: int | None = None) -> bool:
    while time.monotonic() < until:
        if all(any(i > (arrived_after or -1) for i in p.arrived) for p in pages):
            return True
        await asyncio.sleep(0.005)
    return False


async def measure(args: argparse.Namespace) -> None:
    async with scratch_database() as dsn:
        world = await build(dsn, events=args.events, streams=args.streams, anonymous=args.anonymous)
        print(
            f"history: {args.events:,} job events of {HISTORY_JOBS} other jobs between each followed job's"
            f" events, written in {world.written_s:.1f} s"
        )
        port = free_port()
        code: Path | None = args.code
        data_dir = Path(tempfile.mkdtemp(prefix="truckroll-bench-api-"))
        api = Api(serve(dsn, code, data_dir, port), f"http://127.0.0.1:{port}", args.rss_limit_mb)
        limits = httpx.Limits(max_connections=args.streams + args.anonymous + 20)
        tasks: list[asyncio.Task[None]] = []
        try:
            async with httpx.AsyncClient(
                base_url=api.base_url, timeout=httpx.Timeout(60, read=None), limits=limits
            ) as http:
                await started(http, api)
                guard = asyncio.create_task(api.guard())
                await http.get(f"/track/{world.tracked[0][1]}")
                print(f"code: {code or 'this checkout'}")
                print(f"API RSS idle: {api.rss():.0f} MB")
                await tracking_pages(http, api, world, args, tasks, dsn)
                await resumed_from_zero(http, api, world, args, tasks)
                guard.cancel()
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            if api.process.poll() is None:
                api.process.send_signal(signal.SIGTERM)
                try:
                    api.process.wait(20)
                except subprocess.TimeoutExpired:
                    api.process.kill()
            shutil.rmtree(data_dir, ignore_errors=True)
        print(f"API RSS peak: {api.peak_mb:.0f} MB" + (" (killed at the limit)" if api.killed else ""))


async def started(http: httpx.AsyncClient, api: Api) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if (await http.get("/health")).status_code == 200:
                return
        except httpx.TransportError:
            pass
        await asyncio.sleep(0.2)
    raise RuntimeError("the API did not start")


async def tracking_pages(
    http: httpx.AsyncClient,
    api: Api,
    world: World,
    args: argparse.Namespace,
    tasks: list[asyncio.Task[None]],
    dsn: str,
) -> None:
    pages = [Page() for _ in world.tracked]
    for (_, token), page in zip(world.tracked, pages, strict=True):
        tasks.append(asyncio.create_task(follow(http, token, page, {})))
    await asyncio.wait_for(asyncio.gather(*(p.listening.wait() for p in pages)), 120)
    await asyncio.sleep(2)
    print(f"API RSS with {len(pages)} tracking pages open: {api.rss():.0f} MB")
    conn: Connection = await connect(dsn)
    try:
        firsts: list[float] = []
        others: list[float] = []
        for round_no in range(args.rounds):
            before = await conn.fetchval("SELECT max(id) FROM job_events")
            await conn.execute(
                "INSERT INTO job_events (job_id, kind) SELECT unnest($1::uuid[]), 'status'",
                [job_id for job_id, _ in world.tracked],
            )
            committed = time.monotonic()
            if not await wait_all(pages, committed + args.timeout_s, before) or api.killed:
                print(f"round {round_no + 1}: not every page heard its event within {args.timeout_s:.0f} s")
                break
            delays = [min(t for i, t in p.arrived.items() if i > before) - committed for p in pages]
            (firsts if round_no == 0 else others).extend(delays)
            print(f"  after event {round_no + 1}: API RSS {api.rss():.0f} MB")
            await asyncio.sleep(1)
        if firsts:
            print(
                f"next event to reach {len(pages)} pages, the first after the history: {percentiles(firsts)}"
            )
        if others:
            print(f"next event to reach {len(pages)} pages, later ones: {percentiles(others)}")
    finally:
        await conn.close()


async def resumed_from_zero(
    http: httpx.AsyncClient, api: Api, world: World, args: argparse.Namespace, tasks: list[asyncio.Task[None]]
) -> None:
    before_mb = api.rss()
    pages = [Page() for _ in world.resumed]
    began = time.monotonic()
    for (_, token), page in zip(world.resumed, pages, strict=True):
        tasks.append(asyncio.create_task(follow(http, token, page, {"Last-Event-ID": "0"})))
    health: list[float] = []
    while time.monotonic() - began < args.timeout_s and not api.killed:
        asked = time.monotonic()
        await http.get("/health")
        health.append(time.monotonic() - asked)
        if all(len(p.arrived) >= 2 for p in pages):
            break
        await asyncio.sleep(0.05)
    caught_up = time.monotonic() - began
    await asyncio.sleep(2)
    print(
        f"{len(pages)} anonymous Last-Event-ID: 0 requests: API RSS {before_mb:.0f} MB before,"
        f" {api.rss():.0f} MB after (held open); both events of each job sent in {caught_up:.2f} s;"
        f" /health meanwhile {percentiles(health)}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=3_000_000)
    parser.add_argument("--streams", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--anonymous", type=int, default=5)
    parser.add_argument("--code", help="serve the API from this checkout instead")
    parser.add_argument("--rss-limit-mb", type=float, default=6000)
    parser.add_argument("--timeout-s", type=float, default=120)
    args = parser.parse_args()
    args.code = Path(args.code).resolve() if args.code else None
    asyncio.run(measure(args))


if __name__ == "__main__":
    main()
