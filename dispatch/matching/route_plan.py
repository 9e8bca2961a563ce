"""Technicians' days as arrays, so one job is tried in every route at once.

A day is its shift's start (place, time), the jobs already on it in planned order, its breaks and
the shift's end. Breaks have no place of their own: one is taken where the technician is, so its
place is the previous stop's. Each break sits in the sequence as late as it can, before the first
visit that would otherwise push it past its latest start.

`RoutePlans` holds many days as padded arrays (rows = days, columns = stops), with each day's
schedule and forward time slack computed once; `insert` then tries a job at every position of
every day with numpy, each position in constant time (the scalar version, which the tests check
this against, and the reasoning are in tests/oracles/insertion.py). Inserting right before a
break means the job comes first and the break is taken where the job was, so travel goes job ->
next place after the break; the pair is checked against the break's window and the slack of what
follows it.

Padding: each row ends with dummy stops at the end place (no duration, any time), so "after the
last stop" is an ordinary position for every row, and the last leg is a row's leg into the first
dummy.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from uuid import UUID

import numpy as np
import numpy.typing as npt

from dispatch.travel.sources import Point, TravelTimes

Array = npt.NDArray[np.float64]
Mask = npt.NDArray[np.bool_]
INF = np.inf


@dataclass(frozen=True)
class Visit:
    """A job already on a technician's route; times are seconds since the epoch."""

    job_id: UUID
    point: Point
    earliest: float  # earliest start (its window, or its pinned time)
    latest: float  # latest start
    duration_s: float
    planned_start: float | None = None  # as last planned; places the breaks between visits
    locked: bool = False  # en route or on site: nothing may be put before it
    version: int = 1
    pickup: Point | None = None  # a depot to call at first for the job's parts
    pickup_s: float = 0.0


@dataclass(frozen=True)
class BreakSlot:
    earliest: float  # earliest start
    latest: float  # latest start
    duration_s: float


@dataclass(frozen=True)
class Day:
    technician_id: UUID
    shift_id: UUID
    start_point: Point
    end_point: Point
    start_at: float
    end_latest: float  # shift end plus allowed overtime
    shift_s: float
    visits: Sequence[Visit] = ()
    breaks: Sequence[BreakSlot] = ()


@dataclass(frozen=True)
class RouteStop:
    """One entry of a day's sequence: a visit, a depot pickup for the visit that follows it, or a
    break (neither) taken at `point`."""

    point: Point
    earliest: float
    latest: float
    duration_s: float
    visit: Visit | None
    pickup_for: Visit | None = None

    @property
    def is_break(self) -> bool:
        return self.visit is None and self.pickup_for is None


def sequence(day: Day) -> list[RouteStop]:
    """The day's visits in order, each break before the first visit that, as planned, would end
    after the break's latest start (so the break is taken as late as the plan allows)."""
    pending = sorted(day.breaks, key=lambda b: b.latest)
    stops: list[RouteStop] = []
    place = day.start_point
    for visit in day.visits:
        planned = visit.planned_start if visit.planned_start is not None else visit.earliest
        while pending and planned + visit.duration_s > pending[0].latest and not visit.locked:
            brk = pending.pop(0)
            stops.append(RouteStop(place, brk.earliest, brk.latest, brk.duration_s, None))
        if visit.pickup is not None:
            stops.append(RouteStop(visit.pickup, -INF, INF, visit.pickup_s, None, pickup_for=visit))
        stops.append(RouteStop(visit.point, visit.earliest, visit.latest, visit.duration_s, visit))
        place = visit.point
    for brk in pending:
        stops.append(RouteStop(place, brk.earliest, brk.latest, brk.duration_s, None))
    return stops


