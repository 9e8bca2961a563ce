"""Learning a router's time road class by road class: each class slows on its own at the rush hour.

A router's time for a drive is free-flow seconds on each kind of road plus its turn penalties;
the real drive meets the rush hour (motorways and arterials lose most, side streets little) and
waits at junctions (longer at the rush hour). One factor on the whole time cannot tell a leg on
motorways from a leg through side streets of the same length. So a routed leg is read as its
router seconds in each class of free-flow speed (the speed a router gives a segment says its kind
of road), its turn seconds and how many junctions it crosses, and the time is learned as

    time = sum(factor[hour, class] x seconds[class]) + wait[hour] x junctions + turn seconds

fitted by least squares on completed trips (each within its bounds: no junction saves time),
pulled towards a prior (the router as it is, no wait) with the weight of `PRIOR_TRIPS` trips,
each hour towards the fit over all hours: a few trips nudge it, many decide. An hour's values
stand for its middle and are blended between middles, following the rush hour's rise and fall.
Pure: the router's answers come in as `RoutedLeg`s.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from uuid import UUID

import numpy as np
import numpy.typing as npt

# Bands of a segment's free-flow km/h as a router gives it: service roads, residential streets,
# tertiary, secondary and primary roads, fast arterials, motorways (OSRM's car profile drives a
# tagged limit at about 0.8 of it: 30 -> 24, 40 -> 32, 50 -> 40, 60 -> 48, 100 -> 80).
SPEED_CLASS_EDGES_KMH = (20.0, 28.0, 36.0, 44.0, 60.0, 75.0)
CLASSES = len(SPEED_CLASS_EDGES_KMH) + 1
# The columns of a leg's features: seconds in each class, junctions crossed. The router's turn
# seconds are few and go with its junctions: a coefficient of their own only trades off against
# the wait per junction, so they are taken as the router gives them.
JUNCTIONS = CLASSES
FEATURES = CLASSES + 1
PRIOR_TRIPS = 5  # how many trips the prior is worth, for each hour and for all hours
MIN_HOUR_TRIPS = 3  # an hour with fewer stretches than this keeps the all-hours fit
TRIM = 0.05  # share of stretches cut from each end of the residuals before the final fit
FACTOR_RANGE = (0.25, 4.0)
WAIT_RANGE_S = (0.0, 120.0)  # per junction: a wait longer than two minutes is no junction's
# A stretch whose actual time is outside these times the router's says a clock or a position
# was wrong, not that the roads were slow.
LOWEST_RATIO, HIGHEST_RATIO = 0.25, 4.0


@dataclass(frozen=True)
class RoutedLeg:
    """A leg as a router drives it: free-flow seconds in each speed class, turn seconds, junctions."""

    class_s: tuple[float, ...]  # CLASSES values
    turn_s: float
    junctions: int

    @property
    def router_s(self) -> float:
        return sum(self.class_s) + self.turn_s

    def features(self) -> npt.NDArray[np.float64]:
        return np.asarray([*self.class_s, float(self.junctions)], dtype=np.float64)


def speed_class(kmh: float) -> int:
    return int(np.searchsorted(SPEED_CLASS_EDGES_KMH, kmh, side="right"))


def routed_leg(
    durations_s: Sequence[object], distances_m: Sequence[object], leg_s: object, junctions: int
) -> RoutedLeg | None:
    """A leg from a router's segment annotations (seconds and metres of each segment) and its
    total seconds; None when the annotations do not describe the leg (missing, of different
    lengths, or not numbers), so its time is learned as a whole instead."""
    if len(durations_s) != len(distances_m) or not isinstance(leg_s, int | float):
        return None
    if not math.isfinite(leg_s) or leg_s < 0:
        return None
    class_s = [0.0] * CLASSES
    for seconds, metres in zip(durations_s, distances_m, strict=True):
        if not (isinstance(seconds, int | float) and isinstance(metres, int | float)):
            return None
        if not (math.isfinite(seconds) and seconds >= 0 and math.isfinite(metres)):
            return None
        if seconds > 0:
            class_s[speed_class(metres / seconds * 3.6)] += seconds
    # What the router adds beyond its segments is its turn penalties (and rounding).
    return RoutedLeg(tuple(class_s), max(0.0, leg_s - sum(class_s)), max(0, junctions))


def junctions_of(steps: Sequence[Mapping[str, object]]) -> int:
    """Junctions a route's steps cross: their intersections where three or more roads meet, not
    counting where the leg departs or arrives."""
    count = 0
    for step in steps:
        maneuver = step.get("maneuver")
        if isinstance(maneuver, Mapping) and maneuver.get("type") in ("depart", "arrive"):
            continue
        intersections = step.get("intersections")
        if isinstance(intersections, list):
            for intersection in intersections:
                bearings = intersection.get("bearings") if isinstance(intersection, Mapping) else None
                count += isinstance(bearings, list) and len(bearings) > 2
    return count


def legs_of_route(legs: Sequence[object]) -> list[RoutedLeg | None]:
    """Each leg of an OSRM route answer (asked with `annotations=duration,distance` and
    `steps=true`) by class; None for a leg whose annotations are missing or null."""
    out: list[RoutedLeg | None] = []
    for leg in legs:
        annotation = leg.get("annotation") if isinstance(leg, Mapping) else None
        if not isinstance(leg, Mapping) or not isinstance(annotation, Mapping):
            out.append(None)
            continue
        durations, distances = annotation.get("duration"), annotation.get("distance")
        steps = leg.get("steps")
        if not isinstance(durations, list) or not isinstance(distances, list):
            out.append(None)
            continue
        junctions = junctions_of(steps) if isinstance(steps, list) else 0
        out.append(routed_leg(durations, distances, leg.get("duration"), junctions))
    return out


@dataclass(frozen=True)
class ClassFactors:
    """A territory's per-hour coefficients; `hours` maps a local hour to its FEATURES values and
    `overall` is the fit over all hours, for an hour with too few trips or an unknown one."""

    overall: tuple[float, ...] = ()
    hours: Mapping[int, tuple[float, ...]] | None = None
    trips: int = 0

    @property
    def empty(self) -> bool:
        return len(self.overall) != FEATURES

    def at_hour(self, hour: int | None) -> npt.NDArray[np.float64]:
        if hour is not None and self.hours and hour in self.hours:
            return np.asarray(self.hours[hour], dtype=np.float64)
        return np.asarray(self.overall, dtype=np.float64)

    def at_clock(self, hour: float | None) -> npt.NDArray[np.float64]:
        """At a local time of day in hours (8.25 is 8:15): each hour's values stand for its middle,
        and between two middles they are blended, so the rush hour's rise and fall is followed
        minute by minute rather than in steps of an hour."""
        if hour is None:
            return self.at_hour(None)
        before = math.floor(hour - 0.5)
        share = hour - 0.5 - before
        return (1 - share) * self.at_hour(before % 24) + share * self.at_hour((before + 1) % 24)

    def seconds(self, leg: RoutedLeg, hour: float | None) -> float:
        """The learned driving time of a leg at a local time of day in hours (no stop overhead)."""
        return float(self.at_clock(hour) @ leg.features()) + leg.turn_s

    def flat(self) -> tuple[float, ...]:
        """For storing: the all-hours values, then each hour's (an hour not fitted: all-hours)."""
        if self.empty:
            return ()
        return tuple(float(v) for h in (None, *range(24)) for v in self.at_hour(h))


