"""Where one more job fits in a technician's day, in O(n) for a route of n stops: the scalar
version the tests check `dispatch.matching.route_plan`'s arrays against.

A route is the shift's start, its stops in order (jobs, and breaks, which are stops without a
place of their own), and the shift's end. Times are seconds on one clock. Each stop has a window
for its *start* ([earliest, latest]) and a duration; arriving early means waiting.

Forward time slack (Savelsbergh, 1992): F_i is how far the start of stop i can be pushed back
without any stop from i onwards missing its window, F_i = min(latest_i - start_i,
wait_{i+1} + F_{i+1}), computed once backwards. Inserting job u between i and i+1 is then
feasible iff u starts inside its window and the push it causes at i+1 is at most F_{i+1}: one
pass over the positions, each checked in constant time.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Stop:
    earliest: float  # earliest start
    latest: float  # latest start
    duration: float


@dataclass(frozen=True)
class Route:
    start_at: float  # when the shift starts, at its start place
    stops: Sequence[Stop]
    end_latest: float  # the latest arrival at the end place (shift end plus allowed overtime)
    legs: Sequence[float]  # travel: start -> stop 0, stop 0 -> stop 1, ..., last stop -> end (n + 1 legs)


@dataclass(frozen=True)
class Timing:
    arrive: float
    start: float


@dataclass(frozen=True)
class Insertion:
    position: int  # the job goes before stops[position] (len(stops) = last)
    arrive: float
    start: float
    added_travel_s: float
    slack_s: float  # how late the new job itself could still start and keep the whole day feasible


def schedule(route: Route) -> list[Timing] | None:
    """Arrival and start of every stop, then of the end (index n); None if a window is missed."""
    assert len(route.legs) == len(route.stops) + 1
    timings: list[Timing] = []
    clock = route.start_at
    for stop, leg in zip(route.stops, route.legs, strict=False):
        arrive = clock + leg
        start = max(arrive, stop.earliest)
        if start > stop.latest:
            return None
        timings.append(Timing(arrive, start))
        clock = start + stop.duration
    arrive_end = clock + route.legs[-1]
    if arrive_end > route.end_latest:
        return None
    timings.append(Timing(arrive_end, arrive_end))
    return timings


def forward_slack(route: Route, timings: Sequence[Timing]) -> list[float]:
    """F_i for every stop and for the end (index n)."""
    n = len(route.stops)
    slack = [0.0] * (n + 1)
    slack[n] = route.end_latest - timings[n].start
    for i in range(n - 1, -1, -1):
        wait_next = timings[i + 1].start - timings[i + 1].arrive
        slack[i] = min(route.stops[i].latest - timings[i].start, wait_next + slack[i + 1])
    return slack


def best_insertion(
    route: Route, job: Stop, to_job: Sequence[float], from_job: Sequence[float]
) -> Insertion | None:
    """The cheapest feasible position by added travel, or None when the job fits nowhere.

    to_job[i]: travel from the shift start (i = 0) or stop i-1 to the job; from_job[i]: travel from
    the job to stop i (i < n) or to the end (i = n).
    """
    n = len(route.stops)
    timings = schedule(route)
    if timings is None:
        return None  # the day is already broken; nothing can be promised on top of it
    slack = forward_slack(route, timings)
    best: Insertion | None = None
    for position in range(n + 1):
        leave = (
            route.start_at
            if position == 0
            else timings[position - 1].start + route.stops[position - 1].duration
        )
        arrive = leave + to_job[position]
        start = max(arrive, job.earliest)
        if start > job.latest:
            if arrive > job.latest:
                break  # every later position leaves later still
            continue
        next_arrive = start + job.duration + from_job[position]
        push = max(0.0, next_arrive - timings[position].start) if position < n else 0.0
        if position < n and push > slack[position]:
            continue
        if position == n and next_arrive > route.end_latest:
            continue
        added = to_job[position] + from_job[position] - route.legs[position]
        if best is None or added < best.added_travel_s - 1e-9:
            if position < n:
                # A later start first eats the wait left at the next stop, then that stop's slack.
                wait_left = max(0.0, timings[position].start - next_arrive)
                downstream = slack[position] - push + wait_left
            else:
                downstream = route.end_latest - next_arrive
            best = Insertion(position, arrive, start, added, max(0.0, min(job.latest - start, downstream)))
    return best
