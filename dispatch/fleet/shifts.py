"""Shift rules: at most 24 hours, breaks inside, and one technician's shifts never overlap."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from dispatch.access.accounts import Principal, Role
from dispatch.errors import ShiftNotFoundError
from dispatch.fleet import shift_queries, technicians
from dispatch.models import Shift, Technician
from infra.db import Connection
from infra.errors import ConflictError, InvalidError

MAX_SHIFT = timedelta(hours=24)


@dataclass(frozen=True)
class BreakPlan:
    earliest_start_at: datetime
    latest_end_at: datetime
    duration_s: int


@dataclass(frozen=True)
class ShiftPlan:
    starts_at: datetime
    ends_at: datetime
    start_latitude: float
    start_longitude: float
    end_latitude: float
    end_longitude: float
    overtime_limit_s: int
    breaks: tuple[BreakPlan, ...]


def check_shift(plan: ShiftPlan) -> None:
    """Pure checks, each naming the field a client must fix."""
    if plan.ends_at <= plan.starts_at:
        raise InvalidError("ends_at must be after starts_at", field="ends_at")
    if plan.ends_at - plan.starts_at > MAX_SHIFT:
        raise InvalidError("a shift is at most 24 hours long", field="ends_at")
    for index, b in enumerate(plan.breaks):
        field = f"breaks[{index}]"
        if b.earliest_start_at < plan.starts_at:
            raise InvalidError(
                f"{field}.earliest_start_at: a break starts inside its shift",
                field=f"{field}.earliest_start_at",
            )
        if b.latest_end_at > plan.ends_at:
            raise InvalidError(
                f"{field}.latest_end_at: a break ends inside its shift", field=f"{field}.latest_end_at"
            )
        if b.latest_end_at - b.earliest_start_at < timedelta(seconds=b.duration_s):
            raise InvalidError(
                f"{field}.latest_end_at: the window is shorter than the break's {b.duration_s // 60} minutes",
                field=f"{field}.latest_end_at",
            )
    total = sum(b.duration_s for b in plan.breaks)
    if total >= (plan.ends_at - plan.starts_at).total_seconds():
        raise InvalidError("breaks: the breaks take the whole shift", field="breaks")


def _values(plan: ShiftPlan) -> dict[str, object]:
    return {
        "starts_at": plan.starts_at,
        "ends_at": plan.ends_at,
        "start_latitude": plan.start_latitude,
        "start_longitude": plan.start_longitude,
        "end_latitude": plan.end_latitude,
        "end_longitude": plan.end_longitude,
        "overtime_limit_s": plan.overtime_limit_s,
    }


async def _check_free(
    conn: Connection, technician_id: UUID, plan: ShiftPlan, other_than: UUID | None
) -> None:
    clash = await shift_queries.overlapping_shift(
        conn, technician_id, plan.starts_at, plan.ends_at, other_than=other_than
    )
    if clash is not None:
        raise ConflictError(f"the technician already has shift {clash} in this time", field="starts_at")


async def create_shift(conn: Connection, technician: Technician, plan: ShiftPlan) -> Shift:
    """The caller holds the technician's row lock, so two overlapping shifts cannot both pass the check."""
    check_shift(plan)
    await _check_free(conn, technician.id, plan, None)
    shift_id = await shift_queries.insert_shift(conn, technician.id, _values(plan))
    await shift_queries.replace_breaks(
        conn, shift_id, [(b.earliest_start_at, b.latest_end_at, b.duration_s) for b in plan.breaks]
    )
    shift = await shift_queries.get_shift(conn, shift_id)
    assert shift is not None
    return shift


async def replace_shift(conn: Connection, shift: Shift, plan: ShiftPlan) -> Shift:
    check_shift(plan)
    await _check_free(conn, shift.technician_id, plan, shift.id)
    await shift_queries.update_shift(conn, shift.id, _values(plan))
    await shift_queries.replace_breaks(
        conn, shift.id, [(b.earliest_start_at, b.latest_end_at, b.duration_s) for b in plan.breaks]
    )
    updated = await shift_queries.get_shift(conn, shift.id)
    if updated is None:
        raise ShiftNotFoundError
    return updated


async def remove_shift(conn: Connection, shift: Shift) -> None:
    planned = await shift_queries.planned_jobs_within(
        conn, shift.technician_id, shift.starts_at, shift.ends_at
    )
    if planned:
        raise ConflictError(
            f"{planned} assigned job(s) are planned in this shift; reassign or unassign them first",
            field="shift_id",
        )
    await shift_queries.delete_shift(conn, shift.id)


async def technician_shifts(
    conn: Connection,
    principal: Principal,
    technician_id: UUID,
    *,
    since: datetime | None,
    until: datetime | None,
    limit: int,
    offset: int,
) -> list[Shift]:
    """The shifts, ending after `since` and starting before `until`, of a technician the
    principal may see."""
    await technicians.visible_technician(conn, principal, technician_id)
    return await shift_queries.list_shifts(
        conn, technician_id, since=since, until=until, limit=limit, offset=offset
    )


async def shift(conn: Connection, shift_id: UUID) -> Shift:
    found = await shift_queries.get_shift(conn, shift_id)
    if found is None:
        raise ShiftNotFoundError
    return found


async def visible_shift(conn: Connection, principal: Principal, shift_id: UUID) -> Shift:
    """The shift, if the principal may read it: a technician reads only their own."""
    found = await shift_queries.get_shift(conn, shift_id)
    if found is None or (
        principal.role is Role.TECHNICIAN and principal.technician_id != found.technician_id
    ):
        raise ShiftNotFoundError
    return found
