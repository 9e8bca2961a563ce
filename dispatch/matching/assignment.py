"""Ranking technicians for a stored job, and assigning it: the route is re-planned in the same
transaction, under a lock on the technician, so two assignments never break one day between them.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime
from uuid import UUID

import msgspec

from dispatch.access import scope
from dispatch.access.accounts import Principal
from dispatch.errors import NoTechnicianCanTake
from dispatch.jobs import changes as job_changes, day_release, records as job_records, records as jobs
from dispatch.matching import route_queries
from dispatch.matching.candidates import Candidate, MatchSettings
from dispatch.matching.context import EXCLUSION_WORDS, Context, context, days_around, rank, why_not
from dispatch.matching.eligibility import Exclusion
from dispatch.matching.fleet_cache import FleetCache
from dispatch.matching.route_plan import Visit, build
from dispatch.models import Job, JobStatus
from dispatch.travel.sources import TravelTimes
from infra.db import Connection
from infra.errors import ConflictError, InvalidError
from notifications.notices import Assigned, JobAdded
from notifications.outbox import Audience, Message, enqueue, job_topic


class Assignment(msgspec.Struct, frozen=True, kw_only=True):
    job: Job
    candidate: Candidate
    replanned: list[UUID]  # other jobs of that day whose planned time moved


async def assign(
    conn: Connection,
    principal: Principal,
    job_id: UUID,
    settings: MatchSettings,
    *,
    technician_id: UUID | None,
    routing: TravelTimes | None,
    now: datetime,
    expected_version: int | None = None,
    cache: FleetCache | None = None,
) -> Assignment:
    """Put a new job on the named technician's day, or the best candidate's (technician_id None);
    a dispatcher bound to a territory gives it to that territory's technicians only."""
    job = await jobs.get_job(conn, principal, job_id, for_update=True)
    await scope.require_reference(
        conn, principal, scope.Record.TECHNICIAN, technician_id, field="technician_id"
    )
    jobs.check_version(job, expected_version, required=False)
    if job.status is not JobStatus.NEW:
        whom = f" to technician {job.technician_id}" if job.technician_id else ""
        raise ConflictError(
            f"the job is already {job.status.value}{whom}; only a new (unassigned) job can be assigned",
            field="status",
        )
    ctx = await context(conn, job, routing)
    if technician_id is not None:
        order = [technician_id]
    else:
        # The order may come from the cached fleet; each try below re-reads the day under a lock.
        only = await scope.technicians_in_scope(conn, principal)
        ranking = await rank(conn, ctx, settings, now=now, limit=10_000, only=only, cache=cache)
        order = [c.technician_id for c in ranking.candidates]
        if not order:
            raise NoTechnicianCanTake(
                "no technician can take this job: "
                + ", ".join(f"{n} {EXCLUSION_WORDS[Exclusion(r)]}" for r, n in ranking.excluded.items()),
                field="auto",
            )
    last_refusal = ""
    for candidate_id in order:
        # A savepoint per try: the lock on a technician who cannot take it is let go at once.
        try:
            async with conn.transaction():
                if not await route_queries.lock_technician(conn, candidate_id):
                    raise InvalidError("technician_id: no technician with this id", field="technician_id")
                ranking = await rank(conn, ctx, settings, now=now, limit=1, only=[candidate_id])
                if not ranking.candidates:
                    raise RefusedError(why_not(ranking, "the technician"))
                return await apply(
                    conn, principal, ctx, ranking.candidates[0], settings, now=now, auto=technician_id is None
                )
        except RefusedError as refused:
            last_refusal = refused.message
            continue
    if technician_id is not None:
        raise ConflictError(last_refusal, field="technician_id")
    raise ConflictError(
        "every technician who could take the job was taken meanwhile; try again", field="auto"
    )


