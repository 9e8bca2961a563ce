"""The company's customers: who is billed and called, found by name or email, within a
dispatcher's territory."""

from __future__ import annotations

from uuid import UUID

from assets import queries
from assets.errors import CustomerNotFoundError
from assets.models import Customer, CustomerId
from infra.db import Connection


async def create_customer(
    conn: Connection, *, name: str, email: str | None, phone: str | None, notes: str, external_id: str | None
) -> Customer:
    return await queries.insert_customer(
        conn, name=name, email=email, phone=phone, notes=notes, external_id=external_id
    )


async def find_customers(
    conn: Connection, *, search: str | None, territory_id: UUID | None, limit: int, offset: int
) -> list[Customer]:
    """`territory_id`: only that territory's customers, and those not yet at any site."""
    return await queries.list_customers(
        conn, search=search, territory_id=territory_id, limit=limit, offset=offset
    )


async def customer(conn: Connection, customer_id: CustomerId) -> Customer:
    found = await queries.get_customer(conn, customer_id)
    if found is None:
        raise CustomerNotFoundError
    return found


async def change_customer(conn: Connection, customer_id: CustomerId, changes: dict[str, object]) -> Customer:
    changed = await queries.update_customer(conn, customer_id, changes)
    if changed is None:
        raise CustomerNotFoundError
    return changed
