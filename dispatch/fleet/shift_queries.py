"""SQL for shifts and their breaks."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from uuid import UUID

from asyncpg import Record

from dispatch.models import Break, Shift, ShiftId
from infra.db import Connection, insert_clause, set_clause

_COLUMNS = """
    s.id, s.technician_id, s.starts_at, s.ends_at, s.start_latitude, s.start_longitude, s.end_latitude,
    s.end_longitude, s.overtime_limit_s
"""


async def _with_breaks(conn: Connection, rows: Sequence[Record]) -> list[Shift]:
    breaks: dict[UUID, list[Break]] = {}
    for b in await conn.fetch(
        """
        SELECT id, shift_id, earliest_start_at, latest_end_at, duration_s FROM shift_breaks
        WHERE shift_id = ANY($1::uuid[]) ORDER BY earliest_start_at, id
        """,
        [r["id"] for r in rows],
    ):
        breaks.setdefault(b["shift_id"], []).append(
            Break(
                id=b["id"],
                earliest_start_at=b["earliest_start_at"],
                latest_end_at=b["latest_end_at"],
                duration_s=b["duration_s"],
            )
        )
    return [Shift(**dict(r), breaks=breaks.get(r["id"], [])) for r in rows]


async def insert_shift(conn: Connection, technician_id: UUID, values: dict[str, object]) -> ShiftId:
    columns, placeholders, args = insert_clause({"technician_id": technician_id, **values})
    shift_id: ShiftId = await conn.fetchval(
        f"INSERT INTO shifts {columns} VALUES {placeholders} RETURNING id", *args
    )
    return shift_id


async def replace_breaks(
    conn: Connection, shift_id: UUID, breaks: Sequence[tuple[datetime, datetime, int]]
) -> None:
    await conn.execute("DELETE FROM shift_breaks WHERE shift_id = $1", shift_id)
    await conn.executemany(
        "INSERT INTO shift_breaks (shift_id, earliest_start_at, latest_end_at, duration_s)"
        " VALUES ($1, $2, $3, $4)",
        [(shift_id, *b) for b in breaks],
    )


async def update_shift(conn: Connection, shift_id: UUID, values: dict[str, object]) -> None:
    assignments, args = set_clause(values)
    await conn.execute(f"UPDATE shifts SET {assignments} WHERE id = $1", shift_id, *args)


async def get_shift(conn: Connection, shift_id: UUID) -> Shift | None:
    rows = await conn.fetch(f"SELECT {_COLUMNS} FROM shifts s WHERE s.id = $1", shift_id)
    shifts = await _with_breaks(conn, rows)
    return shifts[0] if shifts else None


async def list_shifts(
    conn: Connection,
    technician_id: UUID,
    *,
    since: datetime | None,
    until: datetime | None,
    limit: int,
    offset: int,
) -> list[Shift]:
    rows = await conn.fetch(
        f"""
        SELECT {_COLUMNS} FROM shifts s
        WHERE s.technician_id = $1 AND ($2::timestamptz IS NULL OR s.ends_at > $2)
          AND ($3::timestamptz IS NULL OR s.starts_at < $3)
        ORDER BY s.starts_at LIMIT $4 OFFSET $5
        """,
        technician_id,
        since,
        until,
        limit,
        offset,
    )
    return await _with_breaks(conn, rows)


async def overlapping_shift(
    conn: Connection, technician_id: UUID, starts_at: datetime, ends_at: datetime, *, other_than: UUID | None
) -> ShiftId | None:
    found: ShiftId | None = await conn.fetchval(
        """
        SELECT id FROM shifts
        WHERE technician_id = $1 AND starts_at < $3 AND ends_at > $2 AND id IS DISTINCT FROM $4
        ORDER BY starts_at LIMIT 1
        """,
        technician_id,
        starts_at,
        ends_at,
        other_than,
    )
    return found


async def planned_jobs_within(
    conn: Connection, technician_id: UUID, starts_at: datetime, ends_at: datetime
) -> int:
    """Assigned, unfinished jobs planned inside the interval: a shift under them cannot go."""
    count: int = await conn.fetchval(
        """
        SELECT count(*) FROM jobs
        WHERE technician_id = $1 AND status IN ('scheduled', 'dispatched', 'en_route', 'on_site')
          AND planned_start_at >= $2 AND planned_start_at < $3
        """,
        technician_id,
        starts_at,
        ends_at,
    )
    return count


async def delete_shift(conn: Connection, shift_id: UUID) -> None:
    await conn.execute("DELETE FROM shifts WHERE id = $1", shift_id)
