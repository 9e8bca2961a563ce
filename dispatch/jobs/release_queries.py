"""SQL for releasing technicians' days: the published days, and the jobs a release dispatches.

A job's day is the date of its planned start in its technician's territory's time zone: the day
on the technician's phone.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from uuid import UUID

from asyncpg import Record

from infra.db import Connection

_DAY = "(j.planned_start_at AT TIME ZONE tr.timezone)::date"
_TECHNICIAN_DAY = """
    FROM jobs j
    JOIN technicians t ON t.id = j.technician_id
    JOIN territories tr ON tr.id = t.territory_id
"""


async def publish_day(
    conn: Connection,
    day: date,
    user_id: UUID | None,
    now: datetime,
    *,
    territory_id: UUID | None,
    technician_id: UUID | None,
) -> Record:
    """The published day of a territory (or of one technician); publishing it again keeps who
    published it first, and when."""
    # The table and column are one of these two, never from input.
    table, column, owner = (
        ("published_territory_days", "territory_id", territory_id)
        if territory_id is not None
        else ("published_technician_days", "technician_id", technician_id)
    )
    row = await conn.fetchrow(
        f"""
        INSERT INTO {table} AS p ({column}, day, published_by, published_at)
        VALUES ($1, $2, $3, $4)
        ON CONFLICT ({column}, day) DO UPDATE SET published_at = p.published_at
        RETURNING published_at, published_by
        """,
        owner,
        day,
        user_id,
        now,
    )
    assert row is not None  # an upsert with RETURNING always returns its row
    return row


async def scheduled_on_day(
    conn: Connection, *, territory_id: UUID | None, technician_id: UUID | None, day: date
) -> list[UUID]:
    """Scheduled jobs on the day of a territory's technicians (or of one technician)."""
    rows = await conn.fetch(
        f"""
        SELECT j.id {_TECHNICIAN_DAY}
        WHERE j.status = 'scheduled'
          AND ($1::uuid IS NULL OR t.territory_id = $1)
          AND ($2::uuid IS NULL OR j.technician_id = $2)
          AND j.planned_start_at IS NOT NULL AND {_DAY} = $3
        ORDER BY j.id
        """,
        territory_id,
        technician_id,
        day,
    )
    return [r["id"] for r in rows]


async def due_for_release(conn: Connection, job_ids: Sequence[UUID], now: datetime) -> list[UUID]:
    """Of these jobs, the scheduled ones whose day is today or published."""
    rows = await conn.fetch(
        f"""
        SELECT j.id {_TECHNICIAN_DAY}
        WHERE j.id = ANY($1::uuid[]) AND j.status = 'scheduled' AND j.planned_start_at IS NOT NULL
          AND ({_DAY} = ($2::timestamptz AT TIME ZONE tr.timezone)::date
               OR EXISTS (SELECT 1 FROM published_technician_days p
                          WHERE p.technician_id = j.technician_id AND p.day = {_DAY})
               OR EXISTS (SELECT 1 FROM published_territory_days p
                          WHERE p.territory_id = t.territory_id AND p.day = {_DAY}))
        ORDER BY j.id
        """,
        list(job_ids),
        now,
    )
    return [r["id"] for r in rows]


async def lock_scheduled(conn: Connection, job_ids: Sequence[UUID]) -> list[Record]:
    """The jobs still scheduled, locked in id order (as every multi-job update takes its locks)."""
    return await conn.fetch(
        """
        SELECT j.id, j.technician_id, j.planned_start_at, s.territory_id
        FROM jobs j JOIN sites s ON s.id = j.site_id
        WHERE j.id = ANY($1::uuid[]) AND j.status = 'scheduled' AND j.technician_id IS NOT NULL
        ORDER BY j.id
        FOR UPDATE OF j
        """,
        list(job_ids),
    )


async def territory_zone(conn: Connection, territory_id: UUID) -> str | None:
    zone: str | None = await conn.fetchval("SELECT timezone FROM territories WHERE id = $1", territory_id)
    return zone


async def technician_zone(conn: Connection, technician_id: UUID) -> str | None:
    zone: str | None = await conn.fetchval(
        "SELECT tr.timezone FROM technicians t JOIN territories tr ON tr.id = t.territory_id WHERE t.id = $1",
        technician_id,
    )
    return zone
