"""SQL for customers (sites, assets and history live in their own query modules)."""

from __future__ import annotations

from uuid import UUID

from asyncpg import Record

from assets.models import Customer, CustomerId
from infra.db import Connection, set_clause

_CUSTOMER_COLUMNS = "id, external_id, name, email, phone, notes, created_at, updated_at"

# A customer belongs to the territories of the sites they live or lived at and of their jobs'
# sites; one with neither (just created, not yet moved in or booked) belongs to no territory yet,
# so any dispatcher may go on to book them. `c` is the customer; $T the territory.
_CUSTOMER_IN_TERRITORY = """
    (EXISTS (SELECT 1 FROM site_occupancies so JOIN sites ss ON ss.id = so.site_id
             WHERE so.customer_id = c.id AND ss.territory_id = $T)
     OR EXISTS (SELECT 1 FROM jobs sj JOIN sites ss ON ss.id = sj.site_id
                WHERE sj.customer_id = c.id AND ss.territory_id = $T)
     OR (NOT EXISTS (SELECT 1 FROM site_occupancies so WHERE so.customer_id = c.id)
         AND NOT EXISTS (SELECT 1 FROM jobs sj WHERE sj.customer_id = c.id)))
"""


def customer_in_territory(placeholder: str) -> str:
    """The predicate above with the territory's parameter, e.g. "$2"."""
    return _CUSTOMER_IN_TERRITORY.replace("$T", placeholder)


def customer_from_row(row: Record) -> Customer:
    return Customer(**dict(row))


async def insert_customer(
    conn: Connection, *, name: str, email: str | None, phone: str | None, notes: str, external_id: str | None
) -> Customer:
    row = await conn.fetchrow(
        f"""
        INSERT INTO customers (name, email, phone, notes, external_id) VALUES ($1, $2, $3, $4, $5)
        RETURNING {_CUSTOMER_COLUMNS}
        """,
        name,
        email,
        phone,
        notes,
        external_id,
    )
    assert row is not None
    return customer_from_row(row)


async def get_customer(conn: Connection, customer_id: CustomerId) -> Customer | None:
    row = await conn.fetchrow(f"SELECT {_CUSTOMER_COLUMNS} FROM customers WHERE id = $1", customer_id)
    return None if row is None else customer_from_row(row)


async def list_customers(
    conn: Connection, *, search: str | None, territory_id: UUID | None, limit: int, offset: int
) -> list[Customer]:
    """`territory_id`: only the customers of that territory (and those of none yet)."""
    rows = await conn.fetch(
        f"""
        SELECT {_CUSTOMER_COLUMNS} FROM customers c
        WHERE ($1::text IS NULL OR name ILIKE '%' || $1 || '%' OR email ILIKE '%' || $1 || '%')
          AND ($4::uuid IS NULL OR {customer_in_territory("$4")})
        ORDER BY lower(name), id
        LIMIT $2 OFFSET $3
        """,
        search,
        limit,
        offset,
        territory_id,
    )
    return [customer_from_row(r) for r in rows]


async def update_customer(
    conn: Connection, customer_id: CustomerId, changes: dict[str, object]
) -> Customer | None:
    if not changes:
        return await get_customer(conn, customer_id)
    assignments, values = set_clause(changes)
    row = await conn.fetchrow(
        f"UPDATE customers SET {assignments}, updated_at = now() WHERE id = $1 RETURNING {_CUSTOMER_COLUMNS}",
        customer_id,
        *values,
    )
    return None if row is None else customer_from_row(row)
