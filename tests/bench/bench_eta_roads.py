"""How wrong is the published ETA on a real city's roads, for each travel source?

A synthetic city of about 25 x 25 km (tests/bench/road_city.py) is written as OpenStreetMap XML,
built into OSRM road data with infra/osrm.build and served by osrm-routed. Trips are driven over
the same graph by the simulation (rush hour, junction waits, each driver's pace, parking), with
a ping every 30 s. Half the trips are learned from (travel_learning.fit on each source's own
times from a fix every five minutes, as `truckroll calibrate` does); the other half are judged:
every ping goes through eta_updates.estimate with the published ETA carried from ping to ping
as the product writes it, and the published ETA 30, 20, 10 and 5 minutes before arrival is
compared with the arrival.

    TRUCKROLL_OSRM_BIN_DIR=... python -m tests.bench.bench_eta_roads [--trips 1200]

Errors are published minus actual, in minutes: a negative bias is an optimistic ETA.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import shutil
import statistics
import tempfile
import time
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import uuid4

import httpx
import numpy as np

from dispatch.calibration import Drive, timed
from dispatch.eta_report import HORIZONS_MIN, HorizonFigures, figures, learned_columns, published_errors
from dispatch.travel import OsrmTravel, Points, Seconds, TravelSettings, TravelTimes, pairwise_m
from dispatch.travel_learning import BAND_EDGES_M, Source, TravelFactors, band_of, fit
from infra.osrm import build, require_programs, start_router
from tests.bench.road_city import DrivenTrip, build_city, trips, write_osm

MIDNIGHT = datetime(2026, 12, 1, tzinfo=UTC)
TERRITORY = uuid4()
MODELS = {TERRITORY: TravelSettings()}  # the default model: 35 km/h x 1.3 + 2 minutes
CONCURRENT_TRIPS = 8


class RetryingRouter:
    """osrm-routed closes a kept-alive connection after 512 requests; the benchmark retries once
    rather than measure that (the product's own handling of it is another matter)."""

    def __init__(self, router: OsrmTravel) -> None:
        self.router = router

    async def between(self, origins: Points, destinations: Points) -> Seconds:
        try:
            return await self.router.between(origins, destinations)
        except httpx.TransportError:
            return await self.router.between(origins, destinations)

    async def from_one(
        self, origin: tuple[float, float], destinations: Sequence[tuple[float, float]] | Points
    ) -> Seconds:
        return await self.router.from_one(origin, destinations)

    async def to_one(
        self, origins: Sequence[tuple[float, float]] | Points, destination: tuple[float, float]
    ) -> Seconds:
        return await self.router.to_one(origins, destination)


def drive_of(trip: DrivenTrip) -> Drive:
    fixes = tuple((MIDNIGHT + timedelta(seconds=at), lat, lon) for at, lat, lon in trip.pings)
    return Drive(
        TERRITORY,
        "UTC",
        trip.door,
        MIDNIGHT + timedelta(seconds=trip.depart_s),
        MIDNIGHT + timedelta(seconds=trip.arrive_s),
        fixes,
    )


async def learn(source: TravelTimes | None, drives: Sequence[Drive]) -> TravelFactors:
    """The factors `truckroll calibrate` learns from these drives against the source."""
    (fitted,) = fit(await timed(drives, MODELS, source))
    return fitted.factors


async def judge(
    drives: Sequence[Drive], routing: TravelTimes | None, learned: Mapping[str, Any]
) -> list[HorizonFigures]:
    """The published ETA's errors, replaying each drive's pings through the product's estimate."""
    by_horizon: dict[int, list[float]] = {h: [] for h in HORIZONS_MIN}
    for first in range(0, len(drives), CONCURRENT_TRIPS):
        chunk = drives[first : first + CONCURRENT_TRIPS]
        replays = (published_errors(d, MODELS[TERRITORY], learned, routing) for d in chunk)
        for errors in await asyncio.gather(*replays):
            for horizon, error in errors.items():
                by_horizon[horizon].append(error)
    return figures(by_horizon)


def cell(f: HorizonFigures) -> str:
    return f"{f.mae_min:5.1f} / {f.p90_min:4.1f} / {f.bias_min:+5.1f}"


def circuity_lines(trips_: Sequence[DrivenTrip]) -> list[str]:
    metres = pairwise_m(np.array([t.start for t in trips_]), np.array([t.door for t in trips_]))
    ratios = np.array([t.road_m for t in trips_]) / metres
    bands = band_of(metres)
    names = [
        "<1",
        *(f"{a / 1000:g}-{b / 1000:g}" for a, b in itertools.pairwise(BAND_EDGES_M)),
        f">{BAND_EDGES_M[-1] / 1000:g}",
    ]
    cells = [
        f"{names[b]} km {np.median(ratios[bands == b]):.2f}" for b in range(len(names)) if np.any(bands == b)
    ]
    return [
        f"circuity (road / straight line): p10 {np.percentile(ratios, 10):.2f},"
        f" median {np.median(ratios):.2f}, p90 {np.percentile(ratios, 90):.2f};"
        " median by distance: " + ", ".join(cells)
    ]


async def run(count: int) -> None:
    programs = require_programs()
    work = Path(tempfile.mkdtemp(prefix="truckroll-eta-roads-"))
    router = None
    try:
        started = time.perf_counter()
        city = build_city()
        extract = work / "city.osm"
        write_osm(city, extract)
        data = build(programs, extract, work / "osrm", threads=2)
        router = start_router(programs, data, log=work / "routed.log")
        print(
            f"city: {len(city.x):,} nodes, {len(city.edges):,} road segments, about 25 x 25 km;"
            f" road data built and served in {time.perf_counter() - started:.0f} s"
        )
        started = time.perf_counter()
        driven = trips(city, count)
        half = len(driven) // 2
        drives = [drive_of(t) for t in driven]
        learn_from, judged = drives[:half], drives[half:]
        durations = [(t.arrive_s - t.depart_s) / 60 for t in driven]
        print(
            f"{len(driven)} trips driven in {time.perf_counter() - started:.0f} s"
            f" (median {statistics.median(durations):.0f} min, {sum(d >= 30 for d in durations)} of 30 min"
            f" or more); learned from {half}, judged on {len(judged)}"
        )
        for line in circuity_lines(driven):
            print(line)
        osrm = OsrmTravel(router.url)
        routed = RetryingRouter(osrm)
        try:
            straight = await learn(None, learn_from)
            road = await learn(routed, learn_from)
            print(
                f"learned over all hours: straight line x{straight.factor:.2f},"
                f" road router x{road.factor:.2f}"
            )
            sources: list[tuple[str, TravelTimes | None, dict[str, Any]]] = [
                ("straight line, default (35 km/h x 1.3 + 2 min)", None, {}),
                ("straight line, calibrated", None, learned_columns(Source.STRAIGHT_LINE, straight)),
                ("road router, raw", routed, {}),
                ("road router x learned factor", routed, learned_columns(Source.ROAD_ROUTER, road)),
            ]
            print()
            print("published ETA error, minutes (MAE / p90 / bias)")
            print(f"{'source':<50}" + "".join(f"{'T-' + str(h):>22}" for h in HORIZONS_MIN))
            for name, source, columns in sources:
                started = time.perf_counter()
                errors = await judge(judged, source, columns)
                cells = "".join(f"{cell(f):>22}" for f in errors)
                print(f"{name:<50}{cells}   ({time.perf_counter() - started:.0f} s)", flush=True)
            print(
                "trips judged at each horizon: " + ", ".join(f"T-{f.horizon_min} {f.trips}" for f in errors)
            )
        finally:
            await osrm.close()
    finally:
        if router is not None:
            router.stop()
        shutil.rmtree(work, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--trips", type=int, default=1200)
    asyncio.run(run(parser.parse_args().trips))


if __name__ == "__main__":
    main()
