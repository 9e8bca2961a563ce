"""How wrong is the published ETA on a real city's roads, for each travel source?

A synthetic city of about 25 x 25 km (tests/bench/road_city.py) is written as OpenStreetMap XML,
built into OSRM road data with infra/osrm.build and served by osrm-routed. Trips are driven over
the same graph by the simulation (rush hour, junction waits, each driver's pace, parking), with
a ping every 30 s. Half the trips are learned from (travel_learning.fit on each source's own
times from a fix every five minutes, as `truckroll calibrate` does); the other half are judged:
every ping goes through eta_updates.estimate with the published ETA carried from ping to ping
as the product writes it, and the published ETA 30, 20, 10 and 5 minutes before arrival is
compared with the arrival. Two oracle rows publish the simulation's own expected remaining time
(with and without the driver's pace) through the same step: the floor no model can beat here.
The simulation's drivers are the fleet's technicians, so each one's pace is learned as well.
The road-class rows learn as `truckroll calibrate` does with a router: its route service's
segments by free-flow speed class and junctions crossed (dispatch.travel.road_classes), and their ETAs
are routed legs timed by those, through the product's own router with its fallback (any
estimate the straight-line model gave instead is counted and printed).

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
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import httpx
import numpy as np

from dispatch.tracking.eta_report import (
    HORIZONS_MIN,
    HorizonFigures,
    figures,
    learned_columns,
    published_errors,
)
from dispatch.travel.calibration import Drive, by_road_class, timed
from dispatch.travel.learning import BAND_EDGES_M, Source, TravelFactors, band_of, fit, fit_paces
from dispatch.travel.sources import OsrmTravel, Points, Seconds, TravelSettings, TravelTimes, pairwise_m
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


class OracleTravel:
    """What the simulation itself expects is left from each of one trip's fixes: its mean rush
    hour, mean junction waits and mean parking, without the luck of any one drive. Published
    through the same smoothing and write step, it is the floor any learned model can reach here."""

    def __init__(self, trip: DrivenTrip, expected_s: Sequence[float]) -> None:
        self.remaining = {(lat, lon): s for (_, lat, lon), s in zip(trip.pings, expected_s, strict=True)}

    async def between(self, origins: Points, destinations: Points) -> Seconds:
        return np.array([self.remaining[(float(lat), float(lon))] for lat, lon in origins])

    async def from_one(
        self, origin: tuple[float, float], destinations: Sequence[tuple[float, float]] | Points
    ) -> Seconds:
        # Only to the trip's own door: what is left from where the van is, whichever place is asked.
        return np.full(len(destinations), self.remaining[(float(origin[0]), float(origin[1]))])

    async def to_one(
        self, origins: Sequence[tuple[float, float]] | Points, destination: tuple[float, float]
    ) -> Seconds:
        return np.array([self.remaining[(float(lat), float(lon))] for lat, lon in origins])


DRIVERS: dict[int, UUID] = {}  # the simulation's drivers as the fleet's technicians


def drive_of(trip: DrivenTrip) -> Drive:
    fixes = tuple((MIDNIGHT + timedelta(seconds=at), lat, lon) for at, lat, lon in trip.pings)
    return Drive(
        TERRITORY,
        "UTC",
        trip.door,
        MIDNIGHT + timedelta(seconds=trip.depart_s),
        MIDNIGHT + timedelta(seconds=trip.arrive_s),
        fixes,
        DRIVERS.setdefault(trip.driver, uuid4()),
    )


async def learn(
    source: TravelTimes | None, drives: Sequence[Drive]
) -> tuple[TravelFactors, dict[UUID, float]]:
    """The factors and technicians' paces `truckroll calibrate` learns from these drives against
    the source."""
    trips = await timed(drives, MODELS, source)
    fitted = fit(trips, by_speed=source is not None)
    return fitted[0].factors, {p.technician_id: p.factor for p in fit_paces(trips, fitted)}


async def learn_classes(
    router: OsrmTravel, drives: Sequence[Drive]
) -> tuple[TravelFactors, dict[UUID, float]]:
    """The router's factors with its time by road class, and the technicians' paces against
    that, as `truckroll calibrate` learns them with a router."""
    trips = await timed(drives, MODELS, router)
    fitted = fit(trips, by_speed=True)
    with_classes, paces = await by_road_class(drives, router, fitted, fit_paces(trips, fitted))
    return with_classes[0].factors, {p.technician_id: p.factor for p in paces}


PerDrive = Callable[[int], tuple[TravelTimes | None, Mapping[str, Any]]]


async def judge(drives: Sequence[Drive], per_drive: PerDrive) -> list[HorizonFigures]:
    """The published ETA's errors, replaying each drive's pings through the product's estimate
    with the source and learned columns `per_drive` gives for the drive's index."""
    by_horizon: dict[int, list[float]] = {h: [] for h in HORIZONS_MIN}
    for first in range(0, len(drives), CONCURRENT_TRIPS):
        indices = range(first, min(first + CONCURRENT_TRIPS, len(drives)))
        replays = (
            published_errors(drives[i], MODELS[TERRITORY], per_drive(i)[1], per_drive(i)[0]) for i in indices
        )
        for errors in await asyncio.gather(*replays):
            for horizon, error in errors.items():
                by_horizon[horizon].append(error)
    return figures(by_horizon)


