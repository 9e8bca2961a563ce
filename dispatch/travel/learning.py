"""Learning from completed trips how long travel really takes, for whichever source times it.

Neither source is right on its own: the straight-line model guesses the roads (real circuity
shrinks with a trip's length, about 1.4 for 2-4 km and 1.26 for 12-15 km), and a road router
drives them empty at free-flow speed, with no rush hour and no wait at a junction. So each
source's own estimate is scaled by what the fleet's trips show: a factor per territory and local
hour (the rush hour) times a factor per straight-line distance band (short trips wind more and
stop at more junctions per kilometre) times a factor per band of the source's own speed, the
straight-line km/h its time implies. That speed says which roads the source means to take: a
router's fast legs run on motorways and arterials, which lose most at the rush hour and wait at
signals, its slow ones on side streets it drives nearly as fast as they really go. Each factor
is a trimmed mean of the trips' ratios of actual to estimated time, blended with the prior of
1.0 (the source as it is) by how many trips back it: a few trips nudge it, many decide, and one
odd afternoon cannot rewrite it.

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

from dispatch.travel.sources import Point, Points, Seconds, TravelTimes, distances_m, pairwise_m

PRIOR_TRIPS = 5  # how many trips the prior of 1.0 is worth
# How many stretches "as the fleet drives" is worth against a technician's own: about ten drives.
PACE_PRIOR_STRETCHES = 50
# Straight-line distance bands, metres: a trip of 1.5 km is in band 1, one of 15 km in band 5.
BAND_EDGES_M = (1_000.0, 2_000.0, 4_000.0, 8_000.0, 12_000.0, 20_000.0)
BANDS = len(BAND_EDGES_M) + 1
# Bands of the source's straight-line km/h (metres over its seconds): from a short hop round
# one-way streets in an old centre (under 8) to legs mostly on motorways (over 45), about the
# spread of a city's trips by road.
SPEED_EDGES_KMH = (8.0, 12.0, 16.0, 20.0, 24.0, 28.0, 32.0, 38.0, 45.0)
SPEED_BANDS = len(SPEED_EDGES_KMH) + 1
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
    speed_factors: tuple[float, ...] = ()  # by band of the source's straight-line km/h
    pace: float = 1.0  # the technician's own, against the fleet's (1.0: as the fleet drives)
    # A router's time road class by road class and hour (dispatch.travel.road_classes), flat; empty
    # when nothing was learned that way. Its routed legs are then timed by it, not by the above.
    class_factors: tuple[float, ...] = ()

    def at_hour(self, hour: int | None) -> float:
        if hour is None or len(self.hour_factors) != 24:
            return self.factor
        return self.hour_factors[hour]

    def scale(
        self, metres: npt.NDArray[np.float64], seconds: Seconds, hour: int | None
    ) -> npt.NDArray[np.float64]:
        """The factor for each trip of `metres` in a straight line that the source times at
        `seconds`."""
        result = np.full(metres.shape, self.at_hour(hour) * self.pace)
        if self.band_factors:
            bands = np.minimum(band_of(metres), len(self.band_factors) - 1)
            result = result * np.asarray(self.band_factors)[bands]
        if self.speed_factors:
            speeds = np.minimum(speed_band_of(metres, seconds), len(self.speed_factors) - 1)
            result = result * np.asarray(self.speed_factors)[speeds]
        return result

    @property
    def neutral(self) -> bool:
        values = (self.factor, self.pace, *self.hour_factors, *self.band_factors, *self.speed_factors)
        return all(v == 1.0 for v in values) and not self.class_factors


NEUTRAL = TravelFactors()


def band_of(metres: npt.NDArray[np.float64]) -> npt.NDArray[np.intp]:
    bands: npt.NDArray[np.intp] = np.searchsorted(BAND_EDGES_M, metres, side="right")
    return bands


def speed_band_of(metres: npt.NDArray[np.float64], seconds: Seconds) -> npt.NDArray[np.intp]:
    """The band of the straight-line km/h a source's time implies; staying put or no route at
    all (zero or infinite seconds) is the slowest band, whose factor then changes nothing."""
    moving = np.isfinite(seconds) & (seconds > 0)
    kmh = np.divide(metres * 3.6, seconds, out=np.zeros(metres.shape), where=moving)
    bands: npt.NDArray[np.intp] = np.searchsorted(SPEED_EDGES_KMH, kmh, side="right")
    return bands


class LearnedTravel:
    """Any travel source, its times scaled by what the fleet's trips showed at this hour."""

    def __init__(self, source: TravelTimes, factors: TravelFactors, hour: int | None) -> None:
        self.source = source
        self.factors = factors
        self.hour = hour

    async def from_one(self, origin: Point, destinations: Sequence[Point] | Points) -> Seconds:
        seconds = await self.source.from_one(origin, destinations)
        return seconds * self.factors.scale(distances_m(origin, destinations), seconds, self.hour)

    async def to_one(self, origins: Sequence[Point] | Points, destination: Point) -> Seconds:
        seconds = await self.source.to_one(origins, destination)
        return seconds * self.factors.scale(distances_m(destination, origins), seconds, self.hour)

    async def between(self, origins: Points, destinations: Points) -> Seconds:
        seconds = await self.source.between(origins, destinations)
        if not len(origins):
            return seconds
        return seconds * self.factors.scale(pairwise_m(origins, destinations), seconds, self.hour)


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
    technician_id: UUID | None = None  # who drove it


