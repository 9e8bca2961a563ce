"""SQL for the dispatcher's board and the live event stream."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from uuid import UUID

from asyncpg import Record

from dispatch.job_queries import event_from_row
from dispatch.models import JobEvent
from infra.db import Connection

_EVENT_COLUMNS = """
    e.id, e.job_id, e.kind, e.from_status, e.to_status, e.actor_user_id, e.actor, e.reason, e.data,
    e.client_at, e.occurred_at
"""


async def events_after(
    conn: Connection,
    after: int,
    *,
    also: Sequence[int] = (),
    territory_id: UUID | None,
    job_id: UUID | None,
    limit: int = 500,
) -> list[JobEvent]:
    rows = await conn.fetch(
        f"""
        SELECT {_EVENT_COLUMNS}
        FROM job_events e JOIN jobs j ON j.id = e.job_id JOIN sites s ON s.id = j.site_id
        WHERE (e.id > $1 OR e.id = ANY($2::bigint[]))
          AND ($3::uuid IS NULL OR s.territory_id = $3)
          AND ($4::uuid IS NULL OR e.job_id = $4)
        ORDER BY e.id LIMIT $5
        """,
        after,
        list(also),
        territory_id,
        job_id,
        limit,
    )
    return [event_from_row(r) for r in rows]


async def latest_event_id(conn: Connection) -> int:
    latest: int = await conn.fetchval("SELECT coalesce(max(id), 0) FROM job_events")
    return latest


async def technicians_of(conn: Connection, territory_id: UUID | None) -> list[Record]:
    rows: list[Record] = await conn.fetch(
        """
        SELECT t.id, t.name, t.territory_id FROM technicians t
        WHERE t.active AND ($1::uuid IS NULL OR t.territory_id = $1) ORDER BY t.name, t.id
        """,
        territory_id,
    )
    return rows


async def jobs_between(
    conn: Connection, territory_id: UUID | None, start: datetime, end: datetime
) -> list[Record]:
    """Open and finished jobs whose window or plan touches the period, with their site."""
    rows: list[Record] = await conn.fetch(
        """
        SELECT j.id, j.status, j.technician_id, j.problem_code, j.priority, j.window_start_at,
               j.window_end_at,
               j.planned_start_at, j.eta_at, j.duration_s, j.started_at, j.finished_at, j.pinned, j.version,
               s.address_line, s.latitude, s.longitude,
               sh.ends_at + make_interval(secs => sh.overtime_limit_s) AS shift_end
        FROM jobs j JOIN sites s ON s.id = j.site_id
        LEFT JOIN LATERAL (
            SELECT x.ends_at, x.overtime_limit_s FROM shifts x
            WHERE x.technician_id = j.technician_id
              AND x.starts_at <= coalesce(j.planned_start_at, j.window_start_at)
            ORDER BY x.starts_at DESC LIMIT 1
        ) sh ON true
        WHERE ($1::uuid IS NULL OR s.territory_id = $1)
          AND j.status <> 'cancelled'
          AND ((j.window_start_at < $3 AND j.window_end_at > $2)
               OR (j.planned_start_at >= $2 AND j.planned_start_at < $3))
        ORDER BY coalesce(j.planned_start_at, j.window_start_at), j.id
        """,
        territory_id,
        start,
        end,
    )
    return rows
