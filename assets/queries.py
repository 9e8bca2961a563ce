"""SQL for customers (sites, assets and history live in their own query modules)."""

from __future__ import annotations

from asyncpg import Record

from assets.models import Customer, CustomerId
from infra.db import Connection, set_clause

_CUSTOMER_COLUMNS = "id, external_id, name, email, phone, notes, created_at, updated_at"


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


async def list_customers(conn: Connection, *, search: str | None, limit: int, offset: int) -> list[Customer]:
    rows = await conn.fetch(
        f"""
        SELECT {_CUSTOMER_COLUMNS} FROM customers
        WHERE $1::text IS NULL OR name ILIKE '%' || $1 || '%' OR email ILIKE '%' || $1 || '%'
        ORDER BY lower(name), id
        LIMIT $2 OFFSET $3
        """,
        search,
        limit,
        offset,
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
