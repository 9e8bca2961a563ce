"""Every change of a job's status, owner or plan is written here, and only here.

A writer says what happens to the job: it is placed in a technician's day, released back to
dispatch, cancelled, dispatched, reported on by its technician, re-timed, pinned. This module
checks the move against the lifecycle (dispatch/jobs/lifecycle.py), builds the columns that travel
together (an owner with their plan and depot detour; a status with its plan), writes them with a
new version and records the event in the same call. Other writers may change what a job is
(its window, skills, duration, parts) through `job_queries.update_job`, which refuses the columns
owned here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from uuid import UUID

from dispatch.access.accounts import Principal
from dispatch.errors import TransitionRefused
from dispatch.jobs import job_queries
from dispatch.jobs.lifecycle import IMPLIED, TRANSITIONS
from dispatch.models import JobStatus
from infra.db import Connection

S = JobStatus
# A job holds these only while a technician has it in their day.
_NOT_PLANNED: Mapping[str, object] = {
    "technician_id": None,
    "planned_start_at": None,
    "eta_at": None,
    "pickup_location_id": None,
    "pickup_s": 0,
}
_NOT_PINNED: Mapping[str, object] = {"pinned": False, "pinned_start_at": None}


@dataclass(frozen=True)
class Pickup:
    """A stop at a depot on the way to the job, for parts the van does not hold."""

    depot_id: UUID
    seconds: int


@dataclass(frozen=True)
class Step:
    """One change of one job: the event that records it, the status it moves to (None: the
    status stays) and the columns written with it."""

    event: str
    to: JobStatus | None
    columns: Mapping[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class Retiming:
    """Another visit of the day a placing moved: its new planned start and arrival."""

    job_id: UUID
    start: datetime
    eta: datetime


def placed(
    event: str,
    technician_id: UUID,
    start: datetime,
    eta: datetime,
    pickup: Pickup | None,
    *,
    keep_status: bool = False,
    pin: bool | None = None,
    also: Mapping[str, object] | None = None,
) -> Step:
    """In a technician's day at `start`: scheduled, unless `keep_status` (the job is re-timed by
    the technician who has it, and stays e.g. dispatched). The depot detour is always the new
    place's own, so a detour never outlives its technician. `pin`: pinned to the technician (a pinned time is
    dropped) or not; None keeps the pin as it is."""
    columns: dict[str, object] = {
        "technician_id": technician_id,
        "planned_start_at": start,
        "eta_at": eta,
        "pickup_location_id": pickup.depot_id if pickup else None,
        "pickup_s": pickup.seconds if pickup else 0,
        **(also or {}),
    }
    if pin is not None:
        columns |= {"pinned": pin, "pinned_start_at": None}
    return Step(event, None if keep_status else S.SCHEDULED, columns)


def back_to_dispatch(event: str, *, also: Mapping[str, object] | None = None) -> Step:
    """Unassigned: new again, with no technician, no plan, no detour and no pin."""
    return Step(event, S.NEW, {**_NOT_PLANNED, **_NOT_PINNED, **(also or {})})


def cancelled() -> Step:
    """Cancelled: who had it stays on record, but nothing is planned or pinned for it."""
    return Step(
        "cancelled",
        S.CANCELLED,
        {"planned_start_at": None, "eta_at": None, "pickup_location_id": None, "pickup_s": 0, **_NOT_PINNED},
    )


def dispatched() -> Step:
    return Step("status", S.DISPATCHED)


def reported(status: JobStatus, columns: Mapping[str, object]) -> Step:
    """A status the technician (or a dispatcher for them) reports, with what it records (the
    phone's time, the start, the outcome, the ETA told on setting off)."""
    return Step("status", status, columns)


def pinned(start_at: datetime | None) -> Step:
    columns: dict[str, object] = {"pinned": True, "pinned_start_at": start_at}
    if start_at is not None:
        columns["planned_start_at"] = start_at
    return Step("override_pin", None, columns)


def unpinned() -> Step:
    return Step("override_unpin", None, dict(_NOT_PINNED))


def expected_at(event: str, eta: datetime) -> Step:
    """A new expected arrival (the technician runs late), the plan kept."""
    return Step(event, None, {"eta_at": eta})


async def write(
    conn: Connection,
    job_id: UUID,
    current: JobStatus,
    step: Step,
    principal: Principal | None,
    *,
    reason: str = "",
    data: dict[str, object] | None = None,
    client_at: datetime | None = None,
    through: Sequence[JobStatus] = (),
) -> None:
    """Write the step (a new version) and its event; a status move the lifecycle does not allow
    is refused before anything is written. `through`: the steps a report passed on its way (each
    recorded as an event of its own, as `IMPLIED` says)."""
    if step.to is not None:
        allowed = step.to is current or step.to in TRANSITIONS[current]
        if not allowed or tuple(through) != IMPLIED.get((current, step.to), ()):
            raise TransitionRefused(current, step.to)
    columns = dict(step.columns)
    if step.to is not None:
        columns["status"] = step.to.value
    await job_queries.move_job(conn, job_id, columns)
    if step.to is None:
        await record(conn, job_id, step.event, principal, reason=reason, data=data, client_at=client_at)
        return
    passed = current
    for status in (*through, step.to):
        implied = status is not step.to
        await record(
            conn,
            job_id,
            step.event,
            principal,
            from_status=passed,
            to_status=status,
            reason="" if implied else reason,
            client_at=client_at,
            data={"implied_by": step.to.value} if implied else data,
        )
        passed = status


async def record(
    conn: Connection,
    job_id: UUID,
    kind: str,
    principal: Principal | None,
    *,
    reason: str = "",
    data: dict[str, object] | None = None,
    client_at: datetime | None = None,
    from_status: JobStatus | None = None,
    to_status: JobStatus | None = None,
) -> None:
    """An event that moves nothing of the job's status, owner or plan: a note, a report recorded
    but stale, a prediction, a risk raised."""
    await job_queries.insert_job_event(
        conn,
        job_id,
        kind,
        principal,
        reason=reason,
        data=data,
        client_at=client_at,
        from_status=from_status,
        to_status=to_status,
    )


async def retime(
    conn: Connection, principal: Principal | None, moved: Sequence[Retiming], *, because: UUID
) -> None:
    """Re-time the other visits of a day a placing moved, each with its `replanned` event (after
    the placed job's own)."""
    await job_queries.retime_jobs(conn, [(m.job_id, m.start, m.eta) for m in moved])
    for m in moved:
        await job_queries.insert_job_event(
            conn,
            m.job_id,
            "replanned",
            principal,
            data={"planned_start_at": m.start.isoformat(), "because": str(because)},
        )
