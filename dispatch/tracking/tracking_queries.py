"""SQL for the customer's tracking view."""

from __future__ import annotations

from datetime import datetime, timedelta
from uuid import UUID

from asyncpg import Record

from infra.db import Connection


async def job_for_customer(conn: Connection, job_id: UUID) -> Record:
    row: Record | None = await conn.fetchrow(
        """
        SELECT j.status, j.window_start_at, j.window_end_at, j.eta_at, s.latitude, s.longitude,
               coalesce(nullif(j.problem_description, ''), p.name, j.problem_code) AS coming_for,
               split_part(t.name, ' ', 1) AS technician_first_name,
               lp.latitude AS tech_lat, lp.longitude AS tech_lon, lp.recorded_at AS position_at,
               (SELECT max(least(coalesce(e.client_at, e.occurred_at), (e.data->>'position_at')::timestamptz))
                  FROM job_events e
                 WHERE e.job_id = j.id AND e.kind = 'status' AND e.to_status = 'en_route') AS left_at,
               r.stars
        FROM jobs j JOIN sites s ON s.id = j.site_id
        LEFT JOIN problems p ON p.code = j.problem_code
        LEFT JOIN technicians t ON t.id = j.technician_id
        LEFT JOIN technician_latest_positions lp ON lp.technician_id = j.technician_id
        LEFT JOIN job_ratings r ON r.job_id = j.id
        WHERE j.id = $1
        """,
        job_id,
    )
    assert row is not None, "a tracking token always points at a job"
    return row


async def customer_events(conn: Connection, job_id: UUID) -> list[Record]:
    rows: list[Record] = await conn.fetch(
        "SELECT kind, to_status, occurred_at FROM job_events WHERE job_id = $1 ORDER BY id", job_id
    )
    return rows


async def last_event_id(conn: Connection, job_id: UUID) -> int:
    last: int = await conn.fetchval("SELECT coalesce(max(id), 0) FROM job_events WHERE job_id = $1", job_id)
    return last


async def take_change(
    conn: Connection, job_id: UUID, kind: str, *, now: datetime, limit: int, window: timedelta
) -> datetime | None:
    """Record a change the customer asks for, when the job has one left in the window; else
    (recording nothing) when the oldest change in the window leaves it. Each job's changes are
    counted one request at a time, whichever API process takes them."""
    await conn.execute("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", f"tracking-change:{job_id}")
    await conn.execute(
        "DELETE FROM tracking_changes WHERE job_id = $1 AND asked_at <= $2", job_id, now - window
    )
    recent: list[datetime] = [
        r["asked_at"]
        for r in await conn.fetch(
            "SELECT asked_at FROM tracking_changes WHERE job_id = $1 ORDER BY asked_at DESC LIMIT $2",
            job_id,
            limit,
        )
    ]
    if len(recent) >= limit:
        return recent[-1] + window
    await conn.execute(
        "INSERT INTO tracking_changes (job_id, kind, asked_at) VALUES ($1, $2, $3)", job_id, kind, now
    )
    return None
