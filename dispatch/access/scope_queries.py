"""SQL for a dispatcher's territory: is a record in it, and which technicians work in it.

Each `*_in_territory` answers True or False for a record that exists, and None for one that does
not, so a caller can answer for another territory's record exactly as for a missing one.
"""

from __future__ import annotations

from uuid import UUID

from assets.queries import customer_in_territory
from infra.db import Connection


async def _in(conn: Connection, sql: str, record_id: UUID, territory_id: UUID) -> bool | None:
    found: bool | None = await conn.fetchval(sql, record_id, territory_id)
    return found


async def site_in_territory(conn: Connection, site_id: UUID, territory_id: UUID) -> bool | None:
    return await _in(
        conn, "SELECT territory_id IS NOT DISTINCT FROM $2 FROM sites WHERE id = $1", site_id, territory_id
    )


async def job_in_territory(conn: Connection, job_id: UUID, territory_id: UUID) -> bool | None:
    return await _in(
        conn,
        "SELECT s.territory_id IS NOT DISTINCT FROM $2 FROM jobs j JOIN sites s ON s.id = j.site_id"
        " WHERE j.id = $1",
        job_id,
        territory_id,
    )


async def asset_in_territory(conn: Connection, asset_id: UUID, territory_id: UUID) -> bool | None:
    return await _in(
        conn,
        "SELECT s.territory_id IS NOT DISTINCT FROM $2 FROM assets a JOIN sites s ON s.id = a.site_id"
        " WHERE a.id = $1",
        asset_id,
        territory_id,
    )


async def technician_in_territory(conn: Connection, technician_id: UUID, territory_id: UUID) -> bool | None:
    return await _in(
        conn, "SELECT territory_id = $2 FROM technicians WHERE id = $1", technician_id, territory_id
    )


async def shift_in_territory(conn: Connection, shift_id: UUID, territory_id: UUID) -> bool | None:
    return await _in(
        conn,
        "SELECT t.territory_id = $2 FROM shifts sh JOIN technicians t ON t.id = sh.technician_id"
        " WHERE sh.id = $1",
        shift_id,
        territory_id,
    )


async def customer_in(conn: Connection, customer_id: UUID, territory_id: UUID) -> bool | None:
    return await _in(
        conn,
        f"SELECT {customer_in_territory('$2')} FROM customers c WHERE c.id = $1",
        customer_id,
        territory_id,
    )


async def stock_location_in_territory(conn: Connection, location_id: UUID, territory_id: UUID) -> bool | None:
    # A van counts in its technician's territory, as where a part can be found does.
    return await _in(
        conn,
        "SELECT coalesce(l.territory_id, t.territory_id) IS NOT DISTINCT FROM $2"
        " FROM stock_locations l LEFT JOIN technicians t ON t.id = l.technician_id WHERE l.id = $1",
        location_id,
        territory_id,
    )


async def plan_in_territory(conn: Connection, plan_id: UUID, territory_id: UUID) -> bool | None:
    return await _in(conn, "SELECT territory_id = $2 FROM day_plans WHERE id = $1", plan_id, territory_id)


async def territory_is(conn: Connection, territory_id: UUID, own: UUID) -> bool | None:
    return await _in(conn, "SELECT id = $2 FROM territories WHERE id = $1", territory_id, own)


async def technicians_of(conn: Connection, territory_id: UUID) -> list[UUID]:
    """Every technician of the territory, active or not (matching screens the inactive)."""
    rows = await conn.fetch("SELECT id FROM technicians WHERE territory_id = $1 ORDER BY id", territory_id)
    return [r["id"] for r in rows]
