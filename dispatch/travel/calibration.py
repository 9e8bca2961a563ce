"""Learning the travel model from the fleet: completed trips against what the configured travel
source says they should have taken.

An ETA is always asked from somewhere along the way: mostly from the middle of a drive, where
the van is on the main roads, and not from a side street at the start. So a trip is learned
from as the ETA sees it: from a fix every five minutes of the drive to the door, each stretch
timed by its actual remaining time and by the source (a 30-minute drive gives six).

Each trip is timed by the same source that times matching, planning and ETAs (the road router
when one is configured, else the territory's straight-line model), unscaled, and
dispatch.travel.learning fits the factors per territory, hour and distance band, and for a
router per band of its own speed; then each technician's pace against those. A router is asked
in batches: one table per batch of trips, not one request per trip. With a router, each stretch
is also asked of its route service, whose answer says which roads it takes: its time is learned
road class by road class (dispatch.travel.road_classes), and the paces against that.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from uuid import UUID
from zoneinfo import ZoneInfo

import numpy as np
from asyncpg import Record

from dispatch.travel import calibration_queries
from dispatch.travel.calibration_queries import (  # other packages reach calibration_queries through here
    drives as drives,
    territory_models as territory_models,
)
from dispatch.travel.learning import (
    NEUTRAL,
    FittedFactors,
    Source,
    TechnicianPace,
    TimedTrip,
    fit,
    fit_paces,
)
from dispatch.travel.road_classes import ClassedTrip, fit_classes, legs_of_route
from dispatch.travel.sources import GeodesicTravel, OsrmTravel, Point, TravelSettings, TravelTimes, pairwise_m
from infra.db import Connection

# Trips timed per table request: 50 stretches are at most 100 places, a 100 x 100 table that
# OSRM answers in milliseconds, well under its default limit on table size.
ROUTER_BATCH = 50
STRETCH_EVERY = timedelta(minutes=5)
# The last minutes of a drive are parking and the walk to the door: no stretch starts there.
PARKING = timedelta(minutes=3)

Fix = tuple[datetime, float, float]  # recorded_at, latitude, longitude


@dataclass(frozen=True)
class Drive:
    """A completed trip: from setting off (en_route) to arriving (on_site), with the fixes between."""

    territory_id: UUID
    timezone: str
    door: Point
    left_at: datetime
    arrived_at: datetime
    fixes: tuple[Fix, ...]  # in order
    technician_id: UUID | None = None


def drive_of(row: Record) -> Drive:
    fixes = tuple(zip(row["fix_at"], row["fix_latitude"], row["fix_longitude"], strict=True))
    return Drive(
        row["territory_id"],
        row["timezone"],
        (row["latitude"], row["longitude"]),
        row["left_at"],
        row["arrived_at"],
        fixes,
        row["technician_id"],
    )


def stretches(drive: Drive) -> list[Fix]:
    """The first fix in each five minutes of the drive, none in the parking minutes; nothing when
    there is no fix in the first five minutes (where it set off from is not known)."""
    if not drive.fixes or drive.fixes[0][0] >= drive.left_at + STRETCH_EVERY:
        return []
    picked: list[Fix] = []
    slot = -1
    for fix in drive.fixes:
        if fix[0] >= drive.arrived_at - PARKING:
            break
        here = (fix[0] - drive.left_at) // STRETCH_EVERY
        if here != slot:
            picked.append(fix)
            slot = here
    return picked


async def timed(
    drives: Sequence[Drive], models: Mapping[UUID, TravelSettings], routing: TravelTimes | None
) -> list[TimedTrip]:
    """Each stretch of each drive beside the source's own time for it: the router's (in
    batches) when one is given, else the territory's straight-line model."""
    picked = [(d, fix) for d in drives for fix in stretches(d)]
    starts = np.array([(lat, lon) for _, (_, lat, lon) in picked], dtype=np.float64).reshape(-1, 2)
    doors = np.array([d.door for d, _ in picked], dtype=np.float64).reshape(-1, 2)
    metres = pairwise_m(starts, doors) if picked else np.zeros(0)
    estimated = np.zeros(len(picked))
    if routing is not None:
        for first in range(0, len(picked), ROUTER_BATCH):
            batch = slice(first, first + ROUTER_BATCH)
            estimated[batch] = await routing.between(starts[batch], doors[batch])
    else:
        territories = np.array([d.territory_id for d, _ in picked], dtype=object)
        for territory, model in models.items():
            mine = territories == territory
            if mine.any():
                estimated[mine] = GeodesicTravel(model).seconds(metres[mine])
    return [
        TimedTrip(
            territory_id=d.territory_id,
            hour=fix[0].astimezone(ZoneInfo(d.timezone)).hour,
            distance_m=float(metres[i]),
            duration_s=(d.arrived_at - fix[0]).total_seconds(),
            estimated_s=float(estimated[i]),
            technician_id=d.technician_id,
        )
        for i, (d, fix) in enumerate(picked)
    ]