STORED = 25 * FEATURES  # values of `flat`


def from_flat(values: Sequence[float] | None) -> ClassFactors:
    """ClassFactors from `flat`'s values; empty (nothing learned) for anything else."""
    if not values or len(values) != STORED:
        return ClassFactors()
    rows = [tuple(float(v) for v in values[k * FEATURES : (k + 1) * FEATURES]) for k in range(25)]
    return ClassFactors(rows[0], dict(enumerate(rows[1:])))


PRIOR = np.asarray([1.0] * CLASSES + [0.0])  # the router as it is, no wait at junctions


@dataclass(frozen=True)
class ClassedTrip:
    """A stretch of a completed trip as the router drives it, beside how long it really took
    (from the fix to the door, less the stop overhead)."""

    territory_id: UUID
    hour: int
    leg: RoutedLeg
    driving_s: float
    technician_id: UUID | None = None  # who drove it


def _ridge(
    x: npt.NDArray[np.float64],
    y: npt.NDArray[np.float64],
    prior: npt.NDArray[np.float64],
    scale: float,
    floor: npt.NDArray[np.float64],
) -> npt.NDArray[np.float64]:
    """Least squares pulled towards `prior` with the weight of `scale` typical rows on each
    coefficient: min |x b - y|^2 + sum(lambda_k (b_k - prior_k)^2), lambda_k = scale x the mean
    square of feature k (at least a minute of seconds, one junction), so a class the trips never
    drove stays at the prior and a class they drove a lot is decided by them."""
    typical = np.maximum((x**2).mean(axis=0) if len(x) else np.zeros(x.shape[1]), floor)
    penalty = np.diag(scale * typical)
    solution = np.linalg.solve(x.T @ x + penalty, x.T @ y + penalty @ prior)
    return np.asarray(solution, dtype=np.float64)


