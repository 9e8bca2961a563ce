"""Planning a territory's day with the optimizer: read the day, solve it, and apply the plan.

Reading turns the database's day into a DayProblem (seconds from the territory's local
midnight, one matrix from the territory's travel model): each technician's shift with its
breaks, skills and van; each open job with its window, skills, likely parts and pins; a job
already under way stays in its technician's hands. Jobs already promised to a technician are
mandatory; new ones are optional, worth more the more urgent they are. The versions of every
job read are kept with the plan: applying refuses, changing nothing, when any of them moved
since, so a dispatcher's edit made during a solve is never overwritten.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, cast
from uuid import UUID
from zoneinfo import ZoneInfo

import numpy as np
from asyncpg import Record

from dispatch.access.accounts import Principal
from dispatch.jobs import changes as job_changes, day_release, records as job_records
from dispatch.matching import days as matching_days
from dispatch.matching.context import travel_for
from dispatch.matching.days import JobPlace
from dispatch.models import JobStatus
from dispatch.planning import optimizer, plan_queries
from dispatch.planning.day_plan import Break, DayProblem, InHand, JobToPlan, Plan, TechnicianDay, schedule
from dispatch.planning.plan_check import Violation, check
from dispatch.travel.sources import TravelTimes, pairwise_m
from infra.db import Connection
from infra.errors import ConflictError, NotFoundError
from notifications.notices import Assigned, JobAdded, JobRemoved
from notifications.outbox import Audience, Message, enqueue, job_topic

FRESH_FIX = timedelta(minutes=15)  # a technician's latest position this recent is where they are
# A re-plan after one change settles fast (21 jobs: 200 iterations find the plan that 2,000
# find), so it stops once 200 in a row find nothing better rather than at its time limit.
REPLAN_PATIENCE = 200


@dataclass(frozen=True)
class LoadedDay:
    problem: DayProblem
    territory_id: UUID
    day: date
    origin: datetime  # the problem's second 0: the territory's local midnight
    versions: dict[UUID, int]  # every job read -> its version then
    before: dict[UUID, UUID | None]  # job -> its technician before the plan
    planned_s: dict[UUID, int | None]  # job -> its planned start before the plan


async def load_day(
    conn: Connection,
    territory_id: UUID,
    day: date,
    *,
    now: datetime,
    replan: bool = False,
    routing: TravelTimes | None = None,
) -> LoadedDay:
    area = await plan_queries.territory(conn, territory_id)
    if area is None:
        raise NotFoundError("No such territory.", field="territory_id")
    zone = ZoneInfo(area["timezone"])
    origin = datetime.combine(day, time(0), zone).astimezone(UTC)
    ends = datetime.combine(day + timedelta(days=1), time(0), zone).astimezone(UTC)
    rows = await plan_queries.day_jobs(conn, territory_id, origin, ends)
    # Technicians of the territory, and any from elsewhere who hold one of its jobs.
    ids = list(
        dict.fromkeys(
            [*await plan_queries.territory_technicians(conn, territory_id)]
            + [r["technician_id"] for r in rows if r["technician_id"] is not None]
        )
    )
    people = {t.id: t for t in await matching_days.technicians(conn, ids)}
    shifts: dict[UUID, matching_days.ShiftRow] = {}
    for row in await matching_days.shifts_overlapping(conn, ids, origin, ends):
        if origin <= row.starts_at < ends:
            shifts.setdefault(row.technician_id, row)
    # Van stock of the parts the day's jobs are likely to need (the solver's load dimensions).
    part_ids = sorted({UUID(part) for r in rows for part in r["parts"]})
    vans = {
        tech: {str(part): units for part, units in stock.items()}
        for tech, stock in (await matching_days.van_stock(conn, part_ids)).items()
    }
    fixes = await plan_queries.latest_positions(conn, ids, now - FRESH_FIX) if replan else {}
    points: list[tuple[float, float]] = []

    def place(point: tuple[float, float]) -> int:
        points.append(point)
        return len(points) - 1

    def at(moment: datetime) -> int:
        return int((moment - origin).total_seconds())

    clock = at(now) if replan else 0
    in_hand: dict[UUID, InHand] = {}
    jobs: list[JobToPlan] = []
    for r in rows:
        site = (r["latitude"], r["longitude"])
        if r["status"] in ("en_route", "on_site") and r["technician_id"] not in in_hand:
            if r["status"] == "on_site":
                start = at(r["started_at"] or now)
                end = max(start + r["duration_s"], at(now))
            else:
                start = max(at(r["eta_at"] or now), at(now))
                end = start + r["duration_s"]
            in_hand[r["technician_id"]] = InHand(r["id"], place(site), start, end)
            continue
        pinned = r["pinned"] and r["technician_id"] is not None
        jobs.append(
            JobToPlan(
                id=r["id"],
                place=place(site),
                window_start_s=max(at(r["window_start_at"]), clock),
                window_end_s=at(r["window_end_at"]),
                duration_s=r["duration_s"],
                required_skills=r["required_skills"],
                parts=r["parts"],
                mandatory=r["status"] != JobStatus.NEW.value,
                priority=5 - r["priority"],  # 1, the most urgent, is worth the most
                pinned_to=r["technician_id"] if pinned else None,
                pinned_start_s=at(r["pinned_start_at"]) if pinned and r["pinned_start_at"] else None,
            )
        )
    technicians = []
    for tech_id in ids:
        found = shifts.get(tech_id)
        if found is None or (replan and found.ends_at + timedelta(seconds=found.overtime_s) <= now):
            continue
        shift = found
        start_s = max(at(shift.starts_at), clock)
        starts_from = fixes.get(tech_id) if replan and at(shift.starts_at) < clock else None
        breaks = tuple(
            Break(max(at(earliest), clock), at(latest) - seconds, seconds)
            for earliest, latest, seconds in shift.breaks
            if at(latest) - seconds >= max(at(earliest), clock)
        )
        technicians.append(
            TechnicianDay(
                id=tech_id,
                start_place=place(starts_from or shift.start),
                end_place=place(shift.end),
                start_s=start_s,
                end_s=at(shift.ends_at),
                overtime_s=shift.overtime_s,
                skills=people[tech_id].skills,
                van=vans.get(tech_id, {}),
                breaks=breaks,
                in_hand=in_hand.get(tech_id),
            )
        )
    travel_s, distance_m = await _matrices(points, area, routing)
    return LoadedDay(
        problem=DayProblem(technicians, jobs, travel_s, distance_m),
        territory_id=territory_id,
        day=day,
        origin=origin,
        versions={r["id"]: r["version"] for r in rows},
        before={r["id"]: r["technician_id"] for r in rows},
        planned_s={r["id"]: at(r["planned_start_at"]) if r["planned_start_at"] else None for r in rows},
    )


async def _matrices(
    points: Sequence[tuple[float, float]], area: Record, routing: TravelTimes | None
) -> tuple[np.ndarray, np.ndarray]:
    """Seconds and road metres between every two places, from the territory's travel model."""
    if not points:
        empty = np.zeros((0, 0), dtype=np.int64)
        return empty, empty
    model = travel_for(
        JobPlace(
            point=points[0],
            territory_id=area["id"],
            timezone=area["timezone"],
            circuity_factor=area["circuity_factor"],
            speed_kmh=area["speed_kmh"],
            stop_overhead_s=area["stop_overhead_s"],
            straight_line=matching_days.learned_of(area, "straight"),
            road_router=matching_days.learned_of(area, "road"),
        ),
        routing,
    )
    at = np.asarray(points, dtype=np.float64)
    n = len(at)
    origins, destinations = np.repeat(at, n, axis=0), np.tile(at, (n, 1))
    seconds = (await model.between(origins, destinations)).reshape(n, n)
    metres = pairwise_m(origins, destinations).reshape(n, n) * area["circuity_factor"]
    return np.rint(seconds).astype(np.int64), np.rint(metres).astype(np.int64)


