"""The board as the dispatcher console draws it: the board (dispatch.tracking.board) with what a map and
an hourly timeline need besides, where each job and depot call is, how long each job takes, and
each technician's shift, breaks and latest position. One job alone, with the same fields, is what
the console reads again when the live stream says the job changed."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from uuid import UUID
from zoneinfo import ZoneInfo

import msgspec
from asyncpg import Record

from dispatch.access import scope
from dispatch.access.accounts import Principal
from dispatch.errors import JobNotFoundError
from dispatch.jobs import records as jobs
from dispatch.matching.candidates import MatchSettings
from dispatch.matching.fleet_cache import FleetCache
from dispatch.tracking import board_queries, console_board_queries as queries
from dispatch.tracking.board import Board, BoardJob, board, board_job
from dispatch.tracking.risk_watch import rematch_candidates
from dispatch.travel.sources import TravelTimes
from infra.db import Connection
from notifications.notices import Candidate


class JobPlace(msgspec.Struct, frozen=True, kw_only=True):
    job_id: UUID
    latitude: float
    longitude: float
    duration_s: int
    pickup_s: int  # a call at a depot just before the job, for parts the van lacks
    pickup_name: str | None
    pickup_latitude: float | None
    pickup_longitude: float | None


class BreakSlot(msgspec.Struct, frozen=True, kw_only=True):
    earliest_start_at: datetime
    duration_s: int


class Position(msgspec.Struct, frozen=True, kw_only=True):
    latitude: float
    longitude: float
    recorded_at: datetime


class TechnicianDay(msgspec.Struct, frozen=True, kw_only=True):
    technician_id: UUID
    home_latitude: float
    home_longitude: float
    shift_start_at: datetime | None
    shift_end_at: datetime | None
    breaks: list[BreakSlot]
    position: Position | None


class ConsoleBoard(msgspec.Struct, frozen=True, kw_only=True):
    board: Board
    places: list[JobPlace]
    days: list[TechnicianDay]


class ConsoleJob(msgspec.Struct, frozen=True, kw_only=True):
    job: BoardJob
    place: JobPlace
    # Its technician's latest position: a ping of a technician on the way is a job event
    # ("position"), and the board moves their pin as it reads the job again.
    position: Position | None = None


def _period(day: date, timezone: str) -> tuple[datetime, datetime]:
    zone = ZoneInfo(timezone)
    return datetime.combine(day, time(0), zone), datetime.combine(day + timedelta(days=1), time(0), zone)


async def console_board(
    conn: Connection, territory_id: UUID | None, day: date, timezone: str, *, now: datetime
) -> ConsoleBoard:
    seen = await board(conn, territory_id, day, timezone, now=now)
    job_ids = [j.job_id for j in seen.unassigned] + [j.job_id for t in seen.technicians for j in t.route]
    start, end = _period(day, timezone)
    days = await queries.technician_days(conn, [t.technician_id for t in seen.technicians], start, end)
    return ConsoleBoard(
        board=seen,
        places=[msgspec.convert(dict(r), JobPlace) for r in await queries.job_places(conn, job_ids)],
        days=[_day(r) for r in days],
    )


async def console_job(
    conn: Connection, territory_id: UUID | None, day: date, timezone: str, job_id: UUID, *, now: datetime
) -> ConsoleJob | None:
    """The job as the board of that territory and day shows it; None when it is not on it
    (cancelled, or moved to another day), JobNotFoundError when there is no such job."""
    places = await queries.job_places(conn, [job_id])
    if not places:
        raise JobNotFoundError
    start, end = _period(day, timezone)
    rows = await board_queries.jobs_between(conn, territory_id, start, end, job_id)
    if not rows:
        return None
    job = board_job(rows[0], now)
    fix = None if job.technician_id is None else await queries.latest_position(conn, job.technician_id)
    return ConsoleJob(
        job=job,
        place=msgspec.convert(dict(places[0]), JobPlace),
        position=None if fix is None else msgspec.convert(dict(fix), Position),
    )


def _day(r: Record) -> TechnicianDay:
    position = (
        Position(latitude=r["latitude"], longitude=r["longitude"], recorded_at=r["recorded_at"])
        if r["recorded_at"] is not None
        else None
    )
    return TechnicianDay(
        technician_id=r["technician_id"],
        home_latitude=r["home_latitude"],
        home_longitude=r["home_longitude"],
        shift_start_at=r["shift_start_at"],
        shift_end_at=r["shift_end_at"],
        breaks=[
            BreakSlot(earliest_start_at=s, duration_s=d)
            for s, d in zip(r["break_starts"], r["break_durations"], strict=True)
        ],
        position=position,
    )


async def suggestions(
    conn: Connection,
    principal: Principal,
    job_id: UUID,
    settings: MatchSettings,
    *,
    routing: TravelTimes | None,
    now: datetime,
    cache: FleetCache | None = None,
    limit: int = 3,
) -> list[Candidate]:
    """Who could take the job over, as its at-risk alert suggests them, among the technicians
    the dispatcher dispatches (an alert's own suggestions range over the whole company)."""
    await jobs.get_job(conn, principal, job_id)
    only = await scope.technicians_in_scope(conn, principal)
    ranked = await rematch_candidates(
        conn, job_id, settings, routing=routing, now=now, cache=cache, limit=limit if only is None else 50
    )
    return [c for c in ranked if only is None or c.technician_id in only][:limit]
