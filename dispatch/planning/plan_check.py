"""The independent check every plan passes before it is applied.

Nothing the solver says is trusted: each route is walked again with the problem's own travel
matrix, and every rule of the day is tested on the result. A violation names the rule, the job
and the technician, so a plan that fails says why.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from dispatch.planning.day_plan import DayProblem, Id, JobToPlan, Plan, Route, TechnicianDay, may_serve


@dataclass(frozen=True)
class Violation:
    rule: str  # window, shift, break, skill, pin, pinned time, job in hand, van stock, ...
    job_id: Id | None
    technician_id: Id | None
    detail: str

    def __str__(self) -> str:
        who = " ".join(f"{k} {v}" for k, v in (("job", self.job_id), ("technician", self.technician_id)) if v)
        return f"{self.rule} ({who}): {self.detail}"


def check(problem: DayProblem, plan: Plan) -> list[Violation]:
    techs = {t.id: t for t in problem.technicians}
    jobs = {j.id: j for j in problem.jobs}
    found: list[Violation] = []
    seen = Counter(v.job_id for r in plan.routes for v in r.visits)
    for job_id, times in seen.items():
        if times > 1:
            found.append(Violation("once", job_id, None, f"planned {times} times"))
    for job in problem.jobs:
        if job.id not in seen and job.id not in plan.unplanned:
            found.append(Violation("accounted", job.id, None, "neither planned nor said why not"))
        elif job.mandatory and job.id in plan.unplanned:
            # A job already promised to a customer is never dropped by a plan: the plan fails.
            found.append(Violation("mandatory", job.id, None, plan.unplanned[job.id]))
    for tech in problem.technicians:
        if tech.in_hand is not None:
            route = plan.route_of(tech.id)
            if route is None or not route.visits or route.visits[0].job_id != tech.in_hand.job_id:
                found.append(Violation("job in hand", tech.in_hand.job_id, tech.id, "not kept first"))
    for route in plan.routes:
        owner = techs.get(route.technician_id)
        if owner is None:
            found.append(Violation("technician", None, route.technician_id, "not in this day"))
            continue
        found += _check_route(problem, owner, route, jobs)
    return found


def _check_route(
    problem: DayProblem, tech: TechnicianDay, route: Route, jobs: dict[Id, JobToPlan]
) -> list[Violation]:
    found: list[Violation] = []
    visits = list(route.visits)
    if tech.in_hand is not None and visits and visits[0].job_id == tech.in_hand.job_id:
        visits = visits[1:]
        clock, place = max(tech.start_s, tech.in_hand.end_s), tech.in_hand.place
    else:
        clock, place = tech.start_s, tech.start_place
    if route.leave_s < clock:
        found.append(Violation("shift", None, tech.id, f"leaves at {route.leave_s}, free only at {clock}"))
    breaks = sorted(route.breaks, key=lambda b: (b.after, b.start_s))
    if len(breaks) != len(tech.breaks):
        found.append(Violation("break", None, tech.id, f"{len(breaks)} of {len(tech.breaks)} breaks placed"))
    by_time = sorted(breaks, key=lambda b: b.start_s)
    for taken, due in zip(by_time, sorted(tech.breaks, key=lambda b: b.earliest_s), strict=False):
        if (
            not due.earliest_s <= taken.start_s <= due.latest_s
            or taken.end_s - taken.start_s < due.duration_s
        ):
            found.append(
                Violation("break", None, tech.id, f"{taken.start_s}-{taken.end_s} outside its window")
            )
    load: Counter[str] = Counter()
    for n, visit in enumerate(visits):
        job = jobs.get(visit.job_id)
        if job is None:
            found.append(Violation("job", visit.job_id, tech.id, "not in this day"))
            continue
        at_door = []
        for taken in breaks:
            if taken.after != n:
                continue
            if taken.start_s < clock:
                found.append(Violation("break", None, tech.id, "starts before the visit before it ends"))
            if taken.start_s >= visit.arrive_s:
                at_door.append(taken)  # taken on arriving, before the work starts
            else:
                clock = max(clock, taken.end_s)
        if any(taken.end_s > visit.start_s for taken in at_door):
            found.append(Violation("break", job.id, tech.id, "the work starts before the break ends"))
        earliest = clock + int(problem.travel_s[place, job.place])
        if visit.arrive_s < earliest:
            found.append(
                Violation("travel", job.id, tech.id, f"arrives at {visit.arrive_s}, {earliest} at best")
            )
        opens = job.pinned_start_s if job.pinned_start_s is not None else job.window_start_s
        closes = job.pinned_start_s if job.pinned_start_s is not None else job.window_end_s
        rule = "pinned time" if job.pinned_start_s is not None else "window"
        if not opens <= visit.start_s <= closes or visit.start_s < visit.arrive_s:
            found.append(
                Violation(rule, job.id, tech.id, f"starts at {visit.start_s}, allowed {opens}-{closes}")
            )
        if visit.end_s - visit.start_s < job.duration_s:
            found.append(Violation("duration", job.id, tech.id, "shorter than the job"))
        if not may_serve(tech, job):
            rule = "pin" if job.pinned_to not in (None, tech.id) else "skill"
            found.append(Violation(rule, job.id, tech.id, "may not serve this job"))
        load.update(job.needs())
        clock, place = visit.end_s, job.place
    for taken in breaks:
        if taken.after >= len(visits):
            clock = max(clock, taken.end_s)
    home = clock + int(problem.travel_s[place, tech.end_place])
    if route.return_s < home or route.return_s > tech.end_s + tech.overtime_s:
        found.append(
            Violation(
                "shift", None, tech.id, f"home at {route.return_s}, shift ends {tech.end_s}+{tech.overtime_s}"
            )
        )
    for part, units in load.items():
        if units > tech.van.get(part, 0):
            found.append(
                Violation(
                    "van stock", None, tech.id, f"{units} x {part} needed, {tech.van.get(part, 0)} on board"
                )
            )
    return found