def solve_and_check(
    loaded: LoadedDay, time_limit_s: float, seed: int, patience: int | None = None
) -> tuple[Plan, list[Violation]]:
    """The solve, begun from the day as it stands, with its independent check; a plain
    function, so a worker can run it."""
    problem = loaded.problem
    plan = optimizer.solve(
        problem, time_limit_s=time_limit_s, seed=seed, patience=patience, start=current_routes(loaded)
    )
    return plan, check(problem, plan)


def current_routes(loaded: LoadedDay) -> dict[Hashable, list[Hashable]]:
    """Each technician's jobs of the day as it stands, in planned order."""
    by_tech: dict[Hashable, list[tuple[int, UUID]]] = {}
    for job in loaded.problem.jobs:
        job_id = cast(UUID, job.id)
        owner, planned = loaded.before.get(job_id), loaded.planned_s.get(job_id)
        if owner is not None:
            by_tech.setdefault(owner, []).append((planned or job.window_start_s, job_id))
    return {tech: [job for _, job in sorted(jobs)] for tech, jobs in by_tech.items()}


def current_plan(loaded: LoadedDay) -> Plan:
    """The day as it stands, timed like any plan from the same matrix, so the two compare like
    for like."""
    problem = loaded.problem
    by_tech = current_routes(loaded)
    routes = [
        schedule(problem, tech, by_tech.get(tech.id, []))
        for tech in problem.technicians
        if tech.id in by_tech or tech.in_hand is not None
    ]
    planned_ids = {v.job_id for r in routes for v in r.visits}
    return Plan(
        routes=tuple(r for r in routes if r.visits),
        unplanned={j.id: "not assigned" for j in problem.jobs if j.id not in planned_ids},
    )


