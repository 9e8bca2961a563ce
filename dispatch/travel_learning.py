"""Learning from completed trips how long travel really takes, for whichever source times it.

Neither source is right on its own: the straight-line model guesses the roads (real circuity
shrinks with a trip's length, about 1.4 for 2-4 km and 1.26 for 12-15 km), and a road router
drives them empty at free-flow speed, with no rush hour and no wait at a junction. So each
source's own estimate is scaled by what the fleet's trips show: a factor per territory and local
hour (the rush hour) times a factor per straight-line distance band (short trips wind more and
stop at more junctions per kilometre). Each factor is a trimmed mean of the trips' ratios of
actual to estimated time, blended with the prior of 1.0 (the source as it is) by how many trips
back it: a few trips nudge it, many decide, and one odd afternoon cannot rewrite it.

`LearnedTravel` wraps any `TravelTimes` with the factors, so matching, planning and ETAs see
the same learned times through one interface.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from uuid import UUID

import numpy as np
import numpy.typing as npt

from dispatch.travel import Point, Points, Seconds, TravelTimes, distances_m, pairwise_m

PRIOR_TRIPS = 5  # how many trips the prior of 1.0 is worth
# Straight-line distance bands, metres: a trip of 1.5 km is in band 1, one of 15 km in band 5.
BAND_EDGES_M = (1_000.0, 2_000.0, 4_000.0, 8_000.0, 12_000.0, 20_000.0)
BANDS = len(BAND_EDGES_M) + 1
TRIM = 0.1  # share of trips cut from each end before averaging: a wrong clock, a lunch stop
ROUNDS = 4  # of fitting hour and band factors against each other; they settle in two or three
# A ratio outside these says a clock or a position was wrong, not that the roads were slow.
LOWEST_RATIO, HIGHEST_RATIO = 0.25, 4.0


class Source:
    STRAIGHT_LINE = "straight_line"
    ROAD_ROUTER = "road_router"


@dataclass(frozen=True)
class TravelFactors:
    """A territory's learned factors for one source; empty means the source as it is."""

    factor: float = 1.0  # all hours, for travel whose hour is not known
    hour_factors: tuple[float, ...] = ()  # by local hour, 0..23
    band_factors: tuple[float, ...] = ()  # by straight-line distance band
    trips: int = 0

    def at_hour(self, hour: int | None) -> float:
        if hour is None or len(self.hour_factors) != 24:
            return self.factor
        return self.hour_factors[hour]

    def scale(self, metres: npt.NDArray[np.float64], hour: int | None) -> npt.NDArray[np.float64]:
        result = np.full(metres.shape, self.at_hour(hour))
        if self.band_factors:
            bands = np.minimum(band_of(metres), len(self.band_factors) - 1)
            result = result * np.asarray(self.band_factors)[bands]
        return result

    @property
    def neutral(self) -> bool:
        values = (self.factor, *self.hour_factors, *self.band_factors)
        return all(v == 1.0 for v in values)


NEUTRAL = TravelFactors()


def band_of(metres: npt.NDArray[np.float64]) -> npt.NDArray[np.intp]:
    bands: npt.NDArray[np.intp] = np.searchsorted(BAND_EDGES_M, metres, side="right")
    return bands


class LearnedTravel:
    """Any travel source, its times scaled by what the fleet's trips showed at this hour."""

    def __init__(self, source: TravelTimes, factors: TravelFactors, hour: int | None) -> None:
        self.source = source
        self.factors = factors
        self.hour = hour

    async def from_one(self, origin: Point, destinations: Sequence[Point] | Points) -> Seconds:
        seconds = await self.source.from_one(origin, destinations)
        return seconds * self.factors.scale(distances_m(origin, destinations), self.hour)

    async def to_one(self, origins: Sequence[Point] | Points, destination: Point) -> Seconds:
        seconds = await self.source.to_one(origins, destination)
        return seconds * self.factors.scale(distances_m(destination, origins), self.hour)

    async def between(self, origins: Points, destinations: Points) -> Seconds:
        seconds = await self.source.between(origins, destinations)
        if not len(origins):
            return seconds
        return seconds * self.factors.scale(pairwise_m(origins, destinations), self.hour)


