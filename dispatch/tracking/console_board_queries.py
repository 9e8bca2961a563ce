"""The SQL of what the console's board shows beside the board itself: where each job and depot
call is, and each technician's shift, breaks and latest position."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from uuid import UUID

from asyncpg import Record

from infra.db import Connection


async def job_places(conn: Connection, job_ids: Sequence[UUID]) -> list[Record]:
    rows: list[Record] = await conn.fetch(
        """
        SELECT j.id AS job_id, s.latitude, s.longitude, j.duration_s, j.pickup_s,
               d.name AS pickup_name, d.latitude AS pickup_latitude, d.longitude AS pickup_longitude
        FROM jobs j JOIN sites s ON s.id = j.site_id
        LEFT JOIN stock_locations d ON d.id = j.pickup_location_id
        WHERE j.id = ANY($1::uuid[])
        """,
        list(job_ids),
    )
    return rows


async def technician_days(
    conn: Connection, technician_ids: Sequence[UUID], start: datetime, end: datetime
) -> list[Record]:
    """Each technician's first shift starting in the period (if any), its breaks as
    (earliest start, duration) arrays, home and latest position."""
    rows: list[Record] = await conn.fetch(
        """
        SELECT t.id AS technician_id, t.home_latitude, t.home_longitude,
               sh.starts_at AS shift_start_at, sh.ends_at AS shift_end_at,
               coalesce(b.starts, '{}') AS break_starts, coalesce(b.durations, '{}') AS break_durations,
               p.latitude, p.longitude, p.recorded_at
        FROM unnest($1::uuid[]) AS t_id(id)
        JOIN technicians t ON t.id = t_id.id
        LEFT JOIN LATERAL (
            SELECT x.id, x.starts_at, x.ends_at FROM shifts x
            WHERE x.technician_id = t.id AND x.starts_at >= $2 AND x.starts_at < $3
            ORDER BY x.starts_at LIMIT 1
        ) sh ON true
        LEFT JOIN LATERAL (
            SELECT array_agg(k.earliest_start_at ORDER BY k.earliest_start_at) AS starts,
                   array_agg(k.duration_s ORDER BY k.earliest_start_at) AS durations
            FROM shift_breaks k WHERE k.shift_id = sh.id
        ) b ON true
        LEFT JOIN technician_latest_positions p ON p.technician_id = t.id
        """,
        list(technician_ids),
        start,
        end,
    )
    return rows


async def latest_position(conn: Connection, technician_id: UUID) -> Record | None:
    row: Record | None = await conn.fetchrow(
        "SELECT latitude, longitude, recorded_at FROM technician_latest_positions WHERE technician_id = $1",
        technician_id,
    )
    return row
