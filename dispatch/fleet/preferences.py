"""The technicians a customer asked to see again, or never to be sent."""

from __future__ import annotations

from uuid import UUID

from assets.errors import CustomerNotFoundError
from dispatch.errors import TechnicianNotFoundError
from dispatch.fleet import technician_queries
from dispatch.models import Preference
from infra.db import Connection


async def _check_customer(conn: Connection, customer_id: UUID) -> None:
    if not await technician_queries.customer_exists(conn, customer_id):
        raise CustomerNotFoundError


async def preferences(conn: Connection, customer_id: UUID, territory_id: UUID | None) -> list[Preference]:
    """`territory_id`: only about that territory's technicians."""
    await _check_customer(conn, customer_id)
    return await technician_queries.list_preferences(conn, customer_id, territory_id=territory_id)


async def set_preference(
    conn: Connection,
    customer_id: UUID,
    technician_id: UUID,
    preference: str,
    reason: str,
    *,
    territory_id: UUID | None,
) -> list[Preference]:
    """The customer's preferences once this one is set (`preference`: preferred or excluded)."""
    await _check_customer(conn, customer_id)
    if await technician_queries.get_technician(conn, technician_id) is None:
        raise TechnicianNotFoundError
    await technician_queries.upsert_preference(conn, customer_id, technician_id, preference, reason)
    return await technician_queries.list_preferences(conn, customer_id, territory_id=territory_id)


async def remove_preference(conn: Connection, customer_id: UUID, technician_id: UUID) -> None:
    await _check_customer(conn, customer_id)
    if not await technician_queries.delete_preference(conn, customer_id, technician_id):
        raise TechnicianNotFoundError