def learned(source: TravelTimes, factors: TravelFactors, hour: int | None) -> TravelTimes:
    return source if factors.neutral else LearnedTravel(source, factors, hour)


@dataclass(frozen=True)
class TimedTrip:
    """A stretch of a completed trip, from a fix on the way to the door, beside what the source
    estimated for it."""

    territory_id: UUID
    hour: int  # local hour of the fix, 0..23
    distance_m: float  # straight line from the fix to the door
    duration_s: float  # from the fix to the arrival
    estimated_s: float  # the source's time for the same trip, unscaled


@dataclass(frozen=True)
class FittedFactors:
    territory_id: UUID
    factors: TravelFactors
    hour_trips: tuple[int, ...] = field(default=(0,) * 24)


def trimmed_mean(values: Sequence[float]) -> float:
    ordered = sorted(values)
    cut = int(len(ordered) * TRIM)
    kept = ordered[cut : len(ordered) - cut] or ordered
    return sum(kept) / len(kept)


def blend(value: float, trips: int) -> float:
    """The trips' value against the prior of 1.0, weighted by how many trips back it."""
    return (trips * value + PRIOR_TRIPS * 1.0) / (trips + PRIOR_TRIPS)


def fit(trips: Sequence[TimedTrip]) -> list[FittedFactors]:
    """Per territory: the all-hours factor, a factor per hour and one per distance band."""
    by_territory: dict[UUID, list[tuple[int, int, float]]] = defaultdict(list)
    for trip in trips:
        if not (trip.estimated_s > 0 and math.isfinite(trip.estimated_s) and trip.duration_s > 0):
            continue
        ratio = trip.duration_s / trip.estimated_s
        if LOWEST_RATIO <= ratio <= HIGHEST_RATIO:
            band = int(band_of(np.asarray([trip.distance_m]))[0])
            by_territory[trip.territory_id].append((trip.hour, band, ratio))
    return [_fit_one(t, rows) for t, rows in sorted(by_territory.items(), key=lambda g: str(g[0]))]


def _fit_one(territory_id: UUID, rows: list[tuple[int, int, float]]) -> FittedFactors:
    # The hour factor carries the level (all-hours blended with the prior, each hour blended with
    # that); the band factors say how a band differs from the rest, blended with "no different".
    hours, bands = [1.0] * 24, [1.0] * BANDS
    overall = 1.0
    for _ in range(ROUNDS):
        overall = blend(trimmed_mean([r / bands[b] for _, b, r in rows]), len(rows))
        by_hour: dict[int, list[float]] = defaultdict(list)
        for h, b, r in rows:
            by_hour[h].append(r / bands[b])
        hours = [overall] * 24
        for h, ratios in by_hour.items():
            n = len(ratios)
            hours[h] = (n * trimmed_mean(ratios) + PRIOR_TRIPS * overall) / (n + PRIOR_TRIPS)
        by_band: dict[int, list[float]] = defaultdict(list)
        for h, b, r in rows:
            by_band[b].append(r / hours[h])
        level = trimmed_mean([r for ratios in by_band.values() for r in ratios])
        bands = [1.0] * BANDS
        for b, ratios in by_band.items():
            bands[b] = blend(trimmed_mean(ratios) / level, len(ratios))
    counts = [0] * 24
    for h, _, _ in rows:
        counts[h] += 1
    return FittedFactors(
        territory_id,
        TravelFactors(
            factor=round(overall, 4),
            hour_factors=tuple(round(h, 4) for h in hours),
            band_factors=tuple(round(b, 4) for b in bands),
            trips=len(rows),
        ),
        tuple(counts),
    )
