"""SQL for territories and the skill catalogue."""

from __future__ import annotations

from uuid import UUID

from dispatch.models import Skill, Territory, TerritoryId
from infra.db import Connection, insert_clause, set_clause

_COLUMNS = "id, name, timezone, circuity_factor, speed_kmh, stop_overhead_s, created_at, updated_at"


async def list_skills(conn: Connection) -> list[Skill]:
    rows = await conn.fetch("SELECT code, name FROM skills ORDER BY code")
    return [Skill(code=r["code"], name=r["name"]) for r in rows]


async def insert_territory(conn: Connection, values: dict[str, object]) -> Territory:
    columns, placeholders, args = insert_clause(values)
    row = await conn.fetchrow(
        f"INSERT INTO territories {columns} VALUES {placeholders} RETURNING {_COLUMNS}", *args
    )
    assert row is not None
    return Territory(**dict(row))


async def get_territory(conn: Connection, territory_id: UUID) -> Territory | None:
    row = await conn.fetchrow(f"SELECT {_COLUMNS} FROM territories WHERE id = $1", territory_id)
    return None if row is None else Territory(**dict(row))


async def list_territories(
    conn: Connection, *, only: UUID | None = None, limit: int, offset: int
) -> list[Territory]:
    rows = await conn.fetch(
        f"""
        SELECT {_COLUMNS} FROM territories WHERE $3::uuid IS NULL OR id = $3
        ORDER BY lower(name), id LIMIT $1 OFFSET $2
        """,
        limit,
        offset,
        only,
    )
    return [Territory(**dict(r)) for r in rows]


async def update_territory(
    conn: Connection, territory_id: UUID, changes: dict[str, object]
) -> Territory | None:
    if not changes:
        return await get_territory(conn, territory_id)
    assignments, values = set_clause(changes)
    row = await conn.fetchrow(
        f"UPDATE territories SET {assignments}, updated_at = now() WHERE id = $1 RETURNING {_COLUMNS}",
        territory_id,
        *values,
    )
    return None if row is None else Territory(**dict(row))


async def name_taken(conn: Connection, name: str, *, other_than: UUID | None = None) -> TerritoryId | None:
    found: TerritoryId | None = await conn.fetchval(
        "SELECT id FROM territories WHERE lower(name) = lower($1) AND id IS DISTINCT FROM $2",
        name,
        other_than,
    )
    return found


async def territory_timezone(conn: Connection, territory_id: UUID) -> str | None:
    timezone: str | None = await conn.fetchval("SELECT timezone FROM territories WHERE id = $1", territory_id)
    return timezone
