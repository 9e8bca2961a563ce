"""SQL for technicians, their skills, and customers' preferences for or against them."""

from __future__ import annotations

from collections.abc import Mapping
from uuid import UUID

from asyncpg import Record

from dispatch.models import Preference, Technician, TechnicianId
from infra.db import Connection, insert_clause, set_clause

_COLUMNS = """
    t.id, t.external_id, t.name, t.email, t.phone, t.territory_id, t.home_latitude, t.home_longitude,
    t.active,
    coalesce((SELECT jsonb_object_agg(ts.skill, ts.level) FROM technician_skills ts
              WHERE ts.technician_id = t.id), '{}'::jsonb) AS skills,
    t.created_at, t.updated_at
"""


def _technician(row: Record) -> Technician:
    return Technician(**dict(row))


async def insert_technician(conn: Connection, values: Mapping[str, object]) -> TechnicianId:
    columns, placeholders, args = insert_clause(values)
    technician_id: TechnicianId = await conn.fetchval(
        f"INSERT INTO technicians {columns} VALUES {placeholders} RETURNING id", *args
    )
    return technician_id


async def insert_van(conn: Connection, technician_id: UUID, name: str) -> None:
    await conn.execute(
        "INSERT INTO stock_locations (kind, name, technician_id) VALUES ('van', $1, $2)",
        f"Van of {name}",
        technician_id,
    )


async def replace_skills(conn: Connection, technician_id: UUID, skills: Mapping[str, int]) -> None:
    await conn.execute("DELETE FROM technician_skills WHERE technician_id = $1", technician_id)
    await conn.executemany(
        "INSERT INTO technician_skills (technician_id, skill, level) VALUES ($1, $2, $3)",
        [(technician_id, skill, level) for skill, level in skills.items()],
    )


async def get_technician(
    conn: Connection, technician_id: UUID, *, for_update: bool = False
) -> Technician | None:
    row = await conn.fetchrow(
        f"SELECT {_COLUMNS} FROM technicians t WHERE t.id = $1" + (" FOR UPDATE OF t" if for_update else ""),
        technician_id,
    )
    return None if row is None else _technician(row)


async def list_technicians(
    conn: Connection,
    *,
    territory_id: UUID | None,
    skill: str | None,
    min_level: int,
    active: bool | None,
    limit: int,
    offset: int,
) -> list[Technician]:
    rows = await conn.fetch(
        f"""
        SELECT {_COLUMNS} FROM technicians t
        WHERE ($1::uuid IS NULL OR t.territory_id = $1)
          AND ($2::text IS NULL OR EXISTS (
                SELECT 1 FROM technician_skills s
                WHERE s.technician_id = t.id AND s.skill = $2 AND s.level >= $3))
          AND ($4::boolean IS NULL OR t.active = $4)
        ORDER BY lower(t.name), t.id
        LIMIT $5 OFFSET $6
        """,
        territory_id,
        skill,
        min_level,
        active,
        limit,
        offset,
    )
    return [_technician(r) for r in rows]


async def update_technician(conn: Connection, technician_id: UUID, changes: dict[str, object]) -> None:
    assignments, values = set_clause(changes) if changes else ("id = id", [])
    await conn.execute(
        f"UPDATE technicians SET {assignments}, updated_at = now() WHERE id = $1", technician_id, *values
    )


async def known_skills(conn: Connection, codes: list[str]) -> set[str]:
    rows = await conn.fetch("SELECT code FROM skills WHERE code = ANY($1::text[])", codes)
    return {r["code"] for r in rows}


async def territory_exists(conn: Connection, territory_id: UUID) -> bool:
    return bool(await conn.fetchval("SELECT EXISTS (SELECT 1 FROM territories WHERE id = $1)", territory_id))


async def external_id_taken(conn: Connection, external_id: str) -> bool:
    return bool(
        await conn.fetchval("SELECT EXISTS (SELECT 1 FROM technicians WHERE external_id = $1)", external_id)
    )


async def customer_exists(conn: Connection, customer_id: UUID) -> bool:
    return bool(await conn.fetchval("SELECT EXISTS (SELECT 1 FROM customers WHERE id = $1)", customer_id))


async def upsert_preference(
    conn: Connection, customer_id: UUID, technician_id: UUID, preference: str, reason: str
) -> None:
    await conn.execute(
        """
        INSERT INTO customer_technician_preferences (customer_id, technician_id, preference, reason)
        VALUES ($1, $2, $3, $4)
        ON CONFLICT (customer_id, technician_id) DO UPDATE SET preference = $3, reason = $4
        """,
        customer_id,
        technician_id,
        preference,
        reason,
    )


async def list_preferences(
    conn: Connection, customer_id: UUID, *, territory_id: UUID | None = None
) -> list[Preference]:
    """`territory_id`: only about that territory's technicians."""
    rows = await conn.fetch(
        """
        SELECT p.customer_id, p.technician_id, t.name AS technician_name, p.preference, p.reason
        FROM customer_technician_preferences p JOIN technicians t ON t.id = p.technician_id
        WHERE p.customer_id = $1 AND ($2::uuid IS NULL OR t.territory_id = $2)
        ORDER BY p.preference DESC, lower(t.name)
        """,
        customer_id,
        territory_id,
    )
    return [Preference(**dict(r)) for r in rows]


async def delete_preference(conn: Connection, customer_id: UUID, technician_id: UUID) -> bool:
    status: str = await conn.execute(
        "DELETE FROM customer_technician_preferences WHERE customer_id = $1 AND technician_id = $2",
        customer_id,
        technician_id,
    )
    return status.endswith(" 1")
