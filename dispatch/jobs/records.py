"""Creating, changing and cancelling jobs, with every change versioned and written to the audit trail."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from uuid import UUID
from zoneinfo import ZoneInfo

from assets.models import PartId
from dispatch.access import scope
from dispatch.access.accounts import Principal, Role
from dispatch.errors import JobNotFoundError, StaleVersion
from dispatch.fleet import territories as fleet_territories
from dispatch.jobs import changes as job_changes, job_queries
from dispatch.jobs.job_queries import (  # other packages reach job_queries through here
    current_occupant as current_occupant,
    event_from_row as event_from_row,
    insert_job as insert_job,
    job_for_rebooking as job_for_rebooking,
    job_territory as job_territory,
    override_events as override_events,
    parts_of as parts_of,
    replace_job_parts as replace_job_parts,
    replace_predicted_parts as replace_predicted_parts,
    technician_first_name as technician_first_name,
    update_job as update_job,
)
from dispatch.models import (
    CANCELLABLE_STATUSES,
    OPEN_STATUSES,
    DurationSource,
    Job,
    JobEvent,
    JobFilters,
    JobStatus,
    PartSource,
)
from infra.db import Connection
from infra.errors import ConflictError, InvalidError, PreconditionRequiredError
from notifications.notices import Cancelled, JobRemoved
from notifications.outbox import Audience, Message, enqueue, job_topic

MAX_WINDOW = timedelta(days=7)


@dataclass(frozen=True)
class PartNeed:
    part_id: UUID
    quantity: int


@dataclass(frozen=True)
class NewJob:
    site_id: UUID
    problem_code: str
    duration_s: int
    window_start_at: datetime
    window_end_at: datetime
    asset_id: UUID | None = None
    customer_id: UUID | None = None
    problem_description: str = ""
    customer_choice: str | None = None
    required_skills: Mapping[str, int] | None = None
    priority: int = 3
    parts: Sequence[PartNeed] = ()
    external_id: str | None = None


async def get_job(conn: Connection, principal: Principal, job_id: UUID, *, for_update: bool = False) -> Job:
    """The job if the caller may see it; otherwise 404, so nobody learns that it exists."""
    job = await job_queries.get_job(conn, job_id, principal, for_update=for_update)
    if job is None:
        raise JobNotFoundError
    return job


async def _check_skills(conn: Connection, skills: Mapping[str, int]) -> None:
    unknown = sorted(set(skills) - await job_queries.known_skills(conn, list(skills)))
    if unknown:
        field = f"required_skills.{unknown[0]}"
        raise InvalidError(f"{field}: no skill with this code (see GET /skills)", field=field)


def check_window(start: datetime, end: datetime) -> None:
    if end <= start:
        raise InvalidError("window_end_at must be after window_start_at", field="window_end_at")
    if end - start > MAX_WINDOW:
        raise InvalidError("an arrival window is at most 7 days long", field="window_end_at")


async def _checked_parts(
    conn: Connection, parts: Sequence[PartNeed]
) -> list[tuple[PartId, int, float, PartSource, list[str]]]:
    known = await job_queries.part_multiples(conn, [p.part_id for p in parts])
    seen: set[UUID] = set()
    for index, need in enumerate(parts):
        if need.part_id not in known:
            raise InvalidError(
                f"parts[{index}].part_id: no part with this id", field=f"parts[{index}].part_id"
            )
        if need.part_id in seen:
            field = f"parts[{index}].part_id"
            raise InvalidError(f"{field}: this part is listed twice; give one quantity", field=field)
        seen.add(need.part_id)
        sku, multiple = known[need.part_id]
        if need.quantity % multiple:
            field = f"parts[{index}].quantity"
            raise InvalidError(f"{field}: {sku} comes in multiples of {multiple}", field=field)
    return [(PartId(p.part_id), p.quantity, 1.0, PartSource.MANUAL, []) for p in parts]


async def create_job(conn: Connection, principal: Principal, new: NewJob) -> Job:
    if not await job_queries.site_exists(conn, new.site_id):
        raise InvalidError("site_id: no site with this id", field="site_id")
    await scope.require_reference(conn, principal, scope.Record.SITE, new.site_id, field="site_id")
    await scope.require_reference(
        conn, principal, scope.Record.CUSTOMER, new.customer_id, field="customer_id"
    )
    if new.asset_id is not None:
        placed = await job_queries.asset_site(conn, new.asset_id)
        if placed is None or placed[0] != new.site_id:
            raise InvalidError("asset_id: no asset with this id at this site", field="asset_id")
        if not placed[1]:
            raise InvalidError("asset_id: this asset has been removed from the site", field="asset_id")
    customer_id = new.customer_id
    if customer_id is None:
        customer_id = await job_queries.current_occupant(conn, new.site_id)
        if customer_id is None:
            raise InvalidError(
                "customer_id: nobody is recorded as living at this site; send customer_id",
                field="customer_id",
            )
    elif not await job_queries.customer_exists(conn, customer_id):
        raise InvalidError("customer_id: no customer with this id", field="customer_id")
    skills = dict(new.required_skills or {})
    await _check_skills(conn, skills)
    check_window(new.window_start_at, new.window_end_at)
    parts = await _checked_parts(conn, new.parts)
    if new.external_id is not None and (
        existing := await job_queries.external_id_taken(conn, new.external_id)
    ):
        raise ConflictError(f"external_id: job {existing} already has this external id", field="external_id")
    job_id = await job_queries.insert_job(
        conn,
        {
            "external_id": new.external_id,
            "site_id": new.site_id,
            "asset_id": new.asset_id,
            "customer_id": customer_id,
            "problem_code": new.problem_code,
            "problem_description": new.problem_description,
            "customer_choice": new.customer_choice,
            "required_skills": skills,
            "duration_s": new.duration_s,
            "duration_source": DurationSource.MANUAL.value,
            "window_start_at": new.window_start_at,
            "window_end_at": new.window_end_at,
            "priority": new.priority,
        },
    )
    await job_queries.replace_job_parts(conn, job_id, parts)
    await job_queries.insert_job_event(conn, job_id, "created", principal, to_status=JobStatus.NEW)
    return await get_job(conn, principal, job_id)


def check_version(job: Job, expected: int | None, *, required: bool) -> None:
    if expected is None:
        if required:
            raise PreconditionRequiredError(
                f"send If-Match with the job's version (now {job.version}) so a stale change is refused",
                field="If-Match",
            )
        return
    if expected != job.version:
        raise StaleVersion(job.version, expected)


async def cancel_job(
    conn: Connection,
    principal: Principal,
    job_id: UUID,
    *,
    reason: str,
    expected_version: int | None,
) -> Job:
    job = await get_job(conn, principal, job_id, for_update=True)
    check_version(job, expected_version, required=False)
    if job.status not in CANCELLABLE_STATUSES:
        allowed = ", ".join(s.value for s in JobStatus if s in CANCELLABLE_STATUSES)
        raise ConflictError(
            f"a {job.status.value} job cannot be cancelled; only a job that is {allowed}", field="status"
        )
    await job_changes.write(conn, job_id, job.status, job_changes.cancelled(), principal, reason=reason)
    territory = await job_queries.job_territory(conn, job_id)
    told = [
        Message(
            Cancelled(by="customer" if principal.role is Role.CUSTOMER else "us"),
            Audience.CUSTOMER,
            job_id=job_id,
            territory_id=territory,
            topic=job_topic(job_id),
        )
    ]
    if job.technician_id is not None:
        told.append(
            Message(
                JobRemoved(reason=reason),
                Audience.TECHNICIAN,
                job_id=job_id,
                technician_id=job.technician_id,
                territory_id=territory,
            )
        )
    await enqueue(conn, *told)
    return await get_job(conn, principal, job_id)


async def change_job(
    conn: Connection,
    principal: Principal,
    job_id: UUID,
    changes: Mapping[str, object],
    *,
    parts: Sequence[PartNeed] | None,
    expected_version: int | None,
) -> Job:
    """A dispatcher's edit of an open job; the version guards against overwriting someone else's."""
    job = await get_job(conn, principal, job_id, for_update=True)
    check_version(job, expected_version, required=True)
    if job.status not in OPEN_STATUSES:
        raise ConflictError(f"a {job.status.value} job can no longer be changed", field="status")
    updates = dict(changes)
    if "required_skills" in updates:
        await _check_skills(conn, updates["required_skills"])  # type: ignore[arg-type]
    start = updates.get("window_start_at", job.window_start_at)
    end = updates.get("window_end_at", job.window_end_at)
    assert isinstance(start, datetime)
    assert isinstance(end, datetime)
    check_window(start, end)
    if "duration_s" in updates:
        updates["duration_source"] = DurationSource.MANUAL.value
    changed = sorted(k for k in changes if getattr(job, k) != changes[k])
    if parts is not None:
        await job_queries.replace_job_parts(conn, job_id, await _checked_parts(conn, parts))
        changed.append("parts")
    await job_queries.update_job(conn, job_id, updates)
    await job_queries.insert_job_event(conn, job_id, "updated", principal, data={"fields": changed})
    return await get_job(conn, principal, job_id)


async def find_jobs(
    conn: Connection, principal: Principal, filters: JobFilters, *, day: date | None, limit: int, offset: int
) -> list[Job]:
    """Jobs in window order: a technician's own only, a bound dispatcher's territory's only.
    `day` keeps the jobs whose window overlaps it, in the territory's time zone when the list is
    of one territory, else UTC."""
    territory_id = scope.list_filter(principal, filters.territory_id)
    window = None
    if day is not None:
        zone = "UTC"
        if territory_id is not None:
            zone = await fleet_territories.territory_timezone(conn, territory_id) or "UTC"
        tz = ZoneInfo(zone)
        window = (datetime.combine(day, time(0), tz), datetime.combine(day + timedelta(days=1), time(0), tz))
    narrowed = replace(filters, territory_id=territory_id, window_overlaps=window)
    return await job_queries.list_jobs(conn, principal, narrowed, limit=limit, offset=offset)


async def job_events(
    conn: Connection, principal: Principal, job_id: UUID, *, limit: int, offset: int
) -> list[JobEvent]:
    """The trail of a job the principal may see: every change, oldest first."""
    await get_job(conn, principal, job_id)
    return await job_queries.list_job_events(conn, job_id, limit=limit, offset=offset)