def everywhere(routing: TravelTimes | None, columns: Mapping[str, Any]) -> PerDrive:
    return lambda _: (routing, columns)


def realism_lines(trips_: Sequence[DrivenTrip]) -> list[str]:
    """How much of a drive is waiting, and how far one drive's luck moves its remaining time
    at 30 minutes out (real drives: about 10-15%)."""
    waits = [t.waits_s / (t.arrive_s - t.depart_s) for t in trips_]
    luck = []
    for t in trips_:
        at_30 = [k for k, (at, _, _) in enumerate(t.pings) if t.arrive_s - at >= 30 * 60]
        if at_30:
            k = at_30[-1]
            luck.append((t.arrive_s - t.pings[k][0]) / t.expected_s[k] - 1)
    spread = np.asarray(luck)
    return [
        f"junction waits: median {np.median(waits):.0%} of a trip's time;"
        f" luck at T-30 (actual / expected remaining - 1, driver's pace known):"
        f" SD {spread.std():.1%}, mean {spread.mean():+.1%}, MAE {np.abs(spread).mean():.1%}"
        f" ({len(spread)} trips)"
    ]


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
        for line in [*circuity_lines(driven), *realism_lines(driven)]:
            print(line)
        fallbacks: dict[str, int] = {}
        osrm = OsrmTravel(router.url, on_fallback=lambda r: fallbacks.update({r: fallbacks.get(r, 0) + 1}))
        routed = RetryingRouter(osrm)
        try:
            straight, _ = await learn(None, learn_from)
            road, paces = await learn(routed, learn_from)
            print(
                f"learned over all hours: straight line x{straight.factor:.2f},"
                f" road router x{road.factor:.2f}"
                f"; {len(paces)} technicians' paces against the router from x{min(paces.values()):.2f}"
                f" to x{max(paces.values()):.2f}"
            )
            started = time.perf_counter()
            classed, class_paces = await learn_classes(osrm, learn_from)
            print(f"learned by road class from {half} trips in {time.perf_counter() - started:.0f} s")
            classed_pace = [
                learned_columns(Source.ROAD_ROUTER, classed, class_paces.get(DRIVERS[t.driver]))
                for t in driven[half:]
            ]
            with_pace = [
                learned_columns(Source.ROAD_ROUTER, road, paces.get(DRIVERS[t.driver])) for t in driven[half:]
            ]
            judged_trips = driven[half:]
            oracles = [OracleTravel(t, t.expected_s) for t in judged_trips]
            average_pace = [OracleTravel(t, t.expected_average_pace_s) for t in judged_trips]
            sources: list[tuple[str, PerDrive]] = [
                ("oracle: the simulation's own expectation", lambda i: (oracles[i], {})),
                ("oracle, for a driver of average pace", lambda i: (average_pace[i], {})),
                ("straight line, default (35 km/h x 1.3 + 2 min)", everywhere(None, {})),
                (
                    "straight line, calibrated",
                    everywhere(None, learned_columns(Source.STRAIGHT_LINE, straight)),
                ),
                ("road router, raw", everywhere(routed, {})),
                (
                    "road router x learned factor",
                    everywhere(routed, learned_columns(Source.ROAD_ROUTER, road)),
                ),
                (
                    "road router x learned factor x technician's pace",
                    lambda i: (routed, with_pace[i]),
                ),
                (
                    "road router x learned road classes",
                    everywhere(osrm, learned_columns(Source.ROAD_ROUTER, classed)),
                ),
                ("road router x learned road classes x tech's pace", lambda i: (osrm, classed_pace[i])),
            ]
            print()
            print("published ETA error, minutes (MAE / p90 / bias)")
            print(f"{'source':<50}" + "".join(f"{'T-' + str(h):>22}" for h in HORIZONS_MIN))
            for name, per_drive in sources:
                started = time.perf_counter()
                errors = await judge(judged, per_drive)
                cells = "".join(f"{cell(f):>22}" for f in errors)
                print(f"{name:<50}{cells}   ({time.perf_counter() - started:.0f} s)", flush=True)
            print(f"estimates the straight-line model gave for the router: {fallbacks or 'none'}")
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
