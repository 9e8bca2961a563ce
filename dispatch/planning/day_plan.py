"""A territory's day as the optimizer sees it, and the plan it returns; no solver in here.

Times are whole seconds from the problem's origin (the start of the planning horizon), travel
comes from the problem's own matrices between its numbered places, and every figure of a plan
is recomputed from those matrices by `schedule`, never taken from a solver. The same types serve
any engine behind `dispatch.planning.optimizer` and the independent check in `dispatch.planning.plan_check`.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from dispatch.matching import eligibility

Id = Hashable  # a technician's or a job's id: UUIDs from the database, names in benchmarks


@dataclass(frozen=True)
class Break:
    """An unpaid break of `duration_s`, to start between `earliest_s` and `latest_s`."""

    earliest_s: int
    latest_s: int
    duration_s: int


@dataclass(frozen=True)
class InHand:
    """A job already started (en route or on site): it stays with its technician, first, and
    the day is planned from where and when it ends."""

    job_id: Id
    place: int
    start_s: int
    end_s: int


@dataclass(frozen=True)
class TechnicianDay:
    id: Id
    start_place: int
    end_place: int
    start_s: int  # shift start, or now with the technician's latest position when re-planning
    end_s: int  # shift end
    overtime_s: int = 0
    skills: Mapping[str, int] = field(default_factory=dict)
    van: Mapping[str, int] = field(default_factory=dict)  # part -> units on board
    breaks: tuple[Break, ...] = ()
    in_hand: InHand | None = None


@dataclass(frozen=True)
class JobToPlan:
    id: Id
    place: int
    window_start_s: int  # arrival promised from ...
    window_end_s: int  # ... to: work starts inside the window
    duration_s: int
    required_skills: Mapping[str, int] = field(default_factory=dict)
    parts: Mapping[str, float] = field(default_factory=dict)  # part -> units expected (probability x units)
    mandatory: bool = True
    priority: int = 0  # for optional jobs: higher is worth more driving
    pinned_to: Id | None = None
    pinned_start_s: int | None = None

    def needs(self) -> dict[str, int]:
        """Units of each part the van is loaded with for this visit: the expected units rounded
        half up, so a single part goes on when it is more likely than not to be needed (matching's
        depot detour covers a less likely one on the day), and a certain need of 20 units is 20."""
        return {part: n for part, units in self.parts.items() if (n := math.floor(units + 0.5)) > 0}


@dataclass(frozen=True)
class DayProblem:
    technicians: Sequence[TechnicianDay]
    jobs: Sequence[JobToPlan]
    travel_s: npt.NDArray[np.int64]  # [place, place]
    distance_m: npt.NDArray[np.int64]  # [place, place]


def may_serve(tech: TechnicianDay, job: JobToPlan) -> bool:
    """Skill levels and pins: the rules a route can never bend. (Van stock is a load, checked
    over the whole route.)"""
    return bool(serving([tech], [job])[0, 0])


def serving(techs: Sequence[TechnicianDay], jobs: Sequence[JobToPlan]) -> npt.NDArray[np.bool_]:
    """may_serve for every technician [row] and job [column] at once; the skill rule is
    matching's (dispatch.matching.eligibility)."""
    allowed = eligibility.qualified([t.skills for t in techs], [j.required_skills for j in jobs])
    for j, job in enumerate(jobs):
        if job.pinned_to is not None:
            allowed[:, j] &= np.array([t.id == job.pinned_to for t in techs], dtype=bool).reshape(-1)
    return allowed


@dataclass(frozen=True)
class Visit:
    job_id: Id
    arrive_s: int
    start_s: int
    end_s: int


@dataclass(frozen=True)
class TakenBreak:
    start_s: int
    end_s: int
    after: int  # the break follows this many visits of the route


@dataclass(frozen=True)
class Route:
    technician_id: Id
    visits: tuple[Visit, ...]  # the job in hand first, when there is one
    breaks: tuple[TakenBreak, ...]
    leave_s: int
    return_s: int
    travel_s: int
    distance_m: int


@dataclass(frozen=True)
class Plan:
    routes: tuple[Route, ...]
    unplanned: Mapping[Id, str]  # job -> why it could not be planned

    def route_of(self, technician_id: Id) -> Route | None:
        return next((r for r in self.routes if r.technician_id == technician_id), None)


