"""Dispatching is releasing a technician's day to their phone.

A scheduled job is on the technician's day; a dispatched one is on their phone as work to set
off for. A job is dispatched at once when it lands on a day that is released: today (in its
technician's territory's time zone), or a day a dispatcher has published, for the technician or
for their whole territory. Publishing dispatches what the day already holds; every writer that
puts a job on a day (assignment, overrides, slot booking, the optimizer) calls `release_if_due`,
the one place the rule is written, so a job assigned later into a released day follows it too.
A technician setting off on a job still scheduled dispatches it on the way (see lifecycle).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from uuid import UUID

import msgspec

from dispatch.access.accounts import Principal
from dispatch.errors import TechnicianNotFoundError, TerritoryNotFoundError
from dispatch.jobs import changes as job_changes, release_queries
from dispatch.models import JobStatus
from infra.db import Connection
from notifications.notices import JobDispatched
from notifications.outbox import Audience, Message, enqueue


class PublishedDay(msgspec.Struct, frozen=True, kw_only=True):
    territory_id: UUID | None
    technician_id: UUID | None
    date: date
    published_at: datetime  # the first publication: publishing again changes nothing
    published_by: UUID | None
    dispatched: list[UUID]  # jobs this call dispatched (none when the day was already released)


def dispatched_message(
    job_id: UUID, technician_id: UUID | None, territory_id: UUID | None, planned_start_at: datetime | None
) -> Message:
    """What the technician's phone hears when a job is dispatched to it, however it was."""
    return Message(
        JobDispatched(planned_start_at=planned_start_at),
        Audience.TECHNICIAN,
        job_id=job_id,
        technician_id=technician_id,
        territory_id=territory_id,
    )


async def _dispatch(
    conn: Connection, principal: Principal | None, job_ids: Sequence[UUID], data: dict[str, object]
) -> list[UUID]:
    done: list[UUID] = []
    for row in await release_queries.lock_scheduled(conn, job_ids):
        await job_changes.write(
            conn, row["id"], JobStatus.SCHEDULED, job_changes.dispatched(), principal, data=data
        )
        await enqueue(
            conn,
            dispatched_message(row["id"], row["technician_id"], row["territory_id"], row["planned_start_at"]),
        )
        done.append(row["id"])
    return done


async def release_if_due(
    conn: Connection, principal: Principal | None, job_ids: Sequence[UUID], *, now: datetime
) -> list[UUID]:
    """Dispatch those of the jobs (just put on a technician's day) whose day is released."""
    due = await release_queries.due_for_release(conn, job_ids, now)
    return await _dispatch(conn, principal, due, {"released": "day released"}) if due else []


async def publish_day(
    conn: Connection,
    principal: Principal,
    day: date,
    *,
    territory_id: UUID | None = None,
    technician_id: UUID | None = None,
    now: datetime,
) -> PublishedDay:
    """Release a territory's day (or one technician's): dispatch what it holds, and record it so
    that what lands on it later is dispatched too."""
    if territory_id is not None:
        if await release_queries.territory_zone(conn, territory_id) is None:
            raise TerritoryNotFoundError
    elif technician_id is None or await release_queries.technician_zone(conn, technician_id) is None:
        raise TechnicianNotFoundError
    row = await release_queries.publish_day(
        conn, day, _user(principal), now, territory_id=territory_id, technician_id=technician_id
    )
    jobs = await release_queries.scheduled_on_day(
        conn, territory_id=territory_id, technician_id=technician_id, day=day
    )
    done = await _dispatch(conn, principal, jobs, {"released": "day published", "day": day.isoformat()})
    return PublishedDay(
        territory_id=territory_id,
        technician_id=technician_id,
        date=day,
        published_at=row["published_at"],
        published_by=row["published_by"],
        dispatched=done,
    )


def _user(principal: Principal) -> UUID | None:
    # The nil id is no user (the system).
    return principal.user_id if principal.user_id.int else None
