"""Learning the travel model from the fleet: completed trips (departure to arrival) give the
speed each territory really drives at, hour by hour.

A trip's implied speed is its road distance (straight line times the circuity) over its driving
time (the trip's time less the stop overhead). Per territory and hour the median of those is
blended with the configured speed by how many trips back it (a few trips nudge it, many decide),
so one odd afternoon cannot rewrite the model.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from uuid import UUID

PRIOR_TRIPS = 5  # how many trips the configured speed is worth
MIN_DRIVE_S = 60.0


@dataclass(frozen=True)
class Trip:
    territory_id: UUID
    hour: int  # local hour of departure, 0..23
    distance_m: float  # straight line from where they set off to the door
    duration_s: float  # departure to arrival


@dataclass(frozen=True)
class HourSpeed:
    territory_id: UUID
    hour: int
    speed_kmh: float
    trips: int


def implied_speed_kmh(trip: Trip, *, circuity: float, overhead_s: float) -> float | None:
    driving = trip.duration_s - overhead_s
    if driving < MIN_DRIVE_S or trip.distance_m <= 0:
        return None
    return trip.distance_m * circuity / driving * 3.6


def fit(
    trips: Sequence[Trip],
    *,
    default_kmh: dict[UUID, float],
    circuity: dict[UUID, float],
    overhead_s: dict[UUID, float],
) -> list[HourSpeed]:
    groups: dict[tuple[UUID, int], list[float]] = defaultdict(list)
    for trip in trips:
        speed = implied_speed_kmh(
            trip,
            circuity=circuity.get(trip.territory_id, 1.3),
            overhead_s=overhead_s.get(trip.territory_id, 120),
        )
        if speed is not None and 3 <= speed <= 150:  # beyond these, a clock or a position was wrong
            groups[(trip.territory_id, trip.hour)].append(speed)
    fitted: list[HourSpeed] = []
    for (territory, hour), speeds in sorted(groups.items(), key=lambda g: (str(g[0][0]), g[0][1])):
        n = len(speeds)
        prior = default_kmh.get(territory, 35.0)
        blended = (n * statistics.median(speeds) + PRIOR_TRIPS * prior) / (n + PRIOR_TRIPS)
        fitted.append(HourSpeed(territory, hour, round(blended, 2), n))
    return fitted
