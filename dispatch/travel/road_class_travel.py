"""A road router's legs timed road class by road class, as the fleet's trips taught.

The ETA of the jobs ahead of a technician is a chain of legs, asked of the router's route
service: that answer also says which roads each leg takes, so each is timed by what was learned
of its road classes at this hour (dispatch.travel.road_classes) rather than by one factor on the
whole. Anything else (matching's one-to-many tables) and any leg the route service cannot
describe keep the territory's learned factors on the router's table. Calibration asks the same
route service for each stretch of the fleet's completed trips to learn from.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

import numpy as np

from dispatch.travel.learning import LearnedTravel, TravelFactors, learned
from dispatch.travel.road_classes import from_flat, legs_of_route
from dispatch.travel.sources import OsrmTravel, Point, Points, Seconds, TravelTimes


class ClassedTravel:
    """The router with what was learned of it: chains by road class, the rest by the table."""

    def __init__(self, router: OsrmTravel, factors: TravelFactors, clock: float | None) -> None:
        self.router = router
        self.factors = factors
        self.clock = clock  # local time of day in hours, None when not known
        self.hour = None if clock is None else int(clock)
        self.classes = from_flat(factors.class_factors)
        self.table = LearnedTravel(router, factors, self.hour)

    async def from_one(self, origin: Point, destinations: Sequence[Point] | Points) -> Seconds:
        return await self.table.from_one(origin, destinations)

    async def to_one(self, origins: Sequence[Point] | Points, destination: Point) -> Seconds:
        return await self.table.to_one(origins, destination)

    async def between(self, origins: Points, destinations: Points) -> Seconds:
        if not len(origins) or not np.array_equal(origins[1:], destinations[:-1]):
            return await self.table.between(origins, destinations)
        legs = await self.router.routed_legs(np.concatenate([origins[:1], destinations]))
        classed = legs_of_route(legs) if legs is not None else [None] * len(origins)
        seconds = np.full(len(origins), np.nan)
        for i, leg in enumerate(classed):
            if leg is not None:
                driving = self.classes.seconds(leg, self.clock) * self.factors.pace
                # Arriving where one already is costs nothing, as in the router's own table.
                seconds[i] = driving + self.router.stop_overhead_s if leg.router_s > 0 else 0.0
        missing = np.isnan(seconds)
        if missing.any():
            # A leg without its annotations (or no route at all): the table with the learned
            # factors; a pair it cannot route either comes back infinite for the model to take.
            seconds[missing] = await self.table.between(origins[missing], destinations[missing])
        return seconds


def road_learned(
    routing: TravelTimes, factors: TravelFactors, at: datetime | None, timezone: str
) -> TravelTimes:
    """The router scaled by what was learned of it at `at` in the place's time zone: by road
    class where that was learned."""
    local = None if at is None else at.astimezone(ZoneInfo(timezone))
    if isinstance(routing, OsrmTravel) and not from_flat(factors.class_factors).empty:
        clock = None if local is None else local.hour + local.minute / 60 + local.second / 3600
        return ClassedTravel(routing, factors, clock)
    return learned(routing, factors, None if local is None else local.hour)
