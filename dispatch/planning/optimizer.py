"""The day optimizer: a territory's day compiled into PyVRP, solved, and read back as a Plan.

PyVRP is the only engine here and this is its only home; everything it is given and everything
it answers goes through dispatch.planning.day_plan's types, so another engine could stand in its place
(the domain tests take the solver as a parameter).

How the domain maps onto the solver, in integer seconds:
- Each technician's day is a vehicle: its own start (the shift's start place, or where the
  job in hand ends) and end place, the shift as its time window, the allowed overtime on top.
  Technicians alike in all of that share a vehicle type.
- Breaks, which PyVRP has none of: a load dimension per kind of break and "a break right after
  this visit" as optional clients at the job sites (see _compile); day_plan.schedule then
  places each break where the technician is.
- Skill levels and pins: one routing profile per distinct set of jobs a technician may serve;
  in a profile, every edge into a job it may not serve is prohibitive. PyVRP treats that as a
  cost, not a rule, so every plan is checked afterwards (dispatch.planning.plan_check).
- Van stock: one load dimension per part some job is likely to need; the van carries its stock
  as capacity and each visit is loaded with the parts it more likely than not needs.
- Mandatory jobs are required; optional ones carry a prize by priority.
- A pinned start is a window of one second. Each job has a place of its own in the solver
  (sites shared by two jobs included), so a profile can forbid one and not the other.
- The objective is driving time.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
from pyvrp import (
    Activity,
    ActivityType,
    Client,
    Depot,
    Location,
    ProblemData,
    Route as SolverRoute,
    Solution,
    VehicleType,
    solve as pyvrp_solve,
)
from pyvrp.exceptions import PenaltyBoundWarning
from pyvrp.stop import MaxIterations, MaxRuntime, MultipleCriteria, NoImprovement, StoppingCriterion

from dispatch.planning.day_plan import (
    DayProblem,
    Id,
    JobToPlan,
    Plan,
    Route,
    TechnicianDay,
    faults,
    resequence,
    schedule,
    serving,
)

FORBIDDEN = 10**9  # seconds: an edge no route may take (a cost to PyVRP, so plans are checked)
PRIZE_PER_PRIORITY_S = 3600  # an optional job is worth this much driving per priority level
OVERTIME_COST = 2  # per second of overtime, on top of the driving it allows
# More than any optional job is worth (at most 18,000), so no plan trades a break for a job;
# far above that, PyVRP found it cheaper to overload a day with breaks than to go without.
BREAK_PRIZE = 20_000
BREAK_REACH_S = 3600  # a break may follow a visit that ends up to an hour before its window opens

NO_ONE = "no qualified technician on shift"
TOO_TIGHT = "window too tight"
NO_PARTS = "parts nowhere"
NO_ROOM = "no room in any day"


def solve(
    problem: DayProblem,
    *,
    time_limit_s: float,
    seed: int = 0,
    patience: int | None = None,
    iterations: int | None = None,
    start: Mapping[Id, Sequence[Id]] | None = None,
) -> Plan:
    """The best plan found in the time given, or once `patience` iterations in a row found
    nothing better (a re-plan after one change settles in a few hundred), or after
    `iterations`. The same seed and the same number of iterations give the same plan; a search
    cut by the clock does as many iterations as the machine allows, so it may not. `start`
    (technician -> jobs in order, the day as it stands) is where the search begins: a promise
    the current day keeps is never harder to keep than from scratch."""
    serves = serving(problem.technicians, problem.jobs)
    reasons = {
        job.id: why for j, job in enumerate(problem.jobs) if (why := _impossible(problem, job, serves[:, j]))
    }
    jobs = [job for job in problem.jobs if job.id not in reasons]
    techs = list(problem.technicians)
    if not jobs or not techs:
        return Plan(routes=(), unplanned={**reasons, **{j.id: NO_ROOM for j in jobs}})
    routes = _search(problem, techs, jobs, time_limit_s, seed, patience, iterations, start)
    ids = {j.id for j in jobs}
    # A day still late once its breaks are placed (the solver saw them at job sites, the day
    # takes them where the technician is): other orders of its visits, one move at a time.
    # If that is not enough, an optional job waits for another day rather than a promise break.
    optional = {j.id for j in jobs if not j.mandatory}
    routes = [
        (
            tech,
            _shed(
                problem,
                tech,
                resequence(problem, tech, [v.job_id for v in day.visits if v.job_id in ids]),
                optional,
            ),
        )
        if faults(problem, tech, day)
        else (tech, day)
        for tech, day in routes
    ]
    planned = {v.job_id for _, day in routes for v in day.visits}
    days = [day for _, day in routes]
    for tech in techs:
        # A technician with a job in hand keeps it even when nothing else is planned for them.
        if tech.in_hand is not None and not any(d.technician_id == tech.id for d in days):
            days.append(schedule(problem, tech, []))
    for job in jobs:
        if job.id not in planned:
            reasons[job.id] = NO_ROOM
    return Plan(routes=tuple(days), unplanned=reasons)


def _search(
    problem: DayProblem,
    techs: Sequence[TechnicianDay],
    jobs: Sequence[JobToPlan],
    time_limit_s: float,
    seed: int,
    patience: int | None,
    iterations: int | None,
    start: Mapping[Id, Sequence[Id]] | None,
) -> list[tuple[TechnicianDay, Route]]:
    """One run of the solver; each technician sent out with their day timed by schedule."""
    data, fleets = _compile(problem, techs, jobs)
    criteria: list[StoppingCriterion] = [MaxRuntime(time_limit_s)]
    if patience is not None:
        criteria.append(NoImprovement(patience))
    if iterations is not None:
        criteria.append(MaxIterations(iterations))
    stop = MultipleCriteria(criteria)
    initial = _initial(data, fleets, jobs, start) if start else None
    with warnings.catch_warnings():
        # A day that cannot hold every job (a technician called in sick) drives the solver's
        # penalties to their bound; the plan then names the jobs left out, which is the answer.
        warnings.simplefilter("ignore", PenaltyBoundWarning)
        result = pyvrp_solve(data, stop, seed=seed, collect_stats=False, initial_solution=initial)
    routes = []
    free = [list(fleet) for fleet in fleets]
    for solved in result.best.routes():
        tech = free[solved.vehicle_type()].pop(0)  # the technicians of one type are alike here
        order = [jobs[a.idx].id for a in solved.schedule() if a.is_client() and a.idx < len(jobs)]
        if order:  # not a technician sent out only to take a break
            routes.append((tech, schedule(problem, tech, order)))
    return routes


def _shed(problem: DayProblem, tech: TechnicianDay, day: Route, optional: set[Id]) -> Route:
    """Take optional jobs out of a day that breaks a rule, each time the one whose absence
    leaves the fewest faults, until it breaks none or only promised jobs are left."""
    while faults(problem, tech, day) and (spare := [v.job_id for v in day.visits if v.job_id in optional]):
        order = [v.job_id for v in day.visits if not (tech.in_hand and v.job_id == tech.in_hand.job_id)]
        trials = [schedule(problem, tech, [j for j in order if j != out]) for out in spare]
        day = min(trials, key=lambda d: (faults(problem, tech, d), d.travel_s))
    return day


def _initial(
    data: ProblemData,
    fleets: Sequence[Sequence[TechnicianDay]],
    jobs: Sequence[JobToPlan],
    start: Mapping[Id, Sequence[Id]],
) -> Solution:
    index = {job.id: i for i, job in enumerate(jobs)}
    routes = []
    for vehicle_type, fleet in enumerate(fleets):
        for tech in fleet:
            visits = [Activity(ActivityType.CLIENT, index[j]) for j in start.get(tech.id, ()) if j in index]
            if visits:
                routes.append(SolverRoute(data, visits, vehicle_type))
    return Solution(data, routes)


def _impossible(problem: DayProblem, job: JobToPlan, serves: npt.NDArray[np.bool_]) -> str | None:
    """Why no route could ever hold this job, judged alone against each technician's day
    (`serves`: who may serve it, a row per technician)."""
    qualified = [t for t, may in zip(problem.technicians, serves.tolist(), strict=True) if may]
    if not qualified:
        return NO_ONE
    needs = job.needs()
    if needs and not any(all(t.van.get(p, 0) >= n for p, n in needs.items()) for t in qualified):
        return NO_PARTS
    opens, latest = _window(job)
    for tech in qualified:
        origin, free = _start(tech)
        start = max(free + int(problem.travel_s[origin, job.place]), opens)
        home = start + job.duration_s + int(problem.travel_s[job.place, tech.end_place])
        if start <= latest and home <= tech.end_s + tech.overtime_s - _reserved(tech):
            return None
    return TOO_TIGHT


def _window(job: JobToPlan) -> tuple[int, int]:
    """When work may start: the promised window, or the one second a dispatcher pinned."""
    if job.pinned_start_s is not None:
        return job.pinned_start_s, job.pinned_start_s
    return job.window_start_s, job.window_end_s


def _start(tech: TechnicianDay) -> tuple[int, int]:
    if tech.in_hand is not None:
        return tech.in_hand.place, max(tech.start_s, tech.in_hand.end_s)
    return tech.start_place, tech.start_s


def _reserved(tech: TechnicianDay) -> int:
    return sum(b.duration_s for b in tech.breaks)


def _compile(
    problem: DayProblem, techs: Sequence[TechnicianDay], jobs: Sequence[JobToPlan]
) -> tuple[ProblemData, list[list[TechnicianDay]]]:
    """The solver's problem, and the technicians behind each of its vehicle types: technicians
    alike in everything the solver sees (places, hours, van, the jobs they may serve) share one
    type, which spares the search from trying swaps between identical vans.

    Breaks: PyVRP has none, and a break placed after solving can push later visits out of
    their windows. So each kind of break (its window and length) becomes a load dimension that
    a technician's van holds one of per break, and "a break right after this visit" a client at
    every job site whose window meets the break's, optional with a prize no plan forgoes: a
    route then takes exactly its breaks, where the solver can see what they cost. Taken where
    the technician is rather than at that site, a break never costs more than the solver
    counted, so a plan it found feasible stays feasible when day_plan.schedule places it."""
    kinds = sorted(
        {b for t in techs for b in t.breaks}, key=lambda b: (b.earliest_s, b.latest_s, b.duration_s)
    )
    alternatives = [
        (k, i)
        for k, brk in enumerate(kinds)
        for i, job in enumerate(jobs)
        if _window(job)[0] <= brk.latest_s
        and _window(job)[1] + job.duration_s >= brk.earliest_s - BREAK_REACH_S
    ]
    # Solver places: each technician's start and end, then each job, then each break alternative
    # (at its job's place); indices into our places.
    ours = (
        [_start(t)[0] for t in techs]
        + [t.end_place for t in techs]
        + [j.place for j in jobs]
        + [jobs[i].place for _, i in alternatives]
    )
    base_travel = problem.travel_s[np.ix_(ours, ours)].astype(np.int64)
    first_job = 2 * len(techs)
    parts = sorted({p for j in jobs for p in j.needs()})
    profiles: dict[frozenset[int], int] = {}
    matrices: list[Any] = []  # int64 [place, place]; PyVRP's stubs spell the array type oddly
    fleets: dict[tuple[object, ...], tuple[VehicleType, list[TechnicianDay]]] = {}
    serves = serving(techs, jobs)
    for n, tech in enumerate(techs):
        allowed = frozenset(int(i) for i in np.flatnonzero(serves[n]))
        if allowed not in profiles:
            profiles[allowed] = len(matrices)
            matrix = base_travel.copy()
            barred = [first_job + i for i in range(len(jobs)) if i not in allowed]
            matrix[:, barred] = FORBIDDEN
            np.fill_diagonal(matrix, 0)
            matrices.append(matrix)
        origin, free = _start(tech)
        capacity = [tech.van.get(p, 0) for p in parts] + [tech.breaks.count(b) for b in kinds]
        key = (origin, tech.end_place, free, tech.end_s, tech.overtime_s, tuple(capacity), allowed)
        if key in fleets:
            fleets[key][1].append(tech)
            continue
        vehicle = VehicleType(
            num_available=1,
            capacity=capacity,
            start_depot=n,
            end_depot=len(techs) + n,
            tw_early=free,
            tw_late=tech.end_s + tech.overtime_s,
            shift_duration=max(0, tech.end_s - free),
            max_overtime=tech.overtime_s,
            unit_overtime_cost=OVERTIME_COST,
            unit_distance_cost=1,
            unit_duration_cost=0,
            profile=profiles[allowed],
        )
        fleets[key] = (vehicle, [tech])
    no_breaks = [0] * len(kinds)
    clients = [
        Client(
            location=first_job + i,
            delivery=[job.needs().get(p, 0) for p in parts] + no_breaks,
            service_duration=job.duration_s,
            tw_early=_window(job)[0],
            tw_late=_window(job)[1],
            required=job.mandatory,
            prize=0 if job.mandatory else PRIZE_PER_PRIORITY_S * (1 + job.priority),
            name=str(job.id),
        )
        for i, job in enumerate(jobs)
    ] + [
        Client(
            location=first_job + len(jobs) + n,
            delivery=[0] * len(parts) + [int(k == kind) for k in range(len(kinds))],
            service_duration=kinds[kind].duration_s,
            tw_early=kinds[kind].earliest_s,
            tw_late=kinds[kind].latest_s,
            required=False,
            prize=BREAK_PRIZE,
            name="break",
        )
        for n, (kind, _) in enumerate(alternatives)
    ]
    data = ProblemData(
        locations=[Location(0, 0) for _ in ours],
        clients=clients,
        depots=[Depot(i) for i in range(2 * len(techs))],
        vehicle_types=[v.replace(num_available=len(alike)) for v, alike in fleets.values()],
        # Driving time is both what is minimised (as "distance") and what the clock runs on.
        distance_matrices=matrices,
        duration_matrices=matrices,
    )
    return data, [alike for _, alike in fleets.values()]