_FLOOR = np.asarray([60.0**2] * CLASSES + [1.0])


_LOWEST = np.asarray([FACTOR_RANGE[0]] * CLASSES + [WAIT_RANGE_S[0]])
_HIGHEST = np.asarray([FACTOR_RANGE[1]] * CLASSES + [WAIT_RANGE_S[1]])


def _bounded(
    x: npt.NDArray[np.float64], y: npt.NDArray[np.float64], prior: npt.NDArray[np.float64]
) -> npt.NDArray[np.float64]:
    """The ridge fit within the bounds: a coefficient that falls outside is held at its bound and
    the others fitted again without it, so they take up what it could not (cutting one off
    afterwards would leave the rest fitted for a value it no longer has: a biased sum)."""
    held: dict[int, float] = {}
    b = prior.copy()
    for _ in range(FEATURES):
        free = [k for k in range(FEATURES) if k not in held]
        rest = y - sum((x[:, k] * v for k, v in held.items()), np.zeros(len(y)))
        b[free] = _ridge(x[:, free], rest, prior[free], PRIOR_TRIPS, _FLOOR[free])
        for k, v in held.items():
            b[k] = v
        outside = [k for k in free if not _LOWEST[k] <= b[k] <= _HIGHEST[k]]
        if not outside:
            break
        for k in outside:
            held[k] = float(np.clip(b[k], _LOWEST[k], _HIGHEST[k]))
    return b


def _robust(
    x: npt.NDArray[np.float64], y: npt.NDArray[np.float64], prior: npt.NDArray[np.float64]
) -> npt.NDArray[np.float64]:
    """The bounded fit, refitted without the stretches whose residuals are the TRIM share at
    either end (a lunch stop on the way, a wrong clock)."""
    b = _bounded(x, y, prior)
    if len(x) >= 20:
        residuals = y - x @ b
        low, high = np.quantile(residuals, [TRIM, 1 - TRIM])
        kept = (residuals >= low) & (residuals <= high)
        b = _bounded(x[kept], y[kept], prior)
    return b


def fit_classes(trips: Sequence[ClassedTrip]) -> dict[UUID, ClassFactors]:
    """Per territory: the coefficients over all hours, then each hour's pulled towards them."""
    by_territory: dict[UUID, list[ClassedTrip]] = defaultdict(list)
    for trip in trips:
        by_territory[trip.territory_id].append(trip)
    fitted = {territory: _fit_one(rows) for territory, rows in by_territory.items()}
    return {territory: f for territory, f in fitted.items() if not f.empty}


def _fit_one(trips: Sequence[ClassedTrip]) -> ClassFactors:
    rows = [
        t
        for t in trips
        if t.leg.router_s > 0 and LOWEST_RATIO <= t.driving_s / t.leg.router_s <= HIGHEST_RATIO
    ]
    if not rows:
        return ClassFactors()
    x = np.asarray([t.leg.features() for t in rows])
    y = np.asarray([t.driving_s - t.leg.turn_s for t in rows])
    overall = _robust(x, y, PRIOR)
    by_hour: dict[int, list[int]] = defaultdict(list)
    for i, t in enumerate(rows):
        by_hour[t.hour].append(i)
    hours = {
        h: tuple(round(float(v), 4) for v in _robust(x[i], y[i], overall))
        for h, i in sorted(by_hour.items())
        if len(i) >= MIN_HOUR_TRIPS
    }
    return ClassFactors(tuple(round(float(v), 4) for v in overall), hours, len(rows))
