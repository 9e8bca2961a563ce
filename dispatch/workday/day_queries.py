"""SQL for a technician's day as the app shows it."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from asyncpg import Record

from infra.db import Connection


async def technician_timezone(conn: Connection, technician_id: UUID) -> str:
    zone: str | None = await conn.fetchval(
        "SELECT t.timezone FROM technicians x JOIN territories t ON t.id = x.territory_id WHERE x.id = $1",
        technician_id,
    )
    return zone or "UTC"


async def stops(conn: Connection, technician_id: UUID, start: datetime, end: datetime) -> list[Record]:
    rows: list[Record] = await conn.fetch(
        """
        SELECT j.id AS job_id, j.status, j.problem_code, j.problem_description, j.customer_choice,
               j.window_start_at, j.window_end_at, j.planned_start_at, j.eta_at, j.duration_s, j.started_at,
               j.finished_at, j.pinned, j.version,
               s.id AS site_id, s.address_line, s.city, s.postal_code, s.latitude, s.longitude,
               s.access_notes,
               a.id AS asset_id, a.kind AS asset_kind, a.make, a.model, a.attributes, a.warranty_until,
               split_part(c.name, ' ', 1) AS customer_first_name,
               d.name AS pickup_depot
        FROM jobs j
        JOIN sites s ON s.id = j.site_id
        LEFT JOIN assets a ON a.id = j.asset_id
        LEFT JOIN customers c ON c.id = j.customer_id
        LEFT JOIN stock_locations d ON d.id = j.pickup_location_id
        WHERE j.technician_id = $1 AND j.planned_start_at >= $2 AND j.planned_start_at < $3
          AND j.status <> 'cancelled'
        ORDER BY j.planned_start_at, j.id
        """,
        technician_id,
        start,
        end,
    )
    return rows


async def asset_history(conn: Connection, asset_ids: list[UUID], limit: int = 3) -> dict[UUID, list[Record]]:
    rows = await conn.fetch(
        """
        SELECT asset_id, kind, summary, occurred_at FROM (
            SELECT e.*, row_number() OVER (PARTITION BY e.asset_id ORDER BY e.occurred_at DESC) AS n
            FROM asset_events e WHERE e.asset_id = ANY($1::uuid[])
        ) recent WHERE n <= $2 ORDER BY asset_id, occurred_at DESC
        """,
        asset_ids,
        limit,
    )
    history: dict[UUID, list[Record]] = {}
    for r in rows:
        history.setdefault(r["asset_id"], []).append(r)
    return history


async def shifts_on(conn: Connection, technician_id: UUID, start: datetime, end: datetime) -> list[Record]:
    rows: list[Record] = await conn.fetch(
        """
        SELECT s.id, s.starts_at, s.ends_at,
               coalesce(
                   jsonb_agg(
                       jsonb_build_object('earliest_start_at', b.earliest_start_at,
                                          'latest_end_at', b.latest_end_at, 'duration_s', b.duration_s)
                       ORDER BY b.earliest_start_at
                   ) FILTER (WHERE b.id IS NOT NULL),
                   '[]'::jsonb
               ) AS breaks
        FROM shifts s LEFT JOIN shift_breaks b ON b.shift_id = s.id
        WHERE s.technician_id = $1 AND s.starts_at < $3 AND s.ends_at > $2
        GROUP BY s.id ORDER BY s.starts_at
        """,
        technician_id,
        start,
        end,
    )
    return rows
