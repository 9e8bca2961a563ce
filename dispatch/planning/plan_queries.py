"""SQL for day plans: reading a territory's day for the optimizer, and storing its plans."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any
from uuid import UUID

from asyncpg import Record

from infra.db import Connection

OPEN_STATUSES = ("new", "scheduled", "dispatched", "en_route", "on_site")


async def territory(conn: Connection, territory_id: UUID) -> Record | None:
    row: Record | None = await conn.fetchrow(
        """
        SELECT t.id, timezone, coalesce(circuity_factor, 1.3) AS circuity_factor,
               coalesce(speed_kmh, 35) AS speed_kmh, coalesce(stop_overhead_s, 120) AS stop_overhead_s,
               fs.factor AS straight_factor, fs.hour_factors AS straight_hour_factors,
               fs.band_factors AS straight_band_factors,
               fs.speed_factors AS straight_speed_factors, fr.factor AS road_factor,
               fr.hour_factors AS road_hour_factors, fr.band_factors AS road_band_factors,
               fr.speed_factors AS road_speed_factors, fr.class_factors AS road_class_factors
        FROM territories t
        LEFT JOIN travel_factors fs ON fs.territory_id = t.id AND fs.source = 'straight_line'
        LEFT JOIN travel_factors fr ON fr.territory_id = t.id AND fr.source = 'road_router'
        WHERE t.id = $1
        """,
        territory_id,
    )
    return row


async def day_jobs(
    conn: Connection, territory_id: UUID, starts_at: datetime, ends_at: datetime
) -> list[Record]:
    """Open jobs of the territory whose window meets the day, with their likely parts
    (part id -> units expected) and, for jobs under way, when they started."""
    rows: list[Record] = await conn.fetch(
        """
        SELECT j.id, j.status, j.technician_id, j.window_start_at, j.window_end_at, j.duration_s,
               j.required_skills, j.priority, j.pinned, j.pinned_start_at, j.planned_start_at, j.eta_at,
               j.started_at, j.version, s.latitude, s.longitude,
               coalesce((SELECT jsonb_object_agg(p.part_id::text, p.quantity * p.probability)
                         FROM job_parts p WHERE p.job_id = j.id), '{}') AS parts
        FROM jobs j JOIN sites s ON s.id = j.site_id
        WHERE s.territory_id = $1 AND j.status = ANY($4::text[])
          AND j.window_start_at < $3 AND j.window_end_at > $2
        ORDER BY j.window_start_at, j.id
        """,
        territory_id,
        starts_at,
        ends_at,
        list(OPEN_STATUSES),
    )
    return rows


async def territory_technicians(conn: Connection, territory_id: UUID) -> list[UUID]:
    ids: list[UUID] = [
        r["id"]
        for r in await conn.fetch(
            "SELECT id FROM technicians WHERE territory_id = $1 AND active ORDER BY name, id", territory_id
        )
    ]
    return ids


async def latest_positions(
    conn: Connection, technician_ids: Sequence[UUID], since: datetime
) -> dict[UUID, tuple[float, float]]:
    rows = await conn.fetch(
        """
        SELECT technician_id, latitude, longitude FROM technician_latest_positions
        WHERE technician_id = ANY($1::uuid[]) AND recorded_at >= $2
        """,
        list(technician_ids),
        since,
    )
    return {r["technician_id"]: (r["latitude"], r["longitude"]) for r in rows}


async def insert_plan(
    conn: Connection,
    *,
    territory_id: UUID,
    day: date,
    kind: str,
    time_limit_s: float,
    seed: int,
    requested_by: UUID | None,
) -> UUID:
    plan_id: UUID = await conn.fetchval(
        """
        INSERT INTO day_plans (territory_id, day, kind, time_limit_s, seed, requested_by)
        VALUES ($1, $2, $3, $4, $5, $6) RETURNING id
        """,
        territory_id,
        day,
        kind,
        time_limit_s,
        seed,
        requested_by,
    )
    return plan_id


async def finish_plan(
    conn: Connection, plan_id: UUID, *, read_versions: Mapping[str, int], result: Mapping[str, Any]
) -> None:
    await conn.execute(
        """
        UPDATE day_plans SET status = 'done', read_versions = $2, result = $3, finished_at = now()
        WHERE id = $1
        """,
        plan_id,
        dict(read_versions),
        dict(result),
    )


async def fail_plan(conn: Connection, plan_id: UUID, error: str) -> None:
    await conn.execute(
        "UPDATE day_plans SET status = 'failed', error = $2, finished_at = now() WHERE id = $1",
        plan_id,
        error[:2000],
    )


async def get_plan(conn: Connection, plan_id: UUID, *, lock: bool = False) -> Record | None:
    row: Record | None = await conn.fetchrow(
        "SELECT * FROM day_plans WHERE id = $1" + (" FOR UPDATE" if lock else ""), plan_id
    )
    return row


async def lock_jobs(conn: Connection, job_ids: Sequence[UUID]) -> dict[UUID, Record]:
    """Each job's version, status, technician and planned start, locked until the transaction
    ends (in id order, so two appliers never deadlock)."""
    rows = await conn.fetch(
        """
        SELECT id, version, status, technician_id, planned_start_at, pickup_location_id, pickup_s FROM jobs
        WHERE id = ANY($1::uuid[]) ORDER BY id FOR UPDATE
        """,
        list(job_ids),
    )
    return {r["id"]: r for r in rows}


async def mark_applied(conn: Connection, plan_id: UUID) -> None:
    await conn.execute("UPDATE day_plans SET status = 'applied', applied_at = now() WHERE id = $1", plan_id)
