"""How good the published ETA has been on the fleet's own trips, with and without learning.

The fleet's completed trips are real roads, real drivers and real rush hours, so the report
replays them rather than simulating any: the older half is learned from (as `truckroll
calibrate` would), and on the newer half each stored fix goes through eta_updates.estimate with
the published ETA carried from fix to fix as the product writes it (smoothing and write step
included). The published ETA 30, 20, 10 and 5 minutes before each arrival is compared with the
arrival, timed by the configured source as it is and with the factors learned. A synthetic city
with simulated drives, for figures before a fleet has driven, is a benchmark of the test suite
(tests/bench/bench_eta_roads.py), not product code.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from uuid import UUID, uuid4

import numpy as np

from dispatch.tracking.eta_updates import estimate
from dispatch.travel import calibration as travel_calibration
from dispatch.travel.calibration import Drive, by_road_class, drive_of, settings_of, stretches, timed
from dispatch.travel.learning import Source, TravelFactors, fit, fit_paces
from dispatch.travel.sources import OsrmTravel, TravelSettings, TravelTimes
from infra.db import Connection

HORIZONS_MIN = (30, 20, 10, 5)
MIN_TRIPS = 20  # fewer than this, halved, says nothing about a p90
REPLAYED_TECHNICIAN = uuid4()  # estimate names a technician only in the messages it drafts


@dataclass(frozen=True)
class HorizonFigures:
    horizon_min: int
    trips: int  # judged trips at least this long
    mae_min: float
    p90_min: float
    bias_min: float  # published minus actual: negative is an optimistic ETA


@dataclass(frozen=True)
class EtaReport:
    source: str
    learned_from: int
    judged: int
    as_configured: list[HorizonFigures]
    learned: list[HorizonFigures]


def learned_columns(source: str, factors: TravelFactors | None, pace: float | None = None) -> dict[str, Any]:
    """The columns position_queries.context gives estimate for a source's learned factors, and
    the technician's pace when one was learned."""
    if factors is None:
        return {}
    prefix = "road" if source == Source.ROAD_ROUTER else "straight"
    return {
        f"{prefix}_pace": pace,
        f"{prefix}_factor": factors.factor,
        f"{prefix}_hour_factors": list(factors.hour_factors),
        f"{prefix}_band_factors": list(factors.band_factors),
        f"{prefix}_speed_factors": list(factors.speed_factors),
        f"{prefix}_class_factors": list(factors.class_factors),
    }


async def published_errors(
    drive: Drive, model: TravelSettings, learned: Mapping[str, Any], routing: TravelTimes | None
) -> dict[int, float]:
    """Minutes between the ETA published at each horizon and the arrival, for each horizon the
    drive is long enough for, replaying its fixes as pings."""
    row: dict[str, Any] = {
        "id": uuid4(),
        "status": "en_route",
        "duration_s": 3600,
        "window_start_at": drive.left_at,
        "window_end_at": drive.left_at + timedelta(hours=4),
        "eta_at": None,
        "eta_told_at": None,
        "started_at": None,
        "latitude": drive.door[0],
        "longitude": drive.door[1],
        "territory_id": drive.territory_id,
        "timezone": drive.timezone,
        "circuity_factor": model.circuity_factor,
        "speed_kmh": model.speed_kmh,
        "stop_overhead_s": model.stop_overhead_s,
        "nearby_told": False,
        **learned,
    }
    errors: dict[int, float] = {}
    for at, latitude, longitude in drive.fixes:
        remaining_min = (drive.arrived_at - at).total_seconds() / 60
        if remaining_min < min(HORIZONS_MIN):
            break
        for update in await estimate(
            REPLAYED_TECHNICIAN, None, [row], (latitude, longitude), now=at, routing=routing
        ):
            row["eta_at"] = update.eta_at
            if update.told:
                row["eta_told_at"] = update.eta_at
        for horizon in HORIZONS_MIN:
            if remaining_min >= horizon:  # the last fix at or before the horizon stands
                errors[horizon] = (row["eta_at"] - drive.arrived_at).total_seconds() / 60
    return errors


def figures(by_horizon: Mapping[int, Sequence[float]]) -> list[HorizonFigures]:
    out: list[HorizonFigures] = []
    for horizon in HORIZONS_MIN:
        errors = np.asarray(by_horizon.get(horizon, []), dtype=np.float64)
        if not len(errors):
            out.append(HorizonFigures(horizon, 0, float("nan"), float("nan"), float("nan")))
            continue
        absolute = np.abs(errors)
        out.append(
            HorizonFigures(
                horizon,
                len(errors),
                round(float(absolute.mean()), 2),
                round(float(np.percentile(absolute, 90)), 2),
                round(float(errors.mean()), 2),
            )
        )
    return out


async def judge(
    drives: Sequence[Drive],
    models: Mapping[UUID, TravelSettings],
    learned: Callable[[Drive], Mapping[str, Any]],
    routing: TravelTimes | None,
) -> list[HorizonFigures]:
    by_horizon: dict[int, list[float]] = {h: [] for h in HORIZONS_MIN}
    for drive in drives:
        errors = await published_errors(drive, models[drive.territory_id], learned(drive), routing)
        for horizon, error in errors.items():
            by_horizon[horizon].append(error)
    return figures(by_horizon)


async def report(conn: Connection, routing: TravelTimes | None) -> EtaReport | None:
    """None when the fleet has too few completed trips with fixes to judge."""
    models = settings_of(await travel_calibration.territory_models(conn))
    drives = [d for d in map(drive_of, await travel_calibration.drives(conn)) if stretches(d)]
    if len(drives) < MIN_TRIPS:
        return None
    half = len(drives) // 2
    older, newer = drives[:half], drives[half:]
    source = Source.STRAIGHT_LINE if routing is None else Source.ROAD_ROUTER
    trips = await timed(older, models, routing)
    fitted = fit(trips, by_speed=routing is not None)
    learned_paces = fit_paces(trips, fitted)
    if isinstance(routing, OsrmTravel):  # as `truckroll calibrate` learns with a router
        fitted, learned_paces = await by_road_class(older, routing, fitted, learned_paces)
    factors = {f.territory_id: f.factors for f in fitted}
    paces = {p.technician_id: p.factor for p in learned_paces}

    def learned(drive: Drive) -> dict[str, Any]:
        pace = paces.get(drive.technician_id) if drive.technician_id else None
        return learned_columns(source, factors.get(drive.territory_id), pace)

    return EtaReport(
        source=source,
        learned_from=len(older),
        judged=len(newer),
        as_configured=await judge(newer, models, lambda _: {}, routing),
        learned=await judge(newer, models, learned, routing),
    )
