"""SQL for at-risk detection: the open jobs near now, and an alert raised once per job and risk."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from asyncpg import Record

from infra.db import Connection

# The shift each job falls in, for its end with overtime: what "ends after the shift" is judged by.
SHIFT_OF_JOB = """LEFT JOIN LATERAL (
            SELECT x.ends_at, x.overtime_limit_s FROM shifts x
            WHERE x.technician_id = j.technician_id
              AND x.starts_at <= coalesce(j.planned_start_at, j.window_start_at)
            ORDER BY x.starts_at DESC LIMIT 1
        ) sh ON true"""
SHIFT_END = "sh.ends_at + make_interval(secs => sh.overtime_limit_s) AS shift_end"


async def open_jobs_near(conn: Connection, start: datetime, end: datetime) -> list[Record]:
    """Jobs not yet started whose window or plan falls in the period, with their technician's shift end."""
    rows: list[Record] = await conn.fetch(
        f"""
        SELECT j.id, j.status, j.technician_id, j.window_end_at, j.planned_start_at, j.eta_at, j.duration_s,
               {SHIFT_END}
        FROM jobs j
        {SHIFT_OF_JOB}
        WHERE j.status IN ('new', 'scheduled', 'dispatched', 'en_route')
          AND j.window_start_at < $2 AND j.window_end_at > $1
        """,
        start,
        end,
    )
    return rows


async def raise_alert(conn: Connection, job_id: UUID, risk: str) -> bool:
    """True the first time this job is alerted for this risk."""
    raised = await conn.fetchval(
        "INSERT INTO job_alerts (job_id, risk) VALUES ($1, $2) ON CONFLICT DO NOTHING RETURNING true",
        job_id,
        risk,
    )
    return bool(raised)