@dataclass(frozen=True)
class TechnicianPace:
    technician_id: UUID
    factor: float
    trips: int


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


Row = tuple[int, int, int, float]  # hour, distance band, speed band, ratio


def fit(trips: Sequence[TimedTrip], *, by_speed: bool = False) -> list[FittedFactors]:
    """Per territory: the all-hours factor, a factor per hour, one per distance band and, with
    `by_speed`, one per band of the source's speed. Only a router's speed says something of its
    own: the straight-line model's follows from the distance alone, so a factor by it would
    split what the distance band learns and weigh the prior twice against it."""
    by_territory: dict[UUID, list[Row]] = defaultdict(list)
    for trip in trips:
        if not (trip.estimated_s > 0 and math.isfinite(trip.estimated_s) and trip.duration_s > 0):
            continue
        ratio = trip.duration_s / trip.estimated_s
        if LOWEST_RATIO <= ratio <= HIGHEST_RATIO:
            metres = np.asarray([trip.distance_m])
            band = int(band_of(metres)[0])
            speed = int(speed_band_of(metres, np.asarray([trip.estimated_s]))[0])
            by_territory[trip.territory_id].append((trip.hour, band, speed, ratio))
    return [_fit_one(t, rows, by_speed) for t, rows in sorted(by_territory.items(), key=lambda g: str(g[0]))]


def _relative(rows: list[Row], key: int, others: Sequence[float], count: int) -> list[float]:
    """Factors by the row field `key` for how a group differs from the rest once `others` (each
    row's other factors) are taken out, blended with "no different"."""
    grouped: dict[int, list[float]] = defaultdict(list)
    for row, other in zip(rows, others, strict=True):
        grouped[int(row[key])].append(row[3] / other)
    level = trimmed_mean([r for ratios in grouped.values() for r in ratios])
    factors = [1.0] * count
    for group, ratios in grouped.items():
        factors[group] = blend(trimmed_mean(ratios) / level, len(ratios))
    return factors


def _fit_one(territory_id: UUID, rows: list[Row], by_speed: bool) -> FittedFactors:
    # The hour factor carries the level (all-hours blended with the prior, each hour blended with
    # that); the band and speed factors say how a band differs from the rest, blended with "no
    # different". Each is fitted with the others taken out, round after round.
    hours, bands, speeds = [1.0] * 24, [1.0] * BANDS, [1.0] * SPEED_BANDS
    overall = 1.0
    for _ in range(ROUNDS):
        overall = blend(trimmed_mean([r / (bands[b] * speeds[s]) for _, b, s, r in rows]), len(rows))
        by_hour: dict[int, list[float]] = defaultdict(list)
        for h, b, s, r in rows:
            by_hour[h].append(r / (bands[b] * speeds[s]))
        hours = [overall] * 24
        for h, ratios in by_hour.items():
            n = len(ratios)
            hours[h] = (n * trimmed_mean(ratios) + PRIOR_TRIPS * overall) / (n + PRIOR_TRIPS)
        bands = _relative(rows, 1, [hours[h] * speeds[s] for h, _, s, _ in rows], BANDS)
        if by_speed:
            speeds = _relative(rows, 2, [hours[h] * bands[b] for h, b, _, _ in rows], SPEED_BANDS)
    counts = [0] * 24
    for h, _, _, _ in rows:
        counts[h] += 1
    return FittedFactors(
        territory_id,
        TravelFactors(
            factor=round(overall, 4),
            hour_factors=tuple(round(h, 4) for h in hours),
            band_factors=tuple(round(b, 4) for b in bands),
            trips=len(rows),
            speed_factors=tuple(round(v, 4) for v in speeds) if by_speed else (),
        ),
        tuple(counts),
    )


def fit_paces(trips: Sequence[TimedTrip], fitted: Sequence[FittedFactors]) -> list[TechnicianPace]:
    """Each technician's pace: the trimmed mean of their trips' ratios to what their territory's
    factors say, blended with "as the fleet drives". A drive's stretches share its luck (one
    slow junction, one lucky run of greens), so the prior is worth a few drives, not a few
    stretches: one fast week cannot make anyone a fast driver."""
    factors = {f.territory_id: f.factors for f in fitted}
    by_technician: dict[UUID, list[float]] = defaultdict(list)
    for trip in trips:
        learned = factors.get(trip.territory_id)
        if trip.technician_id is None or learned is None or not trip.estimated_s > 0:
            continue
        scaled = trip.estimated_s * float(
            learned.scale(np.asarray([trip.distance_m]), np.asarray([trip.estimated_s]), trip.hour)[0]
        )
        ratio = trip.duration_s / scaled if math.isfinite(scaled) and scaled > 0 else 0.0
        if LOWEST_RATIO <= ratio <= HIGHEST_RATIO:
            by_technician[trip.technician_id].append(ratio)
    return [
        TechnicianPace(
            technician,
            round((len(r) * trimmed_mean(r) + PACE_PRIOR_STRETCHES) / (len(r) + PACE_PRIOR_STRETCHES), 4),
            len(r),
        )
        for technician, r in sorted(by_technician.items(), key=lambda g: str(g[0]))
    ]
