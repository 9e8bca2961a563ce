"""The road router's table service through our own client (`OsrmTravel` with its fallback, one
kept-alive connection), as a ping uses it: one technician to 20 jobs. Builds the road data and
starts a real osrm-routed (the OSRM programs must be installed; see infra/osrm.py), on the bundled
central-Helsinki extract and on a synthetic 20 × 20 km grid city (tests/bench/grid_city.py).

For each network: `requests` sequential calls with random places snapped to the network, each
    from_one: 1 technician -> 20 jobs (a 1 × 20 table: ranking, the ETA to every job)
    between:  the technician's chain of 20 jobs (what a ping's ETA refresh asks: the route
              service's legs; before, a 21 × 21 table, about 6-10 times slower on the grid city)
    by class: the same chain timed by learned road classes (the route with its segments'
              annotations and steps, dispatch.travel.road_class_travel), as a ping asks once calibrated
and, for comparison, from_one on a new connection each time. Prints p50/p95/p99 and fallbacks.
The chain is timed on at most 200 requests.

    python -m tests.bench.bench_router [--requests 2000] [--size-km 20] [--threads 2]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx
import numpy as np

from dispatch.travel.learning import TravelFactors
from dispatch.travel.road_class_travel import ClassedTravel
from dispatch.travel.road_classes import CLASSES, ClassFactors
from dispatch.travel.sources import FallbackReason, GeodesicTravel, OsrmTravel, RoutedTravel, TravelSettings
from infra.osrm import build, require_programs, start_router
from tests.bench.grid_city import write_city

HELSINKI = Path(__file__).resolve().parents[1] / "fixtures" / "osm" / "helsinki.osm.pbf"
HELSINKI_BOX = (60.160, 24.925, 60.175, 24.960)  # south, west, north, east: the extract's core
JOBS = 20
CHAIN_REQUESTS = 200  # a chain is a search per leg: a few times a one-to-many table


def figures(samples_s: list[float]) -> str:
    ms = np.asarray(samples_s) * 1000
    p50, p95, p99 = np.percentile(ms, [50, 95, 99])
    return f"p50 {p50:5.2f} ms  p95 {p95:5.2f} ms  p99 {p99:5.2f} ms  max {ms.max():6.2f} ms"


async def snapped_places(
    url: str, box: tuple[float, float, float, float], count: int, seed: int
) -> np.ndarray:
    """Random places in the box, moved to the nearest road, keeping only those the router can
    route to and from (an island of road answers null and would fall back)."""
    rng = random.Random(seed)
    south, west, north, east = box
    places: list[tuple[float, float]] = []
    # No kept-alive connection: osrm-routed closes one after 512 requests and this helper has no
    # retry (that race is what OsrmTravel retries for).
    async with httpx.AsyncClient(timeout=5, limits=httpx.Limits(max_keepalive_connections=0)) as client:
        anchor: tuple[float, float] | None = None
        while len(places) < count:
            lat, lon = rng.uniform(south, north), rng.uniform(west, east)
            answer = (await client.get(f"{url}/nearest/v1/driving/{lon:.6f},{lat:.6f}")).json()
            if answer.get("code") != "Ok":
                continue
            lon, lat = answer["waypoints"][0]["location"]
            if anchor is None:
                anchor = (lat, lon)
            table = (
                await client.get(
                    f"{url}/table/v1/driving/{anchor[1]:.6f},{anchor[0]:.6f};{lon:.6f},{lat:.6f}",
                )
            ).json()
            if table.get("code") == "Ok" and all(d is not None for row in table["durations"] for d in row):
                places.append((lat, lon))
    return np.asarray(places)


async def timed(requests: int, call: Callable[[int], Awaitable[object]]) -> list[float]:
    for i in range(min(50, requests)):  # warm up: connection, the router's caches
        await call(i)
    samples = []
    for i in range(requests):
        started = time.perf_counter()
        await call(i)
        samples.append(time.perf_counter() - started)
    return samples


async def measure(name: str, url: str, box: tuple[float, float, float, float], requests: int) -> None:
    places = await snapped_places(url, box, 400, seed=3)
    rng = np.random.default_rng(5)
    picks = [rng.choice(len(places), JOBS + 1, replace=False) for _ in range(requests + 50)]
    fallbacks: list[FallbackReason] = []
    router = OsrmTravel(url, on_fallback=fallbacks.append)
    travel = router.with_fallback(GeodesicTravel(TravelSettings()))

    async def one_to_twenty(i: int) -> object:
        chosen = places[picks[i]]
        return await travel.from_one((chosen[0, 0], chosen[0, 1]), chosen[1:])

    async def chain(i: int) -> object:
        chosen = places[picks[i]]
        return await travel.between(chosen[:-1], chosen[1:])

    # The router as it is, by class: the cost of asking for the roads, not of what was learned.
    as_it_is = TravelFactors(class_factors=ClassFactors((1.0,) * CLASSES + (0.0,), {}).flat())
    by_class = RoutedTravel(
        router, GeodesicTravel(TravelSettings()), via=ClassedTravel(router, as_it_is, 8.5)
    )

    async def chain_by_class(i: int) -> object:
        chosen = places[picks[i]]
        return await by_class.between(chosen[:-1], chosen[1:])

    try:
        fan = await timed(requests, one_to_twenty)
        legs = await timed(min(requests, CHAIN_REQUESTS), chain)
        classed = await timed(min(requests, CHAIN_REQUESTS), chain_by_class)
    finally:
        await router.close()
    fresh_router = OsrmTravel(
        url, client=httpx.AsyncClient(timeout=5, limits=httpx.Limits(max_keepalive_connections=0))
    )
    fresh_travel = fresh_router.with_fallback(GeodesicTravel(TravelSettings()))

    async def one_to_twenty_fresh(i: int) -> object:
        chosen = places[picks[i]]
        return await fresh_travel.from_one((chosen[0, 0], chosen[0, 1]), chosen[1:])

    try:
        fresh = await timed(min(requests, 500), one_to_twenty_fresh)
    finally:
        await fresh_router.close()
    print(f"{name}: {len(places)} places on the network, {requests} requests ({len(legs)} chains)")
    print(f"  1 -> 20 jobs (from_one)            {figures(fan)}")
    print(f"  chain of 20 (between: route legs)  {figures(legs)}")
    print(f"  chain of 20 by road class          {figures(classed)}")
    print(f"  1 -> 20, a new connection each     {figures(fresh)}")
    print(f"  fallbacks: {len(fallbacks)}")


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--size-km", type=float, default=20.0)
    parser.add_argument("--threads", type=int, default=2, help="osrm-routed threads")
    args = parser.parse_args()
    programs = require_programs()
    with tempfile.TemporaryDirectory(prefix="truckroll-bench-router-") as scratch:
        work = Path(scratch)
        city = work / "grid.osm"
        south, west, north, east = write_city(city, size_km=args.size_km)
        for name, extract, box in (
            ("central Helsinki (bundled extract)", HELSINKI, HELSINKI_BOX),
            (f"grid city {args.size_km:g} x {args.size_km:g} km", city, (south, west, north, east)),
        ):
            started = time.perf_counter()
            data = build(programs, extract, work / extract.stem.split(".")[0])
            built_s = time.perf_counter() - started
            router = start_router(programs, data, threads=args.threads, log=work / f"{data.stem}.log")
            try:
                print(f"{name}: road data built in {built_s:.1f} s")
                await measure(name, router.url, box, args.requests)
            finally:
                router.stop()


if __name__ == "__main__":
    asyncio.run(main())
