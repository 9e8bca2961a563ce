"""SQL for sites and who lived there when."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from asyncpg import Record

from assets.models import CustomerId, Occupancy, OccupancyId, Occupant, Site, SiteId
from infra.db import Connection, set_clause

_SITE_COLUMNS = """
    s.id, s.external_id, s.territory_id, s.address_line, s.city, s.postal_code, s.country,
    s.address_key, s.latitude, s.longitude, s.access_notes, s.created_at, s.updated_at,
    o.customer_id AS occupant_id, c.name AS occupant_name, o.started_at AS occupant_since
"""
_SITE_FROM = """
    sites s
    LEFT JOIN site_occupancies o ON o.site_id = s.id AND o.ended_at IS NULL
    LEFT JOIN customers c ON c.id = o.customer_id
"""
_OCCUPANCY_COLUMNS = "o.id, o.site_id, o.customer_id, c.name AS customer_name, o.started_at, o.ended_at"


def site_from_row(row: Record) -> Site:
    values = dict(row)
    occupant_id = values.pop("occupant_id")
    name = values.pop("occupant_name")
    since = values.pop("occupant_since")
    occupant = None if occupant_id is None else Occupant(customer_id=occupant_id, name=name, since=since)
    return Site(**values, occupant=occupant)


def occupancy_from_row(row: Record) -> Occupancy:
    return Occupancy(**dict(row))


async def insert_site(
    conn: Connection,
    *,
    external_id: str | None,
    territory_id: UUID | None,
    address_line: str,
    city: str,
    postal_code: str,
    country: str,
    address_key: str,
    latitude: float,
    longitude: float,
    access_notes: str,
) -> SiteId:
    site_id: SiteId = await conn.fetchval(
        """
        INSERT INTO sites (external_id, territory_id, address_line, city, postal_code, country,
                           address_key, latitude, longitude, access_notes)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
        RETURNING id
        """,
        external_id,
        territory_id,
        address_line,
        city,
        postal_code,
        country,
        address_key,
        latitude,
        longitude,
        access_notes,
    )
    return site_id


async def get_site(conn: Connection, site_id: SiteId) -> Site | None:
    row = await conn.fetchrow(f"SELECT {_SITE_COLUMNS} FROM {_SITE_FROM} WHERE s.id = $1", site_id)
    return None if row is None else site_from_row(row)


async def lock_site(conn: Connection, site_id: SiteId) -> Site | None:
    """The site, locked until the transaction ends: move-ins and address edits on it queue here."""
    row = await conn.fetchrow(
        f"SELECT {_SITE_COLUMNS} FROM {_SITE_FROM} WHERE s.id = $1 FOR UPDATE OF s", site_id
    )
    return None if row is None else site_from_row(row)


async def site_exists(conn: Connection, site_id: SiteId) -> bool:
    return bool(await conn.fetchval("SELECT EXISTS (SELECT 1 FROM sites WHERE id = $1)", site_id))


async def list_sites(
    conn: Connection, *, territory_id: UUID | None, address_search: str | None, limit: int, offset: int
) -> list[Site]:
    # The search is matched against the normalised key, so "oak st" finds "12 Oak Street".
    rows = await conn.fetch(
        f"""
        SELECT {_SITE_COLUMNS} FROM {_SITE_FROM}
        WHERE ($1::uuid IS NULL OR s.territory_id = $1)
          AND ($2::text IS NULL OR strpos(s.address_key, $2) > 0)
        ORDER BY s.address_key, s.id
        LIMIT $3 OFFSET $4
        """,
        territory_id,
        address_search,
        limit,
        offset,
    )
    return [site_from_row(r) for r in rows]


async def update_site(conn: Connection, site_id: SiteId, changes: dict[str, object]) -> None:
    if not changes:
        return
    assignments, values = set_clause(changes)
    await conn.execute(f"UPDATE sites SET {assignments}, updated_at = now() WHERE id = $1", site_id, *values)


async def get_latest_occupancy(conn: Connection, site_id: SiteId) -> Occupancy | None:
    row = await conn.fetchrow(
        f"""
        SELECT {_OCCUPANCY_COLUMNS} FROM site_occupancies o JOIN customers c ON c.id = o.customer_id
        WHERE o.site_id = $1
        ORDER BY o.started_at DESC, o.id
        LIMIT 1
        """,
        site_id,
    )
    return None if row is None else occupancy_from_row(row)


async def end_occupancy(conn: Connection, occupancy_id: OccupancyId, ended_at: datetime) -> None:
    await conn.execute("UPDATE site_occupancies SET ended_at = $2 WHERE id = $1", occupancy_id, ended_at)


async def insert_occupancy(
    conn: Connection, *, site_id: SiteId, customer_id: CustomerId, started_at: datetime
) -> Occupancy:
    row = await conn.fetchrow(
        f"""
        WITH o AS (
            INSERT INTO site_occupancies (site_id, customer_id, started_at) VALUES ($1, $2, $3)
            RETURNING id, site_id, customer_id, started_at, ended_at
        )
        SELECT {_OCCUPANCY_COLUMNS} FROM o JOIN customers c ON c.id = o.customer_id
        """,
        site_id,
        customer_id,
        started_at,
    )
    assert row is not None
    return occupancy_from_row(row)


async def list_occupancies(conn: Connection, site_id: SiteId, *, limit: int, offset: int) -> list[Occupancy]:
    rows = await conn.fetch(
        f"""
        SELECT {_OCCUPANCY_COLUMNS} FROM site_occupancies o JOIN customers c ON c.id = o.customer_id
        WHERE o.site_id = $1
        ORDER BY o.started_at DESC, o.id
        LIMIT $2 OFFSET $3
        """,
        site_id,
        limit,
        offset,
    )
    return [occupancy_from_row(r) for r in rows]