def kpis(loaded: LoadedDay, plan: Plan) -> dict[str, Any]:
    """Driving, jobs planned, promises kept (visits starting inside their window) and overtime."""
    techs = {t.id: t for t in loaded.problem.technicians}
    closes = {j.id: j.window_end_s for j in loaded.problem.jobs}
    return {
        "travel_s": sum(r.travel_s for r in plan.routes),
        "distance_km": round(sum(r.distance_m for r in plan.routes) / 1000, 1),
        "jobs_planned": sum(1 for r in plan.routes for v in r.visits if v.job_id in closes),
        "jobs_unplanned": len(plan.unplanned),
        "promises_kept": sum(
            1 for r in plan.routes for v in r.visits if v.job_id in closes and v.start_s <= closes[v.job_id]
        ),
        "overtime_s": sum(max(0, r.return_s - techs[r.technician_id].end_s) for r in plan.routes),
    }


def summary(loaded: LoadedDay, plan: Plan, violations: Sequence[Violation]) -> dict[str, Any]:
    """What a dispatcher reads of a plan: routes in clock time, its KPIs beside the current
    plan's, and who gains or loses which job."""

    def clock(seconds: int) -> str:
        return (loaded.origin + timedelta(seconds=seconds)).isoformat()

    after = {v.job_id: r.technician_id for r in plan.routes for v in r.visits}
    changes = [
        {"job_id": str(job), "from": _text(before), "to": _text(after.get(job))}
        for job, before in loaded.before.items()
        if after.get(job) != before
    ]
    by_technician: dict[str, dict[str, list[str]]] = {}
    for job, before in loaded.before.items():
        now_with = after.get(job)
        for tech, key in ((now_with, "gains"), (before, "losses")):
            if tech is not None and now_with != before:
                by_technician.setdefault(str(tech), {"gains": [], "losses": []})[key].append(str(job))
    return {
        "routes": [
            {
                "technician_id": str(r.technician_id),
                "visits": [
                    {
                        "job_id": str(v.job_id),
                        "arrive_at": clock(v.arrive_s),
                        "start_at": clock(v.start_s),
                        "end_at": clock(v.end_s),
                    }
                    for v in r.visits
                ],
                "breaks": [{"start_at": clock(b.start_s), "end_at": clock(b.end_s)} for b in r.breaks],
                "leave_at": clock(r.leave_s),
                "return_at": clock(r.return_s),
                "travel_s": r.travel_s,
                "distance_m": r.distance_m,
            }
            for r in plan.routes
        ],
        "unplanned": [{"job_id": str(j), "reason": why} for j, why in plan.unplanned.items()],
        "kpis": kpis(loaded, plan),
        "current_kpis": kpis(loaded, current_plan(loaded)),
        "changes": changes,
        "by_technician": by_technician,
        "violations": [str(v) for v in violations],
    }