@dataclass
class RoutePlans:
    """Many days, padded to the same number of stops, scheduled once."""

    days: list[Day]
    stops: list[list[RouteStop]]
    n: npt.NDArray[np.int64]  # real stops per row
    first_free: npt.NDArray[np.int64]  # no insertion before this position (locked visits)
    earliest: Array  # [R, N]
    latest: Array
    duration: Array
    is_break: Mask
    lat: Array  # [R, N] place of each stop (dummies at the end place)
    lon: Array
    start_lat: Array  # [R]
    start_lon: Array
    start_at: Array
    end_latest: Array
    legs: Array  # [R, N + 1]: into stop i, and (index N) from the last dummy to the end: 0
    arrive: Array = field(init=False)  # [R, N + 1], index N the end
    start: Array = field(init=False)
    slack: Array = field(init=False)
    feasible: Mask = field(init=False)
    _cached_positions: _Positions | None = field(init=False, default=None)

    @property
    def size(self) -> tuple[int, int]:
        return int(self.earliest.shape[0]), int(self.earliest.shape[1])

    def schedule(self) -> None:
        self._cached_positions = None
        rows, width = self.size
        self.arrive = np.zeros((rows, width + 1))
        self.start = np.zeros((rows, width + 1))
        self.feasible = np.ones(rows, dtype=bool)
        clock = self.start_at.copy()
        for i in range(width):
            arrive = clock + self.legs[:, i]
            start = np.maximum(arrive, self.earliest[:, i])
            self.feasible &= start <= self.latest[:, i]
            self.arrive[:, i], self.start[:, i] = arrive, start
            clock = start + self.duration[:, i]
        self.arrive[:, width] = self.start[:, width] = clock + self.legs[:, width]
        self.feasible &= self.arrive[:, width] <= self.end_latest
        self.slack = np.zeros((rows, width + 1))
        self.slack[:, width] = self.end_latest - self.arrive[:, width]
        for i in range(width - 1, -1, -1):
            wait_next = self.start[:, i + 1] - self.arrive[:, i + 1]
            self.slack[:, i] = np.minimum(
                self.latest[:, i] - self.start[:, i], wait_next + self.slack[:, i + 1]
            )

    def places_before(self) -> tuple[Array, Array]:
        """[R, N]: where the technician is when leaving for position p (the start, or stop p-1)."""
        lat = np.concatenate([self.start_lat[:, None], self.lat[:, :-1]], axis=1)
        lon = np.concatenate([self.start_lon[:, None], self.lon[:, :-1]], axis=1)
        return lat, lon

    def places_after(self) -> tuple[Array, Array]:
        """[R, N]: where the technician goes after a job put at position p (past a break)."""
        nxt_lat = np.concatenate([self.lat[:, 1:], self.lat[:, -1:]], axis=1)
        nxt_lon = np.concatenate([self.lon[:, 1:], self.lon[:, -1:]], axis=1)
        return np.where(self.is_break, nxt_lat, self.lat), np.where(self.is_break, nxt_lon, self.lon)

    def insert(
        self, *, earliest: float, latest: float, duration_s: float, to_job: Array, from_job: Array
    ) -> Insertions:
        """Every position of every row: feasible or not, and what it would cost.

        to_job[r, p]: travel from the place before position p to the job (a depot detour may be
        folded in); from_job[r, p]: travel from the job to the place after it.
        """
        p = self._positions()
        arrive = p.leave + to_job
        start = np.maximum(arrive, earliest)
        ok = p.valid & (start <= latest)
        job_end = start + duration_s
        # Before a break: the break follows the job, where the job was, then the drive goes on.
        break_start = np.maximum(job_end, p.break_earliest)
        ok &= break_start <= p.break_latest
        next_arrive = break_start + p.break_duration + from_job
        push = np.maximum(0.0, next_arrive - p.next_start)
        ok &= push <= p.next_slack + 1e-6
        added = to_job + from_job - p.replaced
        downstream = p.next_slack + p.next_start - next_arrive
        slack = np.minimum(np.minimum(latest - start, p.break_latest - break_start), downstream)
        return Insertions(ok=ok, arrive=arrive, start=start, added=added, slack=np.maximum(slack, 0.0))

    def _positions(self) -> _Positions:
        """What every position offers, whatever the job: computed once per schedule."""
        if self._cached_positions is not None:
            return self._cached_positions
        _rows, width = self.size
        positions = np.arange(width)[None, :]
        brk = self.is_break
        shifted = np.concatenate([self.start[:, 1:], self.start[:, -1:]], axis=1)[:, :width]
        shifted_slack = np.concatenate([self.slack[:, 1:], self.slack[:, -1:]], axis=1)[:, :width]
        legs_after = np.concatenate([self.legs[:, 1:width], self.legs[:, width : width + 1]], axis=1)
        self._cached_positions = _Positions(
            leave=np.concatenate(
                [self.start_at[:, None], self.start[:, :-2] + self.duration[:, :-1]], axis=1
            ),
            valid=(positions <= self.n[:, None])
            & (positions >= self.first_free[:, None])
            & self.feasible[:, None],
            break_earliest=np.where(brk, self.earliest, -INF),
            break_latest=np.where(brk, self.latest, INF),
            break_duration=np.where(brk, self.duration, 0.0),
            next_start=np.where(brk, shifted, self.start[:, :width]),
            next_slack=np.where(brk, shifted_slack, self.slack[:, :width]),
            replaced=self.legs[:, :width] + np.where(brk, legs_after, 0.0),
        )
        return self._cached_positions


