"""SQL for at-risk detection and a technician's reports on their own day."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from asyncpg import Record

from infra.db import Connection


async def open_jobs_near(conn: Connection, start: datetime, end: datetime) -> list[Record]:
    """Jobs not yet started whose window or plan falls in the period, with their technician's shift end."""
    rows: list[Record] = await conn.fetch(
        """
        SELECT j.id, j.status, j.technician_id, j.window_end_at, j.planned_start_at, j.eta_at, j.duration_s,
               sh.ends_at + make_interval(secs => sh.overtime_limit_s) AS shift_end
        FROM jobs j
        LEFT JOIN LATERAL (
            SELECT x.ends_at, x.overtime_limit_s FROM shifts x
            WHERE x.technician_id = j.technician_id
              AND x.starts_at <= coalesce(j.planned_start_at, j.window_start_at)
            ORDER BY x.starts_at DESC LIMIT 1
        ) sh ON true
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


async def insert_report(
    conn: Connection,
    technician_id: UUID,
    kind: str,
    *,
    shift_id: UUID | None = None,
    minutes: int | None = None,
    reason: str = "",
    client_at: datetime | None = None,
) -> int:
    report_id: int = await conn.fetchval(
        """
        INSERT INTO shift_reports (technician_id, shift_id, kind, minutes, reason, client_at)
        VALUES ($1, $2, $3, $4, $5, $6) RETURNING id
        """,
        technician_id,
        shift_id,
        kind,
        minutes,
        reason,
        client_at,
    )
    return report_id


async def current_shift(conn: Connection, technician_id: UUID, at: datetime) -> Record | None:
    """The shift under way at `at`, or the next one that day."""
    row: Record | None = await conn.fetchrow(
        """
        SELECT id, starts_at, ends_at FROM shifts
        WHERE technician_id = $1 AND ends_at > $2 AND starts_at < $2 + interval '18 hours'
        ORDER BY starts_at LIMIT 1
        """,
        technician_id,
        at,
    )
    return row


async def end_shift_at(conn: Connection, shift_id: UUID, at: datetime) -> None:
    await conn.execute(
        """
        UPDATE shifts SET ends_at = greatest($2, starts_at + interval '1 second') WHERE id = $1
        """,
        shift_id,
        at,
    )


async def delete_shift(conn: Connection, shift_id: UUID) -> None:
    await conn.execute("DELETE FROM shifts WHERE id = $1", shift_id)


async def remaining_jobs(conn: Connection, technician_id: UUID) -> list[Record]:
    """The technician's jobs not yet set off for, in planned order."""
    rows: list[Record] = await conn.fetch(
        """
        SELECT id, status, planned_start_at, eta_at, window_start_at, window_end_at, version FROM jobs
        WHERE technician_id = $1 AND status IN ('scheduled', 'dispatched', 'en_route')
        ORDER BY planned_start_at NULLS LAST, id
        """,
        technician_id,
    )
    return rows
