"""A dispatcher's overrides: reassign, unassign, pin, unpin, change the window.

Each needs a reason and the job's version (If-Match: a stale one changes nothing), is written
to the audit trail as an `override_*` event, and tells the technicians it concerns and the
customer through the outbox. A pinned job is never moved by auto-assignment or optimization.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from uuid import UUID

from dispatch.access import scope
from dispatch.access.accounts import Principal
from dispatch.jobs import changes as job_changes, day_release, records as job_records, records as jobs
from dispatch.matching import assignment, context, route_queries
from dispatch.matching.assignment import Assignment
from dispatch.matching.candidates import MatchSettings
from dispatch.matching.route_plan import build
from dispatch.models import Job, JobEvent, JobStatus
from dispatch.travel.sources import TravelTimes
from infra.db import Connection
from infra.errors import ConflictError, InvalidError
from notifications import notices
from notifications.outbox import Audience, Message, enqueue, job_topic

S = JobStatus
BEFORE_DEPARTURE = frozenset({S.SCHEDULED, S.DISPATCHED})


def _reason(reason: str) -> str:
    if not reason.strip():
        raise InvalidError("reason: every override needs a reason, for the audit trail", field="reason")
    return reason.strip()


async def _locked(conn: Connection, principal: Principal, job_id: UUID, expected_version: int | None) -> Job:
    job = await jobs.get_job(conn, principal, job_id, for_update=True)
    jobs.check_version(job, expected_version, required=True)
    return job


Notice = tuple[notices.Notice, Audience, UUID | None]


async def _locked_with_days(
    conn: Connection, principal: Principal, job_id: UUID, expected_version: int | None, also: UUID
) -> Job:
    """The job, locked after the days it leaves and joins. Everyone who changes a day takes the
    technician's row before the jobs on it (an assignment locks the technician, then re-times
    that day's jobs); a move that locked its job first and then the day could deadlock with it.
    """
    while True:
        seen = await jobs.get_job(conn, principal, job_id)
        # Both days change: lock the technicians in a fixed order so crossing moves cannot deadlock.
        for tech in sorted({t for t in (seen.technician_id, also) if t is not None}, key=str):
            if not await route_queries.lock_technician(conn, tech):
                raise InvalidError("technician_id: no technician with this id", field="technician_id")
        job = await jobs.get_job(conn, principal, job_id, for_update=True)
        if job.technician_id in (seen.technician_id, also):
            jobs.check_version(job, expected_version, required=True)
            return job
        # Moved to a third technician meanwhile: lock that day too, then the job again.


async def _tell(conn: Connection, job: Job, *messages: Notice) -> None:
    territory = await job_records.job_territory(conn, job.id)
    await enqueue(
        conn,
        *(
            Message(
                notice,
                audience,
                job_id=job.id,
                technician_id=technician,
                territory_id=territory,
                topic=job_topic(job.id) if audience is Audience.CUSTOMER else None,
            )
            for notice, audience, technician in messages
        ),
    )


async def reassign(
    conn: Connection,
    principal: Principal,
    job_id: UUID,
    technician_id: UUID,
    reason: str,
    settings: MatchSettings,
    *,
    expected_version: int | None,
    routing: TravelTimes | None,
    now: datetime,
    pin: bool = False,
) -> Assignment:
    """Move a job not yet under way to another technician's day (back to scheduled)."""
    reason = _reason(reason)
    # The job first, so another territory's job answers 404 whatever technician is named.
    await jobs.get_job(conn, principal, job_id)
    await scope.require_reference(
        conn, principal, scope.Record.TECHNICIAN, technician_id, field="technician_id"
    )
    job = await _locked_with_days(conn, principal, job_id, expected_version, technician_id)
    if job.status not in BEFORE_DEPARTURE and job.status is not S.NEW:
        raise ConflictError(
            f"a {job.status.value} job can no longer be moved; only before the technician sets off",
            field="status",
        )
    previous = job.technician_id
    if previous == technician_id:
        raise ConflictError("the job is already this technician's", field="technician_id")
    ctx = await context.context(conn, job, routing)
    ranking = await context.rank(conn, ctx, settings, now=now, limit=1, only=[technician_id])
    if not ranking.candidates:
        raise ConflictError(context.why_not(ranking, "the technician"), field="technician_id")
    result = await assignment.apply(
        conn,
        principal,
        ctx,
        ranking.candidates[0],
        settings,
        now=now,
        auto=False,
        event="override_reassign",
        reason=reason,
        pin=pin,
    )
    if previous is not None:
        await _tell(conn, job, (notices.JobRemoved(reason=reason), Audience.TECHNICIAN, previous))
    return result


