"""The day optimizer on field-service days like the demo's (skills with levels, likely parts and
vans that carry them, breaks, pins), on a real database:

1. 1,000 jobs for 100 technicians: booked one by one with auto-assignment (matching, over
   HTTP, as a dispatcher clearing a queue), then planned whole by the optimizer; driving time
   and promises broken of each, from the same travel matrix.
2. 2,000 jobs for 200 technicians in two territories, solved side by side: wall time.
3. Re-plan after one new job in a 20-job, 5-technician day: latency, reading the day included.

    python -m tests.bench.bench_optimizer [--time-limit 30] [--replans 20]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import random
import tempfile
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path
from uuid import UUID

import httpx

from api.app import create_app
from dispatch.planning.day_planning import REPLAN_PATIENCE, current_plan, kpis, load_day, solve_and_check
from infra.db import Connection, connect
from infra.settings import Settings
from tests.bench.common import SECRET, dispatcher_token, percentiles, scratch_database
from tests.bench.fleet import CENTRE, Fleet, local, make_fleet, store
from tests.live_server import serving


async def jobs_for(conn: Connection, fleet: Fleet, count: int, rng: random.Random) -> list[UUID]:
    """Half-hour jobs across the territory in two-hour windows. One in three likely needs a
    spring, which every van carries (three to six); one in twenty an opener board, which two
    vans in five carry (two each)."""
    spring, board = [
        await conn.fetchval(
            "INSERT INTO parts (sku, name) VALUES ($1, $2) RETURNING id",
            f"{name[:3]}-{rng.random():.8f}",
            name,
        )
        for name in ("Torsion spring", "Opener board")
    ]
    for n, tech in enumerate(fleet.technicians):
        stock = [(spring, rng.randint(3, 6))] + ([(board, 2)] if n % 5 < 2 else [])
        for part, units in stock:
            await conn.execute(
                "INSERT INTO stock_levels (location_id, part_id, quantity)"
                " SELECT id, $2, $3 FROM stock_locations WHERE technician_id = $1 AND kind = 'van'",
                tech.id,
                part,
                units,
            )
    customer = await conn.fetchval("INSERT INTO customers (name) VALUES ('Bench') RETURNING id")
    ids = []
    for i in range(count):
        point = fleet.point(rng, CENTRE, 25.0)
        start = local(fleet.day, rng.choice([8, 10, 12, 14]))
        site_id = await conn.fetchval(
            "INSERT INTO sites (territory_id, address_line, address_key, latitude, longitude)"
            " VALUES ($1, $2, $2, $3, $4) RETURNING id",
            fleet.territory_id,
            f"{i} Queue Street {fleet.territory_id}",
            *point,
        )
        job_id = await conn.fetchval(
            "INSERT INTO jobs (site_id, customer_id, problem_code, required_skills, duration_s,"
            " window_start_at, window_end_at) VALUES ($1, $2, 'broken_spring', $3, 1800, $4, $5)"
            " RETURNING id",
            site_id,
            customer,
            {"garage_door_springs": rng.choice([2, 2, 3, 4])},
            start,
            start + timedelta(hours=2),
        )
        for part, every, probability in ((spring, 3, 0.8), (board, 20, 0.7)):
            if i % every == 0:
                await conn.execute(
                    "INSERT INTO job_parts (job_id, part_id, quantity, probability, source)"
                    " VALUES ($1, $2, 1, $3, 'predicted')",
                    job_id,
                    part,
                    probability,
                )
        ids.append(job_id)
    return ids


async def with_vans(conn: Connection, fleet: Fleet) -> None:
    await store(conn, fleet)
    await conn.execute(
        "INSERT INTO stock_locations (kind, name, technician_id)"
        " SELECT 'van', 'Van of ' || name, id FROM technicians WHERE territory_id = $1",
        fleet.territory_id,
    )


async def compare_with_auto_assign(time_limit_s: float) -> None:
    fleet = make_fleet(100, 0, seed=2)
    rng = random.Random(8)
    async with scratch_database() as dsn:
        conn = await connect(dsn)
        await with_vans(conn, fleet)
        job_ids = await jobs_for(conn, fleet, 1000, rng)
        token = await dispatcher_token(conn)
        settings = Settings(
            database_url=dsn,
            data_dir=Path(tempfile.mkdtemp(prefix="truckroll-bench-data-")),
            jwt_secret=SECRET,
            log_level="WARNING",
        )
        app = create_app(settings)
        app.state.clock = lambda: local(fleet.day, 6)
        began = time.perf_counter()
        async with (
            serving(app) as base_url,
            httpx.AsyncClient(
                base_url=base_url, headers={"Authorization": f"Bearer {token}"}, timeout=30
            ) as client,
        ):
            for job_id in job_ids:
                response = await client.post(f"/jobs/{job_id}/assignment", json={"auto": True})
                if response.status_code != 409:
                    response.raise_for_status()
        assigning = time.perf_counter() - began
        # A few visits a dispatcher pinned to their technician.
        await conn.execute(
            "UPDATE jobs SET pinned = true WHERE id IN"
            " (SELECT id FROM jobs WHERE technician_id IS NOT NULL ORDER BY id LIMIT 20)"
        )
        now = local(fleet.day, 6)
        loaded = await load_day(conn, fleet.territory_id, fleet.day.date(), now=now)
        began = time.perf_counter()
        plan, violations = solve_and_check(loaded, time_limit_s, 1)
        solving = time.perf_counter() - began
        await conn.close()
    before, after = kpis(loaded, current_plan(loaded)), kpis(loaded, plan)
    jobs = len(loaded.problem.jobs)
    # A promise broken: a visit starting after its window, or a booked job with no technician.
    before_broken, after_broken = (jobs - k["promises_kept"] for k in (before, after))
    before_s, after_s = before["travel_s"], after["travel_s"]
    print(
        f"1. {len(loaded.problem.jobs)} jobs, {len(loaded.problem.technicians)} technicians"
        f" (skills, parts, breaks, 20 pins):"
    )
    print(
        f"   auto-assign one by one ({assigning:.0f} s): {before_s / 3600:.1f} h driving,"
        f" {before_broken} promises broken (late or no technician)"
    )
    print(
        f"   optimizer ({time_limit_s:g} s, took {solving:.1f} s): {after_s / 3600:.1f} h driving,"
        f" {after_broken} promises broken; rule violations: {dict(Counter(v.rule for v in violations))};"
        f" driving {100 * (before_s - after_s) / before_s:.1f}% less"
    )


async def two_territories(time_limit_s: float) -> None:
    rng = random.Random(5)
    async with scratch_database() as dsn:
        conn = await connect(dsn)
        fleets = [make_fleet(100, 0, seed=s) for s in (3, 4)]
        for fleet in fleets:
            await with_vans(conn, fleet)
            await jobs_for(conn, fleet, 1000, rng)
        now = local(fleets[0].day, 6)
        days = [await load_day(conn, f.territory_id, f.day.date(), now=now) for f in fleets]
        await conn.close()
    began = time.perf_counter()
    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(lambda d: solve_and_check(d, time_limit_s, 1), days))
    wall = time.perf_counter() - began
    planned = sum(sum(len(r.visits) for r in plan.routes) for plan, _ in results)
    print(
        f"2. 2,000 jobs, 200 technicians in two territories, solved side by side at {time_limit_s:g} s:"
        f" wall {wall:.1f} s; {planned} jobs planned;"
        f" rule violations: {dict(Counter(v.rule for _, found in results for v in found))}"
    )


async def replans(count: int) -> None:
    fleet = make_fleet(5, 4, seed=6)  # 5 technicians with 4 planned visits each: 20 jobs
    async with scratch_database() as dsn:
        conn = await connect(dsn)
        await with_vans(conn, fleet)
        rng = random.Random(9)
        now = local(fleet.day, 9)
        samples = []
        for _ in range(count):
            await jobs_for(conn, fleet, 1, rng)  # one new job arrives
            began = time.perf_counter()
            loaded = await load_day(conn, fleet.territory_id, fleet.day.date(), now=now, replan=True)
            _, violations = solve_and_check(loaded, 2.0, 1, REPLAN_PATIENCE)
            samples.append(time.perf_counter() - began)
            await conn.execute("DELETE FROM jobs WHERE technician_id IS NULL")
        await conn.close()
    print(
        f"3. re-plan after one new job, 20 jobs / 5 technicians, reading the day included, {count} times:"
        f" {percentiles(samples)}; last plan's violations: {len(violations)}"
    )


async def main() -> None:
    logging.getLogger("httpx").setLevel(logging.WARNING)
    parser = argparse.ArgumentParser()
    parser.add_argument("--time-limit", type=float, default=30.0)
    parser.add_argument("--replans", type=int, default=20)
    args = parser.parse_args()
    await replans(args.replans)
    await compare_with_auto_assign(args.time_limit)
    await two_territories(args.time_limit)


if __name__ == "__main__":
    asyncio.run(main())
