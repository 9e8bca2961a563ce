"""SQL for the service metrics a manager asks for."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from asyncpg import Record

from infra.db import Connection

# Jobs in scope: finished (or, for arrival figures, started) in the period, in the territory
# and by the technician asked about.
_SCOPE = """
    ($3::uuid IS NULL OR EXISTS (SELECT 1 FROM sites ss WHERE ss.id = j.site_id AND ss.territory_id = $3))
    AND ($4::uuid IS NULL OR j.technician_id = $4)
"""


async def visit_figures(
    conn: Connection, start: datetime, end: datetime, territory_id: UUID | None, technician_id: UUID | None
) -> Record:
    row = await conn.fetchrow(
        f"""
        WITH closed AS (
            SELECT j.* FROM jobs j
            WHERE j.status IN ('completed', 'incomplete') AND j.finished_at >= $1 AND j.finished_at < $2
              AND {_SCOPE}
        ), fixed AS (
            SELECT c.id FROM closed c
            WHERE c.status = 'completed'
              AND NOT EXISTS (SELECT 1 FROM jobs k WHERE k.parent_job_id = c.id)
              AND (c.asset_id IS NULL OR NOT EXISTS (
                    SELECT 1 FROM jobs k
                    WHERE k.asset_id = c.asset_id AND k.id <> c.id AND k.status <> 'cancelled'
                      AND k.created_at > c.finished_at
                      AND k.created_at <= c.finished_at + interval '30 days'))
        ), per_asset AS (
            SELECT asset_id, count(*) AS visits FROM closed WHERE asset_id IS NOT NULL GROUP BY asset_id
        ), pushed AS (
            SELECT c.id FROM closed c
            WHERE c.status = 'completed'
              AND (SELECT count(DISTINCT o.kind) FROM outbox o
                   WHERE o.job_id = c.id AND o.audience = 'customer'
                     AND o.kind IN ('on_the_way', 'arrived', 'completed')) = 3
        )
        SELECT (SELECT count(*) FROM closed) AS closed,
               (SELECT count(*) FROM closed WHERE status = 'completed') AS completed,
               (SELECT count(*) FROM fixed) AS fixed_first_time,
               (SELECT count(*) FROM pushed) AS fully_told,
               (SELECT avg(visits - 1) FROM per_asset) AS repeat_visits_per_asset,
               (SELECT count(*) FROM per_asset) AS assets,
               (SELECT sum(extract(epoch FROM finished_at - started_at)) FROM closed
                 WHERE started_at IS NOT NULL) AS on_site_s,
               (SELECT avg(r.stars) FROM job_ratings r JOIN closed c ON c.id = r.job_id) AS rating,
               (SELECT count(*) FROM job_ratings r JOIN closed c ON c.id = r.job_id) AS ratings
        """,
        start,
        end,
        territory_id,
        technician_id,
    )
    assert row is not None
    return row


async def arrivals(
    conn: Connection, start: datetime, end: datetime, territory_id: UUID | None, technician_id: UUID | None
) -> list[Record]:
    rows: list[Record] = await conn.fetch(
        f"""
        SELECT j.started_at, j.window_start_at, j.window_end_at, coalesce(j.eta_told_at, j.eta_at) AS eta_at,
               j.created_at
        FROM jobs j
        WHERE j.started_at >= $1 AND j.started_at < $2 AND {_SCOPE}
        """,
        start,
        end,
        territory_id,
        technician_id,
    )
    return rows


async def shift_seconds(
    conn: Connection, start: datetime, end: datetime, territory_id: UUID | None, technician_id: UUID | None
) -> float:
    seconds = await conn.fetchval(
        """
        SELECT coalesce(sum(extract(epoch FROM least(s.ends_at, $2) - greatest(s.starts_at, $1))), 0)
        FROM shifts s JOIN technicians t ON t.id = s.technician_id
        WHERE s.starts_at < $2 AND s.ends_at > $1
          AND ($3::uuid IS NULL OR t.territory_id = $3) AND ($4::uuid IS NULL OR t.id = $4)
        """,
        start,
        end,
        territory_id,
        technician_id,
    )
    return float(seconds)


async def driven_days(
    conn: Connection, start: datetime, end: datetime, territory_id: UUID | None, technician_id: UUID | None
) -> list[Record]:
    """Each technician-shift with the visits started in it, in order, for the distance driven."""
    rows: list[Record] = await conn.fetch(
        f"""
        SELECT s.id AS shift_id, s.start_latitude, s.start_longitude, s.end_latitude, s.end_longitude,
               array_agg(st.latitude ORDER BY j.started_at) AS lats,
               array_agg(st.longitude ORDER BY j.started_at) AS lons
        FROM jobs j
        JOIN sites st ON st.id = j.site_id
        JOIN shifts s ON s.technician_id = j.technician_id AND j.started_at >= s.starts_at
                     AND j.started_at < s.ends_at + make_interval(secs => s.overtime_limit_s)
        WHERE j.started_at >= $1 AND j.started_at < $2 AND {_SCOPE}
        GROUP BY s.id
        """,
        start,
        end,
        territory_id,
        technician_id,
    )
    return rows


async def maintenance_candidates(conn: Connection, territory_id: UUID | None) -> list[Record]:
    """Assets in service with when they were last looked at, and whether a job is already open."""
    rows: list[Record] = await conn.fetch(
        """
        SELECT a.id, a.kind, a.make, a.model, a.installed_at, a.attributes, a.site_id, s.address_line,
               (SELECT max(e.occurred_at) FROM asset_events e WHERE e.asset_id = a.id
                  AND e.kind IN ('install', 'maintenance', 'repair', 'replace', 'inspection'))
                 AS last_service_at,
               EXISTS (SELECT 1 FROM jobs j WHERE j.asset_id = a.id
                         AND j.status IN ('new', 'scheduled', 'dispatched', 'en_route', 'on_site'))
                 AS has_open_job
        FROM assets a JOIN sites s ON s.id = a.site_id
        WHERE a.removed_at IS NULL AND ($1::uuid IS NULL OR s.territory_id = $1)
        """,
        territory_id,
    )
    return rows


async def maintenance_problems(conn: Connection) -> dict[str, str]:
    """Per asset kind, the catalogue's maintenance visit, if it has one."""
    rows = await conn.fetch(
        "SELECT asset_kind, code FROM problems WHERE 'maintenance' = ANY(keywords) ORDER BY asset_kind, code"
    )
    found: dict[str, str] = {}
    for r in rows:
        found.setdefault(r["asset_kind"], r["code"])
    return found


async def rate(conn: Connection, job_id: UUID, stars: int, comment: str) -> None:
    await conn.execute(
        """
        INSERT INTO job_ratings (job_id, stars, comment) VALUES ($1, $2, $3)
        ON CONFLICT (job_id) DO UPDATE SET stars = EXCLUDED.stars, comment = EXCLUDED.comment
        """,
        job_id,
        stars,
        comment,
    )
