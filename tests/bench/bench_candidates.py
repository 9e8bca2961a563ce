"""Candidates for one job among 2,000 technicians with 8 planned stops each.

In-process: the ranking alone (hard rules, every day's schedule and slack, the job tried at every
position, scores), from the fleet's days in memory. Over HTTP: GET /jobs/{id}/candidates on a
running server (uvicorn on loopback), the state read from PostgreSQL on every request.

    python -m tests.bench.bench_candidates [--technicians 2000] [--stops 8] [--jobs 200]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path

import httpx

from api.app import create_app
from dispatch.matching.candidates import JobToPlace, MatchSettings
from dispatch.matching.fleet_view import FleetView
from dispatch.matching.ranking import Matcher
from dispatch.travel.sources import GeodesicTravel, TravelSettings
from infra.db import connect
from infra.settings import Settings
from tests.bench.common import SECRET, dispatcher_token, percentiles, scratch_database
from tests.bench.fleet import CENTRE, Fleet, local, make_fleet, store
from tests.live_server import serving


def random_job(fleet: Fleet, rng: random.Random) -> tuple[tuple[float, float], float, float]:
    point = fleet.point(rng, CENTRE, 20.0)
    start = local(fleet.day, rng.choice([8, 10, 12, 14]))
    return point, start.timestamp(), (start + timedelta(hours=2)).timestamp()


async def in_process(fleet: Fleet, jobs: int) -> None:
    rng = random.Random(3)
    days = fleet.days()
    travel = GeodesicTravel(TravelSettings())
    began = time.perf_counter()
    view = await FleetView.build(fleet.technicians, days, travel)
    built = time.perf_counter() - began
    settings = MatchSettings()
    samples = []
    eligible = []
    for _ in range(jobs):
        point, earliest, latest = random_job(fleet, rng)
        job = JobToPlace(
            id=uuid.uuid4(),
            point=point,
            earliest=earliest,
            latest=latest,
            duration_s=2700,
            required_skills={"garage_door_springs": 3},
            territory_id=fleet.territory_id,
        )
        began = time.perf_counter()
        ranking = await Matcher(job, settings, travel).rank(view, {}, [])
        samples.append(time.perf_counter() - began)
        eligible.append(ranking.eligible)
    print(
        f"in-process: {len(fleet.technicians)} technicians x {len(days[0].visits)} stops, {jobs} jobs:"
        f" {percentiles(samples[5:])} (mean {sum(eligible) / len(eligible):.0f} feasible candidates);"
        f" building the fleet's arrays once: {built * 1000:.0f} ms"
    )


async def over_http(fleet: Fleet, jobs: int) -> None:
    rng = random.Random(5)
    async with scratch_database() as dsn:
        conn = await connect(dsn)
        await store(conn, fleet)
        token = await dispatcher_token(conn)
        customer = await conn.fetchval("INSERT INTO customers (name) VALUES ('Bench') RETURNING id")
        job_ids = []
        for i in range(jobs):
            point, earliest, latest = random_job(fleet, rng)
            site_id = await conn.fetchval(
                "INSERT INTO sites (territory_id, address_line, address_key, latitude, longitude)"
                " VALUES ($1, $2, $2, $3, $4) RETURNING id",
                fleet.territory_id,
                f"{i} New Street",
                *point,
            )
            job_ids.append(
                await conn.fetchval(
                    "INSERT INTO jobs (site_id, customer_id, problem_code, required_skills, duration_s,"
                    " window_start_at, window_end_at) VALUES ($1, $2, 'broken_spring', $3, 2700,"
                    " to_timestamp($4), to_timestamp($5)) RETURNING id",
                    site_id,
                    customer,
                    {"garage_door_springs": 3},
                    earliest,
                    latest,
                )
            )
        await conn.close()
        settings = Settings(database_url=dsn, data_dir=fleet_dir(), jwt_secret=SECRET, log_level="WARNING")
        app = create_app(settings)
        app.state.clock = lambda: local(fleet.day, 6)
        async with serving(app) as base_url:
            headers = {"Authorization": f"Bearer {token}"}
            async with httpx.AsyncClient(base_url=base_url, headers=headers) as client:
                samples = []
                for job_id in job_ids:
                    began = time.perf_counter()
                    response = await client.get(f"/jobs/{job_id}/candidates")
                    samples.append(time.perf_counter() - began)
                    response.raise_for_status()
                # After a change anywhere in the fleet the next request reads every day again.
                cold = []
                writer = await connect(dsn)
                for job_id in job_ids[:10]:
                    await writer.execute(
                        "UPDATE technicians SET updated_at = now() WHERE id = $1", fleet.technicians[0].id
                    )
                    await asyncio.sleep(0.2)
                    began = time.perf_counter()
                    (await client.get(f"/jobs/{job_id}/candidates")).raise_for_status()
                    cold.append(time.perf_counter() - began)
                await writer.close()
    stops = len(fleet.jobs) // len(fleet.technicians)
    print(
        f"over HTTP: {len(fleet.technicians)} technicians x {stops} stops, {jobs} jobs, the days from the"
        f" in-memory fleet kept coherent by LISTEN/NOTIFY, job, parts and stock read per request:"
        f" {percentiles(samples[5:])}"
    )
    print(
        f"over HTTP, first request after a change (every day read from PostgreSQL again): {percentiles(cold)}"
    )


def fleet_dir() -> Path:
    return Path(tempfile.mkdtemp(prefix="truckroll-bench-data-"))


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--technicians", type=int, default=2000)
    parser.add_argument("--stops", type=int, default=8)
    parser.add_argument("--jobs", type=int, default=200)
    args = parser.parse_args()
    fleet = make_fleet(args.technicians, args.stops)
    await in_process(fleet, args.jobs)
    await over_http(fleet, args.jobs)


if __name__ == "__main__":
    asyncio.run(main())