def _text(value: object) -> str | None:
    return None if value is None else str(value)


async def apply(
    conn: Connection, principal: Principal | None, plan_id: UUID, *, now: datetime
) -> dict[str, Any]:
    """Write a finished plan into the jobs, if none of the jobs it read has changed since; tell
    every technician and customer it affects, and dispatch what lands on a released day. Runs in
    the caller's transaction."""
    row = await plan_queries.get_plan(conn, plan_id, lock=True)
    if row is None:
        raise NotFoundError("No such plan.")
    if row["status"] != "done":
        raise ConflictError(f"The plan is {row['status']}; only a finished plan can be applied.")
    result = row["result"]
    if result["violations"]:
        raise ConflictError("The plan breaks rules of the day: " + "; ".join(result["violations"]))
    read = {UUID(job): version for job, version in row["read_versions"].items()}
    current = await plan_queries.lock_jobs(conn, list(read))
    moved = sorted(
        str(job) for job, version in read.items() if job not in current or current[job]["version"] != version
    )
    if moved:
        raise ConflictError(
            f"{len(moved)} job(s) changed since the plan read them; plan again: " + ", ".join(moved),
            candidates=[{"job_id": job} for job in moved],
        )
    territory = row["territory_id"]
    changed: list[UUID] = []
    for route in result["routes"]:
        tech = UUID(route["technician_id"])
        for visit in route["visits"]:
            job_id = UUID(visit["job_id"])
            job = current[job_id]
            if job["status"] in ("en_route", "on_site"):
                continue  # in hand: the plan only keeps it
            start, arrive = (
                datetime.fromisoformat(visit["start_at"]),
                datetime.fromisoformat(visit["arrive_at"]),
            )
            new_owner = job["technician_id"] != tech
            if not new_owner and job["planned_start_at"] == start:
                continue
            # A new owner gets the job without a depot detour: the plan carries none, and the old
            # owner's would send the new one to a depot for parts picked for another van.
            pickup = None
            if not new_owner and job["pickup_location_id"] is not None:
                pickup = job_changes.Pickup(job["pickup_location_id"], job["pickup_s"])
            await job_changes.write(
                conn,
                job_id,
                JobStatus(job["status"]),
                job_changes.placed(
                    "assigned" if job["technician_id"] is None else "replanned",
                    tech,
                    start,
                    arrive,
                    pickup,
                    keep_status=not new_owner and job["status"] != "new",
                ),
                principal,
                data={
                    "technician_id": str(tech),
                    "planned_start_at": start.isoformat(),
                    "plan_id": str(plan_id),
                },
            )
            changed.append(job_id)
            if new_owner:
                await _tell_new_owner(conn, job_id, tech, job["technician_id"], territory, start)
    await day_release.release_if_due(conn, principal, changed, now=now)
    await plan_queries.mark_applied(conn, plan_id)
    return {"plan_id": str(plan_id), "jobs_changed": [str(j) for j in changed]}


async def _tell_new_owner(
    conn: Connection, job_id: UUID, tech: UUID, before: UUID | None, territory: UUID, start: datetime
) -> None:
    first = await job_records.technician_first_name(conn, tech)
    messages = [
        Message(
            Assigned(technician=first),
            Audience.CUSTOMER,
            job_id=job_id,
            technician_id=tech,
            territory_id=territory,
            topic=job_topic(job_id),
        ),
        Message(
            JobAdded(planned_start_at=start),
            Audience.TECHNICIAN,
            job_id=job_id,
            technician_id=tech,
            territory_id=territory,
        ),
    ]
    if before is not None:
        messages.append(
            Message(
                JobRemoved(),
                Audience.TECHNICIAN,
                job_id=job_id,
                technician_id=before,
                territory_id=territory,
            )
        )
    await enqueue(conn, *messages)
