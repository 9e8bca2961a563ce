"""SQL for ETA updates: the jobs ahead of a technician on the road."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from asyncpg import Record

from infra.db import Connection


async def jobs_ahead(conn: Connection, technician_id: UUID, now: datetime) -> list[Record]:
    """The job being driven to or worked, then the rest of the day's open jobs, in order."""
    rows: list[Record] = await conn.fetch(
        """
        SELECT j.id, j.status, j.site_id, s.latitude, s.longitude, j.duration_s, j.window_start_at,
               j.window_end_at, j.eta_at, j.eta_told_at, j.started_at
        FROM jobs j JOIN sites s ON s.id = j.site_id
        WHERE j.technician_id = $1 AND j.status IN ('scheduled', 'dispatched', 'en_route', 'on_site')
          AND j.planned_start_at < $2::timestamptz + interval '18 hours'
        ORDER BY j.status = 'on_site' DESC, j.status = 'en_route' DESC, j.planned_start_at, j.id
        """,
        technician_id,
        now,
    )
    return rows


async def set_eta(conn: Connection, job_id: UUID, eta: datetime, *, told: bool) -> None:
    await conn.execute(
        "UPDATE jobs SET eta_at = $2, eta_told_at = CASE WHEN $3 THEN $2 ELSE eta_told_at END WHERE id = $1",
        job_id,
        eta,
        told,
    )