@dataclass(frozen=True)
class _Positions:
    leave: Array  # [R, N] when the technician leaves for position p
    valid: Mask
    break_earliest: Array  # the break a job at p would come before (-inf/inf/0 when none)
    break_latest: Array
    break_duration: Array
    next_start: Array  # the start and slack of what follows the job (past the break)
    next_slack: Array
    replaced: Array  # the travel a job at p replaces


@dataclass(frozen=True)
class Insertions:
    ok: Mask  # [R, N]
    arrive: Array
    start: Array
    added: Array  # added travel, seconds
    slack: Array  # how much later the new job could start and keep the day

    def best(self) -> tuple[npt.NDArray[np.int64], Mask]:
        """Per row the cheapest feasible position (by added travel), and whether there is one."""
        cost = np.where(self.ok, self.added, INF)
        position = np.argmin(cost, axis=1)
        return position, np.isfinite(cost[np.arange(cost.shape[0]), position])


async def build(days: Sequence[Day], travel: TravelTimes) -> RoutePlans:
    """Arrays for `days`, their legs from `travel`, scheduled."""
    stops = [sequence(day) for day in days]
    rows = len(days)
    width = max((len(s) for s in stops), default=0) + 1
    earliest = np.full((rows, width), -INF)
    latest = np.full((rows, width), INF)
    duration = np.zeros((rows, width))
    is_break = np.zeros((rows, width), dtype=bool)
    lat = np.zeros((rows, width))
    lon = np.zeros((rows, width))
    n = np.zeros(rows, dtype=np.int64)
    first_free = np.zeros(rows, dtype=np.int64)
    for r, (day, seq) in enumerate(zip(days, stops, strict=True)):
        n[r] = len(seq)
        for i, stop in enumerate(seq):
            earliest[r, i], latest[r, i], duration[r, i] = stop.earliest, stop.latest, stop.duration_s
            lat[r, i], lon[r, i] = stop.point
            is_break[r, i] = stop.is_break
            if stop.visit is not None and stop.visit.locked:
                first_free[r] = i + 1
        lat[r, len(seq) :], lon[r, len(seq) :] = day.end_point
    start_lat = np.array([d.start_point[0] for d in days], dtype=np.float64)
    start_lon = np.array([d.start_point[1] for d in days], dtype=np.float64)
    before_lat = np.concatenate([start_lat[:, None], lat[:, :-1]], axis=1)
    before_lon = np.concatenate([start_lon[:, None], lon[:, :-1]], axis=1)
    legs = np.zeros((rows, width + 1))
    if rows:
        legs[:, :width] = (
            await travel.between(
                np.stack([before_lat.ravel(), before_lon.ravel()], axis=1),
                np.stack([lat.ravel(), lon.ravel()], axis=1),
            )
        ).reshape(rows, width)
    plans = RoutePlans(
        days=list(days),
        stops=stops,
        n=n,
        first_free=first_free,
        earliest=earliest,
        latest=latest,
        duration=duration,
        is_break=is_break,
        lat=lat,
        lon=lon,
        start_lat=start_lat,
        start_lon=start_lon,
        start_at=np.array([d.start_at for d in days], dtype=np.float64),
        end_latest=np.array([d.end_latest for d in days], dtype=np.float64),
        legs=legs,
    )
    plans.schedule()
    return plans