def settings_of(rows: Sequence[Record]) -> dict[UUID, TravelSettings]:
    return {
        r["id"]: TravelSettings(
            circuity_factor=r["circuity_factor"],
            speed_kmh=r["speed_kmh"],
            stop_overhead_s=r["stop_overhead_s"],
        )
        for r in rows
    }


@dataclass(frozen=True)
class Calibration:
    source: str
    fitted: list[FittedFactors]
    paces: list[TechnicianPace]


async def calibrate(conn: Connection, routing: TravelTimes | None) -> Calibration:
    models = settings_of(await calibration_queries.territory_models(conn))
    drives = [drive_of(r) for r in await calibration_queries.drives(conn)]
    trips = await timed(drives, models, routing)
    fitted = fit(trips, by_speed=routing is not None)
    paces = fit_paces(trips, fitted)
    if isinstance(routing, OsrmTravel):
        fitted, paces = await by_road_class(drives, routing, fitted, paces)
    source = Source.STRAIGHT_LINE if routing is None else Source.ROAD_ROUTER
    await calibration_queries.store(conn, source, fitted)
    await calibration_queries.store_paces(conn, source, paces)
    return Calibration(source, fitted, paces)


async def classed_trips(drives: Sequence[Drive], router: OsrmTravel) -> list[ClassedTrip]:
    """Each stretch of each drive as the router's route service drives it, road class by road
    class, beside its actual driving time (less the stop overhead the router adds). One route
    per stretch: a table cannot say which roads. A stretch it cannot route or describe is left
    out."""
    out: list[ClassedTrip] = []
    for drive in drives:
        zone = ZoneInfo(drive.timezone)
        for fix in stretches(drive):
            legs = await router.routed_legs(np.array([(fix[1], fix[2]), drive.door]))
            leg = legs_of_route(legs)[0] if legs is not None else None
            if leg is not None:
                driving_s = (drive.arrived_at - fix[0]).total_seconds() - router.stop_overhead_s
                hour = fix[0].astimezone(zone).hour
                out.append(ClassedTrip(drive.territory_id, hour, leg, driving_s, drive.technician_id))
    return out


async def by_road_class(
    drives: Sequence[Drive],
    router: OsrmTravel,
    fitted: Sequence[FittedFactors],
    paces: Sequence[TechnicianPace],
) -> tuple[list[FittedFactors], list[TechnicianPace]]:
    """The router's factors with its time by road class learned beside them, and each
    technician's pace against that where it was learned (it times their ETAs)."""
    classed = await classed_trips(drives, router)
    classes = fit_classes(classed)
    with_classes = [
        replace(f, factors=replace(f.factors, class_factors=classes[f.territory_id].flat()))
        if f.territory_id in classes
        else f
        for f in fitted
    ]
    # A technician's ratio to the class model's time, their territory's learning taken out.
    against = [
        TimedTrip(
            t.territory_id,
            t.hour,
            0.0,
            t.driving_s + router.stop_overhead_s,
            classes[t.territory_id].seconds(t.leg, t.hour + 0.5) + router.stop_overhead_s,
            t.technician_id,
        )
        for t in classed
        if t.territory_id in classes
    ]
    by_class = {p.technician_id: p for p in fit_paces(against, [FittedFactors(t, NEUTRAL) for t in classes])}
    return with_classes, [*(p for p in paces if p.technician_id not in by_class), *by_class.values()]
