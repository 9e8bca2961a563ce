"""The fleet as matching reads it: one row per technician, in arrays, and the hard rules that
need no day (active, skills, customer's exclusions, reach) screened over them."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from uuid import UUID

import numpy as np
import numpy.typing as npt

from dispatch.matching.candidates import (
    JobToPlace,
)
from dispatch.matching.eligibility import (
    Exclusion,
    Roster,
    counted,
    first_broken,
    rules_without_route,
)
from dispatch.matching.route_plan import Day, RoutePlans, build
from dispatch.matching.route_queries import TechnicianRow
from dispatch.travel.sources import (
    GeodesicTravel,
    Point,
    TravelTimes,
    distances_m,
    distances_to_prepared,
    prepare,
)

Array = npt.NDArray[np.float64]


class FleetView:
    """Technicians and their days as arrays, built once and reused for every job until the fleet
    changes: matching one job is then vector arithmetic plus a few objects for the shortlist."""

    def __init__(self, technicians: Sequence[TechnicianRow], plans: RoutePlans) -> None:
        self.technicians = list(technicians)
        self.index = {t.id: i for i, t in enumerate(self.technicians)}
        self.roster = roster_of(self.technicians)
        self.homes = homes_of(self.technicians)
        self.plans = plans
        self.row_tech = np.array([self.index[d.technician_id] for d in plans.days], dtype=np.int64)
        self.booked = np.array([sum(v.duration_s for v in d.visits) for d in plans.days], dtype=np.float64)
        self.shift_s = np.array([max(d.shift_s, 1.0) for d in plans.days], dtype=np.float64)
        before = np.stack(plans.places_before(), axis=-1)
        after = np.stack(plans.places_after(), axis=-1)
        self.before_flat = before.reshape(-1, 2)
        self.after_flat = after.reshape(-1, 2)
        # The geodesic model is symmetric: each stop's distance serves both as "before" and "after".
        self.stop_places = prepare(np.stack([plans.lat, plans.lon], axis=-1))
        self.start_places = prepare(np.stack([plans.start_lat, plans.start_lon], axis=-1))

    async def around(self, travel: TravelTimes, point: Point) -> tuple[Array, Array]:
        """[R, N] travel from the place before each position to `point`, and from `point` on."""
        count, width = self.plans.size
        if isinstance(travel, GeodesicTravel):
            stops = travel.seconds(distances_to_prepared(point, self.stop_places)).reshape(count, width)
            start = travel.seconds(distances_to_prepared(point, self.start_places))
            to_point = np.concatenate([start[:, None], stops[:, :-1]], axis=1)
            after = np.concatenate([stops[:, 1:], stops[:, -1:]], axis=1)
            return to_point, np.where(self.plans.is_break, after, stops)
        to_point = (await travel.to_one(self.before_flat, point)).reshape(count, width)
        from_point = (await travel.from_one(point, self.after_flat)).reshape(count, width)
        return to_point, from_point

    @classmethod
    async def build(
        cls, technicians: Sequence[TechnicianRow], days: Sequence[Day], travel: TravelTimes
    ) -> FleetView:
        known = {t.id for t in technicians}
        return cls(technicians, await build([d for d in days if d.technician_id in known], travel))

    def ids(self, chosen: frozenset[UUID]) -> npt.NDArray[np.bool_]:
        return self.roster.mask(chosen)


def roster_of(technicians: Sequence[TechnicianRow]) -> Roster:
    return Roster.of(
        [t.id for t in technicians],
        [t.active for t in technicians],
        [t.territory_id for t in technicians],
        [t.skills for t in technicians],
    )


def homes_of(technicians: Sequence[TechnicianRow]) -> Array:
    return np.array([t.home for t in technicians], dtype=np.float64).reshape(-1, 2)


def first_broken_static(
    roster: Roster, homes: Array, job: JobToPlace, *, reach_km: float
) -> npt.NDArray[np.int64]:
    """Per technician, the first rule broken of those that need no route (see eligibility)."""
    count = len(roster.ids)
    far = job.territory_id is not None and count
    rules = rules_without_route(
        roster,
        required_skills=job.required_skills,
        excluded=job.excluded,
        territory_id=job.territory_id,
        distance_km=distances_m(job.point, homes) / 1000 if far else np.zeros(count),
        reach_km=reach_km,
    )
    return first_broken(rules, count)


def screen_static(
    technicians: Sequence[TechnicianRow], job: JobToPlace, *, reach_km: float
) -> tuple[list[TechnicianRow], Counter[Exclusion]]:
    """The technicians passing the rules that need no route; the others counted by first rule broken."""
    first = first_broken_static(roster_of(technicians), homes_of(technicians), job, reach_km=reach_km)
    return [t for t, broken in zip(technicians, first.tolist(), strict=True) if broken < 0], counted(first)
