"""Arrange sites, occupants, assets and parts directly in the database; bodies for the API."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

from assets.addresses import address_key
from dispatch.access.accounts import Role
from infra.db import Connection
from tests.conftest import Auth, make_user

MISSING = "00000000-0000-0000-0000-000000000000"

# Only fixed table names from this module reach these queries.
ASSET_TABLES = (
    "sites",
    "site_occupancies",
    "assets",
    "asset_events",
    "asset_event_parts",
    "parts",
    "fitments",
)


async def count_rows(conn: Connection, table: str) -> int:
    assert table in ASSET_TABLES
    return int(await conn.fetchval(f"SELECT count(*) FROM {table}"))


async def row_counts(conn: Connection) -> dict[str, int]:
    return {table: await count_rows(conn, table) for table in ASSET_TABLES}


async def insert_territory(conn: Connection, *, name: str | None = None) -> UUID:
    territory_id: UUID = await conn.fetchval(
        "INSERT INTO territories (name) VALUES ($1) RETURNING id", name or f"Territory {uuid4().hex[:6]}"
    )
    return territory_id


async def insert_customer(conn: Connection, *, name: str = "Ada Byron") -> UUID:
    customer_id: UUID = await conn.fetchval("INSERT INTO customers (name) VALUES ($1) RETURNING id", name)
    return customer_id


async def insert_site(
    conn: Connection,
    *,
    address_line: str = "12 Oak Street",
    city: str = "Springfield",
    postal_code: str = "62701",
    territory_id: UUID | None = None,
) -> UUID:
    site_id: UUID = await conn.fetchval(
        """
        INSERT INTO sites (address_line, city, postal_code, address_key, latitude, longitude, territory_id)
        VALUES ($1, $2, $3, $4, 39.78, -89.65, $5) RETURNING id
        """,
        address_line,
        city,
        postal_code,
        address_key(address_line, city, postal_code),
        territory_id,
    )
    return site_id


async def insert_occupancy(
    conn: Connection,
    site_id: UUID,
    customer_id: UUID,
    *,
    started_at: datetime,
    ended_at: datetime | None = None,
) -> UUID:
    occupancy_id: UUID = await conn.fetchval(
        """
        INSERT INTO site_occupancies (site_id, customer_id, started_at, ended_at)
        VALUES ($1, $2, $3, $4) RETURNING id
        """,
        site_id,
        customer_id,
        started_at,
        ended_at,
    )
    return occupancy_id


async def insert_asset(
    conn: Connection,
    site_id: UUID,
    *,
    kind: str = "garage_door",
    make: str = "Clopay",
    model: str = "Classic",
    attributes: dict[str, Any] | None = None,
) -> UUID:
    asset_id: UUID = await conn.fetchval(
        """
        INSERT INTO assets (site_id, kind, make, model, attributes) VALUES ($1, $2, $3, $4, $5)
        RETURNING id
        """,
        site_id,
        kind,
        make,
        model,
        attributes if attributes is not None else {"spring_size": "218"},
    )
    return asset_id


async def insert_part(
    conn: Connection, *, sku: str = "SPR-218", name: str = "Torsion spring 218", sold_in_multiples_of: int = 1
) -> UUID:
    part_id: UUID = await conn.fetchval(
        "INSERT INTO parts (sku, name, sold_in_multiples_of) VALUES ($1, $2, $3) RETURNING id",
        sku,
        name,
        sold_in_multiples_of,
    )
    return part_id


async def insert_fitment(
    conn: Connection,
    part_id: UUID,
    *,
    asset_kind: str = "garage_door",
    make: str | None = None,
    model: str | None = None,
    conditions: dict[str, Any] | None = None,
    quantity: int = 1,
) -> UUID:
    fitment_id: UUID = await conn.fetchval(
        """
        INSERT INTO fitments (part_id, asset_kind, make, model, conditions, quantity)
        VALUES ($1, $2, $3, $4, $5, $6) RETURNING id
        """,
        part_id,
        asset_kind,
        make,
        model,
        conditions or {},
        quantity,
    )
    return fitment_id


async def insert_technician(conn: Connection) -> UUID:
    territory_id = await insert_territory(conn)
    technician_id: UUID = await conn.fetchval(
        """
        INSERT INTO technicians (name, territory_id, home_latitude, home_longitude)
        VALUES ('Tess Tech', $1, 39.8, -89.6) RETURNING id
        """,
        territory_id,
    )
    return technician_id


async def technician_user(conn: Connection) -> Auth:
    return await make_user(conn, Role.TECHNICIAN, technician_id=await insert_technician(conn))


def site_body(**overrides: Any) -> dict[str, Any]:
    return {
        "address_line": "12 Oak St.",
        "city": "Springfield",
        "postal_code": "62701",
        "latitude": 39.78,
        "longitude": -89.65,
        **overrides,
    }


def asset_body(site_id: UUID, **overrides: Any) -> dict[str, Any]:
    return {
        "site_id": str(site_id),
        "kind": "garage_door",
        "make": "Clopay",
        "model": "Classic",
        "serial": "CL-0001",
        "installed_at": "2019-04-02T09:00:00-05:00",
        "warranty_until": "2029-04-02",
        "attributes": {"spring_size": "218", "width_in": 96, "insulated": True},
        **overrides,
    }


def event_body(**overrides: Any) -> dict[str, Any]:
    return {
        "kind": "repair",
        "occurred_at": "2024-01-15T08:30:00-06:00",
        "summary": "Replaced broken torsion spring",
        "problem_code": "broken_spring",
        **overrides,
    }


def part_body(**overrides: Any) -> dict[str, Any]:
    return {"sku": "SPR-218", "name": "Torsion spring 218", "unit_cost_cents": 4500, **overrides}
