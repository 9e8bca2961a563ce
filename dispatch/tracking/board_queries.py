"""SQL for the dispatcher's board and the live event stream."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from asyncpg import Record

from dispatch.tracking.risk_queries import SHIFT_END, SHIFT_OF_JOB
from infra.db import Connection


async def latest_event_id(conn: Connection) -> int:
    latest: int = await conn.fetchval("SELECT coalesce(max(id), 0) FROM job_events")
    return latest


async def technicians_of(conn: Connection, territory_id: UUID | None) -> list[Record]:
    rows: list[Record] = await conn.fetch(
        """
        SELECT t.id, t.name, t.territory_id FROM technicians t
        WHERE t.active AND ($1::uuid IS NULL OR t.territory_id = $1) ORDER BY t.name, t.id
        """,
        territory_id,
    )
    return rows


async def jobs_between(
    conn: Connection, territory_id: UUID | None, start: datetime, end: datetime, job_id: UUID | None = None
) -> list[Record]:
    """Open and finished jobs whose window or plan touches the period, with their site (only
    `job_id`, when given: a board reading one job again)."""
    rows: list[Record] = await conn.fetch(
        f"""
        SELECT j.id, j.status, j.technician_id, j.problem_code, j.priority, j.window_start_at,
               j.window_end_at,
               j.planned_start_at, j.eta_at, j.duration_s, j.started_at, j.finished_at, j.pinned, j.version,
               s.address_line, s.latitude, s.longitude,
               {SHIFT_END}
        FROM jobs j JOIN sites s ON s.id = j.site_id
        {SHIFT_OF_JOB}
        WHERE ($1::uuid IS NULL OR s.territory_id = $1)
          AND j.status <> 'cancelled' AND ($4::uuid IS NULL OR j.id = $4)
          AND ((j.window_start_at < $3 AND j.window_end_at > $2)
               OR (j.planned_start_at >= $2 AND j.planned_start_at < $3))
        ORDER BY coalesce(j.planned_start_at, j.window_start_at), j.id
        """,
        territory_id,
        start,
        end,
        job_id,
    )
    return rows