def schedule(problem: DayProblem, tech: TechnicianDay, job_ids: Sequence[Id]) -> Route:
    """The technician's day in this order, timed from the problem's matrices (waiting at a door
    until its window opens). Each break goes, in turn, after the visit where it delays the day
    least while every window still holds; if no place keeps them all, where it breaks the
    fewest. A break that fits nowhere is left out, and the check names it."""
    jobs = {j.id: j for j in problem.jobs}
    order = [jobs[i] for i in job_ids]
    placed: list[tuple[int, Break]] = []
    for brk in sorted(tech.breaks, key=lambda b: b.earliest_s):
        best: tuple[tuple[int, int], int] | None = None
        for after in range(len(order) + 1):
            timed = _walk(problem, tech, order, [*placed, (after, brk)])
            if timed is None:
                continue
            visits, _, return_s = timed
            late = sum(1 for v, j in zip(visits, order, strict=True) if v.start_s > _latest_start(j))
            if best is None or (late, return_s) < best[0]:
                best = ((late, return_s), after)
        if best is not None:
            placed.append((best[1], brk))
    timed = _walk(problem, tech, order, placed)
    assert timed is not None, "breaks are kept only where they fit"
    visits, taken, return_s = timed
    origin = _origin(tech)
    places = [origin, *[j.place for j in order], tech.end_place]
    legs = list(itertools.pairwise(places))
    head = [Visit(h.job_id, h.start_s, h.start_s, h.end_s)] if (h := tech.in_hand) else []
    return Route(
        technician_id=tech.id,
        visits=tuple(head + visits),
        breaks=tuple(taken),
        leave_s=_free(tech),
        return_s=return_s,
        travel_s=sum(int(problem.travel_s[a, b]) for a, b in legs),
        distance_m=sum(int(problem.distance_m[a, b]) for a, b in legs),
    )


def faults(problem: DayProblem, tech: TechnicianDay, route: Route) -> int:
    """How many rules a timed route breaks on its own: visits late, breaks left out, and
    coming home after the shift and its overtime."""
    closes = {j.id: _latest_start(j) for j in problem.jobs}
    late = sum(1 for v in route.visits if v.job_id in closes and v.start_s > closes[v.job_id])
    home_late = route.return_s > tech.end_s + tech.overtime_s
    return late + (len(tech.breaks) - len(route.breaks)) + home_late


def resequence(problem: DayProblem, tech: TechnicianDay, job_ids: Sequence[Id], *, passes: int = 20) -> Route:
    """The same jobs in a better order when the day, timed with its breaks, breaks a rule:
    moving one visit at a time to another place in the day, keeping any move that breaks fewer
    rules (or as few, driving less). For the days a solver returns with a fault (it skipped a
    break, or found no way to keep every promise in its time); a day's dozen visits make this
    quick."""
    order = list(job_ids)
    best = schedule(problem, tech, order)
    score = (faults(problem, tech, best), best.travel_s)
    for _ in range(passes):
        if score[0] == 0:
            break
        improved = False
        for i in range(len(order)):
            for j in range(len(order)):
                if i == j:
                    continue
                trial = order[:i] + order[i + 1 :]
                trial.insert(j, order[i])
                route = schedule(problem, tech, trial)
                trial_score = (faults(problem, tech, route), route.travel_s)
                if trial_score < score:
                    order, best, score, improved = trial, route, trial_score, True
                    break
            if improved:
                break
        if not improved:
            break
    return best


def _latest_start(job: JobToPlan) -> int:
    return job.pinned_start_s if job.pinned_start_s is not None else job.window_end_s


def _origin(tech: TechnicianDay) -> int:
    return tech.in_hand.place if tech.in_hand else tech.start_place


def _free(tech: TechnicianDay) -> int:
    return max(tech.start_s, tech.in_hand.end_s) if tech.in_hand else tech.start_s


def _walk(
    problem: DayProblem, tech: TechnicianDay, order: Sequence[JobToPlan], breaks: Sequence[tuple[int, Break]]
) -> tuple[list[Visit], list[TakenBreak], int] | None:
    """Time the route with each break taken after that many visits, as soon as its window
    allows: where the technician is, or, when that starts the next job sooner, on arriving at
    its door (the drive done before the break window opens); None when a break would start
    after its window."""
    clock, place = _free(tech), _origin(tech)
    visits: list[Visit] = []
    taken: list[TakenBreak] = []

    def rest(position: int, at: int) -> bool:
        nonlocal clock
        for after, brk in sorted(breaks, key=lambda b: b[1].earliest_s):
            if after != position:
                continue
            start = max(at, brk.earliest_s)
            if start > brk.latest_s:
                return False
            taken.append(TakenBreak(start, start + brk.duration_s, after))
            at = clock = start + brk.duration_s
        return True

    for n, job in enumerate(order):
        travel = int(problem.travel_s[place, job.place])
        opens = job.pinned_start_s if job.pinned_start_s is not None else job.window_start_s
        before = clock
        mark = len(taken)
        if not rest(n, clock):
            return None
        here = (clock + travel, max(clock + travel, opens))  # break first, then the drive
        if len(taken) > mark:
            # Or drive first and take the break at the door, if that starts the job sooner.
            there_taken = list(taken[:mark])
            at_door = before + travel
            kept, taken[:] = taken[:], there_taken
            clock = before
            if rest(n, at_door) and max(clock, opens) < here[1]:
                arrive = at_door
                start = max(clock, opens)
            else:
                taken[:] = kept
                clock = kept[-1].end_s
                arrive, start = here
        else:
            arrive, start = here
        visits.append(Visit(job.id, arrive, start, start + job.duration_s))
        clock, place = start + job.duration_s, job.place
    if not rest(len(order), clock):
        return None
    return visits, taken, clock + int(problem.travel_s[place, tech.end_place])
