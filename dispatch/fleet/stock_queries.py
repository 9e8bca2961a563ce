"""SQL for stock: each technician's van, the depots, and what they hold."""

from __future__ import annotations

from uuid import UUID

from asyncpg import Record

from dispatch.models import Holding, StockLevel, StockLocation, StockLocationKind
from infra.db import Connection, set_clause

_LOCATION_COLUMNS = "id, kind, name, territory_id, technician_id, latitude, longitude"


def _location(row: Record) -> StockLocation:
    values = dict(row)
    values["kind"] = StockLocationKind(values["kind"])
    return StockLocation(**values)


async def van_of(conn: Connection, technician_id: UUID) -> StockLocation | None:
    row = await conn.fetchrow(
        f"SELECT {_LOCATION_COLUMNS} FROM stock_locations WHERE technician_id = $1", technician_id
    )
    return None if row is None else _location(row)


async def get_location(conn: Connection, location_id: UUID) -> StockLocation | None:
    row = await conn.fetchrow(f"SELECT {_LOCATION_COLUMNS} FROM stock_locations WHERE id = $1", location_id)
    return None if row is None else _location(row)


async def insert_depot(
    conn: Connection, *, name: str, territory_id: UUID, latitude: float, longitude: float
) -> StockLocation:
    row = await conn.fetchrow(
        f"""
        INSERT INTO stock_locations (kind, name, territory_id, latitude, longitude)
        VALUES ('depot', $1, $2, $3, $4) RETURNING {_LOCATION_COLUMNS}
        """,
        name,
        territory_id,
        latitude,
        longitude,
    )
    assert row is not None
    return _location(row)


async def list_depots(
    conn: Connection, territory_id: UUID | None, *, limit: int, offset: int
) -> list[StockLocation]:
    rows = await conn.fetch(
        f"""
        SELECT {_LOCATION_COLUMNS} FROM stock_locations
        WHERE kind = 'depot' AND ($1::uuid IS NULL OR territory_id = $1)
        ORDER BY lower(name), id LIMIT $2 OFFSET $3
        """,
        territory_id,
        limit,
        offset,
    )
    return [_location(r) for r in rows]


async def update_depot(conn: Connection, depot_id: UUID, changes: dict[str, object]) -> StockLocation | None:
    if not changes:
        return await get_location(conn, depot_id)
    assignments, values = set_clause(changes)
    row = await conn.fetchrow(
        f"UPDATE stock_locations SET {assignments} WHERE id = $1 AND kind = 'depot'"
        f" RETURNING {_LOCATION_COLUMNS}",
        depot_id,
        *values,
    )
    return None if row is None else _location(row)


async def levels(conn: Connection, location_id: UUID) -> list[StockLevel]:
    rows = await conn.fetch(
        """
        SELECT l.part_id, p.sku, p.name, l.quantity
        FROM stock_levels l JOIN parts p ON p.id = l.part_id
        WHERE l.location_id = $1 ORDER BY p.sku
        """,
        location_id,
    )
    return [StockLevel(**dict(r)) for r in rows]


async def quantity_for_update(conn: Connection, location_id: UUID, part_id: UUID) -> int:
    """The current quantity, with the row locked so concurrent adjustments queue behind each other."""
    await conn.execute(
        """
        INSERT INTO stock_levels (location_id, part_id, quantity) VALUES ($1, $2, 0)
        ON CONFLICT (location_id, part_id) DO NOTHING
        """,
        location_id,
        part_id,
    )
    quantity: int = await conn.fetchval(
        "SELECT quantity FROM stock_levels WHERE location_id = $1 AND part_id = $2 FOR UPDATE",
        location_id,
        part_id,
    )
    return quantity


async def set_quantity(conn: Connection, location_id: UUID, part_id: UUID, quantity: int) -> None:
    await conn.execute(
        """
        INSERT INTO stock_levels (location_id, part_id, quantity) VALUES ($1, $2, $3)
        ON CONFLICT (location_id, part_id) DO UPDATE SET quantity = $3, updated_at = now()
        """,
        location_id,
        part_id,
        quantity,
    )


async def part_sku(conn: Connection, part_id: UUID) -> str | None:
    sku: str | None = await conn.fetchval("SELECT sku FROM parts WHERE id = $1", part_id)
    return sku


async def holdings(conn: Connection, part_id: UUID, territory_id: UUID | None) -> list[Holding]:
    """Vans and depots holding the part; a van counts in its technician's territory."""
    rows = await conn.fetch(
        """
        SELECT l.id AS location_id, l.kind, l.name, coalesce(l.territory_id, t.territory_id) AS territory_id,
               l.technician_id, l.latitude, l.longitude, s.quantity
        FROM stock_levels s
        JOIN stock_locations l ON l.id = s.location_id
        LEFT JOIN technicians t ON t.id = l.technician_id
        WHERE s.part_id = $1 AND s.quantity > 0
          AND ($2::uuid IS NULL OR coalesce(l.territory_id, t.territory_id) = $2)
          AND (t.id IS NULL OR t.active)
        ORDER BY l.kind = 'van', s.quantity DESC, l.name
        """,
        part_id,
        territory_id,
    )
    return [Holding(**{**dict(r), "kind": StockLocationKind(r["kind"])}) for r in rows]
