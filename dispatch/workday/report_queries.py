"""SQL for a technician's reports on their own day (running late, sick, shift start and end) and
the jobs those reports move."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID

from asyncpg import Record

from infra.db import Connection


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
    """The technician's jobs not yet reached, in planned order, locked until the transaction ends:
    a dispatcher moving one of them meanwhile either finishes first (and the job is no longer
    this technician's) or waits. Locked in id order, as every update of several jobs is."""
    rows: list[Record] = await conn.fetch(
        """
        SELECT id, status, planned_start_at, eta_at, window_start_at, window_end_at, version FROM jobs
        WHERE technician_id = $1 AND status IN ('scheduled', 'dispatched', 'en_route')
        ORDER BY id FOR UPDATE
        """,
        technician_id,
    )
    far = datetime.max.replace(tzinfo=UTC)
    return sorted(rows, key=lambda r: (r["planned_start_at"] or far, r["id"]))