async def unassign(
    conn: Connection, principal: Principal, job_id: UUID, reason: str, *, expected_version: int | None
) -> Job:
    reason = _reason(reason)
    job = await _locked(conn, principal, job_id, expected_version)
    if job.status not in BEFORE_DEPARTURE:
        raise ConflictError(f"a {job.status.value} job cannot be unassigned", field="status")
    await job_changes.write(
        conn,
        job.id,
        job.status,
        job_changes.back_to_dispatch("override_unassign"),
        principal,
        reason=reason,
        data={"technician_id": str(job.technician_id)},
    )
    await _tell(
        conn,
        job,
        (notices.JobRemoved(reason=reason), Audience.TECHNICIAN, job.technician_id),
        (
            notices.AssignmentChanged(window=(job.window_start_at, job.window_end_at)),
            Audience.CUSTOMER,
            None,
        ),
    )
    return await jobs.get_job(conn, principal, job.id)


async def pin(
    conn: Connection,
    principal: Principal,
    job_id: UUID,
    reason: str,
    settings: MatchSettings,
    *,
    technician_id: UUID | None,
    start_at: datetime | None,
    expected_version: int | None,
    routing: TravelTimes | None,
    now: datetime,
) -> Job:
    """Fix the job to a technician (moving it there first if needed), and optionally to a time."""
    reason = _reason(reason)
    job = await _locked(conn, principal, job_id, expected_version)
    target = technician_id or job.technician_id
    if target is None:
        raise InvalidError(
            "technician_id: the job has no technician yet; say whom to pin it to", field="technician_id"
        )
    if job.status not in BEFORE_DEPARTURE and job.status is not S.NEW:
        raise ConflictError(f"a {job.status.value} job can no longer be pinned", field="status")
    if start_at is not None and not job.window_start_at <= start_at <= job.window_end_at:
        raise InvalidError("start_at: a pinned time must fall inside the job's window", field="start_at")
    if target != job.technician_id:
        moved = await reassign(
            conn,
            principal,
            job.id,
            target,
            reason,
            settings,
            expected_version=job.version,
            routing=routing,
            now=now,
            pin=True,
        )
        job = moved.job
    if start_at is not None:
        await _check_day_with(conn, job, start_at, routing, now=now)
    await job_changes.write(
        conn,
        job.id,
        job.status,
        job_changes.pinned(start_at),
        principal,
        reason=reason,
        data={"technician_id": str(target), "start_at": start_at.isoformat() if start_at else None},
    )
    told: list[Notice] = [(notices.JobPinned(start_at=start_at), Audience.TECHNICIAN, target)]
    if start_at is not None:
        # A fixed time is a promise to the customer too.
        told.append((notices.VisitTimeSet(start_at=start_at), Audience.CUSTOMER, None))
    await _tell(conn, job, *told)
    if start_at is not None:
        # A pinned time may put the job on another day of its window: today's, or a published one.
        await day_release.release_if_due(conn, principal, [job.id], now=now)
    return await jobs.get_job(conn, principal, job.id)


async def _check_day_with(
    conn: Connection, job: Job, start_at: datetime, routing: TravelTimes | None, *, now: datetime
) -> None:
    """The technician's day must still hold every promise with the job fixed at `start_at`."""
    assert job.technician_id is not None
    ctx = await context.context(conn, job, routing)
    days = await context.days_of(conn, job.technician_id, start_at, now)
    for day in days:
        visits = [
            replace(v, earliest=start_at.timestamp(), latest=start_at.timestamp())
            if v.job_id == job.id
            else v
            for v in day.visits
        ]
        plans = await build([replace(day, visits=visits)], ctx.travel)
        if not plans.feasible[0]:
            raise ConflictError(
                f"start_at: at {start_at.astimezone(UTC):%H:%M} UTC the technician's day would break"
                " another promise",
                field="start_at",
            )


async def unpin(
    conn: Connection, principal: Principal, job_id: UUID, reason: str, *, expected_version: int | None
) -> Job:
    reason = _reason(reason)
    job = await _locked(conn, principal, job_id, expected_version)
    if not job.pinned:
        raise ConflictError("the job is not pinned", field="pinned")
    await job_changes.write(conn, job.id, job.status, job_changes.unpinned(), principal, reason=reason)
    await _tell(conn, job, (notices.JobUnpinned(), Audience.TECHNICIAN, job.technician_id))
    return await jobs.get_job(conn, principal, job.id)


