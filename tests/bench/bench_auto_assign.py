"""Auto-assign 1,000 jobs one by one across 200 technicians, through the HTTP API.

Each job is POSTed to /jobs/{id}/assignment with {"auto": true} in the order it was booked, as a
dispatcher clearing a queue would. Prints the total time, the latency per assignment, how many
found no technician, and the fleet's total road distance for the day (straight lines between the
stops in planned order times the territory's circuity), the figure the optimizer must beat.

    python -m tests.bench.bench_auto_assign [--technicians 200] [--jobs 1000]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import httpx
import numpy as np

from api.app import create_app
from dispatch.travel.sources import pairwise_m
from infra.db import connect
from infra.settings import Settings
from tests.bench.common import SECRET, dispatcher_token, percentiles, scratch_database
from tests.bench.fleet import CENTRE, local, make_fleet, store
from tests.live_server import serving

CIRCUITY = 1.3


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--technicians", type=int, default=200)
    parser.add_argument("--jobs", type=int, default=1000)
    args = parser.parse_args()
    fleet = make_fleet(args.technicians, 0, seed=2)
    rng = random.Random(8)
    async with scratch_database() as dsn:
        conn = await connect(dsn)
        await store(conn, fleet)
        token = await dispatcher_token(conn)
        customer = await conn.fetchval("INSERT INTO customers (name) VALUES ('Bench') RETURNING id")
        job_ids = []
        for i in range(args.jobs):
            point = fleet.point(rng, CENTRE, 25.0)
            start = local(fleet.day, rng.choice([8, 10, 12, 14]))
            site_id = await conn.fetchval(
                "INSERT INTO sites (territory_id, address_line, address_key, latitude, longitude)"
                " VALUES ($1, $2, $2, $3, $4) RETURNING id",
                fleet.territory_id,
                f"{i} Queue Street",
                *point,
            )
            job_ids.append(
                await conn.fetchval(
                    "INSERT INTO jobs (site_id, customer_id, problem_code, required_skills, duration_s,"
                    " window_start_at, window_end_at) VALUES ($1, $2, 'broken_spring', $3, 2700, $4, $5)"
                    " RETURNING id",
                    site_id,
                    customer,
                    {"garage_door_springs": 2},
                    start,
                    start + timedelta(hours=2),
                )
            )
        settings = Settings(
            database_url=dsn,
            data_dir=Path(tempfile.mkdtemp(prefix="truckroll-bench-data-")),
            jwt_secret=SECRET,
            log_level="WARNING",
        )
        app = create_app(settings)
        app.state.clock = lambda: local(fleet.day, 6)
        samples, refused = [], 0
        began = time.perf_counter()
        async with serving(app) as base_url:
            headers = {"Authorization": f"Bearer {token}"}
            async with httpx.AsyncClient(base_url=base_url, headers=headers, timeout=30) as client:
                for job_id in job_ids:
                    t0 = time.perf_counter()
                    response = await client.post(f"/jobs/{job_id}/assignment", json={"auto": True})
                    samples.append(time.perf_counter() - t0)
                    if response.status_code == 409:
                        refused += 1
                    else:
                        response.raise_for_status()
        total = time.perf_counter() - began
        rows = await conn.fetch(
            """
            SELECT j.technician_id, s.latitude, s.longitude, t.home_latitude, t.home_longitude
            FROM jobs j JOIN sites s ON s.id = j.site_id JOIN technicians t ON t.id = j.technician_id
            WHERE j.status = 'scheduled' ORDER BY j.technician_id, j.planned_start_at
            """
        )
        await conn.close()
    routes: dict[object, list[tuple[float, float]]] = {}
    homes: dict[object, tuple[float, float]] = {}
    for r in rows:
        routes.setdefault(r["technician_id"], []).append((r["latitude"], r["longitude"]))
        homes[r["technician_id"]] = (r["home_latitude"], r["home_longitude"])
    km = 0.0
    for tech, stops in routes.items():
        path = np.array([homes[tech], *stops, homes[tech]])
        km += float(pairwise_m(path[:-1], path[1:]).sum()) * CIRCUITY / 1000
    assigned = args.jobs - refused
    print(
        f"auto-assign: {args.jobs} jobs one by one across {args.technicians} technicians over HTTP:"
        f" {total:.1f} s in all, per assignment {percentiles(samples)}"
    )
    print(
        f"  {assigned} assigned, {refused} found no technician; {len(routes)} technicians used;"
        f" total road distance {km:.0f} km ({km / max(assigned, 1):.1f} km per job)"
    )


if __name__ == "__main__":
    asyncio.run(main())
