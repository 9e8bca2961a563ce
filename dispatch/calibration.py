"""Learning the travel model from the fleet: completed trips against what the configured travel
source says they should have taken.

An ETA is always asked from somewhere along the way: mostly from the middle of a drive, where
the van is on the main roads, and not from a side street at the start. So a trip is learned
from as the ETA sees it: from a fix every five minutes of the drive to the door, each stretch
timed by its actual remaining time and by the source (a 30-minute drive gives six).

Each trip is timed by the same source that times matching, planning and ETAs (the road router
when one is configured, else the territory's straight-line model), unscaled, and
dispatch.travel_learning fits the factors per territory, hour and distance band. A router is
asked in batches: one table per batch of trips, not one request per trip.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dispatch import calibration_queries
from dispatch.travel import GeodesicTravel, TravelSettings, TravelTimes, pairwise_m
from dispatch.travel_learning import FittedFactors, Source, TimedTrip, fit
from infra.db import Connection

# Trips timed per table request: 50 trips are at most 100 places, a 100 x 100 table that OSRM
# answers in milliseconds, well under its default limit on table size.
ROUTER_BATCH = 50


@dataclass(frozen=True)
class Calibration:
    source: str
    fitted: list[FittedFactors]


async def calibrate(conn: Connection, routing: TravelTimes | None) -> Calibration:
    models = {r["id"]: r for r in await calibration_queries.territory_models(conn)}
    rows = await calibration_queries.completed_trips(conn)
    starts = np.array([(r["from_lat"], r["from_lon"]) for r in rows], dtype=np.float64).reshape(-1, 2)
    doors = np.array([(r["latitude"], r["longitude"]) for r in rows], dtype=np.float64).reshape(-1, 2)
    metres = pairwise_m(starts, doors) if len(rows) else np.zeros(0)
    estimated = np.zeros(len(rows))
    if routing is not None:
        source = Source.ROAD_ROUTER
        for first in range(0, len(rows), ROUTER_BATCH):
            batch = slice(first, first + ROUTER_BATCH)
            estimated[batch] = await routing.between(starts[batch], doors[batch])
    else:
        source = Source.STRAIGHT_LINE
        territories = np.array([r["territory_id"] for r in rows], dtype=object)
        for territory, model in models.items():
            mine = territories == territory
            if mine.any():
                travel = GeodesicTravel(
                    TravelSettings(
                        circuity_factor=model["circuity_factor"],
                        speed_kmh=model["speed_kmh"],
                        stop_overhead_s=model["stop_overhead_s"],
                    )
                )
                estimated[mine] = travel.seconds(metres[mine])
    trips = [
        TimedTrip(
            territory_id=r["territory_id"],
            hour=r["hour"],
            distance_m=float(metres[i]),
            duration_s=(r["arrived_at"] - r["fix_at"]).total_seconds(),
            estimated_s=float(estimated[i]),
        )
        for i, r in enumerate(rows)
    ]
    fitted = fit(trips)
    await calibration_queries.store(conn, source, fitted)
    return Calibration(source, fitted)