async def change_window(
    conn: Connection,
    principal: Principal,
    job_id: UUID,
    window_start_at: datetime,
    window_end_at: datetime,
    reason: str,
    settings: MatchSettings,
    *,
    expected_version: int | None,
    routing: TravelTimes | None,
    now: datetime,
) -> Job:
    """A new promised window. An assigned job stays where it is in its technician's day when the
    day still holds; else it moves to the best place left in that same day (the others re-timed),
    and only when it fits nowhere in it is the answer 409, nothing changed."""
    reason = _reason(reason)
    seen = await jobs.get_job(conn, principal, job_id)
    if seen.technician_id is None:
        job = await _locked(conn, principal, job_id, expected_version)
    else:
        # It may re-time the technician's day: that day's lock first, as every day's writer takes it.
        job = await _locked_with_days(conn, principal, job_id, expected_version, seen.technician_id)
    if job.status not in (S.NEW, *BEFORE_DEPARTURE):
        raise ConflictError(f"a {job.status.value} job's window can no longer change", field="status")
    jobs.check_window(window_start_at, window_end_at)
    if job.pinned_start_at is not None and not window_start_at <= job.pinned_start_at <= window_end_at:
        raise ConflictError(
            "window_start_at: the job is pinned to a time outside this window; unpin it first",
            field="window_start_at",
        )
    await job_records.update_job(
        conn, job.id, {"window_start_at": window_start_at, "window_end_at": window_end_at}
    )
    placed = None
    if job.technician_id is not None:
        updated = await jobs.get_job(conn, principal, job.id)
        placed = await _keep_in_day(conn, principal, updated, settings, routing=routing, now=now)
    data: dict[str, object] = {
        "from": [job.window_start_at.isoformat(), job.window_end_at.isoformat()],
        "to": [window_start_at.isoformat(), window_end_at.isoformat()],
    }
    if placed is None:
        await job_changes.record(conn, job.id, "override_window", principal, reason=reason, data=data)
    else:
        data["planned_start_at"] = placed.start.isoformat()
        step = placed.step("override_window", keep_status=True)
        await assignment.write_placed(conn, principal, job, placed, step, reason=reason, data=data)
    told: list[Notice] = [
        (notices.WindowChanged(window=(window_start_at, window_end_at)), Audience.CUSTOMER, None)
    ]
    if job.technician_id is not None:
        to_technician = notices.WindowChanged(reason=reason)
        if placed is not None:
            # The phone re-orders the day as it does when an assignment re-times it.
            to_technician = notices.WindowChanged(
                reason=reason, planned_start_at=placed.start, replanned=list(placed.moved_ids)
            )
        told.append((to_technician, Audience.TECHNICIAN, job.technician_id))
    await _tell(conn, job, *told)
    return await jobs.get_job(conn, principal, job.id)


async def _keep_in_day(
    conn: Connection,
    principal: Principal,
    job: Job,
    settings: MatchSettings,
    *,
    routing: TravelTimes | None,
    now: datetime,
) -> assignment.Placed | None:
    """None when the job's place still holds its new window; else where it went in the same day."""
    assert job.technician_id is not None
    ctx = await context.context(conn, job, routing)
    days = await context.days_of(conn, job.technician_id, job.planned_start_at or job.window_start_at, now)
    planned = job.planned_start_at
    in_window = planned is not None and job.window_start_at <= planned <= job.window_end_at
    if in_window and (not days or bool((await build(days, ctx.travel)).feasible.all())):
        return None
    home = next((d.shift_id for d in days if any(v.job_id == job.id for v in d.visits)), None)
    if job.pinned_start_at is not None:
        fixed = job.pinned_start_at.timestamp()
        ctx = replace(ctx, target=replace(ctx.target, earliest=fixed, latest=fixed))
    ranking = await context.rank(conn, ctx, settings, now=now, limit=1, only=[job.technician_id])
    fits = [c for c in ranking.candidates if home is None or c.shift_id == home]
    if not fits:
        why = (
            "it would fall on another of their days"
            if ranking.candidates
            else context.why_not(ranking, "the technician")
        )
        raise ConflictError(
            f"window_end_at: the job fits nowhere in its technician's day with this window ({why});"
            " reassign or unassign it first",
            field="window_end_at",
        )
    try:
        return await assignment.place(conn, ctx, fits[0], settings, now=now)
    except assignment.RefusedError as refused:
        raise ConflictError(f"window_end_at: {refused.message}", field="window_end_at") from None


async def audit_trail(
    conn: Connection,
    principal: Principal,
    territory_id: UUID | None,
    *,
    actor: str | None,
    since: datetime | None,
    until: datetime | None,
    limit: int,
    offset: int,
) -> list[JobEvent]:
    """Every override and cancellation the principal may see, newest first; `actor` is an email,
    any case."""
    territory = scope.list_filter(principal, territory_id)
    return await job_records.override_events(
        conn, actor=actor, since=since, until=until, territory_id=territory, limit=limit, offset=offset
    )
