"""What calibrating the travel model does to ETAs.

`eta_report` measures, on simulated trips over the demo's own geography (technicians' homes to
the sites of the same territory, departures through the day), the error of the ETA given 30 and
10 minutes before arrival, before and after calibration. The roads in the simulation have a
hidden speed per territory and hour (slow in the rush hours) and noise per trip; calibration
learns from one half of the trips and is judged on the other.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from uuid import UUID

import numpy as np

from dispatch.travel import distance_m
from dispatch.travel_learning import NEUTRAL, TimedTrip, TravelFactors, fit
from infra.db import Connection


def true_speed_kmh(territory_factor: float, hour: int) -> float:
    """The simulation's hidden roads: 40 km/h off-peak, down to 22 in the rush hours."""
    rush = math.exp(-((hour - 8) ** 2) / 2.0) + math.exp(-((hour - 17) ** 2) / 2.0)
    return territory_factor * (40.0 - 18.0 * min(1.0, rush))


@dataclass(frozen=True)
class SimulatedTrip:
    territory_id: UUID
    hour: int
    start: tuple[float, float]
    door: tuple[float, float]
    duration_s: float


@dataclass(frozen=True)
class ErrorFigures:
    horizon_min: int
    before_mae_min: float
    before_p90_min: float
    after_mae_min: float
    after_p90_min: float


def simulate(
    places: dict[UUID, tuple[list[tuple[float, float]], list[tuple[float, float]]]],
    *,
    trips: int,
    circuity: float,
    overhead_s: float,
    seed: int = 11,
) -> list[SimulatedTrip]:
    """Trips from technicians' homes to sites of the same territory, at hours through the day."""
    rng = random.Random(seed)  # noqa: S311 - a reproducible simulation, not a secret
    factors = {t: rng.uniform(0.85, 1.15) for t in places}
    out: list[SimulatedTrip] = []
    territories = [t for t, (homes, sites) in places.items() if homes and sites]
    for _ in range(trips * 50):
        if len(out) >= trips or not territories:
            break
        territory = rng.choice(territories)
        homes, sites = places[territory]
        start, door = rng.choice(homes), rng.choice(sites)
        metres = distance_m(start, door)
        if metres < 3000:
            continue  # a trip worth an ETA at 30 minutes out
        hour = rng.randint(7, 19)
        speed = true_speed_kmh(factors[territory], hour) * rng.lognormvariate(0, 0.1)
        out.append(
            SimulatedTrip(territory, hour, start, door, metres * circuity / (speed / 3.6) + overhead_s)
        )
    return out


def _errors(
    trips: list[SimulatedTrip],
    learned: dict[UUID, TravelFactors],
    default_kmh: float,
    horizon_s: float,
    circuity: float,
    overhead_s: float,
) -> list[float]:
    errors: list[float] = []
    for trip in trips:
        if trip.duration_s <= horizon_s:
            continue
        # Where the van is `horizon_s` before arrival, moving at its steady pace along the way.
        progress = (
            1 - (horizon_s - overhead_s) / (trip.duration_s - overhead_s)
            if trip.duration_s > overhead_s
            else 1
        )
        point = (
            trip.start[0] + (trip.door[0] - trip.start[0]) * progress,
            trip.start[1] + (trip.door[1] - trip.start[1]) * progress,
        )
        metres = distance_m(point, trip.door)
        factors = learned.get(trip.territory_id, NEUTRAL)
        scale = float(factors.scale(np.asarray([metres]), trip.hour)[0])
        predicted = (metres * circuity / (default_kmh / 3.6) + overhead_s) * scale
        errors.append(abs(predicted - horizon_s) / 60)
    return errors


def report(
    trips: list[SimulatedTrip], *, default_kmh: float, circuity: float, overhead_s: float
) -> list[ErrorFigures]:
    learn, judge = trips[: len(trips) // 2], trips[len(trips) // 2 :]
    timed = []
    for t in learn:
        metres = distance_m(t.start, t.door)
        estimated = metres * circuity / (default_kmh / 3.6) + overhead_s
        timed.append(TimedTrip(t.territory_id, t.hour, metres, t.duration_s, estimated))
    learned = {f.territory_id: f.factors for f in fit(timed)}
    figures: list[ErrorFigures] = []
    for minutes in (30, 10):
        before = _errors(judge, {}, default_kmh, minutes * 60, circuity, overhead_s)
        after = _errors(judge, learned, default_kmh, minutes * 60, circuity, overhead_s)
        figures.append(
            ErrorFigures(
                horizon_min=minutes,
                before_mae_min=round(float(np.mean(before)), 2),
                before_p90_min=round(float(np.percentile(before, 90)), 2),
                after_mae_min=round(float(np.mean(after)), 2),
                after_p90_min=round(float(np.percentile(after, 90)), 2),
            )
        )
    return figures


async def demo_places(
    conn: Connection,
) -> dict[UUID, tuple[list[tuple[float, float]], list[tuple[float, float]]]]:
    rows = await conn.fetch(
        """
        SELECT territory_id, 'home' AS kind, home_latitude AS lat, home_longitude AS lon FROM technicians
        UNION ALL
        SELECT territory_id, 'site', latitude, longitude FROM sites WHERE territory_id IS NOT NULL
        """
    )
    places: dict[UUID, tuple[list[tuple[float, float]], list[tuple[float, float]]]] = {}
    for r in rows:
        homes, sites = places.setdefault(r["territory_id"], ([], []))
        (homes if r["kind"] == "home" else sites).append((r["lat"], r["lon"]))
    return places
