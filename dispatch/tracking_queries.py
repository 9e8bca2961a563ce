"""SQL for the customer's tracking view."""

from __future__ import annotations

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
               (SELECT max(coalesce(e.client_at, e.occurred_at)) FROM job_events e
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