class RefusedError(Exception):
    """The technician's day cannot take the job (read again under the lock)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Placed:
    """Where a job goes in a technician's day, and what that does to the day's other visits."""

    technician_id: UUID
    start: datetime  # the job's planned start
    eta: datetime
    pickup: job_changes.Pickup | None  # the depot on the way, for parts the van lacks
    moved: list[job_changes.Retiming]  # other visits of that day whose planned start moved
    because: UUID  # the job placed

    @property
    def moved_ids(self) -> list[UUID]:
        return [m.job_id for m in self.moved]

    def step(
        self,
        event: str,
        *,
        keep_status: bool = False,
        pin: bool | None = None,
        also: dict[str, object] | None = None,
    ) -> job_changes.Step:
        return job_changes.placed(
            event,
            self.technician_id,
            self.start,
            self.eta,
            self.pickup,
            keep_status=keep_status,
            pin=pin,
            also=also,
        )


async def place(
    conn: Connection,
    ctx: Context,
    candidate: Candidate,
    settings: MatchSettings,
    *,
    now: datetime,
) -> Placed:
    """Where the job goes in the candidate's day (at the candidate's position) and how every visit
    after it is re-timed; written by the caller through `write_placed`."""
    job = ctx.job
    days = await days_around(conn, [candidate.technician_id], ctx.target, now)
    day = next(d for d in days if d.shift_id == candidate.shift_id)
    pickup = None
    if candidate.parts.detour is not None:
        depot = next(
            d
            for d in await route_queries.depots_holding(conn, [p.part_id for p in job.parts])
            if d.id == candidate.parts.detour.depot_id
        )
        pickup = depot.point
    new_visit = Visit(
        job_id=job.id,
        point=ctx.place.point,
        earliest=ctx.target.earliest,
        latest=ctx.target.latest,
        duration_s=float(job.duration_s),
        planned_start=candidate.planned_start_at.timestamp(),
        pickup=pickup,
        pickup_s=float(settings.depot_pickup_s) if pickup else 0.0,
    )
    visits = list(day.visits)
    visits.insert(candidate.position, new_visit)
    plans = await build([replace(day, visits=visits)], ctx.travel)
    if not plans.feasible[0]:
        raise RefusedError("the technician's day changed and the job no longer fits")
    times: dict[UUID, tuple[datetime, datetime]] = {}
    for i, stop in enumerate(plans.stops[0]):
        if stop.visit is not None:
            times[stop.visit.job_id] = (
                datetime.fromtimestamp(float(plans.start[0, i]), UTC),
                datetime.fromtimestamp(float(plans.arrive[0, i]), UTC),
            )
    start, eta = times[job.id]
    detour = candidate.parts.detour
    return Placed(
        technician_id=candidate.technician_id,
        start=start,
        eta=eta,
        pickup=job_changes.Pickup(detour.depot_id, settings.depot_pickup_s) if detour else None,
        moved=[
            job_changes.Retiming(v.job_id, *times[v.job_id])
            for v in day.visits
            if v.planned_start is None or abs(times[v.job_id][0].timestamp() - v.planned_start) >= 1
        ],
        because=job.id,
    )


async def write_placed(
    conn: Connection,
    principal: Principal | None,
    job: Job,
    placed: Placed,
    step: job_changes.Step,
    *,
    reason: str = "",
    data: dict[str, object] | None = None,
) -> None:
    """The job in its place with its event, then the day's other visits re-timed with theirs."""
    await job_changes.write(conn, job.id, job.status, step, principal, reason=reason, data=data)
    await job_changes.retime(conn, principal, placed.moved, because=placed.because)


async def apply(
    conn: Connection,
    principal: Principal,
    ctx: Context,
    candidate: Candidate,
    settings: MatchSettings,
    *,
    now: datetime,
    auto: bool,
    event: str = "assigned",
    reason: str = "",
    pin: bool = False,
) -> Assignment:
    """Give the job to the candidate at their best place in the day, tell the technician and the
    customer, and dispatch it at once if that day is released."""
    job = ctx.job
    placed = await place(conn, ctx, candidate, settings, now=now)
    start = placed.start
    await write_placed(
        conn,
        principal,
        job,
        placed,
        placed.step(event, pin=pin),
        reason=reason,
        data={
            "technician_id": str(candidate.technician_id),
            "auto": auto,
            "score": candidate.score,
            "reason": candidate.reason,
            "planned_start_at": start.isoformat(),
            "arrival_window": [
                candidate.arrival_window_start_at.isoformat(),
                candidate.arrival_window_end_at.isoformat(),
            ],
        },
    )
    first = await job_records.technician_first_name(conn, candidate.technician_id)
    territory = await job_records.job_territory(conn, job.id)
    window = (candidate.arrival_window_start_at, candidate.arrival_window_end_at)
    await enqueue(
        conn,
        Message(
            Assigned(technician=first, arrival_window=window),
            Audience.CUSTOMER,
            job_id=job.id,
            technician_id=candidate.technician_id,
            territory_id=territory,
            topic=job_topic(job.id),
        ),
        Message(
            JobAdded(planned_start_at=start, replanned=list(placed.moved_ids)),
            Audience.TECHNICIAN,
            job_id=job.id,
            technician_id=candidate.technician_id,
            territory_id=territory,
        ),
    )
    await day_release.release_if_due(conn, principal, [job.id], now=now)
    stored = await jobs.get_job(conn, principal, job.id)
    return Assignment(job=stored, candidate=candidate, replanned=placed.moved_ids)
