"""The dispatcher's board: every technician's route with planned and actual times, the jobs no
one has yet, and the jobs at risk first, each with why."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from datetime import date, datetime, time, timedelta
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

import msgspec
from asyncpg import Record

from dispatch.models import JobStatus
from dispatch.tracking import board_queries
from infra.db import Connection

S = JobStatus
NOT_STARTED = frozenset({S.NEW, S.SCHEDULED, S.DISPATCHED, S.EN_ROUTE})
# An unassigned job is at risk once less than this remains to start it inside its window.
UNASSIGNED_MARGIN = timedelta(hours=2)


class Risk(enum.StrEnum):
    ETA_PAST_WINDOW = "eta_past_window"  # the technician will arrive after the window closes
    WINDOW_PASSED = "window_passed"  # the window is over and nobody is there
    ENDS_AFTER_SHIFT = "ends_after_shift"  # the job cannot be done before the shift ends
    UNASSIGNED_CLOSING = "unassigned_window_closing"  # nobody has it and its window is closing


def risks_of(
    *,
    status: JobStatus,
    window_end_at: datetime,
    planned_start_at: datetime | None,
    eta_at: datetime | None,
    duration_s: int,
    shift_end: datetime | None,
    now: datetime,
) -> list[Risk]:
    found: list[Risk] = []
    if status not in NOT_STARTED:
        return found
    if status is S.NEW:
        if window_end_at - now < UNASSIGNED_MARGIN + timedelta(seconds=duration_s):
            found.append(Risk.UNASSIGNED_CLOSING)
        return found
    arrival = eta_at or planned_start_at
    if arrival is not None and arrival > window_end_at:
        found.append(Risk.ETA_PAST_WINDOW)
    elif window_end_at < now:
        found.append(Risk.WINDOW_PASSED)
    ends = None if planned_start_at is None else planned_start_at + timedelta(seconds=duration_s)
    if ends is not None and shift_end is not None and ends > shift_end:
        found.append(Risk.ENDS_AFTER_SHIFT)
    return found


def risks_of_row(row: Record | Mapping[str, Any], now: datetime) -> list[Risk]:
    """The risks of a job as the board's and the risk watch's queries read it (with its shift's end)."""
    return risks_of(
        status=JobStatus(row["status"]),
        window_end_at=row["window_end_at"],
        planned_start_at=row["planned_start_at"],
        eta_at=row["eta_at"],
        duration_s=row["duration_s"],
        shift_end=row["shift_end"],
        now=now,
    )


class BoardJob(msgspec.Struct, frozen=True, kw_only=True):
    job_id: UUID
    status: JobStatus
    technician_id: UUID | None
    problem_code: str
    priority: int
    address: str
    window_start_at: datetime
    window_end_at: datetime
    planned_start_at: datetime | None
    eta_at: datetime | None
    started_at: datetime | None
    finished_at: datetime | None
    pinned: bool
    risks: list[Risk]
    version: int


class BoardTechnician(msgspec.Struct, frozen=True, kw_only=True):
    technician_id: UUID
    name: str
    at_risk: int
    route: list[BoardJob]


class Board(msgspec.Struct, frozen=True, kw_only=True):
    territory_id: UUID | None
    date: date
    timezone: str
    generated_at: datetime
    last_event_id: int  # resume the live stream from here (GET /board/stream, Last-Event-ID)
    at_risk: list[BoardJob]
    unassigned: list[BoardJob]
    technicians: list[BoardTechnician]


def board_job(row: Record, now: datetime) -> BoardJob:
    status = JobStatus(row["status"])
    return BoardJob(
        job_id=row["id"],
        status=status,
        technician_id=row["technician_id"],
        problem_code=row["problem_code"],
        priority=row["priority"],
        address=row["address_line"],
        window_start_at=row["window_start_at"],
        window_end_at=row["window_end_at"],
        planned_start_at=row["planned_start_at"],
        eta_at=row["eta_at"],
        started_at=row["started_at"],
        finished_at=row["finished_at"],
        pinned=row["pinned"],
        risks=risks_of_row(row, now),
        version=row["version"],
    )


async def board(
    conn: Connection, territory_id: UUID | None, day: date, timezone: str, *, now: datetime
) -> Board:
    zone = ZoneInfo(timezone)
    start = datetime.combine(day, time(0), zone)
    end = datetime.combine(day + timedelta(days=1), time(0), zone)
    last_event = await board_queries.latest_event_id(conn)
    jobs = [board_job(r, now) for r in await board_queries.jobs_between(conn, territory_id, start, end)]
    routes: dict[UUID, list[BoardJob]] = {}
    for job in jobs:
        if job.technician_id is not None:
            routes.setdefault(job.technician_id, []).append(job)
    technicians = [
        BoardTechnician(
            technician_id=t["id"],
            name=t["name"],
            at_risk=sum(1 for j in routes.get(t["id"], []) if j.risks),
            route=routes.get(t["id"], []),
        )
        for t in await board_queries.technicians_of(conn, territory_id)
    ]
    technicians.sort(key=lambda t: (-t.at_risk, t.name))
    at_risk = sorted((j for j in jobs if j.risks), key=lambda j: (j.priority, j.window_end_at))
    return Board(
        territory_id=territory_id,
        date=day,
        timezone=timezone,
        generated_at=now,
        last_event_id=last_event,
        at_risk=at_risk,
        unassigned=[j for j in jobs if j.status is S.NEW],
        technicians=technicians,
    )


async def last_event_id(conn: Connection) -> int:
    """The newest job event's id: a stream that starts now begins after it."""
    return await board_queries.latest_event_id(conn)
